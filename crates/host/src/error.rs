use std::path::PathBuf;

/// What went wrong with a plugin, named so a researcher can act on it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HostError {
    #[error(
        "strategy `{strategy}` for {nation}: no plugin library found; looked in:\n{looked}\n  help: build it (`cargo build --release` builds the bundled agents), pass --agents DIR, set CHOKEPOINT_AGENT_PATH, or give a path: strategy = \"path/to/lib{file_stem}.so\""
    )]
    NotFound {
        strategy: String,
        nation: String,
        file_stem: String,
        looked: String,
    },
    #[error("plugin {path}: cannot load it as a shared library: {message}")]
    NotLoadable { path: PathBuf, message: String },
    #[error(
        "plugin {path}: missing symbol `{symbol}`: not a chokepoint strategy (export one with chokepoint_sdk::export_strategy!)"
    )]
    MissingSymbol { path: PathBuf, symbol: String },
    #[error(
        "plugin `{plugin}` ({path}) was built for ABI version {found}, this engine speaks ABI version {expected} (version 2 added negotiation, version 3 the adaptation levers); rebuild the plugin against this chokepoint's SDK"
    )]
    AbiMismatch {
        plugin: String,
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("plugin `{plugin}` ({path}) could not be created for {nation}: {message}")]
    CreateFailed {
        plugin: String,
        path: PathBuf,
        nation: String,
        message: String,
    },
    #[error("plugin `{plugin}` panicked in decide for {nation} at tick {tick}: {message}")]
    Panicked {
        plugin: String,
        nation: String,
        tick: u64,
        message: String,
    },
    #[error("plugin `{plugin}` failed in decide for {nation} at tick {tick}: {message}")]
    DecideFailed {
        plugin: String,
        nation: String,
        tick: u64,
        message: String,
    },
    #[error("plugin `{plugin}` returned an invalid action for {nation} at tick {tick}: {message}")]
    InvalidAction {
        plugin: String,
        nation: String,
        tick: u64,
        message: String,
    },
}

impl HostError {
    /// Errors that happen while running (as opposed to loading) and that
    /// `--on-plugin-error skip-agent` may contain.
    pub fn is_runtime(&self) -> bool {
        matches!(
            self,
            HostError::Panicked { .. }
                | HostError::DecideFailed { .. }
                | HostError::InvalidAction { .. }
        )
    }
}
