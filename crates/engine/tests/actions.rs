//! Strategies' actions as the engine applies them: floors held by a variable levy,
//! stockpile orders, financed capacity arriving after its build lag.

use std::path::Path;
use std::sync::Arc;

use chokepoint_engine::{PolicyAction, Simulation};
use chokepoint_world::{MarketId, NationId, World};

fn world(extra: &str) -> Arc<World> {
    let text = format!(
        r#"
[world]
name = "actions"
ticks_per_year = 1
[[commodity]]
name = "ore"
[[commodity.stage]]
name = "raw"
reference_price_usd_per_t = 100.0
build_lag_ticks = 3
[[nation]]
name = "A"
region = "ra"
budget_usd = 1000000.0
[[nation]]
name = "B"
region = "rb"
budget_usd = 50000.0
demand = [{{ commodity = "ore", stage = "raw", reference_price_usd_per_t = 100.0, reference_quantity_tpy = 60.0, elasticity = 0.5 }}]
[[firm]]
name = "mine"
nation = "A"
commodity = "ore"
stage = "raw"
capacity_tpy = 200.0
marginal_cost = {{ at_zero_usd_per_t = 0.0, at_capacity_usd_per_t = 200.0 }}
[trade]
default_usd_per_t = 5.0
{extra}
"#
    );
    Arc::new(
        chokepoint_world::parse(Path::new("actions.toml"), &text).unwrap_or_else(|e| panic!("{e}")),
    )
}

const A: NationId = NationId(0);
const B: NationId = NationId(1);
const ORE: MarketId = MarketId(0);

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-3 * want.abs().max(1e-9),
        "{what}: got {got}, analytic {want}"
    );
}

#[test]
fn a_floor_makes_imports_pay_the_gap_and_holds_the_importer_price_at_the_floor() {
    // Free trade: S_A(s) = s (200 / 200) = s; D_B(p) = 60 (1.5) - 0.3 p; p = s + 5.
    // s = 90 - 0.3 (s + 5) -> s = 88.5 / 1.3 = 68.08, landed 73.08.
    let floor = 100.0;
    let w = world("");
    let mut sim = Simulation::new(w, 1);
    sim.submit(
        B,
        PolicyAction::SetFloor {
            market: ORE,
            floor_usd_per_t: floor,
        },
    );
    let rec = sim.step().unwrap().clone();
    let price_b = rec
        .prices
        .iter()
        .find(|p| p.nation == B)
        .unwrap()
        .price_usd_per_t;
    // With the floor binding, B pays F: demand 90 - 0.3 F = 60 flows, A sells 60 at s = 60.
    close(price_b, floor, "importer price held at the floor");
    let f = rec.flows.iter().find(|f| f.from == A && f.to == B).unwrap();
    close(f.quantity_t, 90.0 - 0.3 * floor, "flow at the floor price");
    let s_a = f.quantity_t; // S_A(s) = s
    close(
        f.levy_usd,
        (floor - (s_a + 5.0)) * f.quantity_t,
        "levy = (floor - landed) x quantity",
    );
    assert!(sim.budget_usd(B) > 50000.0, "the levy is B's revenue");
}

#[test]
fn a_floor_below_the_landed_price_collects_nothing() {
    let mut sim = Simulation::new(world(""), 1);
    sim.submit(
        B,
        PolicyAction::SetFloor {
            market: ORE,
            floor_usd_per_t: 10.0,
        },
    );
    let rec = sim.step().unwrap();
    assert!(rec.flows.iter().all(|f| f.levy_usd == 0.0));
}

#[test]
fn stockpile_buys_within_its_price_limit_and_pays_from_the_budget() {
    let mut sim = Simulation::new(world(""), 1);
    sim.submit(
        B,
        PolicyAction::StockpileBuy {
            market: ORE,
            t: 10.0,
            max_price: 500.0,
        },
    );
    let rec = sim.step().unwrap().clone();
    let row = &rec.stockpiles[0];
    close(
        row.bought_t,
        10.0,
        "bought all it asked for below its price limit",
    );
    close(row.holdings_t, 10.0, "holdings");
    let price_b = rec
        .prices
        .iter()
        .find(|p| p.nation == B)
        .unwrap()
        .price_usd_per_t;
    close(row.spent_usd, 10.0 * price_b, "paid the local price");
    close(
        sim.budget_usd(B),
        50000.0 - 10.0 * price_b,
        "budget after the purchase",
    );
    // Next tick: release 4 t at any price; the stockpile sells them and holdings fall.
    sim.submit(
        B,
        PolicyAction::StockpileRelease {
            market: ORE,
            t: 4.0,
            min_price: 0.0,
        },
    );
    let rec = sim.step().unwrap().clone();
    close(rec.stockpiles[0].sold_t, 4.0, "released");
    close(rec.stockpiles[0].holdings_t, 6.0, "holdings after release");
}

#[test]
fn a_stockpile_cannot_spend_more_than_its_owners_budget() {
    let mut sim = Simulation::new(world(""), 1);
    // 50,000 USD at up to 10,000 USD/t buys at most 5 t whatever the order says.
    sim.submit(
        B,
        PolicyAction::StockpileBuy {
            market: ORE,
            t: 1000.0,
            max_price: 10_000.0,
        },
    );
    let rec = sim.step().unwrap().clone();
    assert!(
        rec.stockpiles[0].bought_t <= 5.0 * (1.0 + 1e-6),
        "{:?}",
        rec.stockpiles[0]
    );
    assert!(sim.budget_usd(B) >= -1e-6);
}

#[test]
fn financed_capacity_arrives_exactly_after_the_build_lag() {
    let mut sim = Simulation::new(world(""), 1);
    sim.step().unwrap();
    // Tick 1: A finances 50 t/yr in B; lag 3 -> online at tick 4.
    sim.submit(
        A,
        PolicyAction::Invest {
            market: ORE,
            host: B,
            t_per_year: 50.0,
            usd_per_tpy: 1000.0,
        },
    );
    let mut online = None;
    for _ in 1..8 {
        let rec = sim.step().unwrap().clone();
        if rec.events.iter().any(|e| e.kind == "capacity_online") {
            online = Some(rec.tick);
            assert!(
                rec.production
                    .iter()
                    .any(|p| p.nation == B && p.capacity_t == 50.0),
                "the new plant produces in B"
            );
        }
    }
    assert_eq!(online, Some(4));
    close(sim.budget_usd(A), 1_000_000.0 - 50_000.0, "the funder paid");
    assert!(sim.firm_names().iter().any(|n| n.contains("financed by A")));
}

#[test]
fn an_investment_beyond_the_budget_is_rejected_with_an_event() {
    let mut sim = Simulation::new(world(""), 1);
    sim.submit(
        B,
        PolicyAction::Invest {
            market: ORE,
            host: B,
            t_per_year: 1000.0,
            usd_per_tpy: 1000.0,
        },
    );
    let rec = sim.step().unwrap();
    assert!(
        rec.events
            .iter()
            .any(|e| e.kind == "action_rejected" && e.detail.contains("budget"))
    );
}
