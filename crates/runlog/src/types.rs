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
    /// A negotiation move, with the negotiation round of the tick it was made in.
    Negotiate {
        round: u32,
        action: LoggedNeg,
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
    if let PolicyAction::Negotiate { round, action } = a {
        return LoggedAction::Negotiate {
            round: *round,
            action: neg_mirror::from(action),
        };
    }
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
        PolicyAction::Negotiate { .. } => unreachable!("handled above"),
        PolicyAction::Lever(ref l) => LoggedAction::Lever(lever_from_engine(l)),
    }
}

pub fn to_engine(a: &LoggedAction) -> PolicyAction {
    if let LoggedAction::Negotiate { round, action } = a {
        return PolicyAction::Negotiate {
            round: *round,
            action: neg_mirror::to(action),
        };
    }
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
        LoggedAction::Lever(ref l) => PolicyAction::Lever(lever_to_engine(l)),
        LoggedAction::Negotiate { .. } => unreachable!("handled above"),
    }
}

/// A negotiation move as logged: the log's own mirror of
/// [`chokepoint_engine::negotiation::NegAction`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LoggedNeg {
    Open {
        counterparty: u32,
        public: bool,
        discount: [f64; 2],
        time_cost_usd: [f64; 2],
        deadline_rounds: u32,
        deadline_ticks: u32,
        terms: Vec<LoggedTerm>,
    },
    OpenClub {
        invitees: Vec<u32>,
        public: bool,
        deadline_ticks: u32,
        terms: Vec<LoggedTerm>,
    },
    Offer {
        session: u32,
        terms: Vec<LoggedTerm>,
    },
    Accept {
        session: u32,
    },
    Reject {
        session: u32,
    },
    Counter {
        session: u32,
        terms: Vec<LoggedTerm>,
    },
    Join {
        session: u32,
    },
    Decline {
        session: u32,
    },
    Leave {
        agreement: u32,
    },
    Renege {
        agreement: u32,
    },
}

/// Mirror of [`chokepoint_engine::negotiation::Term`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LoggedTerm {
    Offtake {
        seller: u32,
        buyer: u32,
        market: u32,
        t_per_tick: f64,
        price_usd_per_t: f64,
        duration_ticks: u32,
        penalty_usd: f64,
    },
    Tariff {
        importer: u32,
        exporter: u32,
        market: u32,
        rate: f64,
        duration_ticks: u32,
    },
    LicenceHold {
        exporter: u32,
        destination: u32,
        market: u32,
        duration_ticks: u32,
    },
    Finance {
        funder: u32,
        host: u32,
        market: u32,
        t_per_year: f64,
        usd_per_tpy: f64,
        offtake_share: f64,
        offtake_price_usd_per_t: f64,
        duration_ticks: u32,
    },
    Stockpile {
        market: u32,
        t_per_tick: f64,
        buy_below_usd_per_t: f64,
        release_above_usd_per_t: f64,
        duration_ticks: u32,
    },
    Transfer {
        from: u32,
        to: u32,
        usd: f64,
    },
    ClubFloor {
        market: u32,
        floor_usd_per_t: f64,
        member_tariff: f64,
    },
    ClubExit {
        notice_ticks: u32,
        penalty_usd: f64,
    },
}

pub(crate) mod neg_mirror {
    use super::{LoggedNeg, LoggedTerm};
    use chokepoint_engine::negotiation::{Channel, NegAction, Term};
    use chokepoint_world::{MarketId, NationId};

    fn ch(public: bool) -> Channel {
        if public {
            Channel::Public
        } else {
            Channel::Private
        }
    }

