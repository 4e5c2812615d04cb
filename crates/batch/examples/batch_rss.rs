//! Peak memory of a batch as the number of runs grows: runs N seeds of the bundled world
//! (T ticks each) and prints the runs per second and the process's peak resident set
//! (VmHWM from /proc/self/status, Linux), and how many plugin library files it read.
//! Rows stream to disk and libraries are loaded once per process, so the peak should
//! not grow with N. Arguments: RUNS TICKS THREADS (defaults 100 12 2).
//!
//! cargo run -p chokepoint-batch --example batch_rss -- 100 1 2
//! cargo run -p chokepoint-batch --example batch_rss -- 10000 1 2

use std::path::Path;

use chokepoint_batch::{Options, Progress, Shard, Spec, run_batch};

fn main() {
    let mut args = std::env::args().skip(1);
    let runs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let ticks: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(12);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let world = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../worlds/critical-minerals-2026.toml")
        .canonicalize()
        .expect("the bundled world");
    let dir = std::env::temp_dir().join(format!("chokepoint-batch-rss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // Examples live in target/<profile>/examples; the plugins one level up.
    let agents = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().and_then(|d| d.parent()).map(Path::to_path_buf))
        .expect("the example's directory");
    let p = dir.join("spec.toml");
    std::fs::write(
        &p,
        format!(
            "[batch]\nworld = {:?}\nticks = {ticks}\nagents = [{:?}]\n[seeds]\ncount = {runs}\nbase = 1\n",
            world.display().to_string(),
            agents.display().to_string()
        ),
    )
    .expect("write the spec");
    let spec = Spec::load(&p).expect("spec");
    let o = run_batch(
        &spec,
        &Options {
            out: dir.join("out"),
            threads: Some(threads),
            shard: Shard::all(),
            progress: Progress::Off,
            retry_failed: false,
            stop_after: None,
        },
    )
    .expect("batch");
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: unknown");
    let parquet = std::fs::metadata(&o.results_parquet).map_or(0, |m| m.len());
    println!(
        "{runs} runs x {ticks} ticks on {threads} threads: {:.3} s, {:.2} runs/s, {} failed; {} library files read; results.parquet {parquet} bytes; peak RSS {}",
        o.elapsed_s,
        o.ran as f64 / o.elapsed_s,
        o.failed_total,
        chokepoint_host::Plugin::files_read(),
        hwm.trim_start_matches("VmHWM:").trim()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
