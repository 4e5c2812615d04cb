//! Building each nation's observation from the engine's state, into buffers the host
//! owns and reuses: the plugin borrows them for one `decide` call.

use chokepoint_abi as abi;
use chokepoint_engine::components::{Firm, Plant, Stockpile, Stocks, Treasury};
use chokepoint_engine::negotiation::{
    AgreementStatus, Channel, Membership, Negotiation, PartyState, ROUNDS_PER_TICK, SessionKind,
    SessionStatus, Term,
};
use chokepoint_engine::{Index, MarketState, Pipeline, Policies, Simulation};
use chokepoint_world::{Licence, NationId};

/// Text the observation points into, fixed for the run.
pub struct Names {
    nations: Vec<(String, String)>,
    markets: Vec<(String, String, f64, u32)>,
}

impl Names {
    pub fn new(world: &chokepoint_world::World) -> Self {
        Names {
            nations: world
                .nations
                .iter()
                .map(|n| {
                    (
                        n.name.clone(),
                        world.regions.get(n.region).cloned().unwrap_or_default(),
                    )
                })
                .collect(),
            markets: world
                .markets
                .iter()
                .map(|m| {
                    (
                        world.commodities[m.commodity.index()].name.clone(),
                        m.stage.clone(),
                        m.reference_price_usd_per_t,
                        m.build_lag_ticks,
                    )
                })
                .collect(),
        }
    }
}

/// Public tables shared by every nation's observation, rebuilt once per tick.
#[derive(Default)]
pub struct Shared {
    nations: Vec<abi::NationInfo>,
    markets: Vec<abi::MarketInfo>,
    prices: Vec<abi::PriceObs>,
    flows: Vec<abi::FlowObs>,
    production: Vec<abi::ProductionObs>,
    shortages: Vec<abi::ShortageObs>,
    tariffs: Vec<abi::TariffObs>,
    licences: Vec<abi::LicenceObs>,
    floors: Vec<abi::FloorObs>,
    pipeline: Vec<abi::PipelineObs>,
    // Per nation, rebuilt for each agent.
    firms: Vec<abi::FirmObs>,
    stockpiles: Vec<abi::StockpileObs>,
    neg: NegViews,
}

/// Negotiation views of one nation: what it may see of sessions and agreements.
#[derive(Default)]
struct NegViews {
    sessions: Vec<abi::SessionObs>,
    offers: Vec<abi::OfferObs>,
    agreements: Vec<abi::AgreementObs>,
    members: Vec<abi::MemberObs>,
    terms: Vec<abi::Term>,
    trust: Vec<abi::TrustObs>,
    history: Vec<abi::HistoryObs>,
    notices: Vec<abi::NoticeObs>,
    messages: Vec<String>,
}