    pub fn term_from(t: &Term) -> LoggedTerm {
        match *t {
            Term::Offtake {
                seller,
                buyer,
                market,
                t_per_tick,
                price_usd_per_t,
                duration_ticks,
                penalty_usd,
            } => LoggedTerm::Offtake {
                seller: seller.0,
                buyer: buyer.0,
                market: market.0,
                t_per_tick,
                price_usd_per_t,
                duration_ticks,
                penalty_usd,
            },
            Term::Tariff {
                importer,
                exporter,
                market,
                rate,
                duration_ticks,
            } => LoggedTerm::Tariff {
                importer: importer.0,
                exporter: exporter.0,
                market: market.0,
                rate,
                duration_ticks,
            },
            Term::LicenceHold {
                exporter,
                destination,
                market,
                duration_ticks,
            } => LoggedTerm::LicenceHold {
                exporter: exporter.0,
                destination: destination.0,
                market: market.0,
                duration_ticks,
            },
            Term::Finance {
                funder,
                host,
                market,
                t_per_year,
                usd_per_tpy,
                offtake_share,
                offtake_price_usd_per_t,
                duration_ticks,
            } => LoggedTerm::Finance {
                funder: funder.0,
                host: host.0,
                market: market.0,
                t_per_year,
                usd_per_tpy,
                offtake_share,
                offtake_price_usd_per_t,
                duration_ticks,
            },
            Term::Stockpile {
                market,
                t_per_tick,
                buy_below_usd_per_t,
                release_above_usd_per_t,
                duration_ticks,
            } => LoggedTerm::Stockpile {
                market: market.0,
                t_per_tick,
                buy_below_usd_per_t,
                release_above_usd_per_t,
                duration_ticks,
            },
            Term::Transfer { from, to, usd } => LoggedTerm::Transfer {
                from: from.0,
                to: to.0,
                usd,
            },
            Term::ClubFloor {
                market,
                floor_usd_per_t,
                member_tariff,
            } => LoggedTerm::ClubFloor {
                market: market.0,
                floor_usd_per_t,
                member_tariff,
            },
            Term::ClubExit {
                notice_ticks,
                penalty_usd,
            } => LoggedTerm::ClubExit {
                notice_ticks,
                penalty_usd,
            },
        }
    }

    pub fn term_to(t: &LoggedTerm) -> Term {
        let (n, m) = (NationId, MarketId);
        match *t {
            LoggedTerm::Offtake {
                seller,
                buyer,
                market,
                t_per_tick,
                price_usd_per_t,
                duration_ticks,
                penalty_usd,
            } => Term::Offtake {
                seller: n(seller),
                buyer: n(buyer),
                market: m(market),
                t_per_tick,
                price_usd_per_t,
                duration_ticks,
                penalty_usd,
            },
            LoggedTerm::Tariff {
                importer,
                exporter,
                market,
                rate,
                duration_ticks,
            } => Term::Tariff {
                importer: n(importer),
                exporter: n(exporter),
                market: m(market),
                rate,
                duration_ticks,
            },
            LoggedTerm::LicenceHold {
                exporter,
                destination,
                market,
                duration_ticks,
            } => Term::LicenceHold {
                exporter: n(exporter),
                destination: n(destination),
                market: m(market),
                duration_ticks,
            },
            LoggedTerm::Finance {
                funder,
                host,
                market,
                t_per_year,
                usd_per_tpy,
                offtake_share,
                offtake_price_usd_per_t,
                duration_ticks,
            } => Term::Finance {
                funder: n(funder),
                host: n(host),
                market: m(market),
                t_per_year,
                usd_per_tpy,
                offtake_share,
                offtake_price_usd_per_t,
                duration_ticks,
            },
            LoggedTerm::Stockpile {
                market,
                t_per_tick,
                buy_below_usd_per_t,
                release_above_usd_per_t,
                duration_ticks,
            } => Term::Stockpile {
                market: m(market),
                t_per_tick,
                buy_below_usd_per_t,
                release_above_usd_per_t,
                duration_ticks,
            },
            LoggedTerm::Transfer { from, to, usd } => Term::Transfer {
                from: n(from),
                to: n(to),
                usd,
            },
            LoggedTerm::ClubFloor {
                market,
                floor_usd_per_t,
                member_tariff,
            } => Term::ClubFloor {
                market: m(market),
                floor_usd_per_t,
                member_tariff,
            },
            LoggedTerm::ClubExit {
                notice_ticks,
                penalty_usd,
            } => Term::ClubExit {
                notice_ticks,
                penalty_usd,
            },
        }
    }

