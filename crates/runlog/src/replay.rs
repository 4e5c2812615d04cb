//! Replay: re-run a logged run from its world file and recorded actions, without
//! loading any plugin, and check every tick's state digest.
//!
//! A full replay ([`replay`] without `to`) verifies the log in segments, in parallel on
//! rayon's pool when it has more than one thread and the log has snapshots: segment 0
//! runs from tick 0 to the tick of a snapshot, each later segment from that snapshot
//! (restored, and its digest checked against the log's record of its tick, as
//! [`resume_at`] does) to the next one's tick, verifying every digest on the way. At
//! each boundary the segment before must reach a state that is bit for bit the
//! snapshot's (the whole state the engine carries between ticks, compared as the
//! log encodes it, which is more than the digest covers); where it does not (a snapshot
//! the run did not produce) or the snapshot does not restore, that segment's
//! verification is not used and replay goes on from the state the segment before
//! reached, as a sequential replay would. So every logged digest is verified by a
//! simulation that started from tick 0 or from the very state a verified replay reached
//! at that tick, and a restored simulation steps bit-identically to the one its state
//! was taken from (the engine's invariant, tested against full replays): the chain is
//! exactly as strong as a sequential replay, not a sampling of it. Errors are what a
//! sequential replay reports (the first divergent tick), whatever the thread count:
//! segments are judged in tick order once all have run.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
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
    /// Into how many segments a full replay was cut to verify them in parallel (1:
    /// sequentially; a segment whose start the one before did not reach exactly is
    /// verified again from where that one ended, and not counted).
    pub segments: usize,
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
///
/// The full verification runs segments between snapshots in parallel on the current
/// rayon pool (see the module docs); its result does not depend on the pool's size.
pub fn replay(log: &LogContents, to: Option<u64>) -> Result<ReplayReport, ReplayError> {
    let started = Instant::now();
    let mut report = match to {
        Some(t) => {
            let resumed = resume_at(log, t)?;
            replay_from(log, to, resumed, |_| {})?.0
        }
        None => replay_segments(log, rayon::current_num_threads())?,
    };
    report.elapsed = started.elapsed();
    Ok(report)
}

/// The full verification in one segment, from tick 0, whatever the pool's size (the
/// engine still clears a tick's markets on the pool): what [`replay`] without `to` did
/// before it verified segments in parallel, kept to compare with it.
pub fn replay_sequential(log: &LogContents) -> Result<ReplayReport, ReplayError> {
    replay_segments(log, 1)
}

/// One segment of a full replay: from tick 0 or the snapshot `start` (an index into
/// `log.snapshots`), through tick `last`; `next` is the snapshot after `last`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// Its place in tick order.
    index: usize,
    start: Option<usize>,
    last: u64,
    next: Option<usize>,
}

/// The segments of a full replay, cut at snapshots. Tick 0 solves every market from
/// autarky, without a warm start, and costs as much as dozens of later ticks (about 40%
/// of replaying the bundled world's 120 ticks), so the first segment ends at the first
/// snapshot; the others hold at least 1/(4 x threads) of the ticks each, so that a
/// pool's threads share them evenly without a restore for every snapshot of a log
/// that has many.
fn segments(log: &LogContents, threads: usize) -> Vec<Segment> {
    let n = log.ticks.len() as u64;
    let mut cuts: Vec<usize> = Vec::new();
    if threads > 1 && n > 0 {
        let want = (4 * threads) as u64;
        let mut from = 0u64;
        for (k, s) in log.snapshots.iter().enumerate() {
            // A cut after tick s.tick; none at the last tick (nothing would follow it).
            let left = (s.tick + 1).saturating_sub(from);
            if s.tick + 1 < n && left > 0 && (cuts.is_empty() || left * want >= n) {
                cuts.push(k);
                from = s.tick + 1;
            }
        }
    }
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut start = None;
    for &k in &cuts {
        out.push(Segment {
            index: out.len(),
            start,
            last: log.snapshots[k].tick,
            next: Some(k),
        });
        start = Some(k);
    }
    out.push(Segment {
        index: out.len(),
        start,
        last: n.saturating_sub(1),
        next: None,
    });
    out
}

/// What a segment's replay gave: the simulation after its last tick and whether its
/// state is bit for bit the next snapshot's; `None` when its snapshot did not restore
/// the logged state (a sequential replay does not read snapshots, so that is not an
/// error, only a segment that cannot be used).
type SegmentRun = Option<Result<(Simulation, bool), ReplayError>>;

