//! Adaptation against paths known on paper: partial adjustment of demand, hysteresis
//! after a spike, recycled supply in steady state, firms' investment arriving exactly
//! after its lag and only when the price rule says so, and the levers.
//!
//! Supply in the demand tests is flat (marginal cost constant over a large capacity),
//! so the price is set by cost and the demand path can be compared with the closed form
//! at a tight tolerance: the only gap is the solver's 1e-9-wide ramp at the flat cost.

use std::path::Path;
use std::sync::Arc;

use chokepoint_engine::{Consumer, PolicyAction, Simulation, TickRecord};
use chokepoint_world::{Lever, MarketId, NationId, World};

/// Relative tolerance of the closed-form comparisons.
const TOL: f64 = 1e-6;

fn world(text: &str) -> Arc<World> {
    Arc::new(
        chokepoint_world::parse(Path::new("adapt.toml"), text).unwrap_or_else(|e| panic!("{e}")),
    )
}

fn close(got: f64, want: f64, what: &str) {
    let rel = (got - want).abs() / want.abs().max(1e-12);
    assert!(
        rel <= TOL,
        "{what}: got {got}, analytic {want} (relative error {rel:.2e} > {TOL})"
    );
}

fn end_use_obtained(rec: &TickRecord) -> f64 {
    rec.consumption
        .iter()
        .filter(|c| matches!(c.consumer, Consumer::EndUse { .. }))
        .map(|c| c.obtained_t)
        .sum()
}

fn price(rec: &TickRecord) -> f64 {
    rec.prices[0].price_usd_per_t
}

fn events<'a>(rec: &'a TickRecord, kind: &str) -> Vec<&'a str> {
    rec.events
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| e.detail.as_str())
        .collect()
}

/// One nation, one stage, one tick per year. `demand` is the rest of the demand entry.
fn one_market(demand: &str, firms: &str, extra: &str) -> String {
    format!(
        r#"
[world]
name = "adapt"
ticks_per_year = 1
[[commodity]]
name = "metal"
[[commodity.stage]]
name = "refined"
reference_price_usd_per_t = 100.0
[[nation]]
name = "A"
region = "ra"
budget_usd = 1.0e9
demand = [{{ commodity = "metal", stage = "refined", reference_price_usd_per_t = 100.0, reference_quantity_tpy = 1000.0, {demand} }}]
{firms}
{extra}
"#
    )
}

fn flat_firm(name: &str, cost: f64, capacity: f64) -> String {
    format!(
        "[[firm]]\nname = \"{name}\"\nnation = \"A\"\ncommodity = \"metal\"\nstage = \"refined\"\ncapacity_tpy = {capacity:?}\nmarginal_cost = {{ at_zero_usd_per_t = {cost:?}, at_capacity_usd_per_t = {cost:?} }}\n"
    )
}

fn run(w: &Arc<World>, ticks: u64) -> Vec<TickRecord> {
    let mut sim = Simulation::new(w.clone(), 1);
    (0..ticks)
        .map(|_| sim.step().unwrap_or_else(|e| panic!("{e}")).clone())
        .collect()
}

#[test]
fn partial_adjustment_follows_the_geometric_path_to_the_long_run_quantity() {
    // Price held at 150 by a flat cost; reference 100. Short-run elasticity 0.2 at once,
    // long-run 0.8, half-life 2 years: lambda = 1 - 2^(-1/2).
    let (e_short, e_long, half_life, p, p0, q0) = (0.2, 0.8, 2.0, 150.0, 100.0, 1000.0);
    let w = world(&one_market(
        &format!(
            "elasticity = {e_short}, form = \"isoelastic\", long_run_elasticity = {e_long}, adjustment_half_life_years = {half_life}"
        ),
        &flat_firm("smelter", p, 1.0e7),
        "",
    ));
    let recs = run(&w, 80);
    let lambda = 1.0 - 0.5f64.powf(1.0 / half_life);
    let short_run = q0 * (p / p0).powf(-e_short);
    let long_run = q0 * (p / p0).powf(-e_long);
    for (t, rec) in recs.iter().enumerate() {
        close(price(rec), p, "price held by the flat cost");
        // Q_t - Q_LR = (1 - lambda)^t (Q_0 - Q_LR), with Q_0 the short-run quantity.
        let want = long_run + (1.0 - lambda).powi(t as i32) * (short_run - long_run);
        close(end_use_obtained(rec), want, &format!("demand at tick {t}"));
        close(
            rec.substitution[0].target_share,
            1.0 - (p / p0).powf(-(e_long - e_short)),
            "long-run target share",
        );
    }
    // Half the gap closes in one half-life, and the path ends at the long-run quantity.
    let gap = |t: usize| end_use_obtained(&recs[t]) - long_run;
    close(gap(2) / gap(0), 0.5, "gap after one half-life");
    close(end_use_obtained(&recs[79]), long_run, "long-run quantity");
}

