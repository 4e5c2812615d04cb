//! Running a plan: workers on a rayon pool take runs from a shared counter (so at any
//! moment the runs in flight are neighbours in plan order) and send finished rows to
//! the writer, which puts them in plan order before writing. A run's result depends
//! only on its world and seed, and the files only on the plan, so the output is the
//! same bytes for any thread count and any interruption and resume.
//!
//! The output directory holds `batch.toml` (what batch, which shard), `results.csv`
//! (the journal: rows in plan order, flushed one by one), `results.parquet` (rewritten
//! on every session from the journal plus the new rows) and, with `full_log`,
//! `logs/<run_id>.log`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use toml::Value;

use crate::error::BatchError;
use crate::metrics::Metrics;
use crate::path::ParamPath;
use crate::spec::{Point, Spec, resolve_world};
use crate::table::{Columns, Row, RowReader, TableWriter};

/// Which part of the plan this process runs: runs with `index % count == shard`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn parse(s: &str) -> Result<Shard, BatchError> {
        let bad = || BatchError::BadShard(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    pub fn all() -> Shard {
        Shard { index: 0, count: 1 }
    }

    pub fn has(&self, run_index: u64) -> bool {
        run_index % self.count == self.index
    }
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A bar on a terminal, plain lines otherwise.
    Auto,
    /// Plain lines.
    Lines,
    /// Nothing.
    Off,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub out: PathBuf,
    /// Worker threads (None: all cores).
    pub threads: Option<usize>,
    pub shard: Shard,
    pub progress: Progress,
    /// Also redo runs the journal records as failed.
    pub retry_failed: bool,
    /// Stop (as if killed) after writing this many new rows: for tests of resume.
    pub stop_after: Option<u64>,
}

/// What a batch session did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub planned: u64,
    pub skipped: u64,
    pub ran: u64,
    pub failed: u64,
    /// Failed rows in the whole output (this session's and earlier ones').
    pub failed_total: u64,
    pub results_csv: PathBuf,
    pub results_parquet: PathBuf,
    pub elapsed_s: f64,
    pub interrupted: bool,
}

/// The manifest of an output directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// BLAKE3 over the plan's run ids in order: the batch's identity.
    pub plan_hash: String,
    pub runs: u64,
    pub shard: Shard,
    pub spec: String,
    /// The table's columns: the full header, axes (name, numeric) and metrics.
    pub columns: Vec<String>,
    pub axes: Vec<(String, bool)>,
    pub metrics: Vec<String>,
}

/// A run of the plan: its index, parameter combination (an index into
/// [`Plan::combos`]), seed and id. The plan has one per run, so it is kept to 40 bytes
/// whatever the number of axes: the run's assignments and resolved world are made again
/// by the worker that runs it.
struct Job {
    index: u64,
    seed: u64,
    combo: usize,
    /// The first 16 bytes of the run's BLAKE3 (the id is their hex).
    id: [u8; 16],
}

