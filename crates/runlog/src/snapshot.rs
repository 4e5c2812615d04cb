//! Snapshots: the engine's state every K ticks, so replay can seek (`--to T`) from the
//! nearest snapshot instead of re-running every tick from 0.
//!
//! A snapshot is the serialisable mirror of [`chokepoint_engine::EngineState`] (the
//! engine's types carry no serde; see the crate docs). Seeking is still verified: the
//! state restored from a snapshot must have the digest the log recorded for that tick,
//! and every tick replayed after it is checked as in a full replay, so a snapshot that is
//! wrong (an engine that forgot some state, a hand-edited log) is caught, not trusted.

use std::collections::BTreeMap;

use chokepoint_engine::adaptation::SubstitutionState;
use chokepoint_engine::investment::FirmProject;
use chokepoint_engine::levers::{Levers, RecyclingProject, ResearchProject};
use chokepoint_engine::negotiation::enforce::{ClubRule, Delivery, Enforcement};
use chokepoint_engine::negotiation::{
    Agreement, AgreementStatus, Channel, HistoryRow, Membership, NegError, Notice, Offer,
    PartyState, Session, SessionKind, SessionStatus,
};
use chokepoint_engine::recycling::ScrapPool;
use chokepoint_engine::state::{
    AdaptationState, FirmState, MarketSnapshot, NationState, NegotiationState, Solution,
};
use chokepoint_engine::{EngineState, Project};
use chokepoint_world::{FirmId, MarketId, NationId};
use serde::{Deserialize, Serialize};

use crate::types::neg_mirror::{term_from, term_to};
use crate::types::{LoggedLicence, LoggedTerm, licence_from_engine, licence_to_engine};

/// One snapshot frame: the state after tick `tick`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotEntry {
    pub tick: u64,
    pub state: LoggedState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedState {
    pub next_tick: u64,
    pub timeline_next: u64,
    /// (budget, revenue, [(demand factor, consumed t)]) per nation.
    pub nations: Vec<LoggedNation>,
    pub firms: Vec<LoggedFirm>,
    pub markets: Vec<LoggedMarket>,
    pub tariffs: Vec<(u32, u32, u32, f64)>,
    pub licences: Vec<(u32, u32, u32, LoggedLicence, u64)>,
    pub floors: Vec<(u32, u32, f64)>,
    pub stockpiles: Vec<(u32, u32, f64)>,
    /// (market, host, funder, t per tick, arrives at tick).
    pub pipeline: Vec<(u32, u32, u32, f64, u64)>,
    pub negotiation: LoggedNegotiation,
    pub enforcement: LoggedEnforcement,
    pub adaptation: LoggedAdaptation,
}

/// A nation's budget, tariff revenue of the last tick, and per end use its demand-shock
/// factor, what it consumed and the share of its curve left after substitution.
pub type LoggedNation = (f64, f64, Vec<(f64, f64, f64)>);

