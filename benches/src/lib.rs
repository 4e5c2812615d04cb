//! Worlds for benchmarks: the bundled calibration, and synthetic worlds of any size.
//!
//! [`generated_world`] builds a checked [`World`] directly (no TOML), deterministically
//! from a seed, so benchmarks can scale nations and firms far beyond any world file
//! while keeping the economics plausible: vertical chains with rising prices,
//! concentrated supply, end-use demand in every nation, regional trade costs and a few
//! tariffs and export controls. The same arguments always give the same world.

use std::path::PathBuf;

use chokepoint_world::{
    Commodity, CommodityId, DemandForm, EndUseDemand, Firm, Licence, LicenceRule, MarketDef,
    MarketId, Nation, NationId, SourceText, TariffRule, TradeCostRule, TradeCosts, World,
};

/// Where the bundled world file lives.
pub fn bundled_world_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../worlds/critical-minerals-2026.toml")
}

/// The bundled calibration, `worlds/critical-minerals-2026.toml`.
///
/// Panics with the file's located errors if it does not validate.
pub fn bundled_world() -> World {
    let path = bundled_world_path();
    chokepoint_world::load(&path).unwrap_or_else(|e| {
        let all: Vec<String> = e.iter().map(ToString::to_string).collect();
        panic!("{} does not validate:\n{}", path.display(), all.join("\n"))
    })
}

/// The splitmix64 generator: tiny, fast and good enough for synthetic data.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Log-uniform in [lo, hi) (both > 0).
    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + (hi.ln() - lo.ln()) * self.unit()).exp()
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Log-normal with median 1 and log-standard deviation `sigma` (the normal is
    /// approximated by a sum of four uniforms: plenty for firm sizes).
    pub fn lognormal(&mut self, sigma: f64) -> f64 {
        let z = ((0..4).map(|_| self.unit()).sum::<f64>() - 2.0) * 3f64.sqrt();
        (sigma * z).exp()
    }
}

/// An independent stream per part of the world, so that e.g. changing the number of
/// firms does not change the commodities' prices.
fn stream(seed: u64, part: u64) -> SplitMix64 {
    let mut s = SplitMix64::new(seed ^ part.wrapping_mul(0xD6E8_FEB8_6659_FD93));
    SplitMix64::new(s.next_u64())
}

/// Stage names along a chain of `stages` markets.
fn stage_name(k: usize, stages: usize) -> String {
    match k {
        0 => "mined".into(),
        _ if k + 1 == stages => "product".into(),
        _ => format!("refined-{k}"),
    }
}

