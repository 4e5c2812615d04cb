//! Scenario files (`extends = "base.toml"`): merge rules, errors that name the file of the
//! chain a value came from, cycles, and the flattened record.

use std::path::{Path, PathBuf};

use chokepoint_world::{EventAction, Licence, load, parse};

const BASE: &str = r#"
[world]
name = "base"
description = "two nations"

[[commodity]]
name = "gallium"

[[commodity.stage]]
name = "primary"
reference_price_usd_per_t = 220000.0

[[commodity.stage]]
name = "refined"
reference_price_usd_per_t = 500000.0
inputs = [{ stage = "primary", ratio = 1.05 }]

[[nation]]
name = "China"
region = "east-asia"
strategy = "china-controls"
params = { escalate_every = 3, markets = ["gallium/refined"] }
demand = [{ commodity = "gallium", stage = "refined", reference_price_usd_per_t = 500000.0, reference_quantity_tpy = 250.0, elasticity = 0.1 }]

[[nation]]
name = "Japan"
region = "east-asia"
demand = [{ commodity = "gallium", stage = "refined", reference_price_usd_per_t = 500000.0, reference_quantity_tpy = 90.0, elasticity = 0.1 }]

[[firm]]
name = "China recovery"
nation = "China"
commodity = "gallium"
stage = "primary"
capacity_tpy = 1600.0
marginal_cost = { at_zero_usd_per_t = 60000.0, at_capacity_usd_per_t = 330000.0 }

[[firm]]
name = "China refiners"
nation = "China"
commodity = "gallium"
stage = "refined"
capacity_tpy = 330.0
marginal_cost = { at_zero_usd_per_t = 80000.0, at_capacity_usd_per_t = 320000.0 }

[[licence]]
exporter = "China"
destination = "*"
commodity = "gallium"
kind = "licence"

[[event]]
tick = 6
kind = "demand_shock"
nation = "Japan"
commodity = "gallium"
factor = 1.1
"#;

/// A fresh directory for one test's files.
fn dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("extends")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("scenarios")).unwrap();
    d
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn scenario_merges_by_name_overrides_params_and_appends_the_timeline() {
    let d = dir("merge");
    write(&d.join("base.toml"), BASE);
    let scenario = d.join("scenarios/tight.toml");
    write(
        &scenario,
        r#"
extends = "../base.toml"

[world]
name = "tight"

[[nation]]
name = "China"
params = { escalate_every = 1 }

[[nation]]
name = "Korea"
region = "east-asia"
demand = [{ commodity = "gallium", stage = "refined", reference_price_usd_per_t = 500000.0, reference_quantity_tpy = 50.0, elasticity = 0.1 }]

[[firm]]
name = "China refiners"
capacity_tpy = 120.0

[[licence]]
exporter = "China"
destination = "Japan"
commodity = "gallium"
kind = "ban"

[[event]]
tick = 2
kind = "capacity_shock"
firm = "China recovery"
factor = 0.5
"#,
    );
    let w = load(&scenario).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.name, "tight");
    assert_eq!(
        w.description, "two nations",
        "unset [world] keys come from the base"
    );
    let names: Vec<&str> = w.nations.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["China", "Japan", "Korea"]);
    let china = &w.nations[0];
    assert_eq!(china.strategy.as_ref().unwrap().name, "china-controls");
    let params: toml::Table = china
        .strategy
        .as_ref()
        .unwrap()
        .params_toml
        .parse()
        .unwrap();
    assert_eq!(params["escalate_every"].as_integer(), Some(1), "overridden");
    assert!(params.contains_key("markets"), "other params kept");
    assert_eq!(china.demand.len(), 1, "demand kept from the base");
    let refiners = w.firms.iter().find(|f| f.name == "China refiners").unwrap();
    assert!((refiners.capacity_t_per_tick - 10.0).abs() < 1e-12);
    assert!(
        (refiners.mc_at_zero_usd_per_t - 80000.0).abs() < 1e-9,
        "unset firm keys come from the base"
    );
    // Licences: the base's rule, then the scenario's (later wins on Japan).
    assert_eq!(w.licences.len(), 2);
    assert_eq!(w.licences[1].licence, Licence::Ban);
    // Timeline: both events, in tick order.
    let ticks: Vec<u64> = w.events.iter().map(|e| e.tick).collect();
    assert_eq!(ticks, [2, 6]);
    assert!(matches!(
        w.events[0].action,
        EventAction::CapacityShock { factor, .. } if factor == 0.5
    ));
}

#[test]
fn the_record_is_one_flat_file_that_parses_to_the_same_world() {
    let d = dir("flat");
    write(&d.join("base.toml"), BASE);
    let scenario = d.join("scenarios/s.toml");
    write(
        &scenario,
        "extends = \"../base.toml\"\n[[firm]]\nname = \"China refiners\"\ncapacity_tpy = 100.0\n",
    );
    let w = load(&scenario).unwrap_or_else(|e| panic!("{e}"));
    assert!(!w.source.text.lines().any(|l| l.starts_with("extends")));
    // Parsed from another place entirely: the record needs no other file.
    let again =
        parse(Path::new("/nowhere/s.toml"), &w.source.text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.hash, w.hash);
    assert_eq!(again.firms.len(), w.firms.len());
    for (a, b) in again.firms.iter().zip(&w.firms) {
        assert_eq!(a.name, b.name);
        assert_eq!(
            a.capacity_t_per_tick.to_bits(),
            b.capacity_t_per_tick.to_bits()
        );
    }
    // A different scenario gives a different hash.
    write(
        &scenario,
        "extends = \"../base.toml\"\n[[firm]]\nname = \"China refiners\"\ncapacity_tpy = 101.0\n",
    );
    assert_ne!(load(&scenario).unwrap().hash, w.hash);
}