    fn terms_from(t: &[Term]) -> Vec<LoggedTerm> {
        t.iter().map(term_from).collect()
    }
    fn terms_to(t: &[LoggedTerm]) -> Vec<Term> {
        t.iter().map(term_to).collect()
    }

    pub fn from(a: &NegAction) -> LoggedNeg {
        match a {
            NegAction::Open {
                counterparty,
                channel,
                discount,
                time_cost_usd,
                deadline_rounds,
                deadline_ticks,
                terms,
            } => LoggedNeg::Open {
                counterparty: counterparty.0,
                public: *channel == Channel::Public,
                discount: *discount,
                time_cost_usd: *time_cost_usd,
                deadline_rounds: *deadline_rounds,
                deadline_ticks: *deadline_ticks,
                terms: terms_from(terms),
            },
            NegAction::OpenClub {
                invitees,
                channel,
                deadline_ticks,
                terms,
            } => LoggedNeg::OpenClub {
                invitees: invitees.iter().map(|n| n.0).collect(),
                public: *channel == Channel::Public,
                deadline_ticks: *deadline_ticks,
                terms: terms_from(terms),
            },
            NegAction::Offer { session, terms } => LoggedNeg::Offer {
                session: *session,
                terms: terms_from(terms),
            },
            NegAction::Accept { session } => LoggedNeg::Accept { session: *session },
            NegAction::Reject { session } => LoggedNeg::Reject { session: *session },
            NegAction::Counter { session, terms } => LoggedNeg::Counter {
                session: *session,
                terms: terms_from(terms),
            },
            NegAction::Join { session } => LoggedNeg::Join { session: *session },
            NegAction::Decline { session } => LoggedNeg::Decline { session: *session },
            NegAction::Leave { agreement } => LoggedNeg::Leave {
                agreement: *agreement,
            },
            NegAction::Renege { agreement } => LoggedNeg::Renege {
                agreement: *agreement,
            },
        }
    }

    pub fn to(a: &LoggedNeg) -> NegAction {
        match a {
            LoggedNeg::Open {
                counterparty,
                public,
                discount,
                time_cost_usd,
                deadline_rounds,
                deadline_ticks,
                terms,
            } => NegAction::Open {
                counterparty: NationId(*counterparty),
                channel: ch(*public),
                discount: *discount,
                time_cost_usd: *time_cost_usd,
                deadline_rounds: *deadline_rounds,
                deadline_ticks: *deadline_ticks,
                terms: terms_to(terms),
            },
            LoggedNeg::OpenClub {
                invitees,
                public,
                deadline_ticks,
                terms,
            } => NegAction::OpenClub {
                invitees: invitees.iter().map(|&n| NationId(n)).collect(),
                channel: ch(*public),
                deadline_ticks: *deadline_ticks,
                terms: terms_to(terms),
            },
            LoggedNeg::Offer { session, terms } => NegAction::Offer {
                session: *session,
                terms: terms_to(terms),
            },
            LoggedNeg::Accept { session } => NegAction::Accept { session: *session },
            LoggedNeg::Reject { session } => NegAction::Reject { session: *session },
            LoggedNeg::Counter { session, terms } => NegAction::Counter {
                session: *session,
                terms: terms_to(terms),
            },
            LoggedNeg::Join { session } => NegAction::Join { session: *session },
            LoggedNeg::Decline { session } => NegAction::Decline { session: *session },
            LoggedNeg::Leave { agreement } => NegAction::Leave {
                agreement: *agreement,
            },
            LoggedNeg::Renege { agreement } => NegAction::Renege {
                agreement: *agreement,
            },
        }
    }
}
