//! Negotiation: sessions, offers, clubs, agreements the engine enforces, and trust.
//!
//! Why it lives in the engine: an agreement is only worth what enforces it. Offtake
//! contracts are delivered before the spot market clears, tariff and licence terms are
//! written into the policies in force, club floors become levies on non-member supply,
//! and a broken promise costs a penalty and trust. Keeping all of that next to the
//! markets makes every effect part of the state digest, so replay, fork and diff verify
//! negotiation exactly as they verify prices.
//!
//! Two clocks, never mixed: the **tick** (market time) and the **round** (negotiation
//! time inside a tick, `0..ROUNDS_PER_TICK`). A session also counts its own offers
//! (`session_round`, 1-based), which is the period of Rubinstein's game: discount
//! factors apply per session round, not per tick.
//!
//! Round processing ([`protocol`]) touches only [`Negotiation`]; it may run before the
//! schedule (the host steps agents round by round) or inside it (replay), with the same
//! result. Enforcement ([`enforce`]) runs in the Policies and Settle phases.

pub mod enforce;
pub mod protocol;

use bevy_ecs::prelude::*;
use chokepoint_world::{MarketId, NationId};

/// Negotiation rounds in every tick. An offer made in round r can be answered in round
/// r + 1 of the same tick; an offer made in the last round is answered next tick.
pub const ROUNDS_PER_TICK: u32 = 4;
/// Everyone's trust in everyone before any agreement.
pub const INITIAL_TRUST: f64 = 0.5;
/// Trust gained per tick an agreement is honoured: `t += KEPT_GAIN (1 - t)`.
pub const KEPT_GAIN: f64 = 0.02;
/// Trust kept after a breach (`t *= BREACH_KEEP`) and after reneging.
pub const BREACH_KEEP: f64 = 0.6;
pub const RENEGE_KEEP: f64 = 0.3;

/// Who can see a session: its parties only, or everyone (the bulletin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Channel {
    Private,
    Public,
}

/// One enforceable term of an offer or agreement.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// `seller` delivers `t_per_tick` to `buyer` at a fixed price, before the spot
    /// market clears, for `duration_ticks`; a shortfall pays `penalty_usd` pro rata.
    Offtake {
        seller: NationId,
        buyer: NationId,
        market: MarketId,
        t_per_tick: f64,
        price_usd_per_t: f64,
        duration_ticks: u32,
        penalty_usd: f64,
    },
    /// `importer` sets its tariff on `exporter` to `rate` and keeps it at most there.
    Tariff {
        importer: NationId,
        exporter: NationId,
        market: MarketId,
        rate: f64,
        duration_ticks: u32,
    },
    /// `exporter` opens its licence towards `destination` and imposes no stricter one.
    LicenceHold {
        exporter: NationId,
        destination: NationId,
        market: MarketId,
        duration_ticks: u32,
    },
    /// `funder` pays for capacity in `host`; once built, `offtake_share` of it is
    /// delivered to the funder at `offtake_price_usd_per_t` for `duration_ticks`.
    Finance {
        funder: NationId,
        host: NationId,
        market: MarketId,
        t_per_year: f64,
        usd_per_tpy: f64,
        offtake_share: f64,
        offtake_price_usd_per_t: f64,
        duration_ticks: u32,
    },
    /// Every party's stockpile buys `t_per_tick` while its price is below
    /// `buy_below_usd_per_t` and releases it while above `release_above_usd_per_t`.
    Stockpile {
        market: MarketId,
        t_per_tick: f64,
        buy_below_usd_per_t: f64,
        release_above_usd_per_t: f64,
        duration_ticks: u32,
    },
    /// A one-off payment.
    Transfer {
        from: NationId,
        to: NationId,
        usd: f64,
    },
    /// Club: members hold `floor_usd_per_t` on non-member supply by a variable levy and
    /// charge each other at most `member_tariff`.
    ClubFloor {
        market: MarketId,
        floor_usd_per_t: f64,
        member_tariff: f64,
    },
    /// Club exit rule: a member leaves `notice_ticks` after saying so and pays
    /// `penalty_usd` to the others; leaving without notice (reneging) pays twice that.
    ClubExit { notice_ticks: u32, penalty_usd: f64 },
}

