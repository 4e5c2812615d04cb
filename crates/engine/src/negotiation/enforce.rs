//! Enforcement: agreements become policies, deliveries, levies and payments.
//!
//! Order inside a tick (see ARCHITECTURE.md, "Negotiation"):
//! 1. `finish_rounds` (Policies, first): negotiation rounds not yet run before the
//!    schedule (all of them in replay), then deadlines.
//! 2. strategies' policy actions (`apply_actions`).
//! 3. `enforce_agreements` (Policies): reneging, one-off terms of new agreements
//!    (tariff change, licence grant, financing, transfers), breaches of tariff and
//!    licence terms by this tick's policies, club exits, expiry, time costs; then this
//!    tick's contracted deliveries, club floors and stockpile rules are staged.
//! 4. Clearing: contracted quantities are delivered before the spot market
//!    ([`predeliver`]), club floors are levies on non-member arcs ([`Enforcement::arc`]).
//! 5. `settle_agreements` (Settle): contract payments, delivery shortfalls as breaches,
//!    trust for kept agreements, rows to the tick record.

use bevy_ecs::prelude::*;
use chokepoint_world::{Licence, MarketId, NationId, World};

use super::*;
use crate::components::Treasury;
use crate::market::MarketState;
use crate::resources::*;

/// A contracted delivery staged for this tick.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub agreement: u32,
    pub market: MarketId,
    pub seller: NationId,
    pub buyer: NationId,
    pub t: f64,
    pub price_usd_per_t: f64,
    pub penalty_usd: f64,
}

/// A club's floor in one market.
#[derive(Debug, Clone, PartialEq)]
pub struct ClubRule {
    pub agreement: u32,
    pub market: MarketId,
    /// Members in id order.
    pub members: Vec<NationId>,
    pub floor_usd_per_t: f64,
    pub member_tariff: f64,
}

/// What agreements impose on this tick's clearing.
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct Enforcement {
    /// By market, then agreement.
    pub deliveries: Vec<Delivery>,
    pub clubs: Vec<ClubRule>,
    /// Agreements broken or changed this tick (their table row is written).
    pub changed: Vec<u32>,
    pub breached: Vec<u32>,
    /// Net money each treasury received in this tick's settlement (contract payments,
    /// resales, shortfall penalties), by nation id: the accounting books reconcile
    /// budgets with it. Rewritten every Settle phase.
    pub settled_usd: Vec<f64>,
}

impl Enforcement {
    /// Tariff and floor on the arc exporter -> importer in `market`, after club rules:
    /// a member importing from a non-member holds the club floor by a levy; members
    /// charge each other at most the member tariff.
    pub fn arc(
        &self,
        market: MarketId,
        importer: NationId,
        exporter: NationId,
        tariff: f64,
        floor: Option<f64>,
    ) -> (f64, Option<f64>) {
        let (mut tariff, mut floor) = (tariff, floor);
        for c in self.clubs.iter().filter(|c| c.market == market) {
            if c.members.binary_search(&importer).is_err() {
                continue;
            }
            if c.members.binary_search(&exporter).is_ok() {
                tariff = tariff.min(c.member_tariff);
            } else {
                floor = Some(floor.map_or(c.floor_usd_per_t, |f| f.max(c.floor_usd_per_t)));
            }
        }
        (tariff, floor)
    }

    pub fn deliveries_in(&self, market: MarketId) -> impl Iterator<Item = &Delivery> {
        self.deliveries.iter().filter(move |d| d.market == market)
    }
}

/// Policies phase, first: the rounds of this tick not yet run, then deadlines.
pub fn finish_rounds(
    def: Res<WorldDef>,
    clock: Res<Clock>,
    pending: Res<PendingActions>,
    mut neg: ResMut<Negotiation>,
) {
    while neg.next_round < ROUNDS_PER_TICK {
        let r = neg.next_round;
        protocol::run_round(&mut neg, &def.0, clock.tick, r, &pending.0);
        neg.next_round += 1;
    }
    protocol::end_of_rounds(&mut neg, &def.0, clock.tick);
    neg.next_round = 0;
}

