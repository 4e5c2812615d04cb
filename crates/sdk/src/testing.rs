//! Run a strategy in-process on a hand-made observation: no shared library, no world
//! file, no engine. Unit tests of a strategy's rules live beside the strategy.
//!
//! ```
//! use chokepoint_sdk::prelude::*;
//! use chokepoint_sdk::testing::ObservationBuilder;
//!
//! struct Ban;
//! impl Strategy for Ban {
//!     fn create(_: &Params, _: &Context) -> Result<Self, String> { Ok(Ban) }
//!     fn decide(&mut self, obs: &Observation, actions: &mut Actions) {
//!         let us = obs.nation_id("US").unwrap();
//!         for m in obs.markets() { actions.set_licence(m, us, Licence::Ban); }
//!     }
//! }
//! let obs = ObservationBuilder::new(&["China", "US"], &[("gallium", "refined", 5e5)]).me("China");
//! let actions = chokepoint_sdk::testing::decide(&mut Ban, &obs);
//! assert_eq!(actions.len(), 1);
//! assert_eq!(actions[0].kind, chokepoint_sdk::abi::action::SET_LICENCE);
//! ```

use chokepoint_abi as abi;

use crate::{Actions, Context, Logger, Observation, Params, Strategy};

/// Owned observation data, laid out as the engine would.
#[derive(Debug, Clone, Default)]
pub struct ObservationBuilder {
    names: Vec<(String, String)>,
    markets: Vec<(String, String, f64, u32)>,
    tick: u64,
    me: u32,
    budget: f64,
    prices: Vec<abi::PriceObs>,
    flows: Vec<abi::FlowObs>,
    production: Vec<abi::ProductionObs>,
    shortages: Vec<abi::ShortageObs>,
    tariffs: Vec<abi::TariffObs>,
    licences: Vec<abi::LicenceObs>,
    floors: Vec<abi::FloorObs>,
    firms: Vec<abi::FirmObs>,
    stockpiles: Vec<abi::StockpileObs>,
    pipeline: Vec<abi::PipelineObs>,
    round: u32,
    sessions: Vec<abi::SessionObs>,
    offers: Vec<abi::OfferObs>,
    agreements: Vec<abi::AgreementObs>,
    members: Vec<abi::MemberObs>,
    terms: Vec<abi::Term>,
    trust: Vec<abi::TrustObs>,
}

