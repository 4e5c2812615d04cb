//! Invariants over random worlds: goods are conserved every tick, runs are
//! reproducible, and a broken invariant stops the run naming tick and entity.

use std::fmt::Write;
use std::path::Path;
use std::sync::Arc;

use chokepoint_engine::components::{Firm, Plant, Stocks};
use chokepoint_engine::{Consumer, EngineError, Index, Simulation};
use chokepoint_world::World;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct FirmSpec {
    nation: usize,
    stage: usize,
    capacity: f64,
    mc0: f64,
    span: f64,
    stock: f64,
}

#[derive(Debug, Clone)]
struct Spec {
    nations: usize,
    stages: usize,
    ratios: Vec<f64>,
    firms: Vec<FirmSpec>,
    demand: Vec<(usize, f64, f64)>,
    trade_cost: f64,
    bans: Vec<(usize, usize, usize)>,
    tariffs: Vec<(usize, usize, f64)>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (1usize..=4, 1usize..=3).prop_flat_map(|(nations, stages)| {
        (
            Just(nations),
            Just(stages),
            prop::collection::vec(0.5f64..3.0, stages),
            prop::collection::vec(
                (
                    0..nations,
                    0..stages,
                    1.0f64..500.0,
                    1.0f64..200.0,
                    0.0f64..300.0,
                    prop_oneof![Just(0.0), 0.0f64..50.0],
                ),
                1..10,
            ),
            prop::collection::vec((0..nations, 10.0f64..400.0, 0.05f64..2.0), 1..5),
            0.0f64..30.0,
            prop::collection::vec((0..nations, 0..nations, 0..stages), 0..3),
            prop::collection::vec((0..nations, 0..nations, 0.0f64..1.0), 0..3),
        )
            .prop_map(
                |(nations, stages, ratios, firms, demand, trade_cost, bans, tariffs)| Spec {
                    nations,
                    stages,
                    ratios,
                    firms: firms
                        .into_iter()
                        .map(|(nation, stage, capacity, mc0, span, stock)| FirmSpec {
                            nation,
                            stage,
                            capacity,
                            mc0,
                            span,
                            stock,
                        })
                        .collect(),
                    demand,
                    trade_cost,
                    bans,
                    tariffs,
                },
            )
    })
}

fn world_text(s: &Spec) -> String {
    let mut t = String::from(
        "[world]\nname = \"random\"\nticks_per_year = 4\n[[commodity]]\nname = \"c\"\n",
    );
    for k in 0..s.stages {
        let _ = write!(
            t,
            "[[commodity.stage]]\nname = \"s{k}\"\nreference_price_usd_per_t = {:?}\n",
            100.0 * (k + 1) as f64
        );
        if k > 0 {
            let _ = writeln!(
                t,
                "inputs = [{{ stage = \"s{}\", ratio = {:?} }}]",
                k - 1,
                s.ratios[k]
            );
        }
    }
    for n in 0..s.nations {
        let _ = writeln!(t, "[[nation]]\nname = \"n{n}\"\nregion = \"r{}\"", n % 2);
        let demands: Vec<String> = s
            .demand
            .iter()
            .filter(|d| d.0 == n)
            .map(|d| {
                format!(
                    "{{ commodity = \"c\", stage = \"s{}\", reference_price_usd_per_t = {:?}, reference_quantity_tpy = {:?}, elasticity = {:?} }}",
                    s.stages - 1,
                    100.0 * s.stages as f64,
                    d.1,
                    d.2
                )
            })
            .collect();
        if !demands.is_empty() {
            let _ = writeln!(t, "demand = [{}]", demands.join(", "));
        }
    }
    for (i, f) in s.firms.iter().enumerate() {
        let _ = writeln!(
            t,
            "[[firm]]\nname = \"f{i}\"\nnation = \"n{}\"\ncommodity = \"c\"\nstage = \"s{}\"\ncapacity_tpy = {:?}\nmarginal_cost = {{ at_zero_usd_per_t = {:?}, at_capacity_usd_per_t = {:?} }}\ninventory_t = {:?}",
            f.nation,
            f.stage,
            f.capacity,
            f.mc0,
            f.mc0 + f.span,
            f.stock
        );
    }
    let _ = writeln!(t, "[trade]\ndefault_usd_per_t = {:?}", s.trade_cost);
    for &(x, d, k) in &s.bans {
        let _ = writeln!(
            t,
            "[[licence]]\nexporter = \"n{x}\"\ndestination = \"n{d}\"\ncommodity = \"c\"\nstage = \"s{k}\"\nkind = \"ban\""
        );
    }
    for &(i, x, r) in &s.tariffs {
        let _ = writeln!(
            t,
            "[[tariff]]\nimporter = \"n{i}\"\nexporter = \"n{x}\"\ncommodity = \"c\"\nrate = {r:?}"
        );
    }
    t
}

