//! World-file validation as a researcher meets it: every class of mistake is
//! reported at the line and column of the value to change, with a message that says
//! what is wrong and a help that says what to do; and a valid file becomes the model
//! the engine expects (ids in name order, selectors expanded, quantities per tick).
//!
//! Each error test starts from [`base`], a small valid world, and breaks one thing,
//! usually by appending a table. Places are found with [`place`] (the line and
//! character column of a snippet in the text), so the tests do not depend on the
//! layout of the base world; the Display test pins exact numbers.

use std::path::Path;

use chokepoint_world::{
    DEFAULT_BUILD_LAG_TICKS, DEFAULT_EXPECTATION_WEIGHT, DemandForm, EventAction, FirmId, Licence,
    MarketId, NationId, World, WorldError, WorldErrors, load, parse,
};

// ---------------------------------------------------------------------------------
// The base world, in pieces so that tests can reorder its tables.
// ---------------------------------------------------------------------------------

const HEADER: &str = r#"[world]
name = "mini"
description = "A small world for tests."
ticks_per_year = 12
"#;

const COMMODITIES: [&str; 2] = [
    r#"
[[commodity]]
name = "gallium"
unit = "t Ga"

[[commodity.stage]]
name = "primary"
reference_price_usd_per_t = 220000.0

[[commodity.stage]]
name = "refined"
reference_price_usd_per_t = 500000.0
inputs = [{ stage = "primary", ratio = 1.05 }]
"#,
    r#"
[[commodity]]
name = "graphite"

[[commodity.stage]]
name = "natural"
reference_price_usd_per_t = 1000.0
build_lag_ticks = 36
"#,
];

const NATIONS: [&str; 4] = [
    r#"
[[nation]]
name = "China"
region = "east-asia"
demand = [
  { commodity = "gallium", stage = "refined", reference_price_usd_per_t = 500000.0, reference_quantity_tpy = 240.0, elasticity = 0.1 },
]
"#,
    r#"
[[nation]]
name = "Japan"
region = "east-asia"
demand = [
  { commodity = "gallium", stage = "refined", reference_price_usd_per_t = 500000.0, reference_quantity_tpy = 120.0, elasticity = 0.1, form = "isoelastic", end_use = "semiconductors" },
]
"#,
    r#"
[[nation]]
name = "United States"
region = "north-america"
budget_usd = 1.0e9
demand = [
  { commodity = "graphite", stage = "natural", reference_price_usd_per_t = 1000.0, reference_quantity_tpy = 1200.0, elasticity = 0.3 },
]
"#,
    r#"
[[nation]]
name = "EU"
region = "europe"
"#,
];

const FIRMS: [&str; 4] = [
    r#"
[[firm]]
name = "China gallium recovery"
nation = "China"
commodity = "gallium"
stage = "primary"
capacity_tpy = 1200.0
marginal_cost = { at_zero_usd_per_t = 60000.0, at_capacity_usd_per_t = 300000.0 }
"#,
    r#"
[[firm]]
name = "China gallium refiners"
nation = "China"
commodity = "gallium"
stage = "refined"
capacity_tpy = 600.0
marginal_cost = { at_zero_usd_per_t = 80000.0, at_capacity_usd_per_t = 320000.0 }
"#,
    r#"
[[firm]]
name = "Japan gallium refiners"
nation = "Japan"
commodity = "gallium"
stage = "refined"
capacity_tpy = 120.0
marginal_cost = { at_zero_usd_per_t = 80000.0, at_capacity_usd_per_t = 320000.0 }
"#,
    r#"
[[firm]]
name = "US graphite mine"
nation = "United States"
commodity = "graphite"
stage = "natural"
capacity_tpy = 2400.0
marginal_cost = { at_zero_usd_per_t = 400.0, at_capacity_usd_per_t = 1100.0 }
inventory_t = 50.0
"#,
];

const POLICIES: &str = r#"
[trade]
default_usd_per_t = 300.0

[[trade.cost]]
from = "east-asia"
to = "east-asia"
usd_per_t = 120.0

[[tariff]]
importer = "United States"
exporter = "China"
commodity = "gallium"
stage = "refined"
rate = 0.25

[[licence]]
exporter = "China"
destination = "*"
commodity = "gallium"
kind = "licence"
delay_ticks = 2

[[event]]
tick = 10
kind = "licence"
note = "gallium ban to the US"
exporter = "China"
destination = "United States"
commodity = "gallium"
licence = "ban"
"#;

/// The world with its commodities, nations and firms in the given orders.
fn assemble(commodities: [usize; 2], nations: [usize; 4], firms: [usize; 4]) -> String {
    let mut text = String::from(HEADER);
    text.extend(commodities.iter().map(|&i| COMMODITIES[i]));
    text.extend(nations.iter().map(|&i| NATIONS[i]));
    text.extend(firms.iter().map(|&i| FIRMS[i]));
    text.push_str(POLICIES);
    text
}

/// The valid base world.
fn base() -> String {
    assemble([0, 1], [0, 1, 2, 3], [0, 1, 2, 3])
}

/// The base world with `extra` tables appended.
fn with(extra: &str) -> String {
    base() + extra
}

/// `text` with its single occurrence of `old` replaced by `new`.
#[track_caller]
fn edit(text: &str, old: &str, new: &str) -> String {
    assert_eq!(
        text.matches(old).count(),
        1,
        "`{old}` should occur exactly once in the world text"
    );
    text.replacen(old, new, 1)
}

// ---------------------------------------------------------------------------------
// Helpers: run the validator, find places in the text.
// ---------------------------------------------------------------------------------

#[track_caller]
fn ok(text: &str) -> World {
    match parse(Path::new("test.toml"), text) {
        Ok(w) => w,
        Err(e) => panic!("expected a valid world, got:\n{e}\n--- text ---\n{text}"),
    }
}

#[track_caller]
fn errors(text: &str) -> WorldErrors {
    match parse(Path::new("test.toml"), text) {
        Ok(_) => panic!("expected errors, the world validated\n--- text ---\n{text}"),
        Err(e) => {
            assert!(!e.is_empty(), "an Err must carry at least one error");
            e
        }
    }
}

/// The one error the text has (fails if it has none or several).
#[track_caller]
fn only_error(text: &str) -> WorldError {
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "expected exactly one error, got:\n{errs}");
    errs.0.into_iter().next().unwrap()
}

/// 1-based line and character column of byte offset `at`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..at].chars().count() + 1)
}

/// Line and column of `target` inside the `n`th (0-based) occurrence of `context`.
#[track_caller]
fn place_nth_in(text: &str, context: &str, n: usize, target: &str) -> (usize, usize) {
    let (start, _) = text
        .match_indices(context)
        .nth(n)
        .unwrap_or_else(|| panic!("occurrence {n} of `{context}` not in the world text"));
    let within = context
        .find(target)
        .unwrap_or_else(|| panic!("`{target}` not in `{context}`"));
    line_col(text, start + within)
}

/// Line and column of `target` inside the single occurrence of `context`.
#[track_caller]
fn place_in(text: &str, context: &str, target: &str) -> (usize, usize) {
    assert_eq!(
        text.matches(context).count(),
        1,
        "`{context}` should occur exactly once in the world text"
    );
    place_nth_in(text, context, 0, target)
}

