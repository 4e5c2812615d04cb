//! Per-run metrics, accumulated tick by tick so a run keeps nothing but running sums.
//! Columns are fixed by the world's markets and nations before any run starts, so
//! every run's row has the same schema and the tables can be written as runs finish.
//!
//! The border in prices is the largest producer's: for each market, the nation with the
//! most production capacity in the run's world (ties to the lower id). "Inside" is the
//! price in that nation, "outside" the consumption-weighted price in all others.
//!
//! Welfare (USD, summed over the run, per nation and in total) is a partial-equilibrium
//! account: the change in end users' surplus against each demand curve's reference point
//! (reference price and quantity: the integral of inverse demand from the reference
//! quantity to the quantity obtained, less what was paid, plus the reference spending;
//! zero when users buy the reference quantity at the reference price; isoelastic demand
//! is integrated no lower than 0.1% of the reference quantity, where it diverges), plus
//! firms' surplus (sales at the home price less the variable cost under their linear
//! marginal-cost curve, plants built during the run included, and the inputs bought),
//! plus tariff and export-levy revenue, less net stockpile spending. Scripted demand
//! shocks are not applied to the reference quantity.

use chokepoint_engine::components::{Firm as FirmC, Plant};
use chokepoint_engine::{Consumer, Simulation, TickRecord};
use chokepoint_world::{DemandForm, MarketId, World};

/// A group of metric columns, named in a spec's `metrics = [..]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    PriceMean,
    PriceFinal,
    Shortage,
    TopShare,
    StockpileCost,
    TariffRevenue,
    Welfare,
}

impl Family {
    pub const ALL: [Family; 7] = [
        Family::PriceMean,
        Family::PriceFinal,
        Family::Shortage,
        Family::TopShare,
        Family::StockpileCost,
        Family::TariffRevenue,
        Family::Welfare,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::PriceMean => "price_mean",
            Family::PriceFinal => "price_final",
            Family::Shortage => "shortage",
            Family::TopShare => "top_share",
            Family::StockpileCost => "stockpile_cost",
            Family::TariffRevenue => "tariff_revenue",
            Family::Welfare => "welfare",
        }
    }

    pub fn parse(s: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.name() == s)
    }
}

/// The metric column names for `world`, in row order.
pub fn columns(world: &World, families: &[Family]) -> Vec<String> {
    let markets: Vec<String> = (0..world.markets.len())
        .map(|m| market_label(world, MarketId(m as u32)))
        .collect();
    let nations: Vec<&str> = world.nations.iter().map(|n| n.name.as_str()).collect();
    let mut out = Vec::new();
    for f in Family::ALL.iter().filter(|f| families.contains(f)) {
        match f {
            Family::PriceMean | Family::PriceFinal => {
                for m in &markets {
                    out.push(format!("{}_inside[{m}]", f.name()));
                    out.push(format!("{}_outside[{m}]", f.name()));
                }
            }
            Family::Shortage => {
                out.push("shortage_t".into());
                out.extend(markets.iter().map(|m| format!("shortage_t[{m}]")));
                out.extend(nations.iter().map(|n| format!("shortage_t[{n}]")));
            }
            Family::TopShare => out.extend(markets.iter().map(|m| format!("top_share[{m}]"))),
            Family::StockpileCost => {
                out.push("stockpile_cost_usd".into());
                out.extend(nations.iter().map(|n| format!("stockpile_cost_usd[{n}]")));
            }
            Family::TariffRevenue => {
                out.push("tariff_revenue_usd".into());
                out.extend(nations.iter().map(|n| format!("tariff_revenue_usd[{n}]")));
            }
            Family::Welfare => {
                out.push("welfare_usd".into());
                out.extend(nations.iter().map(|n| format!("welfare_usd[{n}]")));
            }
        }
    }
    out
}

fn market_label(world: &World, m: MarketId) -> String {
    let d = &world.markets[m.index()];
    format!(
        "{}/{}",
        world.commodities[d.commodity.index()].name,
        d.stage
    )
}

/// Running sums of one run.
pub struct Metrics {
    families: Vec<Family>,
    top: Vec<Option<usize>>,
    /// Per market: (sum, count) of inside and outside prices; last values.
    inside: Vec<(f64, u64, f64)>,
    outside: Vec<(f64, u64, f64)>,
    shortage_market: Vec<f64>,
    shortage_nation: Vec<f64>,
    produced: Vec<f64>,
    produced_top: Vec<f64>,
    stockpile: Vec<f64>,
    tariff: Vec<f64>,
    welfare: Vec<f64>,
}