impl Job {
    fn run_id(&self) -> String {
        self.id.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The plan of a spec: its parameter combinations and every run, in plan order.
struct Plan {
    combos: Vec<Vec<Value>>,
    jobs: Vec<Job>,
}

impl Plan {
    /// Every run's id, in plan order. A run's world text depends on its combination
    /// only, so it is resolved once per combination, not once per seed.
    fn of(spec: &Spec) -> Plan {
        let families: Vec<&str> = spec.metrics.iter().map(|f| f.name()).collect();
        let combos = spec.combinations();
        let mut jobs = Vec::with_capacity(combos.len() * spec.seeds.len());
        for (c, combo) in combos.iter().enumerate() {
            let world_text = world_text(spec, &assignments(spec, combo));
            for &seed in &spec.seeds {
                let mut h = blake3::Hasher::new();
                h.update(b"chokepoint batch run v1\0");
                match &world_text {
                    Ok(t) => h.update(t.as_bytes()),
                    Err(e) => h.update(e.as_bytes()),
                };
                h.update(&spec.ticks.to_le_bytes());
                h.update(&seed.to_le_bytes());
                h.update(families.join(",").as_bytes());
                h.update(&[spec.full_log as u8]);
                let mut id = [0u8; 16];
                id.copy_from_slice(&h.finalize().as_bytes()[..16]);
                jobs.push(Job {
                    index: jobs.len() as u64,
                    seed,
                    combo: c,
                    id,
                });
            }
        }
        Plan { combos, jobs }
    }

    /// The run `job` as a point: its assignments and seed.
    fn point(&self, spec: &Spec, job: &Job) -> Point {
        Point {
            index: job.index,
            assignments: assignments(spec, &self.combos[job.combo]),
            seed: job.seed,
        }
    }
}

/// The axes' paths with one combination's values.
fn assignments(spec: &Spec, combo: &[Value]) -> Vec<(ParamPath, Value)> {
    spec.axes
        .iter()
        .zip(combo)
        .map(|(a, v)| (a.path.clone(), v.clone()))
        .collect()
}

/// The world text of a run.
fn world_text(spec: &Spec, assignments: &[(ParamPath, Value)]) -> Result<String, String> {
    resolve_world(&spec.world_doc, assignments)
        .map_err(|e| e.to_string())
        .and_then(|doc| toml::to_string(&doc).map_err(|e| e.to_string()))
}

/// The text of an axis value in the table.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// The columns of `spec`'s table.
pub fn columns(spec: &Spec) -> Result<Columns, BatchError> {
    Ok(columns_of(spec, &base_world(spec)?))
}

fn base_world(spec: &Spec) -> Result<chokepoint_world::World, BatchError> {
    chokepoint_world::load(&spec.world_path).map_err(|e| BatchError::World(e.to_string()))
}

fn columns_of(spec: &Spec, world: &chokepoint_world::World) -> Columns {
    Columns {
        axes: spec
            .axes
            .iter()
            .map(|a| (a.path.text.clone(), a.numeric()))
            .collect(),
        metrics: crate::metrics::columns(world, &spec.metrics),
    }
}

/// Load the base world's strategy libraries on the pool, different libraries on
/// different threads, before the runs start. Every run needs them and a run waits for a
/// library another thread is loading, so the first runs would otherwise load them one
/// after another while the other workers wait: with the debug libraries that was the
/// largest serial part of a short batch. A library that fails to load is left to the
/// runs, which report it.
fn preload(spec: &Spec, world: &chokepoint_world::World, pool: &rayon::ThreadPool) {
    use rayon::prelude::*;
    let search = chokepoint_host::SearchPath::new(spec.agents.clone(), Some(&spec.world_path));
    let mut paths: Vec<PathBuf> = world
        .nations
        .iter()
        .filter_map(|n| {
            let binding = n.strategy.as_ref()?;
            search.find(&binding.name, &n.name).ok()
        })
        .collect();
    paths.sort();
    paths.dedup();
    pool.install(|| {
        paths.par_iter().for_each(|p| {
            let _ = chokepoint_host::Plugin::shared(p);
        })
    });
}

/// Run one point: its row (a failure is a row with its error).
fn run_one(spec: &Spec, plan: &Plan, job: &Job, cols: &Columns, logs: Option<&Path>) -> Row {
    let point = plan.point(spec, job);
    let run_id = job.run_id();
    let axes = point
        .assignments
        .iter()
        .map(|(_, v)| value_text(v))
        .collect();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        simulate(spec, &point, &run_id, logs)
    }))
    .unwrap_or_else(|p| {
        let why = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(format!("the run panicked: {why}"))
    });
    let (error, metrics) = match result {
        Ok(m) => (None, m),
        Err(e) => (Some(e), vec![f64::NAN; cols.metrics.len()]),
    };
    Row {
        index: point.index,
        run_id,
        seed: point.seed,
        axes,
        error,
        metrics,
    }
}