/// Line and column of the single occurrence of `needle`.
#[track_caller]
fn place(text: &str, needle: &str) -> (usize, usize) {
    place_in(text, needle, needle)
}

/// Checks an error's place, and that its message and help contain the given pieces.
#[track_caller]
fn check(e: &WorldError, at: (usize, usize), message: &[&str], help: &[&str]) {
    assert_eq!(
        (e.line, e.column),
        at,
        "wrong place for error:\n{e}\n(expected line {}, column {})",
        at.0,
        at.1
    );
    assert_eq!(e.path, Path::new("test.toml"));
    for m in message {
        assert!(e.message.contains(m), "message should contain {m:?}:\n{e}");
    }
    for h in help {
        assert!(e.help.contains(h), "help should contain {h:?}:\n{e}");
    }
    let snippet = e
        .snippet
        .as_deref()
        .expect("a located error shows its line");
    assert!(
        !snippet.contains('\n'),
        "the snippet is one line: {snippet:?}"
    );
}

/// Finds the error at `at` among several.
#[track_caller]
fn error_at(errs: &WorldErrors, at: (usize, usize)) -> &WorldError {
    errs.iter()
        .find(|e| (e.line, e.column) == at)
        .unwrap_or_else(|| panic!("no error at {}:{}; got:\n{errs}", at.0, at.1))
}

fn firm_block(name: &str, nation: &str, commodity: &str, stage: &str, rest: &str) -> String {
    format!(
        r#"
[[firm]]
name = "{name}"
nation = "{nation}"
commodity = "{commodity}"
stage = "{stage}"
{rest}
"#
    )
}

const MC: &str = "marginal_cost = { at_zero_usd_per_t = 100.0, at_capacity_usd_per_t = 200.0 }";

#[track_caller]
fn approx(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "got {actual}, expected {expected}"
    );
}

// ---------------------------------------------------------------------------------
// The base world itself.
// ---------------------------------------------------------------------------------

#[test]
fn base_world_is_valid() {
    let w = ok(&base());
    assert_eq!(w.name, "mini");
    assert_eq!(w.nations.len(), 4);
    assert_eq!(w.firms.len(), 4);
    assert_eq!(w.markets.len(), 3);
}

// ---------------------------------------------------------------------------------
// References to names that do not exist.
// ---------------------------------------------------------------------------------

#[test]
fn unknown_commodity_suggests_the_nearest_name() {
    let text = with(&firm_block(
        "Typo firm",
        "China",
        "gallum",
        "primary",
        &format!("capacity_tpy = 10.0\n{MC}"),
    ));
    let e = only_error(&text);
    check(
        &e,
        place(&text, "\"gallum\""),
        &["unknown commodity `gallum`"],
        &[
            "did you mean `gallium`?",
            "known commodities: gallium, graphite",
        ],
    );
}

#[test]
fn unknown_commodity_far_from_every_name_lists_the_known_ones() {
    let text = with(
        r#"
[[tariff]]
importer = "Japan"
exporter = "China"
commodity = "zirconium"
rate = 0.1
"#,
    );
    let e = only_error(&text);
    check(
        &e,
        place(&text, "\"zirconium\""),
        &["unknown commodity `zirconium`"],
        &["gallium, graphite"],
    );
    assert!(
        !e.help.contains("did you mean"),
        "no suggestion for a name far from all: {e}"
    );
}

#[test]
fn unknown_nation_suggests_the_nearest_name() {
    let text = with(&firm_block(
        "Typo firm",
        "Chna",
        "gallium",
        "primary",
        &format!("capacity_tpy = 10.0\n{MC}"),
    ));
    let e = only_error(&text);
    check(
        &e,
        place(&text, "\"Chna\""),
        &["unknown nation `Chna`"],
        &["did you mean `China`?", "EU, Japan, United States"],
    );
}

#[test]
fn unknown_nation_or_region_in_a_selector() {
    let text = with(
        r#"
[[tariff]]
importer = "east-asa"
exporter = "China"
commodity = "gallium"
rate = 0.1
"#,
    );
    let e = only_error(&text);
    check(
        &e,
        place(&text, "\"east-asa\""),
        &["unknown nation or region `east-asa`"],
        &["did you mean `east-asia`?"],
    );
}

#[test]
fn unknown_stage_of_a_firm() {
    let text = with(&firm_block(
        "Typo firm",
        "China",
        "gallium",
        "refind",
        &format!("capacity_tpy = 10.0\n{MC}"),
    ));
    let e = only_error(&text);
    check(
        &e,
        place(&text, "\"refind\""),
        &["unknown stage of `gallium` `refind`"],
        &["did you mean `refined`?", "primary, refined"],
    );
}

#[test]
fn unknown_stage_as_an_input() {
    let text = edit(
        &base(),
        r#"inputs = [{ stage = "primary", ratio = 1.05 }]"#,
        r#"inputs = [{ stage = "primery", ratio = 1.05 }]"#,
    );
    let e = only_error(&text);
    check(
        &e,
        place(&text, "\"primery\""),
        &["unknown stage of `gallium` `primery`"],
        &["did you mean `primary`?"],
    );
}

#[test]
fn unknown_firm_in_a_capacity_shock() {
    let text = with(
        r#"
[[event]]
tick = 3
kind = "capacity_shock"
firm = "China galium refiners"
factor = 0.5
"#,
    );
    let e = only_error(&text);
    check(
        &e,
        place(&text, "\"China galium refiners\""),
        &["unknown firm `China galium refiners`"],
        &["did you mean `China gallium refiners`?"],
    );
}

// ---------------------------------------------------------------------------------
// Numbers out of range.
// ---------------------------------------------------------------------------------

#[test]
fn negative_capacity() {
    let text = with(&firm_block(
        "Negative firm",
        "EU",
        "graphite",
        "natural",
        &format!("capacity_tpy = -5.0\n{MC}"),
    ));
    let e = only_error(&text);
    check(
        &e,
        place_in(&text, "capacity_tpy = -5.0", "-5.0"),
        &["capacity_tpy is -5", "must be >= 0"],
        &["set capacity_tpy to a value that is >= 0"],
    );
}

#[test]
fn marginal_cost_falling_with_output() {
    let text = with(&firm_block(
        "Falling firm",
        "EU",
        "graphite",
        "natural",
        "capacity_tpy = 10.0\nmarginal_cost = { at_zero_usd_per_t = 500.0, at_capacity_usd_per_t = 400.0 }",
    ));
    let e = only_error(&text);
    check(
        &e,
        place_in(&text, "at_capacity_usd_per_t = 400.0", "400.0"),
        &["marginal cost falls from 500 at zero output to 400 at capacity"],
        &["at_capacity_usd_per_t >= at_zero_usd_per_t"],
    );
}

#[test]
fn flat_marginal_cost_is_allowed() {
    let w = ok(&with(&firm_block(
        "Flat firm",
        "EU",
        "graphite",
        "natural",
        "capacity_tpy = 10.0\nmarginal_cost = { at_zero_usd_per_t = 500.0, at_capacity_usd_per_t = 500.0 }",
    )));
    let f = w.firms.iter().find(|f| f.name == "Flat firm").unwrap();
    assert_eq!(f.mc_at_zero_usd_per_t, f.mc_at_capacity_usd_per_t);
}

