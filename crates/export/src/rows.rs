//! One tick's rows for every table, from the replayed simulation and the log's entry.

use std::borrow::Cow;

use chokepoint_engine::components::EndUse;
use chokepoint_engine::negotiation::SessionKind;
use chokepoint_engine::{
    Consumer, Index, LicenceState, Policies, PolicyAction, Simulation, TickRecord,
};
use chokepoint_runlog::{LoggedAction, TickEntry, to_engine};
use chokepoint_world::Lever;
use chokepoint_world::{Licence, MarketId, NationId, World};

use crate::ExportError;
use crate::schema::*;
use crate::sink::{Cell, Sink};
use crate::welfare::end_use_surplus_usd;

/// A policy cell: what kind, in which market, between which nations.
/// Tariffs: (market, importer, exporter); licences: (market, exporter, destination);
/// floors: (market, importer, 0).
type PolicyKey = (u8, u32, u32, u32);

#[derive(Debug, Clone, Copy, PartialEq)]
enum PolicyValue {
    Tariff(f64),
    Licence(LicenceState),
    Floor(f64),
}

const TARIFF: u8 = 0;
const LICENCE: u8 = 1;
const FLOOR: u8 = 2;

/// Writes the rows of each tick; remembers the policies in force after the last tick so
/// it can write only the cells that changed.
pub(crate) struct TickRows {
    last_policies: Vec<(PolicyKey, PolicyValue)>,
    policies_now: Vec<(PolicyKey, PolicyValue)>,
    consumer_surplus: Vec<Option<f64>>,
    producer_revenue: Vec<f64>,
    tariff_revenue: Vec<f64>,
}

/// Commodity and stage of a market, named even when the id is out of range (a damaged
/// or hand-made log must not panic the exporter).
fn market_names(world: &World, m: MarketId) -> (Cow<'_, str>, Cow<'_, str>) {
    match world.markets.get(m.index()) {
        Some(d) => (
            Cow::Borrowed(world.commodities[d.commodity.index()].name.as_str()),
            Cow::Borrowed(d.stage.as_str()),
        ),
        None => (Cow::Owned(format!("market #{}", m.0)), Cow::Borrowed("?")),
    }
}

fn nation_name(world: &World, n: NationId) -> Cow<'_, str> {
    match world.nations.get(n.index()) {
        Some(d) => Cow::Borrowed(d.name.as_str()),
        None => Cow::Owned(format!("nation #{}", n.0)),
    }
}

fn licence_detail(state: &LicenceState) -> (Option<f64>, String) {
    match state.licence {
        Licence::Open => (None, "open".into()),
        Licence::Ban => (None, "ban".into()),
        Licence::Quota { t_per_tick } => (Some(t_per_tick), "quota".into()),
        Licence::Licensed { delay_ticks } => (
            None,
            format!(
                "licensed, delay {delay_ticks} ticks, opens at tick {}",
                state.opens_at_tick
            ),
        ),
    }
}

impl TickRows {
    pub fn new(nations: usize) -> Self {
        TickRows {
            last_policies: Vec::new(),
            policies_now: Vec::new(),
            consumer_surplus: vec![Some(0.0); nations],
            producer_revenue: vec![0.0; nations],
            tariff_revenue: vec![0.0; nations],
        }
    }

