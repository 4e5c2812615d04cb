//! The negotiation tables: one row per move with tick and round apart, agreements with
//! their standing, deliveries made before the spot market.

use std::path::Path;
use std::sync::Arc;

use chokepoint_engine::negotiation::{Channel, NegAction, Term};
use chokepoint_engine::{PolicyAction, Simulation};
use chokepoint_tables::CsvTables;
use chokepoint_world::{MarketId, NationId};

const WORLD: &str = r#"
[world]
name = "tables"
ticks_per_year = 12

[[commodity]]
name = "ore"
[[commodity.stage]]
name = "raw"
reference_price_usd_per_t = 100.0

[[nation]]
name = "B"
region = "r"
budget_usd = 1e6
demand = [{ commodity = "ore", stage = "raw", reference_price_usd_per_t = 100.0, reference_quantity_tpy = 600.0, elasticity = 0.5 }]

[[nation]]
name = "S"
region = "r"
budget_usd = 1e6

[[firm]]
name = "mine"
nation = "S"
commodity = "ore"
stage = "raw"
capacity_tpy = 1200.0
marginal_cost = { at_zero_usd_per_t = 20.0, at_capacity_usd_per_t = 120.0 }
"#;

#[test]
fn negotiation_tables_keep_tick_and_round_apart() {
    let w = Arc::new(chokepoint_world::parse(Path::new("t.toml"), WORLD).unwrap());
    let (b, s) = (NationId(0), NationId(1));
    let dir = std::env::temp_dir().join(format!("chokepoint-neg-tables-{}", std::process::id()));
    let mut tables = CsvTables::create(&dir).unwrap();
    let mut sim = Simulation::new(w.clone(), 1);
    sim.step().unwrap();
    tables
        .write_tick(&w, sim.firm_names(), sim.record())
        .unwrap();
    let offtake = Term::Offtake {
        seller: s,
        buyer: b,
        market: MarketId(0),
        t_per_tick: 10.0,
        price_usd_per_t: 70.0,
        duration_ticks: 2,
        penalty_usd: 0.0,
    };
    sim.submit(
        s,
        PolicyAction::Negotiate {
            round: 0,
            action: NegAction::Open {
                counterparty: b,
                channel: Channel::Private,
                discount: [0.9, 0.9],
                time_cost_usd: [0.0, 0.0],
                deadline_rounds: 4,
                deadline_ticks: 2,
                terms: vec![offtake],
            },
        },
    );
    sim.submit(
        b,
        PolicyAction::Negotiate {
            round: 2,
            action: NegAction::Accept { session: 1 },
        },
    );
    sim.step().unwrap();
    tables
        .write_tick(&w, sim.firm_names(), sim.record())
        .unwrap();
    tables.flush().unwrap();
    let read = |t: &str| std::fs::read_to_string(dir.join(format!("{t}.csv"))).unwrap();
    let rounds = read("negotiation_rounds");
    assert_eq!(
        rounds.lines().collect::<Vec<_>>(),
        vec![
            "tick,round,session,session_round,nation,action,outcome,detail",
            "1,0,1,1,S,open,ok,",
            "1,2,1,1,B,accept,agreed,",
        ]
    );
    let agreements = read("agreements");
    let row = agreements.lines().nth(1).unwrap();
    assert!(
        row == "1,1,1,bilateral,active,S;B,1,2,1,0,\"offtake S->B ore/raw 10 t/tick at 70 USD/t for 2 ticks, penalty 0 USD\"",
        "{row}"
    );
    let deliveries = read("deliveries");
    assert_eq!(
        deliveries.lines().nth(1).unwrap(),
        "1,1,ore,raw,S,B,10,10,70,10"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
