//! The chokepoint engine: a bevy_ecs world of nations, firms and markets, and the tick
//! schedule that turns policies into production, trade flows and prices.
//!
//! The engine does no file I/O and knows nothing of plugins or log formats: it is built
//! from a checked [`chokepoint_world::World`], stepped with [`Simulation::step`], and
//! each tick leaves its rows in a [`TickRecord`] for the caller to write wherever it
//! likes. That keeps data flowing one way (world file -> ECS -> systems -> record) and
//! lets tests drive the engine without touching the disk.
//!
//! Architecture invariant: every system iterates entities in id order (ids come from
//! names), never in query or hash order, and the schedule runs single-threaded with
//! ambiguity detection set to error. The same world and seed give bit-identical
//! records.

pub mod accounting;
pub mod adaptation;
pub mod components;
mod digest;
pub mod investment;
pub mod levers;
mod market;
pub mod negotiation;
pub mod recycling;
pub mod resources;
mod sim;
pub mod state;
mod systems;

pub use market::{MarketState, TradeCostTable};
pub use resources::*;
pub use sim::{Phase, Simulation};
pub use state::{EngineState, StateMismatch};
pub use systems::{ACCOUNTING_TOLERANCE, licence_name};

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error("tick {tick}: accounting check failed at {entity}: {what} (amount {amount})")]
    Invariant {
        tick: u64,
        entity: String,
        what: String,
        amount: f64,
    },
    #[error("tick {tick}: market {market} could not clear: {message}")]
    Clearing {
        tick: u64,
        market: String,
        message: String,
    },
}