    /// Write every table's rows of the tick `sim` has just run, whose log entry is `entry`.
    pub fn write(
        &mut self,
        sink: &mut dyn Sink,
        sim: &Simulation,
        entry: &TickEntry,
    ) -> Result<(), ExportError> {
        let world: &World = sim.world_def();
        let rec = sim.record();
        let t = rec.tick;
        let nation = |n: NationId| nation_name(world, n);

        for p in &rec.prices {
            let (c, s) = market_names(world, p.market);
            sink.push(
                PRICES,
                &[
                    Cell::Tick(t),
                    Cell::Name(&c),
                    Cell::Name(&s),
                    Cell::Name(&nation(p.nation)),
                    Cell::Num(p.price_usd_per_t),
                ],
            )?;
        }
        for f in &rec.flows {
            let (c, s) = market_names(world, f.market);
            sink.push(
                FLOWS,
                &[
                    Cell::Tick(t),
                    Cell::Name(&c),
                    Cell::Name(&s),
                    Cell::Name(&nation(f.from)),
                    Cell::Name(&nation(f.to)),
                    Cell::Num(f.quantity_t),
                    Cell::Num(f.landed_usd_per_t),
                    Cell::Num(f.value_usd),
                    Cell::Num(f.tariff_usd),
                    Cell::Num(f.levy_usd),
                ],
            )?;
        }
        let firm_names = sim.firm_names();
        for p in &rec.production {
            let (c, s) = market_names(world, p.market);
            sink.push(
                PRODUCTION,
                &[
                    Cell::Tick(t),
                    Cell::Name(&firm_names[p.firm.index()]),
                    Cell::Name(&nation(p.nation)),
                    Cell::Name(&c),
                    Cell::Name(&s),
                    Cell::Num(p.capacity_t),
                    Cell::Num(p.input_limited_capacity_t),
                    Cell::Num(p.produced_t),
                    Cell::Num(p.sold_from_stock_t),
                ],
            )?;
        }
        for r in &rec.consumption {
            let (c, s) = market_names(world, r.market);
            let consumer = chokepoint_tables::consumer_name(world, firm_names, r.consumer);
            sink.push(
                SHORTAGES,
                &[
                    Cell::Tick(t),
                    Cell::Name(&c),
                    Cell::Name(&s),
                    Cell::Name(&nation(r.nation)),
                    Cell::Name(&consumer),
                    Cell::Num(r.wanted_t),
                    Cell::Num(r.obtained_t),
                    Cell::Num(r.shortage_t()),
                ],
            )?;
        }
        for r in &rec.stockpiles {
            let (c, s) = market_names(world, r.market);
            sink.push(
                STOCKPILES,
                &[
                    Cell::Tick(t),
                    Cell::Name(&c),
                    Cell::Name(&s),
                    Cell::Name(&nation(r.owner)),
                    Cell::Num(r.bought_t),
                    Cell::Num(r.sold_t),
                    Cell::Num(r.holdings_t),
                    Cell::Num(r.spent_usd),
                    Cell::Num(r.earned_usd),
                ],
            )?;
        }
        self.write_policies(sink, world, t, sim.ecs().resource::<Policies>())?;
        for e in &rec.events {
            sink.push(
                EVENTS,
                &[
                    Cell::Tick(t),
                    Cell::Name(&e.kind),
                    Cell::Text(Some(&e.detail)),
                ],
            )?;
        }
        for (n, a) in &entry.actions {
            write_action(sink, world, t, NationId(*n), a)?;
        }
        self.write_welfare(sink, sim)?;
        for r in &rec.clearing {
            let (c, s) = market_names(world, r.market);
            sink.push(
                CLEARING,
                &[
                    Cell::Tick(t),
                    Cell::Name(&c),
                    Cell::Name(&s),
                    Cell::Count(r.sweeps),
                    Cell::Flag(r.converged),
                    Cell::Num(r.residual),
                ],
            )?;
        }
        write_negotiation(sink, world, rec)?;
        write_adaptation(sink, world, firm_names, rec)?;
        Ok(())
    }