#[test]
fn tariff_rate_given_as_a_percentage() {
    let text = with(
        r#"
[[tariff]]
importer = "Japan"
exporter = "China"
commodity = "gallium"
rate = 25
"#,
    );
    let e = only_error(&text);
    check(
        &e,
        place_in(&text, "rate = 25\n", "25"),
        &["tariff rate 25 is out of range"],
        &["0.25 means 25%"],
    );
}

#[test]
fn negative_tariff_rate() {
    let text = with(
        r#"
[[tariff]]
importer = "Japan"
exporter = "China"
commodity = "gallium"
rate = -0.1
"#,
    );
    let e = only_error(&text);
    check(
        &e,
        place_in(&text, "rate = -0.1", "-0.1"),
        &["tariff rate -0.1 is out of range"],
        &["fractions between 0 and"],
    );
}

#[test]
fn tariff_rate_out_of_range_in_an_event() {
    let text = with(
        r#"
[[event]]
tick = 4
kind = "tariff"
importer = "Japan"
exporter = "China"
commodity = "gallium"
rate = 50.0
"#,
    );
    let e = only_error(&text);
    check(
        &e,
        place_in(&text, "rate = 50.0", "50.0"),
        &["tariff rate 50 is out of range"],
        &["0.25 means 25%"],
    );
}

#[test]
fn elasticity_must_be_positive() {
    for bad in ["0.0", "-0.2"] {
        let text = with(&format!(
            r#"
[[nation]]
name = "Korea"
region = "east-asia"
demand = [
  {{ commodity = "gallium", stage = "refined", reference_price_usd_per_t = 500000.0, reference_quantity_tpy = 50.0, elasticity = {bad} }},
]
"#
        ));
        let e = only_error(&text);
        check(
            &e,
            place_in(&text, &format!("elasticity = {bad}"), bad),
            &["elasticity is", "must be > 0"],
            &["magnitude of the price elasticity", "0.05"],
        );
    }
}

#[test]
fn expectation_weight_must_be_in_zero_one() {
    for bad in ["0.0", "-0.5", "1.5"] {
        let text = edit(
            &base(),
            "ticks_per_year = 12\n",
            &format!("ticks_per_year = 12\nexpectation_weight = {bad}\n"),
        );
        let e = only_error(&text);
        check(
            &e,
            place_in(&text, &format!("expectation_weight = {bad}"), bad),
            &["expectation_weight is", "in (0, 1]"],
            &["set expectation_weight"],
        );
    }
    // The bounds: 1 (naive expectations) is allowed, absent means the default.
    let text = edit(
        &base(),
        "ticks_per_year = 12\n",
        "ticks_per_year = 12\nexpectation_weight = 1.0\n",
    );
    assert_eq!(ok(&text).expectation_weight, 1.0);
    assert_eq!(ok(&base()).expectation_weight, DEFAULT_EXPECTATION_WEIGHT);
    assert_eq!(DEFAULT_EXPECTATION_WEIGHT, 0.5);
}

#[test]
fn ticks_per_year_must_be_at_least_one() {
    let text = edit(&base(), "ticks_per_year = 12", "ticks_per_year = 0");
    let e = only_error(&text);
    check(
        &e,
        place_in(&text, "ticks_per_year = 0", "0"),
        &["ticks_per_year is 0", "whole number >= 1"],
        &["set ticks_per_year to 1 or more"],
    );
}

// ---------------------------------------------------------------------------------
// The stage graph.
// ---------------------------------------------------------------------------------

const CYCLE: &str = r#"
[[commodity]]
name = "antimony"

[[commodity.stage]]
name = "ore"
reference_price_usd_per_t = 1000.0
inputs = [{ stage = "metal", ratio = 1.0 }]

[[commodity.stage]]
name = "metal"
reference_price_usd_per_t = 2000.0
inputs = [{ stage = "ore", ratio = 1.0 }]
"#;

#[test]
fn stage_cycle() {
    let text = with(CYCLE);
    let e = only_error(&text);
    check(
        &e,
        place_in(&text, "name = \"ore\"", "\"ore\""),
        &["the stages of `antimony` form a cycle", "ore", "metal"],
        &["production stages must run one way", "remove the input"],
    );
}

#[test]
fn policies_on_a_commodity_whose_stages_form_a_cycle_do_not_crash() {
    // Selectors that name the commodity without a stage find no markets (its stages
    // are all in the cycle); the cycle is the error to report, not a panic.
    let text = with(&format!(
        r#"{CYCLE}
[[tariff]]
importer = "*"
exporter = "China"
commodity = "antimony"
rate = 0.1

[[licence]]
exporter = "China"
destination = "*"
commodity = "antimony"
kind = "ban"

[[event]]
tick = 5
kind = "demand_shock"
nation = "*"
commodity = "antimony"
factor = 1.2
"#
    ));
    let errs = errors(&text);
    let e = error_at(&errs, place_in(&text, "name = \"ore\"", "\"ore\""));
    assert!(e.message.contains("form a cycle"), "{e}");
}

#[test]
fn stage_listing_itself_as_input() {
    let text = with(
        r#"
[[commodity]]
name = "cobalt"

[[commodity.stage]]
name = "hydroxide"
reference_price_usd_per_t = 30000.0
inputs = [{ stage = "hydroxide", ratio = 1.0 }]
"#,
    );
    let e = only_error(&text);
    check(
        &e,
        place_in(&text, "inputs = [{ stage = \"hydroxide\"", "\"hydroxide\""),
        &["stage `hydroxide` lists itself as an input"],
        &["an input must be an upstream stage"],
    );
}

#[test]
fn commodity_without_stages() {
    let text = with("\n[[commodity]]\nname = \"lithium\"\nstage = []\n");
    let e = only_error(&text);
    check(
        &e,
        place_in(&text, "stage = []", "[]"),
        &["commodity `lithium` has no stages"],
        &["[[commodity.stage]]"],
    );
}

// ---------------------------------------------------------------------------------
// Duplicate names: the error is at the second, the message names the first's line.
// ---------------------------------------------------------------------------------

#[test]
fn duplicate_nation_name() {
    let text = with("\n[[nation]]\nname = \"Japan\"\nregion = \"east-asia\"\n");
    let e = only_error(&text);
    let first = place_nth_in(&text, "name = \"Japan\"", 0, "\"Japan\"");
    let second = place_nth_in(&text, "name = \"Japan\"", 1, "\"Japan\"");
    check(
        &e,
        second,
        &[&format!(
            "duplicate nation name `Japan` (first defined on line {})",
            first.0
        )],
        &["rename one of the two nations"],
    );
}

#[test]
fn duplicate_firm_name() {
    let text = with(&firm_block(
        "China gallium refiners",
        "Japan",
        "gallium",
        "refined",
        &format!("capacity_tpy = 10.0\n{MC}"),
    ));
    let e = only_error(&text);
    let ctx = "name = \"China gallium refiners\"";
    let first = place_nth_in(&text, ctx, 0, "\"China");
    let second = place_nth_in(&text, ctx, 1, "\"China");
    check(
        &e,
        second,
        &[&format!(
            "duplicate firm name `China gallium refiners` (first defined on line {})",
            first.0
        )],
        &["rename one of the two firms"],
    );
}