struct Money<'a, 'w, 's, 'q> {
    index: &'a Index,
    treasuries: &'a mut Query<'w, 's, &'q mut Treasury>,
    /// Where the settlement phase keeps its per-nation ledger (None elsewhere).
    ledger: Option<Vec<f64>>,
}

impl Money<'_, '_, '_, '_> {
    fn budget(&self, n: NationId) -> f64 {
        self.treasuries
            .get(self.index.nations[n.index()])
            .map_or(0.0, |t| t.budget_usd)
    }
    fn add(&mut self, n: NationId, usd: f64) {
        if let Ok(mut t) = self.treasuries.get_mut(self.index.nations[n.index()]) {
            t.budget_usd += usd;
            if let Some(ledger) = &mut self.ledger {
                ledger[n.index()] += usd;
            }
        }
    }
    fn pay(&mut self, from: NationId, to: NationId, usd: f64) {
        self.add(from, -usd);
        self.add(to, usd);
    }
}

/// Break agreement `a` by `by`: penalty to the other members, trust down, and (when
/// `lapse`) the agreement ends and its tariff concessions are withdrawn.
#[allow(clippy::too_many_arguments)]
fn breach(
    neg: &mut Negotiation,
    world: &World,
    a: usize,
    by: NationId,
    why: &str,
    severity: f64,
    penalty_usd: f64,
    lapse: bool,
    renege: bool,
    policies: &mut Policies,
    money: &mut Money,
    enf: &mut Enforcement,
    tick: u64,
) {
    let others: Vec<NationId> = neg.agreements[a].members().filter(|&m| m != by).collect();
    if penalty_usd > 0.0 && !others.is_empty() {
        let each = penalty_usd / others.len() as f64;
        for &o in &others {
            money.pay(by, o, each);
        }
    }
    let keep = if renege { RENEGE_KEEP } else { BREACH_KEEP };
    for &o in &others {
        let t = neg.trust_mut(o, by);
        *t *= 1.0 - (1.0 - keep) * severity.clamp(0.0, 1.0);
    }
    let id = neg.agreements[a].id;
    neg.history.push(HistoryRow {
        tick,
        round: ROUNDS_PER_TICK - 1,
        agreement: id,
        nation: by,
        kind: if renege { "renege" } else { "breach" },
        penalty_usd,
    });
    enf.changed.push(id);
    enf.breached.push(id);
    let who = &world.nations[by.index()].name;
    neg.events_push(
        "breach",
        format!("{who} breaches agreement {id}: {why}; penalty {penalty_usd:.0} USD"),
    );
    let ag = &mut neg.agreements[a];
    if ag.kind == SessionKind::Club && renege {
        if let Some(slot) = ag.parties.iter().position(|&p| p == by) {
            ag.membership[slot] = Membership::Expelled;
        }
        if ag.members().count() < 2 {
            ag.status = AgreementStatus::Dissolved;
        }
        return;
    }
    if lapse {
        ag.status = if renege {
            AgreementStatus::Reneged(by)
        } else {
            AgreementStatus::Breached(by)
        };
        for &(k, before) in &ag.tariff_before {
            if let Term::Tariff {
                importer,
                exporter,
                market,
                ..
            } = ag.terms[k]
            {
                policies.set_tariff(market, importer, exporter, before);
            }
        }
    }
}

impl Negotiation {
    pub(crate) fn events_push(&mut self, kind: &str, detail: String) {
        self.events.push((kind.into(), detail));
    }
}

