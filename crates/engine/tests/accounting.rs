//! The books catch a deliberately broken state: a real tick's opening and closing books
//! pass, and each kind of leak planted in them (goods that vanish, money paid to no one, a
//! NaN price, a stockpile that sells what it never held) is reported with the tick, the
//! entity and the amount.

use std::path::Path;
use std::sync::Arc;

use chokepoint_engine::accounting::{Books, ClosingBooks, audit};
use chokepoint_engine::{EngineError, PolicyAction, Simulation, TickRecord};
use chokepoint_world::{MarketId, NationId, World};

/// A mine in A, a smelter in B (buying A's ore), end users in B, a tariff on B's ore
/// imports, and a stockpile B buys metal for.
fn world() -> Arc<World> {
    let text = r#"
[world]
name = "books"
ticks_per_year = 1
[[commodity]]
name = "ore"
[[commodity.stage]]
name = "raw"
reference_price_usd_per_t = 100.0
[[commodity.stage]]
name = "metal"
reference_price_usd_per_t = 400.0
inputs = [{ stage = "raw", ratio = 2.0 }]
[[nation]]
name = "A"
region = "ra"
[[nation]]
name = "B"
region = "rb"
budget_usd = 100000.0
demand = [{ commodity = "ore", stage = "metal", reference_price_usd_per_t = 400.0, reference_quantity_tpy = 20.0, elasticity = 0.5 }]
[[firm]]
name = "mine"
nation = "A"
commodity = "ore"
stage = "raw"
capacity_tpy = 100.0
marginal_cost = { at_zero_usd_per_t = 20.0, at_capacity_usd_per_t = 150.0 }
[[firm]]
name = "smelter"
nation = "B"
commodity = "ore"
stage = "metal"
capacity_tpy = 40.0
marginal_cost = { at_zero_usd_per_t = 50.0, at_capacity_usd_per_t = 250.0 }
[trade]
default_usd_per_t = 5.0
[[tariff]]
importer = "B"
exporter = "A"
commodity = "ore"
rate = 0.1
"#;
    Arc::new(
        chokepoint_world::parse(Path::new("books.toml"), text).unwrap_or_else(|e| panic!("{e}")),
    )
}

const B: NationId = NationId(1);
const METAL: MarketId = MarketId(1);

/// Two ticks (the second with a stockpile purchase); the books and record of the last.
fn last_tick() -> (Arc<World>, Vec<String>, TickRecord, Books, Books) {
    let w = world();
    let mut sim = Simulation::new(w.clone(), 3);
    sim.step().unwrap();
    sim.submit(
        B,
        PolicyAction::StockpileBuy {
            market: METAL,
            t: 2.0,
            max_price: 10_000.0,
        },
    );
    let rec = sim.step().unwrap().clone();
    assert!(!rec.stockpiles.is_empty() && rec.stockpiles[0].bought_t > 0.0);
    assert!(
        rec.flows.iter().any(|f| f.tariff_usd > 0.0),
        "a tariff was paid"
    );
    let before = sim.ecs().resource::<Books>().clone();
    let after = sim.ecs().resource::<ClosingBooks>().0.clone();
    (w, sim.firm_names().to_vec(), rec, before, after)
}

fn broken(r: Result<(), EngineError>) -> (u64, String, String, f64) {
    match r {
        Err(EngineError::Invariant {
            tick,
            entity,
            what,
            amount,
        }) => (tick, entity, what, amount),
        other => panic!("the books should have caught it: {other:?}"),
    }
}

#[test]
fn a_real_tick_balances() {
    let (w, names, rec, before, after) = last_tick();
    audit(&w, &names, 1, &rec, &before, &after).unwrap();
}

#[test]
fn output_that_vanishes_is_caught() {
    let (w, names, rec, before, mut after) = last_tick();
    let smelter = names.iter().position(|n| n == "smelter").unwrap();
    after.firm_stocks[smelter].0 += 1.5;
    let (tick, entity, what, amount) = broken(audit(&w, &names, 1, &rec, &before, &after));
    assert_eq!((tick, entity.as_str()), (1, "firm smelter"));
    assert!(what.contains("output stock"), "{what}");
    assert!((amount - 1.5).abs() < 1e-9);
}