#[test]
fn duplicate_commodity_name() {
    let text = with(
        r#"
[[commodity]]
name = "gallium"

[[commodity.stage]]
name = "scrap"
reference_price_usd_per_t = 1000.0
"#,
    );
    let e = only_error(&text);
    let first = place_nth_in(&text, "name = \"gallium\"", 0, "\"gallium\"");
    let second = place_nth_in(&text, "name = \"gallium\"", 1, "\"gallium\"");
    check(
        &e,
        second,
        &[&format!(
            "duplicate commodity name `gallium` (first defined on line {})",
            first.0
        )],
        &["rename one of the two commodities"],
    );
}

#[test]
fn duplicate_stage_name() {
    let text = edit(
        &base(),
        "build_lag_ticks = 36\n",
        "build_lag_ticks = 36\n\n[[commodity.stage]]\nname = \"natural\"\nreference_price_usd_per_t = 900.0\n",
    );
    let e = only_error(&text);
    let first = place_nth_in(&text, "name = \"natural\"", 0, "\"natural\"");
    let second = place_nth_in(&text, "name = \"natural\"", 1, "\"natural\"");
    check(
        &e,
        second,
        &[&format!(
            "duplicate stage name `natural` (first defined on line {})",
            first.0
        )],
        &["rename one of the two stages"],
    );
}

#[test]
fn star_is_not_a_name() {
    let text = with("\n[[nation]]\nname = \"*\"\nregion = \"rest\"\n");
    let e = only_error(&text);
    check(
        &e,
        place_in(&text, "name = \"*\"", "\"*\""),
        &["nation name `*` is not allowed"],
        &["other than `*`"],
    );
}

// ---------------------------------------------------------------------------------
// TOML and serde errors: missing fields, wrong types, unknown fields.
// ---------------------------------------------------------------------------------

#[test]
fn missing_field_points_at_the_table() {
    let text = with(&firm_block(
        "No capacity",
        "China",
        "gallium",
        "primary",
        MC,
    ));
    let e = only_error(&text);
    check(
        &e,
        place_in(&text, "[[firm]]\nname = \"No capacity\"", "[[firm]]"),
        &["missing field `capacity_tpy`"],
        &["add `capacity_tpy = ...`", "docs/world-format.md"],
    );
    assert_eq!(e.column, 1);
}

#[test]
fn missing_field_in_an_inline_table() {
    let text = with(&firm_block(
        "Half cost",
        "China",
        "gallium",
        "primary",
        "capacity_tpy = 10.0\nmarginal_cost = { at_zero_usd_per_t = 100.0 }",
    ));
    let e = only_error(&text);
    check(
        &e,
        place_in(&text, "marginal_cost = { at_zero_usd_per_t = 100.0 }", "{"),
        &["missing field `at_capacity_usd_per_t`"],
        &["add `at_capacity_usd_per_t = ...`"],
    );
}

#[test]
fn wrong_type_string_for_a_number() {
    let text = with(&firm_block(
        "Quoted capacity",
        "China",
        "gallium",
        "primary",
        &format!("capacity_tpy = \"1200\"\n{MC}"),
    ));
    let e = only_error(&text);
    check(
        &e,
        place(&text, "\"1200\""),
        &["invalid type: string \"1200\"", "expected f64"],
        &["numbers unquoted"],
    );
}

#[test]
fn wrong_type_fraction_for_a_whole_number() {
    let text = edit(&base(), "ticks_per_year = 12", "ticks_per_year = 12.5");
    let e = only_error(&text);
    check(
        &e,
        place(&text, "12.5"),
        &["invalid type: floating point `12.5`"],
        &["give a value of the expected type"],
    );
}

#[test]
fn whole_numbers_are_accepted_where_fractions_are_expected() {
    let text = edit(&base(), "capacity_tpy = 1200.0", "capacity_tpy = 1200");
    approx(ok(&text).firms[0].capacity_t_per_tick, 100.0);
}

#[test]
fn unknown_field_names_the_expected_ones() {
    let text = edit(&base(), "inventory_t = 50.0", "inventroy_t = 50.0");
    let e = only_error(&text);
    check(
        &e,
        place(&text, "inventroy_t"),
        &[
            "unknown field `inventroy_t`",
            "`inventory_t`",
            "`capacity_tpy`",
        ],
        &["remove the field or correct its spelling"],
    );
}

#[test]
fn unknown_field_in_the_world_table() {
    let text = edit(&base(), "ticks_per_year = 12", "ticks_per_yr = 12");
    let e = only_error(&text);
    check(
        &e,
        (4, 1),
        &["unknown field `ticks_per_yr`", "`ticks_per_year`"],
        &["correct its spelling"],
    );
}

#[test]
fn unknown_top_level_table() {
    let text = with("\n[[nations]]\nname = \"Korea\"\nregion = \"east-asia\"\n");
    let e = only_error(&text);
    check(
        &e,
        place(&text, "nations"),
        &["unknown field `nations`", "`nation`"],
        &["correct its spelling"],
    );
}

#[test]
fn syntax_error() {
    let text = with("\n[[nation]]\nname = \"Korea\nregion = \"east-asia\"\n");
    let e = only_error(&text);
    assert_eq!(e.line, place(&text, "name = \"Korea").0, "{e}");
    assert!(e.help.contains("fix the TOML syntax"), "{e}");
}

// ---------------------------------------------------------------------------------
// Licences.
// ---------------------------------------------------------------------------------

#[test]
fn unknown_licence_kind() {
    let text = with(
        r#"
[[licence]]
exporter = "China"
destination = "Japan"
commodity = "graphite"
kind = "embargo"
"#,
    );
    let e = only_error(&text);
    check(
        &e,
        place(&text, "\"embargo\""),
        &["unknown licence kind `embargo`"],
        &["\"open\"", "\"ban\"", "\"quota\"", "\"licence\""],
    );
}

#[test]
fn unknown_licence_kind_in_an_event() {
    let text = with(
        r#"
[[event]]
tick = 2
kind = "licence"
exporter = "China"
destination = "Japan"
commodity = "gallium"
licence = "embargo"
"#,
    );
    let e = only_error(&text);
    check(
        &e,
        place(&text, "\"embargo\""),
        &["unknown licence kind `embargo`"],
        &["\"quota\" (with quota_tpy)"],
    );
}

#[test]
fn quota_licence_without_quota() {
    let text = with(
        r#"
[[licence]]
exporter = "China"
destination = "Japan"
commodity = "graphite"
kind = "quota"
"#,
    );
    let e = only_error(&text);
    check(
        &e,
        place(&text, "\"quota\""),
        &["a quota licence needs quota_tpy"],
        &["add quota_tpy = "],
    );
}

#[test]
fn quota_and_delay_on_the_wrong_licence_kind() {
    let text = with(
        r#"
[[licence]]
exporter = "China"
destination = "Japan"
commodity = "graphite"
kind = "ban"
quota_tpy = 100.0
delay_ticks = 3
"#,
    );
    let errs = errors(&text);
    assert_eq!(errs.len(), 2, "{errs}");
    check(
        error_at(&errs, place_in(&text, "quota_tpy = 100.0", "100.0")),
        place_in(&text, "quota_tpy = 100.0", "100.0"),
        &["quota_tpy is only read when the licence kind is \"quota\" (here: \"ban\")"],
        &["remove quota_tpy or set kind = \"quota\""],
    );
    check(
        error_at(&errs, place_in(&text, "delay_ticks = 3", "3")),
        place_in(&text, "delay_ticks = 3", "3"),
        &["delay_ticks is only read when the licence kind is \"licence\""],
        &["remove delay_ticks or set kind = \"licence\""],
    );
}