impl Metrics {
    pub fn new(world: &World, families: &[Family]) -> Self {
        let (nm, nn) = (world.markets.len(), world.nations.len());
        let mut capacity = vec![vec![0.0; nn]; nm];
        for f in &world.firms {
            capacity[f.market.index()][f.nation.index()] += f.capacity_t_per_tick;
        }
        let top = capacity
            .iter()
            .map(|c| {
                c.iter()
                    .enumerate()
                    .filter(|(_, q)| **q > 0.0)
                    .fold(None, |best: Option<(usize, f64)>, (i, q)| match best {
                        Some((_, b)) if b >= *q => best,
                        _ => Some((i, *q)),
                    })
                    .map(|(i, _)| i)
            })
            .collect();
        Metrics {
            families: families.to_vec(),
            top,
            inside: vec![(0.0, 0, f64::NAN); nm],
            outside: vec![(0.0, 0, f64::NAN); nm],
            shortage_market: vec![0.0; nm],
            shortage_nation: vec![0.0; nn],
            produced: vec![0.0; nm],
            produced_top: vec![0.0; nm],
            stockpile: vec![0.0; nn],
            tariff: vec![0.0; nn],
            welfare: vec![0.0; nn],
        }
    }

    /// Add the tick just stepped (`sim.record()`).
    pub fn add(&mut self, world: &World, sim: &Simulation) {
        let rec = sim.record();
        // Marginal-cost curves by firm id, including plants built during the run.
        let mut mc: Vec<(f64, f64)> = vec![(0.0, 0.0); sim.firm_names().len()];
        if let Some(mut q) = sim.ecs().try_query::<(&FirmC, &Plant)>() {
            for (f, p) in q.iter(sim.ecs()) {
                if let Some(slot) = mc.get_mut(f.id.index()) {
                    *slot = (p.mc_at_zero_usd_per_t, p.mc_at_capacity_usd_per_t);
                }
            }
        }
        self.add_record(world, rec, &mc);
    }

    /// Add one tick's rows; `mc` is each firm's (mc at zero, mc at capacity).
    pub fn add_record(&mut self, world: &World, rec: &TickRecord, mc: &[(f64, f64)]) {
        let (nm, nn) = (world.markets.len(), world.nations.len());
        // Local prices, indexed [market][nation].
        let mut price = vec![vec![None; nn]; nm];
        for p in &rec.prices {
            price[p.market.index()][p.nation.index()] = Some(p.price_usd_per_t);
        }
        let mut consumed = vec![vec![0.0; nn]; nm];
        for c in &rec.consumption {
            consumed[c.market.index()][c.nation.index()] += c.obtained_t;
        }
        for m in 0..nm {
            self.inside[m].2 = f64::NAN;
            self.outside[m].2 = f64::NAN;
            let Some(top) = self.top[m] else { continue };
            if let Some(p) = price[m][top] {
                self.inside[m] = (self.inside[m].0 + p, self.inside[m].1 + 1, p);
            }
            let (mut num, mut den) = (0.0, 0.0);
            for n in (0..nn).filter(|&n| n != top) {
                if let Some(p) = price[m][n] {
                    num += p * consumed[m][n];
                    den += consumed[m][n];
                }
            }
            if den > 0.0 {
                let p = num / den;
                self.outside[m] = (self.outside[m].0 + p, self.outside[m].1 + 1, p);
            }
        }
        for c in &rec.consumption {
            let (m, n) = (c.market.index(), c.nation.index());
            match c.consumer {
                Consumer::Stockpile(_) => {}
                Consumer::EndUse { nation, index } => {
                    let s = c.shortage_t();
                    self.shortage_market[m] += s;
                    self.shortage_nation[n] += s;
                    if let (Some(d), Some(p)) =
                        (world.nations[nation.index()].demand.get(index), price[m][n])
                    {
                        // Surplus change against the reference point (P0, Q0).
                        self.welfare[n] += gross_value(d, c.obtained_t) - p * c.obtained_t
                            + d.reference_price_usd_per_t * d.reference_quantity_t_per_tick;
                    }
                }
                Consumer::Firm(_) => {
                    let s = c.shortage_t();
                    self.shortage_market[m] += s;
                    self.shortage_nation[n] += s;
                    if let Some(p) = price[m][n] {
                        self.welfare[n] -= p * c.obtained_t;
                    }
                }
            }
        }
        for p in &rec.production {
            let (m, n) = (p.market.index(), p.nation.index());
            let sold = p.produced_t + p.sold_from_stock_t;
            self.produced[m] += sold;
            if self.top[m] == Some(n) {
                self.produced_top[m] += sold;
            }
            let (a, b) = mc.get(p.firm.index()).copied().unwrap_or((0.0, 0.0));
            let q = p.produced_t;
            let cost = if p.capacity_t > 0.0 {
                a * q + (b - a) * q * q / (2.0 * p.capacity_t)
            } else {
                a * q
            };
            self.welfare[n] += price[m][n].map_or(0.0, |pr| pr * sold) - cost;
        }
        for f in &rec.flows {
            self.tariff[f.to.index()] += f.tariff_usd;
            self.tariff[f.from.index()] += f.levy_usd;
            self.welfare[f.to.index()] += f.tariff_usd;
            self.welfare[f.from.index()] += f.levy_usd;
        }
        for s in &rec.stockpiles {
            let net = s.spent_usd - s.earned_usd;
            self.stockpile[s.owner.index()] += net;
            self.welfare[s.owner.index()] -= net;
        }
    }

