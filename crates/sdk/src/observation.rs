//! A safe, typed view of what the engine shows a nation each tick.
//!
//! The engine lays the observation out as borrowed `#[repr(C)]` arrays valid for one
//! `decide` call; this wrapper turns them into slices and typed ids, and offers the
//! questions strategies ask (a price, a supply share, a tariff in force) as methods.
//! Price, production and shortage arrays are sorted by (market, nation), so look-ups
//! are binary searches.

use chokepoint_abi as abi;

use crate::actions::Licence;

/// A nation, by the engine's index (nations in name order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NationId(pub u32);

/// A market (one commodity at one stage), by the engine's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MarketId(pub u32);

/// Last tick's shipment from one nation to another (domestic when `from == to`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flow {
    pub market: MarketId,
    pub from: NationId,
    pub to: NationId,
    pub quantity_t: f64,
    pub landed_usd_per_t: f64,
}

/// One of my firms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Firm {
    pub market: MarketId,
    pub capacity_t: f64,
    pub produced_t: f64,
    pub stock_t: f64,
}

/// My stockpile in one market.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stockpile {
    pub market: MarketId,
    pub holdings_t: f64,
    pub budget_usd: f64,
}

/// Capacity under construction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pipeline {
    pub market: MarketId,
    pub host: NationId,
    pub funder: NationId,
    /// Tonnes per **tick** once online (`Actions::invest` takes tonnes per year).
    pub capacity_t: f64,
    pub arrives_at_tick: u64,
    /// Who builds it (`abi::pipeline::FINANCED`, `FIRM` or `RECYCLING`).
    pub kind: u32,
    /// The expanding firm's id, for a firm's own project.
    pub firm: Option<u32>,
    pub started_tick: u64,
}

pub struct Observation<'a> {
    raw: &'a abi::Observation,
    nations: &'a [abi::NationInfo],
    markets: &'a [abi::MarketInfo],
    prices: &'a [abi::PriceObs],
    flows: &'a [abi::FlowObs],
    production: &'a [abi::ProductionObs],
    shortages: &'a [abi::ShortageObs],
    tariffs: &'a [abi::TariffObs],
    licences: &'a [abi::LicenceObs],
    floors: &'a [abi::FloorObs],
    firms: &'a [abi::FirmObs],
    stockpiles: &'a [abi::StockpileObs],
    pipeline: &'a [abi::PipelineObs],
}

use crate::negotiation::{
    Agreement, AgreementStatus, HistoryEvent, NOTICE_CODES, Notice, Offer, Session, SessionKind,
    SessionStatus, Standing, terms_of,
};

fn text<'a>(s: abi::Str) -> &'a str {
    // SAFETY: the engine's strings are valid for the observation's lifetime `'a`, which
    // every caller ties the result to.
    let bytes = unsafe { s.as_slice() };
    std::str::from_utf8(bytes).unwrap_or("")
}

impl<'a> Observation<'a> {
    /// # Safety
    /// Every view in `raw` must be valid for `'a`, as the engine guarantees during a
    /// `decide` call.
    #[doc(hidden)]
    pub unsafe fn from_raw(raw: &'a abi::Observation) -> Self {
        // SAFETY: guaranteed by the caller.
        unsafe {
            Observation {
                raw,
                nations: raw.nations.as_slice(),
                markets: raw.markets.as_slice(),
                prices: raw.prices.as_slice(),
                flows: raw.flows.as_slice(),
                production: raw.production.as_slice(),
                shortages: raw.shortages.as_slice(),
                tariffs: raw.tariffs.as_slice(),
                licences: raw.licences.as_slice(),
                floors: raw.floors.as_slice(),
                firms: raw.firms.as_slice(),
                stockpiles: raw.stockpiles.as_slice(),
                pipeline: raw.pipeline.as_slice(),
            }
        }
    }

    pub fn tick(&self) -> u64 {
        self.raw.tick
    }
    pub fn ticks_per_year(&self) -> u32 {
        self.raw.ticks_per_year
    }
    /// The nation I play.
    pub fn me(&self) -> NationId {
        NationId(self.raw.me)
    }
    /// My budget (USD) for stockpiles and investment.
    pub fn budget_usd(&self) -> f64 {
        self.raw.budget_usd
    }