/// Policies phase, after strategies' actions: agreements act on the policies in force
/// and this tick's deliveries and club rules are staged for clearing.
#[allow(clippy::too_many_arguments)]
pub fn enforce_agreements(
    mut commands: Commands,
    def: Res<WorldDef>,
    clock: Res<Clock>,
    mut index: ResMut<Index>,
    mut neg: ResMut<Negotiation>,
    mut policies: ResMut<Policies>,
    mut pipeline: ResMut<Pipeline>,
    mut orders: ResMut<StockpileOrders>,
    mut enf: ResMut<Enforcement>,
    mut treasuries: Query<&mut Treasury>,
    markets: Query<&MarketState>,
) {
    let world = &def.0;
    let tick = clock.tick;
    enf.deliveries.clear();
    enf.clubs.clear();
    enf.changed.clear();
    enf.breached.clear();
    let neg = &mut *neg;
    let enf = &mut *enf;
    let policies = &mut *policies;
    {
        let mut money = Money {
            index: &index,
            treasuries: &mut treasuries,
            ledger: None,
        };
        for (n, c) in std::mem::take(&mut neg.time_costs) {
            money.add(n, -c);
        }
        for a in 0..neg.agreements.len() {
            if neg.agreements[a].status != AgreementStatus::Active {
                neg.agreements[a].renege.clear();
                continue;
            }
            // Reneging first: it ends what the rest would enforce.
            for by in std::mem::take(&mut neg.agreements[a].renege) {
                if neg.agreements[a].status != AgreementStatus::Active {
                    break;
                }
                let ag = &neg.agreements[a];
                let penalty: f64 = ag
                    .terms
                    .iter()
                    .map(|t| match *t {
                        Term::Offtake { penalty_usd, .. } => penalty_usd,
                        Term::ClubExit { penalty_usd, .. } => 2.0 * penalty_usd,
                        _ => 0.0,
                    })
                    .sum();
                breach(
                    neg, world, a, by, "reneged", 1.0, penalty, true, true, policies, &mut money,
                    enf, tick,
                );
            }
            if neg.agreements[a].status != AgreementStatus::Active {
                continue;
            }
            if !neg.agreements[a].executed {
                execute(
                    neg,
                    world,
                    a,
                    policies,
                    &mut pipeline,
                    &mut money,
                    enf,
                    tick,
                );
            }
            if neg.agreements[a].status != AgreementStatus::Active {
                continue;
            }
            // Tariff and licence terms against this tick's policies.
            let violation = neg.agreements[a].terms.iter().find_map(|t| match *t {
                Term::Tariff {
                    importer,
                    exporter,
                    market,
                    rate,
                    ..
                } if policies.tariff(market, importer, exporter) > rate + 1e-12 => Some((
                    importer,
                    format!(
                        "tariff on {} in {} raised to {} above the agreed {rate}",
                        world.nations[exporter.index()].name,
                        world.market_name(market),
                        policies.tariff(market, importer, exporter)
                    ),
                )),
                Term::LicenceHold {
                    exporter,
                    destination,
                    market,
                    ..
                } => policies
                    .licence(market, exporter, destination)
                    .filter(|s| s.licence != Licence::Open)
                    .map(|s| {
                        (
                            exporter,
                            format!(
                                "{} imposed towards {} in {} against a licence hold",
                                crate::licence_name(s.licence),
                                world.nations[destination.index()].name,
                                world.market_name(market)
                            ),
                        )
                    }),
                _ => None,
            });
            if let Some((by, why)) = violation {
                breach(
                    neg, world, a, by, &why, 1.0, 0.0, true, false, policies, &mut money, enf, tick,
                );
                continue;
            }
            // Club exits whose notice has run out.
            let exit_penalty = neg.agreements[a]
                .terms
                .iter()
                .find_map(|t| match *t {
                    Term::ClubExit { penalty_usd, .. } => Some(penalty_usd),
                    _ => None,
                })
                .unwrap_or(0.0);
            for slot in 0..neg.agreements[a].parties.len() {
                if let Membership::Leaving(at) = neg.agreements[a].membership[slot]
                    && at <= tick
                {
                    let who = neg.agreements[a].parties[slot];
                    neg.agreements[a].membership[slot] = Membership::Left;
                    let rest: Vec<NationId> = neg.agreements[a].members().collect();
                    if exit_penalty > 0.0 && !rest.is_empty() {
                        for &o in &rest {
                            money.pay(who, o, exit_penalty / rest.len() as f64);
                        }
                    }
                    let id = neg.agreements[a].id;
                    neg.history.push(HistoryRow {
                        tick,
                        round: ROUNDS_PER_TICK - 1,
                        agreement: id,
                        nation: who,
                        kind: "left",
                        penalty_usd: exit_penalty,
                    });
                    enf.changed.push(id);
                    neg.events_push(
                        "club_left",
                        format!(
                            "{} leaves club agreement {id} after notice, paying {exit_penalty:.0} USD",
                            world.nations[who.index()].name
                        ),
                    );
                }
            }
            let ag = &mut neg.agreements[a];
            if ag.kind == SessionKind::Club && ag.members().count() < 2 {
                ag.status = AgreementStatus::Dissolved;
                let id = ag.id;
                enf.changed.push(id);
                neg.events_push(
                    "club_dissolved",
                    format!("club agreement {id} has fewer than two members"),
                );
                continue;
            }
            if ag.ends_tick.is_some_and(|e| e <= tick) {
                ag.status = AgreementStatus::Completed;
                let id = ag.id;
                let members: Vec<NationId> = ag.members().collect();
                for m in members {
                    neg.history.push(HistoryRow {
                        tick,
                        round: ROUNDS_PER_TICK - 1,
                        agreement: id,
                        nation: m,
                        kind: "completed",
                        penalty_usd: 0.0,
                    });
                }
                enf.changed.push(id);
                neg.events_push(
                    "agreement_completed",
                    format!("agreement {id} ran its term"),
                );
                continue;
            }
        }
    }

    // Stage this tick's deliveries, club rules and stockpile rules.
    for ag in neg
        .agreements
        .iter()
        .filter(|a| a.status == AgreementStatus::Active)
    {
        let members: Vec<NationId> = {
            let mut m: Vec<NationId> = ag.members().collect();
            m.sort();
            m
        };
        for (k, t) in ag.terms.iter().enumerate() {
            match *t {
                Term::Offtake {
                    seller,
                    buyer,
                    market,
                    t_per_tick,
                    price_usd_per_t,
                    duration_ticks,
                    penalty_usd,
                } if tick < ag.signed_tick + duration_ticks as u64 && t_per_tick > 0.0 => {
                    enf.deliveries.push(Delivery {
                        agreement: ag.id,
                        market,
                        seller,
                        buyer,
                        t: t_per_tick,
                        price_usd_per_t,
                        penalty_usd,
                    });
                }
                Term::Finance {
                    funder,
                    host,
                    market,
                    t_per_year,
                    offtake_share,
                    offtake_price_usd_per_t,
                    duration_ticks,
                    ..
                } if funder != host && offtake_share > 0.0 => {
                    if let Some(&(_, from)) = ag.offtake_from.iter().find(|(i, _)| *i == k)
                        && tick >= from
                        && tick < from + duration_ticks as u64
                    {
                        enf.deliveries.push(Delivery {
                            agreement: ag.id,
                            market,
                            seller: host,
                            buyer: funder,
                            t: offtake_share * t_per_year / world.ticks_per_year as f64,
                            price_usd_per_t: offtake_price_usd_per_t,
                            penalty_usd: 0.0,
                        });
                    }
                }
                Term::ClubFloor {
                    market,
                    floor_usd_per_t,
                    member_tariff,
                } => enf.clubs.push(ClubRule {
                    agreement: ag.id,
                    market,
                    members: members.clone(),
                    floor_usd_per_t,
                    member_tariff,
                }),
                Term::Stockpile {
                    market,
                    t_per_tick,
                    buy_below_usd_per_t,
                    release_above_usd_per_t,
                    duration_ticks,
                } if tick < ag.signed_tick + duration_ticks as u64 => {
                    let prices = &markets
                        .get(index.markets[market.index()])
                        .expect("market entity")
                        .prices;
                    for &m in &members {
                        let p = prices.previous[m.index()];
                        if p < buy_below_usd_per_t {
                            crate::systems::ensure_stockpile(&mut commands, &mut index, market, m);
                            let o = orders.0.entry((market, m)).or_default();
                            o.buy_t += t_per_tick;
                            o.max_price = o.max_price.max(buy_below_usd_per_t);
                        } else if p > release_above_usd_per_t {
                            crate::systems::ensure_stockpile(&mut commands, &mut index, market, m);
                            let o = orders.0.entry((market, m)).or_default();
                            let first = o.release_t == 0.0;
                            o.release_t += t_per_tick;
                            o.min_price = if first {
                                release_above_usd_per_t
                            } else {
                                o.min_price.min(release_above_usd_per_t)
                            };
                        }
                    }
                }
                _ => {}
            }
        }
    }
    enf.deliveries.sort_by_key(|d| (d.market, d.agreement));
}