    /// Policy rows: every cell in force after tick 0, then after each later tick the
    /// cells set, changed or removed during it.
    fn write_policies(
        &mut self,
        sink: &mut dyn Sink,
        world: &World,
        t: u64,
        policies: &Policies,
    ) -> Result<(), ExportError> {
        let now = &mut self.policies_now;
        now.clear();
        now.extend(
            policies
                .tariffs()
                .map(|(m, i, x, r)| ((TARIFF, m.0, i.0, x.0), PolicyValue::Tariff(r))),
        );
        now.extend(
            policies
                .licences()
                .map(|(&(m, x, d), s)| ((LICENCE, m.0, x.0, d.0), PolicyValue::Licence(*s))),
        );
        now.extend(
            policies
                .floors()
                .map(|(m, i, f)| ((FLOOR, m.0, i.0, 0), PolicyValue::Floor(f))),
        );
        // Both lists are in key order: tariffs() walks markets, importers, exporters in
        // id order and the other two are BTreeMaps. Sort anyway: cheap, and safe if the
        // engine's iteration order ever changes.
        now.sort_by_key(|(k, _)| *k);

        let (mut a, mut b) = (0, 0);
        let last = &self.last_policies;
        while a < last.len() || b < now.len() {
            let change = match (last.get(a), now.get(b)) {
                (Some(old), Some(new)) if old.0 == new.0 => {
                    a += 1;
                    b += 1;
                    (old.1 != new.1).then_some((new.0, Some(new.1)))
                }
                (Some(old), Some(new)) if old.0 < new.0 => {
                    a += 1;
                    Some((old.0, None))
                }
                (Some(old), None) => {
                    a += 1;
                    Some((old.0, None))
                }
                (_, Some(new)) => {
                    b += 1;
                    Some((new.0, Some(new.1)))
                }
                (None, None) => unreachable!("loop condition"),
            };
            let Some(((kind, m, x, y), value)) = change else {
                continue;
            };
            let (c, s) = market_names(world, MarketId(m));
            let na = nation_name(world, NationId(x));
            let nb = (kind != FLOOR).then(|| nation_name(world, NationId(y)));
            let (kind_name, value, detail): (&str, Option<f64>, Option<String>) =
                match (kind, value) {
                    (_, Some(PolicyValue::Tariff(r))) => ("tariff", Some(r), None),
                    (_, Some(PolicyValue::Floor(f))) => ("floor", Some(f), None),
                    (_, Some(PolicyValue::Licence(st))) => {
                        let (v, d) = licence_detail(&st);
                        ("licence", v, Some(d))
                    }
                    (TARIFF, None) => ("tariff", Some(0.0), Some("removed".into())),
                    (FLOOR, None) => ("floor", Some(0.0), Some("removed".into())),
                    (_, None) => ("licence", None, Some("open".into())),
                };
            sink.push(
                POLICIES,
                &[
                    Cell::Tick(t),
                    Cell::Name(kind_name),
                    Cell::Name(&c),
                    Cell::Name(&s),
                    Cell::Name(&na),
                    Cell::OptName(nb.as_deref()),
                    Cell::OptNum(value),
                    Cell::Text(detail.as_deref()),
                ],
            )?;
        }
        std::mem::swap(&mut self.last_policies, &mut self.policies_now);
        Ok(())
    }

    /// One welfare row per nation (see the crate docs for the definitions).
    fn write_welfare(&mut self, sink: &mut dyn Sink, sim: &Simulation) -> Result<(), ExportError> {
        let world: &World = sim.world_def();
        let rec = sim.record();
        let ecs = sim.ecs();
        let index = ecs.resource::<Index>();
        self.consumer_surplus.fill(Some(0.0));
        self.producer_revenue.fill(0.0);
        self.tariff_revenue.fill(0.0);

        for p in &rec.production {
            let supply_price = sim.prices(p.market).supply[p.nation.index()];
            self.producer_revenue[p.nation.index()] +=
                (p.produced_t + p.sold_from_stock_t) * supply_price;
        }
        for f in &rec.flows {
            if f.from != f.to {
                self.tariff_revenue[f.to.index()] += f.tariff_usd + f.levy_usd;
            }
        }
        for r in &rec.consumption {
            let Consumer::EndUse { nation, index: k } = r.consumer else {
                continue;
            };
            let n = nation.index();
            let Some(end_use) = ecs.get::<EndUse>(index.nations[n]) else {
                continue;
            };
            let demand = &end_use.demands[k];
            let prices = sim.prices(r.market);
            let price = prices.local[n].unwrap_or(prices.previous[n]);
            let cs = end_use_surplus_usd(&demand.def, demand.factor, price, r.obtained_t);
            self.consumer_surplus[n] = match (self.consumer_surplus[n], cs) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
        }
        for n in 0..world.nations.len() {
            sink.push(
                WELFARE,
                &[
                    Cell::Tick(rec.tick),
                    Cell::Name(&world.nations[n].name),
                    Cell::OptNum(self.consumer_surplus[n]),
                    Cell::Num(self.producer_revenue[n]),
                    Cell::Num(self.tariff_revenue[n]),
                    Cell::Num(sim.budget_usd(NationId(n as u32))),
                ],
            )?;
        }
        Ok(())
    }
}