/// Flat supply at 100 (firm `cheap`) and at 200 (firm `dear`); `cheap` is knocked out
/// for ticks 10..30 so the price spikes to 200 and returns to the reference.
fn spike(hysteresis: f64) -> (Arc<World>, f64) {
    let text = one_market(
        &format!(
            "elasticity = 0.1, form = \"isoelastic\", long_run_elasticity = 0.6, adjustment_half_life_years = 3.0, hysteresis = {hysteresis}"
        ),
        &(flat_firm("cheap", 100.0, 1.0e4) + &flat_firm("dear", 200.0, 1.0e7)),
        r#"
[[event]]
tick = 10
kind = "capacity_shock"
firm = "cheap"
factor = 1.0e-4
[[event]]
tick = 30
kind = "capacity_shock"
firm = "cheap"
factor = 1.0e4
"#,
    );
    (world(&text), hysteresis)
}

#[test]
fn with_hysteresis_demand_stays_below_its_pre_spike_level_by_the_set_share() {
    let lambda = 1.0 - 0.5f64.powf(1.0 / 3.0);
    let target = 1.0 - 2.0f64.powf(-0.5);
    // Twenty ticks at 200 from no substitution: sigma_peak = sigma* (1 - (1 - lambda)^20).
    let peak = target * (1.0 - (1.0 - lambda).powi(20));
    for eta in [0.0, 0.4, 1.0] {
        let (w, _) = spike(eta);
        let recs = run(&w, 150);
        let before = end_use_obtained(&recs[9]);
        close(before, 1000.0, "demand before the spike");
        close(price(&recs[20]), 200.0, "price in the spike");
        close(price(&recs[40]), 100.0, "price after the spike");
        close(
            recs[29].substitution[0].substitution_share,
            peak,
            "substitution at the end of the spike",
        );
        // Back at the reference price, only the permanent part eta * peak remains.
        let after = end_use_obtained(&recs[149]);
        let want = 1000.0 * (1.0 - eta * peak);
        if eta == 0.0 {
            close(after, before, "without hysteresis demand returns");
        } else {
            close(
                after,
                want,
                &format!("demand after the spike, hysteresis {eta}"),
            );
            close(
                1.0 - after / before,
                eta * peak,
                "shortfall = hysteresis x substitution adopted",
            );
        }
    }
}

/// One stage consumed by end users; scrap of it returns as the same stage.
fn recycling_world(extra: &str) -> Arc<World> {
    world(&format!(
        r#"
[world]
name = "recycling"
ticks_per_year = 12
[[commodity]]
name = "metal"
[[commodity.stage]]
name = "refined"
reference_price_usd_per_t = 100.0
[[nation]]
name = "A"
region = "ra"
budget_usd = 1.0e9
demand = [{{ commodity = "metal", stage = "refined", reference_price_usd_per_t = 100.0, reference_quantity_tpy = 1200.0, elasticity = 0.3 }}]
[[firm]]
name = "smelter"
nation = "A"
commodity = "metal"
stage = "refined"
capacity_tpy = 2400.0
marginal_cost = {{ at_zero_usd_per_t = 50.0, at_capacity_usd_per_t = 150.0 }}
[[recycling]]
commodity = "metal"
from_stage = "refined"
to_stage = "refined"
collection_rate = 0.4
yield = 0.9
lifetime = {{ family = "discrete", years = [1.0, 2.0], shares = [0.5, 0.5] }}
build_lag_ticks = 6
[[recycler]]
name = "urban-mine"
nation = "A"
commodity = "metal"
stage = "refined"
capacity_tpy = 1200.0
marginal_cost = {{ at_zero_usd_per_t = 10.0, at_capacity_usd_per_t = 20.0 }}
{extra}
"#
    ))
}

