//! `chokepoint run`: load, step, write tables as we go, summarise.

use std::sync::Arc;

use chokepoint_engine::Simulation;
use chokepoint_host::SearchPath;
use chokepoint_runlog::LogWriter;
use chokepoint_tables::CsvTables;

use crate::summary::Summary;
use crate::{Failure, RunArgs};

/// Default years between snapshots. Seeking replays up to this many years of ticks after
/// the nearest snapshot (0.6 to 0.7 ms a tick on the calibrated world), and each
/// snapshot costs about a tick's time to take and check (the check rebuilds a simulation
/// from it): at one a year snapshots were ~10% of a run's time, at one every five years
/// a few percent, and a seek replays at most 59 monthly ticks (~40 ms).
const SNAPSHOT_YEARS: u64 = 5;

pub fn run(args: &RunArgs, quiet: bool) -> Result<(), Failure> {
    let world = Arc::new(
        chokepoint_world::load(&args.world).map_err(|e| Failure::BadInput(e.to_string()))?,
    );
    let mut tables = CsvTables::create(&args.out).map_err(|e| Failure::BadInput(e.to_string()))?;
    let policy = match args.on_plugin_error {
        crate::OnPluginError::Abort => chokepoint_host::OnPluginError::Abort,
        crate::OnPluginError::SkipAgent => chokepoint_host::OnPluginError::SkipAgent,
    };
    let search = SearchPath::new(args.agents.clone(), Some(&args.world));
    let mut host = chokepoint_runner::load_host(&world, args.seed, &search, policy)
        .map_err(|e| Failure::BadInput(format!("error: {e}")))?;
    for p in host.plugins() {
        tracing::info!(plugin = %p.name, path = %p.path.display(), abi = p.abi_version, hash = %p.hash, "plugin");
    }
    let mut header = header_for(&world, &args.world, args.seed, args.ticks, &host, None);
    header.snapshot_every = args
        .snapshot_every
        .unwrap_or(SNAPSHOT_YEARS * u64::from(world.ticks_per_year.max(1)));
    let log_path = args.log.clone().unwrap_or_else(|| args.out.join("run.log"));
    let mut log = LogWriter::create(&log_path, &header)
        .map_err(|e| Failure::BadInput(format!("error: {e}")))?;
    let mut sim = Simulation::new(world.clone(), args.seed);
    let mut summary = Summary::new(&world);
    tracing::info!(world = %world.name, ticks = args.ticks, seed = args.seed, out = %args.out.display(), "run starting");
    let started = std::time::Instant::now();
    let mut out = Outputs {
        tables: &mut tables,
        log: &mut log,
        summary: &mut summary,
        dir: &args.out,
    };
    for _ in 0..args.ticks {
        tick(&world, &mut sim, Source::Plugins(&mut host), &mut out)?;
    }
    tables.flush().map_err(|e| Failure::Run(e.to_string()))?;
    log.flush().map_err(|e| Failure::Run(e.to_string()))?;
    let elapsed = started.elapsed();
    if !quiet {
        print!("{}", summary.render(&world, args.ticks, elapsed));
        println!(
            "tables written to {}; run log {} ({} bytes)",
            args.out.display(),
            log_path.display(),
            log.bytes_written()
        );
    }
    Ok(())
}

/// Size rayon's global pool (`--threads`): the pool parallel engine work runs on.
pub fn set_threads(threads: Option<usize>) -> Result<(), Failure> {
    let Some(n) = threads else {
        return Ok(());
    };
    if n == 0 {
        return Err(Failure::BadInput(
            "error: --threads 0: give at least one thread (or leave it out for one per core)"
                .into(),
        ));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .map_err(|e| Failure::Run(format!("cannot start {n} worker threads: {e}")))
}

/// `chokepoint replay LOG [--to T]`.
pub fn replay(path: &std::path::Path, to: Option<u64>) -> Result<(), Failure> {
    let log = chokepoint_runlog::read_log_file(path)
        .map_err(|e| Failure::BadInput(format!("error: {}: {e}", path.display())))?;
    let h = &log.header;
    println!(
        "log {}: world `{}` ({}), seed {}, {} ticks recorded, plugins: {}",
        path.display(),
        h.world_name,
        &h.world_hash[..16.min(h.world_hash.len())],
        h.seed,
        log.ticks.len(),
        if h.plugins.is_empty() {
            "none".to_string()
        } else {
            h.plugins
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    if let Some(why) = &log.stopped {
        eprintln!(
            "warning: the log is cut or damaged after tick {}: {why}; replaying the whole records before it",
            log.ticks.len().saturating_sub(1)
        );
    }
    let report = chokepoint_runlog::replay(&log, to).map_err(|e| {
        let this = engine_build();
        let hint = if matches!(e, chokepoint_runlog::ReplayError::Diverged { .. }) && !h.engine_build.is_empty() && h.engine_build != this {
            format!(
                "\n  note: the log was written by another build of chokepoint (build {}, this is {}); replay is bit-exact only with the same build",
                &h.engine_build[..16],
                &this[..16.min(this.len())]
            )
        } else {
            String::new()
        };
        Failure::Run(format!("{e}{hint}"))
    })?;
    let from = match report.from_snapshot {
        Some(t) => format!(" from the snapshot after tick {t} (its state digest matches the log)"),
        None => String::new(),
    };
    let segments = if report.segments > 1 {
        format!(
            ", {} segments between snapshots in parallel",
            report.segments
        )
    } else {
        String::new()
    };
    println!(
        "replayed and verified {} ticks{from} in {:.3} s ({:.0} ticks/s{segments}): every state digest matches the log",
        report.ticks_verified,
        report.elapsed.as_secs_f64(),
        report.ticks_verified as f64 / report.elapsed.as_secs_f64().max(1e-9)
    );
    Ok(())
}

pub use chokepoint_runner::{Source, header_for};

pub struct Outputs<'a> {
    pub tables: &'a mut CsvTables,
    pub log: &'a mut LogWriter,
    pub summary: &'a mut Summary,
    pub dir: &'a std::path::Path,
}

/// One tick: collect actions, step, log, write tables. On failure everything written so
/// far is flushed and kept.
pub fn tick(
    world: &chokepoint_world::World,
    sim: &mut Simulation,
    source: Source,
    out: &mut Outputs,
) -> Result<(), Failure> {
    let fail = |out: &mut Outputs, e: String| {
        let _ = out.tables.flush();
        let _ = out.log.flush();
        Failure::Run(format!(
            "{e}\n  the tables and log up to the previous tick are in {}",
            out.dir.display()
        ))
    };
    let ticked = match chokepoint_runner::step(sim, source) {
        Ok(t) => t,
        Err(e) => return Err(fail(out, e.to_string())),
    };
    for e in &ticked.contained {
        eprintln!("warning: {e}; that nation's strategy is skipped from now on");
    }
    let entry = ticked.entry;
    let record = sim.record();
    out.log
        .write_tick_of(sim, &entry)
        .map_err(|e| Failure::Run(e.to_string()))?;
    out.tables
        .write_tick(world, sim.firm_names(), record)
        .map_err(|e| Failure::Run(e.to_string()))?;
    out.summary.add(world, record);
    Ok(())
}

/// BLAKE3 of this executable, hex ("" if it cannot be read).
pub fn engine_build() -> String {
    chokepoint_runner::engine_build()
}
