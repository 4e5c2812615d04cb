//! Errors of a batch as a whole (a run's own failure is a row of the results, not one
//! of these).

use std::path::PathBuf;

use crate::path::PathError;

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error("{}: {message}", path.display())]
    Spec { path: PathBuf, message: String },
    #[error("the base world: {0}")]
    World(String),
    #[error("{0}")]
    Path(Box<PathError>),
    #[error("{}: axis `{axis}` has no values; give at least one", path.display())]
    EmptyAxis { path: PathBuf, axis: String },
    #[error("{}: unknown metric `{name}`{}; metrics are: {}", path.display(), suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(), crate::metrics::Family::ALL.map(|f| f.name()).join(", "))]
    UnknownMetric {
        path: PathBuf,
        name: String,
        suggestion: Option<String>,
    },
    #[error("{}: unknown strategy `{name}`{}: no plugin library found; looked in:\n{looked}", path.display(), suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownStrategy {
        path: PathBuf,
        name: String,
        suggestion: Option<String>,
        looked: String,
    },
    #[error("{}: unknown role `{name}`: roles are nations of the world{}", path.display(), suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownRole {
        path: PathBuf,
        name: String,
        suggestion: Option<String>,
    },
    #[error("--shard {0}: write I/N with 0 <= I < N, e.g. --shard 3/8")]
    BadShard(String),
    #[error("{}: {message}\n  help: it is the output of another batch; give a new --out, or the same spec and shard", dir.display())]
    OtherBatch { dir: PathBuf, message: String },
    #[error("merge: {0}")]
    Merge(String),
    #[error("writing results: {0}")]
    Output(String),
}

impl BatchError {
    /// Whether this is the user's input (exit 2) rather than a failure while running.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, BatchError::Output(_) | BatchError::Merge(_))
    }
}

impl From<PathError> for BatchError {
    fn from(e: PathError) -> Self {
        BatchError::Path(Box::new(e))
    }
}