/// The snapshot `k` restored, with its digest checked against the log's record of
/// its tick.
fn restore_snapshot(
    log: &LogContents,
    world: &Arc<chokepoint_world::World>,
    k: usize,
) -> Option<Simulation> {
    let snap = &log.snapshots[k];
    let state = snap.state.to_engine().ok()?;
    let sim = Simulation::from_state(world.clone(), log.header.seed, &state).ok()?;
    (sim.state_digest() == log.ticks[snap.tick as usize].digest).then_some(sim)
}

/// Whether `sim`'s state is bit for bit the state of snapshot `k`.
fn matches_snapshot(log: &LogContents, sim: &Simulation, k: usize) -> bool {
    let ours = crate::LoggedState::from_engine(&sim.engine_state());
    match (
        postcard::to_allocvec(&ours),
        postcard::to_allocvec(&log.snapshots[k].state),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Replay ticks `first..=last` on `sim`, verifying every digest.
fn verify_ticks(
    log: &LogContents,
    sim: &mut Simulation,
    first: u64,
    last: u64,
) -> Result<(), ReplayError> {
    let ticks = log.ticks.get(first as usize..=last as usize).unwrap_or(&[]);
    for entry in ticks {
        step_verified(sim, entry)?;
    }
    Ok(())
}

/// Apply a logged tick's actions, step, and check the state digest against the log.
pub(crate) fn step_verified(
    sim: &mut Simulation,
    entry: &crate::TickEntry,
) -> Result<(), ReplayError> {
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
    Ok(())
}

/// The full verification in segments (see the module docs); with one segment (one
/// thread, or no snapshots) the sequential loop.
fn replay_segments(log: &LogContents, threads: usize) -> Result<ReplayReport, ReplayError> {
    let started = Instant::now();
    let segs = segments(log, threads);
    if segs.len() == 1 {
        return Ok(replay_from(log, None, None, |_| {})?.0);
    }
    let world = load_world(log)?;
    let first = |s: &Segment| s.start.map_or(0, |k| log.snapshots[k].tick + 1);
    // Each of the pool's threads takes the next segment not yet taken, in tick order:
    // segment 0, the longest (see `segments`), starts first, and the others share
    // the remaining ones as they finish (rayon's splitting would hand a thread a
    // fixed half, whatever its segments cost).
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<SegmentRun>>> = segs.iter().map(|_| Mutex::new(None)).collect();
    let run = |seg: &Segment| -> SegmentRun {
        let mut sim = match seg.start {
            None => Simulation::new(world.clone(), log.header.seed),
            Some(k) => restore_snapshot(log, &world, k)?,
        };
        Some(verify_ticks(log, &mut sim, first(seg), seg.last).map(|()| {
            let matches = seg.next.is_some_and(|k| matches_snapshot(log, &sim, k));
            (sim, matches)
        }))
    };
    use rayon::prelude::*;
    (0..threads.min(segs.len()))
        .into_par_iter()
        .with_max_len(1)
        .for_each(|_| {
            while let Some(seg) = segs.get(next.fetch_add(1, Ordering::Relaxed)) {
                let done = run(seg);
                *slots[seg.index].lock().unwrap_or_else(|e| e.into_inner()) = Some(done);
            }
        });
    let runs = slots.into_iter().map(|slot| {
        slot.into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .expect("every segment was run")
    });
    // Judge in tick order. `reached`: the verified simulation after the segment before,
    // and whether it is bit for bit the snapshot this segment starts from.
    let mut reached: Option<(Simulation, bool)> = None;
    let mut used = 0;
    for (seg, run) in segs.iter().zip(runs) {
        let (sim, matches) = match (reached.take(), run) {
            // Segment 0, or a segment whose start the one before reached exactly.
            (None, Some(run)) | (Some((_, true)), Some(run)) => {
                used += 1;
                run?
            }
            (None, None) => unreachable!("segment 0 starts from tick 0"),
            // Otherwise go on from where the segment before ended.
            (Some((mut sim, _)), _) => {
                verify_ticks(log, &mut sim, first(seg), seg.last)?;
                let matches = seg.next.is_some_and(|k| matches_snapshot(log, &sim, k));
                (sim, matches)
            }
        };
        reached = Some((sim, matches));
    }
    Ok(ReplayReport {
        ticks_verified: log.ticks.len() as u64,
        elapsed: started.elapsed(),
        log_stopped: log.stopped.clone(),
        from_snapshot: None,
        segments: used,
    })
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
        step_verified(&mut sim, entry)?;
        each(&sim);
        verified += 1;
    }
    Ok((
        ReplayReport {
            ticks_verified: verified,
            elapsed: started.elapsed(),
            log_stopped: log.stopped.clone(),
            from_snapshot,
            segments: 1,
        },
        sim,
    ))
}
