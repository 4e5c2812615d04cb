//! One run's loop, shared by `chokepoint run`, `fork` and the batch runner, so that a
//! run in a sweep is exactly the run a user would get from `chokepoint run` with the same
//! world and seed. The loop owns nothing but the simulation: where the ticks go (tables,
//! a log, metrics) is the caller's callback, so sinks can be added or left out per use.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use chokepoint_engine::{EngineError, Simulation};
use chokepoint_host::{Host, HostError, OnPluginError, SearchPath};
use chokepoint_runlog::{ForkInfo, Header, PluginInfo, TickEntry};
use chokepoint_world::World;

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Host(#[from] HostError),
    #[error("{0}")]
    Engine(#[from] EngineError),
    #[error("tick {tick}: the replayed state differs from the log being followed")]
    Diverged { tick: u64 },
    /// A sink (the caller's callback) failed.
    #[error("{0}")]
    Sink(String),
}

/// Where a tick's actions come from: the strategies, or a log being followed.
pub enum Source<'a> {
    Plugins(&'a mut Host),
    Recorded(&'a TickEntry),
}

/// One stepped tick: what the log records, and strategy faults that were contained
/// (with [`OnPluginError::SkipAgent`]) and did not stop the run.
pub struct Ticked {
    pub entry: TickEntry,
    pub contained: Vec<HostError>,
}

/// Load the strategies bound in `world`.
pub fn load_host(
    world: &World,
    seed: u64,
    search: &SearchPath,
    policy: OnPluginError,
) -> Result<Host, HostError> {
    Host::load(world, seed, search, policy)
}

/// Collect the tick's actions, step, and check the digest when following a log.
pub fn step(sim: &mut Simulation, source: Source) -> Result<Ticked, RunError> {
    let (expected, contained) = match source {
        Source::Plugins(host) => (None, host.decide(sim)?),
        Source::Recorded(entry) => {
            for (n, a) in &entry.actions {
                sim.submit(
                    chokepoint_world::NationId(*n),
                    chokepoint_runlog::to_engine(a),
                );
            }
            (Some(entry.digest), Vec::new())
        }
    };
    let actions: Vec<(u32, chokepoint_runlog::LoggedAction)> = sim
        .pending_actions()
        .iter()
        .map(|(n, a)| (n.0, chokepoint_runlog::from_engine(a)))
        .collect();
    sim.step()?;
    let digest = sim.state_digest();
    let record = sim.record();
    if expected.is_some_and(|d| d != digest) {
        return Err(RunError::Diverged { tick: record.tick });
    }
    let entry = TickEntry {
        tick: record.tick,
        actions,
        events: record
            .events
            .iter()
            .map(|e| (e.kind.clone(), e.detail.clone()))
            .collect(),
        digest,
    };
    Ok(Ticked { entry, contained })
}

/// Run `ticks` ticks with the strategies of `host` from a fresh simulation, calling
/// `on_tick` after every tick (the simulation's `record()` is that tick's rows). Returns
/// the simulation at the end.
pub fn run(
    world: &Arc<World>,
    host: &mut Host,
    seed: u64,
    ticks: u64,
    mut on_tick: impl FnMut(&Simulation, &Ticked) -> Result<(), RunError>,
) -> Result<Simulation, RunError> {
    let mut sim = Simulation::new(world.clone(), seed);
    for _ in 0..ticks {
        let t = step(&mut sim, Source::Plugins(host))?;
        on_tick(&sim, &t)?;
    }
    Ok(sim)
}

/// BLAKE3 of this executable, hex ("" if it cannot be read). Computed once per process.
pub fn engine_build() -> String {
    static BUILD: OnceLock<String> = OnceLock::new();
    BUILD
        .get_or_init(|| {
            std::env::current_exe()
                .and_then(std::fs::read)
                .map(|b| blake3::hash(&b).to_hex().to_string())
                .unwrap_or_default()
        })
        .clone()
}

/// Provenance for a new log.
pub fn header_for(
    world: &World,
    world_path: &Path,
    seed: u64,
    ticks: u64,
    host: &Host,
    forked_from: Option<ForkInfo>,
) -> Header {
    Header {
        format_version: chokepoint_runlog::FORMAT_VERSION,
        engine_version: env!("CARGO_PKG_VERSION").to_string(),
        engine_build: engine_build(),
        world_name: world.name.clone(),
        world_path: world_path.display().to_string(),
        world_text: world.source.text.clone(),
        world_hash: world.hash.clone(),
        seed,
        ticks_requested: ticks,
        command_line: std::env::args().collect(),
        plugins: host
            .plugins()
            .iter()
            .map(|p| PluginInfo {
                name: p.name.clone(),
                path: p.path.display().to_string(),
                abi_version: p.abi_version,
                hash: p.hash.clone(),
                sha256: p.sha256.clone(),
                nations: host
                    .agents()
                    .iter()
                    .filter(|a| a.plugin.path == p.path)
                    .map(|a| a.nation_name.clone())
                    .collect(),
            })
            .collect(),
        forked_from,
        snapshot_every: 0,
        threads: rayon::current_num_threads() as u32,
    }
}