    /// The row, in [`columns`] order.
    pub fn finish(&self) -> Vec<f64> {
        let mean = |x: &(f64, u64, f64)| {
            if x.1 > 0 { x.0 / x.1 as f64 } else { f64::NAN }
        };
        let mut out = Vec::new();
        for f in Family::ALL.iter().filter(|f| self.families.contains(f)) {
            match f {
                Family::PriceMean => {
                    for m in 0..self.inside.len() {
                        out.push(mean(&self.inside[m]));
                        out.push(mean(&self.outside[m]));
                    }
                }
                Family::PriceFinal => {
                    for m in 0..self.inside.len() {
                        out.push(self.inside[m].2);
                        out.push(self.outside[m].2);
                    }
                }
                Family::Shortage => {
                    out.push(self.shortage_market.iter().sum());
                    out.extend(&self.shortage_market);
                    out.extend(&self.shortage_nation);
                }
                Family::TopShare => out.extend(self.produced.iter().zip(&self.produced_top).map(
                    |(all, top)| {
                        if *all > 0.0 { top / all } else { f64::NAN }
                    },
                )),
                Family::StockpileCost => {
                    out.push(self.stockpile.iter().sum());
                    out.extend(&self.stockpile);
                }
                Family::TariffRevenue => {
                    out.push(self.tariff.iter().sum());
                    out.extend(&self.tariff);
                }
                Family::Welfare => {
                    out.push(self.welfare.iter().sum());
                    out.extend(&self.welfare);
                }
            }
        }
        out
    }
}

/// The integral of inverse demand from the reference quantity to `q` (USD).
pub fn gross_value(d: &chokepoint_world::EndUseDemand, q: f64) -> f64 {
    let (p0, q0, e) = (
        d.reference_price_usd_per_t,
        d.reference_quantity_t_per_tick,
        d.elasticity,
    );
    if q0 <= 0.0 || e <= 0.0 {
        return 0.0;
    }
    match d.form {
        DemandForm::Linear => {
            let q = q.min(q0 * (1.0 + e));
            p0 * (1.0 + e) / e * (q - q0) - p0 / (2.0 * e * q0) * (q * q - q0 * q0)
        }
        DemandForm::Isoelastic => {
            let r = (q / q0).max(1e-3);
            if (e - 1.0).abs() < 1e-9 {
                p0 * q0 * r.ln()
            } else {
                let k = 1.0 - 1.0 / e;
                p0 * q0 / k * (r.powf(k) - 1.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chokepoint_world::EndUseDemand;

    fn demand(form: DemandForm, e: f64) -> EndUseDemand {
        EndUseDemand {
            market: MarketId(0),
            end_use: "x".into(),
            reference_price_usd_per_t: 100.0,
            reference_quantity_t_per_tick: 10.0,
            elasticity: e,
            form,
        }
    }

    #[test]
    fn gross_value_is_the_area_under_inverse_demand() {
        // Linear, e = 1: P(x) = 200 - 10 x. From 10 to 5: -(area of the trapezoid
        // between x = 5 (P = 150) and x = 10 (P = 100)) = -(150 + 100) / 2 * 5 = -625.
        let d = demand(DemandForm::Linear, 1.0);
        assert!((gross_value(&d, 5.0) + 625.0).abs() < 1e-9);
        assert_eq!(gross_value(&d, 10.0), 0.0);
        // Isoelastic, e = 1: P(x) = 1000 / x; from 10 to 20: 1000 ln 2.
        let d = demand(DemandForm::Isoelastic, 1.0);
        assert!((gross_value(&d, 20.0) - 1000.0 * 2f64.ln()).abs() < 1e-9);
        // Isoelastic, e = 0.5: P(x) = 100 (x/10)^-2; from 10 to 20: 1000 (1 - 1/2) = 500.
        let d = demand(DemandForm::Isoelastic, 0.5);
        assert!((gross_value(&d, 20.0) - 500.0).abs() < 1e-9);
    }
}
