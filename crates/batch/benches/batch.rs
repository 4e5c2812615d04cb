//! Batch throughput on the bundled world at 120 ticks, with 1 and 2 worker threads:
//! runs per second and the speedup from a second core. Needs the bundled strategies
//! built in the same profile (`cargo build -p passive -p producer -p china-controls
//! -p us-coalition -p hedging-ally`, with `--release` for `cargo bench`; or run the bench
//! in the dev profile, `cargo bench --profile dev`, against the debug plugins).

use std::path::Path;

use chokepoint_batch::{Options, Progress, Shard, Spec, run_batch};
use criterion::{Criterion, criterion_group, criterion_main};

const RUNS: u64 = 4;

fn spec(dir: &Path) -> Spec {
    let world = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../worlds/critical-minerals-2026.toml")
        .canonicalize()
        .expect("the bundled world");
    let p = dir.join("bench.toml");
    std::fs::write(
        &p,
        format!(
            "[batch]\nworld = {:?}\nticks = 120\n[seeds]\ncount = {RUNS}\nbase = 1\n",
            world.display().to_string()
        ),
    )
    .expect("write the spec");
    Spec::load(&p).expect("the bench spec loads")
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("chokepoint-batch-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let spec = spec(&dir);
    let mut g = c.benchmark_group("batch_4_runs_120_ticks");
    g.sample_size(10);
    for threads in [1usize, 2] {
        g.bench_function(format!("threads_{threads}"), |b| {
            b.iter(|| {
                let out = dir.join(format!("t{threads}"));
                let _ = std::fs::remove_dir_all(&out);
                let o = run_batch(
                    &spec,
                    &Options {
                        out,
                        threads: Some(threads),
                        shard: Shard::all(),
                        progress: Progress::Off,
                        retry_failed: false,
                        stop_after: None,
                    },
                )
                .expect("the batch runs");
                assert_eq!(o.failed_total, 0);
            })
        });
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
