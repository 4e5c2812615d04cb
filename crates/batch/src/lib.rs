//! Headless batches. Researchers run thousands of simulations; the failure modes of
//! other tools (all results in memory, replicates sharing a seed, a crash losing a
//! night's work, no way to split over a cluster) shape this crate:
//!
//! - a spec expands to a fixed, ordered plan, each run with its own seed and an id that
//!   hashes its resolved world and seed ([`spec`], [`path`]);
//! - runs go to all cores and their rows are written in plan order as they finish, so
//!   the output does not depend on the thread count ([`exec`]);
//! - the CSV is the journal: a rerun into the same directory skips finished runs;
//! - `--shard I/N` runs a deterministic subset and [`merge`] joins the shards, refusing
//!   gaps and duplicates;
//! - [`tournament`] is a batch over strategy assignments with a ranking on top.

pub mod error;
pub mod exec;
pub mod merge;
pub mod metrics;
pub mod path;
pub mod spec;
pub mod table;
pub mod tournament;

pub use error::BatchError;
pub use exec::{Options, Outcome, Progress, Shard, run_batch};
pub use merge::{Merged, merge};
pub use spec::Spec;
pub use tournament::{Ranking, Tournament};
