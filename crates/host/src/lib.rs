//! The plugin host: finds each nation's strategy library, checks its ABI version before
//! calling anything else, creates one instance per nation, and every tick hands each
//! instance its observation and turns its actions into engine actions.
//!
//! Faults are contained and named. A library that is missing, not loadable, lacks the
//! entry symbols or speaks another ABI version is refused at load with every place
//! looked in or both versions. A strategy that panics (caught inside the plugin by the
//! SDK) or returns an invalid action (NaN, negative quantity, unknown id) yields a
//! [`HostError`] naming the plugin, the nation and the tick; with
//! [`OnPluginError::SkipAgent`] that nation stops acting and the run goes on.
//!
//! Architecture invariant: libraries are never unloaded (unloading a library that used
//! thread-locals is unsound), so every loaded library is leaked for the process's life.
//! Agents are stepped in nation-id order, one at a time, so the order of their actions
//! is deterministic.

mod agent;
mod error;
mod lookup;
mod observe;
mod plugin;

pub use agent::{Agent, Host, OnPluginError};
pub use error::HostError;
pub use lookup::SearchPath;
pub use plugin::Plugin;
