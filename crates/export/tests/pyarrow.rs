//! The Parquet export read by pyarrow (and polars when installed), as researchers will,
//! and checked against the run: every table's schema (names and Arrow types) against the
//! manifest, the provenance metadata, row counts, and the values of prices, flows,
//! production, shortages, stockpiles, events, actions and budgets against the engine's
//! own records of the same run, exactly (Parquet keeps float64 bits); then the same for
//! the negotiation and adaptation tables of a run that negotiates and adapts.
//!
//! Python: `CHOKEPOINT_PYTHON` (default `python3`) must import pyarrow. `.ci/run`
//! installs pyarrow from PyPI into a venv and points `CHOKEPOINT_PYTHON` at it. Without
//! pyarrow the test skips with a note, except when `CI` or `CHOKEPOINT_REQUIRE_PYARROW`
//! is set (to anything but `0` or empty): then a missing pyarrow fails it, so CI cannot
//! pass without having read the files.

mod common;

use std::process::Command;

use chokepoint_export::{Format, export};
use chokepoint_world::NationId;
use common::*;
use serde_json::{Value, json};

const TICKS: u64 = 24;

fn required() -> bool {
    ["CI", "CHOKEPOINT_REQUIRE_PYARROW"].iter().any(|k| {
        std::env::var(k)
            .map(|v| !v.is_empty() && v != "0" && v != "false")
            .unwrap_or(false)
    })
}

/// The interpreter to use, or why there is none.
fn python_with_pyarrow() -> Result<String, String> {
    let python = std::env::var("CHOKEPOINT_PYTHON").unwrap_or_else(|_| "python3".into());
    match Command::new(&python)
        .args(["-c", "import pyarrow; print(pyarrow.__version__)"])
        .output()
    {
        Ok(o) if o.status.success() => {
            println!(
                "{python}: pyarrow {}",
                String::from_utf8_lossy(&o.stdout).trim()
            );
            Ok(python)
        }
        Ok(o) => Err(format!(
            "{python} cannot import pyarrow: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run {python}: {e}")),
    }
}

