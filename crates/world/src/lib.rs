//! World files for chokepoint: the TOML schema, its validation, and the checked model.
//!
//! A world file is the researcher's statement of a situation: commodities and their
//! production stages, nations with their demand, firms with their capacity and costs,
//! trade costs, the policies in force and a timeline of scripted events. This crate
//! turns that text into a [`World`] whose every reference is resolved and every number
//! checked, or into a list of [`WorldError`]s that each name the file, line, column,
//! the problem and the fix. It knows nothing of the ECS, the market or plugins: the
//! engine builds from a [`World`] and never sees TOML.
//!
//! Architecture invariant: ids are assigned in name order, so the same file always
//! gives the same ids, whatever order its tables are written in.

mod error;
mod extends;
mod model;
mod schema;
mod validate;

pub use error::{SourceText, WorldError, WorldErrors};
pub use model::*;
pub use validate::{
    DEFAULT_BUILD_LAG_TICKS, DEFAULT_EXPANSION_SHARE, DEFAULT_EXPECTATION_WEIGHT,
    DEFAULT_HALF_LIFE_YEARS, DEFAULT_PAYBACK_YEARS, load, parse,
};
