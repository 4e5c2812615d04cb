//! Firms invest by rule: a firm expands when its expected price covers the full cost of
//! new capacity (operating cost plus capital cost recovered over the payback period),
//! the capacity arrives after the stage's build lag, and a project is cancelled if the
//! expected price falls below the operating cost while it is being built.
//!
//! This is the engine's own supply response, independent of strategies: a squeeze that
//! lasts brings capacity, and the build lag of each stage (years for mines, less for
//! refineries) decides how long it lasts. The rule and its numbers are in
//! ARCHITECTURE.md, "Adaptation".

use bevy_ecs::prelude::*;
use chokepoint_world::{FirmId, MarketId, NationId};

use crate::components::*;
use crate::levers::Levers;
use crate::market::MarketState;
use crate::recycling::Recycler;
use crate::resources::*;

/// Firms' own projects under construction, in the order they were started.
#[derive(Resource, Debug, Clone, Default)]
pub struct FirmPipeline(pub Vec<FirmProject>);

#[derive(Debug, Clone, PartialEq)]
pub struct FirmProject {
    pub firm: FirmId,
    pub market: MarketId,
    pub nation: NationId,
    pub capacity_t_per_tick: f64,
    /// Capital cost paid (the firm's part and the nation's subsidy).
    pub capex_usd: f64,
    pub subsidy_usd: f64,
    pub started_tick: u64,
    pub arrives_at_tick: u64,
}

/// Full cost per tonne of new capacity: average operating cost at full output, plus the
/// capital cost spread over the output of the payback period.
pub fn full_cost(avg_operating_usd_per_t: f64, capex_usd_per_tpy: f64, payback_years: f64) -> f64 {
    avg_operating_usd_per_t + capex_usd_per_tpy / payback_years
}

/// Projects whose build lag has passed add their capacity to the firm's plant.
pub fn commission_firm_projects(
    def: Res<WorldDef>,
    clock: Res<Clock>,
    index: Res<Index>,
    mut pipeline: ResMut<FirmPipeline>,
    mut record: ResMut<TickRecord>,
    mut plants: Query<&mut Plant>,
) {
    if pipeline.0.is_empty() {
        return;
    }
    let world = &def.0;
    let (due, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut pipeline.0)
        .into_iter()
        .partition(|p| p.arrives_at_tick <= clock.tick);
    pipeline.0 = waiting;
    for p in due {
        let mut plant = plants
            .get_mut(index.firms[p.firm.index()])
            .expect("firm entity");
        plant.capacity_t_per_tick += p.capacity_t_per_tick;
        record.events.push(EventRow {
            kind: "capacity_online".into(),
            detail: format!(
                "{} expands {} by {} t/tick",
                index.firm_names[p.firm.index()],
                world.market_name(p.market),
                p.capacity_t_per_tick
            ),
        });
    }
}