/// An engine term as the ABI's flat term.
pub fn term_to_abi(t: &Term) -> abi::Term {
    use abi::term as k;
    match *t {
        Term::Offtake {
            seller,
            buyer,
            market,
            t_per_tick,
            price_usd_per_t,
            duration_ticks,
            penalty_usd,
        } => abi::Term {
            a: seller.0,
            b: buyer.0,
            quantity: t_per_tick,
            price: price_usd_per_t,
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
            offtake_price_usd_per_t,
            duration_ticks,
        } => abi::Term {
            a: funder.0,
            b: host.0,
            quantity: t_per_year,
            price: usd_per_tpy,
            rate: offtake_share,
            aux: offtake_price_usd_per_t,
            duration_ticks,
            ..abi::Term::new(k::FINANCE, market.0)
        },
        Term::Stockpile {
            market,
            t_per_tick,
            buy_below_usd_per_t,
            release_above_usd_per_t,
            duration_ticks,
        } => abi::Term {
            quantity: t_per_tick,
            price: buy_below_usd_per_t,
            aux: release_above_usd_per_t,
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
            floor_usd_per_t,
            member_tariff,
        } => abi::Term {
            price: floor_usd_per_t,
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

impl NegViews {
    fn terms(&mut self, terms: &[Term]) -> (u32, u32) {
        let start = self.terms.len() as u32;
        self.terms.extend(terms.iter().map(term_to_abi));
        (start, terms.len() as u32)
    }

    fn build(&mut self, neg: &Negotiation, me: NationId) {
        use abi::neg as k;
        self.sessions.clear();
        self.offers.clear();
        self.agreements.clear();
        self.members.clear();
        self.terms.clear();
        self.trust.clear();
        self.history.clear();
        self.notices.clear();
        self.messages.clear();
        for s in neg.sessions.iter().filter(|s| s.visible_to(me)) {
            let members_start = self.members.len() as u32;
            self.members.extend(
                s.parties
                    .iter()
                    .zip(&s.state)
                    .map(|(p, st)| abi::MemberObs {
                        nation: p.0,
                        state: match st {
                            PartyState::Invited => k::INVITED,
                            PartyState::Joined => k::JOINED,
                            PartyState::Declined => k::DECLINED,
                        },
                    }),
            );
            let shown: &[Term] = match (&s.offer, s.kind) {
                (_, SessionKind::Club) => &s.terms,
                (Some(o), _) => &o.terms,
                (None, _) => &[],
            };
            let (terms_start, terms_len) = self.terms(shown);
            if let Some(o) = &s.offer
                && o.to == me
                && s.status == SessionStatus::Open
            {
                self.offers.push(abi::OfferObs {
                    session: s.id,
                    from: o.from.0,
                    session_round: o.session_round,
                    round: o.round,
                    tick: o.tick,
                    terms_start,
                    terms_len,
                });
            }
            let at = |v: &Vec<f64>, i: usize| v.get(i).copied().unwrap_or(0.0);
            self.sessions.push(abi::SessionObs {
                id: s.id,
                kind: match s.kind {
                    SessionKind::Bilateral => k::BILATERAL,
                    SessionKind::Club => k::CLUB,
                },
                channel: match s.channel {
                    Channel::Private => k::PRIVATE,
                    Channel::Public => k::PUBLIC,
                },
                opener: s.opener.0,
                status: match s.status {
                    SessionStatus::Open => k::SESSION_OPEN,
                    SessionStatus::Agreed(_) => k::SESSION_AGREED,
                    SessionStatus::Expired => k::SESSION_EXPIRED,
                },
                session_round: s.session_round,
                deadline_rounds: s.deadline_rounds,
                deadline_tick: s.deadline_tick,
                discount_opener: at(&s.discount, 0),
                discount_other: at(&s.discount, 1),
                time_cost_opener: at(&s.time_cost_usd, 0),
                time_cost_other: at(&s.time_cost_usd, 1),
                offer_from: s.offer.as_ref().map_or(abi::NONE, |o| o.from.0),
                offer_to: s.offer.as_ref().map_or(abi::NONE, |o| o.to.0),
                next_proposer: s.next_proposer.0,
                members_start,
                members_len: s.parties.len() as u32,
                terms_start,
                terms_len,
            });
        }
        let mut visible = Vec::new();
        for a in neg.agreements.iter().filter(|a| a.visible_to(me)) {
            visible.push(a.id);
            let members_start = self.members.len() as u32;
            self.members.extend(
                a.parties
                    .iter()
                    .zip(&a.membership)
                    .map(|(p, m)| abi::MemberObs {
                        nation: p.0,
                        state: match m {
                            Membership::Member => k::MEMBER,
                            Membership::Leaving(_) => k::LEAVING,
                            Membership::Left => k::LEFT,
                            Membership::Expelled => k::EXPELLED,
                        },
                    }),
            );
            let (terms_start, terms_len) = self.terms(&a.terms);
            let (status, broken_by) = match a.status {
                AgreementStatus::Active => (k::ACTIVE, abi::NONE),
                AgreementStatus::Completed => (k::COMPLETED, abi::NONE),
                AgreementStatus::Breached(n) => (k::BREACHED, n.0),
                AgreementStatus::Reneged(n) => (k::RENEGED, n.0),
                AgreementStatus::Dissolved => (k::DISSOLVED, abi::NONE),
            };
            self.agreements.push(abi::AgreementObs {
                id: a.id,
                session: a.session,
                kind: match a.kind {
                    SessionKind::Bilateral => k::BILATERAL,
                    SessionKind::Club => k::CLUB,
                },
                channel: match a.channel {
                    Channel::Private => k::PRIVATE,
                    Channel::Public => k::PUBLIC,
                },
                status,
                broken_by,
                signed_tick: a.signed_tick,
                signed_round: a.signed_round,
                session_round: a.session_round,
                ends_tick: a.ends_tick.unwrap_or(u64::MAX),
                shortfalls: a.shortfalls,
                members_start,
                members_len: a.parties.len() as u32,
                terms_start,
                terms_len,
            });
        }
        for other in 0..neg.nations {
            let o = NationId(other as u32);
            if o == me {
                continue;
            }
            self.trust.push(abi::TrustObs {
                from: me.0,
                to: o.0,
                trust: neg.trust(me, o),
            });
            self.trust.push(abi::TrustObs {
                from: o.0,
                to: me.0,
                trust: neg.trust(o, me),
            });
        }
        use abi::history as h;
        self.history.extend(
            neg.history
                .iter()
                .filter(|r| visible.contains(&r.agreement))
                .map(|r| abi::HistoryObs {
                    tick: r.tick,
                    round: r.round,
                    agreement: r.agreement,
                    nation: r.nation.0,
                    kind: match r.kind {
                        "signed" => h::SIGNED,
                        "joined" => h::JOINED,
                        "completed" => h::COMPLETED,
                        "breach" => h::BREACH,
                        "renege" => h::RENEGE,
                        "leave" => h::LEAVE,
                        _ => h::LEFT,
                    },
                    penalty_usd: r.penalty_usd,
                }),
        );
        for n in neg.notices.iter().filter(|n| n.nation == me) {
            self.messages.push(n.error.to_string());
        }
        for (n, msg) in neg
            .notices
            .iter()
            .filter(|n| n.nation == me)
            .zip(&self.messages)
        {
            self.notices.push(abi::NoticeObs {
                tick: n.tick,
                round: n.round,
                session: n.session,
                code: n.error.code_id(),
                message: abi::View::of(msg.as_bytes()),
            });
        }
    }
}

/// Does `me` have something to answer in the current round: an offer to it, an
/// invitation, its turn to offer, or a move refused this tick?
pub fn has_business(neg: &Negotiation, me: NationId, tick: u64) -> bool {
    neg.sessions.iter().any(|s| {
        s.status == SessionStatus::Open
            && match s.kind {
                SessionKind::Bilateral => match &s.offer {
                    Some(o) => o.to == me,
                    None => s.next_proposer == me,
                },
                SessionKind::Club => s
                    .party_index(me)
                    .is_some_and(|p| s.state[p] == PartyState::Invited),
            }
    }) || neg.notices.iter().any(|n| n.nation == me && n.tick == tick)
}

impl Shared {
    pub fn refresh(&mut self, names: &Names, sim: &Simulation) {
        let ecs = sim.ecs();
        let world = sim.world_def();
        let index = ecs.resource::<Index>();
        self.nations.clear();
        self.nations
            .extend(names.nations.iter().map(|(n, r)| abi::NationInfo {
                name: abi::View::of(n.as_bytes()),
                region: abi::View::of(r.as_bytes()),
            }));
        self.markets.clear();
        self.markets
            .extend(names.markets.iter().map(|(c, s, p, lag)| abi::MarketInfo {
                commodity: abi::View::of(c.as_bytes()),
                stage: abi::View::of(s.as_bytes()),
                reference_price_usd_per_t: *p,
                build_lag_ticks: *lag,
            }));

        // Last known price in every market and nation, sorted by (market, nation).
        self.prices.clear();
        for (m, &e) in index.markets.iter().enumerate() {
            let state = ecs.get::<MarketState>(e).expect("market entity");
            for (n, &p) in state.prices.previous.iter().enumerate() {
                self.prices.push(abi::PriceObs {
                    market: m as u32,
                    nation: n as u32,
                    price_usd_per_t: p,
                });
            }
        }

        let rec = sim.record();
        self.flows.clear();
        self.flows.extend(rec.flows.iter().map(|f| abi::FlowObs {
            market: f.market.0,
            from: f.from.0,
            to: f.to.0,
            quantity_t: f.quantity_t,
            landed_usd_per_t: f.landed_usd_per_t,
        }));

        // Production and capacity by (market, nation): capacity from every plant, output
        // from last tick's record.
        let (n_markets, n_nations) = (world.markets.len(), world.nations.len());
        let mut produced = vec![0.0; n_markets * n_nations];
        let mut capacity = vec![0.0; n_markets * n_nations];
        for p in &rec.production {
            produced[p.market.index() * n_nations + p.nation.index()] +=
                p.produced_t + p.sold_from_stock_t;
        }
        for &e in &index.firms {
            if let (Some(f), Some(plant)) = (ecs.get::<Firm>(e), ecs.get::<Plant>(e)) {
                capacity[f.market.index() * n_nations + f.nation.index()] +=
                    plant.capacity_t_per_tick;
            }
        }
        self.production.clear();
        for k in 0..n_markets * n_nations {
            if produced[k] > 0.0 || capacity[k] > 0.0 {
                self.production.push(abi::ProductionObs {
                    market: (k / n_nations) as u32,
                    nation: (k % n_nations) as u32,
                    produced_t: produced[k],
                    capacity_t: capacity[k],
                });
            }
        }
        let mut short = vec![0.0; n_markets * n_nations];
        // A stockpile's unfilled buy order is not a shortage of the nation.
        for c in rec
            .consumption
            .iter()
            .filter(|c| !matches!(c.consumer, chokepoint_engine::Consumer::Stockpile(_)))
        {
            short[c.market.index() * n_nations + c.nation.index()] += c.shortage_t();
        }
        self.shortages.clear();
        for (k, &s) in short.iter().enumerate() {
            if s > 0.0 {
                self.shortages.push(abi::ShortageObs {
                    market: (k / n_nations) as u32,
                    nation: (k % n_nations) as u32,
                    shortage_t: s,
                });
            }
        }

        let policies = ecs.resource::<Policies>();
        self.tariffs.clear();
        self.tariffs
            .extend(policies.tariffs().map(|(m, i, x, rate)| abi::TariffObs {
                market: m.0,
                importer: i.0,
                exporter: x.0,
                rate,
            }));
        self.licences.clear();
        self.licences
            .extend(policies.licences().map(|(&(m, x, d), s)| {
                let (kind, quota_t, delay_ticks) = match s.licence {
                    Licence::Open => (abi::licence::OPEN, 0.0, 0),
                    Licence::Ban => (abi::licence::BAN, 0.0, 0),
                    Licence::Quota { t_per_tick } => (abi::licence::QUOTA, t_per_tick, 0),
                    Licence::Licensed { delay_ticks } => (abi::licence::LICENSED, 0.0, delay_ticks),
                };
                abi::LicenceObs {
                    market: m.0,
                    exporter: x.0,
                    destination: d.0,
                    kind,
                    quota_t,
                    delay_ticks,
                }
            }));
        self.floors.clear();
        self.floors
            .extend(policies.floors().map(|(m, n, f)| abi::FloorObs {
                market: m.0,
                importer: n.0,
                floor_usd_per_t: f,
            }));
        self.pipeline.clear();
        self.pipeline.extend(
            ecs.resource::<Pipeline>()
                .0
                .iter()
                .map(|p| abi::PipelineObs {
                    market: p.market.0,
                    nation: p.host.0,
                    funder: p.funder.0,
                    capacity_t: p.capacity_t_per_tick,
                    arrives_at_tick: p.arrives_at_tick,
                    kind: abi::pipeline::FINANCED,
                    firm: abi::pipeline::NO_FIRM,
                    started_tick: p.arrives_at_tick.saturating_sub(
                        sim.world_def().markets[p.market.index()].build_lag_ticks as u64,
                    ),
                }),
        );
        // Firms' own projects (the engine's investment rule), funded by their nation's
        // firms, and recycling plants financed by a lever.
        let world = sim.world_def();
        self.pipeline.extend(
            ecs.resource::<chokepoint_engine::investment::FirmPipeline>()
                .0
                .iter()
                .map(|p| abi::PipelineObs {
                    market: p.market.0,
                    nation: p.nation.0,
                    funder: p.nation.0,
                    capacity_t: p.capacity_t_per_tick,
                    arrives_at_tick: p.arrives_at_tick,
                    kind: abi::pipeline::FIRM,
                    firm: p.firm.0,
                    started_tick: p.started_tick,
                }),
        );
        self.pipeline.extend(
            ecs.resource::<chokepoint_engine::levers::Levers>()
                .recycling_projects
                .iter()
                .map(|p| abi::PipelineObs {
                    market: world.adaptation.recycling[p.stream].to.0,
                    nation: p.nation.0,
                    funder: p.nation.0,
                    capacity_t: p.capacity_t_per_tick,
                    arrives_at_tick: p.arrives_at_tick,
                    kind: abi::pipeline::RECYCLING,
                    firm: abi::pipeline::NO_FIRM,
                    started_tick: p.started_tick,
                }),
        );
    }

    /// The observation of `me`, borrowing these buffers.
    pub fn observation(&mut self, sim: &Simulation, me: NationId) -> abi::Observation {
        let ecs = sim.ecs();
        let index = ecs.resource::<Index>();
        self.firms.clear();
        for &e in &index.firms {
            if let (Some(f), Some(plant), Some(stocks)) = (
                ecs.get::<Firm>(e),
                ecs.get::<Plant>(e),
                ecs.get::<Stocks>(e),
            ) && f.nation == me
            {
                let produced = sim
                    .record()
                    .production
                    .iter()
                    .find(|p| p.firm == f.id)
                    .map_or(0.0, |p| p.produced_t);
                self.firms.push(abi::FirmObs {
                    firm: f.id.0,
                    market: f.market.0,
                    capacity_t: plant.capacity_t_per_tick,
                    produced_t: produced,
                    stock_t: stocks.output_t,
                });
            }
        }
        let budget = ecs
            .get::<Treasury>(index.nations[me.index()])
            .map_or(0.0, |t| t.budget_usd);
        self.stockpiles.clear();
        for (&(m, owner), &e) in &index.stockpiles {
            if owner == me
                && let Some(s) = ecs.get::<Stockpile>(e)
            {
                self.stockpiles.push(abi::StockpileObs {
                    market: m.0,
                    holdings_t: s.holdings_t,
                    budget_usd: budget,
                });
            }
        }
        let neg = sim.negotiation();
        self.neg.build(neg, me);
        abi::Observation {
            tick: sim.tick(),
            ticks_per_year: sim.world_def().ticks_per_year,
            me: me.0,
            budget_usd: budget,
            nations: abi::View::of(&self.nations),
            markets: abi::View::of(&self.markets),
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
            round: neg.next_round,
            rounds_per_tick: ROUNDS_PER_TICK,
            sessions: abi::View::of(&self.neg.sessions),
            offers: abi::View::of(&self.neg.offers),
            agreements: abi::View::of(&self.neg.agreements),
            members: abi::View::of(&self.neg.members),
            terms: abi::View::of(&self.neg.terms),
            trust: abi::View::of(&self.neg.trust),
            history: abi::View::of(&self.neg.history),
            notices: abi::View::of(&self.neg.notices),
        }
    }
}
