//! Typed errors naming the offending node or arc, so that a bad world file
//! or an engine bug can be traced without a debugger. The solver never
//! panics on bad numbers; it reports them here.

/// Why a market could not be solved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClearingError {
    #[error("node {node}: invalid supply curve: {reason}")]
    InvalidSupply { node: usize, reason: &'static str },
    #[error("node {node}: invalid demand curve: {reason}")]
    InvalidDemand { node: usize, reason: &'static str },
    #[error("node {node}: curve modified after finish() (call finish() before solving)")]
    UnfinishedCurve { node: usize },
    #[error("node {node}: export cap must be >= 0 (infinity for none), not NaN")]
    InvalidExportCap { node: usize },
    #[error("arc {arc}: {reason}")]
    InvalidArc { arc: usize, reason: &'static str },
    #[error("route rule: {reason}")]
    InvalidRoutes { reason: &'static str },
    #[error("arc {arc} duplicates arc {first} (same exporter and importer)")]
    DuplicateArc { arc: usize, first: usize },
    #[error(
        "node {node}: equilibrium price exceeds the range of f64 (demand never falls to the available supply)"
    )]
    PriceOverflow { node: usize },
}