impl Term {
    pub fn name(&self) -> &'static str {
        match self {
            Term::Offtake { .. } => "offtake",
            Term::Tariff { .. } => "tariff",
            Term::LicenceHold { .. } => "licence_hold",
            Term::Finance { .. } => "finance",
            Term::Stockpile { .. } => "stockpile",
            Term::Transfer { .. } => "transfer",
            Term::ClubFloor { .. } => "club_floor",
            Term::ClubExit { .. } => "club_exit",
        }
    }

    /// How long the term binds, in ticks from signing (0: one-off or open-ended).
    pub fn duration_ticks(&self) -> u32 {
        match *self {
            Term::Offtake { duration_ticks, .. }
            | Term::Tariff { duration_ticks, .. }
            | Term::LicenceHold { duration_ticks, .. }
            | Term::Stockpile { duration_ticks, .. } => duration_ticks,
            Term::Finance { duration_ticks, .. } => duration_ticks,
            _ => 0,
        }
    }
}

/// A negotiation move of one nation.
#[derive(Debug, Clone, PartialEq)]
pub enum NegAction {
    /// Open a bilateral session with `counterparty`, making the first offer. Discount
    /// factors and time costs are [opener, counterparty]; the session expires after
    /// `deadline_rounds` offers or `deadline_ticks` ticks, whichever comes first.
    Open {
        counterparty: NationId,
        channel: Channel,
        discount: [f64; 2],
        time_cost_usd: [f64; 2],
        deadline_rounds: u32,
        deadline_ticks: u32,
        terms: Vec<Term>,
    },
    /// Propose a club with these terms to `invitees`; the proposer is its first member.
    OpenClub {
        invitees: Vec<NationId>,
        channel: Channel,
        deadline_ticks: u32,
        terms: Vec<Term>,
    },
    /// Make an offer when it is my turn (no offer of mine pending).
    Offer {
        session: u32,
        terms: Vec<Term>,
    },
    Accept {
        session: u32,
    },
    Reject {
        session: u32,
    },
    /// Reject the pending offer and make one in the same move.
    Counter {
        session: u32,
        terms: Vec<Term>,
    },
    Join {
        session: u32,
    },
    Decline {
        session: u32,
    },
    /// Leave a club under its exit rule.
    Leave {
        agreement: u32,
    },
    /// Walk away from an agreement now: a breach, with its penalty.
    Renege {
        agreement: u32,
    },
}

impl NegAction {
    pub fn name(&self) -> &'static str {
        match self {
            NegAction::Open { .. } => "open",
            NegAction::OpenClub { .. } => "open_club",
            NegAction::Offer { .. } => "offer",
            NegAction::Accept { .. } => "accept",
            NegAction::Reject { .. } => "reject",
            NegAction::Counter { .. } => "counter",
            NegAction::Join { .. } => "join",
            NegAction::Decline { .. } => "decline",
            NegAction::Leave { .. } => "leave",
            NegAction::Renege { .. } => "renege",
        }
    }
}

/// Why a negotiation move was refused: the `code` goes to the plugin and the events.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NegError {
    #[error("unknown session {0}")]
    UnknownSession(u32),
    #[error("unknown agreement {0}")]
    UnknownAgreement(u32),
    #[error("unknown nation id {0}")]
    UnknownNation(u32),
    #[error("unknown market id {0}")]
    UnknownMarket(u32),
    #[error("{0} is not a party to this session")]
    NotAParty(String),
    #[error("{what} is {value}, must be a finite number >= 0")]
    NegativeQuantity { what: &'static str, value: f64 },
    #[error("{0}")]
    BadTerms(String),
    #[error("an offer needs at least one term")]
    EmptyTerms,
    #[error("it is not your turn: {0}")]
    NotYourTurn(String),
    #[error("no offer is pending for you in this session")]
    NoOffer,
    #[error("the session is closed ({0})")]
    SessionClosed(&'static str),
    #[error("you were not invited, or have already answered")]
    NotInvited,
    #[error("you are not a member of this agreement")]
    NotAMember,
    #[error("the agreement is no longer in force")]
    NotActive,
}

impl NegError {
    /// A stable name for the error, for plugins and tables.
    pub fn code(&self) -> &'static str {
        match self {
            NegError::UnknownSession(_) => "unknown_session",
            NegError::UnknownAgreement(_) => "unknown_agreement",
            NegError::UnknownNation(_) => "unknown_party",
            NegError::UnknownMarket(_) => "unknown_market",
            NegError::NotAParty(_) => "not_a_party",
            NegError::NegativeQuantity { .. } => "negative_quantity",
            NegError::BadTerms(_) => "bad_terms",
            NegError::EmptyTerms => "empty_terms",
            NegError::NotYourTurn(_) => "not_your_turn",
            NegError::NoOffer => "no_offer",
            NegError::SessionClosed(_) => "session_closed",
            NegError::NotInvited => "not_invited",
            NegError::NotAMember => "not_a_member",
            NegError::NotActive => "not_active",
        }
    }

    /// What a [`NegError::NegativeQuantity`] can name, and why a session can be closed
    /// ([`NegError::SessionClosed`]): the static strings a restored notice maps back to.
    pub const QUANTITIES: &'static [&'static str] = &[
        "quantity",
        "price",
        "penalty",
        "rate",
        "capacity",
        "cost per t/yr",
        "offtake share",
        "offtake price",
        "buy price",
        "release price",
        "amount",
        "floor",
        "member tariff",
        "time cost",
    ];
    pub const CLOSED: &'static [&'static str] = &["agreed", "expired"];

    /// Codes in the order of their numeric ids in the ABI (`id = index + 1`).
    pub const CODES: &'static [&'static str] = &[
        "unknown_session",
        "unknown_agreement",
        "unknown_party",
        "unknown_market",
        "not_a_party",
        "negative_quantity",
        "bad_terms",
        "empty_terms",
        "not_your_turn",
        "no_offer",
        "session_closed",
        "not_invited",
        "not_a_member",
        "not_active",
    ];

    pub fn code_id(&self) -> u32 {
        Self::CODES
            .iter()
            .position(|c| *c == self.code())
            .map_or(0, |i| i as u32 + 1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Bilateral,
    Club,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    Open,
    Agreed(u32),
    Expired,
}

/// Where an invitee (or party) of a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartyState {
    Invited,
    Joined,
    Declined,
}