fn write_action(
    sink: &mut dyn Sink,
    world: &World,
    t: u64,
    actor: NationId,
    a: &LoggedAction,
) -> Result<(), ExportError> {
    type ActionCells<'a> = (
        &'a str,
        MarketId,
        Option<NationId>,
        Option<f64>,
        Option<f64>,
        Option<&'a str>,
    );
    let (kind, market, other, value, price, detail): ActionCells<'_> = match to_engine(a) {
        PolicyAction::SetTariff {
            market,
            exporter,
            rate,
        } => ("set_tariff", market, Some(exporter), Some(rate), None, None),
        PolicyAction::SetLicence {
            market,
            destination,
            licence,
        } => {
            let (value, detail) = match licence {
                Licence::Open => (None, "open"),
                Licence::Ban => (None, "ban"),
                Licence::Quota { t_per_tick } => (Some(t_per_tick), "quota"),
                Licence::Licensed { delay_ticks } => (Some(f64::from(delay_ticks)), "licensed"),
            };
            (
                "set_licence",
                market,
                Some(destination),
                value,
                None,
                Some(detail),
            )
        }
        PolicyAction::SetFloor {
            market,
            floor_usd_per_t,
        } => ("set_floor", market, None, Some(floor_usd_per_t), None, None),
        PolicyAction::StockpileBuy {
            market,
            t,
            max_price,
        } => (
            "stockpile_buy",
            market,
            None,
            Some(t),
            Some(max_price),
            None,
        ),
        PolicyAction::StockpileRelease {
            market,
            t,
            min_price,
        } => (
            "stockpile_release",
            market,
            None,
            Some(t),
            Some(min_price),
            None,
        ),
        PolicyAction::Invest {
            market,
            host,
            t_per_year,
            usd_per_tpy,
        } => (
            "invest",
            market,
            Some(host),
            Some(t_per_year),
            Some(usd_per_tpy),
            None,
        ),
        PolicyAction::Lever(lever) => match lever {
            Lever::RecyclingSubsidy { market, usd_per_t } => (
                "recycling_subsidy",
                market,
                None,
                Some(usd_per_t),
                None,
                None,
            ),
            Lever::FundRecycling {
                market,
                t_per_year,
                usd_per_tpy,
            } => (
                "fund_recycling",
                market,
                None,
                Some(t_per_year),
                Some(usd_per_tpy),
                None,
            ),
            Lever::FundSubstitution { market, usd } => {
                ("fund_substitution", market, None, Some(usd), None, None)
            }
            Lever::CapacitySubsidy { market, share } => {
                ("capacity_subsidy", market, None, Some(share), None, None)
            }
            Lever::StockMandate {
                market,
                cover_ticks,
            } => ("stock_mandate", market, None, Some(cover_ticks), None, None),
        },
        // Negotiation moves name no single market: they are the negotiation tables'.
        PolicyAction::Negotiate { .. } => return Ok(()),
    };
    let (c, s) = market_names(world, market);
    let other = other.map(|o| nation_name(world, o));
    sink.push(
        ACTIONS,
        &[
            Cell::Tick(t),
            Cell::Name(&nation_name(world, actor)),
            Cell::Name(kind),
            Cell::Name(&c),
            Cell::Name(&s),
            Cell::OptName(other.as_deref()),
            Cell::OptNum(value),
            Cell::OptNum(price),
            Cell::Text(detail),
        ],
    )
}