fn load(text: &str) -> Arc<World> {
    Arc::new(
        chokepoint_world::parse(Path::new("random.toml"), text)
            .unwrap_or_else(|e| panic!("{e}\n{text}")),
    )
}

/// Goods held per market: firms' unsold output plus downstream firms' input stocks.
fn stocks_by_market(sim: &Simulation) -> Vec<f64> {
    let w = sim.world_def().clone();
    let mut held = vec![0.0; w.markets.len()];
    let index = sim.ecs().resource::<Index>().clone();
    for &e in &index.firms {
        let firm = sim.ecs().get::<Firm>(e).unwrap();
        let stocks = sim.ecs().get::<Stocks>(e).unwrap();
        held[firm.market.index()] += stocks.output_t;
        for (slot, &(input, _)) in w.markets[firm.market.index()].inputs.iter().enumerate() {
            held[input.index()] += stocks.inputs_t[slot];
        }
    }
    held
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    /// produced + stocks at start = consumed by end users + used as inputs + stocks at end,
    /// per market, every tick.
    #[test]
    fn goods_are_conserved_every_tick(s in spec()) {
        let text = world_text(&s);
        let w = load(&text);
        let mut sim = Simulation::new(w.clone(), 3);
        for _ in 0..8 {
            let before = stocks_by_market(&sim);
            let rec = sim.step().map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?.clone();
            let after = stocks_by_market(&sim);
            for m in 0..w.markets.len() {
                let produced: f64 = rec.production.iter().filter(|p| p.market.index() == m).map(|p| p.produced_t).sum();
                let consumed: f64 = rec.consumption.iter().filter(|c| c.market.index() == m && matches!(c.consumer, Consumer::EndUse { .. })).map(|c| c.obtained_t).sum();
                let used: f64 = rec.production.iter().map(|p| {
                    w.markets[p.market.index()].inputs.iter().filter(|(i, _)| i.index() == m).map(|(_, r)| r * p.produced_t).sum::<f64>()
                }).sum();
                let lhs = produced + before[m];
                let rhs = consumed + used + after[m];
                let scale = lhs.abs().max(rhs.abs()).max(1.0);
                prop_assert!((lhs - rhs).abs() <= 1e-9 * scale,
                    "tick {} market {m}: produced {produced} + stocks {} != consumed {consumed} + used {used} + stocks {}\n{text}", rec.tick, before[m], after[m]);
            }
            for p in &rec.prices {
                prop_assert!(p.price_usd_per_t.is_finite() && p.price_usd_per_t >= 0.0);
            }
        }
    }

    /// Same world and seed, same records, bit for bit.
    #[test]
    fn same_world_and_seed_give_identical_records(s in spec()) {
        let w = load(&world_text(&s));
        let run = || {
            let mut sim = Simulation::new(w.clone(), 11);
            (0..6).map(|_| format!("{:?}", sim.step().unwrap())).collect::<Vec<_>>()
        };
        prop_assert_eq!(run(), run());
    }
}

