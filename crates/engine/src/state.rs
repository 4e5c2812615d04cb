//! The engine's whole mutable state as plain data, taken after a tick and restored into a
//! fresh [`Simulation`], so a run log can carry snapshots and replay can start from one
//! instead of from tick 0.
//!
//! Why plain data and not serde on the components: the engine knows no file formats (the
//! run log keeps its own versioned mirror of [`EngineState`]), and the ECS layout can
//! change without breaking old logs. Why restore into `Simulation::new`: everything that
//! is derived from the world file alone (entities of the world's nations, markets and
//! firms, the index, trade costs, the schedule) is rebuilt exactly as a fresh run builds
//! it; only what a run changes is taken from the state. That includes the solver's warm
//! start per market, which decides how the next tick's solve iterates and so its last
//! bits: without it a resumed run would not be bit-identical.
//!
//! Architecture invariant: a restored simulation has the same [`Simulation::state_digest`]
//! as the one the state was taken from, and steps bit-identically from there (tested in
//! the run log crate against full replays).

use bevy_ecs::prelude::*;
use chokepoint_world::{FirmId, Licence, MarketId, NationId, World};

pub use chokepoint_clearing::Solution;

use crate::Simulation;
use crate::adaptation::{DemandAdaptation, SubstitutionState};
use crate::components::*;
use crate::investment::{FirmPipeline, FirmProject};
use crate::levers::Levers;
use crate::market::MarketState;
use crate::negotiation::enforce::Enforcement;
use crate::negotiation::{Agreement, HistoryRow, Negotiation, Notice, Session, Term};
use crate::recycling::{Recycler, Recycling, ScrapPool};
use crate::resources::*;

/// Everything a later tick depends on that a run can change.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineState {
    /// The tick the next step will run.
    pub next_tick: u64,
    /// Position in the world file's timeline.
    pub timeline_next: u64,
    pub nations: Vec<NationState>,
    /// Every firm by id: the world file's, then capacity commissioned during the run.
    pub firms: Vec<FirmState>,
    pub markets: Vec<MarketSnapshot>,
    /// Non-zero tariffs: (market, importer, exporter, rate).
    pub tariffs: Vec<(u32, u32, u32, f64)>,
    /// Licences in force: (market, exporter, destination, licence, opens at tick).
    pub licences: Vec<(u32, u32, u32, Licence, u64)>,
    /// Import floors: (market, importer, USD/t).
    pub floors: Vec<(u32, u32, f64)>,
    /// Stockpiles: (market, owner, holdings t), in (market, owner) order.
    pub stockpiles: Vec<(u32, u32, f64)>,
    pub pipeline: Vec<Project>,
    pub negotiation: NegotiationState,
    /// What agreements imposed on the last tick (restaged every tick; kept so a
    /// restored simulation is the one the state was taken from, field for field).
    pub enforcement: Enforcement,
    pub adaptation: AdaptationState,
}

/// Negotiation between ticks. This tick's rounds, events and time costs are drained
/// into the tick record within the tick, and the round counter is back at 0, so
/// between ticks they are empty and are not carried.
#[derive(Debug, Clone, PartialEq)]
pub struct NegotiationState {
    pub sessions: Vec<Session>,
    pub agreements: Vec<Agreement>,
    /// `trust[i * nations + j]`.
    pub trust: Vec<f64>,
    /// Refused moves still shown to their makers.
    pub notices: Vec<Notice>,
    pub history: Vec<HistoryRow>,
}

