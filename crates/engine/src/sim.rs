//! Building the ECS world from a checked [`World`] and stepping it.

use std::sync::Arc;

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{LogLevel, ScheduleBuildSettings, SingleThreadedExecutor};
use chokepoint_world::{FirmId, MarketId, NationId, World};

use crate::EngineError;
use crate::adaptation::{DemandAdaptation as DemandAdaptationState, adapt_demand};
use crate::components::*;
use crate::investment::{FirmPipeline, commission_firm_projects, invest, record_pipeline};
use crate::levers::{Levers, apply_lever_events, apply_mandates};
use crate::market::{ClearingScratch, MarketState, TradeCostTable, clear_markets};
use crate::negotiation::Negotiation;
use crate::negotiation::enforce::{
    Enforcement, enforce_agreements, finish_rounds, settle_agreements,
};
use crate::recycling::{
    Recycling, commission_recyclers, record_recycling, recycle, spawn_recycler,
};
use crate::resources::*;
use crate::systems::*;

/// The phases of a tick, in order (see ARCHITECTURE.md, "One tick").
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Scripted events due this tick; strategies' actions are applied before the
    /// schedule runs (by the host), so they land in the same phase.
    Policies,
    /// Production and market clearing, upstream stages first.
    Clear,
    /// Budgets and tariff revenue.
    Settle,
    /// Demand adjustment, scrap history, firms' investment decisions.
    Adapt,
    /// Accounting checks.
    Check,
    /// Clock.
    Advance,
}

/// One run: the ECS world and the schedule that steps it.
pub struct Simulation {
    ecs: bevy_ecs::world::World,
    schedule: Schedule,
    def: Arc<World>,
}

impl Simulation {
    pub fn new(def: Arc<World>, seed: u64) -> Self {
        Self::build(def, seed, true)
    }

