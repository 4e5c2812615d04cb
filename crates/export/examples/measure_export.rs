//! Measure the export of the bundled world: log a run of N ticks (default 120) without
//! plugins, then export it as Parquet and as CSV, and print time and bytes per tick.
//!
//! `cargo run --release -p chokepoint-export --example measure_export -- [TICKS] [OUT_DIR]`
//!
//! The exports are left in OUT_DIR (default `target/tmp/export-measure`) for inspection.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chokepoint_engine::Simulation;
use chokepoint_export::{Format, export};
use chokepoint_runlog::{FORMAT_VERSION, Header, LogWriter, TickEntry, from_engine};

fn main() {
    let mut args = std::env::args().skip(1);
    let ticks: u64 = args.next().map_or(120, |s| s.parse().expect("TICKS"));
    let out = args.next().map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tmp/export-measure"),
        PathBuf::from,
    );
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("output directory");

    let world_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../worlds/critical-minerals-2026.toml");
    let world = Arc::new(chokepoint_world::load(&world_path).expect("bundled world"));
    let header = Header {
        format_version: FORMAT_VERSION,
        engine_version: env!("CARGO_PKG_VERSION").into(),
        engine_build: String::new(),
        world_name: world.name.clone(),
        world_path: world_path.display().to_string(),
        world_text: world.source.text.clone(),
        world_hash: world.hash.clone(),
        seed: 1,
        ticks_requested: ticks,
        command_line: std::env::args().collect(),
        plugins: vec![],
        forked_from: None,
        snapshot_every: 0,
        threads: 1,
    };
    let log_path = out.join("run.log");
    let started = Instant::now();
    let mut log = LogWriter::create(&log_path, &header).expect("log");
    let mut sim = Simulation::new(world, 1);
    for _ in 0..ticks {
        let actions = sim
            .pending_actions()
            .iter()
            .map(|(n, a)| (n.0, from_engine(a)))
            .collect();
        sim.step().expect("tick");
        let rec = sim.record();
        log.write_tick(&TickEntry {
            tick: rec.tick,
            actions,
            events: rec
                .events
                .iter()
                .map(|e| (e.kind.clone(), e.detail.clone()))
                .collect(),
            digest: sim.state_digest(),
        })
        .expect("log tick");
    }
    log.flush().expect("flush");
    let run_time = started.elapsed();
    println!(
        "run + log: {ticks} ticks in {:.1} ms; log {} bytes",
        run_time.as_secs_f64() * 1e3,
        std::fs::metadata(&log_path).map_or(0, |m| m.len())
    );

    for format in [Format::Parquet, Format::Csv] {
        // Best of three: the first run also warms the page cache.
        let mut best = None;
        let mut summary = None;
        for _ in 0..3 {
            let s = export(&log_path, &out.join(format.extension()), format).expect("export");
            best = Some(best.map_or(s.elapsed, |b: std::time::Duration| b.min(s.elapsed)));
            summary = Some(s);
        }
        let (s, best) = (summary.unwrap(), best.unwrap());
        let rows: u64 = s.tables.iter().map(|t| t.rows).sum();
        println!(
            "{format}: {:.1} ms ({:.3} ms/tick), {} bytes = {:.0} bytes/tick, {rows} rows ({:.1} bytes/row)",
            best.as_secs_f64() * 1e3,
            best.as_secs_f64() * 1e3 / ticks as f64,
            s.total_bytes(),
            s.total_bytes() as f64 / ticks as f64,
            s.total_bytes() as f64 / rows as f64,
        );
        for t in &s.tables {
            println!("  {:<11} {:>8} rows {:>10} bytes", t.name, t.rows, t.bytes);
        }
    }
}
