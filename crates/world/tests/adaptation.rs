//! The adaptation tables of a world file: demand adjustment, recycling streams and
//! plants, the investment rule on stages and lever events. Bad numbers are reported at
//! the value to change, like every other error; good ones become the model the engine
//! reads (per tick, ids resolved).

use std::path::Path;

use chokepoint_world::{
    DEFAULT_EXPANSION_SHARE, DEFAULT_HALF_LIFE_YEARS, DEFAULT_PAYBACK_YEARS, Lever, MarketId,
    NationId, World, WorldError, parse,
};

const BASE: &str = r#"[world]
name = "adapt"
ticks_per_year = 12

[[commodity]]
name = "re"
[[commodity.stage]]
name = "oxide"
reference_price_usd_per_t = 100.0
build_lag_ticks = 24
[[commodity.stage]]
name = "magnet"
reference_price_usd_per_t = 300.0
inputs = [{ stage = "oxide", ratio = 1.0 }]

[[nation]]
name = "A"
region = "ra"
budget_usd = 1.0e9
demand = [
  { commodity = "re", stage = "magnet", reference_price_usd_per_t = 300.0, reference_quantity_tpy = 1200.0, elasticity = 0.2 DEMAND },
]
[[nation]]
name = "B"
region = "rb"

[[firm]]
name = "mine"
nation = "A"
commodity = "re"
stage = "oxide"
capacity_tpy = 6000.0
marginal_cost = { at_zero_usd_per_t = 50.0, at_capacity_usd_per_t = 150.0 }
"#;

const STREAM: &str = r#"
[[recycling]]
commodity = "re"
from_stage = "magnet"
to_stage = "oxide"
collection_rate = 0.3
yield = 0.8
lifetime = { family = "discrete", years = [5.0, 10.0], shares = [0.25, 0.75] }
[[recycler]]
name = "urban-mine"
nation = "B"
commodity = "re"
stage = "oxide"
capacity_tpy = 120.0
marginal_cost = { at_zero_usd_per_t = 40.0, at_capacity_usd_per_t = 80.0 }
"#;

fn text(demand: &str, extra: &str) -> String {
    BASE.replace(" DEMAND", demand) + extra
}

#[track_caller]
fn ok(text: &str) -> World {
    parse(Path::new("test.toml"), text).unwrap_or_else(|e| panic!("{e}\n--- text ---\n{text}"))
}

#[track_caller]
fn only_error(text: &str) -> WorldError {
    let errs = parse(Path::new("test.toml"), text).expect_err("expected an error");
    assert_eq!(errs.len(), 1, "expected one error, got:\n{errs}");
    errs.0.into_iter().next().unwrap()
}

/// 1-based line and column of `target` inside the single occurrence of `context`.
#[track_caller]
fn place_in(text: &str, context: &str, target: &str) -> (usize, usize) {
    assert_eq!(
        text.matches(context).count(),
        1,
        "`{context}` once in the text"
    );
    let at = text.find(context).unwrap() + context.find(target).unwrap();
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        text[line_start..at].chars().count() + 1,
    )
}

#[track_caller]
fn check(e: &WorldError, at: (usize, usize), message: &str, help: &str) {
    assert_eq!((e.line, e.column), at, "wrong place:\n{e}");
    assert!(
        e.message.contains(message),
        "message should contain {message:?}:\n{e}"
    );
    assert!(e.help.contains(help), "help should contain {help:?}:\n{e}");
}

#[test]
fn a_world_without_adaptation_tables_has_none() {
    let w = ok(&text("", ""));
    assert!(w.adaptation.demand.is_empty());
    assert!(w.adaptation.recycling.is_empty());
    assert!(w.adaptation.investment.is_empty());
    assert!(w.adaptation.levers.is_empty());
}

#[test]
fn demand_adjustment_is_read_per_tick_with_defaults() {
    let w = ok(&text(", long_run_elasticity = 0.6, hysteresis = 0.3", ""));
    let a = &w.adaptation.demand[0];
    assert_eq!((a.nation, a.index), (NationId(0), 0));
    assert_eq!(a.long_run_elasticity, 0.6);
    assert_eq!(a.hysteresis, 0.3);
    assert_eq!(a.half_life_ticks, DEFAULT_HALF_LIFE_YEARS * 12.0);
    // Half the gap closes in one half-life.
    let lambda = a.adjustment_rate();
    assert!(((1.0 - lambda).powf(a.half_life_ticks) - 0.5).abs() < 1e-12);
}