#[test]
fn negative_quota() {
    let text = with(
        r#"
[[licence]]
exporter = "China"
destination = "Japan"
commodity = "graphite"
kind = "quota"
quota_tpy = -1.0
"#,
    );
    let e = only_error(&text);
    check(
        &e,
        place(&text, "-1.0"),
        &["quota_tpy is -1", ">= 0"],
        &["set quota_tpy"],
    );
}

// ---------------------------------------------------------------------------------
// Events.
// ---------------------------------------------------------------------------------

#[test]
fn event_field_that_does_not_apply_to_its_kind() {
    let text = with(
        r#"
[[event]]
tick = 4
kind = "tariff"
importer = "Japan"
exporter = "China"
commodity = "gallium"
rate = 0.1
factor = 0.5
"#,
    );
    let e = only_error(&text);
    check(
        &e,
        place_in(&text, "factor = 0.5", "0.5"),
        &["`factor` does not apply to a `tariff` event"],
        &["a `tariff` event takes: importer, exporter, commodity, stage, rate"],
    );
}

#[test]
fn every_event_field_is_checked_against_its_kind() {
    // One field that does not belong to each kind, including delay_ticks.
    for (kind, fields, stray, value) in [
        (
            "demand_shock",
            "nation = \"Japan\"\ncommodity = \"gallium\"\nfactor = 1.2",
            "firm",
            "\"China gallium refiners\"",
        ),
        (
            "capacity_shock",
            "firm = \"China gallium refiners\"\nfactor = 0.5",
            "importer",
            "\"Japan\"",
        ),
        (
            "capacity_shock",
            "firm = \"China gallium refiners\"\nfactor = 0.5",
            "delay_ticks",
            "3",
        ),
        (
            "tariff",
            "importer = \"Japan\"\nexporter = \"China\"\ncommodity = \"gallium\"\nrate = 0.1",
            "delay_ticks",
            "3",
        ),
        (
            "licence",
            "exporter = \"China\"\ndestination = \"Japan\"\ncommodity = \"gallium\"\nlicence = \"ban\"",
            "rate",
            "0.1",
        ),
    ] {
        let line = format!("{stray} = {value}");
        let text = with(&format!(
            "\n[[event]]\ntick = 4\nkind = \"{kind}\"\n{fields}\n{line}\n"
        ));
        let errs = errors(&text);
        let at = place_in(&text, &format!("\n{line}\n"), value);
        let e = error_at(&errs, at);
        check(
            e,
            at,
            &[&format!("`{stray}` does not apply to a `{kind}` event")],
            &[&format!("a `{kind}` event takes:")],
        );
    }
}

#[test]
fn event_missing_a_required_field() {
    let text = with(
        r#"
[[event]]
tick = 4
kind = "tariff"
importer = "Japan"
exporter = "China"
commodity = "gallium"
"#,
    );
    let e = only_error(&text);
    check(
        &e,
        place_in(&text, "tick = 4\nkind = \"tariff\"", "\"tariff\""),
        &["a `tariff` event needs `rate`"],
        &["add rate = ... to this [[event]]"],
    );
}

#[test]
fn event_missing_several_fields_reports_each() {
    let text = with("\n[[event]]\ntick = 4\nkind = \"demand_shock\"\nnote = \"empty\"\n");
    let errs = errors(&text);
    let at = place(&text, "\"demand_shock\"");
    let mut missing: Vec<&str> = errs
        .iter()
        .map(|e| {
            assert_eq!((e.line, e.column), at, "{e}");
            e.message.as_str()
        })
        .collect();
    missing.sort();
    assert_eq!(
        missing,
        [
            "a `demand_shock` event needs `commodity`",
            "a `demand_shock` event needs `factor`",
            "a `demand_shock` event needs `nation`",
        ]
    );
}

#[test]
fn capacity_shock_needs_a_firm_or_a_nation_and_commodity() {
    let text = with(
        "\n[[event]]\ntick = 4\nkind = \"capacity_shock\"\nnation = \"China\"\nfactor = 0.5\n",
    );
    let e = only_error(&text);
    check(
        &e,
        place(&text, "\"capacity_shock\""),
        &["a capacity_shock needs `firm`, or `nation` and `commodity`"],
        &["name the firm"],
    );
}

#[test]
fn unknown_event_kind() {
    let text = with("\n[[event]]\ntick = 4\nkind = \"embargo\"\n");
    let e = only_error(&text);
    check(
        &e,
        place(&text, "\"embargo\""),
        &["unknown event kind `embargo`"],
        &["tariff, licence, capacity_shock, demand_shock"],
    );
}

#[test]
fn negative_event_tick() {
    let text = edit(&base(), "tick = 10", "tick = -1");
    let e = only_error(&text);
    check(
        &e,
        place(&text, "-1"),
        &["tick is -1", "whole number >= 0"],
        &["set tick to 0 or more"],
    );
}

// ---------------------------------------------------------------------------------
// Nations and regions.
// ---------------------------------------------------------------------------------

#[test]
fn region_named_like_a_nation() {
    let text = with("\n[[nation]]\nname = \"Korea\"\nregion = \"Japan\"\n");
    let e = only_error(&text);
    check(
        &e,
        place_in(&text, "region = \"Japan\"", "\"Japan\""),
        &["region `Japan` has the same name as a nation"],
        &["rename the region", "must not be ambiguous"],
    );
}

#[test]
fn unknown_demand_form() {
    let text = edit(&base(), "form = \"isoelastic\"", "form = \"constant\"");
    let e = only_error(&text);
    check(
        &e,
        place(&text, "\"constant\""),
        &["unknown demand form `constant`"],
        &["\"linear\"", "\"isoelastic\""],
    );
}

#[test]
fn params_without_strategy() {
    let text = edit(
        &base(),
        "region = \"europe\"\n",
        "region = \"europe\"\nparams = { stockpile_t = 10.0 }\n",
    );
    let e = only_error(&text);
    check(
        &e,
        place(&text, "{ stockpile_t"),
        &["params given without a strategy"],
        &["add strategy = \"NAME\""],
    );
}

#[test]
fn demand_needs_one_market() {
    let text = edit(
        &base(),
        "{ commodity = \"graphite\", stage = \"natural\"",
        "{ commodity = \"graphite\", stage = \"*\"",
    );
    let e = only_error(&text);
    check(
        &e,
        place(&text, "\"*\", reference"),
        &["this needs one market"],
        &["(no `*`)"],
    );
}

// ---------------------------------------------------------------------------------
// Many errors at once, and how they are shown.
// ---------------------------------------------------------------------------------

