//! A batch loads each strategy library once per process, however many runs and threads
//! use it. This is its own test binary, so the process-wide count of library files read
//! is this batch's alone.

mod common;

use std::collections::BTreeSet;

use chokepoint_batch::{Options, Progress, Shard, Spec, run_batch};
use chokepoint_host::Plugin;
use common::{agents, bundled, spec_file, tmp};

#[test]
fn a_batch_reads_and_hashes_each_strategy_library_once() {
    agents();
    let dir = tmp("plugin-cache");
    let spec = Spec::load(&spec_file(
        &dir,
        "ticks = 2\n[seeds]\ncount = 8\nbase = 1\n",
    ))
    .unwrap();
    let world = chokepoint_world::load(&bundled()).unwrap();
    let strategies: BTreeSet<&str> = world
        .nations
        .iter()
        .filter_map(|n| n.strategy.as_ref().map(|s| s.name.as_str()))
        .collect();
    assert!(strategies.len() > 1, "{strategies:?}");
    let before = Plugin::files_read();
    let o = run_batch(
        &spec,
        &Options {
            out: dir.join("out"),
            threads: Some(2),
            shard: Shard::all(),
            progress: Progress::Off,
            retry_failed: false,
            stop_after: None,
        },
    )
    .unwrap();
    assert_eq!((o.ran, o.failed_total), (8, 0));
    assert_eq!(
        Plugin::files_read() - before,
        strategies.len() as u64,
        "one read per library ({strategies:?}), not one per run"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