#[test]
fn a_negative_stock_stops_the_run_naming_tick_and_firm() {
    let text = world_text(&Spec {
        nations: 1,
        stages: 1,
        ratios: vec![1.0],
        firms: vec![FirmSpec {
            nation: 0,
            stage: 0,
            capacity: 100.0,
            mc0: 10.0,
            span: 50.0,
            stock: 0.0,
        }],
        demand: vec![(0, 50.0, 0.5)],
        trade_cost: 0.0,
        bans: vec![],
        tariffs: vec![],
    });
    let w = load(&text);
    let mut sim = Simulation::new(w, 1);
    sim.step().unwrap();
    let e = sim.ecs().resource::<Index>().firms[0];
    sim.ecs_mut().get_mut::<Stocks>(e).unwrap().output_t = -5.0;
    match sim.step() {
        Err(EngineError::Invariant {
            tick,
            entity,
            amount,
            ..
        }) => {
            assert_eq!(tick, 1);
            assert_eq!(entity, "firm f0");
            assert!(
                amount < 0.0,
                "the amount names the negative quantity: {amount}"
            );
        }
        other => panic!("expected an invariant violation, got {other:?}"),
    }
}

/// Firms are stored market by market, not in id order, and the invariant check walks
/// them in storage order: when two firms hold a bad stock it must still name the one
/// with the lower id, as a walk in id order would.
#[test]
fn a_bad_stock_names_the_lowest_firm_id_whatever_the_storage_order() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../worlds/critical-minerals-2026.toml");
    let world = Arc::new(chokepoint_world::load(&path).unwrap_or_else(|e| panic!("{e}")));
    let mut sim = Simulation::new(world.clone(), 1);
    sim.step().unwrap();
    // A slot no firm's stage uses: only the invariant check reads it.
    let slot = chokepoint_world::MAX_INPUTS_PER_STAGE - 1;
    assert!(world.markets.iter().all(|m| m.inputs.len() <= slot));
    // Two firms whose storage order is the reverse of their id order.
    let index = sim.ecs().resource::<Index>().clone();
    let market_of = |id: usize| world.firms[id].market.index();
    let (low, high) = (0..world.firms.len())
        .flat_map(|a| (a + 1..world.firms.len()).map(move |b| (a, b)))
        .find(|&(a, b)| market_of(b) < market_of(a))
        .expect("firms of a later market with lower ids");
    for id in [high, low] {
        sim.ecs_mut()
            .get_mut::<Stocks>(index.firms[id])
            .unwrap()
            .inputs_t[slot] = f64::NAN;
    }
    match sim.step() {
        Err(EngineError::Invariant { entity, what, .. }) => {
            assert_eq!(entity, format!("firm {}", world.firms[low].name));
            assert!(what.contains("input stock"), "{what}");
        }
        other => panic!("expected an invariant violation, got {other:?}"),
    }
}

/// From 10,000 firms the invariant check and the books run at once; a state both reject
/// must still be reported as the invariant check names it (it ran first when they ran
/// one after the other).
#[test]
fn with_the_checks_in_parallel_an_invariant_violation_is_reported_before_the_books() {
    let nations = 30;
    let text = world_text(&Spec {
        nations,
        stages: 2,
        ratios: vec![1.0, 1.5],
        firms: (0..10_500)
            .map(|i| FirmSpec {
                nation: i % nations,
                stage: i % 2,
                capacity: 100.0 + (i % 7) as f64,
                mc0: 10.0 + (i % 11) as f64,
                span: 50.0,
                stock: 1.0,
            })
            .collect(),
        demand: (0..nations).map(|n| (n, 5_000.0, 0.5)).collect(),
        trade_cost: 5.0,
        bans: vec![],
        tariffs: vec![],
    });
    let world = load(&text);
    let mut sim = Simulation::new(world.clone(), 1);
    sim.step().unwrap();
    // A negative stock the firm cannot sell from (its costs are far above any price),
    // so it is still negative at the close: the invariant check names the stock, the
    // books the stock that did not move as the tick's rows say.
    let e = sim.ecs().resource::<Index>().firms[1_234];
    sim.ecs_mut().get_mut::<Stocks>(e).unwrap().output_t = -5.0;
    let mut plant = sim.ecs_mut().get_mut::<Plant>(e).unwrap();
    plant.mc_at_zero_usd_per_t = 1e12;
    plant.mc_at_capacity_usd_per_t = 2e12;
    match sim.step() {
        Err(EngineError::Invariant { entity, what, .. }) => {
            assert_eq!(entity, format!("firm {}", world.firms[1_234].name));
            assert_eq!(what, "output stock is negative or not finite");
        }
        other => panic!("expected an invariant violation, got {other:?}"),
    }
}