    pub fn nations(&self) -> impl Iterator<Item = NationId> + '_ {
        (0..self.nations.len() as u32).map(NationId)
    }
    pub fn nation_name(&self, n: NationId) -> &str {
        self.nations
            .get(n.0 as usize)
            .map(|i| text(i.name))
            .unwrap_or("")
    }
    pub fn region(&self, n: NationId) -> &str {
        self.nations
            .get(n.0 as usize)
            .map(|i| text(i.region))
            .unwrap_or("")
    }
    pub fn nation_id(&self, name: &str) -> Option<NationId> {
        self.nations
            .iter()
            .position(|i| text(i.name) == name)
            .map(|i| NationId(i as u32))
    }

    pub fn markets(&self) -> impl Iterator<Item = MarketId> + '_ {
        (0..self.markets.len() as u32).map(MarketId)
    }
    pub fn commodity(&self, m: MarketId) -> &str {
        self.markets
            .get(m.0 as usize)
            .map(|i| text(i.commodity))
            .unwrap_or("")
    }
    pub fn stage(&self, m: MarketId) -> &str {
        self.markets
            .get(m.0 as usize)
            .map(|i| text(i.stage))
            .unwrap_or("")
    }
    pub fn market_id(&self, commodity: &str, stage: &str) -> Option<MarketId> {
        self.markets
            .iter()
            .position(|i| text(i.commodity) == commodity && text(i.stage) == stage)
            .map(|i| MarketId(i as u32))
    }
    pub fn reference_price(&self, m: MarketId) -> f64 {
        self.markets
            .get(m.0 as usize)
            .map(|i| i.reference_price_usd_per_t)
            .unwrap_or(0.0)
    }
    pub fn build_lag_ticks(&self, m: MarketId) -> u32 {
        self.markets
            .get(m.0 as usize)
            .map(|i| i.build_lag_ticks)
            .unwrap_or(0)
    }

    /// Last tick's price inside nation `n` (None if it had none).
    pub fn price(&self, m: MarketId, n: NationId) -> Option<f64> {
        self.prices
            .binary_search_by_key(&(m.0, n.0), |p| (p.market, p.nation))
            .ok()
            .map(|i| self.prices[i].price_usd_per_t)
    }

    /// Last tick's flows.
    pub fn flows(&self) -> impl Iterator<Item = Flow> + '_ {
        self.flows.iter().map(|f| Flow {
            market: MarketId(f.market),
            from: NationId(f.from),
            to: NationId(f.to),
            quantity_t: f.quantity_t,
            landed_usd_per_t: f.landed_usd_per_t,
        })
    }
    /// What `n` imported in `m` last tick, from everyone else.
    pub fn imports(&self, m: MarketId, n: NationId) -> f64 {
        self.flows()
            .filter(|f| f.market == m && f.to == n && f.from != n)
            .map(|f| f.quantity_t)
            .sum()
    }
    /// What `to` received from `from` in `m` last tick.
    pub fn flow(&self, m: MarketId, from: NationId, to: NationId) -> f64 {
        self.flows()
            .filter(|f| f.market == m && f.from == from && f.to == to)
            .map(|f| f.quantity_t)
            .sum()
    }

    /// Last tick's output of nation `n` in `m`.
    pub fn production(&self, m: MarketId, n: NationId) -> f64 {
        self.production
            .binary_search_by_key(&(m.0, n.0), |p| (p.market, p.nation))
            .ok()
            .map(|i| self.production[i].produced_t)
            .unwrap_or(0.0)
    }
    /// Capacity of nation `n` in `m`.
    pub fn capacity(&self, m: MarketId, n: NationId) -> f64 {
        self.production
            .binary_search_by_key(&(m.0, n.0), |p| (p.market, p.nation))
            .ok()
            .map(|i| self.production[i].capacity_t)
            .unwrap_or(0.0)
    }
    /// World output in `m` last tick.
    pub fn world_production(&self, m: MarketId) -> f64 {
        self.production
            .iter()
            .filter(|p| p.market == m.0)
            .map(|p| p.produced_t)
            .sum()
    }
    /// Nation `n`'s share of world output in `m` (0 when nothing was made).
    pub fn supply_share(&self, m: MarketId, n: NationId) -> f64 {
        let w = self.world_production(m);
        if w > 0.0 {
            self.production(m, n) / w
        } else {
            0.0
        }
    }
    /// Nation `n`'s shortage in `m` last tick.
    pub fn shortage(&self, m: MarketId, n: NationId) -> f64 {
        self.shortages
            .binary_search_by_key(&(m.0, n.0), |p| (p.market, p.nation))
            .ok()
            .map(|i| self.shortages[i].shortage_t)
            .unwrap_or(0.0)
    }

    /// The tariff `importer` levies on `exporter` in `m`.
    pub fn tariff(&self, m: MarketId, importer: NationId, exporter: NationId) -> f64 {
        self.tariffs
            .iter()
            .find(|t| t.market == m.0 && t.importer == importer.0 && t.exporter == exporter.0)
            .map(|t| t.rate)
            .unwrap_or(0.0)
    }
    /// The export licence `exporter` applies to `destination` in `m`.
    pub fn licence(&self, m: MarketId, exporter: NationId, destination: NationId) -> Licence {
        self.licences
            .iter()
            .find(|l| l.market == m.0 && l.exporter == exporter.0 && l.destination == destination.0)
            .map(|l| Licence::from_raw(l.kind, l.quota_t, l.delay_ticks))
            .unwrap_or(Licence::Open)
    }
    /// The floor on imports into `importer` in `m`, if any.
    pub fn floor(&self, m: MarketId, importer: NationId) -> Option<f64> {
        self.floors
            .iter()
            .find(|f| f.market == m.0 && f.importer == importer.0)
            .map(|f| f.floor_usd_per_t)
    }

    /// My firms.
    pub fn firms(&self) -> impl Iterator<Item = Firm> + '_ {
        self.firms.iter().map(|f| Firm {
            market: MarketId(f.market),
            capacity_t: f.capacity_t,
            produced_t: f.produced_t,
            stock_t: f.stock_t,
        })
    }
    /// My stockpile in `m`, if I have one.
    pub fn stockpile(&self, m: MarketId) -> Option<Stockpile> {
        self.stockpiles
            .iter()
            .find(|s| s.market == m.0)
            .map(|s| Stockpile {
                market: m,
                holdings_t: s.holdings_t,
                budget_usd: s.budget_usd,
            })
    }
    pub fn stockpiles(&self) -> impl Iterator<Item = Stockpile> + '_ {
        self.stockpiles.iter().map(|s| Stockpile {
            market: MarketId(s.market),
            holdings_t: s.holdings_t,
            budget_usd: s.budget_usd,
        })
    }
    /// Capacity under construction everywhere.
    pub fn pipeline(&self) -> impl Iterator<Item = Pipeline> + '_ {
        self.pipeline.iter().map(|p| Pipeline {
            market: MarketId(p.market),
            host: NationId(p.nation),
            funder: NationId(p.funder),
            capacity_t: p.capacity_t,
            arrives_at_tick: p.arrives_at_tick,
            kind: p.kind,
            firm: (p.firm != abi::pipeline::NO_FIRM).then_some(p.firm),
            started_tick: p.started_tick,
        })
    }
}

