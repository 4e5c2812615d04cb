//! Exporting a logged run: schemas and provenance, Parquet and CSV agreeing row for
//! row, values equal to the engine's own tick records, refusal of a log that does not
//! replay, determinism, batching, policy changes and welfare.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use chokepoint_engine::components::FirmTick;
use chokepoint_engine::{Index, Policies};
use chokepoint_export::*;
use chokepoint_runlog::Header;
use chokepoint_world::Licence;
use common::*;

const TICKS: u64 = 24;

fn export_both(name: &str) -> (std::path::PathBuf, ExportSummary, ExportSummary) {
    let dir = scratch(name);
    let log = make_log(&dir, TICKS);
    let pq = export(&log, &dir.join("parquet"), Format::Parquet).unwrap();
    let csv = export(&log, &dir.join("csv"), Format::Csv).unwrap();
    (dir, pq, csv)
}

#[test]
fn parquet_files_have_the_declared_schema_and_carry_the_log_header() {
    let dir = scratch("schema");
    let log_path = make_log(&dir, TICKS);
    let out = dir.join("out");
    let summary = export(&log_path, &out, Format::Parquet).unwrap();
    assert_eq!(summary.ticks, TICKS);
    assert_eq!(summary.log_stopped, None);
    assert_eq!(summary.tables.len(), TABLES.len());
    let header = chokepoint_runlog::read_log_file(&log_path).unwrap().header;

    for (def, t) in TABLES.iter().zip(&summary.tables) {
        assert_eq!(t.file, out.join(format!("{}.parquet", def.name)));
        let pq = read_parquet(&t.file);
        let fields: Vec<(String, arrow_schema::DataType, bool)> = pq
            .schema
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone(), f.is_nullable()))
            .collect();
        let expected: Vec<_> = def
            .columns
            .iter()
            .map(|&(n, ty)| (n.to_string(), ty.arrow(), ty.nullable()))
            .collect();
        assert_eq!(fields, expected, "schema of {}", def.name);
        assert_eq!(pq.rows() as u64, t.rows, "row count of {}", def.name);
        let stored: Header = serde_json::from_str(pq.meta(HEADER_KEY).unwrap()).unwrap();
        assert_eq!(stored, header, "header in {}", def.name);
        assert_eq!(pq.meta("chokepoint.table"), Some(def.name));
        assert_eq!(
            pq.meta("chokepoint.export_version"),
            Some(EXPORT_VERSION.to_string().as_str())
        );
    }
    // Concrete types the brief fixes: tick UInt64, names dictionary strings, Float64.
    let prices = read_parquet(&out.join("prices.parquet"));
    assert_eq!(
        prices.schema.field(0).data_type(),
        &arrow_schema::DataType::UInt64
    );
    assert!(matches!(
        prices.schema.field_with_name("nation").unwrap().data_type(),
        arrow_schema::DataType::Dictionary(_, v) if **v == arrow_schema::DataType::Utf8
    ));
    assert_eq!(
        prices
            .schema
            .field_with_name("price_usd_per_t")
            .unwrap()
            .data_type(),
        &arrow_schema::DataType::Float64
    );
    // Every table has rows in this run but those of negotiation and of adaptation in
    // demand and scrap, which this run does not do (the run of
    // `negotiation_and_adaptation_tables_...` has rows in them).
    for t in &summary.tables {
        let not_here = [
            "negotiation_rounds",
            "agreements",
            "deliveries",
            "substitution",
            "recycling",
        ];
        assert_eq!(
            t.rows > 0,
            !not_here.contains(&t.name),
            "rows in table {}",
            t.name
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn parquet_and_csv_exports_hold_the_same_rows_and_the_manifest_counts_them() {
    let (dir, pq, csv) = export_both("same-rows");
    for ((def, p), c) in TABLES.iter().zip(&pq.tables).zip(&csv.tables) {
        let parquet_rows = read_parquet(&p.file).rows_as_csv_fields();
        let (header, csv_rows) = read_csv(&c.file);
        assert_eq!(header.join(","), def.csv_header());
        assert_eq!(p.rows, c.rows, "{}", def.name);
        assert_eq!(csv_rows.len() as u64, c.rows, "{}", def.name);
        assert_eq!(parquet_rows, csv_rows, "rows of {}", def.name);
    }
    for summary in [&pq, &csv] {
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&summary.manifest).unwrap()).unwrap();
        assert_eq!(manifest["format"], summary.format.extension());
        assert_eq!(manifest["ticks"], TICKS);
        assert_eq!(manifest["header"]["seed"], SEED);
        let tables = manifest["tables"].as_array().unwrap();
        assert_eq!(tables.len(), TABLES.len());
        for ((m, def), t) in tables.iter().zip(TABLES).zip(&summary.tables) {
            assert_eq!(m["name"], def.name);
            assert_eq!(
                m["file"],
                format!("{}.{}", def.name, summary.format.extension())
            );
            assert_eq!(m["rows"], t.rows);
            let cols: Vec<&str> = m["columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap())
                .collect();
            let want: Vec<&str> = def.columns.iter().map(|c| c.0).collect();
            assert_eq!(cols, want);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The tables the run's CSV writer also writes come out byte-identical to it: same
/// names, same columns, same meanings, same formatting.
#[test]
fn shared_tables_are_byte_identical_to_the_runs_own_csv_tables() {
    let (dir, _, csv) = export_both("as-run");
    let run_dir = dir.join("run-tables");
    let mut tables = chokepoint_tables::CsvTables::create(&run_dir).unwrap();
    run_sim(TICKS - 1, |sim| {
        tables
            .write_tick(sim.world_def(), sim.firm_names(), sim.record())
            .unwrap();
    });
    tables.flush().unwrap();
    drop(tables);
    assert_run_tables_are_exported_byte_identical(&csv.out_dir, &run_dir);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The negotiation and adaptation tables of a run that negotiates and adapts: rows in
/// each, the same rows in Parquet and CSV, and CSV byte-identical to the run's own.
#[test]
fn negotiation_and_adaptation_tables_are_byte_identical_to_the_runs_own() {
    let dir = scratch("state-tables");
    let log = make_state_log(&dir, TICKS);
    let csv = export(&log, &dir.join("csv"), Format::Csv).unwrap();
    let pq = export(&log, &dir.join("parquet"), Format::Parquet).unwrap();
    for (p, c) in pq.tables.iter().zip(&csv.tables) {
        let (_, csv_rows) = read_csv(&c.file);
        assert_eq!(
            read_parquet(&p.file).rows_as_csv_fields(),
            csv_rows,
            "rows of {}",
            p.name
        );
    }
    let run_dir = dir.join("run-tables");
    let mut tables = chokepoint_tables::CsvTables::create(&run_dir).unwrap();
    run_state_sim(TICKS - 1, |sim| {
        tables
            .write_tick(sim.world_def(), sim.firm_names(), sim.record())
            .unwrap();
    });
    tables.flush().unwrap();
    drop(tables);
    for name in [
        "negotiation_rounds",
        "agreements",
        "deliveries",
        "substitution",
        "recycling",
        "pipeline",
    ] {
        let summary = csv.tables.iter().find(|t| t.name == name).unwrap();
        assert!(summary.rows > 0, "{name} has rows");
    }
    assert_run_tables_are_exported_byte_identical(&csv.out_dir, &run_dir);
    let _ = std::fs::remove_dir_all(&dir);
}

fn rows_at(table: &ParquetTable, tick: u64) -> Vec<Vec<String>> {
    table
        .rows_as_csv_fields()
        .into_iter()
        .filter(|r| r[0] == tick.to_string())
        .collect()
}

#[test]
fn exported_values_equal_the_engines_tick_records() {
    let (dir, pq, _) = export_both("values");
    let out = &pq.out_dir;
    let prices = read_parquet(&out.join("prices.parquet"));
    let flows = read_parquet(&out.join("flows.parquet"));
    let production = read_parquet(&out.join("production.parquet"));
    let shortages = read_parquet(&out.join("shortages.parquet"));
    let stockpiles = read_parquet(&out.join("stockpiles.parquet"));
    let events = read_parquet(&out.join("events.parquet"));
    let mut checked = 0;
    run_sim(TICKS - 1, |sim| {
        let rec = sim.record();
        let t = rec.tick;
        if ![0, 3, 5, 10, 16, 23].contains(&t) {
            return;
        }
        let w = sim.world_def();
        let nation = |n: chokepoint_world::NationId| w.nations[n.index()].name.clone();
        let market = |m: chokepoint_world::MarketId| {
            let d = &w.markets[m.index()];
            (
                w.commodities[d.commodity.index()].name.clone(),
                d.stage.clone(),
            )
        };
        let got = rows_at(&prices, t);
        assert_eq!(got.len(), rec.prices.len(), "prices at tick {t}");
        for (row, p) in got.iter().zip(&rec.prices) {
            let (c, s) = market(p.market);
            assert_eq!(row[1..4], [c, s, nation(p.nation)]);
            assert_eq!(row[4].parse::<f64>().unwrap(), p.price_usd_per_t);
        }
        let got = rows_at(&flows, t);
        assert_eq!(got.len(), rec.flows.len(), "flows at tick {t}");
        for (row, f) in got.iter().zip(&rec.flows) {
            let (c, s) = market(f.market);
            assert_eq!(row[1..5], [c, s, nation(f.from), nation(f.to)]);
            let nums: Vec<f64> = row[5..].iter().map(|x| x.parse().unwrap()).collect();
            assert_eq!(
                nums,
                [
                    f.quantity_t,
                    f.landed_usd_per_t,
                    f.value_usd,
                    f.tariff_usd,
                    f.levy_usd
                ]
            );
        }
        let got = rows_at(&production, t);
        assert_eq!(got.len(), rec.production.len(), "production at tick {t}");
        for (row, p) in got.iter().zip(&rec.production) {
            assert_eq!(row[1], sim.firm_names()[p.firm.index()]);
            let nums: Vec<f64> = row[5..].iter().map(|x| x.parse().unwrap()).collect();
            assert_eq!(
                nums,
                [
                    p.capacity_t,
                    p.input_limited_capacity_t,
                    p.produced_t,
                    p.sold_from_stock_t
                ]
            );
        }
        let got = rows_at(&shortages, t);
        assert_eq!(got.len(), rec.consumption.len(), "shortages at tick {t}");
        for (row, r) in got.iter().zip(&rec.consumption) {
            let nums: Vec<f64> = row[5..].iter().map(|x| x.parse().unwrap()).collect();
            assert_eq!(nums, [r.wanted_t, r.obtained_t, r.shortage_t()]);
        }
        assert_eq!(rows_at(&stockpiles, t).len(), rec.stockpiles.len());
        let got = rows_at(&events, t);
        let want: Vec<[String; 2]> = rec
            .events
            .iter()
            .map(|e| [e.kind.clone(), e.detail.clone()])
            .collect();
        let got: Vec<[String; 2]> = got.iter().map(|r| [r[1].clone(), r[2].clone()]).collect();
        assert_eq!(got, want, "events at tick {t}");
        checked += 1;
    });
    assert_eq!(checked, 6);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn actions_come_from_the_log_in_the_order_applied() {
    let (dir, pq, _) = export_both("actions");
    let actions = read_parquet(&pq.out_dir.join("actions.parquet")).rows_as_csv_fields();
    let rows: Vec<String> = actions.iter().map(|r| r.join("|")).collect();
    assert_eq!(
        rows,
        [
            "2|United States|set_floor|rare-earths|oxide||60000||",
            "3|United States|set_tariff|rare-earths|oxide|China|0.3||",
            "5|China|set_licence|rare-earths|oxide|United States|10||quota",
            "7|United States|stockpile_buy|rare-earths|oxide||50|200000|",
            "9|United States|invest|rare-earths|oxide|United States|1000|1000|",
            "12|China|set_licence|rare-earths|magnet|Japan|||ban",
            "15|United States|set_tariff|rare-earths|oxide|China|0||",
            "15|United States|set_floor|rare-earths|oxide||0||",
            "18|China|set_licence|rare-earths|magnet|Japan|||open",
            "20|United States|stockpile_release|rare-earths|oxide||20|1000|",
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Policy rows are changes: replaying them cell by cell gives the policies in force
/// after every tick, and the scripted changes appear at their ticks.
#[test]
fn policy_rows_are_the_changes_that_rebuild_the_policies_in_force() {
    let (dir, pq, _) = export_both("policies");
    let rows = read_parquet(&pq.out_dir.join("policies.parquet")).rows_as_csv_fields();
    // (kind, commodity, stage, nation_a, nation_b) -> (value, detail)
    type Cell = (String, String, String, String, String);
    let mut state: BTreeMap<Cell, (String, String)> = BTreeMap::new();
    let mut next = 0;
    let mut ticks_with_changes = Vec::new();
    run_sim(TICKS - 1, |sim| {
        let t = sim.record().tick;
        let w = sim.world_def();
        let mut changed = false;
        while next < rows.len() && rows[next][0] == t.to_string() {
            let r = &rows[next];
            let key = (
                r[1].clone(),
                r[2].clone(),
                r[3].clone(),
                r[4].clone(),
                r[5].clone(),
            );
            let removed = r[7] == "removed" || (r[1] == "licence" && r[7] == "open");
            if removed {
                assert!(
                    state.remove(&key).is_some(),
                    "removal of a cell not set: {r:?}"
                );
            } else {
                state.insert(key, (r[6].clone(), r[7].clone()));
            }
            next += 1;
            changed = true;
        }
        if changed {
            ticks_with_changes.push(t);
        }
        // The engine's policies in force after this tick, as the same cells.
        let p = sim.ecs().resource::<Policies>();
        let name = |n: chokepoint_world::NationId| w.nations[n.index()].name.clone();
        let market = |m: chokepoint_world::MarketId| {
            let d = &w.markets[m.index()];
            (
                w.commodities[d.commodity.index()].name.clone(),
                d.stage.clone(),
            )
        };
        let mut want = BTreeMap::new();
        for (m, i, x, r) in p.tariffs() {
            let (c, s) = market(m);
            want.insert(
                ("tariff".into(), c, s, name(i), name(x)),
                (format!("{r}"), String::new()),
            );
        }
        for (&(m, x, d), st) in p.licences() {
            let (c, s) = market(m);
            let (v, detail) = match st.licence {
                Licence::Ban => (String::new(), "ban".to_string()),
                Licence::Quota { t_per_tick } => (format!("{t_per_tick}"), "quota".into()),
                Licence::Licensed { delay_ticks } => (
                    String::new(),
                    format!(
                        "licensed, delay {delay_ticks} ticks, opens at tick {}",
                        st.opens_at_tick
                    ),
                ),
                Licence::Open => (String::new(), "open".into()),
            };
            want.insert(("licence".into(), c, s, name(x), name(d)), (v, detail));
        }
        for (m, i, f) in p.floors() {
            let (c, s) = market(m);
            want.insert(
                ("floor".into(), c, s, name(i), String::new()),
                (format!("{f}"), String::new()),
            );
        }
        assert_eq!(state, want, "policies in force after tick {t}");
    });
    assert_eq!(next, rows.len(), "rows after the last tick");
    // Tick 0: the world file's policies. Then the scripted actions (2, 3, 5, 12, 15, 18);
    // the calibrated world has no timeline of its own (scenarios add one).
    assert_eq!(ticks_with_changes, [0, 2, 3, 5, 12, 15, 18]);
    let tick15: Vec<String> = rows
        .iter()
        .filter(|r| r[0] == "15")
        .map(|r| r.join("|"))
        .collect();
    assert_eq!(
        tick15,
        [
            "15|tariff|rare-earths|oxide|United States|China|0|removed",
            "15|floor|rare-earths|oxide|United States||0|removed",
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn welfare_adds_up_to_the_engines_firm_revenue_tariffs_and_budgets() {
    let (dir, pq, _) = export_both("welfare");
    let welfare = read_parquet(&pq.out_dir.join("welfare.parquet")).rows_as_csv_fields();
    let flows = read_parquet(&pq.out_dir.join("flows.parquet")).rows_as_csv_fields();
    let world = world();
    assert_eq!(welfare.len() as u64, TICKS * world.nations.len() as u64);
    let mut k = 0;
    run_sim(TICKS - 1, |sim| {
        let t = sim.record().tick;
        let index = sim.ecs().resource::<Index>();
        for (n, nation) in world.nations.iter().enumerate() {
            let row = &welfare[k];
            k += 1;
            assert_eq!(row[0], t.to_string());
            assert_eq!(row[1], nation.name);
            let cs: f64 = row[2].parse().expect("surplus is finite for linear demand");
            let producer: f64 = row[3].parse().unwrap();
            let tariffs: f64 = row[4].parse().unwrap();
            let budget: f64 = row[5].parse().unwrap();
            // Firms' own revenue as the engine books it.
            let engine_revenue: f64 = index
                .firms
                .iter()
                .filter_map(|&e| {
                    let firm = sim.ecs().get::<chokepoint_engine::components::Firm>(e)?;
                    (firm.nation.index() == n).then(|| sim.ecs().get::<FirmTick>(e).unwrap())
                })
                .map(|f| f.revenue_usd)
                .sum();
            let tol = 1e-9 * engine_revenue.abs().max(1.0);
            assert!(
                (producer - engine_revenue).abs() <= tol,
                "producer revenue of {} at tick {t}: {producer} vs {engine_revenue}",
                nation.name
            );
            let flows_in: f64 = flows
                .iter()
                .filter(|f| f[0] == t.to_string() && f[4] == nation.name && f[3] != f[4])
                .map(|f| f[8].parse::<f64>().unwrap() + f[9].parse::<f64>().unwrap())
                .sum();
            assert!((tariffs - flows_in).abs() <= 1e-9 * flows_in.abs().max(1.0));
            assert_eq!(budget, sim.budget_usd(chokepoint_world::NationId(n as u32)));
            if !nation.demand.is_empty() {
                assert!(cs > 0.0, "{} has end users with surplus", nation.name);
            }
        }
    });
    // The US pays its own tariff on Chinese oxide while it holds it (ticks 3..15).
    let us_tariffs: f64 = welfare
        .iter()
        .filter(|r| r[1] == "United States")
        .map(|r| r[4].parse::<f64>().unwrap())
        .sum();
    assert!(us_tariffs > 0.0);
    let _ = std::fs::remove_dir_all(&dir);
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn a_log_whose_replay_diverges_is_refused_naming_the_tick_and_leaves_no_files() {
    let dir = scratch("diverges");
    // Drop the tariff action of tick 3 from the log: replay differs from tick 3 on.
    let log = make_log_with(&dir, 12, |e| {
        if e.tick == 3 {
            e.actions.clear();
        }
    });
    for format in [Format::Parquet, Format::Csv] {
        let out = dir.join(format.extension());
        let err = export(&log, &out, format).unwrap_err();
        match &err {
            ExportError::Diverged { tick, .. } => assert_eq!(*tick, 3, "{err}"),
            other => panic!("expected divergence at tick 3, got {other}"),
        }
        assert!(err.to_string().contains("tick 3"), "{err}");
        assert_eq!(files_in(&out), Vec::<String>::new(), "{format}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_log_with_changed_events_is_refused() {
    let dir = scratch("events");
    let log = make_log_with(&dir, 6, |e| {
        if e.tick == 4 {
            e.events.push(("tariff".into(), "not in the world".into()));
        }
    });
    let err = export(&log, &dir.join("out"), Format::Csv).unwrap_err();
    assert!(
        matches!(err, ExportError::Diverged { tick: 4, .. }),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_cut_log_exports_its_whole_ticks_and_says_where_it_stopped() {
    let dir = scratch("cut");
    let log = make_log(&dir, 8);
    let bytes = std::fs::read(&log).unwrap();
    std::fs::write(&log, &bytes[..bytes.len() - 5]).unwrap();
    let summary = export(&log, &dir.join("out"), Format::Parquet).unwrap();
    assert_eq!(summary.ticks, 7);
    assert!(
        summary
            .log_stopped
            .as_deref()
            .is_some_and(|s| s.contains("cut off")),
        "{:?}",
        summary.log_stopped
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary.manifest).unwrap()).unwrap();
    assert!(manifest["log_stopped"].is_string());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_that_is_not_a_log_is_refused_with_its_path() {
    let dir = scratch("not-a-log");
    let path = dir.join("x.log");
    std::fs::write(&path, "hello").unwrap();
    let err = export(&path, &dir.join("out"), Format::Parquet).unwrap_err();
    assert!(matches!(err, ExportError::Log { .. }), "{err}");
    assert!(err.to_string().contains("x.log"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_same_log_exports_byte_identical_files() {
    let dir = scratch("determinism");
    let log = make_log(&dir, 12);
    for format in [Format::Parquet, Format::Csv] {
        let a = export(&log, &dir.join(format!("a-{format}")), format).unwrap();
        let b = export(&log, &dir.join(format!("b-{format}")), format).unwrap();
        for (x, y) in a.tables.iter().zip(&b.tables) {
            assert!(
                std::fs::read(&x.file).unwrap() == std::fs::read(&y.file).unwrap(),
                "{} differs between two exports",
                x.file.display()
            );
        }
        assert_eq!(
            std::fs::read(&a.manifest).unwrap(),
            std::fs::read(&b.manifest).unwrap()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Small batches and row groups (what bounds memory on long runs) change the file
/// layout, not the data.
#[test]
fn batching_and_row_groups_change_the_layout_not_the_rows() {
    let dir = scratch("batching");
    let log = make_log(&dir, TICKS);
    let whole = export(&log, &dir.join("default"), Format::Parquet).unwrap();
    let small = export_with(
        &log,
        &dir.join("small"),
        Format::Parquet,
        &ExportOptions {
            ticks_per_batch: 1,
            max_batch_rows: 40,
            max_row_group_rows: 100,
        },
    )
    .unwrap();
    for (a, b) in whole.tables.iter().zip(&small.tables) {
        let (pa, pb) = (read_parquet(&a.file), read_parquet(&b.file));
        assert_eq!(
            pa.rows_as_csv_fields(),
            pb.rows_as_csv_fields(),
            "{}",
            a.name
        );
        if b.rows > 100 {
            assert!(
                pb.row_groups > 1,
                "{} has {} row groups",
                b.name,
                pb.row_groups
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn formats_parse_from_their_names() {
    assert_eq!("parquet".parse::<Format>(), Ok(Format::Parquet));
    assert_eq!("CSV".parse::<Format>(), Ok(Format::Csv));
    assert!("json".parse::<Format>().unwrap_err().contains("parquet"));
}