/// One-off terms of a new agreement: tariff changes, licence grants, financing,
/// transfers. A party that cannot pay breaches at once.
#[allow(clippy::too_many_arguments)]
fn execute(
    neg: &mut Negotiation,
    world: &World,
    a: usize,
    policies: &mut Policies,
    pipeline: &mut Pipeline,
    money: &mut Money,
    enf: &mut Enforcement,
    tick: u64,
) {
    neg.agreements[a].executed = true;
    enf.changed.push(neg.agreements[a].id);
    let terms = neg.agreements[a].terms.clone();
    for (k, t) in terms.iter().enumerate() {
        match *t {
            Term::Tariff {
                importer,
                exporter,
                market,
                rate,
                ..
            } => {
                let before = policies.tariff(market, importer, exporter);
                neg.agreements[a].tariff_before.push((k, before));
                policies.set_tariff(market, importer, exporter, rate);
            }
            Term::LicenceHold {
                exporter,
                destination,
                market,
                ..
            } => {
                policies.set_licence(market, exporter, destination, Licence::Open, Some(tick));
            }
            Term::Finance {
                funder,
                host,
                market,
                t_per_year,
                usd_per_tpy,
                ..
            } => {
                let cost = t_per_year * usd_per_tpy;
                if money.budget(funder) < cost {
                    let why = format!(
                        "cannot pay {cost:.0} USD for financing in {}",
                        world.nations[host.index()].name
                    );
                    breach(
                        neg, world, a, funder, &why, 1.0, 0.0, true, false, policies, money, enf,
                        tick,
                    );
                    return;
                }
                money.add(funder, -cost);
                let arrives = tick + world.markets[market.index()].build_lag_ticks as u64;
                pipeline.0.push(Project {
                    market,
                    host,
                    funder,
                    capacity_t_per_tick: t_per_year / world.ticks_per_year as f64,
                    arrives_at_tick: arrives,
                });
                neg.agreements[a].offtake_from.push((k, arrives));
                let id = neg.agreements[a].id;
                neg.events_push(
                    "investment",
                    format!(
                        "agreement {id}: {} finances {t_per_year} t/yr of {} in {} for {cost:.0} USD, online at tick {arrives}",
                        world.nations[funder.index()].name,
                        world.market_name(market),
                        world.nations[host.index()].name
                    ),
                );
            }
            Term::Transfer { from, to, usd } => {
                if money.budget(from) < usd {
                    breach(
                        neg,
                        world,
                        a,
                        from,
                        &format!("cannot pay the transfer of {usd:.0} USD"),
                        1.0,
                        0.0,
                        true,
                        false,
                        policies,
                        money,
                        enf,
                        tick,
                    );
                    return;
                }
                money.pay(from, to, usd);
            }
            _ => {}
        }
    }
}

