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
    /// The snapshot replay started from (the tick after which it was taken), when it
    /// seeked; ticks up to it were not re-run.
    pub from_snapshot: Option<u64>,
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
    #[error(
        "the snapshot after tick {tick} does not restore the logged state: {message} (replay without --to verifies the log from tick 0)"
    )]
    Snapshot { tick: u64, message: String },
}

fn hex(d: &[u8; 32]) -> String {
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Replay `log` up to tick `to` (inclusive), seeking from the latest snapshot at or
/// before `to`; with `None`, every tick from 0 (the full verification).
pub fn replay(log: &LogContents, to: Option<u64>) -> Result<ReplayReport, ReplayError> {
    let started = Instant::now();
    let resumed = match to {
        Some(t) => resume_at(log, t)?,
        None => None,
    };
    let (mut report, _) = replay_from(log, to, resumed, |_| {})?;
    report.elapsed = started.elapsed();
    Ok(report)
}

fn load_world(log: &LogContents) -> Result<Arc<chokepoint_world::World>, ReplayError> {
    chokepoint_world::parse(Path::new(&log.header.world_path), &log.header.world_text)
        .map(Arc::new)
        .map_err(|e| ReplayError::World(e.to_string()))
}

/// The simulation restored from the latest snapshot taken after a tick `<= to` (None
/// when the log has none), with its digest checked against the log's record of that
/// tick.
pub fn resume_at(log: &LogContents, to: u64) -> Result<Option<(u64, Simulation)>, ReplayError> {
    let Some(snap) = log
        .snapshots
        .iter()
        .rev()
        .find(|s| s.tick <= to && (s.tick as usize) < log.ticks.len())
    else {
        return Ok(None);
    };
    let world = load_world(log)?;
    let refused = |message: String| ReplayError::Snapshot {
        tick: snap.tick,
        message,
    };
    let state = snap.state.to_engine().map_err(refused)?;
    let sim = Simulation::from_state(world, log.header.seed, &state)
        .map_err(|e| refused(e.to_string()))?;
    let logged = log.ticks[snap.tick as usize].digest;
    let found = sim.state_digest();
    if found != logged {
        return Err(ReplayError::Snapshot {
            tick: snap.tick,
            message: format!(
                "its state digest is {}, the log recorded {} for that tick",
                hex(&found),
                hex(&logged)
            ),
        });
    }
    Ok(Some((snap.tick, sim)))
}

/// Replay `log`, calling `each` with the simulation after every verified tick (its
/// `record()` holds the tick's rows): the one replay loop that export, report and diff
/// build on. Returns the report and the simulation after the last tick.
pub fn replay_each(
    log: &LogContents,
    to: Option<u64>,
    each: impl FnMut(&Simulation),
) -> Result<(ReplayReport, Simulation), ReplayError> {
    replay_from(log, to, None, each)
}

/// The replay loop, from tick 0 or from a restored snapshot.
fn replay_from(
    log: &LogContents,
    to: Option<u64>,
    resumed: Option<(u64, Simulation)>,
    mut each: impl FnMut(&Simulation),
) -> Result<(ReplayReport, Simulation), ReplayError> {
    let started = Instant::now();
    let (from_snapshot, mut sim, skip) = match resumed {
        Some((tick, sim)) => (Some(tick), sim, tick as usize + 1),
        None => (None, Simulation::new(load_world(log)?, log.header.seed), 0),
    };
    let mut verified = 0;
    for entry in log
        .ticks
        .iter()
        .skip(skip)
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
            from_snapshot,
        },
        sim,
    ))
}