/// An offer on the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub from: NationId,
    pub to: NationId,
    pub terms: Vec<Term>,
    pub session_round: u32,
    pub tick: u64,
    pub round: u32,
}

/// A negotiation session: an entity of the negotiation, alive from open to agreement
/// or expiry (kept afterwards as history).
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: u32,
    pub kind: SessionKind,
    pub channel: Channel,
    pub opener: NationId,
    /// Bilateral: [opener, counterparty]; club: proposer then invitees.
    pub parties: Vec<NationId>,
    pub state: Vec<PartyState>,
    pub discount: Vec<f64>,
    pub time_cost_usd: Vec<f64>,
    pub deadline_rounds: u32,
    /// The session expires at the end of this tick if nothing was agreed.
    pub deadline_tick: u64,
    /// Offers made so far (the bargaining period of the last one).
    pub session_round: u32,
    pub offer: Option<Offer>,
    /// Bilateral: who offers next when no offer is pending.
    pub next_proposer: NationId,
    /// Club: the proposed terms.
    pub terms: Vec<Term>,
    pub status: SessionStatus,
    pub opened_tick: u64,
}

impl Session {
    pub fn party_index(&self, n: NationId) -> Option<usize> {
        self.parties.iter().position(|&p| p == n)
    }
    pub fn visible_to(&self, n: NationId) -> bool {
        self.channel == Channel::Public || self.party_index(n).is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgreementStatus {
    Active,
    Completed,
    /// Broken by a party (terms lapse).
    Breached(NationId),
    /// A party walked away (terms lapse).
    Reneged(NationId),
    /// A club with fewer than two members left.
    Dissolved,
}

impl AgreementStatus {
    pub fn name(&self) -> &'static str {
        match self {
            AgreementStatus::Active => "active",
            AgreementStatus::Completed => "completed",
            AgreementStatus::Breached(_) => "breached",
            AgreementStatus::Reneged(_) => "reneged",
            AgreementStatus::Dissolved => "dissolved",
        }
    }
}

/// A club member's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Member,
    /// Gave notice; a member until the tick named.
    Leaving(u64),
    Left,
    /// Left without notice.
    Expelled,
}

/// A signed agreement, enforced by the engine while `Active`.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    pub id: u32,
    pub session: u32,
    pub kind: SessionKind,
    pub channel: Channel,
    pub parties: Vec<NationId>,
    /// Club: each party's standing (bilateral: all `Member`).
    pub membership: Vec<Membership>,
    pub terms: Vec<Term>,
    pub signed_tick: u64,
    pub signed_round: u32,
    pub session_round: u32,
    /// First tick the agreement is no longer in force (None: open-ended club).
    pub ends_tick: Option<u64>,
    pub status: AgreementStatus,
    /// One-off terms (tariff change, licence grant, financing, transfers) done.
    pub executed: bool,
    /// Tariff rates before the agreement, per term index, restored if it is broken.
    pub tariff_before: Vec<(usize, f64)>,
    /// Financed offtakes: (term index, first delivery tick).
    pub offtake_from: Vec<(usize, u64)>,
    /// Delivery shortfalls so far (each a breach event with its penalty).
    pub shortfalls: u32,
    /// A party asked to renege this tick (handled by enforcement).
    pub renege: Vec<NationId>,
}