#[test]
fn all_errors_are_reported_at_once() {
    let text = with(&format!(
        "{}{}",
        firm_block(
            "Bad firm",
            "Chna",
            "gallium",
            "primary",
            "capacity_tpy = -5.0\nmarginal_cost = { at_zero_usd_per_t = 500.0, at_capacity_usd_per_t = 400.0 }",
        ),
        r#"
[[tariff]]
importer = "Japan"
exporter = "China"
commodity = "gallum"
rate = 25

[[licence]]
exporter = "China"
destination = "Japan"
commodity = "graphite"
kind = "embargo"
"#
    ));
    let errs = errors(&text);
    assert!(errs.len() >= 3, "expected at least 3 errors, got:\n{errs}");
    let expected = [
        (place(&text, "\"Chna\""), "unknown nation `Chna`"),
        (place(&text, "-5.0"), "capacity_tpy is -5"),
        (
            place_in(&text, "at_capacity_usd_per_t = 400.0", "400.0"),
            "marginal cost falls",
        ),
        (place(&text, "\"gallum\""), "unknown commodity `gallum`"),
        (place_in(&text, "rate = 25\n", "25"), "tariff rate 25"),
        (place(&text, "\"embargo\""), "unknown licence kind"),
    ];
    for (at, message) in expected {
        let e = error_at(&errs, at);
        assert!(e.message.contains(message), "{e}");
    }
    assert_eq!(errs.len(), expected.len(), "{errs}");
    let shown = errs.to_string();
    assert!(
        shown.ends_with("6 errors in the world file"),
        "the summary counts the errors:\n{shown}"
    );
}

#[test]
fn display_shows_place_snippet_caret_and_help() {
    let text = "\
[world]
name = \"tiny\"

[[commodity]]
name = \"gallium\"

[[commodity.stage]]
name = \"primary\"
reference_price_usd_per_t = -1.0

[[nation]]
name = \"China\"
region = \"east-asia\"
";
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "{errs}");
    let e = &errs.0[0];
    assert_eq!((e.line, e.column), (9, 29));
    let shown = e.to_string();
    assert!(
        shown.contains("test.toml:9:29: error: "),
        "location prefix:\n{shown}"
    );
    assert_eq!(
        shown,
        "test.toml:9:29: error: reference_price_usd_per_t is -1, but it must be > 0\n     9 | reference_price_usd_per_t = -1.0\n       |                             ^\n  help: set reference_price_usd_per_t to a value that is > 0"
    );
    let lines: Vec<&str> = shown.lines().collect();
    let caret = lines
        .iter()
        .find(|l| l.trim_end().ends_with('^'))
        .expect("a caret line");
    let snippet = lines
        .iter()
        .find(|l| l.contains("reference_price_usd_per_t = -1.0"))
        .expect("the source line");
    // The caret sits under the first character of the value.
    let caret_at = caret.find('^').unwrap();
    assert_eq!(&snippet[caret_at..caret_at + 4], "-1.0");
    assert!(lines.iter().any(|l| l.trim_start().starts_with("help: ")));
    assert_eq!(
        errs.to_string(),
        format!("{shown}\n1 error in the world file")
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    // A value after a non-ASCII character: its column is counted in characters.
    let text = edit(
        &base(),
        "  { commodity = \"gallium\", stage = \"refined\", reference_price_usd_per_t = 500000.0, reference_quantity_tpy = 120.0, elasticity = 0.1,",
        "  { end_use = \"électronique\", commodity = \"galium\", stage = \"refined\", reference_price_usd_per_t = 500000.0, reference_quantity_tpy = 120.0, elasticity = 0.1,",
    );
    let text = edit(&text, ", end_use = \"semiconductors\" }", " }");
    let e = only_error(&text);
    let at = place(&text, "\"galium\"");
    assert_eq!(at.1, 43, "the helper counts characters (44 in bytes)");
    check(
        &e,
        at,
        &["unknown commodity `galium`"],
        &["did you mean `gallium`?"],
    );
    assert_eq!(
        e.snippet.as_deref().unwrap().chars().nth(at.1 - 1),
        Some('"')
    );
}

#[test]
fn unreadable_file_has_no_place() {
    let errs = load(Path::new("/nonexistent/world.toml")).unwrap_err();
    assert_eq!(errs.len(), 1);
    let e = &errs.0[0];
    assert_eq!((e.line, e.column), (0, 0));
    assert!(e.message.contains("cannot read the world file"), "{e}");
    let shown = e.to_string();
    assert!(
        shown.starts_with("/nonexistent/world.toml: error: "),
        "{shown}"
    );
    assert!(shown.contains("help: "), "{shown}");
}

// ---------------------------------------------------------------------------------
// Valid worlds: the model the engine gets.
// ---------------------------------------------------------------------------------

const BUNDLED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../worlds/critical-minerals-2026.toml"
);

#[test]
fn bundled_world_loads() {
    let w = match load(Path::new(BUNDLED)) {
        Ok(w) => w,
        Err(e) => panic!("the bundled world must validate:\n{e}"),
    };
    assert_eq!(w.name, "critical-minerals-2026");
    assert_eq!(w.ticks_per_year, 12);
    let names: Vec<&str> = w.nations.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names.len(), 21);
    for n in [
        "China",
        "United States",
        "Australia",
        "Japan",
        "South Korea",
        "Saudi Arabia",
        "Thailand",
        "EU",
        "India",
        "Canada",
        "Mexico",
        "Argentina",
        "Chile",
        "DRC",
        "Indonesia",
        "Peru",
        "Philippines",
        "Guinea",
        "Morocco",
        "Uzbekistan",
        "Rest of world",
    ] {
        assert!(names.contains(&n), "{n} is a nation of the bundled world");
    }
    assert!(names.windows(2).all(|p| p[0] < p[1]), "ids in name order");
    // Every nation plays a seed strategy.
    assert!(w.nations.iter().all(|n| n.strategy.is_some()));
    let markets: Vec<String> = (0..w.markets.len())
        .map(|m| w.market_name(MarketId(m as u32)))
        .collect();
    for m in [
        "rare-earths/mined",
        "rare-earths/oxide",
        "rare-earths/magnet",
        "gallium/primary",
        "gallium/refined",
        "germanium/refined",
        "graphite/mined",
        "graphite/anode",
        "lithium/mined",
        "lithium/chemical",
        "cobalt/mined",
        "cobalt/refined",
        "nickel/mined",
        "nickel/refined",
        "antimony/mined",
        "antimony/refined",
        "tungsten/mined",
        "tungsten/refined",
    ] {
        assert!(markets.contains(&m.to_string()), "market {m}");
    }
    assert_eq!(markets.len(), 18);
    // Upstream before downstream within each commodity.
    let ree: Vec<&String> = markets
        .iter()
        .filter(|m| m.starts_with("rare-earths/"))
        .collect();
    assert_eq!(
        ree,
        [
            "rare-earths/mined",
            "rare-earths/oxide",
            "rare-earths/magnet"
        ]
    );
    assert!(w.firms.windows(2).all(|f| f[0].name < f[1].name));
    // China's licences (delay 2) and Indonesia's ore ban, no timeline: the base holds.
    assert_eq!(
        w.licences
            .iter()
            .filter(|l| l.licence == Licence::Licensed { delay_ticks: 2 })
            .count(),
        7
    );
    assert!(w.licences.iter().any(|l| l.licence == Licence::Ban));
    assert!(w.events.is_empty());
    assert_eq!(w.hash.len(), 64);
    assert_eq!(w.expectation_weight, DEFAULT_EXPECTATION_WEIGHT);
    // The China -> * licence covers every nation but is a no-op on China itself.
    assert_eq!(w.licences[0].destinations.len(), 21);
}

