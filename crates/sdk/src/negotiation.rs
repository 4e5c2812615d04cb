//! Negotiation, typed: terms, sessions, offers, agreements, trust, and the moves a
//! strategy makes.
//!
//! The engine enforces what is agreed (offtake before the spot market, tariff and
//! licence terms, club floors, financing, penalties), so a strategy's job is only to
//! decide what to offer and what to accept. Moves are answered within the tick: a
//! strategy is called again in later negotiation rounds when it has something to
//! answer (see [`crate::Observation::round`]); put policy actions in round 0.

use chokepoint_abi as abi;

use crate::observation::{MarketId, NationId};

/// One enforceable term (see the ABI's `term` module for the engine's reading).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Term {
    /// `seller` delivers `t_per_tick` to `buyer` at `price` before the spot market.
    Offtake {
        seller: NationId,
        buyer: NationId,
        market: MarketId,
        t_per_tick: f64,
        price: f64,
        duration_ticks: u32,
        penalty_usd: f64,
    },
    /// `importer` sets (and keeps at most) `rate` on `exporter`.
    Tariff {
        importer: NationId,
        exporter: NationId,
        market: MarketId,
        rate: f64,
        duration_ticks: u32,
    },
    /// `exporter` opens its licence towards `destination` and imposes none stricter.
    LicenceHold {
        exporter: NationId,
        destination: NationId,
        market: MarketId,
        duration_ticks: u32,
    },
    /// `funder` pays for `t_per_year` in `host`; `offtake_share` of it goes to the
    /// funder at `offtake_price` for `duration_ticks` once built.
    Finance {
        funder: NationId,
        host: NationId,
        market: MarketId,
        t_per_year: f64,
        usd_per_tpy: f64,
        offtake_share: f64,
        offtake_price: f64,
        duration_ticks: u32,
    },
    /// Every party buys `t_per_tick` below `buy_below` and releases above `release_above`.
    Stockpile {
        market: MarketId,
        t_per_tick: f64,
        buy_below: f64,
        release_above: f64,
        duration_ticks: u32,
    },
    Transfer {
        from: NationId,
        to: NationId,
        usd: f64,
    },
    /// Club members hold `floor` on non-member supply and charge each other at most
    /// `member_tariff`.
    ClubFloor {
        market: MarketId,
        floor: f64,
        member_tariff: f64,
    },
    ClubExit {
        notice_ticks: u32,
        penalty_usd: f64,
    },
}

impl Term {
    pub fn to_raw(&self) -> abi::Term {
        use abi::term as k;
        match *self {
            Term::Offtake {
                seller,
                buyer,
                market,
                t_per_tick,
                price,
                duration_ticks,
                penalty_usd,
            } => abi::Term {
                a: seller.0,
                b: buyer.0,
                quantity: t_per_tick,
                price,
                duration_ticks,
                penalty_usd,
                ..abi::Term::new(k::OFFTAKE, market.0)
            },
            Term::Tariff {
                importer,
                exporter,
                market,
                rate,
                duration_ticks,
            } => abi::Term {
                a: importer.0,
                b: exporter.0,
                rate,
                duration_ticks,
                ..abi::Term::new(k::TARIFF, market.0)
            },
            Term::LicenceHold {
                exporter,
                destination,
                market,
                duration_ticks,
            } => abi::Term {
                a: exporter.0,
                b: destination.0,
                duration_ticks,
                ..abi::Term::new(k::LICENCE_HOLD, market.0)
            },
            Term::Finance {
                funder,
                host,
                market,
                t_per_year,
                usd_per_tpy,
                offtake_share,
                offtake_price,
                duration_ticks,
            } => abi::Term {
                a: funder.0,
                b: host.0,
                quantity: t_per_year,
                price: usd_per_tpy,
                rate: offtake_share,
                aux: offtake_price,
                duration_ticks,
                ..abi::Term::new(k::FINANCE, market.0)
            },
            Term::Stockpile {
                market,
                t_per_tick,
                buy_below,
                release_above,
                duration_ticks,
            } => abi::Term {
                quantity: t_per_tick,
                price: buy_below,
                aux: release_above,
                duration_ticks,
                ..abi::Term::new(k::STOCKPILE, market.0)
            },
            Term::Transfer { from, to, usd } => abi::Term {
                a: from.0,
                b: to.0,
                quantity: usd,
                ..abi::Term::new(k::TRANSFER, 0)
            },
            Term::ClubFloor {
                market,
                floor,
                member_tariff,
            } => abi::Term {
                price: floor,
                rate: member_tariff,
                ..abi::Term::new(k::CLUB_FLOOR, market.0)
            },
            Term::ClubExit {
                notice_ticks,
                penalty_usd,
            } => abi::Term {
                duration_ticks: notice_ticks,
                penalty_usd,
                ..abi::Term::new(k::CLUB_EXIT, 0)
            },
        }
    }