#[test]
fn chains_of_three_apply_outermost_last() {
    let d = dir("chain");
    write(&d.join("base.toml"), BASE);
    write(
        &d.join("mid.toml"),
        "extends = \"base.toml\"\n[world]\nname = \"mid\"\n[[firm]]\nname = \"China refiners\"\ncapacity_tpy = 240.0\n",
    );
    let s = d.join("scenarios/top.toml");
    write(&s, "extends = \"../mid.toml\"\n[world]\nname = \"top\"\n");
    let w = load(&s).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.name, "top");
    let refiners = w.firms.iter().find(|f| f.name == "China refiners").unwrap();
    assert!((refiners.capacity_t_per_tick - 20.0).abs() < 1e-12);
}

#[test]
fn an_error_in_the_scenario_names_the_scenario_file_and_line() {
    let d = dir("err-scenario");
    write(&d.join("base.toml"), BASE);
    let s = d.join("scenarios/bad.toml");
    write(
        &s,
        "extends = \"../base.toml\"\n\n[[firm]]\nname = \"China refiners\"\nnation = \"Chna\"\n",
    );
    let e = load(&s).unwrap_err();
    assert_eq!(e.len(), 1, "{e}");
    let err = &e.0[0];
    assert_eq!(err.path, s);
    assert_eq!(err.line, 5);
    assert!(err.message.contains("unknown nation `Chna`"), "{e}");
}

#[test]
fn an_error_in_the_base_names_the_base_file_and_line() {
    let d = dir("err-base");
    let bad_base = BASE.replace("factor = 1.1", "factor = -1.1");
    write(&d.join("base.toml"), &bad_base);
    let s = d.join("scenarios/ok.toml");
    write(&s, "extends = \"../base.toml\"\n[world]\nname = \"ok\"\n");
    let e = load(&s).unwrap_err();
    let err = &e.0[0];
    assert_eq!(err.path, d.join("scenarios/../base.toml"), "{e}");
    let line = bad_base
        .lines()
        .position(|l| l.contains("factor = -1.1"))
        .unwrap()
        + 1;
    assert_eq!(err.line, line, "{e}");
    assert!(err.message.contains("factor"), "{e}");
}

#[test]
fn a_syntax_error_in_the_base_names_the_base_file() {
    let d = dir("syntax-base");
    write(&d.join("base.toml"), "[world\nname = \"x\"\n");
    let s = d.join("scenarios/ok.toml");
    write(&s, "extends = \"../base.toml\"\n");
    let e = load(&s).unwrap_err();
    assert_eq!(e.0[0].path, d.join("scenarios/../base.toml"), "{e}");
    assert_eq!(e.0[0].line, 1, "{e}");
}

#[test]
fn a_missing_base_names_the_extends_line_and_the_path_tried() {
    let d = dir("missing");
    let s = d.join("scenarios/lost.toml");
    write(&s, "# a scenario\nextends = \"../nope.toml\"\n");
    let e = load(&s).unwrap_err();
    let err = &e.0[0];
    assert_eq!(err.path, s);
    assert_eq!(err.line, 2);
    assert!(err.message.contains("nope.toml"), "{e}");
    assert!(err.help.contains("relative to the directory"), "{e}");
}

#[test]
fn extends_must_be_a_string() {
    let d = dir("not-string");
    let s = d.join("scenarios/n.toml");
    write(&s, "extends = 3\n");
    let e = load(&s).unwrap_err();
    assert!(e.0[0].message.contains("must be a path"), "{e}");
}

#[test]
fn cycles_are_reported_with_the_chain() {
    let d = dir("cycle");
    write(&d.join("a.toml"), "extends = \"b.toml\"\n");
    write(&d.join("b.toml"), "extends = \"c.toml\"\n");
    write(&d.join("c.toml"), "extends = \"a.toml\"\n");
    let e = load(&d.join("a.toml")).unwrap_err();
    let err = &e.0[0];
    assert!(err.message.contains("cycle"), "{e}");
    assert!(err.message.contains("a.toml -> "), "{e}");
    assert_eq!(err.path, d.join("c.toml"), "the file that closes the cycle");
    // A file extending itself.
    write(&d.join("self.toml"), "extends = \"self.toml\"\n");
    assert!(
        load(&d.join("self.toml")).unwrap_err().0[0]
            .message
            .contains("cycle")
    );
}

#[test]
fn a_new_name_is_added() {
    let d = dir("dup");
    write(&d.join("base.toml"), BASE);
    let s = d.join("scenarios/dup.toml");
    let firm = "[[firm]]\nname = \"Japan refiners\"\nnation = \"Japan\"\ncommodity = \"gallium\"\nstage = \"refined\"\ncapacity_tpy = 10.0\nmarginal_cost = { at_zero_usd_per_t = 1.0, at_capacity_usd_per_t = 2.0 }\n";
    write(&s, &format!("extends = \"../base.toml\"\n{firm}"));
    let w = load(&s).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.firms.len(), 3, "a new name is added");
}