#[test]
fn in_steady_state_recycled_supply_is_collected_scrap_times_yield() {
    // Demand doubles at tick 6; scrap follows consumption 12 and 24 ticks later.
    let w = recycling_world(
        "[[event]]\ntick = 6\nkind = \"demand_shock\"\nnation = \"A\"\ncommodity = \"metal\"\nfactor = 2.0\n",
    );
    let recs = run(&w, 400);
    let consumed: Vec<f64> = recs.iter().map(end_use_obtained).collect();
    for (t, rec) in recs.iter().enumerate() {
        let r = &rec.recycling[0];
        // Arising = 0.5 C(t-12) + 0.5 C(t-24), with the history before tick 0 at the
        // reference consumption of 100 t/tick.
        let c = |k: usize| if t >= k { consumed[t - k] } else { 100.0 };
        close(
            r.scrap_arising_t,
            0.5 * c(12) + 0.5 * c(24),
            "scrap arising",
        );
        close(r.collected_t, 0.4 * r.scrap_arising_t, "collected scrap");
        // Plant capacity (100 t/tick) is ample and the price covers its cost, so all
        // collected scrap is recycled the tick it arrives, and sold.
        close(
            r.recycled_t,
            0.9 * r.collected_t,
            "recycled = collected x yield",
        );
        close(r.recycled_sold_t, r.recycled_t, "recycled output sold");
        assert!(r.scrap_stock_t.abs() < 1e-9, "no scrap left over");
    }
    // New steady state (recycled supply feeds back on consumption, so the path settles
    // over several lifetimes): consumption C constant, and
    // recycled supply 0.4 x 0.9 x C.
    let last = &recs[399].recycling[0];
    close(consumed[399], consumed[398], "steady consumption");
    close(
        last.recycled_t,
        0.36 * consumed[399],
        "steady-state recycled supply",
    );
    let supplied: f64 = recs[399]
        .production
        .iter()
        .map(|p| p.produced_t + p.sold_from_stock_t)
        .sum();
    close(last.supply_t, supplied, "the nation's supply");
    assert!(
        last.recycled_sold_t / last.supply_t > 0.1,
        "recycling is a real share of supply"
    );
}

#[test]
fn a_recycling_subsidy_brings_scrap_to_market_that_does_not_pay_without_it() {
    // Plant cost 110..130 against a price below 100: nothing recycled until a 30 USD/t
    // subsidy from tick 4; then the plant works where expected price + 30 meets its cost.
    let w = recycling_world(
        r#"
[[event]]
tick = 4
kind = "recycling_subsidy"
nation = "A"
commodity = "metal"
stage = "refined"
usd_per_t = 30.0
"#,
    );
    let text = w.source.text.replace(
        "at_zero_usd_per_t = 10.0, at_capacity_usd_per_t = 20.0",
        "at_zero_usd_per_t = 110.0, at_capacity_usd_per_t = 130.0",
    );
    let w = world(&text);
    let mut sim = Simulation::new(w.clone(), 1);
    let mut budget = sim.budget_usd(NationId(0));
    for t in 0..12 {
        let rec = sim.step().unwrap().clone();
        let r = &rec.recycling[0];
        if t < 4 {
            assert_eq!(r.recycled_t, 0.0, "tick {t}: recycling does not pay");
        } else {
            assert!(r.recycled_t > 0.0, "tick {t}: subsidised recycling");
            close(r.subsidy_usd, 30.0 * r.recycled_t, "subsidy paid per tonne");
            close(
                budget - sim.budget_usd(NationId(0)),
                r.subsidy_usd,
                "paid from the treasury",
            );
        }
        budget = sim.budget_usd(NationId(0));
    }
}