/// Negotiation: what I can see of sessions and agreements, trust, and my refused moves.
impl<'a> Observation<'a> {
    fn neg_slice<T>(v: abi::View<T>) -> &'a [T] {
        // SAFETY: the views are valid for the observation's lifetime (see `from_raw`).
        unsafe { v.as_slice() }
    }

    /// The negotiation round of this call (0: every agent's call of the tick, the one
    /// for policy actions; later rounds call agents with something to answer).
    pub fn round(&self) -> u32 {
        self.raw.round
    }
    pub fn rounds_per_tick(&self) -> u32 {
        self.raw.rounds_per_tick
    }

    fn members(&self, start: u32, len: u32) -> Vec<(NationId, Standing)> {
        Self::neg_slice(self.raw.members)
            .get(start as usize..(start + len) as usize)
            .unwrap_or(&[])
            .iter()
            .map(|m| (NationId(m.nation), Standing::from_raw(m.state)))
            .collect()
    }

    /// Sessions I am party to, and public ones (the bulletin).
    pub fn sessions(&self) -> Vec<Session> {
        use abi::neg as k;
        let terms = Self::neg_slice(self.raw.terms);
        let opt = |n: u32| (n != abi::NONE).then_some(NationId(n));
        Self::neg_slice(self.raw.sessions)
            .iter()
            .map(|s| Session {
                id: s.id,
                kind: if s.kind == k::CLUB {
                    SessionKind::Club
                } else {
                    SessionKind::Bilateral
                },
                public: s.channel == k::PUBLIC,
                opener: NationId(s.opener),
                status: match s.status {
                    k::SESSION_OPEN => SessionStatus::Open,
                    k::SESSION_AGREED => SessionStatus::Agreed,
                    _ => SessionStatus::Expired,
                },
                session_round: s.session_round,
                deadline_rounds: s.deadline_rounds,
                deadline_tick: s.deadline_tick,
                discount: (s.discount_opener, s.discount_other),
                time_cost_usd: (s.time_cost_opener, s.time_cost_other),
                offer: opt(s.offer_from).zip(opt(s.offer_to)),
                next_proposer: NationId(s.next_proposer),
                parties: self.members(s.members_start, s.members_len),
                terms: terms_of(terms, s.terms_start, s.terms_len),
            })
            .collect()
    }

    /// Offers addressed to me, pending an answer.
    pub fn offers_to_me(&self) -> Vec<Offer> {
        let terms = Self::neg_slice(self.raw.terms);
        Self::neg_slice(self.raw.offers)
            .iter()
            .map(|o| Offer {
                session: o.session,
                from: NationId(o.from),
                session_round: o.session_round,
                tick: o.tick,
                round: o.round,
                terms: terms_of(terms, o.terms_start, o.terms_len),
            })
            .collect()
    }

    /// Agreements I am or was party to, and public ones, with their standing.
    pub fn agreements(&self) -> Vec<Agreement> {
        use abi::neg as k;
        let terms = Self::neg_slice(self.raw.terms);
        Self::neg_slice(self.raw.agreements)
            .iter()
            .map(|a| Agreement {
                id: a.id,
                session: a.session,
                kind: if a.kind == k::CLUB {
                    SessionKind::Club
                } else {
                    SessionKind::Bilateral
                },
                public: a.channel == k::PUBLIC,
                status: match a.status {
                    k::ACTIVE => AgreementStatus::Active,
                    k::COMPLETED => AgreementStatus::Completed,
                    k::BREACHED => AgreementStatus::Breached(NationId(a.broken_by)),
                    k::RENEGED => AgreementStatus::Reneged(NationId(a.broken_by)),
                    _ => AgreementStatus::Dissolved,
                },
                signed_tick: a.signed_tick,
                signed_round: a.signed_round,
                session_round: a.session_round,
                ends_tick: (a.ends_tick != u64::MAX).then_some(a.ends_tick),
                shortfalls: a.shortfalls,
                members: self.members(a.members_start, a.members_len),
                terms: terms_of(terms, a.terms_start, a.terms_len),
            })
            .collect()
    }

    /// How far `from` trusts `to` (one side must be me), 0 to 1.
    pub fn trust(&self, from: NationId, to: NationId) -> Option<f64> {
        Self::neg_slice(self.raw.trust)
            .iter()
            .find(|t| t.from == from.0 && t.to == to.0)
            .map(|t| t.trust)
    }

    /// What happened to the agreements I can see.
    pub fn history(&self) -> Vec<HistoryEvent> {
        use abi::history as h;
        Self::neg_slice(self.raw.history)
            .iter()
            .map(|r| HistoryEvent {
                tick: r.tick,
                round: r.round,
                agreement: r.agreement,
                nation: NationId(r.nation),
                kind: match r.kind {
                    h::SIGNED => "signed",
                    h::JOINED => "joined",
                    h::COMPLETED => "completed",
                    h::BREACH => "breach",
                    h::RENEGE => "renege",
                    h::LEAVE => "leave",
                    _ => "left",
                },
                penalty_usd: r.penalty_usd,
            })
            .collect()
    }

    /// My moves the engine refused, this tick and last.
    pub fn notices(&self) -> Vec<Notice> {
        Self::neg_slice(self.raw.notices)
            .iter()
            .map(|n| Notice {
                tick: n.tick,
                round: n.round,
                session: n.session,
                code: NOTICE_CODES
                    .get((n.code as usize).wrapping_sub(1))
                    .copied()
                    .unwrap_or("unknown"),
                message: text(n.message).to_string(),
            })
            .collect()
    }
}
