//! The log's own serialisable mirror of what a run records.

use chokepoint_engine::PolicyAction;
use chokepoint_world::{Licence, MarketId, NationId};
use serde::{Deserialize, Serialize};

/// Provenance: what produced this run, enough to reproduce it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format_version: u32,
    pub engine_version: String,
    /// BLAKE3 of the executable that wrote the log (hex): replay is bit-exact only with
    /// the same engine build, and this names the build when it is not.
    #[serde(default)]
    pub engine_build: String,
    pub world_name: String,
    pub world_path: String,
    pub world_text: String,
    /// BLAKE3 of the world file, hex.
    pub world_hash: String,
    pub seed: u64,
    pub ticks_requested: u64,
    pub command_line: Vec<String>,
    pub plugins: Vec<PluginInfo>,
    /// Set when this run continues another from a given tick (`chokepoint fork`).
    #[serde(default)]
    pub forked_from: Option<ForkInfo>,
    /// A snapshot of the engine state follows every tick t with (t + 1) % K == 0
    /// (0: no snapshots).
    #[serde(default)]
    pub snapshot_every: u64,
    /// Size of the worker thread pool the run used (0: not recorded). Logs are
    /// identical whatever it is; it is here to say how the run was made.
    #[serde(default)]
    pub threads: u32,
}

/// What a forked run started from and what it changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForkInfo {
    /// BLAKE3 of the parent log file, hex.
    pub parent_log_hash: String,
    pub parent_log_path: String,
    /// Ticks before this one are the parent's, replayed; strategies act from here.
    pub at_tick: u64,
    /// Human-readable changes, e.g. "United States: strategy passive".
    pub changes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginInfo {
    pub name: String,
    pub path: String,
    pub abi_version: u32,
    /// BLAKE3 of the shared library, hex.
    pub hash: String,
    /// SHA-256 of the shared library, hex (empty in logs written before it was recorded).
    #[serde(default)]
    pub sha256: String,
    /// Nations it plays.
    pub nations: Vec<String>,
}

/// One tick: what strategies did before it, what happened, and the state after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TickEntry {
    pub tick: u64,
    /// (acting nation id, action), in the order the engine applied them.
    pub actions: Vec<(u32, LoggedAction)>,
    /// (kind, detail) of the tick's events.
    pub events: Vec<(String, String)>,
    pub digest: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LoggedAction {
    SetTariff {
        market: u32,
        exporter: u32,
        rate: f64,
    },
    SetLicence {
        market: u32,
        destination: u32,
        licence: LoggedLicence,
    },
    SetFloor {
        market: u32,
        floor_usd_per_t: f64,
    },
    StockpileBuy {
        market: u32,
        t: f64,
        max_price: f64,
    },
    StockpileRelease {
        market: u32,
        t: f64,
        min_price: f64,
    },
    Invest {
        market: u32,
        host: u32,
        t_per_year: f64,
        usd_per_tpy: f64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum LoggedLicence {
    Open,
    Ban,
    Quota { t_per_tick: f64 },
    Licensed { delay_ticks: u32 },
}

pub(crate) fn licence_from_engine(l: Licence) -> LoggedLicence {
    match l {
        Licence::Open => LoggedLicence::Open,
        Licence::Ban => LoggedLicence::Ban,
        Licence::Quota { t_per_tick } => LoggedLicence::Quota { t_per_tick },
        Licence::Licensed { delay_ticks } => LoggedLicence::Licensed { delay_ticks },
    }
}

pub(crate) fn licence_to_engine(l: LoggedLicence) -> Licence {
    match l {
        LoggedLicence::Open => Licence::Open,
        LoggedLicence::Ban => Licence::Ban,
        LoggedLicence::Quota { t_per_tick } => Licence::Quota { t_per_tick },
        LoggedLicence::Licensed { delay_ticks } => Licence::Licensed { delay_ticks },
    }
}

pub fn from_engine(a: &PolicyAction) -> LoggedAction {
    match *a {
        PolicyAction::SetTariff {
            market,
            exporter,
            rate,
        } => LoggedAction::SetTariff {
            market: market.0,
            exporter: exporter.0,
            rate,
        },
        PolicyAction::SetLicence {
            market,
            destination,
            licence,
        } => LoggedAction::SetLicence {
            market: market.0,
            destination: destination.0,
            licence: licence_from_engine(licence),
        },
        PolicyAction::SetFloor {
            market,
            floor_usd_per_t,
        } => LoggedAction::SetFloor {
            market: market.0,
            floor_usd_per_t,
        },
        PolicyAction::StockpileBuy {
            market,
            t,
            max_price,
        } => LoggedAction::StockpileBuy {
            market: market.0,
            t,
            max_price,
        },
        PolicyAction::StockpileRelease {
            market,
            t,
            min_price,
        } => LoggedAction::StockpileRelease {
            market: market.0,
            t,
            min_price,
        },
        PolicyAction::Invest {
            market,
            host,
            t_per_year,
            usd_per_tpy,
        } => LoggedAction::Invest {
            market: market.0,
            host: host.0,
            t_per_year,
            usd_per_tpy,
        },
    }
}

pub fn to_engine(a: &LoggedAction) -> PolicyAction {
    match *a {
        LoggedAction::SetTariff {
            market,
            exporter,
            rate,
        } => PolicyAction::SetTariff {
            market: MarketId(market),
            exporter: NationId(exporter),
            rate,
        },
        LoggedAction::SetLicence {
            market,
            destination,
            licence,
        } => PolicyAction::SetLicence {
            market: MarketId(market),
            destination: NationId(destination),
            licence: licence_to_engine(licence),
        },
        LoggedAction::SetFloor {
            market,
            floor_usd_per_t,
        } => PolicyAction::SetFloor {
            market: MarketId(market),
            floor_usd_per_t,
        },
        LoggedAction::StockpileBuy {
            market,
            t,
            max_price,
        } => PolicyAction::StockpileBuy {
            market: MarketId(market),
            t,
            max_price,
        },
        LoggedAction::StockpileRelease {
            market,
            t,
            min_price,
        } => PolicyAction::StockpileRelease {
            market: MarketId(market),
            t,
            min_price,
        },
        LoggedAction::Invest {
            market,
            host,
            t_per_year,
            usd_per_tpy,
        } => PolicyAction::Invest {
            market: MarketId(market),
            host: NationId(host),
            t_per_year,
            usd_per_tpy,
        },
    }
}