/// A synthetic world of `nations` nations and `firms` firms over `commodities`
/// commodities of `stages` stages each, deterministic in `seed`.
///
/// - Regions: nations are dealt round-robin into `min(8, nations)` regions
///   (`region-0`..). Nation 0 is a large "hegemon" that dominates most chains.
/// - Commodities (`commodity-000`..): a chain `mined -> refined-1 -> .. -> product`;
///   stage k>0 uses stage k-1 at a ratio in [1, 3]; the reference price of stage 0 is
///   log-uniform in USD 2,000-200,000/t and each stage's price is its input cost over
///   an input share in [0.3, 0.7], so prices rise along the chain.
/// - Demand: linear end-use demand (elasticity 0.1-0.5) for the last stage in every
///   nation, shared by nation size; about 40% of middle stages also have end uses
///   (5-30% on top of the downstream requirement) in about half the nations.
/// - Firms (`firm-000000`..): the first one of each market sits in its dominant
///   nation (so every market has supply when `firms >= markets`); the others go to a
///   random market, and to its dominant nation (30%), a second nation (10%) or any
///   nation. Dominant-nation firms are 4x larger (log-normal sizes), so the dominant
///   nation holds roughly 60% of a market's capacity. Marginal cost rises from 30-50%
///   to 100-130% of the stage's value added at reference prices, and capacities are
///   scaled so that supply at reference prices equals the planned demand (end use plus
///   downstream input requirements) in every market.
/// - Trade costs: USD 80/t within a region, 200 between neighbouring regions (on a
///   ring), 400 otherwise.
/// - Policies: tariffs of 10-50% by one region on the hegemon's final products and two
///   bilateral tariffs on whole chains; quotas on three dominant exporters' sales to a
///   region; one or two export bans; one chain under (already granted) export licences
///   from the hegemon. No scripted events, so the world runs at steady state for ever.
///
/// Ids follow name order (names are zero-padded), as a checked world requires.
pub fn generated_world(
    nations: usize,
    firms: usize,
    commodities: usize,
    stages: usize,
    seed: u64,
) -> World {
    assert!(nations >= 1, "a world needs at least one nation");
    assert!(commodities >= 1, "a world needs at least one commodity");
    assert!(stages >= 1, "a commodity needs at least one stage");
    let per_tick = 1.0 / 12.0;

    // Regions and nations.
    let n_regions = nations.min(8);
    let regions: Vec<String> = (0..n_regions).map(|r| format!("region-{r}")).collect();
    let members: Vec<Vec<NationId>> = (0..n_regions)
        .map(|r| {
            (r..nations)
                .step_by(n_regions)
                .map(|i| NationId(i as u32))
                .collect()
        })
        .collect();
    let mut rng = stream(seed, 1);
    let mut size: Vec<f64> = (0..nations).map(|_| rng.lognormal(1.0)).collect();
    size[0] *= 4.0;
    let budgets: Vec<f64> = size
        .iter()
        .map(|s| {
            if rng.chance(0.3) {
                (s * 2e9).round()
            } else {
                0.0
            }
        })
        .collect();

    // Commodities, markets, and the planned quantities that calibrate firms.
    let mut rng = stream(seed, 2);
    let mut comms = Vec::with_capacity(commodities);
    let mut markets: Vec<MarketDef> = Vec::with_capacity(commodities * stages);
    let mut target = Vec::with_capacity(commodities * stages); // output, t/tick
    let mut end_use = Vec::with_capacity(commodities * stages); // end-use part, t/tick
    for c in 0..commodities {
        let first = markets.len();
        let mut price = rng.log_uniform(2_000.0, 200_000.0).round();
        for k in 0..stages {
            let inputs = if k == 0 {
                Vec::new()
            } else {
                let ratio = (rng.range(1.0, 3.0) * 100.0).round() / 100.0;
                let share = rng.range(0.3, 0.7);
                price = (ratio * price / share).round();
                vec![(MarketId((first + k - 1) as u32), ratio)]
            };
            markets.push(MarketDef {
                commodity: CommodityId(c as u32),
                stage: stage_name(k, stages),
                reference_price_usd_per_t: price,
                inputs,
                build_lag_ticks: 12 + rng.below(85) as u32,
            });
        }
        // Plan downstream first: the last stage is all end use; each upstream stage
        // feeds the next one, plus its own end uses at some stages.
        let mut t = vec![0.0; stages];
        let mut e = vec![0.0; stages];
        t[stages - 1] = rng.log_uniform(50.0, 50_000.0) * per_tick;
        e[stages - 1] = t[stages - 1];
        for k in (0..stages - 1).rev() {
            let need = markets[first + k + 1].inputs[0].1 * t[k + 1];
            e[k] = if rng.chance(0.4) {
                rng.range(0.05, 0.3) * need
            } else {
                0.0
            };
            t[k] = need + e[k];
        }
        target.extend(t);
        end_use.extend(e);
        comms.push(Commodity {
            name: format!("commodity-{c:03}"),
            unit: "t".into(),
            markets: (first..first + stages)
                .map(|m| MarketId(m as u32))
                .collect(),
        });
    }
    let n_markets = markets.len();
    // Value added per tonne at reference prices: what a firm's own costs must cover.
    let value_added: Vec<f64> = markets
        .iter()
        .map(|m| {
            m.reference_price_usd_per_t
                - m.inputs
                    .iter()
                    .map(|&(im, r)| r * markets[im.index()].reference_price_usd_per_t)
                    .sum::<f64>()
        })
        .collect();

    // Who dominates each market: the hegemon in most chains, with some stages elsewhere
    // (mining in one place, refining in another).
    let mut rng = stream(seed, 3);
    let mut dominant = vec![0usize; n_markets];
    let mut second = vec![0usize; n_markets];
    for c in 0..commodities {
        let lead = if rng.chance(0.6) {
            0
        } else {
            rng.below(nations)
        };
        for k in 0..stages {
            let m = c * stages + k;
            dominant[m] = if rng.chance(0.7) {
                lead
            } else {
                rng.below(nations)
            };
            second[m] = rng.below(nations);
        }
    }

    // End-use demand.
    let mut rng = stream(seed, 4);
    let mut demand: Vec<Vec<EndUseDemand>> = vec![Vec::new(); nations];
    for m in 0..n_markets {
        if end_use[m] <= 0.0 {
            continue;
        }
        let last = (m + 1) % stages == 0;
        let mut who: Vec<usize> = (0..nations).filter(|_| last || rng.chance(0.5)).collect();
        if who.is_empty() {
            who.push(rng.below(nations));
        }
        let total: f64 = who.iter().map(|&i| size[i]).sum();
        for &i in &who {
            let elasticity = (rng.range(0.1, 0.5) * 100.0).round() / 100.0;
            demand[i].push(EndUseDemand {
                market: MarketId(m as u32),
                end_use: if last { "final-goods" } else { "other-uses" }.into(),
                reference_price_usd_per_t: markets[m].reference_price_usd_per_t,
                reference_quantity_t_per_tick: end_use[m] * size[i] / total,
                elasticity,
                form: DemandForm::Linear,
            });
        }
    }
    let nation_list: Vec<Nation> = (0..nations)
        .zip(demand)
        .map(|(i, demand)| Nation {
            name: format!("nation-{i:04}"),
            region: i % n_regions,
            budget_usd: budgets[i],
            demand,
            strategy: None,
        })
        .collect();

    // Firms: place and draw them, then scale capacities to the plan.
    let mut rng = stream(seed, 5);
    struct Draft {
        nation: usize,
        market: usize,
        weight: f64,
        mc0: f64,
        mc1: f64,
        stocked: Option<f64>,
    }
    let mut drafts = Vec::with_capacity(firms);
    let mut weight_sum = vec![0.0; n_markets];
    for f in 0..firms {
        let market = if f < n_markets {
            f
        } else {
            rng.below(n_markets)
        };
        let nation = if f < n_markets {
            dominant[market]
        } else {
            let u = rng.unit();
            if u < 0.3 {
                dominant[market]
            } else if u < 0.4 {
                second[market]
            } else {
                rng.below(nations)
            }
        };
        let (a, b) = (rng.range(0.3, 0.5), rng.range(1.0, 1.3));
        // Share of capacity produced at the reference price: (1 - a) / (b - a).
        let frac = (1.0 - a) / (b - a);
        let size = rng.lognormal(0.8) * if nation == dominant[market] { 4.0 } else { 1.0 };
        weight_sum[market] += size;
        let va = value_added[market];
        drafts.push(Draft {
            nation,
            market,
            weight: size / frac,
            mc0: (a * va).round(),
            mc1: (b * va).round(),
            stocked: rng.chance(0.2).then(|| rng.range(0.1, 1.0)),
        });
    }
    let firm_list: Vec<Firm> = drafts
        .iter()
        .enumerate()
        .map(|(f, d)| {
            // weight = size / frac, so output at reference prices is target * size share.
            let capacity = target[d.market] * d.weight / weight_sum[d.market];
            Firm {
                name: format!("firm-{f:06}"),
                nation: NationId(d.nation as u32),
                market: MarketId(d.market as u32),
                capacity_t_per_tick: capacity,
                mc_at_zero_usd_per_t: d.mc0,
                mc_at_capacity_usd_per_t: d.mc1,
                inventory_t: d.stocked.map_or(0.0, |s| s * capacity),
            }
        })
        .collect();

    // Trade costs: cheap within a region, dearer to the neighbours on a ring of
    // regions, the default elsewhere. Later rules win, so neighbours come last.
    let mut overrides: Vec<TradeCostRule> = members
        .iter()
        .map(|m| TradeCostRule {
            from: m.clone(),
            to: m.clone(),
            commodity: None,
            usd_per_t: 80.0,
        })
        .collect();
    if n_regions > 1 {
        for r in 0..n_regions {
            let s = (r + 1) % n_regions;
            if s < r && n_regions == 2 {
                break;
            }
            for (from, to) in [(r, s), (s, r)] {
                overrides.push(TradeCostRule {
                    from: members[from].clone(),
                    to: members[to].clone(),
                    commodity: None,
                    usd_per_t: 200.0,
                });
            }
        }
    }

    // Tariffs.
    let mut rng = stream(seed, 6);
    let market_of = |c: usize, k: usize| MarketId((c * stages + k) as u32);
    let chain = |c: usize| {
        (0..stages)
            .map(move |k| market_of(c, k))
            .collect::<Vec<_>>()
    };
    let mut tariffs = Vec::new();
    if nations > 1 {
        for _ in 0..commodities.min(3) {
            let c = rng.below(commodities);
            let r = rng.below(n_regions);
            tariffs.push(TariffRule {
                importers: members[r].clone(),
                exporters: vec![NationId(0)],
                markets: vec![market_of(c, stages - 1)],
                rate: [0.1, 0.25, 0.5][rng.below(3)],
            });
        }
        for _ in 0..2 {
            let i = rng.below(nations);
            let x = (i + 1 + rng.below(nations - 1)) % nations;
            tariffs.push(TariffRule {
                importers: vec![NationId(i as u32)],
                exporters: vec![NationId(x as u32)],
                markets: chain(rng.below(commodities)),
                rate: (rng.range(0.05, 0.3) * 100.0).round() / 100.0,
            });
        }
    }

    // Export licences: quotas, bans, and one chain under licences.
    let mut licences = Vec::new();
    if nations > 1 {
        for _ in 0..3 {
            let m = rng.below(n_markets);
            let x = dominant[m];
            let r = rng.below(n_regions);
            licences.push(LicenceRule {
                exporters: vec![NationId(x as u32)],
                destinations: members[r]
                    .iter()
                    .copied()
                    .filter(|d| d.index() != x)
                    .collect(),
                markets: vec![MarketId(m as u32)],
                licence: Licence::Quota {
                    t_per_tick: target[m] * rng.range(0.01, 0.05),
                },
            });
        }
        for _ in 0..if nations >= 10 { 2 } else { 1 } {
            let m = rng.below(n_markets);
            let x = dominant[m];
            let d = (x + 1 + rng.below(nations - 1)) % nations;
            licences.push(LicenceRule {
                exporters: vec![NationId(x as u32)],
                destinations: vec![NationId(d as u32)],
                markets: vec![MarketId(m as u32)],
                licence: Licence::Ban,
            });
        }
        let c = rng.below(commodities);
        licences.push(LicenceRule {
            exporters: vec![NationId(0)],
            destinations: (1..nations).map(|d| NationId(d as u32)).collect(),
            markets: chain(c).into_iter().skip(1).collect(),
            licence: Licence::Licensed { delay_ticks: 2 },
        });
    }

    let name = format!("generated-{nations}x{firms}-{commodities}x{stages}-seed{seed}");
    let shape =
        ((nations as u64) << 40) ^ ((firms as u64) << 8) ^ (commodities * 31 + stages) as u64;
    let mut h = stream(seed, shape);
    let hash: String = (0..4).map(|_| format!("{:016x}", h.next_u64())).collect();
    World {
        description: format!(
            "synthetic world: {nations} nations in {n_regions} regions, {firms} firms, \
             {commodities} commodities x {stages} stages, seed {seed}"
        ),
        source: SourceText::new("generated", ""),
        name,
        ticks_per_year: 12,
        expectation_weight: 0.5,
        hash,
        commodities: comms,
        markets,
        regions,
        nations: nation_list,
        firms: firm_list,
        trade: TradeCosts {
            default_usd_per_t: 400.0,
            overrides,
        },
        tariffs,
        licences,
        events: Vec::new(),
        adaptation: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chokepoint_engine::Simulation;

    use super::*;

    fn names_sorted<'a>(names: impl Iterator<Item = &'a String>) -> bool {
        let v: Vec<&String> = names.collect();
        v.windows(2).all(|w| w[0] < w[1])
    }

    #[test]
    fn generated_worlds_are_well_formed_and_deterministic() {
        for (n, f) in [(1, 5), (3, 30), (10, 100), (50, 2000)] {
            let w = generated_world(n, f, 10, 3, 7);
            assert_eq!(
                (w.nations.len(), w.firms.len(), w.markets.len()),
                (n, f, 30)
            );
            // Ids in name order, as validation would assign them.
            assert!(names_sorted(w.nations.iter().map(|x| &x.name)));
            assert!(names_sorted(w.firms.iter().map(|x| &x.name)));
            assert!(names_sorted(w.commodities.iter().map(|x| &x.name)));
            assert!(names_sorted(w.regions.iter()));
            for (c, comm) in w.commodities.iter().enumerate() {
                for (k, &m) in comm.markets.iter().enumerate() {
                    let def = &w.markets[m.index()];
                    assert_eq!(def.commodity.index(), c);
                    for &(im, r) in &def.inputs {
                        assert!(comm.markets[..k].contains(&im), "inputs come from upstream");
                        assert!((1.0..=3.0).contains(&r));
                        assert!(
                            def.reference_price_usd_per_t
                                > w.markets[im.index()].reference_price_usd_per_t
                        );
                    }
                }
            }
            for firm in &w.firms {
                assert!(firm.capacity_t_per_tick > 0.0 && firm.capacity_t_per_tick.is_finite());
                assert!(firm.mc_at_zero_usd_per_t <= firm.mc_at_capacity_usd_per_t);
            }
            for nation in &w.nations {
                assert!(nation.region < w.regions.len());
                // Every nation buys the final product of every chain.
                assert_eq!(
                    nation
                        .demand
                        .iter()
                        .filter(|d| w.markets[d.market.index()].stage == "product")
                        .count(),
                    10
                );
            }
            let again = generated_world(n, f, 10, 3, 7);
            assert_eq!(format!("{w:?}"), format!("{again:?}"));
        }
        let other = generated_world(10, 100, 10, 3, 8);
        assert_ne!(
            format!("{:?}", generated_world(10, 100, 10, 3, 7).firms),
            format!("{:?}", other.firms)
        );
    }

    #[test]
    fn generated_worlds_run() {
        for (n, f) in [(10, 100), (50, 2000)] {
            let mut sim = Simulation::new(Arc::new(generated_world(n, f, 10, 3, 42)), 1);
            for _ in 0..3 {
                let record = sim
                    .step()
                    .unwrap_or_else(|e| panic!("{n}x{f}: tick failed: {e}"));
                assert_eq!(record.clearing.len(), 30);
                assert!(!record.prices.is_empty());
            }
        }
    }

    /// Large worlds solve each level's markets in parallel, and make their rows of the
    /// tick record there: the state and the record after every tick must be
    /// bit-identical whatever the number of threads.
    #[test]
    fn parallel_clearing_does_not_depend_on_threads() {
        let world = Arc::new(generated_world(30, 600, 6, 3, 7));
        assert!(world.nations.len() >= 24, "must take the parallel path");
        let digests = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool");
            pool.install(|| {
                let mut sim = Simulation::new(world.clone(), 3);
                (0..6)
                    .map(|_| {
                        let record = format!("{:?}", sim.step().expect("tick"));
                        (sim.state_digest(), record)
                    })
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(digests(1), digests(2));
    }

    /// In large worlds markets list only the routes policies touch and leave the rest
    /// to the regional rule: every flow must still pay its tariff, no banned or
    /// unlicensed route may carry goods, and every route pays its world-file cost.
    #[test]
    fn routes_by_rule_keep_every_policy() {
        use chokepoint_engine::{ArcStatus, Policies, TradeCostTable};
        let mut world = generated_world(30, 600, 6, 3, 11);
        // A small tariff on everything nation 1 imports, low enough that it still buys
        // abroad: every one of those routes must be listed, not left to the rule.
        world.tariffs.push(chokepoint_world::TariffRule {
            importers: vec![NationId(1)],
            exporters: (0..30).map(NationId).collect(),
            markets: (0..world.markets.len() as u32).map(MarketId).collect(),
            rate: 0.03,
        });
        let world = Arc::new(world);
        let mut sim = Simulation::new(world.clone(), 5);
        let (mut tariffed, mut trade) = (0, 0);
        for _ in 0..6 {
            sim.step().expect("tick");
            let tick = sim.tick() - 1;
            let policies = sim.ecs().resource::<Policies>();
            let costs = sim.ecs().resource::<TradeCostTable>();
            for f in sim.record().flows.iter().filter(|f| f.from != f.to) {
                trade += 1;
                let c = world.markets[f.market.index()].commodity.index();
                let cost =
                    world.trade_cost(f.from, f.to, world.markets[f.market.index()].commodity);
                assert_eq!(costs.cost(c, f.from.index(), f.to.index()), cost);
                assert!(
                    !matches!(
                        policies.arc_status(f.market, f.from, f.to, tick),
                        ArcStatus::Closed
                    ),
                    "a closed route carried goods: {f:?}"
                );
                let rate = policies.tariff(f.market, f.to, f.from);
                let cif = f.value_usd;
                assert!(
                    (f.tariff_usd - rate * cif).abs() <= 1e-9 * cif.max(1.0),
                    "tariff {} on {f:?}, rate {rate}",
                    f.tariff_usd
                );
                tariffed += usize::from(rate > 0.0 && f.quantity_t > 0.0);
            }
        }
        assert!(
            trade > 1000 && tariffed > 0,
            "{trade} trade flows, {tariffed} tariffed"
        );
    }

    #[test]
    fn bundled_world_loads_and_runs() {
        let mut sim = Simulation::new(Arc::new(bundled_world()), 1);
        for _ in 0..3 {
            sim.step().expect("bundled world ticks");
        }
    }
}