#[test]
fn ids_are_in_name_order_whatever_the_table_order() {
    let a = ok(&assemble([0, 1], [0, 1, 2, 3], [0, 1, 2, 3]));
    let b = ok(&assemble([1, 0], [3, 1, 2, 0], [2, 0, 3, 1]));
    let c = ok(&assemble([1, 0], [2, 3, 0, 1], [3, 2, 1, 0]));
    for w in [&a, &b, &c] {
        let nations: Vec<&str> = w.nations.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(nations, ["China", "EU", "Japan", "United States"]);
        let firms: Vec<&str> = w.firms.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            firms,
            [
                "China gallium recovery",
                "China gallium refiners",
                "Japan gallium refiners",
                "US graphite mine"
            ]
        );
        let commodities: Vec<&str> = w.commodities.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(commodities, ["gallium", "graphite"]);
        assert_eq!(w.nation_id("Japan"), Some(NationId(2)));
        assert_eq!(w.market_id("gallium", "refined"), Some(MarketId(1)));
        assert_eq!(w.market_id("graphite", "natural"), Some(MarketId(2)));
        assert_eq!(w.regions, ["east-asia", "europe", "north-america"]);
    }
    for w in [&b, &c] {
        for (x, y) in a.firms.iter().zip(&w.firms) {
            assert_eq!((x.nation, x.market), (y.nation, y.market), "{}", x.name);
            assert_eq!(x.capacity_t_per_tick, y.capacity_t_per_tick);
        }
        for (x, y) in a.nations.iter().zip(&w.nations) {
            assert_eq!(x.region, y.region);
            let xm: Vec<MarketId> = x.demand.iter().map(|d| d.market).collect();
            let ym: Vec<MarketId> = y.demand.iter().map(|d| d.market).collect();
            assert_eq!(xm, ym);
        }
        assert_eq!(a.tariffs[0].importers, w.tariffs[0].importers);
        assert_eq!(a.tariffs[0].exporters, w.tariffs[0].exporters);
        assert_eq!(a.tariffs[0].markets, w.tariffs[0].markets);
    }
}

#[test]
fn markets_run_upstream_first_whatever_the_stage_order() {
    // Write the downstream stage first: the model still lists primary before refined.
    let text = edit(
        &base(),
        COMMODITIES[0],
        r#"
[[commodity]]
name = "gallium"

[[commodity.stage]]
name = "refined"
reference_price_usd_per_t = 500000.0
inputs = [{ stage = "primary", ratio = 1.05 }]

[[commodity.stage]]
name = "primary"
reference_price_usd_per_t = 220000.0
"#,
    );
    let w = ok(&text);
    assert_eq!(w.market_id("gallium", "primary"), Some(MarketId(0)));
    assert_eq!(w.market_id("gallium", "refined"), Some(MarketId(1)));
    assert_eq!(w.commodities[0].markets, [MarketId(0), MarketId(1)]);
    assert_eq!(w.markets[1].inputs, [(MarketId(0), 1.05)]);
    assert!(w.markets[0].inputs.is_empty());
}

#[test]
fn stage_and_commodity_defaults() {
    let w = ok(&base());
    assert_eq!(w.commodities[0].unit, "t Ga");
    assert_eq!(w.commodities[1].unit, "t");
    assert_eq!(w.markets[0].build_lag_ticks, DEFAULT_BUILD_LAG_TICKS);
    assert_eq!(w.markets[2].build_lag_ticks, 36);
    assert_eq!(w.description, "A small world for tests.");
    let us = &w.nations[w.nation_id("United States").unwrap().index()];
    assert_eq!(us.budget_usd, 1.0e9);
    assert!(us.strategy.is_none());
    assert_eq!(
        w.nations[w.nation_id("EU").unwrap().index()].budget_usd,
        0.0
    );
    let china = &w.nations[w.nation_id("China").unwrap().index()];
    assert_eq!(china.demand[0].form, DemandForm::Linear);
    assert_eq!(china.demand[0].end_use, "all");
    let japan = &w.nations[w.nation_id("Japan").unwrap().index()];
    assert_eq!(japan.demand[0].form, DemandForm::Isoelastic);
    assert_eq!(japan.demand[0].end_use, "semiconductors");
    assert_eq!(w.firms[0].inventory_t, 0.0);
    assert_eq!(w.firms[3].inventory_t, 50.0);
}

#[test]
fn strategy_params_are_passed_as_toml() {
    let text = edit(
        &base(),
        "region = \"europe\"\n",
        "region = \"europe\"\nstrategy = \"stockpiler\"\nparams = { target_t = 10.0, name = \"x\" }\n",
    );
    let w = ok(&text);
    let eu = &w.nations[w.nation_id("EU").unwrap().index()];
    let s = eu.strategy.as_ref().expect("a strategy binding");
    assert_eq!(s.name, "stockpiler");
    let params: toml::Table = toml::from_str(&s.params_toml).expect("params are TOML");
    assert_eq!(params["target_t"].as_float(), Some(10.0));
    assert_eq!(params["name"].as_str(), Some("x"));
}

#[test]
fn wildcard_and_region_selectors_expand() {
    let text = with(
        r#"
[[tariff]]
importer = "*"
exporter = "east-asia"
commodity = "gallium"
rate = 0.1

[[tariff]]
importer = "north-america"
exporter = "*"
commodity = "*"
stage = "refined"
rate = 0.05

[[licence]]
exporter = "east-asia"
destination = "europe"
commodity = "*"
kind = "ban"

[[event]]
tick = 1
kind = "demand_shock"
nation = "east-asia"
commodity = "gallium"
stage = "*"
factor = 1.5

[[event]]
tick = 2
kind = "capacity_shock"
nation = "east-asia"
commodity = "gallium"
stage = "refined"
factor = 0.5

[[event]]
tick = 3
kind = "capacity_shock"
nation = "*"
commodity = "*"
factor = 0.9
"#,
    );
    let w = ok(&text);
    let n = |name: &str| w.nation_id(name).unwrap();
    let m = |c: &str, s: &str| w.market_id(c, s).unwrap();
    let f = |name: &str| FirmId(w.firms.iter().position(|f| f.name == name).unwrap() as u32);
    let all: Vec<NationId> = (0..4).map(NationId).collect();
    let east_asia = vec![n("China"), n("Japan")];

    let t = &w.tariffs[1];
    assert_eq!(t.importers, all);
    assert_eq!(t.exporters, east_asia);
    assert_eq!(
        t.markets,
        [m("gallium", "primary"), m("gallium", "refined")]
    );
    assert_eq!(t.rate, 0.1);

    let t = &w.tariffs[2];
    assert_eq!(t.importers, [n("United States")]);
    assert_eq!(t.exporters, all);
    assert_eq!(t.markets, [m("gallium", "refined")]);

    let l = &w.licences[1];
    assert_eq!(l.exporters, east_asia);
    assert_eq!(l.destinations, [n("EU")]);
    assert_eq!(l.markets.len(), w.markets.len());
    assert_eq!(l.licence, Licence::Ban);

    // The base world's licence to "*".
    assert_eq!(w.licences[0].destinations, all);

    let by_tick = |t: u64| {
        w.events
            .iter()
            .find(|e| e.tick == t)
            .map(|e| &e.action)
            .unwrap()
    };
    match by_tick(1) {
        EventAction::DemandShock {
            nations,
            markets,
            factor,
        } => {
            assert_eq!(nations, &east_asia);
            assert_eq!(markets, &[m("gallium", "primary"), m("gallium", "refined")]);
            assert_eq!(*factor, 1.5);
        }
        other => panic!("expected a demand shock, got {other:?}"),
    }
    match by_tick(2) {
        EventAction::CapacityShock { firms, factor } => {
            assert_eq!(
                firms,
                &[f("China gallium refiners"), f("Japan gallium refiners")]
            );
            assert_eq!(*factor, 0.5);
        }
        other => panic!("expected a capacity shock, got {other:?}"),
    }
    match by_tick(3) {
        EventAction::CapacityShock { firms, .. } => {
            assert_eq!(firms, &(0..4).map(FirmId).collect::<Vec<_>>());
        }
        other => panic!("expected a capacity shock, got {other:?}"),
    }
}