/// Adaptation between ticks: substitution per adapting end use (parallel to the world's
/// adaptation table), scrap pools per (stream, nation), levers in force and paid for,
/// and firms' own projects. Recycling plants and mandated reserves are on the firms.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptationState {
    pub substitution: Vec<SubstitutionState>,
    pub scrap: Vec<ScrapPool>,
    pub levers: Levers,
    pub firm_pipeline: Vec<FirmProject>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NationState {
    pub budget_usd: f64,
    pub revenue_usd: f64,
    /// Per end use, in the nation's order: (demand-shock factor, consumed t, share of
    /// the short-run curve left after substitution).
    pub end_uses: Vec<(f64, f64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FirmState {
    pub name: String,
    pub nation: u32,
    pub market: u32,
    pub capacity_t_per_tick: f64,
    pub mc_at_zero_usd_per_t: f64,
    pub mc_at_capacity_usd_per_t: f64,
    pub output_t: f64,
    pub inputs_t: Vec<f64>,
    /// Input stock a mandate makes it hold, per input slot.
    pub reserve_t: Vec<f64>,
    /// A recycling plant: (scrap stream, output capacity t per tick).
    pub recycler: Option<(u32, f64)>,
    /// What it did in the last tick: produced, sold from stock, input-limited capacity,
    /// revenue.
    pub last_tick: [f64; 4],
}

#[derive(Debug, Clone, PartialEq)]
pub struct MarketSnapshot {
    pub local: Vec<Option<f64>>,
    pub supply: Vec<f64>,
    pub previous: Vec<f64>,
    pub expected: Vec<f64>,
    /// The last solution's warm start (prices, domestic shipments, flows and export
    /// rents; its outputs are left empty) and its arcs (from, to).
    pub warm: Option<Solution>,
    pub warm_arcs: Vec<(u32, u32)>,
}

/// Why a state does not fit a world.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the snapshot does not fit this world: {0}")]
pub struct StateMismatch(pub String);

impl Simulation {
    /// The state after the last tick, but only if a simulation rebuilt from it has this
    /// one's state digest: the check that keeps a writer from logging a snapshot replay
    /// would refuse, should the engine gain state that [`EngineState`] forgets.
    pub fn restorable_state(&self) -> Option<EngineState> {
        self.restorable_state_with_digest(self.state_digest())
    }

    /// [`restorable_state`](Self::restorable_state) for a caller that already holds this
    /// simulation's [`state_digest`](Self::state_digest) (a log writer has it in the
    /// tick's record), so it is not taken twice.
    pub fn restorable_state_with_digest(&self, digest: [u8; 32]) -> Option<EngineState> {
        let state = self.engine_state();
        self.restores_digest(&state, digest).then_some(state)
    }

    /// Whether `state` restored into this simulation's world and seed has the state
    /// digest `digest` (this simulation's, which a log writer holds in the tick's
    /// record): what [`from_state`](Self::from_state) and then
    /// [`state_digest`](Self::state_digest) would give, which is what replay checks
    /// when it seeks from a snapshot.
    ///
    /// Cheaper than that, and as strong: the state is restored by the same code into
    /// the same entities and resources, built by the same code in the same order, but
    /// without what only stepping uses (the trade-cost table, the clearing scratch and
    /// the schedule, about half of building a simulation). The digest does not read
    /// them; were it ever to, reading a missing resource panics here rather than
    /// passing unnoticed (the run log's tests write snapshots on every run).
    pub fn restores_digest(&self, state: &EngineState, digest: [u8; 32]) -> bool {
        let seed = self.ecs().resource::<RngStreams>().seed;
        let def = self.world_def().clone();
        restore(Simulation::build(def.clone(), seed, false), &def, state)
            .is_ok_and(|restored| restored.state_digest() == digest)
    }

    /// The state after the last tick (see the module docs).
    pub fn engine_state(&self) -> EngineState {
        let ecs = self.ecs();
        let index = ecs.resource::<Index>();
        let nations = index
            .nations
            .iter()
            .map(|&e| {
                let t = ecs.get::<Treasury>(e).expect("nation");
                NationState {
                    budget_usd: t.budget_usd,
                    revenue_usd: t.revenue_usd,
                    end_uses: ecs
                        .get::<EndUse>(e)
                        .expect("nation")
                        .demands
                        .iter()
                        .map(|u| (u.factor, u.consumed_t, u.adapted))
                        .collect(),
                }
            })
            .collect();
        let firms = index
            .firms
            .iter()
            .enumerate()
            .map(|(i, &e)| {
                let f = ecs.get::<Firm>(e).expect("firm");
                let p = ecs.get::<Plant>(e).expect("firm");
                let s = ecs.get::<Stocks>(e).expect("firm");
                let t = ecs.get::<FirmTick>(e).expect("firm");
                FirmState {
                    name: index.firm_names[i].clone(),
                    nation: f.nation.0,
                    market: f.market.0,
                    capacity_t_per_tick: p.capacity_t_per_tick,
                    mc_at_zero_usd_per_t: p.mc_at_zero_usd_per_t,
                    mc_at_capacity_usd_per_t: p.mc_at_capacity_usd_per_t,
                    output_t: s.output_t,
                    inputs_t: s.inputs_t.to_vec(),
                    reserve_t: s.reserve_t.to_vec(),
                    recycler: ecs
                        .get::<Recycler>(e)
                        .map(|r| (r.stream as u32, r.capacity_t_per_tick)),
                    last_tick: [
                        t.produced_t,
                        t.sold_from_stock_t,
                        t.input_limited_capacity_t,
                        t.revenue_usd,
                    ],
                }
            })
            .collect();
        let markets = index
            .markets
            .iter()
            .map(|&e| {
                let m = ecs.get::<MarketState>(e).expect("market");
                MarketSnapshot {
                    local: m.prices.local.clone(),
                    supply: m.prices.supply.clone(),
                    previous: m.prices.previous.clone(),
                    expected: m.prices.expected.clone(),
                    warm: m.warm.as_ref().map(Solution::warm_start),
                    warm_arcs: m
                        .warm_arcs
                        .iter()
                        .map(|&(a, b)| (a as u32, b as u32))
                        .collect(),
                }
            })
            .collect();
        let policies = ecs.resource::<Policies>();
        EngineState {
            next_tick: ecs.resource::<Clock>().tick,
            timeline_next: ecs.resource::<Timeline>().next as u64,
            nations,
            firms,
            markets,
            tariffs: policies
                .tariffs()
                .map(|(m, i, x, r)| (m.0, i.0, x.0, r))
                .collect(),
            licences: policies
                .licences()
                .map(|(&(m, x, d), s)| (m.0, x.0, d.0, s.licence, s.opens_at_tick))
                .collect(),
            floors: policies.floors().map(|(m, n, f)| (m.0, n.0, f)).collect(),
            stockpiles: index
                .stockpiles
                .iter()
                .map(|(&(m, n), &e)| {
                    (
                        m.0,
                        n.0,
                        ecs.get::<Stockpile>(e).map_or(0.0, |s| s.holdings_t),
                    )
                })
                .collect(),
            pipeline: ecs.resource::<Pipeline>().0.clone(),
            negotiation: {
                let neg = ecs.resource::<Negotiation>();
                NegotiationState {
                    sessions: neg.sessions.clone(),
                    agreements: neg.agreements.clone(),
                    trust: neg.trust.clone(),
                    notices: neg.notices.clone(),
                    history: neg.history.clone(),
                }
            },
            enforcement: ecs.resource::<Enforcement>().clone(),
            adaptation: AdaptationState {
                substitution: ecs.resource::<DemandAdaptation>().0.clone(),
                scrap: ecs.resource::<Recycling>().pools.clone(),
                levers: ecs.resource::<Levers>().clone(),
                firm_pipeline: ecs.resource::<FirmPipeline>().0.clone(),
            },
        }
    }

    /// A simulation of `def` and `seed` in `state`: built as [`Simulation::new`] builds
    /// it, then given everything the run had changed. Fails (without panicking) when the
    /// state does not fit the world: other counts of nations, markets or end uses, a firm
    /// of the world file that differs, ids out of range.
    pub fn from_state(
        def: std::sync::Arc<World>,
        seed: u64,
        state: &EngineState,
    ) -> Result<Simulation, StateMismatch> {
        restore(Simulation::new(def.clone(), seed), &def, state)
    }
}

/// `sim` (just built from `def`, steppable or not) given everything `state` holds: the
/// one restore behind [`Simulation::from_state`] and [`Simulation::restores_digest`].
fn restore(
    mut sim: Simulation,
    def: &std::sync::Arc<World>,
    state: &EngineState,
) -> Result<Simulation, StateMismatch> {
    {
        check_fits(def, &sim, state)?;
        let ecs = sim.ecs_mut();
        ecs.resource_mut::<Clock>().tick = state.next_tick;
        ecs.resource_mut::<Timeline>().next = state.timeline_next as usize;
        let nation_entities = ecs.resource::<Index>().nations.clone();
        for (e, n) in nation_entities.into_iter().zip(&state.nations) {
            let mut t = ecs.get_mut::<Treasury>(e).expect("nation");
            t.budget_usd = n.budget_usd;
            t.revenue_usd = n.revenue_usd;
            let mut u = ecs.get_mut::<EndUse>(e).expect("nation");
            for (d, &(factor, consumed, adapted)) in u.demands.iter_mut().zip(&n.end_uses) {
                d.factor = factor;
                d.consumed_t = consumed;
                d.adapted = adapted;
            }
        }
        let mut index = ecs.resource::<Index>().clone();
        let built = index.firms.len();
        for (i, f) in state.firms.iter().enumerate() {
            let plant = Plant {
                capacity_t_per_tick: f.capacity_t_per_tick,
                mc_at_zero_usd_per_t: f.mc_at_zero_usd_per_t,
                mc_at_capacity_usd_per_t: f.mc_at_capacity_usd_per_t,
            };
            let mut stocks = Stocks {
                output_t: f.output_t,
                ..Default::default()
            };
            for (slot, &x) in stocks.inputs_t.iter_mut().zip(&f.inputs_t) {
                *slot = x;
            }
            for (slot, &x) in stocks.reserve_t.iter_mut().zip(&f.reserve_t) {
                *slot = x;
            }
            let last = FirmTick {
                produced_t: f.last_tick[0],
                sold_from_stock_t: f.last_tick[1],
                input_limited_capacity_t: f.last_tick[2],
                revenue_usd: f.last_tick[3],
            };
            let recycler = f.recycler.map(|(stream, capacity_t_per_tick)| Recycler {
                stream: stream as usize,
                capacity_t_per_tick,
            });
            if i < built {
                // The world file's firms and recycling plants, spawned by `new`.
                let mut ent = ecs.entity_mut(index.firms[i]);
                ent.insert((plant, stocks, last));
                if let Some(r) = recycler {
                    ent.insert(r);
                }
            } else {
                // Built during the run: a recycling plant, spawned as `spawn_recycler`
                // spawns it (it buys no inputs), or capacity commissioned, spawned as
                // `commission_capacity` does (it buys its stage's inputs).
                let id = FirmId(i as u32);
                let market = MarketId(f.market);
                let mut ent = ecs.spawn((
                    Firm {
                        id,
                        nation: NationId(f.nation),
                        market,
                    },
                    StableId::of("firm", &f.name),
                    plant,
                    stocks,
                    last,
                ));
                match recycler {
                    Some(r) => {
                        ent.insert(r);
                    }
                    None => {
                        let inputs = &def.markets[market.index()].inputs;
                        for (slot, &(input, ratio)) in inputs.iter().enumerate() {
                            index.users_by_market[input.index()].push((id, slot, ratio));
                        }
                    }
                }
                index.firms.push(ent.id());
                index.firms_by_market[market.index()].push(id);
                index.firm_names.push(f.name.clone());
            }
        }
        for (k, m) in state.markets.iter().enumerate() {
            let mut ms = ecs
                .get_mut::<MarketState>(index.markets[k])
                .expect("market");
            ms.prices.local.clone_from(&m.local);
            ms.prices.supply.clone_from(&m.supply);
            ms.prices.previous.clone_from(&m.previous);
            ms.prices.expected.clone_from(&m.expected);
            ms.warm.clone_from(&m.warm);
            ms.warm_arcs = m
                .warm_arcs
                .iter()
                .map(|&(a, b)| (a as usize, b as usize))
                .collect();
        }
        let mut policies = Policies::new(def.nations.len(), def.markets.len());
        for &(m, i, x, r) in &state.tariffs {
            policies.set_tariff(MarketId(m), NationId(i), NationId(x), r);
        }
        for &(m, x, d, licence, opens) in &state.licences {
            // `set_licence` derives "opens at" from the tick a regime was imposed.
            let imposed = match licence {
                Licence::Licensed { delay_ticks } if opens >= u64::from(delay_ticks) => {
                    Some(opens - u64::from(delay_ticks))
                }
                _ => None,
            };
            policies.set_licence(MarketId(m), NationId(x), NationId(d), licence, imposed);
        }
        for &(m, n, f) in &state.floors {
            policies.set_floor(MarketId(m), NationId(n), f);
        }
        ecs.insert_resource(policies);
        for &(m, n, holdings_t) in &state.stockpiles {
            let (market, owner) = (MarketId(m), NationId(n));
            let e = ecs
                .spawn(Stockpile {
                    owner,
                    market,
                    holdings_t,
                })
                .id();
            index.stockpiles.insert((market, owner), e);
        }
        ecs.insert_resource(index);
        ecs.resource_mut::<Pipeline>().0.clone_from(&state.pipeline);
        {
            let mut neg = ecs.resource_mut::<Negotiation>();
            let n = &state.negotiation;
            neg.sessions.clone_from(&n.sessions);
            neg.agreements.clone_from(&n.agreements);
            neg.trust.clone_from(&n.trust);
            neg.notices.clone_from(&n.notices);
            neg.history.clone_from(&n.history);
        }
        ecs.insert_resource(state.enforcement.clone());
        let a = &state.adaptation;
        ecs.insert_resource(DemandAdaptation(a.substitution.clone()));
        ecs.resource_mut::<Recycling>().pools.clone_from(&a.scrap);
        ecs.insert_resource(a.levers.clone());
        ecs.insert_resource(FirmPipeline(a.firm_pipeline.clone()));
    }
    Ok(sim)
}

/// Whether `s` fits the world `fresh` was built from (`fresh`: `Simulation::new` of
/// it): every count the engine indexes by, every id in range, so that restoring and
/// stepping cannot index out of bounds.
fn check_fits(def: &World, fresh: &Simulation, s: &EngineState) -> Result<(), StateMismatch> {
    let bad = |why: String| Err(StateMismatch(why));
    let (nn, nm) = (def.nations.len(), def.markets.len());
    if s.nations.len() != nn {
        return bad(format!("{} nations, the world has {nn}", s.nations.len()));
    }
    if s.markets.len() != nm {
        return bad(format!("{} markets, the world has {nm}", s.markets.len()));
    }
    for (n, (ns, nd)) in s.nations.iter().zip(&def.nations).enumerate() {
        if ns.end_uses.len() != nd.demand.len() {
            return bad(format!(
                "nation {n} has {} end uses, the world {}",
                ns.end_uses.len(),
                nd.demand.len()
            ));
        }
    }
    let ecs = fresh.ecs();
    let index = ecs.resource::<Index>();
    let built = index.firms.len();
    if s.firms.len() < built {
        return bad(format!(
            "{} firms, fewer than the world's {built}",
            s.firms.len()
        ));
    }
    let streams = &def.adaptation.recycling;
    for (i, f) in s.firms.iter().enumerate() {
        if f.nation as usize >= nn || f.market as usize >= nm {
            return bad(format!("firm {i} has an id out of range"));
        }
        if let Some(&e) = index.firms.get(i) {
            let d = ecs.get::<Firm>(e).expect("firm");
            let name = &index.firm_names[i];
            if *name != f.name
                || d.nation.0 != f.nation
                || d.market.0 != f.market
                || ecs.get::<Recycler>(e).is_some() != f.recycler.is_some()
            {
                return bad(format!("firm {i} is `{}`, the world's is `{name}`", f.name));
            }
        }
        if let Some((stream, _)) = f.recycler
            && streams
                .get(stream as usize)
                .is_none_or(|st| st.to.0 != f.market)
        {
            return bad(format!(
                "firm {i} recycles stream {stream}, which does not supply its market"
            ));
        }
    }
    for m in &s.markets {
        if [
            m.local.len(),
            m.supply.len(),
            m.previous.len(),
            m.expected.len(),
        ] != [nn; 4]
        {
            return bad("a market's prices are not one per nation".into());
        }
        if m.warm_arcs
            .iter()
            .any(|&(a, b)| a as usize >= nn || b as usize >= nn)
        {
            return bad("a warm-start arc names a nation out of range".into());
        }
        if let Some(w) = &m.warm {
            let na = m.warm_arcs.len();
            // Only what the next solve starts from (see `Solution::warm_start`).
            let nodes = [
                w.supply_price.len(),
                w.local_price.len(),
                w.domestic.len(),
                w.export_rent.len(),
            ];
            if nodes != [nn; 4] || w.flow.len() != na {
                return bad("a market's warm start does not match its nations and arcs".into());
            }
        }
    }
    let cell = |m: u32, a: u32, b: u32| (m as usize) < nm && (a as usize) < nn && (b as usize) < nn;
    if !s.tariffs.iter().all(|&(m, i, x, _)| cell(m, i, x))
        || !s.licences.iter().all(|&(m, x, d, _, _)| cell(m, x, d))
        || !s.floors.iter().all(|&(m, n, _)| cell(m, n, 0))
        || !s.stockpiles.iter().all(|&(m, n, _)| cell(m, n, 0))
        || !s
            .pipeline
            .iter()
            .all(|p| cell(p.market.0, p.host.0, p.funder.0))
    {
        return bad("a policy, stockpile or project names an id out of range".into());
    }
    check_negotiation(nn, nm, s)?;
    check_adaptation(def, fresh, s)
}

fn check_negotiation(nn: usize, nm: usize, s: &EngineState) -> Result<(), StateMismatch> {
    let bad = |why: &str| Err(StateMismatch(format!("negotiation: {why}")));
    let nation = |n: NationId| n.index() < nn;
    let market = |m: MarketId| m.index() < nm;
    let term = |t: &Term| match *t {
        Term::Offtake {
            seller,
            buyer,
            market: m,
            ..
        } => nation(seller) && nation(buyer) && market(m),
        Term::Tariff {
            importer,
            exporter,
            market: m,
            ..
        } => nation(importer) && nation(exporter) && market(m),
        Term::LicenceHold {
            exporter,
            destination,
            market: m,
            ..
        } => nation(exporter) && nation(destination) && market(m),
        Term::Finance {
            funder,
            host,
            market: m,
            ..
        } => nation(funder) && nation(host) && market(m),
        Term::Stockpile { market: m, .. } | Term::ClubFloor { market: m, .. } => market(m),
        Term::Transfer { from, to, .. } => nation(from) && nation(to),
        Term::ClubExit { .. } => true,
    };
    let n = &s.negotiation;
    if n.trust.len() != nn * nn {
        return bad("trust is not one value per pair of nations");
    }
    for (k, x) in n.sessions.iter().enumerate() {
        let parties = x.parties.len();
        if x.id as usize != k + 1
            || [x.state.len(), x.discount.len(), x.time_cost_usd.len()] != [parties; 3]
            || !x.parties.iter().all(|&p| nation(p))
            || !nation(x.opener)
            || !nation(x.next_proposer)
            || !x.terms.iter().all(term)
            || x.offer
                .as_ref()
                .is_some_and(|o| !nation(o.from) || !nation(o.to) || !o.terms.iter().all(term))
        {
            return bad(&format!("session {} does not fit", k + 1));
        }
    }
    for (k, a) in n.agreements.iter().enumerate() {
        let terms = a.terms.len();
        if a.id as usize != k + 1
            || a.membership.len() != a.parties.len()
            || !a.parties.iter().all(|&p| nation(p))
            || !a.renege.iter().all(|&p| nation(p))
            || !a.terms.iter().all(term)
            || !a.tariff_before.iter().all(|&(t, _)| t < terms)
            || !a.offtake_from.iter().all(|&(t, _)| t < terms)
        {
            return bad(&format!("agreement {} does not fit", k + 1));
        }
    }
    if !n.notices.iter().all(|x| nation(x.nation)) || !n.history.iter().all(|x| nation(x.nation)) {
        return bad("a notice or history row names a nation out of range");
    }
    let e = &s.enforcement;
    if !e
        .deliveries
        .iter()
        .all(|d| market(d.market) && nation(d.seller) && nation(d.buyer))
        || !e
            .clubs
            .iter()
            .all(|c| market(c.market) && c.members.iter().all(|&m| nation(m)))
        || e.settled_usd.len() > nn
    {
        return bad("a delivery, club rule or settlement names an id out of range");
    }
    Ok(())
}

fn check_adaptation(def: &World, fresh: &Simulation, s: &EngineState) -> Result<(), StateMismatch> {
    let bad = |why: &str| Err(StateMismatch(format!("adaptation: {why}")));
    let (nn, nm) = (def.nations.len(), def.markets.len());
    let ad = &def.adaptation;
    let a = &s.adaptation;
    if a.substitution.len() != ad.demand.len() {
        return bad("substitution is not one state per adapting end use");
    }
    let pools = &fresh.ecs().resource::<Recycling>().pools;
    if a.scrap.len() != pools.len()
        || a.scrap
            .iter()
            .zip(pools)
            .any(|(p, q)| p.history.len() != q.history.len())
    {
        return bad("scrap pools do not match the world's streams and product lifetimes");
    }
    let l = &a.levers;
    let cell = |&(m, n): &(MarketId, NationId)| m.index() < nm && n.index() < nn;
    if !l.recycling_subsidy.keys().all(cell)
        || !l.capacity_subsidy.keys().all(cell)
        || !l.mandates.keys().all(cell)
        || !l.research.iter().all(|r| r.adaptation < ad.demand.len())
        || !l
            .recycling_projects
            .iter()
            .all(|p| p.stream < ad.recycling.len() && p.nation.index() < nn)
        || l.next_event > ad.levers.len()
    {
        return bad("a lever names an id out of range");
    }
    if !a
        .firm_pipeline
        .iter()
        .all(|p| p.firm.index() < s.firms.len() && p.market.index() < nm && p.nation.index() < nn)
    {
        return bad("a firm's project names an id out of range");
    }
    Ok(())
}