#[test]
fn half_life_of_zero_is_a_named_error() {
    let t = text(
        ", long_run_elasticity = 0.6, adjustment_half_life_years = 0.0",
        "",
    );
    let e = only_error(&t);
    check(
        &e,
        place_in(&t, "adjustment_half_life_years = 0.0", "0.0"),
        "adjustment_half_life_years is 0, but it must be > 0",
        "set adjustment_half_life_years",
    );
}

#[test]
fn long_run_elasticity_below_the_short_run_one_is_an_error() {
    let t = text(", long_run_elasticity = 0.1", "");
    let e = only_error(&t);
    check(
        &e,
        place_in(&t, "long_run_elasticity = 0.1", "0.1"),
        "long_run_elasticity is 0.1, but it must be >= the short-run elasticity (0.2)",
        "long_run_elasticity",
    );
}

#[test]
fn hysteresis_outside_zero_one_is_an_error() {
    let t = text(", long_run_elasticity = 0.6, hysteresis = 1.5", "");
    let e = only_error(&t);
    check(
        &e,
        place_in(&t, "hysteresis = 1.5", "1.5"),
        "hysteresis is 1.5",
        "in [0, 1]",
    );
}

#[test]
fn adjustment_fields_without_a_long_run_elasticity_are_an_error() {
    let t = text(", hysteresis = 0.5", "");
    let e = only_error(&t);
    check(
        &e,
        place_in(&t, "hysteresis = 0.5", "0.5"),
        "hysteresis is only read with long_run_elasticity",
        "add long_run_elasticity",
    );
}

#[test]
fn a_recycling_stream_is_read_into_shares_per_tick() {
    let w = ok(&text("", STREAM));
    let s = &w.adaptation.recycling[0];
    assert_eq!((s.from, s.to), (MarketId(1), MarketId(0)));
    assert_eq!(s.collection_rate, 0.3);
    assert_eq!(s.yield_, 0.8);
    // Five years is tick 60 of age, ten years tick 120.
    assert_eq!(s.lifetime.len(), 120);
    assert_eq!(s.lifetime[59], 0.25);
    assert_eq!(s.lifetime[119], 0.75);
    assert_eq!(s.lifetime.iter().sum::<f64>(), 1.0);
    // New plants cost what the existing ones do.
    assert_eq!(s.new_plant_mc_at_zero_usd_per_t, 40.0);
    let r = &w.adaptation.recyclers[0];
    assert_eq!(
        (r.name.as_str(), r.nation, r.stream),
        ("urban-mine", NationId(1), 0)
    );
    assert_eq!(r.capacity_t_per_tick, 10.0);
}