/// Sessions, agreements, trust, notices and history (mirror of
/// [`chokepoint_engine::state::NegotiationState`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedNegotiation {
    pub sessions: Vec<LoggedSession>,
    pub agreements: Vec<LoggedAgreement>,
    pub trust: Vec<f64>,
    pub notices: Vec<LoggedNotice>,
    pub history: Vec<LoggedHistory>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedSession {
    pub id: u32,
    pub club: bool,
    pub public: bool,
    pub opener: u32,
    pub parties: Vec<u32>,
    /// Per party: 0 invited, 1 joined, 2 declined.
    pub state: Vec<u8>,
    pub discount: Vec<f64>,
    pub time_cost_usd: Vec<f64>,
    pub deadline_rounds: u32,
    pub deadline_tick: u64,
    pub session_round: u32,
    pub offer: Option<LoggedOffer>,
    pub next_proposer: u32,
    pub terms: Vec<LoggedTerm>,
    pub status: LoggedSessionStatus,
    pub opened_tick: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum LoggedSessionStatus {
    Open,
    Agreed(u32),
    Expired,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedOffer {
    pub from: u32,
    pub to: u32,
    pub terms: Vec<LoggedTerm>,
    pub session_round: u32,
    pub tick: u64,
    pub round: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedAgreement {
    pub id: u32,
    pub session: u32,
    pub club: bool,
    pub public: bool,
    pub parties: Vec<u32>,
    pub membership: Vec<LoggedMembership>,
    pub terms: Vec<LoggedTerm>,
    pub signed_tick: u64,
    pub signed_round: u32,
    pub session_round: u32,
    pub ends_tick: Option<u64>,
    pub status: LoggedAgreementStatus,
    pub executed: bool,
    pub tariff_before: Vec<(u32, f64)>,
    pub offtake_from: Vec<(u32, u64)>,
    pub shortfalls: u32,
    pub renege: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum LoggedMembership {
    Member,
    Leaving(u64),
    Left,
    Expelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum LoggedAgreementStatus {
    Active,
    Completed,
    Breached(u32),
    Reneged(u32),
    Dissolved,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedNotice {
    pub tick: u64,
    pub round: u32,
    pub nation: u32,
    pub session: u32,
    pub error: LoggedNegError,
}

/// Mirror of [`NegError`]; its static strings travel as text and map back to the
/// engine's own ([`NegError::QUANTITIES`], [`NegError::CLOSED`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LoggedNegError {
    UnknownSession(u32),
    UnknownAgreement(u32),
    UnknownNation(u32),
    UnknownMarket(u32),
    NotAParty(String),
    NegativeQuantity { what: String, value: f64 },
    BadTerms(String),
    EmptyTerms,
    NotYourTurn(String),
    NoOffer,
    SessionClosed(String),
    NotInvited,
    NotAMember,
    NotActive,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedHistory {
    pub tick: u64,
    pub round: u32,
    pub agreement: u32,
    pub nation: u32,
    /// One of [`HistoryRow::KINDS`].
    pub kind: String,
    pub penalty_usd: f64,
}

/// Mirror of [`Enforcement`]: deliveries as (agreement, market, seller, buyer, t,
/// price, penalty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedEnforcement {
    pub deliveries: Vec<(u32, u32, u32, u32, f64, f64, f64)>,
    pub clubs: Vec<LoggedClub>,
    pub changed: Vec<u32>,
    pub breached: Vec<u32>,
    pub settled_usd: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedClub {
    pub agreement: u32,
    pub market: u32,
    pub members: Vec<u32>,
    pub floor_usd_per_t: f64,
    pub member_tariff: f64,
}

/// Mirror of [`AdaptationState`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedAdaptation {
    /// (share, peak, research) per adapting end use.
    pub substitution: Vec<[f64; 3]>,
    pub scrap: Vec<LoggedScrapPool>,
    pub levers: LoggedLevers,
    pub firm_pipeline: Vec<LoggedFirmProject>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedScrapPool {
    pub history: Vec<f64>,
    pub stock_t: f64,
    /// The last tick's arising, collected, recycled t and subsidy USD.
    pub last_tick: [f64; 4],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedLevers {
    /// (market, nation, value), in (market, nation) order.
    pub recycling_subsidy: Vec<(u32, u32, f64)>,
    pub capacity_subsidy: Vec<(u32, u32, f64)>,
    pub mandates: Vec<(u32, u32, f64)>,
    /// (adaptation, share, started tick, lands at tick).
    pub research: Vec<(u32, f64, u64, u64)>,
    /// (stream, nation, t per tick, started tick, arrives at tick).
    pub recycling_projects: Vec<(u32, u32, f64, u64, u64)>,
    pub next_event: u64,
    pub mandates_seen: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedFirmProject {
    pub firm: u32,
    pub market: u32,
    pub nation: u32,
    pub capacity_t_per_tick: f64,
    pub capex_usd: f64,
    pub subsidy_usd: f64,
    pub started_tick: u64,
    pub arrives_at_tick: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedFirm {
    pub name: String,
    pub nation: u32,
    pub market: u32,
    /// Capacity, marginal cost at zero and at capacity.
    pub plant: [f64; 3],
    pub output_t: f64,
    pub inputs_t: Vec<f64>,
    pub reserve_t: Vec<f64>,
    /// A recycling plant: (scrap stream, capacity t per tick).
    pub recycler: Option<(u32, f64)>,
    pub last_tick: [f64; 4],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedMarket {
    pub local: Vec<Option<f64>>,
    pub supply: Vec<f64>,
    pub previous: Vec<f64>,
    pub expected: Vec<f64>,
    pub warm: Option<LoggedSolution>,
    pub warm_arcs: Vec<(u32, u32)>,
}

/// What the solver's next solve of a market starts from (its warm start), field by
/// field. Since version 4 only that: the last solve's outputs (production,
/// consumption, landed prices, tariff and levy revenue per arc, sweeps) are recomputed
/// by the next solve before it reads them, so they are not state (see
/// `chokepoint_engine::state`) and are not written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedSolution {
    pub supply_price: Vec<f64>,
    pub local_price: Vec<Option<f64>>,
    pub domestic: Vec<f64>,
    pub flow: Vec<f64>,
    pub export_rent: Vec<f64>,
}

impl LoggedState {
    pub fn from_engine(s: &EngineState) -> Self {
        LoggedState {
            next_tick: s.next_tick,
            timeline_next: s.timeline_next,
            nations: s
                .nations
                .iter()
                .map(|n| (n.budget_usd, n.revenue_usd, n.end_uses.clone()))
                .collect(),
            firms: s
                .firms
                .iter()
                .map(|f| LoggedFirm {
                    name: f.name.clone(),
                    nation: f.nation,
                    market: f.market,
                    plant: [
                        f.capacity_t_per_tick,
                        f.mc_at_zero_usd_per_t,
                        f.mc_at_capacity_usd_per_t,
                    ],
                    output_t: f.output_t,
                    inputs_t: f.inputs_t.clone(),
                    reserve_t: f.reserve_t.clone(),
                    recycler: f.recycler,
                    last_tick: f.last_tick,
                })
                .collect(),
            markets: s
                .markets
                .iter()
                .map(|m| LoggedMarket {
                    local: m.local.clone(),
                    supply: m.supply.clone(),
                    previous: m.previous.clone(),
                    expected: m.expected.clone(),
                    warm: m.warm.as_ref().map(|w| LoggedSolution {
                        supply_price: w.supply_price.clone(),
                        local_price: w.local_price.clone(),
                        domestic: w.domestic.clone(),
                        flow: w.flow.clone(),
                        export_rent: w.export_rent.clone(),
                    }),
                    warm_arcs: m.warm_arcs.clone(),
                })
                .collect(),
            tariffs: s.tariffs.clone(),
            licences: s
                .licences
                .iter()
                .map(|&(m, x, d, l, o)| (m, x, d, licence_from_engine(l), o))
                .collect(),
            floors: s.floors.clone(),
            stockpiles: s.stockpiles.clone(),
            pipeline: s
                .pipeline
                .iter()
                .map(|p| {
                    (
                        p.market.0,
                        p.host.0,
                        p.funder.0,
                        p.capacity_t_per_tick,
                        p.arrives_at_tick,
                    )
                })
                .collect(),
            negotiation: negotiation_from(&s.negotiation),
            enforcement: enforcement_from(&s.enforcement),
            adaptation: adaptation_from(&s.adaptation),
        }
    }

    /// The engine's state; fails on a string the engine does not know (a history kind,
    /// an error's quantity), which only a hand-made or damaged snapshot holds.
    pub fn to_engine(&self) -> Result<EngineState, String> {
        Ok(EngineState {
            next_tick: self.next_tick,
            timeline_next: self.timeline_next,
            nations: self
                .nations
                .iter()
                .map(|(b, r, u)| NationState {
                    budget_usd: *b,
                    revenue_usd: *r,
                    end_uses: u.clone(),
                })
                .collect(),
            firms: self
                .firms
                .iter()
                .map(|f| FirmState {
                    name: f.name.clone(),
                    nation: f.nation,
                    market: f.market,
                    capacity_t_per_tick: f.plant[0],
                    mc_at_zero_usd_per_t: f.plant[1],
                    mc_at_capacity_usd_per_t: f.plant[2],
                    output_t: f.output_t,
                    inputs_t: f.inputs_t.clone(),
                    reserve_t: f.reserve_t.clone(),
                    recycler: f.recycler,
                    last_tick: f.last_tick,
                })
                .collect(),
            markets: self
                .markets
                .iter()
                .map(|m| MarketSnapshot {
                    local: m.local.clone(),
                    supply: m.supply.clone(),
                    previous: m.previous.clone(),
                    expected: m.expected.clone(),
                    warm: m.warm.as_ref().map(|w| Solution {
                        supply_price: w.supply_price.clone(),
                        local_price: w.local_price.clone(),
                        domestic: w.domestic.clone(),
                        flow: w.flow.clone(),
                        export_rent: w.export_rent.clone(),
                        ..Solution::default()
                    }),
                    warm_arcs: m.warm_arcs.clone(),
                })
                .collect(),
            tariffs: self.tariffs.clone(),
            licences: self
                .licences
                .iter()
                .map(|&(m, x, d, l, o)| (m, x, d, licence_to_engine(l), o))
                .collect(),
            floors: self.floors.clone(),
            stockpiles: self.stockpiles.clone(),
            pipeline: self
                .pipeline
                .iter()
                .map(|&(m, h, f, c, a)| Project {
                    market: MarketId(m),
                    host: NationId(h),
                    funder: NationId(f),
                    capacity_t_per_tick: c,
                    arrives_at_tick: a,
                })
                .collect(),
            negotiation: negotiation_to(&self.negotiation)?,
            enforcement: enforcement_to(&self.enforcement),
            adaptation: adaptation_to(&self.adaptation),
        })
    }
}

fn nations(v: &[NationId]) -> Vec<u32> {
    v.iter().map(|n| n.0).collect()
}

fn nation_ids(v: &[u32]) -> Vec<NationId> {
    v.iter().map(|&n| NationId(n)).collect()
}

/// The engine's static string equal to `s`, out of `known`.
fn known(what: &str, s: &str, known: &[&'static str]) -> Result<&'static str, String> {
    known
        .iter()
        .copied()
        .find(|k| *k == s)
        .ok_or_else(|| format!("unknown {what} `{s}`"))
}

fn negotiation_from(n: &NegotiationState) -> LoggedNegotiation {
    let terms = |t: &[chokepoint_engine::negotiation::Term]| t.iter().map(term_from).collect();
    LoggedNegotiation {
        sessions: n
            .sessions
            .iter()
            .map(|s| LoggedSession {
                id: s.id,
                club: s.kind == SessionKind::Club,
                public: s.channel == Channel::Public,
                opener: s.opener.0,
                parties: nations(&s.parties),
                state: s
                    .state
                    .iter()
                    .map(|p| match p {
                        PartyState::Invited => 0,
                        PartyState::Joined => 1,
                        PartyState::Declined => 2,
                    })
                    .collect(),
                discount: s.discount.clone(),
                time_cost_usd: s.time_cost_usd.clone(),
                deadline_rounds: s.deadline_rounds,
                deadline_tick: s.deadline_tick,
                session_round: s.session_round,
                offer: s.offer.as_ref().map(|o| LoggedOffer {
                    from: o.from.0,
                    to: o.to.0,
                    terms: terms(&o.terms),
                    session_round: o.session_round,
                    tick: o.tick,
                    round: o.round,
                }),
                next_proposer: s.next_proposer.0,
                terms: terms(&s.terms),
                status: match s.status {
                    SessionStatus::Open => LoggedSessionStatus::Open,
                    SessionStatus::Agreed(a) => LoggedSessionStatus::Agreed(a),
                    SessionStatus::Expired => LoggedSessionStatus::Expired,
                },
                opened_tick: s.opened_tick,
            })
            .collect(),
        agreements: n
            .agreements
            .iter()
            .map(|a| LoggedAgreement {
                id: a.id,
                session: a.session,
                club: a.kind == SessionKind::Club,
                public: a.channel == Channel::Public,
                parties: nations(&a.parties),
                membership: a
                    .membership
                    .iter()
                    .map(|m| match *m {
                        Membership::Member => LoggedMembership::Member,
                        Membership::Leaving(t) => LoggedMembership::Leaving(t),
                        Membership::Left => LoggedMembership::Left,
                        Membership::Expelled => LoggedMembership::Expelled,
                    })
                    .collect(),
                terms: terms(&a.terms),
                signed_tick: a.signed_tick,
                signed_round: a.signed_round,
                session_round: a.session_round,
                ends_tick: a.ends_tick,
                status: match a.status {
                    AgreementStatus::Active => LoggedAgreementStatus::Active,
                    AgreementStatus::Completed => LoggedAgreementStatus::Completed,
                    AgreementStatus::Breached(n) => LoggedAgreementStatus::Breached(n.0),
                    AgreementStatus::Reneged(n) => LoggedAgreementStatus::Reneged(n.0),
                    AgreementStatus::Dissolved => LoggedAgreementStatus::Dissolved,
                },
                executed: a.executed,
                tariff_before: a
                    .tariff_before
                    .iter()
                    .map(|&(t, r)| (t as u32, r))
                    .collect(),
                offtake_from: a.offtake_from.iter().map(|&(t, k)| (t as u32, k)).collect(),
                shortfalls: a.shortfalls,
                renege: nations(&a.renege),
            })
            .collect(),
        trust: n.trust.clone(),
        notices: n
            .notices
            .iter()
            .map(|x| LoggedNotice {
                tick: x.tick,
                round: x.round,
                nation: x.nation.0,
                session: x.session,
                error: match &x.error {
                    NegError::UnknownSession(v) => LoggedNegError::UnknownSession(*v),
                    NegError::UnknownAgreement(v) => LoggedNegError::UnknownAgreement(*v),
                    NegError::UnknownNation(v) => LoggedNegError::UnknownNation(*v),
                    NegError::UnknownMarket(v) => LoggedNegError::UnknownMarket(*v),
                    NegError::NotAParty(v) => LoggedNegError::NotAParty(v.clone()),
                    NegError::NegativeQuantity { what, value } => {
                        LoggedNegError::NegativeQuantity {
                            what: (*what).into(),
                            value: *value,
                        }
                    }
                    NegError::BadTerms(v) => LoggedNegError::BadTerms(v.clone()),
                    NegError::EmptyTerms => LoggedNegError::EmptyTerms,
                    NegError::NotYourTurn(v) => LoggedNegError::NotYourTurn(v.clone()),
                    NegError::NoOffer => LoggedNegError::NoOffer,
                    NegError::SessionClosed(v) => LoggedNegError::SessionClosed((*v).into()),
                    NegError::NotInvited => LoggedNegError::NotInvited,
                    NegError::NotAMember => LoggedNegError::NotAMember,
                    NegError::NotActive => LoggedNegError::NotActive,
                },
            })
            .collect(),
        history: n
            .history
            .iter()
            .map(|h| LoggedHistory {
                tick: h.tick,
                round: h.round,
                agreement: h.agreement,
                nation: h.nation.0,
                kind: h.kind.into(),
                penalty_usd: h.penalty_usd,
            })
            .collect(),
    }
}

fn negotiation_to(n: &LoggedNegotiation) -> Result<NegotiationState, String> {
    let terms = |t: &[LoggedTerm]| t.iter().map(term_to).collect();
    let kind = |club: bool| {
        if club {
            SessionKind::Club
        } else {
            SessionKind::Bilateral
        }
    };
    let channel = |public: bool| {
        if public {
            Channel::Public
        } else {
            Channel::Private
        }
    };
    let sessions = n
        .sessions
        .iter()
        .map(|s| {
            Ok(Session {
                id: s.id,
                kind: kind(s.club),
                channel: channel(s.public),
                opener: NationId(s.opener),
                parties: nation_ids(&s.parties),
                state: s
                    .state
                    .iter()
                    .map(|p| match p {
                        0 => Ok(PartyState::Invited),
                        1 => Ok(PartyState::Joined),
                        2 => Ok(PartyState::Declined),
                        other => Err(format!("unknown party state {other}")),
                    })
                    .collect::<Result<_, String>>()?,
                discount: s.discount.clone(),
                time_cost_usd: s.time_cost_usd.clone(),
                deadline_rounds: s.deadline_rounds,
                deadline_tick: s.deadline_tick,
                session_round: s.session_round,
                offer: s.offer.as_ref().map(|o| Offer {
                    from: NationId(o.from),
                    to: NationId(o.to),
                    terms: terms(&o.terms),
                    session_round: o.session_round,
                    tick: o.tick,
                    round: o.round,
                }),
                next_proposer: NationId(s.next_proposer),
                terms: terms(&s.terms),
                status: match s.status {
                    LoggedSessionStatus::Open => SessionStatus::Open,
                    LoggedSessionStatus::Agreed(a) => SessionStatus::Agreed(a),
                    LoggedSessionStatus::Expired => SessionStatus::Expired,
                },
                opened_tick: s.opened_tick,
            })
        })
        .collect::<Result<_, String>>()?;
    let agreements = n
        .agreements
        .iter()
        .map(|a| Agreement {
            id: a.id,
            session: a.session,
            kind: kind(a.club),
            channel: channel(a.public),
            parties: nation_ids(&a.parties),
            membership: a
                .membership
                .iter()
                .map(|m| match *m {
                    LoggedMembership::Member => Membership::Member,
                    LoggedMembership::Leaving(t) => Membership::Leaving(t),
                    LoggedMembership::Left => Membership::Left,
                    LoggedMembership::Expelled => Membership::Expelled,
                })
                .collect(),
            terms: terms(&a.terms),
            signed_tick: a.signed_tick,
            signed_round: a.signed_round,
            session_round: a.session_round,
            ends_tick: a.ends_tick,
            status: match a.status {
                LoggedAgreementStatus::Active => AgreementStatus::Active,
                LoggedAgreementStatus::Completed => AgreementStatus::Completed,
                LoggedAgreementStatus::Breached(n) => AgreementStatus::Breached(NationId(n)),
                LoggedAgreementStatus::Reneged(n) => AgreementStatus::Reneged(NationId(n)),
                LoggedAgreementStatus::Dissolved => AgreementStatus::Dissolved,
            },
            executed: a.executed,
            tariff_before: a
                .tariff_before
                .iter()
                .map(|&(t, r)| (t as usize, r))
                .collect(),
            offtake_from: a
                .offtake_from
                .iter()
                .map(|&(t, k)| (t as usize, k))
                .collect(),
            shortfalls: a.shortfalls,
            renege: nation_ids(&a.renege),
        })
        .collect();
    let notices = n
        .notices
        .iter()
        .map(|x| {
            let error = match &x.error {
                LoggedNegError::UnknownSession(v) => NegError::UnknownSession(*v),
                LoggedNegError::UnknownAgreement(v) => NegError::UnknownAgreement(*v),
                LoggedNegError::UnknownNation(v) => NegError::UnknownNation(*v),
                LoggedNegError::UnknownMarket(v) => NegError::UnknownMarket(*v),
                LoggedNegError::NotAParty(v) => NegError::NotAParty(v.clone()),
                LoggedNegError::NegativeQuantity { what, value } => NegError::NegativeQuantity {
                    what: known("quantity", what, NegError::QUANTITIES)?,
                    value: *value,
                },
                LoggedNegError::BadTerms(v) => NegError::BadTerms(v.clone()),
                LoggedNegError::EmptyTerms => NegError::EmptyTerms,
                LoggedNegError::NotYourTurn(v) => NegError::NotYourTurn(v.clone()),
                LoggedNegError::NoOffer => NegError::NoOffer,
                LoggedNegError::SessionClosed(v) => {
                    NegError::SessionClosed(known("session status", v, NegError::CLOSED)?)
                }
                LoggedNegError::NotInvited => NegError::NotInvited,
                LoggedNegError::NotAMember => NegError::NotAMember,
                LoggedNegError::NotActive => NegError::NotActive,
            };
            Ok(Notice {
                tick: x.tick,
                round: x.round,
                nation: NationId(x.nation),
                session: x.session,
                error,
            })
        })
        .collect::<Result<_, String>>()?;
    let history = n
        .history
        .iter()
        .map(|h| {
            Ok(HistoryRow {
                tick: h.tick,
                round: h.round,
                agreement: h.agreement,
                nation: NationId(h.nation),
                kind: known("history kind", &h.kind, HistoryRow::KINDS)?,
                penalty_usd: h.penalty_usd,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(NegotiationState {
        sessions,
        agreements,
        trust: n.trust.clone(),
        notices,
        history,
    })
}

fn enforcement_from(e: &Enforcement) -> LoggedEnforcement {
    LoggedEnforcement {
        deliveries: e
            .deliveries
            .iter()
            .map(|d| {
                (
                    d.agreement,
                    d.market.0,
                    d.seller.0,
                    d.buyer.0,
                    d.t,
                    d.price_usd_per_t,
                    d.penalty_usd,
                )
            })
            .collect(),
        clubs: e
            .clubs
            .iter()
            .map(|c| LoggedClub {
                agreement: c.agreement,
                market: c.market.0,
                members: nations(&c.members),
                floor_usd_per_t: c.floor_usd_per_t,
                member_tariff: c.member_tariff,
            })
            .collect(),
        changed: e.changed.clone(),
        breached: e.breached.clone(),
        settled_usd: e.settled_usd.clone(),
    }
}

fn enforcement_to(e: &LoggedEnforcement) -> Enforcement {
    Enforcement {
        deliveries: e
            .deliveries
            .iter()
            .map(
                |&(agreement, market, seller, buyer, t, price_usd_per_t, penalty_usd)| Delivery {
                    agreement,
                    market: MarketId(market),
                    seller: NationId(seller),
                    buyer: NationId(buyer),
                    t,
                    price_usd_per_t,
                    penalty_usd,
                },
            )
            .collect(),
        clubs: e
            .clubs
            .iter()
            .map(|c| ClubRule {
                agreement: c.agreement,
                market: MarketId(c.market),
                members: nation_ids(&c.members),
                floor_usd_per_t: c.floor_usd_per_t,
                member_tariff: c.member_tariff,
            })
            .collect(),
        changed: e.changed.clone(),
        breached: e.breached.clone(),
        settled_usd: e.settled_usd.clone(),
    }
}

fn cells(m: &BTreeMap<(MarketId, NationId), f64>) -> Vec<(u32, u32, f64)> {
    m.iter().map(|(&(m, n), &v)| (m.0, n.0, v)).collect()
}

fn cells_to(v: &[(u32, u32, f64)]) -> BTreeMap<(MarketId, NationId), f64> {
    v.iter()
        .map(|&(m, n, x)| ((MarketId(m), NationId(n)), x))
        .collect()
}

fn adaptation_from(a: &AdaptationState) -> LoggedAdaptation {
    let l = &a.levers;
    LoggedAdaptation {
        substitution: a
            .substitution
            .iter()
            .map(|s| [s.share, s.peak, s.research])
            .collect(),
        scrap: a
            .scrap
            .iter()
            .map(|p| LoggedScrapPool {
                history: p.history.iter().copied().collect(),
                stock_t: p.stock_t,
                last_tick: [p.arising_t, p.collected_t, p.recycled_t, p.subsidy_usd],
            })
            .collect(),
        levers: LoggedLevers {
            recycling_subsidy: cells(&l.recycling_subsidy),
            capacity_subsidy: cells(&l.capacity_subsidy),
            mandates: cells(&l.mandates),
            research: l
                .research
                .iter()
                .map(|r| {
                    (
                        r.adaptation as u32,
                        r.share,
                        r.started_tick,
                        r.lands_at_tick,
                    )
                })
                .collect(),
            recycling_projects: l
                .recycling_projects
                .iter()
                .map(|p| {
                    (
                        p.stream as u32,
                        p.nation.0,
                        p.capacity_t_per_tick,
                        p.started_tick,
                        p.arrives_at_tick,
                    )
                })
                .collect(),
            next_event: l.next_event as u64,
            mandates_seen: l.mandates_seen,
        },
        firm_pipeline: a
            .firm_pipeline
            .iter()
            .map(|p| LoggedFirmProject {
                firm: p.firm.0,
                market: p.market.0,
                nation: p.nation.0,
                capacity_t_per_tick: p.capacity_t_per_tick,
                capex_usd: p.capex_usd,
                subsidy_usd: p.subsidy_usd,
                started_tick: p.started_tick,
                arrives_at_tick: p.arrives_at_tick,
            })
            .collect(),
    }
}

fn adaptation_to(a: &LoggedAdaptation) -> AdaptationState {
    let l = &a.levers;
    AdaptationState {
        substitution: a
            .substitution
            .iter()
            .map(|&[share, peak, research]| SubstitutionState {
                share,
                peak,
                research,
            })
            .collect(),
        scrap: a
            .scrap
            .iter()
            .map(|p| ScrapPool {
                history: p.history.iter().copied().collect(),
                stock_t: p.stock_t,
                arising_t: p.last_tick[0],
                collected_t: p.last_tick[1],
                recycled_t: p.last_tick[2],
                subsidy_usd: p.last_tick[3],
            })
            .collect(),
        levers: Levers {
            recycling_subsidy: cells_to(&l.recycling_subsidy),
            capacity_subsidy: cells_to(&l.capacity_subsidy),
            mandates: cells_to(&l.mandates),
            research: l
                .research
                .iter()
                .map(
                    |&(adaptation, share, started_tick, lands_at_tick)| ResearchProject {
                        adaptation: adaptation as usize,
                        share,
                        started_tick,
                        lands_at_tick,
                    },
                )
                .collect(),
            recycling_projects: l
                .recycling_projects
                .iter()
                .map(
                    |&(stream, nation, capacity_t_per_tick, started_tick, arrives_at_tick)| {
                        RecyclingProject {
                            stream: stream as usize,
                            nation: NationId(nation),
                            capacity_t_per_tick,
                            started_tick,
                            arrives_at_tick,
                        }
                    },
                )
                .collect(),
            next_event: l.next_event as usize,
            mandates_seen: l.mandates_seen,
        },
        firm_pipeline: a
            .firm_pipeline
            .iter()
            .map(|p| FirmProject {
                firm: FirmId(p.firm),
                market: MarketId(p.market),
                nation: NationId(p.nation),
                capacity_t_per_tick: p.capacity_t_per_tick,
                capex_usd: p.capex_usd,
                subsidy_usd: p.subsidy_usd,
                started_tick: p.started_tick,
                arrives_at_tick: p.arrives_at_tick,
            })
            .collect(),
    }
}