fn simulate(
    spec: &Spec,
    point: &Point,
    run_id: &str,
    logs: Option<&Path>,
) -> Result<Vec<f64>, String> {
    let text = world_text(spec, &point.assignments)?;
    let world = Arc::new(
        chokepoint_world::parse(&spec.world_path, &text)
            .map_err(|e| format!("invalid parameters: {e}"))?,
    );
    let search = chokepoint_host::SearchPath::new(spec.agents.clone(), Some(&spec.world_path));
    let mut host = chokepoint_runner::load_host(
        &world,
        point.seed,
        &search,
        chokepoint_host::OnPluginError::Abort,
    )
    .map_err(|e| e.to_string())?;
    let mut log = match logs {
        Some(dir) => {
            let header = chokepoint_runner::header_for(
                &world,
                &spec.world_path,
                point.seed,
                spec.ticks,
                &host,
                None,
            );
            Some(
                chokepoint_runlog::LogWriter::create(&dir.join(format!("{}.log", run_id)), &header)
                    .map_err(|e| e.to_string())?,
            )
        }
        None => None,
    };
    let mut metrics = Metrics::new(&world, &spec.metrics);
    chokepoint_runner::run(&world, &mut host, point.seed, spec.ticks, |sim, t| {
        metrics.add(&world, sim);
        if let Some(log) = log.as_mut() {
            log.write_tick(&t.entry)
                .map_err(|e| chokepoint_runner::RunError::Sink(e.to_string()))?;
        }
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    if let Some(mut log) = log {
        log.flush().map_err(|e| e.to_string())?;
    }
    Ok(metrics.finish())
}

fn manifest_for(spec: &Spec, jobs: &[Job], shard: Shard, cols: &Columns) -> Manifest {
    let mut h = blake3::Hasher::new();
    for j in jobs {
        h.update(j.run_id().as_bytes());
    }
    Manifest {
        plan_hash: h.finalize().to_hex().to_string(),
        runs: jobs.len() as u64,
        shard,
        spec: spec.spec_path.display().to_string(),
        columns: cols.header(),
        axes: cols.axes.clone(),
        metrics: cols.metrics.clone(),
    }
}

/// Run (or resume) `spec` into `opts.out`.
pub fn run_batch(spec: &Spec, opts: &Options) -> Result<Outcome, BatchError> {
    let started = Instant::now();
    let io = |p: &Path, e: std::io::Error| BatchError::Io {
        path: p.to_path_buf(),
        message: e.to_string(),
    };
    let world = base_world(spec)?;
    let cols = columns_of(spec, &world);
    let plan = Plan::of(spec);
    let manifest = manifest_for(spec, &plan.jobs, opts.shard, &cols);
    let mine: Vec<&Job> = plan
        .jobs
        .iter()
        .filter(|j| opts.shard.has(j.index))
        .collect();
    std::fs::create_dir_all(&opts.out).map_err(|e| io(&opts.out, e))?;
    let manifest_path = opts.out.join("batch.toml");
    let csv_path = opts.out.join("results.csv");
    let parquet_path = opts.out.join("results.parquet");
    if manifest_path.exists() {
        let text = std::fs::read_to_string(&manifest_path).map_err(|e| io(&manifest_path, e))?;
        let old: Manifest = toml::from_str(&text).map_err(|e| BatchError::OtherBatch {
            dir: opts.out.clone(),
            message: format!("batch.toml is unreadable ({e})"),
        })?;
        if old.plan_hash != manifest.plan_hash || old.shard != manifest.shard {
            return Err(BatchError::OtherBatch {
                dir: opts.out.clone(),
                message: format!(
                    "it holds shard {}/{} of batch {} ({} runs), this is shard {}/{} of batch {} ({} runs)",
                    old.shard.index,
                    old.shard.count,
                    &old.plan_hash[..16],
                    old.runs,
                    manifest.shard.index,
                    manifest.shard.count,
                    &manifest.plan_hash[..16],
                    manifest.runs
                ),
            });
        }
    } else {
        let _ = std::fs::remove_file(&csv_path);
    }
    std::fs::write(
        &manifest_path,
        toml::to_string(&manifest).map_err(|e| BatchError::Output(e.to_string()))?,
    )
    .map_err(|e| io(&manifest_path, e))?;

    // The journal: rows already done, a prefix of this shard's runs in plan order.
    let mut kept = 0usize;
    let mut keep_bytes = None;
    if csv_path.exists() {
        let mut reader = RowReader::open(&csv_path, &cols)?;
        let mut offset_after_header = None;
        let mut last_good = None;
        while let Some((row, off)) = reader.next_row() {
            let Some(job) = mine.get(kept) else { break };
            if row.index != job.index || row.run_id != job.run_id() {
                return Err(BatchError::OtherBatch {
                    dir: opts.out.clone(),
                    message: format!(
                        "results.csv row {} is run {} ({}), the plan has run {} ({}) there",
                        kept + 1,
                        row.index,
                        row.run_id,
                        job.index,
                        job.run_id()
                    ),
                });
            }
            if !row.ok() && opts.retry_failed {
                break;
            }
            kept += 1;
            last_good = Some(off);
        }
        if last_good.is_none() {
            offset_after_header = Some(header_len(&csv_path)?);
        }
        keep_bytes = last_good.or(offset_after_header);
    }
    let logs = if spec.full_log {
        let d = opts.out.join("logs");
        std::fs::create_dir_all(&d).map_err(|e| io(&d, e))?;
        Some(d)
    } else {
        None
    };
    let mut writer = TableWriter::create(&csv_path, keep_bytes, &parquet_path, &cols)?;
    let mut failed_total = 0u64;
    if kept > 0 {
        let mut reader = RowReader::open(&csv_path, &cols)?;
        for _ in 0..kept {
            let (row, _) = reader
                .next_row()
                .ok_or_else(|| BatchError::Output("results.csv changed while being read".into()))?;
            failed_total += u64::from(!row.ok());
            writer.replay(row)?;
        }
    }
    let todo: &[&Job] = &mine[kept..];
    let mut outcome = Outcome {
        planned: mine.len() as u64,
        skipped: kept as u64,
        results_csv: csv_path.clone(),
        results_parquet: parquet_path.clone(),
        ..Outcome::default()
    };
    let threads = opts.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("batch-{i}"))
        .build()
        .map_err(|e| BatchError::Output(e.to_string()))?;
    if !todo.is_empty() {
        preload(spec, &world, &pool);
    }
    drop(world);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut progress = Reporter::new(opts.progress, todo.len() as u64, kept as u64);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Row)>();
    let result: Result<(), BatchError> = std::thread::scope(|scope| {
        let plan = &plan;
        let (next, stop, cols, logs) = (&next, &stop, &cols, logs.as_deref());
        scope.spawn(move || {
            pool.scope(|s| {
                for _ in 0..threads {
                    let tx = tx.clone();
                    s.spawn(move |_| {
                        loop {
                            if stop.load(Ordering::Relaxed) {
                                break;
                            }
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(job) = todo.get(i) else { break };
                            let row = run_one(spec, plan, job, cols, logs);
                            if tx.send((i, row)).is_err() {
                                break;
                            }
                        }
                    });
                }
                drop(tx);
            });
        });
        // The writer: rows in plan order.
        let mut waiting: BTreeMap<usize, Row> = BTreeMap::new();
        let mut want = 0usize;
        for (i, row) in rx.iter() {
            waiting.insert(i, row);
            while let Some(row) = waiting.remove(&want) {
                want += 1;
                outcome.ran += 1;
                if !row.ok() {
                    outcome.failed += 1;
                    failed_total += 1;
                }
                progress.done(&row);
                if let Err(e) = writer.write(row) {
                    stop.store(true, Ordering::Relaxed);
                    return Err(e);
                }
                if opts.stop_after.is_some_and(|n| outcome.ran >= n) {
                    stop.store(true, Ordering::Relaxed);
                    outcome.interrupted = true;
                    return Ok(());
                }
            }
        }
        Ok(())
    });
    progress.finish();
    result?;
    outcome.failed_total = failed_total;
    if !outcome.interrupted {
        writer.finish()?;
    }
    outcome.elapsed_s = started.elapsed().as_secs_f64();
    Ok(outcome)
}

