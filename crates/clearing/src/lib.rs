//! placeholder docs

mod curve;
mod error;
mod market;
mod root;
mod solver;

pub use curve::{DemandCurve, ISO_CAP_FACTOR, STEP_WIDTH_REL, SupplyCurve};
pub use error::ClearingError;
pub use market::{Arc, Market, Node};
pub use solver::{Solution, Solver};
