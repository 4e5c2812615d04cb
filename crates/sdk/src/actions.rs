//! Actions a strategy takes, pushed to the engine as they are made.

use chokepoint_abi as abi;

use crate::negotiation::{Move, OpenOptions, Term};
use crate::observation::{MarketId, NationId};

/// An export licence regime towards one destination.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Licence {
    Open,
    Ban,
    /// At most this many tonnes per tick.
    Quota(f64),
    /// Each shipment needs a licence granted after this many ticks.
    Licensed {
        delay_ticks: u32,
    },
}

impl Licence {
    pub(crate) fn from_raw(kind: u32, quota: f64, delay: u32) -> Self {
        match kind {
            abi::licence::BAN => Licence::Ban,
            abi::licence::QUOTA => Licence::Quota(quota),
            abi::licence::LICENSED => Licence::Licensed { delay_ticks: delay },
            _ => Licence::Open,
        }
    }

    /// Is `self` stricter than `other` (a ban is strictest; a smaller quota is stricter)?
    pub fn stricter_than(&self, other: &Licence) -> bool {
        let rank = |l: &Licence| match *l {
            Licence::Open => (0, 0.0),
            Licence::Licensed { delay_ticks } => (1, delay_ticks as f64),
            Licence::Quota(q) => (2, -q),
            Licence::Ban => (3, 0.0),
        };
        rank(self) > rank(other)
    }
}

/// Where actions go. Each call hands one action to the engine, which checks it (unknown
/// ids, NaN, negative quantities are errors naming this strategy and the tick).
pub struct Actions<'a> {
    sink: Sink<'a>,
}

enum Sink<'a> {
    Engine(&'a mut abi::ActionSink),
    Vec(&'a mut Vec<abi::Action>, Option<&'a mut Vec<Move>>),
}

impl<'a> Actions<'a> {
    #[doc(hidden)]
    pub fn from_sink(sink: &'a mut abi::ActionSink) -> Self {
        Actions {
            sink: Sink::Engine(sink),
        }
    }

    /// Collect into a vector (the in-process test harness uses this).
    pub fn collect_into(v: &'a mut Vec<abi::Action>) -> Self {
        Actions {
            sink: Sink::Vec(v, None),
        }
    }

    /// Collect policy actions and negotiation moves (the test harness uses this).
    pub fn collect_all(v: &'a mut Vec<abi::Action>, moves: &'a mut Vec<Move>) -> Self {
        Actions {
            sink: Sink::Vec(v, Some(moves)),
        }
    }

    /// Push a raw action (for kinds this wrapper has no method for).
    pub fn push(&mut self, a: abi::Action) {
        match &mut self.sink {
            Sink::Engine(s) => (s.push)(s.ctx, &a),
            Sink::Vec(v, _) => v.push(a),
        }
    }

    /// Make a negotiation move. The engine checks it when its round is processed; a
    /// refused move comes back as a [`crate::Notice`] with a named code.
    pub fn negotiate(&mut self, m: Move) {
        match &mut self.sink {
            Sink::Engine(s) => m.with_raw(|raw| (s.push_neg)(s.ctx, raw)),
            Sink::Vec(_, Some(moves)) => moves.push(m),
            Sink::Vec(_, None) => {}
        }
    }

    /// Open a bilateral session with `counterparty`, making the first offer.
    pub fn open(&mut self, counterparty: NationId, terms: &[Term], options: OpenOptions) {
        self.negotiate(Move::Open {
            counterparty,
            terms: terms.to_vec(),
            options,
        });
    }

    /// Propose a club to `invitees`; I am its first member.
    pub fn open_club(
        &mut self,
        invitees: &[NationId],
        terms: &[Term],
        public: bool,
        deadline_ticks: u32,
    ) {
        self.negotiate(Move::OpenClub {
            invitees: invitees.to_vec(),
            terms: terms.to_vec(),
            public,
            deadline_ticks,
        });
    }
    pub fn offer(&mut self, session: u32, terms: &[Term]) {
        self.negotiate(Move::Offer {
            session,
            terms: terms.to_vec(),
        });
    }
    pub fn counter(&mut self, session: u32, terms: &[Term]) {
        self.negotiate(Move::Counter {
            session,
            terms: terms.to_vec(),
        });
    }
    pub fn accept(&mut self, session: u32) {
        self.negotiate(Move::Accept { session });
    }
    pub fn reject(&mut self, session: u32) {
        self.negotiate(Move::Reject { session });
    }
    pub fn join(&mut self, session: u32) {
        self.negotiate(Move::Join { session });
    }
    pub fn decline(&mut self, session: u32) {
        self.negotiate(Move::Decline { session });
    }
    /// Leave a club under its exit rule (notice, exit penalty).
    pub fn leave(&mut self, agreement: u32) {
        self.negotiate(Move::Leave { agreement });
    }
    /// Walk away from an agreement now: a breach, with its penalty and lost trust.
    pub fn renege(&mut self, agreement: u32) {
        self.negotiate(Move::Renege { agreement });
    }

