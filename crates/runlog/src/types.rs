//! The log's own serialisable mirror of what a run records.

use chokepoint_engine::PolicyAction;
use chokepoint_world::{Lever, Licence, MarketId, NationId};
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
    /// Adaptation levers (issue 8). Appended last so earlier logs decode unchanged.
    Lever(LoggedLever),
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum LoggedLever {
    RecyclingSubsidy {
        market: u32,
        usd_per_t: f64,
    },
    FundRecycling {
        market: u32,
        t_per_year: f64,
        usd_per_tpy: f64,
    },
    FundSubstitution {
        market: u32,
        usd: f64,
    },
    CapacitySubsidy {
        market: u32,
        share: f64,
    },
    StockMandate {
        market: u32,
        cover_ticks: f64,
    },
}

fn lever_from_engine(l: &Lever) -> LoggedLever {
    match *l {
        Lever::RecyclingSubsidy { market, usd_per_t } => LoggedLever::RecyclingSubsidy {
            market: market.0,
            usd_per_t,
        },
        Lever::FundRecycling {
            market,
            t_per_year,
            usd_per_tpy,
        } => LoggedLever::FundRecycling {
            market: market.0,
            t_per_year,
            usd_per_tpy,
        },
        Lever::FundSubstitution { market, usd } => LoggedLever::FundSubstitution {
            market: market.0,
            usd,
        },
        Lever::CapacitySubsidy { market, share } => LoggedLever::CapacitySubsidy {
            market: market.0,
            share,
        },
        Lever::StockMandate {
            market,
            cover_ticks,
        } => LoggedLever::StockMandate {
            market: market.0,
            cover_ticks,
        },
    }
}

fn lever_to_engine(l: &LoggedLever) -> Lever {
    match *l {
        LoggedLever::RecyclingSubsidy { market, usd_per_t } => Lever::RecyclingSubsidy {
            market: MarketId(market),
            usd_per_t,
        },
        LoggedLever::FundRecycling {
            market,
            t_per_year,
            usd_per_tpy,
        } => Lever::FundRecycling {
            market: MarketId(market),
            t_per_year,
            usd_per_tpy,
        },
        LoggedLever::FundSubstitution { market, usd } => Lever::FundSubstitution {
            market: MarketId(market),
            usd,
        },
        LoggedLever::CapacitySubsidy { market, share } => Lever::CapacitySubsidy {
            market: MarketId(market),
            share,
        },
        LoggedLever::StockMandate {
            market,
            cover_ticks,
        } => Lever::StockMandate {
            market: MarketId(market),
            cover_ticks,
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum LoggedLicence {
    Open,
    Ban,
    Quota { t_per_tick: f64 },
    Licensed { delay_ticks: u32 },
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
            licence: match licence {
                Licence::Open => LoggedLicence::Open,
                Licence::Ban => LoggedLicence::Ban,
                Licence::Quota { t_per_tick } => LoggedLicence::Quota { t_per_tick },
                Licence::Licensed { delay_ticks } => LoggedLicence::Licensed { delay_ticks },
            },
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
        PolicyAction::Lever(ref l) => LoggedAction::Lever(lever_from_engine(l)),
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
            licence: match licence {
                LoggedLicence::Open => Licence::Open,
                LoggedLicence::Ban => Licence::Ban,
                LoggedLicence::Quota { t_per_tick } => Licence::Quota { t_per_tick },
                LoggedLicence::Licensed { delay_ticks } => Licence::Licensed { delay_ticks },
            },
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
        LoggedAction::Lever(ref l) => PolicyAction::Lever(lever_to_engine(l)),
    }
}