    /// None for a kind this SDK does not know.
    pub fn from_raw(t: &abi::Term) -> Option<Term> {
        use abi::term as k;
        let (a, b, m) = (NationId(t.a), NationId(t.b), MarketId(t.market));
        Some(match t.kind {
            k::OFFTAKE => Term::Offtake {
                seller: a,
                buyer: b,
                market: m,
                t_per_tick: t.quantity,
                price: t.price,
                duration_ticks: t.duration_ticks,
                penalty_usd: t.penalty_usd,
            },
            k::TARIFF => Term::Tariff {
                importer: a,
                exporter: b,
                market: m,
                rate: t.rate,
                duration_ticks: t.duration_ticks,
            },
            k::LICENCE_HOLD => Term::LicenceHold {
                exporter: a,
                destination: b,
                market: m,
                duration_ticks: t.duration_ticks,
            },
            k::FINANCE => Term::Finance {
                funder: a,
                host: b,
                market: m,
                t_per_year: t.quantity,
                usd_per_tpy: t.price,
                offtake_share: t.rate,
                offtake_price: t.aux,
                duration_ticks: t.duration_ticks,
            },
            k::STOCKPILE => Term::Stockpile {
                market: m,
                t_per_tick: t.quantity,
                buy_below: t.price,
                release_above: t.aux,
                duration_ticks: t.duration_ticks,
            },
            k::TRANSFER => Term::Transfer {
                from: a,
                to: b,
                usd: t.quantity,
            },
            k::CLUB_FLOOR => Term::ClubFloor {
                market: m,
                floor: t.price,
                member_tariff: t.rate,
            },
            k::CLUB_EXIT => Term::ClubExit {
                notice_ticks: t.duration_ticks,
                penalty_usd: t.penalty_usd,
            },
            _ => return None,
        })
    }
}

pub(crate) fn terms_of(all: &[abi::Term], start: u32, len: u32) -> Vec<Term> {
    all.get(start as usize..(start + len) as usize)
        .unwrap_or(&[])
        .iter()
        .filter_map(Term::from_raw)
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Bilateral,
    Club,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    Open,
    Agreed,
    Expired,
}

/// A party's standing in a session or agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Invited,
    Joined,
    Declined,
    Member,
    Leaving,
    Left,
    Expelled,
}

impl Standing {
    pub(crate) fn from_raw(s: u32) -> Standing {
        use abi::neg as k;
        match s {
            k::INVITED => Standing::Invited,
            k::JOINED => Standing::Joined,
            k::DECLINED => Standing::Declined,
            k::MEMBER => Standing::Member,
            k::LEAVING => Standing::Leaving,
            k::LEFT => Standing::Left,
            _ => Standing::Expelled,
        }
    }
}

/// A session I can see: mine (private or public) or one on the bulletin.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: u32,
    pub kind: SessionKind,
    pub public: bool,
    pub opener: NationId,
    pub status: SessionStatus,
    /// Offers made so far: the bargaining period of the last one.
    pub session_round: u32,
    pub deadline_rounds: u32,
    pub deadline_tick: u64,
    /// (opener, other party): discount factors per session round and time costs.
    pub discount: (f64, f64),
    pub time_cost_usd: (f64, f64),
    /// The pending offer: (from, to).
    pub offer: Option<(NationId, NationId)>,
    pub next_proposer: NationId,
    pub parties: Vec<(NationId, Standing)>,
    /// The pending offer's terms (bilateral) or the club proposal.
    pub terms: Vec<Term>,
}

impl Session {
    /// My discount factor and the other party's (bilateral).
    pub fn discounts_for(&self, me: NationId) -> (f64, f64) {
        if self.opener == me {
            self.discount
        } else {
            (self.discount.1, self.discount.0)
        }
    }
    pub fn other_party(&self, me: NationId) -> Option<NationId> {
        self.parties.iter().map(|p| p.0).find(|&p| p != me)
    }
    pub fn standing(&self, n: NationId) -> Option<Standing> {
        self.parties.iter().find(|p| p.0 == n).map(|p| p.1)
    }
}

/// An offer addressed to me.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub session: u32,
    pub from: NationId,
    pub session_round: u32,
    pub tick: u64,
    pub round: u32,
    pub terms: Vec<Term>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgreementStatus {
    Active,
    Completed,
    Breached(NationId),
    Reneged(NationId),
    Dissolved,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    pub id: u32,
    pub session: u32,
    pub kind: SessionKind,
    pub public: bool,
    pub status: AgreementStatus,
    pub signed_tick: u64,
    pub signed_round: u32,
    pub session_round: u32,
    pub ends_tick: Option<u64>,
    pub shortfalls: u32,
    pub members: Vec<(NationId, Standing)>,
    pub terms: Vec<Term>,
}