/// What the engine recorded, table by table, as (columns, rows) for the script.
fn expected_from_the_engine() -> Value {
    let world = world();
    let w = &world;
    let market = |m: chokepoint_world::MarketId| {
        let d = &w.markets[m.index()];
        (
            w.commodities[d.commodity.index()].name.clone(),
            d.stage.clone(),
        )
    };
    let nation = |n: NationId| w.nations[n.index()].name.clone();
    let (mut prices, mut flows, mut production, mut shortages) = (vec![], vec![], vec![], vec![]);
    let (mut stockpiles, mut events, mut actions, mut budgets) = (vec![], vec![], vec![], vec![]);
    let mut clearing = vec![];
    run_sim(TICKS - 1, |sim| {
        let r = sim.record();
        let t = r.tick;
        for p in &r.prices {
            let (c, s) = market(p.market);
            prices.push(json!([t, c, s, nation(p.nation), p.price_usd_per_t]));
        }
        for f in &r.flows {
            let (c, s) = market(f.market);
            flows.push(json!([
                t,
                c,
                s,
                nation(f.from),
                nation(f.to),
                f.quantity_t,
                f.value_usd,
                f.tariff_usd,
                f.levy_usd
            ]));
        }
        for p in &r.production {
            production.push(json!([
                t,
                sim.firm_names()[p.firm.index()],
                p.capacity_t,
                p.produced_t,
                p.sold_from_stock_t
            ]));
        }
        for c in &r.consumption {
            let (cm, s) = market(c.market);
            let who = chokepoint_tables::consumer_name(w, sim.firm_names(), c.consumer);
            shortages.push(json!([
                t,
                cm,
                s,
                nation(c.nation),
                who,
                c.wanted_t,
                c.obtained_t
            ]));
        }
        for p in &r.stockpiles {
            let (c, s) = market(p.market);
            stockpiles.push(json!([
                t,
                c,
                s,
                nation(p.owner),
                p.bought_t,
                p.sold_t,
                p.holdings_t
            ]));
        }
        for e in &r.events {
            events.push(json!([t, e.kind, e.detail]));
        }
        for c in &r.clearing {
            let (cm, s) = market(c.market);
            clearing.push(json!([t, cm, s, c.sweeps, c.converged, c.residual]));
        }
        for n in 0..w.nations.len() {
            let id = NationId(n as u32);
            budgets.push(json!([t, nation(id), sim.budget_usd(id)]));
        }
    });
    for t in 0..TICKS {
        for (n, a) in scripted_actions(w, t) {
            let kind = match a {
                chokepoint_engine::PolicyAction::SetTariff { .. } => "set_tariff",
                chokepoint_engine::PolicyAction::SetLicence { .. } => "set_licence",
                chokepoint_engine::PolicyAction::SetFloor { .. } => "set_floor",
                chokepoint_engine::PolicyAction::StockpileBuy { .. } => "stockpile_buy",
                chokepoint_engine::PolicyAction::StockpileRelease { .. } => "stockpile_release",
                chokepoint_engine::PolicyAction::Invest { .. } => "invest",
                // The scripted actions of this test include neither.
                chokepoint_engine::PolicyAction::Negotiate { .. }
                | chokepoint_engine::PolicyAction::Lever(_) => {
                    unreachable!("not scripted here")
                }
            };
            actions.push(json!([t, nation(n), kind]));
        }
    }
    let table = |columns: &[&str], rows: Vec<Value>| json!({"columns": columns, "rows": rows});
    json!({
        "ticks": TICKS,
        "nations": w.nations.len(),
        "seed": SEED,
        "world_hash": w.hash,
        "tables": {
            "prices": table(&["tick", "commodity", "stage", "nation", "price_usd_per_t"], prices),
            "flows": table(&["tick", "commodity", "stage", "origin", "destination", "quantity_t", "value_usd", "tariff_usd", "levy_usd"], flows),
            "production": table(&["tick", "firm", "capacity_t", "produced_t", "sold_from_stock_t"], production),
            "shortages": table(&["tick", "commodity", "stage", "nation", "consumer", "wanted_t", "obtained_t"], shortages),
            "stockpiles": table(&["tick", "commodity", "stage", "owner", "bought_t", "sold_t", "holdings_t"], stockpiles),
            "events": table(&["tick", "kind", "detail"], events),
            "actions": table(&["tick", "nation", "kind"], actions),
            "welfare": table(&["tick", "nation", "budget_usd"], budgets),
            "clearing": table(&["tick", "commodity", "stage", "sweeps", "converged", "residual"], clearing),
        },
    })
}

