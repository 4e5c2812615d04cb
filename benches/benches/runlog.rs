//! What the run log costs and what replay gains, on the bundled world with its bundled
//! strategy plugins, over 120 monthly ticks (a ten-year run):
//!
//! - `runlog/run_with_plugins`: host decides (plugins through the C ABI), engine steps;
//!   no log.
//! - `runlog/run_with_plugins_and_log`: the same, plus the log as `chokepoint run`
//!   writes it (header, one record per tick, a snapshot every 12 ticks) to a file.
//! - `runlog/run_with_plugins_and_log_every_60`: a snapshot every 60 ticks (the
//!   default of `chokepoint run` since five years of ticks).
//! - `runlog/run_with_plugins_and_log_no_snapshots`: the same log without snapshots
//!   (`--snapshot-every 0`), so the two costs of logging (a record and a state digest
//!   per tick; a snapshot per K ticks) can be told apart.
//! - `runlog/replay`: read that log back and replay it sequentially from tick 0,
//!   verifying every digest (no plugins): `runlog::replay_sequential`.
//! - `runlog/replay_parallel`: the same verification as `chokepoint replay LOG` does
//!   it: the segments between snapshots in parallel on rayon's pool (one thread per
//!   core).
//! - `runlog/replay_parallel_every_60`: that on the log with a snapshot every 60 ticks
//!   (the default), two segments.
//! - `runlog/state_digest`: one state digest (taken every logged and every replayed
//!   tick), bundled world after 60 ticks.
//! - `runlog/replay_to_last_tick`: `replay --to 119`, seeking from the last snapshot.
//!
//! Bytes per tick of the log are printed (header and snapshots listed apart).
//!
//! cargo bench -p chokepoint-benches --bench runlog -- --warm-up-time 1 --measurement-time 3

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chokepoint_benches::{bundled_world, bundled_world_path};
use chokepoint_engine::Simulation;
use chokepoint_host::{Host, OnPluginError, SearchPath};
use chokepoint_runlog::{FORMAT_VERSION, Header, LogWriter, TickEntry, from_engine};
use chokepoint_world::World;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const TICKS: u64 = 120;
const SEED: u64 = 1;
const SNAPSHOT_EVERY: u64 = 12;

/// Build the bundled strategies (release) and return the directory holding them.
fn build_agents() -> PathBuf {
    let out = chokepoint_test_support::cargo_build_agents(&[
        "--release",
        "--quiet",
        "--message-format=json",
    ]);
    let file = libloading::library_filename("passive")
        .to_string_lossy()
        .into_owned();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("compiler-artifact") && l.contains("cdylib"))
        .flat_map(|l| {
            l.split('"')
                .filter(|s| s.ends_with(&file))
                .map(|s| PathBuf::from(s).parent().unwrap().to_path_buf())
                .collect::<Vec<_>>()
        })
        .next()
        .expect("the passive cdylib in cargo's output")
}

fn header(world: &World, snapshot_every: u64) -> Header {
    Header {
        format_version: FORMAT_VERSION,
        engine_version: "bench".into(),
        engine_build: String::new(),
        world_name: world.name.clone(),
        world_path: bundled_world_path().display().to_string(),
        world_text: world.source.text.clone(),
        world_hash: world.hash.clone(),
        seed: SEED,
        ticks_requested: TICKS,
        command_line: vec!["bench".into()],
        plugins: vec![],
        forked_from: None,
        snapshot_every,
        threads: 1,
    }
}

/// One run; with `log` (a file and the snapshot interval), written as `chokepoint run`
/// writes it.
fn run(world: &Arc<World>, mut host: Host, log: Option<(&Path, u64)>) -> Simulation {
    let mut writer =
        log.map(|(p, every)| LogWriter::create(p, &header(world, every)).expect("log"));
    let mut sim = Simulation::new(world.clone(), SEED);
    for _ in 0..TICKS {
        host.decide(&mut sim).expect("plugins decide");
        let actions = writer.as_ref().map(|_| {
            sim.pending_actions()
                .iter()
                .map(|(n, a)| (n.0, from_engine(a)))
                .collect()
        });
        sim.step().expect("tick");
        if let (Some(w), Some(actions)) = (writer.as_mut(), actions) {
            let rec = sim.record();
            let entry = TickEntry {
                tick: rec.tick,
                actions,
                events: rec
                    .events
                    .iter()
                    .map(|e| (e.kind.clone(), e.detail.clone()))
                    .collect(),
                digest: sim.state_digest(),
            };
            w.write_tick_of(&sim, &entry).expect("write");
        }
    }
    if let Some(mut w) = writer {
        w.flush().expect("flush");
    }
    sim
}