#[test]
fn financed_recycling_capacity_arrives_after_the_streams_build_lag() {
    let w = recycling_world("");
    let mut sim = Simulation::new(w.clone(), 1);
    sim.step().unwrap();
    let before = sim.budget_usd(NationId(0));
    sim.submit(
        NationId(0),
        PolicyAction::Lever(Lever::FundRecycling {
            market: MarketId(0),
            t_per_year: 600.0,
            usd_per_tpy: 1000.0,
        }),
    );
    let rec = sim.step().unwrap().clone(); // tick 1: paid, online at tick 1 + 6
    assert_eq!(
        events(&rec, "recycling_investment").len(),
        1,
        "{:?}",
        rec.events
    );
    close(
        before - sim.budget_usd(NationId(0)),
        600_000.0,
        "cost paid now",
    );
    assert_eq!(rec.pipeline.len(), 1);
    assert_eq!(rec.pipeline[0].arrives_at_tick, 7);
    for t in 2..=7 {
        let rec = sim.step().unwrap().clone();
        let online = events(&rec, "recycling_online").len();
        assert_eq!(online, usize::from(t == 7), "tick {t}: {:?}", rec.events);
    }
    assert_eq!(
        sim.firm_names().len(),
        3,
        "smelter, urban-mine, the new plant"
    );
}

/// Investment rule: capex 200 USD/tpy over 4 years is 50 USD/t; the plant's average
/// operating cost is (50 + 150) / 2 = 100, so full cost is 150.
fn investing_world(extra: &str, lag: u32) -> Arc<World> {
    world(&format!(
        r#"
[world]
name = "invest"
ticks_per_year = 1
[[commodity]]
name = "metal"
[[commodity.stage]]
name = "refined"
reference_price_usd_per_t = 120.0
build_lag_ticks = {lag}
capex_usd_per_tpy = 200.0
payback_years = 4.0
expansion_share = 0.1
[[nation]]
name = "A"
region = "ra"
budget_usd = 1.0e9
demand = [{{ commodity = "metal", stage = "refined", reference_price_usd_per_t = 120.0, reference_quantity_tpy = 80.0, elasticity = 0.5 }}]
[[firm]]
name = "smelter"
nation = "A"
commodity = "metal"
stage = "refined"
capacity_tpy = 100.0
marginal_cost = {{ at_zero_usd_per_t = 50.0, at_capacity_usd_per_t = 150.0 }}
{extra}
"#
    ))
}

const SHOCK: &str = "[[event]]\ntick = 5\nkind = \"demand_shock\"\nnation = \"A\"\ncommodity = \"metal\"\nfactor = 2.0\n";

/// Expected price after each tick: `E' = E + 0.5 (p - E)` from the reference price.
fn expected_path(recs: &[TickRecord], reference: f64) -> Vec<f64> {
    let mut e = reference;
    recs.iter()
        .map(|r| {
            e += 0.5 * (price(r) - e);
            e
        })
        .collect()
}

#[test]
fn firm_capacity_arrives_exactly_after_its_lag_and_only_when_the_price_rule_says_so() {
    let lag = 3;
    let w = investing_world(SHOCK, lag);
    let recs = run(&w, 20);
    let expected = expected_path(&recs, 120.0);
    let full_cost = 100.0 + 200.0 / 4.0;
    // The rule, evaluated on the recorded prices: the first tick whose expected price
    // covers full cost.
    let first = expected
        .iter()
        .position(|&e| e >= full_cost)
        .expect("the shock lifts the expected price above full cost");
    assert!(
        first >= 5,
        "the price rule holds only from the shock on (tick {first})"
    );
    for (t, rec) in recs.iter().enumerate().take(first + 1) {
        let started = events(rec, "firm_investment").len();
        assert_eq!(
            started,
            usize::from(t == first),
            "tick {t}: expected {:.3} vs full cost {full_cost}: {:?}",
            expected[t],
            rec.events
        );
    }
    let arrival = first + 1 + lag as usize;
    for (t, rec) in recs.iter().enumerate().take(arrival + 1) {
        let capacity = rec.production[0].capacity_t;
        let want = if t < arrival { 100.0 } else { 110.0 };
        close(capacity, want, &format!("capacity at tick {t}"));
        if t > first && t < arrival {
            assert_eq!(
                rec.pipeline.len(),
                1,
                "tick {t}: one project under construction"
            );
            assert_eq!(rec.pipeline[0].arrives_at_tick, arrival as u64);
            assert_eq!(rec.pipeline[0].kind, "firm");
        }
    }
    assert_eq!(events(&recs[arrival], "capacity_online").len(), 1);
}

