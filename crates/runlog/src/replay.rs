//! Replay: re-run a logged run from its world file and recorded actions, without
//! loading any plugin, and check every tick's state digest.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chokepoint_engine::Simulation;
use chokepoint_world::NationId;

use crate::{LogContents, to_engine};

#[derive(Debug, Clone, PartialEq)]
pub struct ReplayReport {
    pub ticks_verified: u64,
    pub elapsed: Duration,
    /// The reader's note when the log was cut or damaged (replay stops there).
    pub log_stopped: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("the world file stored in the log does not load: {0}")]
    World(String),
    #[error(
        "replay diverges at tick {tick}: the state digest differs from the log ({expected} logged, {found} replayed); ticks before {tick} match"
    )]
    Diverged {
        tick: u64,
        expected: String,
        found: String,
    },
    #[error("replay failed at tick {tick}: {message}")]
    Engine { tick: u64, message: String },
}

fn hex(d: &[u8; 32]) -> String {
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Replay `log` up to tick `to` (inclusive; all ticks when `None`).
pub fn replay(log: &LogContents, to: Option<u64>) -> Result<ReplayReport, ReplayError> {
    replay_each(log, to, |_| {}).map(|(report, _)| report)
}

/// Replay `log`, calling `each` with the simulation after every verified tick (its
/// `record()` holds the tick's rows): the one replay loop that export, report and diff
/// build on. Returns the report and the simulation after the last tick.
pub fn replay_each(
    log: &LogContents,
    to: Option<u64>,
    mut each: impl FnMut(&Simulation),
) -> Result<(ReplayReport, Simulation), ReplayError> {
    let started = Instant::now();
    let world = chokepoint_world::parse(Path::new(&log.header.world_path), &log.header.world_text)
        .map_err(|e| ReplayError::World(e.to_string()))?;
    let mut sim = Simulation::new(Arc::new(world), log.header.seed);
    let mut verified = 0;
    for entry in log
        .ticks
        .iter()
        .take_while(|e| to.is_none_or(|t| e.tick <= t))
    {
        for (nation, action) in &entry.actions {
            sim.submit(NationId(*nation), to_engine(action));
        }
        sim.step().map_err(|e| ReplayError::Engine {
            tick: entry.tick,
            message: e.to_string(),
        })?;
        let found = sim.state_digest();
        if found != entry.digest {
            return Err(ReplayError::Diverged {
                tick: entry.tick,
                expected: hex(&entry.digest),
                found: hex(&found),
            });
        }
        each(&sim);
        verified += 1;
    }
    Ok((
        ReplayReport {
            ticks_verified: verified,
            elapsed: started.elapsed(),
            log_stopped: log.stopped.clone(),
        },
        sim,
    ))
}