    /// [`new`](Self::new), or with `steppable` false the same entities and resources
    /// without what only stepping uses (the trade-cost table, the clearing scratch and
    /// the schedule): a simulation that can be read (its state, its digest) but not
    /// stepped, for checking that a snapshot restores (see `state.rs`). Everything
    /// else is inserted in the same order either way.
    pub(crate) fn build(def: Arc<World>, seed: u64, steppable: bool) -> Self {
        let mut ecs = bevy_ecs::world::World::new();
        let n_nations = def.nations.len();
        let n_markets = def.markets.len();
        let mut index = Index {
            firms_by_market: vec![Vec::new(); n_markets],
            users_by_market: vec![Vec::new(); n_markets],
            end_uses_by_market: vec![Vec::new(); n_markets],
            firm_names: def.firms.iter().map(|f| f.name.clone()).collect(),
            ..Default::default()
        };

        // Spawn in id order, so entity creation itself is deterministic.
        for (i, n) in def.nations.iter().enumerate() {
            let id = NationId(i as u32);
            let demands: Vec<EndUseState> = n
                .demand
                .iter()
                .map(|d| EndUseState {
                    def: d.clone(),
                    factor: 1.0,
                    consumed_t: 0.0,
                    adapted: 1.0,
                })
                .collect();
            for (k, d) in demands.iter().enumerate() {
                index.end_uses_by_market[d.def.market.index()].push((id, k));
            }
            let e = ecs
                .spawn((
                    Nation { id },
                    StableId::of("nation", &n.name),
                    EndUse { demands },
                    Treasury {
                        budget_usd: n.budget_usd,
                        revenue_usd: 0.0,
                    },
                ))
                .id();
            index.nations.push(e);
        }
        for (i, m) in def.markets.iter().enumerate() {
            let id = MarketId(i as u32);
            let e = ecs
                .spawn((
                    Market { id },
                    StableId::of("market", &def.market_name(id)),
                    MarketState::new(n_nations, m.reference_price_usd_per_t),
                ))
                .id();
            index.markets.push(e);
        }
        for (i, f) in def.firms.iter().enumerate() {
            let id = FirmId(i as u32);
            index.firms_by_market[f.market.index()].push(id);
            for (slot, &(input, ratio)) in def.markets[f.market.index()].inputs.iter().enumerate() {
                index.users_by_market[input.index()].push((id, slot, ratio));
            }
        }
        // Firms are spawned market by market, so that clearing a market, which visits
        // its firms and its users in id order, reads their components from one
        // stretch of memory (ids, and so results, are the same in any spawn order).
        index.firms = vec![Entity::PLACEHOLDER; def.firms.len()];
        for &id in index.firms_by_market.iter().flatten() {
            let f = &def.firms[id.index()];
            let e = ecs
                .spawn((
                    Firm {
                        id,
                        nation: f.nation,
                        market: f.market,
                    },
                    StableId::of("firm", &f.name),
                    Plant {
                        capacity_t_per_tick: f.capacity_t_per_tick,
                        mc_at_zero_usd_per_t: f.mc_at_zero_usd_per_t,
                        mc_at_capacity_usd_per_t: f.mc_at_capacity_usd_per_t,
                    },
                    Stocks {
                        output_t: f.inventory_t,
                        ..Default::default()
                    },
                    FirmTick::default(),
                ))
                .id();
            index.firms[id.index()] = e;
        }

        // Recycling plants of the world file: firms after the file's firms, in name order.
        {
            let mut commands = ecs.commands();
            for r in &def.adaptation.recyclers {
                spawn_recycler(
                    &mut commands,
                    &mut index,
                    &def,
                    r.name.clone(),
                    r.nation,
                    r.stream,
                    r.capacity_t_per_tick,
                    (r.mc_at_zero_usd_per_t, r.mc_at_capacity_usd_per_t),
                );
            }
        }
        ecs.flush();

        let mut policies = Policies::new(n_nations, n_markets);
        for rule in &def.tariffs {
            for &m in &rule.markets {
                for &i in &rule.importers {
                    for &x in &rule.exporters {
                        policies.set_tariff(m, i, x, rule.rate);
                    }
                }
            }
        }
        for rule in &def.licences {
            for &m in &rule.markets {
                for &x in &rule.exporters {
                    for &d in &rule.destinations {
                        policies.set_licence(m, x, d, rule.licence, None);
                    }
                }
            }
        }
        ecs.insert_resource(WorldDef(def.clone()));
        ecs.insert_resource(Clock::default());
        ecs.insert_resource(RngStreams { seed });
        ecs.insert_resource(index);
        ecs.insert_resource(policies);
        if steppable {
            ecs.insert_resource(TradeCostTable::new(&def));
        }
        ecs.insert_resource(Timeline::default());
        ecs.insert_resource(TickRecord::default());
        ecs.insert_resource(Fault::default());
        if steppable {
            ecs.insert_resource(ClearingScratch::new(&def));
        }
        ecs.insert_resource(PendingActions::default());
        ecs.insert_resource(StockpileOrders::default());
        ecs.insert_resource(Pipeline::default());
        ecs.insert_resource(Negotiation::new(n_nations));
        ecs.insert_resource(Enforcement::default());
        ecs.insert_resource(crate::accounting::Books::default());
        ecs.insert_resource(crate::accounting::ClosingBooks::default());
        ecs.insert_resource(Levers::default());
        ecs.insert_resource(FirmPipeline::default());
        ecs.insert_resource(DemandAdaptationState(vec![
            Default::default();
            def.adaptation.demand.len()
        ]));
        ecs.insert_resource(Recycling::new(&def));

        let mut schedule = Schedule::default();
        if !steppable {
            return Simulation { ecs, schedule, def };
        }
        schedule.set_executor(SingleThreadedExecutor::new());
        schedule.set_build_settings(ScheduleBuildSettings {
            ambiguity_detection: LogLevel::Error,
            ..Default::default()
        });
        schedule.configure_sets(
            (
                Phase::Policies,
                Phase::Clear,
                Phase::Settle,
                Phase::Adapt,
                Phase::Check,
                Phase::Advance,
            )
                .chain(),
        );
        schedule.add_systems((
            (
                apply_timeline,
                finish_rounds,
                apply_actions,
                enforce_agreements,
                commission_capacity,
                apply_lever_events,
                commission_firm_projects,
                commission_recyclers,
                recycle,
                apply_mandates,
            )
                .chain()
                .in_set(Phase::Policies),
            clear_markets.in_set(Phase::Clear),
            crate::accounting::open_books
                .in_set(Phase::Clear)
                .before(clear_markets),
            (settle_agreements, settle).chain().in_set(Phase::Settle),
            (adapt_demand, record_recycling, invest, record_pipeline)
                .chain()
                .in_set(Phase::Adapt),
            check_tick.in_set(Phase::Check),
            advance_clock.in_set(Phase::Advance),
        ));
        Simulation { ecs, schedule, def }
    }