fn bench(c: &mut Criterion) {
    let agents = build_agents();
    let world = Arc::new(bundled_world());
    let search = SearchPath::new(vec![agents], Some(&bundled_world_path()));
    let host = || Host::load(&world, SEED, &search, OnPluginError::Abort).expect("load plugins");
    let dir = std::env::temp_dir().join(format!("chokepoint-bench-runlog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log_path = dir.join("run.log");

    // The log measured below, and its size.
    run(&world, host(), Some((&log_path, SNAPSHOT_EVERY)));
    let bytes = std::fs::read(&log_path).unwrap();
    let log = chokepoint_runlog::read_log(&bytes).unwrap();
    let header_bytes = 12 + 13 + serde_json::to_vec(&log.header).unwrap().len();
    let snapshot_bytes: usize = log
        .snapshots
        .iter()
        .map(|s| 13 + postcard::to_allocvec(s).unwrap().len())
        .sum();
    let tick_bytes = bytes.len() - header_bytes - snapshot_bytes;
    eprintln!(
        "log of {TICKS} ticks: {} bytes = header {header_bytes} + {} snapshots {snapshot_bytes} \
         ({} each) + ticks {tick_bytes} ({:.1} bytes/tick; {:.1} bytes/tick with snapshots)",
        bytes.len(),
        log.snapshots.len(),
        snapshot_bytes / log.snapshots.len().max(1),
        tick_bytes as f64 / TICKS as f64,
        (tick_bytes + snapshot_bytes) as f64 / TICKS as f64
    );

    let mut g = c.benchmark_group("runlog");
    g.sample_size(20);
    g.bench_function("run_with_plugins", |b| {
        b.iter_batched(
            host,
            |h| black_box(run(&world, h, None)),
            BatchSize::PerIteration,
        )
    });
    let scratch = dir.join("bench.log");
    g.bench_function("run_with_plugins_and_log", |b| {
        b.iter_batched(
            host,
            |h| black_box(run(&world, h, Some((&scratch, SNAPSHOT_EVERY)))),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("run_with_plugins_and_log_every_60", |b| {
        b.iter_batched(
            host,
            |h| black_box(run(&world, h, Some((&scratch, 60)))),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("run_with_plugins_and_log_no_snapshots", |b| {
        b.iter_batched(
            host,
            |h| black_box(run(&world, h, Some((&scratch, 0)))),
            BatchSize::PerIteration,
        )
    });
    run(&world, host(), Some((&log_path, 60)));
    let bytes_60 = std::fs::read(&log_path).unwrap();
    g.bench_function("replay", |b| {
        b.iter(|| {
            let log = chokepoint_runlog::read_log(black_box(&bytes)).unwrap();
            black_box(chokepoint_runlog::replay_sequential(&log).unwrap())
        })
    });
    for (name, bytes) in [
        ("replay_parallel", &bytes),
        ("replay_parallel_every_60", &bytes_60),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let log = chokepoint_runlog::read_log(black_box(bytes)).unwrap();
                let report = chokepoint_runlog::replay(&log, None).unwrap();
                assert!(
                    report.segments > 1 || rayon::current_num_threads() == 1,
                    "{name}: {} segments",
                    report.segments
                );
                black_box(report)
            })
        });
    }
    // The per-tick cost of a log that is not the record: the state digest, on the
    // bundled world after 60 ticks without plugins.
    let mut digested = Simulation::new(world.clone(), SEED);
    for _ in 0..60 {
        digested.step().expect("tick");
    }
    g.bench_function("state_digest", |b| {
        b.iter(|| black_box(digested.state_digest()))
    });
    g.bench_function("replay_to_last_tick", |b| {
        b.iter(|| {
            let log = chokepoint_runlog::read_log(black_box(&bytes)).unwrap();
            black_box(chokepoint_runlog::replay(&log, Some(TICKS - 1)).unwrap())
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