impl Agreement {
    pub fn is_member(&self, n: NationId) -> bool {
        self.parties
            .iter()
            .zip(&self.membership)
            .any(|(&p, m)| p == n && matches!(m, Membership::Member | Membership::Leaving(_)))
    }
    pub fn members(&self) -> impl Iterator<Item = NationId> + '_ {
        self.parties
            .iter()
            .zip(&self.membership)
            .filter(|(_, m)| matches!(m, Membership::Member | Membership::Leaving(_)))
            .map(|(&p, _)| p)
    }
    pub fn visible_to(&self, n: NationId) -> bool {
        self.channel == Channel::Public || self.parties.contains(&n)
    }
}

/// One processed negotiation move: the negotiation-rounds table.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundRow {
    pub tick: u64,
    pub round: u32,
    pub nation: NationId,
    pub action: &'static str,
    /// 0 when the move names no (valid) session.
    pub session: u32,
    pub session_round: u32,
    /// "ok", "agreed", "expired", or the error code.
    pub outcome: &'static str,
    pub detail: String,
}

/// A move refused, told back to the nation that made it.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub tick: u64,
    pub round: u32,
    pub nation: NationId,
    pub session: u32,
    pub error: NegError,
}

/// What happened to an agreement: the history every observation carries.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub tick: u64,
    pub round: u32,
    pub agreement: u32,
    pub nation: NationId,
    /// One of [`HistoryRow::KINDS`].
    pub kind: &'static str,
    pub penalty_usd: f64,
}

impl HistoryRow {
    /// Every kind of history row the engine writes (a snapshot names its rows' kinds
    /// by these, so a restored history holds the engine's own strings).
    pub const KINDS: &'static [&'static str] = &[
        "signed",
        "joined",
        "completed",
        "breach",
        "renege",
        "leave",
        "left",
    ];
}

/// All negotiation state: sessions, agreements, trust, and this tick's rows.
#[derive(Resource, Debug, Clone)]
pub struct Negotiation {
    pub nations: usize,
    pub sessions: Vec<Session>,
    pub agreements: Vec<Agreement>,
    /// `trust[i * nations + j]`: how far i trusts j, in [0, 1].
    pub trust: Vec<f64>,
    /// The next round of this tick not yet processed.
    pub next_round: u32,
    /// This tick's moves (drained into the tick record).
    pub rounds: Vec<RoundRow>,
    /// Refused moves of this tick and the last (shown to their makers).
    pub notices: Vec<Notice>,
    pub history: Vec<HistoryRow>,
    /// Events of the rounds, drained into the tick record.
    pub events: Vec<(String, String)>,
    /// Time costs due from the rounds: (payer, USD), paid in the Policies phase.
    pub time_costs: Vec<(NationId, f64)>,
}

impl Negotiation {
    pub fn new(nations: usize) -> Self {
        let mut trust = vec![INITIAL_TRUST; nations * nations];
        for i in 0..nations {
            trust[i * nations + i] = 1.0;
        }
        Negotiation {
            nations,
            sessions: Vec::new(),
            agreements: Vec::new(),
            trust,
            next_round: 0,
            rounds: Vec::new(),
            notices: Vec::new(),
            history: Vec::new(),
            events: Vec::new(),
            time_costs: Vec::new(),
        }
    }

    pub fn trust(&self, from: NationId, to: NationId) -> f64 {
        self.trust[from.index() * self.nations + to.index()]
    }

    pub(crate) fn trust_mut(&mut self, from: NationId, to: NationId) -> &mut f64 {
        &mut self.trust[from.index() * self.nations + to.index()]
    }

    /// Session by id (ids are 1-based and dense).
    pub fn session(&self, id: u32) -> Option<&Session> {
        id.checked_sub(1)
            .and_then(|i| self.sessions.get(i as usize))
    }

    pub fn agreement(&self, id: u32) -> Option<&Agreement> {
        id.checked_sub(1)
            .and_then(|i| self.agreements.get(i as usize))
    }
}
