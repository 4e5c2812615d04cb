//! The run log: everything needed to replay a run bit-exactly, written as the run goes.
//!
//! Layout: the magic `CHOKELOG`, the format version (u32 LE), then frames. A frame is
//! `len: u32 LE | kind: u8 | payload (len bytes) | checksum: 8 bytes`, the checksum being
//! the first 8 bytes of BLAKE3 over kind and payload. The first frame is the header (JSON,
//! so any tool can read the provenance); each tick is one frame (postcard) with the
//! actions strategies took, the events, and the digest of the state after the tick.
//! Every K ticks (the header's `snapshot_every`) a snapshot frame (postcard) follows the
//! tick's record: the engine's whole state after it, from which replay can seek.
//!
//! Why frames with checksums: a run killed mid-write, a disk that filled up or a file cut
//! in transfer must still read up to its last whole record, and the reader must say where
//! and why it stopped rather than panic or return garbage. Why log actions rather than
//! state: the engine is deterministic, so actions (the only input from plugins) and the
//! world file reproduce every tick, and the per-tick digest proves it.
//!
//! Architecture invariant: this crate owns the log's serde types; the engine's types are
//! not serialisable and are converted here, so the engine can change without breaking
//! old logs (a change of meaning bumps [`FORMAT_VERSION`]).

mod diff;
mod format;
mod replay;
mod snapshot;
mod types;

pub use diff::{DiffReport, diff};
pub use format::{LogContents, LogError, LogWriter, read_log, read_log_file};
pub use replay::{ReplayError, ReplayReport, replay, replay_each, replay_sequential, resume_at};
pub use snapshot::{
    LoggedAdaptation, LoggedAgreement, LoggedEnforcement, LoggedFirm, LoggedMarket,
    LoggedNegotiation, LoggedSession, LoggedSolution, LoggedState, SnapshotEntry,
};
pub use types::{
    ForkInfo, Header, LoggedAction, LoggedLicence, LoggedNeg, LoggedTerm, PluginInfo, TickEntry,
    from_engine, to_engine,
};

/// Bumped on any change of layout or meaning. Version 2 added snapshot frames (kind 3)
/// and the header's `snapshot_every` and `threads`; version 3 snapshots carry
/// negotiation and adaptation state; version 4 snapshots carry of each market's last
/// solution only its warm start (prices, domestic shipments, flows, export rents), not
/// the outputs the next solve recomputes.
pub const FORMAT_VERSION: u32 = 4;
/// The oldest version this reader still reads. Older snapshots do not decode as
/// version 4's, and a reader that dropped them would seek differently from the writer's
/// promise, so older logs are refused with the version that wrote them named.
pub const OLDEST_READABLE_VERSION: u32 = 4;
/// The first bytes of every log.
pub const MAGIC: &[u8; 8] = b"CHOKELOG";
