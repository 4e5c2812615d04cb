//! Recycling as secondary supply: what end users consumed comes back as scrap after a
//! product lifetime, a share is collected, and recycling plants turn it into supply of
//! a (usually refined) stage.
//!
//! A recycling plant is a firm of the target market with no primary capacity: it
//! decides how much scrap to process on its expected price (its cost curve, plus any
//! subsidy) before the market clears, and offers the output from stock at its lowest
//! cost, as every firm offers stock. The market therefore needs no second kind of
//! supplier, and recycled tonnes move through the same accounting as any other.

use std::collections::VecDeque;

use bevy_ecs::prelude::*;
use chokepoint_world::{FirmId, NationId};

use crate::components::*;
use crate::levers::Levers;
use crate::market::MarketState;
use crate::resources::*;

/// A recycling plant (on a firm entity of the stream's target market).
#[derive(Component, Debug, Clone)]
pub struct Recycler {
    /// Index in `AdaptationDef::recycling`.
    pub stream: usize,
    /// Output per tick at full capacity.
    pub capacity_t_per_tick: f64,
}

/// Scrap of each (stream, nation), at `stream * nations + nation`.
#[derive(Resource, Debug, Clone, Default)]
pub struct Recycling {
    pub pools: Vec<ScrapPool>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScrapPool {
    /// End-use consumption of the source market, latest first: `history[k]` is the
    /// consumption of `k + 1` ticks ago.
    pub history: VecDeque<f64>,
    /// Collected scrap not yet recycled.
    pub stock_t: f64,
    /// This tick's flows, for the output row.
    pub arising_t: f64,
    pub collected_t: f64,
    pub recycled_t: f64,
    pub subsidy_usd: f64,
}

impl Recycling {
    /// Pools with their history as if the reference consumption had lasted forever, so
    /// scrap arises from the first tick.
    pub fn new(world: &chokepoint_world::World) -> Self {
        let n = world.nations.len();
        let mut pools = Vec::new();
        for s in &world.adaptation.recycling {
            for nation in &world.nations {
                let c: f64 = nation
                    .demand
                    .iter()
                    .filter(|d| d.market == s.from)
                    .map(|d| d.reference_quantity_t_per_tick)
                    .sum();
                pools.push(ScrapPool {
                    history: std::iter::repeat_n(c, s.lifetime.len()).collect(),
                    ..Default::default()
                });
            }
        }
        debug_assert_eq!(pools.len(), world.adaptation.recycling.len() * n);
        Recycling { pools }
    }
}

/// Spawn a recycling plant as a firm of the stream's target market. Returns its id.
pub fn spawn_recycler(
    commands: &mut Commands,
    index: &mut Index,
    world: &chokepoint_world::World,
    name: String,
    nation: NationId,
    stream: usize,
    capacity_t_per_tick: f64,
    mc: (f64, f64),
) -> FirmId {
    let market = world.adaptation.recycling[stream].to;
    let id = FirmId(index.firm_names.len() as u32);
    let e = commands
        .spawn((
            Firm { id, nation, market },
            StableId::of("firm", &name),
            // No primary capacity: recycled output reaches the market from stock.
            Plant {
                capacity_t_per_tick: 0.0,
                mc_at_zero_usd_per_t: mc.0,
                mc_at_capacity_usd_per_t: mc.1,
            },
            Stocks::default(),
            FirmTick::default(),
            Recycler {
                stream,
                capacity_t_per_tick,
            },
        ))
        .id();
    index.firms.push(e);
    index.firms_by_market[market.index()].push(id);
    index.firm_names.push(name);
    id
}

/// Recycling plants financed by a lever whose build lag has passed come online.
pub fn commission_recyclers(
    mut commands: Commands,
    def: Res<WorldDef>,
    clock: Res<Clock>,
    mut index: ResMut<Index>,
    mut levers: ResMut<Levers>,
    mut record: ResMut<TickRecord>,
) {
    if levers.recycling_projects.is_empty() {
        return;
    }
    let world = &def.0;
    let (due, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut levers.recycling_projects)
        .into_iter()
        .partition(|p| p.arrives_at_tick <= clock.tick);
    levers.recycling_projects = waiting;
    for p in due {
        let s = &world.adaptation.recycling[p.stream];
        let name = format!(
            "{} recycling in {} #{}",
            world.market_name(s.to),
            world.nations[p.nation.index()].name,
            index.firm_names.len()
        );
        record.events.push(EventRow {
            kind: "recycling_online".into(),
            detail: format!("{name}: {} t/tick", p.capacity_t_per_tick),
        });
        spawn_recycler(
            &mut commands,
            &mut index,
            world,
            name,
            p.nation,
            p.stream,
            p.capacity_t_per_tick,
            (
                s.new_plant_mc_at_zero_usd_per_t,
                s.new_plant_mc_at_capacity_usd_per_t,
            ),
        );
    }
}

/// Before clearing: scrap arises from past consumption through the lifetime
/// distribution, a share is collected, and each plant (in id order) recycles what its
/// cost curve says at its expected price plus subsidy, limited by capacity and scrap.
#[allow(clippy::too_many_arguments)]
pub fn recycle(
    def: Res<WorldDef>,
    index: Res<Index>,
    levers: Res<Levers>,
    mut recycling: ResMut<Recycling>,
    markets: Query<&MarketState>,
    mut plants: Query<(&Firm, &Plant, &Recycler, &mut Stocks)>,
    mut treasuries: Query<&mut Treasury>,
) {
    let world = &def.0;
    if world.adaptation.recycling.is_empty() {
        return;
    }
    let n = world.nations.len();
    for (s, stream) in world.adaptation.recycling.iter().enumerate() {
        for pool in &mut recycling.pools[s * n..(s + 1) * n] {
            let arising: f64 = stream
                .lifetime
                .iter()
                .zip(&pool.history)
                .map(|(w, c)| w * c)
                .sum();
            pool.arising_t = arising;
            pool.collected_t = stream.collection_rate * arising;
            pool.stock_t += pool.collected_t;
            pool.recycled_t = 0.0;
            pool.subsidy_usd = 0.0;
        }
    }
    for &e in &index.firms {
        let Ok((firm, plant, recycler, mut stocks)) = plants.get_mut(e) else {
            continue;
        };
        let stream = &world.adaptation.recycling[recycler.stream];
        let expected = markets
            .get(index.markets[stream.to.index()])
            .expect("market entity")
            .prices
            .expected[firm.nation.index()];
        let k = recycler.capacity_t_per_tick;
        let mut treasury = treasuries
            .get_mut(index.nations[firm.nation.index()])
            .expect("nation entity");
        // A subsidy counts only while the treasury can pay it at full output.
        let subsidy = levers
            .recycling_subsidy
            .get(&(stream.to, firm.nation))
            .copied()
            .filter(|s| s * k <= treasury.budget_usd)
            .unwrap_or(0.0);
        let (a, b) = (plant.mc_at_zero_usd_per_t, plant.mc_at_capacity_usd_per_t);
        let price = expected + subsidy;
        let wanted = if b > a {
            k * ((price - a) / (b - a)).clamp(0.0, 1.0)
        } else if price >= a {
            k
        } else {
            0.0
        };
        let pool = &mut recycling.pools[recycler.stream * n + firm.nation.index()];
        let scrap = (wanted / stream.yield_).min(pool.stock_t);
        let made = scrap * stream.yield_;
        pool.stock_t -= scrap;
        pool.recycled_t += made;
        stocks.output_t += made;
        if subsidy > 0.0 {
            treasury.budget_usd -= subsidy * made;
            pool.subsidy_usd += subsidy * made;
        }
    }
}

/// After clearing: this tick's end-use consumption enters the scrap history, and each
/// pool's row records what was recycled and sold against the nation's whole supply.
pub fn record_recycling(
    def: Res<WorldDef>,
    index: Res<Index>,
    fault: Res<Fault>,
    mut recycling: ResMut<Recycling>,
    mut record: ResMut<TickRecord>,
    end_uses: Query<&EndUse>,
    plants: Query<(&Firm, &Recycler, &FirmTick)>,
) {
    let world = &def.0;
    if fault.0.is_some() || world.adaptation.recycling.is_empty() {
        return;
    }
    let n = world.nations.len();
    let mut sold = vec![0.0; recycling.pools.len()];
    let mut has_plant = vec![false; recycling.pools.len()];
    for &e in &index.firms {
        if let Ok((firm, r, t)) = plants.get(e) {
            let k = r.stream * n + firm.nation.index();
            sold[k] += t.sold_from_stock_t;
            has_plant[k] = true;
        }
    }
    for (s, stream) in world.adaptation.recycling.iter().enumerate() {
        for (ni, &ne) in index.nations.iter().enumerate() {
            let consumed: f64 = end_uses
                .get(ne)
                .expect("nation entity")
                .demands
                .iter()
                .filter(|d| d.def.market == stream.from)
                .map(|d| d.consumed_t)
                .sum();
            let k = s * n + ni;
            let pool = &mut recycling.pools[k];
            pool.history.push_front(consumed);
            pool.history.pop_back();
            if !has_plant[k] && pool.arising_t == 0.0 {
                continue;
            }
            let supply_t: f64 = record
                .production
                .iter()
                .filter(|p| p.market == stream.to && p.nation.index() == ni)
                .map(|p| p.produced_t + p.sold_from_stock_t)
                .sum();
            let row = RecyclingRow {
                market: stream.to,
                nation: NationId(ni as u32),
                scrap_arising_t: pool.arising_t,
                collected_t: pool.collected_t,
                recycled_t: pool.recycled_t,
                recycled_sold_t: sold[k],
                supply_t,
                scrap_stock_t: pool.stock_t,
                subsidy_usd: pool.subsidy_usd,
            };
            record.recycling.push(row);
        }
    }
}
