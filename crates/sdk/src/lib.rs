//! Write a chokepoint strategy in safe Rust.
//!
//! A strategy is a `cdylib` crate that depends on this crate alone. It implements
//! [`Strategy`] — create itself from the parameters in the world file, then decide each
//! tick from an [`Observation`] into [`Actions`] — and exports itself with
//! [`export_strategy!`]. The macro writes the C entry points the engine looks for and
//! catches any panic inside the plugin, where it can still be caught, turning it into an
//! error the engine reports with the plugin's, the nation's and the tick's names.
//!
//! ```
//! use chokepoint_sdk::prelude::*;
//!
//! /// Puts a tariff on every rival whose price undercuts home by more than `margin`.
//! struct Guard { margin: f64, rate: f64 }
//!
//! impl Strategy for Guard {
//!     fn create(params: &Params, _ctx: &Context) -> Result<Self, String> {
//!         Ok(Guard { margin: params.f64_or("margin", 0.2)?, rate: params.f64_or("rate", 0.1)? })
//!     }
//!     fn decide(&mut self, obs: &Observation, actions: &mut Actions) {
//!         for m in obs.markets() {
//!             let Some(home) = obs.price(m, obs.me()) else { continue };
//!             for n in obs.nations().filter(|&n| n != obs.me()) {
//!                 if obs.price(m, n).is_some_and(|p| p < home * (1.0 - self.margin)) {
//!                     actions.set_tariff(m, n, self.rate);
//!                 }
//!             }
//!         }
//!     }
//! }
//! chokepoint_sdk::export_strategy!(Guard, "guard");
//! # fn main() {}
//! ```
//!
//! The [`testing`] module runs a strategy in-process on a hand-made observation, with no
//! shared library and no world file, so a strategy's rules can be unit-tested.

mod actions;
#[doc(hidden)]
pub mod export;
mod negotiation;
mod observation;
mod params;
pub mod testing;

pub use actions::{Actions, Licence};
pub use chokepoint_abi as abi;
pub use negotiation::{
    Agreement, AgreementStatus, HistoryEvent, Move, Notice, Offer, OpenOptions, Session,
    SessionKind, SessionStatus, Standing, Term,
};
pub use observation::{Firm, Flow, MarketId, NationId, Observation, Pipeline, Stockpile};
pub use params::Params;

/// What a strategy is handed at creation besides its parameters.
pub struct Context {
    seed: u64,
    logger: Logger,
}

impl Context {
    #[doc(hidden)]
    pub fn new(seed: u64, logger: Logger) -> Self {
        Context { seed, logger }
    }
    /// This agent's own RNG seed, derived by the engine from the run seed and the
    /// nation: seed your generator with it and runs stay reproducible.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// A logger that writes into the engine's log, tagged with this agent.
    pub fn logger(&self) -> Logger {
        self.logger
    }
}

/// Logs through the host (a plugin's own `tracing` would go nowhere).
#[derive(Clone, Copy)]
pub struct Logger {
    host: Option<abi::HostApi>,
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("connected", &self.host.is_some())
            .finish()
    }
}

impl Logger {
    #[doc(hidden)]
    pub fn new(host: Option<abi::HostApi>) -> Self {
        Logger { host }
    }
    fn log(&self, level: u32, msg: &str) {
        if let Some(h) = self.host {
            (h.log)(h.ctx, level, abi::View::of(msg.as_bytes()));
        }
    }
    pub fn warn(&self, msg: &str) {
        self.log(2, msg)
    }
    pub fn info(&self, msg: &str) {
        self.log(3, msg)
    }
    pub fn debug(&self, msg: &str) {
        self.log(4, msg)
    }
}

/// A nation's strategy.
pub trait Strategy: Sized + 'static {
    /// Build from the `params` table given for this nation in the world file. Return
    /// `Err` with a message naming the parameter and the fix for bad parameters.
    fn create(params: &Params, ctx: &Context) -> Result<Self, String>;
    /// Decide this tick's actions. Called once per tick, after the timeline's events
    /// and before markets clear.
    fn decide(&mut self, obs: &Observation, actions: &mut Actions);
}

/// Everything a strategy file needs.
pub mod prelude {
    pub use crate::{
        Actions, Agreement, AgreementStatus, Context, Licence, Logger, MarketId, Move, NationId,
        Observation, Offer, OpenOptions, Params, Session, SessionKind, SessionStatus, Standing,
        Strategy, Term,
    };
}