#[test]
fn a_weibull_lifetime_is_discretised_and_sums_to_one() {
    let t = text(
        "",
        &STREAM.replace(
            r#"{ family = "discrete", years = [5.0, 10.0], shares = [0.25, 0.75] }"#,
            r#"{ family = "weibull", shape = 2.0, scale_years = 10.0 }"#,
        ),
    );
    let w = ok(&t);
    let l = &w.adaptation.recycling[0].lifetime;
    assert!((l.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    // Mean of a Weibull(2, 10) lifetime is 10 Gamma(1.5) = 8.862 years.
    let mean_years: f64 = l
        .iter()
        .enumerate()
        .map(|(k, w)| w * (k as f64 + 0.5) / 12.0)
        .sum();
    assert!((mean_years - 8.862).abs() < 0.05, "mean {mean_years}");
}

#[test]
fn negative_lifetime_is_a_named_error() {
    let t = text(
        "",
        &STREAM.replace("years = [5.0, 10.0]", "years = [-5.0, 10.0]"),
    );
    let e = only_error(&t);
    check(
        &e,
        place_in(&t, "years = [-5.0", "-5.0"),
        "lifetime in years is -5, but it must be between 0 and 100",
        "set lifetime in years",
    );
}

#[test]
fn collection_rate_outside_zero_one_is_a_named_error() {
    for bad in ["1.2", "-0.1"] {
        let t = text(
            "",
            &STREAM.replace("collection_rate = 0.3", &format!("collection_rate = {bad}")),
        );
        let e = only_error(&t);
        check(
            &e,
            place_in(&t, &format!("collection_rate = {bad}"), bad),
            "collection_rate is",
            "in [0, 1]",
        );
    }
}

#[test]
fn lifetime_shares_must_add_up_to_one() {
    let t = text(
        "",
        &STREAM.replace("shares = [0.25, 0.75]", "shares = [0.25, 0.5]"),
    );
    let e = only_error(&t);
    check(
        &e,
        place_in(&t, "shares = [0.25, 0.5]", "[0.25"),
        "lifetime shares add up to 0.75, not 1",
        "add up to 1",
    );
}

#[test]
fn unknown_lifetime_family_is_an_error() {
    let t = text(
        "",
        &STREAM.replace(r#"family = "discrete""#, r#"family = "gamma""#),
    );
    let e = only_error(&t);
    check(
        &e,
        place_in(&t, r#""gamma""#, "\"gamma\""),
        "unknown lifetime family `gamma`",
        "weibull",
    );
}

#[test]
fn a_recycler_needs_a_stream_into_its_stage() {
    let t = text(
        "",
        &STREAM.replace(
            "stage = \"oxide\"\ncapacity_tpy = 120.0",
            "stage = \"magnet\"\ncapacity_tpy = 120.0",
        ),
    );
    let errs = parse(Path::new("test.toml"), &t).expect_err("errors");
    assert!(
        errs.iter().any(|e| e
            .message
            .contains("no [[recycling]] stream supplies `re/magnet`")),
        "{errs}"
    );
}

#[test]
fn the_investment_rule_is_read_from_a_stage_with_defaults() {
    let t = text("", "").replace(
        "build_lag_ticks = 24",
        "build_lag_ticks = 24\ncapex_usd_per_tpy = 500.0",
    );
    let w = ok(&t);
    let i = &w.adaptation.investment[0];
    assert_eq!(i.market, MarketId(0));
    assert_eq!(i.capex_usd_per_tpy, 500.0);
    assert_eq!(i.payback_years, DEFAULT_PAYBACK_YEARS);
    assert_eq!(i.expansion_share, DEFAULT_EXPANSION_SHARE);
    let bad = text("", "").replace(
        "build_lag_ticks = 24",
        "build_lag_ticks = 24\npayback_years = 3.0",
    );
    let e = only_error(&bad);
    check(
        &e,
        place_in(&bad, "payback_years = 3.0", "3.0"),
        "payback_years is only read with capex_usd_per_tpy",
        "capex_usd_per_tpy",
    );
}

#[test]
fn lever_events_are_read_and_checked() {
    let t = text(
        ", long_run_elasticity = 0.5, research_usd_per_pct = 1.0e6, research_lag_years = 2",
        &(STREAM.to_string()
            + r#"
[[event]]
tick = 3
kind = "stock_mandate"
nation = "*"
commodity = "re"
stage = "oxide"
cover_ticks = 2.0
[[event]]
tick = 1
kind = "fund_recycling"
nation = "B"
commodity = "re"
stage = "oxide"
capacity_tpy = 60.0
usd_per_tpy = 2000.0
"#),
    );
    let w = ok(&t);
    assert_eq!(w.adaptation.demand[0].research_lag_ticks, 24);
    let l = &w.adaptation.levers;
    assert_eq!(l.len(), 2);
    assert_eq!(l[0].tick, 1, "levers in tick order");
    assert_eq!(
        l[0].lever,
        Lever::FundRecycling {
            market: MarketId(0),
            t_per_year: 60.0,
            usd_per_tpy: 2000.0
        }
    );
    assert_eq!(l[1].nations, vec![NationId(0), NationId(1)]);
    assert!(w.events.is_empty(), "levers are not policy events");

    let missing = text(
        "",
        "\n[[event]]\ntick = 1\nkind = \"capacity_subsidy\"\nnation = \"A\"\ncommodity = \"re\"\nstage = \"oxide\"\n",
    );
    let e = only_error(&missing);
    check(
        &e,
        place_in(&missing, "\"capacity_subsidy\"", "\"capacity_subsidy\""),
        "a `capacity_subsidy` event needs `share`",
        "add share = ...",
    );
    let wrong = text(
        "",
        "\n[[event]]\ntick = 1\nkind = \"tariff\"\nimporter = \"A\"\nexporter = \"B\"\ncommodity = \"re\"\nrate = 0.1\nshare = 0.5\n",
    );
    let e = only_error(&wrong);
    check(
        &e,
        place_in(&wrong, "share = 0.5", "0.5"),
        "`share` does not apply to a `tariff` event",
        "takes",
    );
}