/// After clearing: cancel projects whose firm's expected price fell below operating
/// cost, and start a project at every firm (without one under way) whose expected price
/// covers full cost. Decided between ticks like strategies' actions, so capacity
/// started after tick t is online in tick `t + 1 + build_lag`.
#[allow(clippy::too_many_arguments)]
pub fn invest(
    def: Res<WorldDef>,
    clock: Res<Clock>,
    index: Res<Index>,
    fault: Res<Fault>,
    levers: Res<Levers>,
    mut pipeline: ResMut<FirmPipeline>,
    mut record: ResMut<TickRecord>,
    markets: Query<&MarketState>,
    firms: Query<(&Firm, &Plant, Option<&Recycler>)>,
    mut treasuries: Query<&mut Treasury>,
) {
    let world = &def.0;
    if fault.0.is_some() || world.adaptation.investment.is_empty() {
        return;
    }
    let tick = clock.tick;
    // Firms plan on expected prices, outputs and inputs alike: a one-tick spike in an
    // input price neither starts nor cancels a project.
    let expected_price = |m: MarketId, n: NationId| {
        markets
            .get(index.markets[m.index()])
            .expect("market entity")
            .prices
            .expected[n.index()]
    };
    for rule in &world.adaptation.investment {
        let m = rule.market;
        let mdef = &world.markets[m.index()];
        for &f in &index.firms_by_market[m.index()] {
            let Ok((firm, plant, recycler)) = firms.get(index.firms[f.index()]) else {
                continue;
            };
            if recycler.is_some() || plant.capacity_t_per_tick <= 0.0 {
                continue;
            }
            let n = firm.nation;
            let expected = expected_price(m, n);
            let inputs: f64 = mdef
                .inputs
                .iter()
                .map(|&(im, r)| r * expected_price(im, n))
                .sum();
            let operating =
                0.5 * (plant.mc_at_zero_usd_per_t + plant.mc_at_capacity_usd_per_t) + inputs;
            let before = pipeline.0.len();
            pipeline
                .0
                .retain(|p| !(p.firm == f && expected < operating));
            if pipeline.0.len() < before {
                record.events.push(EventRow {
                    kind: "investment_cancelled".into(),
                    detail: format!(
                        "{}: expected price {expected:.2} below operating cost {operating:.2}",
                        index.firm_names[f.index()]
                    ),
                });
            }
            if pipeline.0.iter().any(|p| p.firm == f) {
                continue;
            }
            let added = rule.expansion_share * plant.capacity_t_per_tick;
            let capex = rule.capex_usd_per_tpy * added * world.ticks_per_year as f64;
            let mut treasury = treasuries
                .get_mut(index.nations[n.index()])
                .expect("nation entity");
            // The nation's subsidy counts only if its treasury can pay it.
            let share = levers
                .capacity_subsidy
                .get(&(m, n))
                .copied()
                .filter(|s| s * capex <= treasury.budget_usd)
                .unwrap_or(0.0);
            let threshold = full_cost(
                operating,
                rule.capex_usd_per_tpy * (1.0 - share),
                rule.payback_years,
            );
            if expected < threshold || added <= 0.0 {
                continue;
            }
            let subsidy_usd = share * capex;
            treasury.budget_usd -= subsidy_usd;
            let arrives_at_tick = tick + 1 + mdef.build_lag_ticks as u64;
            pipeline.0.push(FirmProject {
                firm: f,
                market: m,
                nation: n,
                capacity_t_per_tick: added,
                capex_usd: capex,
                subsidy_usd,
                started_tick: tick,
                arrives_at_tick,
            });
            record.events.push(EventRow {
                kind: "firm_investment".into(),
                detail: format!(
                    "{} adds {added} t/tick for {capex:.0} USD (subsidy {subsidy_usd:.0}): expected price {expected:.2} covers full cost {threshold:.2}; online at tick {arrives_at_tick}",
                    index.firm_names[f.index()]
                ),
            });
        }
    }
}

/// After investment decisions: one row per project under construction, whoever pays.
pub fn record_pipeline(
    def: Res<WorldDef>,
    fault: Res<Fault>,
    firm_pipeline: Res<FirmPipeline>,
    financed: Res<Pipeline>,
    levers: Res<Levers>,
    mut record: ResMut<TickRecord>,
) {
    if fault.0.is_some() {
        return;
    }
    let world = &def.0;
    for p in &financed.0 {
        let lag = world.markets[p.market.index()].build_lag_ticks as u64;
        record.pipeline.push(PipelineRow {
            market: p.market,
            nation: p.host,
            firm: None,
            funder: p.funder,
            kind: "financed",
            capacity_t: p.capacity_t_per_tick,
            started_tick: p.arrives_at_tick.saturating_sub(lag),
            arrives_at_tick: p.arrives_at_tick,
        });
    }
    for p in &firm_pipeline.0 {
        record.pipeline.push(PipelineRow {
            market: p.market,
            nation: p.nation,
            firm: Some(p.firm),
            funder: p.nation,
            kind: "firm",
            capacity_t: p.capacity_t_per_tick,
            started_tick: p.started_tick,
            arrives_at_tick: p.arrives_at_tick,
        });
    }
    for p in &levers.recycling_projects {
        record.pipeline.push(PipelineRow {
            market: world.adaptation.recycling[p.stream].to,
            nation: p.nation,
            firm: None,
            funder: p.nation,
            kind: "recycling",
            capacity_t: p.capacity_t_per_tick,
            started_tick: p.started_tick,
            arrives_at_tick: p.arrives_at_tick,
        });
    }
}