#[test]
fn without_a_price_that_covers_full_cost_firms_do_not_invest() {
    let recs = run(&investing_world("", 3), 30);
    let expected = expected_path(&recs, 120.0);
    assert!(expected.iter().all(|&e| e < 150.0));
    assert!(recs.iter().all(|r| events(r, "firm_investment").is_empty()));
    assert!(recs.iter().all(|r| r.production[0].capacity_t == 100.0));
}

#[test]
fn a_project_is_cancelled_when_the_price_collapses_below_operating_cost() {
    // Decided after the shock; demand collapses two ticks later, long before the
    // six-tick lag is over.
    let w = investing_world(
        &(SHOCK.to_string()
            + "[[event]]\ntick = 9\nkind = \"demand_shock\"\nnation = \"A\"\ncommodity = \"metal\"\nfactor = 0.05\n"),
        6,
    );
    let recs = run(&w, 25);
    let started: Vec<usize> = (0..recs.len())
        .filter(|&t| !events(&recs[t], "firm_investment").is_empty())
        .collect();
    let cancelled: Vec<usize> = (0..recs.len())
        .filter(|&t| !events(&recs[t], "investment_cancelled").is_empty())
        .collect();
    assert_eq!(started.len(), 1, "one project started: {started:?}");
    assert_eq!(cancelled.len(), 1, "and cancelled: {cancelled:?}");
    let expected = expected_path(&recs, 120.0);
    // Cancelled the first tick the expected price fell below operating cost (100).
    let below = (started[0]..recs.len())
        .find(|&t| expected[t] < 100.0)
        .unwrap();
    assert_eq!(cancelled[0], below);
    assert!(recs.iter().all(|r| r.production[0].capacity_t == 100.0));
    assert!(recs[below].pipeline.is_empty());
}

#[test]
fn a_capacity_subsidy_lowers_the_price_at_which_firms_invest() {
    // Without the shock the expected price settles at 127.5, below the full cost of 150.
    // A 60% capital subsidy lowers the threshold to 100 + 0.4 x 50 = 120.
    let w = investing_world(
        "[[event]]\ntick = 2\nkind = \"capacity_subsidy\"\nnation = \"A\"\ncommodity = \"metal\"\nstage = \"refined\"\nshare = 0.6\n",
        3,
    );
    let mut sim = Simulation::new(w, 1);
    let mut started = None;
    let mut paid = 0.0;
    for t in 0..10 {
        let budget = sim.budget_usd(NationId(0));
        let rec = sim.step().unwrap().clone();
        if !events(&rec, "firm_investment").is_empty() && started.is_none() {
            started = Some(t);
            paid = budget - sim.budget_usd(NationId(0));
        }
    }
    let t = started.expect("subsidised investment");
    assert!(t >= 2, "not before the subsidy (tick {t})");
    // 10 t/yr of new capacity at 200 USD/tpy, 60% paid by the nation.
    close(paid, 0.6 * 200.0 * 10.0, "subsidy paid from the treasury");
}

#[test]
fn research_substitutes_demand_for_good_after_its_lag() {
    let w = world(&one_market(
        "elasticity = 0.2, form = \"isoelastic\", long_run_elasticity = 0.5, adjustment_half_life_years = 1.0, research_usd_per_pct = 1.0e6, research_lag_years = 3",
        &flat_firm("smelter", 100.0, 1.0e7),
        "[[event]]\ntick = 2\nkind = \"substitution_research\"\nnation = \"A\"\ncommodity = \"metal\"\nstage = \"refined\"\nusd = 1.0e7\n",
    ));
    let recs = run(&w, 60);
    // 1e7 USD at 1e6 per percent: 10% of demand, landing at tick 2 + 3.
    for (t, rec) in recs.iter().enumerate() {
        let landed = events(rec, "research_landed").len();
        assert_eq!(landed, usize::from(t == 5), "tick {t}");
        let perm = rec.substitution[0].permanent_share;
        close(perm + 1.0, if t < 5 { 1.0 } else { 1.1 }, "permanent share");
    }
    // At the reference price, demand settles 10% below the reference quantity.
    close(end_use_obtained(&recs[59]), 900.0, "demand after research");
}