impl Agreement {
    pub fn is_member(&self, n: NationId) -> bool {
        self.members
            .iter()
            .any(|&(p, s)| p == n && matches!(s, Standing::Member | Standing::Leaving))
    }
}

/// Something that happened to an agreement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryEvent {
    pub tick: u64,
    pub round: u32,
    pub agreement: u32,
    pub nation: NationId,
    /// signed, joined, completed, breach, renege, leave, left
    pub kind: &'static str,
    pub penalty_usd: f64,
}

/// A move of mine the engine refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub tick: u64,
    pub round: u32,
    pub session: u32,
    /// unknown_session, unknown_party, negative_quantity, not_your_turn, ...
    pub code: &'static str,
    pub message: String,
}

pub(crate) const NOTICE_CODES: &[&str] = &[
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

/// How a bilateral session is opened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenOptions {
    /// Visible to everyone (the bulletin) instead of the two parties only.
    pub public: bool,
    /// Discount factors per session round: mine, the other party's.
    pub discount: (f64, f64),
    /// USD each pays per session round that ends without agreement: mine, theirs.
    pub time_cost_usd: (f64, f64),
    /// The session ends without agreement after this many offers...
    pub deadline_rounds: u32,
    /// ...or at the end of the tick this many ticks from now.
    pub deadline_ticks: u32,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            public: false,
            discount: (0.95, 0.95),
            time_cost_usd: (0.0, 0.0),
            deadline_rounds: 8,
            deadline_ticks: 3,
        }
    }
}

/// A negotiation move, as pushed by [`crate::Actions::negotiate`].
#[derive(Debug, Clone, PartialEq)]
pub enum Move {
    Open {
        counterparty: NationId,
        terms: Vec<Term>,
        options: OpenOptions,
    },
    OpenClub {
        invitees: Vec<NationId>,
        terms: Vec<Term>,
        public: bool,
        deadline_ticks: u32,
    },
    Offer {
        session: u32,
        terms: Vec<Term>,
    },
    Counter {
        session: u32,
        terms: Vec<Term>,
    },
    Accept {
        session: u32,
    },
    Reject {
        session: u32,
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

impl Move {
    /// Call `f` with the raw move (its views borrow `self` for the call).
    pub fn with_raw<R>(&self, f: impl FnOnce(&abi::NegAction) -> R) -> R {
        use abi::neg as k;
        let (kind, terms, invitees): (u32, &[Term], &[NationId]) = match self {
            Move::Open { terms, .. } => (k::OPEN, terms, &[]),
            Move::OpenClub {
                terms, invitees, ..
            } => (k::OPEN_CLUB, terms, invitees),
            Move::Offer { terms, .. } => (k::OFFER, terms, &[]),
            Move::Counter { terms, .. } => (k::COUNTER, terms, &[]),
            Move::Accept { .. } => (k::ACCEPT, &[], &[]),
            Move::Reject { .. } => (k::REJECT, &[], &[]),
            Move::Join { .. } => (k::JOIN, &[], &[]),
            Move::Decline { .. } => (k::DECLINE, &[], &[]),
            Move::Leave { .. } => (k::LEAVE, &[], &[]),
            Move::Renege { .. } => (k::RENEGE, &[], &[]),
        };
        let raw_terms: Vec<abi::Term> = terms.iter().map(Term::to_raw).collect();
        let raw_invitees: Vec<u32> = invitees.iter().map(|n| n.0).collect();
        let mut a = abi::NegAction {
            terms: abi::View::of(&raw_terms),
            invitees: abi::View::of(&raw_invitees),
            ..abi::NegAction::new(kind)
        };
        match self {
            Move::Open {
                counterparty,
                options,
                ..
            } => {
                a.nation = counterparty.0;
                a.channel = if options.public {
                    k::PUBLIC
                } else {
                    k::PRIVATE
                };
                (a.discount_me, a.discount_other) = options.discount;
                (a.time_cost_me, a.time_cost_other) = options.time_cost_usd;
                a.deadline_rounds = options.deadline_rounds;
                a.deadline_ticks = options.deadline_ticks;
            }
            Move::OpenClub {
                public,
                deadline_ticks,
                ..
            } => {
                a.channel = if *public { k::PUBLIC } else { k::PRIVATE };
                a.deadline_ticks = *deadline_ticks;
            }
            Move::Offer { session, .. }
            | Move::Counter { session, .. }
            | Move::Accept { session }
            | Move::Reject { session }
            | Move::Join { session }
            | Move::Decline { session } => a.session = *session,
            Move::Leave { agreement } | Move::Renege { agreement } => a.agreement = *agreement,
        }
        f(&a)
    }
}