fn header_len(csv: &Path) -> Result<u64, BatchError> {
    let f = std::fs::File::open(csv).map_err(|e| BatchError::Io {
        path: csv.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut r = crate::table::CsvReader::new(f);
    r.record().map_err(|e| BatchError::Io {
        path: csv.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(r.offset)
}

/// Progress: an indicatif bar with rate and ETA on a terminal, else a line every 5%.
struct Reporter {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    total: u64,
    skipped: u64,
    done: u64,
    started: Instant,
}

impl Reporter {
    fn new(mode: Progress, total: u64, skipped: u64) -> Reporter {
        let terminal = std::io::stderr().is_terminal();
        let bar = (mode == Progress::Auto && terminal).then(|| {
            let b = indicatif::ProgressBar::new(total);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} runs  {per_sec}  eta {eta}  {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        let lines = mode == Progress::Lines || (mode == Progress::Auto && !terminal);
        if lines && skipped > 0 {
            eprintln!("resuming: {skipped} runs already done, {total} to run");
        }
        Reporter {
            bar,
            lines,
            total,
            skipped,
            done: 0,
            started: Instant::now(),
        }
    }

    fn done(&mut self, row: &Row) {
        self.done += 1;
        if let Some(b) = &self.bar {
            b.inc(1);
            if let Some(e) = &row.error {
                b.println(format!("run {} failed: {}", row.index, first_line(e)));
            }
        } else if self.lines {
            if let Some(e) = &row.error {
                eprintln!(
                    "run {} (seed {}) failed: {}",
                    row.index,
                    row.seed,
                    first_line(e)
                );
            }
            let step = (self.total / 20).max(1);
            if self.done.is_multiple_of(step) || self.done == self.total {
                let secs = self.started.elapsed().as_secs_f64().max(1e-9);
                let rate = self.done as f64 / secs;
                let eta = (self.total - self.done) as f64 / rate.max(1e-9);
                eprintln!(
                    "{}/{} runs done ({} resumed), {:.2} runs/s, eta {:.0} s",
                    self.done, self.total, self.skipped, rate, eta
                );
            }
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish();
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Used by tournaments to name the strategy axes.
pub fn strategy_path(nation: &str) -> ParamPath {
    ParamPath::parse(&format!("nation.\"{nation}\".strategy")).expect("a quoted name parses")
}