/// Negotiation rounds, agreements and deliveries, as the run's CSV tables write them.
fn write_negotiation(
    sink: &mut dyn Sink,
    world: &World,
    rec: &TickRecord,
) -> Result<(), ExportError> {
    let t = rec.tick;
    let nation = |n: NationId| nation_name(world, n);
    for r in &rec.negotiation {
        sink.push(
            NEGOTIATION_ROUNDS,
            &[
                Cell::Tick(t),
                Cell::Count(r.round),
                Cell::Count(r.session),
                Cell::Count(r.session_round),
                Cell::Name(&nation(r.nation)),
                Cell::Name(r.action),
                Cell::Name(r.outcome),
                Cell::Text(Some(&r.detail)),
            ],
        )?;
    }
    for a in &rec.agreements {
        let members: Vec<Cow<'_, str>> = a.members.iter().map(|&n| nation(n)).collect();
        let terms = chokepoint_tables::describe_terms(world, &a.terms);
        sink.push(
            AGREEMENTS,
            &[
                Cell::Tick(t),
                Cell::Count(a.agreement),
                Cell::Count(a.session),
                Cell::Name(match a.kind {
                    SessionKind::Bilateral => "bilateral",
                    SessionKind::Club => "club",
                }),
                Cell::Name(a.status.name()),
                Cell::Text(Some(&members.join(";"))),
                Cell::Tick(a.signed_tick),
                Cell::Count(a.signed_round),
                Cell::Count(a.session_round),
                Cell::Count(a.shortfalls),
                Cell::Text(Some(&terms)),
            ],
        )?;
    }
    for d in &rec.deliveries {
        let (c, s) = market_names(world, d.market);
        sink.push(
            DELIVERIES,
            &[
                Cell::Tick(t),
                Cell::Count(d.agreement),
                Cell::Name(&c),
                Cell::Name(&s),
                Cell::Name(&nation(d.seller)),
                Cell::Name(&nation(d.buyer)),
                Cell::Num(d.planned_t),
                Cell::Num(d.delivered_t),
                Cell::Num(d.price_usd_per_t),
                Cell::Num(d.resold_t),
            ],
        )?;
    }
    Ok(())
}

/// Substitution, recycling and capacity under construction, as the run's CSV tables
/// write them.
fn write_adaptation(
    sink: &mut dyn Sink,
    world: &World,
    firm_names: &[String],
    rec: &TickRecord,
) -> Result<(), ExportError> {
    let t = rec.tick;
    let nation = |n: NationId| nation_name(world, n);
    for r in &rec.substitution {
        let (c, s) = market_names(world, r.market);
        let end_use = world
            .nations
            .get(r.nation.index())
            .and_then(|n| n.demand.get(r.end_use))
            .map_or(Cow::Owned(format!("end use #{}", r.end_use)), |d| {
                Cow::Borrowed(d.end_use.as_str())
            });
        sink.push(
            SUBSTITUTION,
            &[
                Cell::Tick(t),
                Cell::Name(&c),
                Cell::Name(&s),
                Cell::Name(&nation(r.nation)),
                Cell::Name(&end_use),
                Cell::Num(r.price_usd_per_t),
                Cell::Num(r.substitution_share),
                Cell::Num(r.target_share),
                Cell::Num(r.permanent_share),
            ],
        )?;
    }
    for r in &rec.recycling {
        let (c, s) = market_names(world, r.market);
        let share = if r.supply_t > 0.0 {
            r.recycled_sold_t / r.supply_t
        } else {
            0.0
        };
        sink.push(
            RECYCLING,
            &[
                Cell::Tick(t),
                Cell::Name(&c),
                Cell::Name(&s),
                Cell::Name(&nation(r.nation)),
                Cell::Num(r.scrap_arising_t),
                Cell::Num(r.collected_t),
                Cell::Num(r.recycled_t),
                Cell::Num(r.recycled_sold_t),
                Cell::Num(r.supply_t),
                Cell::Num(share),
                Cell::Num(r.scrap_stock_t),
                Cell::Num(r.subsidy_usd),
            ],
        )?;
    }
    for r in &rec.pipeline {
        let (c, s) = market_names(world, r.market);
        let firm = r
            .firm
            .map(|f| firm_names.get(f.index()).map_or("?", String::as_str));
        sink.push(
            PIPELINE,
            &[
                Cell::Tick(t),
                Cell::Name(&c),
                Cell::Name(&s),
                Cell::Name(&nation(r.nation)),
                Cell::OptName(firm),
                Cell::Name(&nation(r.funder)),
                Cell::Name(r.kind),
                Cell::Num(r.capacity_t),
                Cell::Tick(r.started_tick),
                Cell::Tick(r.arrives_at_tick),
            ],
        )?;
    }
    Ok(())
}