    /// My tariff on imports from `exporter` in `m` (0.25 = 25%).
    pub fn set_tariff(&mut self, m: MarketId, exporter: NationId, rate: f64) {
        self.push(abi::Action {
            nation: exporter.0,
            value: rate,
            ..abi::Action::new(abi::action::SET_TARIFF, m.0)
        });
    }

    /// My export licence regime towards `destination` in `m`.
    pub fn set_licence(&mut self, m: MarketId, destination: NationId, licence: Licence) {
        let (kind, value, delay) = match licence {
            Licence::Open => (abi::licence::OPEN, 0.0, 0),
            Licence::Ban => (abi::licence::BAN, 0.0, 0),
            Licence::Quota(q) => (abi::licence::QUOTA, q, 0),
            Licence::Licensed { delay_ticks } => (abi::licence::LICENSED, 0.0, delay_ticks),
        };
        self.push(abi::Action {
            nation: destination.0,
            licence: kind,
            value,
            delay_ticks: delay,
            ..abi::Action::new(abi::action::SET_LICENCE, m.0)
        });
    }

    /// A floor on the landed price of my imports in `m`, held by a variable levy
    /// `max(0, floor - landed)`; 0 removes it.
    pub fn set_floor(&mut self, m: MarketId, floor_usd_per_t: f64) {
        self.push(abi::Action {
            value: floor_usd_per_t,
            ..abi::Action::new(abi::action::SET_FLOOR, m.0)
        });
    }

    /// My stockpile buys up to `t` tonnes this tick at prices up to `max_price`.
    pub fn stockpile_buy(&mut self, m: MarketId, t: f64, max_price: f64) {
        self.push(abi::Action {
            value: t,
            price: max_price,
            ..abi::Action::new(abi::action::STOCKPILE_BUY, m.0)
        });
    }

    /// My stockpile sells up to `t` tonnes this tick at prices from `min_price` up.
    pub fn stockpile_release(&mut self, m: MarketId, t: f64, min_price: f64) {
        self.push(abi::Action {
            value: t,
            price: min_price,
            ..abi::Action::new(abi::action::STOCKPILE_RELEASE, m.0)
        });
    }

    /// Finance `tpy` tonnes per year of new capacity in `m` hosted by `host`, at
    /// `usd_per_tpy` of capital per t/yr; it comes online after the stage's build lag.
    pub fn invest(&mut self, m: MarketId, host: NationId, tpy: f64, usd_per_tpy: f64) {
        self.push(abi::Action {
            nation: host.0,
            value: tpy,
            price: usd_per_tpy,
            ..abi::Action::new(abi::action::INVEST, m.0)
        });
    }

    /// Pay `usd_per_t` per tonne recycled into `m` in my nation (0 ends the subsidy).
    pub fn recycling_subsidy(&mut self, m: MarketId, usd_per_t: f64) {
        self.push(abi::Action {
            value: usd_per_t,
            ..abi::Action::new(abi::action::RECYCLING_SUBSIDY, m.0)
        });
    }

    /// Finance `tpy` tonnes per year of recycling into `m` in my nation at
    /// `usd_per_tpy`; online after the recycling stream's build lag.
    pub fn fund_recycling(&mut self, m: MarketId, tpy: f64, usd_per_tpy: f64) {
        self.push(abi::Action {
            value: tpy,
            price: usd_per_tpy,
            ..abi::Action::new(abi::action::FUND_RECYCLING, m.0)
        });
    }

    /// Fund `usd` of research substituting my end uses of `m`; it lands after the
    /// world file's research lag.
    pub fn fund_substitution(&mut self, m: MarketId, usd: f64) {
        self.push(abi::Action {
            value: usd,
            ..abi::Action::new(abi::action::FUND_SUBSTITUTION, m.0)
        });
    }

    /// Pay `share` (0..=1) of my firms' capital cost of new capacity in `m`.
    pub fn capacity_subsidy(&mut self, m: MarketId, share: f64) {
        self.push(abi::Action {
            value: share,
            ..abi::Action::new(abi::action::CAPACITY_SUBSIDY, m.0)
        });
    }

    /// My firms using `m` as an input must hold `cover_ticks` ticks of their
    /// full-capacity use of it (0 ends the mandate).
    pub fn stock_mandate(&mut self, m: MarketId, cover_ticks: f64) {
        self.push(abi::Action {
            value: cover_ticks,
            ..abi::Action::new(abi::action::STOCK_MANDATE, m.0)
        });
    }
}