/// The negotiation and adaptation tables of [`make_state_log`]'s run, from the engine.
fn expected_state_tables() -> Value {
    let world = chokepoint_world::load(&adaptation_demo()).unwrap();
    let w = &world;
    let market = |m: chokepoint_world::MarketId| {
        let d = &w.markets[m.index()];
        (
            w.commodities[d.commodity.index()].name.clone(),
            d.stage.clone(),
        )
    };
    let nation = |n: NationId| w.nations[n.index()].name.clone();
    let (mut rounds, mut agreements, mut deliveries) = (vec![], vec![], vec![]);
    let (mut substitution, mut recycling, mut pipeline) = (vec![], vec![], vec![]);
    run_state_sim(TICKS - 1, |sim| {
        let r = sim.record();
        let t = r.tick;
        for x in &r.negotiation {
            rounds.push(json!([
                t,
                x.round,
                x.session,
                x.session_round,
                nation(x.nation),
                x.action,
                x.outcome,
                x.detail
            ]));
        }
        for a in &r.agreements {
            let members: Vec<String> = a.members.iter().map(|&n| nation(n)).collect();
            agreements.push(json!([
                t,
                a.agreement,
                a.status.name(),
                members.join(";"),
                a.signed_tick,
                a.shortfalls
            ]));
        }
        for d in &r.deliveries {
            let (c, s) = market(d.market);
            deliveries.push(json!([
                t,
                d.agreement,
                c,
                s,
                nation(d.seller),
                nation(d.buyer),
                d.planned_t,
                d.delivered_t,
                d.price_usd_per_t,
                d.resold_t
            ]));
        }
        for x in &r.substitution {
            let (c, s) = market(x.market);
            substitution.push(json!([
                t,
                c,
                s,
                nation(x.nation),
                w.nations[x.nation.index()].demand[x.end_use].end_use,
                x.substitution_share,
                x.target_share,
                x.permanent_share
            ]));
        }
        for x in &r.recycling {
            let (c, s) = market(x.market);
            recycling.push(json!([
                t,
                c,
                s,
                nation(x.nation),
                x.scrap_arising_t,
                x.collected_t,
                x.recycled_t,
                x.recycled_sold_t,
                x.supply_t,
                x.scrap_stock_t,
                x.subsidy_usd
            ]));
        }
        for x in &r.pipeline {
            let (c, s) = market(x.market);
            pipeline.push(json!([
                t,
                c,
                s,
                nation(x.nation),
                x.firm.map(|f| sim.firm_names()[f.index()].clone()),
                nation(x.funder),
                x.kind,
                x.capacity_t,
                x.started_tick,
                x.arrives_at_tick
            ]));
        }
    });
    let table = |columns: &[&str], rows: Vec<Value>| json!({"columns": columns, "rows": rows});
    json!({
        "ticks": TICKS,
        "nations": w.nations.len(),
        "seed": SEED,
        "world_hash": w.hash,
        "tables": {
            "negotiation_rounds": table(&["tick", "round", "session", "session_round", "nation", "action", "outcome", "detail"], rounds),
            "agreements": table(&["tick", "agreement", "status", "members", "signed_tick", "shortfalls"], agreements),
            "deliveries": table(&["tick", "agreement", "commodity", "stage", "seller", "buyer", "planned_t", "delivered_t", "price_usd_per_t", "resold_t"], deliveries),
            "substitution": table(&["tick", "commodity", "stage", "nation", "end_use", "substitution_share", "target_share", "permanent_share"], substitution),
            "recycling": table(&["tick", "commodity", "stage", "nation", "scrap_arising_t", "collected_t", "recycled_t", "recycled_sold_t", "supply_t", "scrap_stock_t", "subsidy_usd"], recycling),
            "pipeline": table(&["tick", "commodity", "stage", "nation", "firm", "funder", "kind", "capacity_t", "started_tick", "arrives_at_tick"], pipeline),
        },
    })
}

/// Run the script on an export directory with the expected rows; panic unless it passes.
fn read_with_pyarrow(python: &str, out: &std::path::Path, expected: &std::path::Path) {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/read_with_pyarrow.py");
    let result = Command::new(python)
        .arg(&script)
        .arg(out)
        .arg(expected)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    println!("{stdout}");
    assert!(
        result.status.success() && stdout.contains(" passed, 0 failed"),
        "{} failed ({}):\n{stdout}\n{stderr}",
        script.display(),
        result.status
    );
}

#[test]
fn pyarrow_reads_every_table_with_its_schema_and_the_values_of_the_run() {
    let python = match python_with_pyarrow() {
        Ok(p) => p,
        Err(why) if required() => panic!(
            "{why}\n  CI (or CHOKEPOINT_REQUIRE_PYARROW) requires this test to run: install pyarrow \
             (python3 -m venv V && V/bin/pip install pyarrow) and set CHOKEPOINT_PYTHON=V/bin/python"
        ),
        Err(why) => {
            eprintln!(
                "note: skipped: {why}. Set CHOKEPOINT_PYTHON to a Python with pyarrow to run it (CI does)."
            );
            return;
        }
    };
    let dir = scratch("pyarrow");
    let log = make_log(&dir, TICKS);
    let out = dir.join("out");
    export(&log, &out, Format::Parquet).unwrap();
    let expected = dir.join("expected.json");
    std::fs::write(&expected, expected_from_the_engine().to_string()).unwrap();
    read_with_pyarrow(&python, &out, &expected);
    // A run that negotiates and adapts: the negotiation and adaptation tables.
    let state_dir = dir.join("state");
    std::fs::create_dir_all(&state_dir).unwrap();
    let log = make_state_log(&state_dir, TICKS);
    let out = state_dir.join("out");
    export(&log, &out, Format::Parquet).unwrap();
    let expected = state_dir.join("expected.json");
    std::fs::write(&expected, expected_state_tables().to_string()).unwrap();
    read_with_pyarrow(&python, &out, &expected);
    let _ = std::fs::remove_dir_all(&dir);
}