impl ObservationBuilder {
    /// Nations by name and markets as (commodity, stage, reference price).
    pub fn new(nations: &[&str], markets: &[(&str, &str, f64)]) -> Self {
        ObservationBuilder {
            names: nations
                .iter()
                .map(|n| (n.to_string(), "world".to_string()))
                .collect(),
            markets: markets
                .iter()
                .map(|(c, s, p)| (c.to_string(), s.to_string(), *p, 12))
                .collect(),
            ..Default::default()
        }
    }
    fn n(&self, name: &str) -> u32 {
        self.names
            .iter()
            .position(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no nation {name} in the builder")) as u32
    }
    fn m(&self, commodity: &str, stage: &str) -> u32 {
        self.markets
            .iter()
            .position(|(c, s, _, _)| c == commodity && s == stage)
            .unwrap_or_else(|| panic!("no market {commodity}/{stage} in the builder"))
            as u32
    }
    pub fn me(mut self, nation: &str) -> Self {
        self.me = self.n(nation);
        self
    }
    pub fn tick(mut self, tick: u64) -> Self {
        self.tick = tick;
        self
    }
    pub fn budget(mut self, usd: f64) -> Self {
        self.budget = usd;
        self
    }
    pub fn price(mut self, commodity: &str, stage: &str, nation: &str, p: f64) -> Self {
        let (m, n) = (self.m(commodity, stage), self.n(nation));
        self.prices.retain(|x| (x.market, x.nation) != (m, n));
        self.prices.push(abi::PriceObs {
            market: m,
            nation: n,
            price_usd_per_t: p,
        });
        self.prices.sort_by_key(|x| (x.market, x.nation));
        self
    }
    pub fn flow(
        mut self,
        commodity: &str,
        stage: &str,
        from: &str,
        to: &str,
        t: f64,
        landed: f64,
    ) -> Self {
        let (m, f, d) = (self.m(commodity, stage), self.n(from), self.n(to));
        self.flows.push(abi::FlowObs {
            market: m,
            from: f,
            to: d,
            quantity_t: t,
            landed_usd_per_t: landed,
        });
        self
    }
    pub fn production(
        mut self,
        commodity: &str,
        stage: &str,
        nation: &str,
        produced: f64,
        capacity: f64,
    ) -> Self {
        let (m, n) = (self.m(commodity, stage), self.n(nation));
        self.production.push(abi::ProductionObs {
            market: m,
            nation: n,
            produced_t: produced,
            capacity_t: capacity,
        });
        self.production.sort_by_key(|x| (x.market, x.nation));
        self
    }
    pub fn shortage(mut self, commodity: &str, stage: &str, nation: &str, t: f64) -> Self {
        let (m, n) = (self.m(commodity, stage), self.n(nation));
        self.shortages.push(abi::ShortageObs {
            market: m,
            nation: n,
            shortage_t: t,
        });
        self.shortages.sort_by_key(|x| (x.market, x.nation));
        self
    }
    pub fn tariff(
        mut self,
        commodity: &str,
        stage: &str,
        importer: &str,
        exporter: &str,
        rate: f64,
    ) -> Self {
        let (m, i, x) = (self.m(commodity, stage), self.n(importer), self.n(exporter));
        self.tariffs.push(abi::TariffObs {
            market: m,
            importer: i,
            exporter: x,
            rate,
        });
        self
    }
    pub fn licence(
        mut self,
        commodity: &str,
        stage: &str,
        exporter: &str,
        destination: &str,
        kind: u32,
        quota_t: f64,
        delay_ticks: u32,
    ) -> Self {
        let (m, x, d) = (
            self.m(commodity, stage),
            self.n(exporter),
            self.n(destination),
        );
        self.licences.push(abi::LicenceObs {
            market: m,
            exporter: x,
            destination: d,
            kind,
            quota_t,
            delay_ticks,
        });
        self
    }
    /// A floor on imports into `importer` (replaces one already set there).
    pub fn floor(
        mut self,
        commodity: &str,
        stage: &str,
        importer: &str,
        floor_usd_per_t: f64,
    ) -> Self {
        let (m, i) = (self.m(commodity, stage), self.n(importer));
        self.floors.retain(|f| (f.market, f.importer) != (m, i));
        self.floors.push(abi::FloorObs {
            market: m,
            importer: i,
            floor_usd_per_t,
        });
        self
    }
    pub fn stockpile(
        mut self,
        commodity: &str,
        stage: &str,
        holdings_t: f64,
        budget_usd: f64,
    ) -> Self {
        let m = self.m(commodity, stage);
        self.stockpiles.push(abi::StockpileObs {
            market: m,
            holdings_t,
            budget_usd,
        });
        self
    }
    pub fn firm(mut self, commodity: &str, stage: &str, capacity_t: f64, produced_t: f64) -> Self {
        let m = self.m(commodity, stage);
        let firm = self.firms.len() as u32;
        self.firms.push(abi::FirmObs {
            firm,
            market: m,
            capacity_t,
            produced_t,
            stock_t: 0.0,
        });
        self
    }
    pub fn pipeline(
        mut self,
        commodity: &str,
        stage: &str,
        host: &str,
        funder: &str,
        capacity_t: f64,
        arrives_at_tick: u64,
    ) -> Self {
        let (m, h, f) = (self.m(commodity, stage), self.n(host), self.n(funder));
        self.pipeline.push(abi::PipelineObs {
            market: m,
            nation: h,
            funder: f,
            capacity_t,
            arrives_at_tick,
            kind: abi::pipeline::FINANCED,
            firm: abi::pipeline::NO_FIRM,
            started_tick: 0,
        });
        self
    }

    /// The negotiation round of the call (0 by default).
    pub fn round(mut self, round: u32) -> Self {
        self.round = round;
        self
    }

    fn push_terms(&mut self, terms: &[crate::Term]) -> (u32, u32) {
        let start = self.terms.len() as u32;
        self.terms.extend(terms.iter().map(|t| t.to_raw()));
        (start, terms.len() as u32)
    }

    fn push_members(&mut self, members: &[(u32, u32)]) -> (u32, u32) {
        let start = self.members.len() as u32;
        self.members.extend(
            members
                .iter()
                .map(|&(nation, state)| abi::MemberObs { nation, state }),
        );
        (start, members.len() as u32)
    }

    /// A bilateral session `session` opened by `from` with me, with its offer of
    /// `terms` (bargaining period `session_round`) pending for me. `discounts` are
    /// (from's, mine) per session round; the deadline is `deadline_rounds` offers.
    pub fn offer_to_me(
        mut self,
        session: u32,
        from: &str,
        session_round: u32,
        discounts: (f64, f64),
        deadline_rounds: u32,
        terms: &[crate::Term],
    ) -> Self {
        let (from, me) = (self.n(from), self.me);
        let (terms_start, terms_len) = self.push_terms(terms);
        let (members_start, members_len) =
            self.push_members(&[(from, abi::neg::JOINED), (me, abi::neg::JOINED)]);
        self.sessions.push(abi::SessionObs {
            id: session,
            kind: abi::neg::BILATERAL,
            channel: abi::neg::PRIVATE,
            opener: from,
            status: abi::neg::SESSION_OPEN,
            session_round,
            deadline_rounds,
            deadline_tick: self.tick + 3,
            discount_opener: discounts.0,
            discount_other: discounts.1,
            time_cost_opener: 0.0,
            time_cost_other: 0.0,
            offer_from: from,
            offer_to: me,
            next_proposer: me,
            members_start,
            members_len,
            terms_start,
            terms_len,
        });
        self.offers.push(abi::OfferObs {
            session,
            from,
            session_round,
            round: self.round.saturating_sub(1),
            tick: self.tick,
            terms_start,
            terms_len,
        });
        self
    }

    /// A public club proposal `session` by `proposer`, inviting `invitees`.
    pub fn club_invitation(
        mut self,
        session: u32,
        proposer: &str,
        invitees: &[&str],
        terms: &[crate::Term],
    ) -> Self {
        let proposer = self.n(proposer);
        let mut members = vec![(proposer, abi::neg::JOINED)];
        for i in invitees {
            members.push((self.n(i), abi::neg::INVITED));
        }
        let (terms_start, terms_len) = self.push_terms(terms);
        let (members_start, members_len) = self.push_members(&members);
        self.sessions.push(abi::SessionObs {
            id: session,
            kind: abi::neg::CLUB,
            channel: abi::neg::PUBLIC,
            opener: proposer,
            status: abi::neg::SESSION_OPEN,
            session_round: 1,
            deadline_rounds: u32::MAX,
            deadline_tick: self.tick + 3,
            discount_opener: 1.0,
            discount_other: 1.0,
            time_cost_opener: 0.0,
            time_cost_other: 0.0,
            offer_from: abi::NONE,
            offer_to: abi::NONE,
            next_proposer: proposer,
            members_start,
            members_len,
            terms_start,
            terms_len,
        });
        self
    }

    /// An agreement `id` in force among `members`, signed at tick 0.
    pub fn agreement(
        mut self,
        id: u32,
        kind: u32,
        members: &[&str],
        terms: &[crate::Term],
    ) -> Self {
        let m: Vec<(u32, u32)> = members
            .iter()
            .map(|n| (self.n(n), abi::neg::MEMBER))
            .collect();
        let (terms_start, terms_len) = self.push_terms(terms);
        let (members_start, members_len) = self.push_members(&m);
        self.agreements.push(abi::AgreementObs {
            id,
            session: id,
            kind,
            channel: abi::neg::PUBLIC,
            status: abi::neg::ACTIVE,
            broken_by: abi::NONE,
            signed_tick: 0,
            signed_round: 0,
            session_round: 1,
            ends_tick: u64::MAX,
            shortfalls: 0,
            members_start,
            members_len,
            terms_start,
            terms_len,
        });
        self
    }

    /// How far `from` trusts `to`.
    pub fn trust(mut self, from: &str, to: &str, trust: f64) -> Self {
        let (from, to) = (self.n(from), self.n(to));
        self.trust.push(abi::TrustObs { from, to, trust });
        self
    }

    /// Call `f` with the observation as a strategy would see it.
    pub fn with<R>(&self, f: impl FnOnce(&Observation) -> R) -> R {
        // SAFETY: the raw observation's views point into `self` for the call.
        self.with_raw(|raw| f(&unsafe { Observation::from_raw(raw) }))
    }

    /// Call `f` with the raw `#[repr(C)]` observation, as the engine hands it to a plugin.
    pub fn with_raw<R>(&self, f: impl FnOnce(&abi::Observation) -> R) -> R {
        let nations: Vec<abi::NationInfo> = self
            .names
            .iter()
            .map(|(n, r)| abi::NationInfo {
                name: abi::View::of(n.as_bytes()),
                region: abi::View::of(r.as_bytes()),
            })
            .collect();
        let markets: Vec<abi::MarketInfo> = self
            .markets
            .iter()
            .map(|(c, s, p, lag)| abi::MarketInfo {
                commodity: abi::View::of(c.as_bytes()),
                stage: abi::View::of(s.as_bytes()),
                reference_price_usd_per_t: *p,
                build_lag_ticks: *lag,
            })
            .collect();
        let raw = abi::Observation {
            tick: self.tick,
            ticks_per_year: 12,
            me: self.me,
            budget_usd: self.budget,
            nations: abi::View::of(&nations),
            markets: abi::View::of(&markets),
            prices: abi::View::of(&self.prices),
            flows: abi::View::of(&self.flows),
            production: abi::View::of(&self.production),
            shortages: abi::View::of(&self.shortages),
            tariffs: abi::View::of(&self.tariffs),
            licences: abi::View::of(&self.licences),
            floors: abi::View::of(&self.floors),
            firms: abi::View::of(&self.firms),
            stockpiles: abi::View::of(&self.stockpiles),
            pipeline: abi::View::of(&self.pipeline),
            round: self.round,
            rounds_per_tick: 4,
            sessions: abi::View::of(&self.sessions),
            offers: abi::View::of(&self.offers),
            agreements: abi::View::of(&self.agreements),
            members: abi::View::of(&self.members),
            terms: abi::View::of(&self.terms),
            trust: abi::View::of(&self.trust),
            history: abi::View::empty(),
            notices: abi::View::empty(),
        };
        f(&raw)
    }
}

/// Create a strategy from TOML parameter text, as the engine would.
pub fn create<S: Strategy>(params_toml: &str, seed: u64) -> Result<S, String> {
    S::create(
        &Params::parse(params_toml)?,
        &Context::new(seed, Logger::new(None)),
    )
}

/// Run one decision and return the actions.
pub fn decide<S: Strategy>(strategy: &mut S, obs: &ObservationBuilder) -> Vec<abi::Action> {
    let mut out = Vec::new();
    obs.with(|o| strategy.decide(o, &mut Actions::collect_into(&mut out)));
    out
}

/// Run one decision and return its policy actions and negotiation moves.
pub fn decide_all<S: Strategy>(
    strategy: &mut S,
    obs: &ObservationBuilder,
) -> (Vec<abi::Action>, Vec<crate::Move>) {
    let (mut out, mut moves) = (Vec::new(), Vec::new());
    obs.with(|o| strategy.decide(o, &mut Actions::collect_all(&mut out, &mut moves)));
    (out, moves)
}