/// Settle phase: pay for deliveries, count shortfalls as breaches, let kept agreements
/// build trust, and write the negotiation rows of the tick.
#[allow(clippy::too_many_arguments)]
pub fn settle_agreements(
    def: Res<WorldDef>,
    clock: Res<Clock>,
    index: Res<Index>,
    fault: Res<Fault>,
    mut neg: ResMut<Negotiation>,
    mut policies: ResMut<Policies>,
    mut enf: ResMut<Enforcement>,
    mut record: ResMut<TickRecord>,
    mut treasuries: Query<&mut Treasury>,
) {
    if fault.0.is_some() {
        return;
    }
    let world = &def.0;
    let tick = clock.tick;
    let neg = &mut *neg;
    let enf = &mut *enf;
    let mut money = Money {
        index: &index,
        treasuries: &mut treasuries,
        ledger: Some(vec![0.0; world.nations.len()]),
    };
    let deliveries = record.deliveries.clone();
    for d in &deliveries {
        money.pay(d.buyer, d.seller, d.delivered_t * d.price_usd_per_t);
        money.add(d.buyer, d.resold_usd);
        let shortfall = d.planned_t - d.delivered_t;
        if d.planned_t > 0.0 && shortfall > 1e-9 * d.planned_t.max(1.0) {
            let a = d.agreement as usize - 1;
            if neg.agreements[a].status != AgreementStatus::Active {
                continue;
            }
            neg.agreements[a].shortfalls += 1;
            let frac = shortfall / d.planned_t;
            let why = format!(
                "delivered {:.3} of {:.3} t of {} to {}",
                d.delivered_t,
                d.planned_t,
                world.market_name(d.market),
                world.nations[d.buyer.index()].name
            );
            breach(
                neg,
                world,
                a,
                d.seller,
                &why,
                frac,
                d.penalty_usd * frac,
                false,
                false,
                &mut policies,
                &mut money,
                enf,
                tick,
            );
        }
    }
    enf.settled_usd = money.ledger.take().unwrap_or_default();
    // Kept this tick: every pair of members trusts each other a little more.
    for ag in neg
        .agreements
        .iter()
        .filter(|a| a.status == AgreementStatus::Active && !enf.breached.contains(&a.id))
    {
        let members: Vec<NationId> = ag.members().collect();
        for &i in &members {
            for &j in &members {
                if i != j {
                    let t = &mut neg.trust[i.index() * neg.nations + j.index()];
                    *t += KEPT_GAIN * (1.0 - *t);
                }
            }
        }
    }
    for (kind, detail) in neg.events.drain(..) {
        record.events.push(EventRow { kind, detail });
    }
    record.negotiation.append(&mut neg.rounds);
    enf.changed.sort_unstable();
    enf.changed.dedup();
    for ag in &neg.agreements {
        if ag.status == AgreementStatus::Active || enf.changed.contains(&ag.id) {
            record.agreements.push(AgreementRow {
                agreement: ag.id,
                session: ag.session,
                kind: ag.kind,
                status: ag.status,
                members: ag.members().collect(),
                signed_tick: ag.signed_tick,
                signed_round: ag.signed_round,
                session_round: ag.session_round,
                terms: ag.terms.clone(),
                shortfalls: ag.shortfalls,
            });
        }
    }
}

/// One agreement's standing at the end of a tick: the agreements table.
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementRow {
    pub agreement: u32,
    pub session: u32,
    pub kind: SessionKind,
    pub status: AgreementStatus,
    pub members: Vec<NationId>,
    pub signed_tick: u64,
    pub signed_round: u32,
    pub session_round: u32,
    pub terms: Vec<Term>,
    pub shortfalls: u32,
}

/// A contracted delivery as it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRow {
    pub agreement: u32,
    pub market: MarketId,
    pub seller: NationId,
    pub buyer: NationId,
    pub planned_t: f64,
    pub delivered_t: f64,
    pub price_usd_per_t: f64,
    /// What the buyer earned reselling the delivery into its own market.
    pub resold_usd: f64,
    pub resold_t: f64,
    /// The contract's penalty for a full shortfall.
    pub penalty_usd: f64,
}