/// Two stages: oxide (a mine in A) feeds magnets (a plant in A) sold to end users.
fn chain(extra: &str) -> Arc<World> {
    world(&format!(
        r#"
[world]
name = "mandate"
ticks_per_year = 12
[[commodity]]
name = "re"
[[commodity.stage]]
name = "oxide"
reference_price_usd_per_t = 100.0
[[commodity.stage]]
name = "magnet"
reference_price_usd_per_t = 300.0
inputs = [{{ stage = "oxide", ratio = 1.0 }}]
[[nation]]
name = "A"
region = "ra"
budget_usd = 1.0e9
demand = [{{ commodity = "re", stage = "magnet", reference_price_usd_per_t = 300.0, reference_quantity_tpy = 1200.0, elasticity = 0.5 }}]
[[firm]]
name = "mine"
nation = "A"
commodity = "re"
stage = "oxide"
capacity_tpy = 6000.0
marginal_cost = {{ at_zero_usd_per_t = 50.0, at_capacity_usd_per_t = 150.0 }}
[[firm]]
name = "plant"
nation = "A"
commodity = "re"
stage = "magnet"
capacity_tpy = 1800.0
marginal_cost = {{ at_zero_usd_per_t = 100.0, at_capacity_usd_per_t = 250.0 }}
{extra}
"#
    ))
}

#[test]
fn a_stock_mandate_makes_firms_build_and_keep_the_mandated_input_stock() {
    let w = chain(
        "[[event]]\ntick = 6\nkind = \"stock_mandate\"\nnation = \"A\"\ncommodity = \"re\"\nstage = \"oxide\"\ncover_ticks = 3.0\n",
    );
    let mut sim = Simulation::new(w, 1);
    let stock = |sim: &Simulation| {
        let e = sim.ecs().resource::<chokepoint_engine::Index>().firms[1];
        sim.ecs()
            .get::<chokepoint_engine::components::Stocks>(e)
            .unwrap()
            .clone()
    };
    let mut bought = Vec::new();
    for _ in 0..40 {
        let rec = sim.step().unwrap().clone();
        bought.push(
            rec.consumption
                .iter()
                .filter(|c| matches!(c.consumer, Consumer::Firm(_)))
                .map(|c| c.obtained_t)
                .sum::<f64>(),
        );
    }
    // Reserve: 3 ticks of full-capacity use, 3 x 1 x 150 t.
    let s = stock(&sim);
    close(s.reserve_t[0], 450.0, "mandated reserve");
    assert!(
        s.inputs_t[0] >= s.reserve_t[0] * (1.0 - 1e-6),
        "the firm holds its reserve: {} < {}",
        s.inputs_t[0],
        s.reserve_t[0]
    );
    // Building the reserve is extra demand for oxide in the ticks after the mandate.
    let before = bought[5];
    assert!(
        bought[6..10].iter().any(|&b| b > before * 1.05),
        "{bought:?}"
    );
}

#[test]
fn levers_leave_digests_that_replay_and_differ_from_a_run_without_them() {
    let run_digests = |lever: bool| {
        let mut sim = Simulation::new(recycling_world(""), 9);
        let mut out = Vec::new();
        for t in 0..15 {
            if lever && t == 3 {
                sim.submit(
                    NationId(0),
                    PolicyAction::Lever(Lever::RecyclingSubsidy {
                        market: MarketId(0),
                        usd_per_t: 5.0,
                    }),
                );
            }
            sim.step().unwrap();
            out.push(sim.state_digest());
        }
        out
    };
    assert_eq!(
        run_digests(true),
        run_digests(true),
        "same actions, same digests"
    );
    assert_ne!(
        run_digests(true)[4],
        run_digests(false)[4],
        "the lever is in the state"
    );
}

#[test]
fn a_lever_the_world_cannot_honour_is_rejected_with_a_named_event() {
    let mut sim = Simulation::new(investing_world("", 3), 1);
    sim.submit(
        NationId(0),
        PolicyAction::Lever(Lever::RecyclingSubsidy {
            market: MarketId(0),
            usd_per_t: 5.0,
        }),
    );
    let rec = sim.step().unwrap();
    let rejected = events(rec, "action_rejected");
    assert_eq!(rejected.len(), 1);
    assert!(
        rejected[0].contains("no recycling stream supplies metal/refined"),
        "{rejected:?}"
    );
}