    /// The tick the next [`step`](Self::step) will run.
    pub fn tick(&self) -> u64 {
        self.ecs.resource::<Clock>().tick
    }

    pub fn world_def(&self) -> &Arc<World> {
        &self.def
    }

    /// Run one tick. On success the tick's rows are in [`record`](Self::record).
    pub fn step(&mut self) -> Result<&TickRecord, EngineError> {
        self.schedule.run(&mut self.ecs);
        if let Some(err) = self.ecs.resource_mut::<Fault>().0.take() {
            return Err(err);
        }
        Ok(self.ecs.resource::<TickRecord>())
    }

    /// Queue an action of `nation`'s strategy for the next tick's Policies phase.
    pub fn submit(&mut self, nation: NationId, action: PolicyAction) {
        self.ecs
            .resource_mut::<PendingActions>()
            .0
            .push((nation, action));
    }

    /// Run the next negotiation round of this tick now, on the moves submitted so far
    /// and tagged with it, so that agents can answer within the tick. Rounds not run
    /// this way run at the start of [`step`](Self::step) (that is how replay runs
    /// them); either way the result is the same. Returns false after the last round.
    pub fn negotiate_round(&mut self) -> bool {
        let tick = self.tick();
        let def = self.def.clone();
        let ecs = &mut self.ecs;
        ecs.resource_scope(|ecs, mut neg: Mut<Negotiation>| {
            if neg.next_round >= crate::negotiation::ROUNDS_PER_TICK {
                return false;
            }
            let r = neg.next_round;
            let pending = &ecs.resource::<PendingActions>().0;
            crate::negotiation::protocol::run_round(&mut neg, &def, tick, r, pending);
            neg.next_round += 1;
            true
        })
    }

    /// The negotiation round moves submitted now belong to.
    pub fn negotiation_round(&self) -> u32 {
        self.ecs.resource::<Negotiation>().next_round
    }

    /// Sessions, agreements, trust and history.
    pub fn negotiation(&self) -> &Negotiation {
        self.ecs.resource::<Negotiation>()
    }

    /// Names of all firms by id, including capacity built during the run.
    pub fn firm_names(&self) -> &[String] {
        &self.ecs.resource::<Index>().firm_names
    }

    /// What the last tick produced.
    pub fn record(&self) -> &TickRecord {
        self.ecs.resource::<TickRecord>()
    }

    /// The ECS world, for observers and for the plugin host.
    pub fn ecs(&self) -> &bevy_ecs::world::World {
        &self.ecs
    }

    pub fn ecs_mut(&mut self) -> &mut bevy_ecs::world::World {
        &mut self.ecs
    }

    /// This tick's prices of a market per nation (None where there is no price).
    pub fn prices(&self, market: MarketId) -> &MarketPrices {
        let e = self.ecs.resource::<Index>().markets[market.index()];
        &self
            .ecs
            .get::<MarketState>(e)
            .expect("market entity")
            .prices
    }

    pub fn budget_usd(&self, nation: NationId) -> f64 {
        let e = self.ecs.resource::<Index>().nations[nation.index()];
        self.ecs
            .get::<Treasury>(e)
            .expect("nation entity")
            .budget_usd
    }
}