#[test]
fn quantities_per_year_become_per_tick() {
    let quota = r#"
[[licence]]
exporter = "China"
destination = "Japan"
commodity = "graphite"
kind = "quota"
quota_tpy = 120.0

[[event]]
tick = 1
kind = "licence"
exporter = "China"
destination = "EU"
commodity = "graphite"
licence = "quota"
quota_tpy = 240.0
"#;
    for (ticks_per_year, header) in [
        (12.0, "ticks_per_year = 12"),
        (4.0, "ticks_per_year = 4"),
        (52.0, "ticks_per_year = 52"),
        (12.0, ""), // the default: monthly ticks
    ] {
        let text = edit(&with(quota), "ticks_per_year = 12", header);
        let w = ok(&text);
        assert_eq!(w.ticks_per_year as f64, ticks_per_year);
        let firm = |name: &str| w.firms.iter().find(|f| f.name == name).unwrap();
        approx(
            firm("China gallium recovery").capacity_t_per_tick,
            1200.0 / ticks_per_year,
        );
        approx(
            firm("US graphite mine").capacity_t_per_tick,
            2400.0 / ticks_per_year,
        );
        // Stocks are tonnes, not a rate: unchanged.
        assert_eq!(firm("US graphite mine").inventory_t, 50.0);
        let china = &w.nations[w.nation_id("China").unwrap().index()];
        approx(
            china.demand[0].reference_quantity_t_per_tick,
            240.0 / ticks_per_year,
        );
        match w.licences[1].licence {
            Licence::Quota { t_per_tick } => approx(t_per_tick, 120.0 / ticks_per_year),
            other => panic!("expected a quota, got {other:?}"),
        }
        let quota_event = w
            .events
            .iter()
            .find_map(|e| match &e.action {
                EventAction::SetLicence(l) => match l.licence {
                    Licence::Quota { t_per_tick } => Some(t_per_tick),
                    _ => None,
                },
                _ => None,
            })
            .expect("the quota event");
        approx(quota_event, 240.0 / ticks_per_year);
        // Prices and costs are per tonne: unchanged.
        assert_eq!(firm("US graphite mine").mc_at_capacity_usd_per_t, 1100.0);
    }
}

#[test]
fn trade_cost_rules_are_symmetric_unless_told_otherwise() {
    let text = with(
        r#"
[[trade.cost]]
from = "China"
to = "United States"
usd_per_t = 500.0

[[trade.cost]]
from = "Japan"
to = "EU"
usd_per_t = 700.0
symmetric = false

[[trade.cost]]
from = "east-asia"
to = "europe"
commodity = "graphite"
usd_per_t = 900.0
"#,
    );
    let w = ok(&text);
    let n = |name: &str| w.nation_id(name).unwrap();
    let ga = w.commodity_id("gallium").unwrap();
    let gr = w.commodity_id("graphite").unwrap();
    let cost = |from: &str, to: &str, c| w.trade_cost(n(from), n(to), c);
    // The default.
    assert_eq!(cost("United States", "EU", ga), 300.0);
    // Region to the same region, both ways.
    assert_eq!(cost("China", "Japan", ga), 120.0);
    assert_eq!(cost("Japan", "China", ga), 120.0);
    // Symmetric by default.
    assert_eq!(cost("China", "United States", ga), 500.0);
    assert_eq!(cost("United States", "China", ga), 500.0);
    // One way when symmetric = false.
    assert_eq!(cost("Japan", "EU", ga), 700.0);
    assert_eq!(cost("EU", "Japan", ga), 300.0);
    // Commodity-specific, both ways, and later rules win.
    assert_eq!(cost("Japan", "EU", gr), 900.0);
    assert_eq!(cost("EU", "Japan", gr), 900.0);
    assert_eq!(cost("EU", "China", gr), 900.0);
    assert_eq!(cost("EU", "China", ga), 300.0);
    // Nothing within a nation.
    assert_eq!(cost("China", "China", ga), 0.0);
}

#[test]
fn trade_cost_default_is_zero() {
    let text = edit(&base(), "default_usd_per_t = 300.0\n", "");
    let w = ok(&text);
    assert_eq!(w.trade.default_usd_per_t, 0.0);
    let (us, eu) = (
        w.nation_id("United States").unwrap(),
        w.nation_id("EU").unwrap(),
    );
    assert_eq!(
        w.trade_cost(us, eu, w.commodity_id("gallium").unwrap()),
        0.0
    );
}

#[test]
fn licence_kinds_and_defaults() {
    let text = with(
        r#"
[[licence]]
exporter = "Japan"
destination = "EU"
commodity = "gallium"
stage = "refined"
kind = "open"

[[licence]]
exporter = "Japan"
destination = "United States"
commodity = "gallium"
kind = "licence"
"#,
    );
    let w = ok(&text);
    assert_eq!(w.licences[0].licence, Licence::Licensed { delay_ticks: 2 });
    assert_eq!(w.licences[1].licence, Licence::Open);
    assert_eq!(
        w.licences[1].markets,
        [w.market_id("gallium", "refined").unwrap()]
    );
    // delay_ticks defaults to 2.
    assert_eq!(w.licences[2].licence, Licence::Licensed { delay_ticks: 2 });
    match &w.events[0].action {
        EventAction::SetLicence(l) => assert_eq!(l.licence, Licence::Ban),
        other => panic!("expected a licence event, got {other:?}"),
    }
}

#[test]
fn events_are_sorted_by_tick_keeping_file_order_within_a_tick() {
    let text = with(
        r#"
[[event]]
tick = 5
kind = "demand_shock"
note = "first at 5"
nation = "Japan"
commodity = "gallium"
factor = 1.1

[[event]]
tick = 0
kind = "demand_shock"
note = "at 0"
nation = "Japan"
commodity = "gallium"
factor = 1.1

[[event]]
tick = 5
kind = "demand_shock"
note = "second at 5"
nation = "Japan"
commodity = "gallium"
factor = 1.1
"#,
    );
    let w = ok(&text);
    let order: Vec<(u64, &str)> = w.events.iter().map(|e| (e.tick, e.note.as_str())).collect();
    assert_eq!(
        order,
        [
            (0, "at 0"),
            (5, "first at 5"),
            (5, "second at 5"),
            (10, "gallium ban to the US")
        ]
    );
}