#[test]
fn input_used_but_never_held_is_caught() {
    let (w, names, mut rec, before, after) = last_tick();
    let smelter = names.iter().position(|n| n == "smelter").unwrap();
    // The smelter's ore purchase disappears from the record: it made metal from nothing.
    rec.consumption.retain(
        |c| !matches!(c.consumer, chokepoint_engine::Consumer::Firm(g) if g.index() == smelter),
    );
    let (_, entity, what, amount) = broken(audit(&w, &names, 1, &rec, &before, &after));
    assert_eq!(entity, "firm smelter");
    assert!(what.contains("used more ore/raw than it held"), "{what}");
    assert!(amount > 0.0);
}

#[test]
fn a_tariff_paid_twice_is_caught_at_the_flow_and_the_treasury() {
    let (w, names, mut rec, before, after) = last_tick();
    let k = rec.flows.iter().position(|f| f.tariff_usd > 0.0).unwrap();
    let extra = rec.flows[k].tariff_usd;
    rec.flows[k].tariff_usd *= 2.0;
    let (_, entity, what, amount) = broken(audit(&w, &names, 1, &rec, &before, &after));
    assert_eq!(entity, "flow of ore/raw from A to B");
    assert!(what.contains("payment"), "{what}");
    assert!(
        (amount + extra).abs() < 1e-6 * extra.max(1.0),
        "{amount} vs {extra}"
    );
}

#[test]
fn money_that_appears_in_a_treasury_is_caught() {
    let (w, names, rec, before, mut after) = last_tick();
    after.budgets_usd[B.index()] += 250.0;
    let (_, entity, what, amount) = broken(audit(&w, &names, 1, &rec, &before, &after));
    assert_eq!(entity, "nation B");
    assert!(what.contains("budget after"), "{what}");
    assert!((amount - 250.0).abs() < 1e-6);
}

#[test]
fn sellers_paid_less_than_the_goods_are_caught() {
    let (w, names, rec, before, mut after) = last_tick();
    let mine = names.iter().position(|n| n == "mine").unwrap();
    after.firm_revenue_usd[mine] -= 40.0;
    let (_, entity, what, amount) = broken(audit(&w, &names, 1, &rec, &before, &after));
    assert_eq!(entity, "market ore/raw");
    assert!(what.contains("receipts"), "{what}");
    assert!((amount + 40.0).abs() < 1e-6);
}

#[test]
fn a_stockpile_that_sells_what_it_never_held_is_caught() {
    let (w, names, mut rec, before, after) = last_tick();
    rec.stockpiles[0].sold_t += 5.0;
    let (_, entity, what, _) = broken(audit(&w, &names, 1, &rec, &before, &after));
    assert_eq!(entity, "stockpile of B in ore/metal");
    assert!(what.contains("holdings"), "{what}");
}

#[test]
fn nan_or_negative_prices_and_budgets_are_caught() {
    let (w, names, rec, before, after) = last_tick();
    let mut nan = after.clone();
    nan.supply_prices[0][0] = f64::NAN;
    let (_, entity, what, _) = broken(audit(&w, &names, 1, &rec, &before, &nan));
    assert_eq!(entity, "market ore/raw in A");
    assert!(what.contains("not a finite non-negative"), "{what}");
    let mut neg = after.clone();
    neg.supply_prices[1][1] = -3.0;
    let (_, entity, _, amount) = broken(audit(&w, &names, 1, &rec, &before, &neg));
    assert_eq!((entity.as_str(), amount), ("market ore/metal in B", -3.0));
    let mut broke = after.clone();
    broke.budgets_usd[B.index()] = f64::NAN;
    let (_, entity, what, _) = broken(audit(&w, &names, 1, &rec, &before, &broke));
    assert_eq!(entity, "nation B");
    assert!(what.contains("not finite"), "{what}");
    // A deficit is allowed, but not one that comes from nowhere.
    let mut leak = after;
    leak.budgets_usd[B.index()] -= 1.0e6;
    let (_, entity, what, amount) = broken(audit(&w, &names, 1, &rec, &before, &leak));
    assert_eq!(entity, "nation B");
    assert!(what.contains("budget after"), "{what}");
    assert!((amount + 1.0e6).abs() < 1.0, "{amount}");
}
