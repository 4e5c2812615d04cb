//! Snapshots: the engine's state every K ticks, so replay can seek (`--to T`) from the
//! nearest snapshot instead of re-running every tick from 0.
//!
//! A snapshot is the serialisable mirror of [`chokepoint_engine::EngineState`] (the
//! engine's types carry no serde; see the crate docs). Seeking is still verified: the
//! state restored from a snapshot must have the digest the log recorded for that tick,
//! and every tick replayed after it is checked as in a full replay, so a snapshot that is
//! wrong (an engine that forgot some state, a hand-edited log) is caught, not trusted.

use chokepoint_engine::state::{FirmState, MarketSnapshot, NationState, Solution};
use chokepoint_engine::{EngineState, Project};
use chokepoint_world::{MarketId, NationId};
use serde::{Deserialize, Serialize};

use crate::types::{LoggedLicence, licence_from_engine, licence_to_engine};

/// One snapshot frame: the state after tick `tick`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotEntry {
    pub tick: u64,
    pub state: LoggedState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedState {
    pub next_tick: u64,
    pub timeline_next: u64,
    /// (budget, revenue, [(demand factor, consumed t)]) per nation.
    pub nations: Vec<LoggedNation>,
    pub firms: Vec<LoggedFirm>,
    pub markets: Vec<LoggedMarket>,
    pub tariffs: Vec<(u32, u32, u32, f64)>,
    pub licences: Vec<(u32, u32, u32, LoggedLicence, u64)>,
    pub floors: Vec<(u32, u32, f64)>,
    pub stockpiles: Vec<(u32, u32, f64)>,
    /// (market, host, funder, t per tick, arrives at tick).
    pub pipeline: Vec<(u32, u32, u32, f64, u64)>,
}

/// A nation's budget, tariff revenue of the last tick, and per end use its demand-shock
/// factor and what it consumed.
pub type LoggedNation = (f64, f64, Vec<(f64, f64)>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedFirm {
    pub name: String,
    pub nation: u32,
    pub market: u32,
    /// Capacity, marginal cost at zero and at capacity.
    pub plant: [f64; 3],
    pub output_t: f64,
    pub inputs_t: Vec<f64>,
    pub last_tick: [f64; 4],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedMarket {
    pub local: Vec<Option<f64>>,
    pub supply: Vec<f64>,
    pub previous: Vec<f64>,
    pub expected: Vec<f64>,
    pub warm: Option<LoggedSolution>,
    pub warm_arcs: Vec<(u32, u32)>,
}

/// The solver's last solution of a market (its next warm start), field by field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedSolution {
    pub supply_price: Vec<f64>,
    pub local_price: Vec<Option<f64>>,
    pub produced: Vec<f64>,
    pub consumed: Vec<f64>,
    pub domestic: Vec<f64>,
    pub flow: Vec<f64>,
    pub landed: Vec<f64>,
    pub tariff_paid: Vec<f64>,
    pub levy_paid: Vec<f64>,
    pub export_rent: Vec<f64>,
    pub sweeps: u32,
    pub converged: bool,
    pub residual: f64,
}

impl LoggedState {
    pub fn from_engine(s: &EngineState) -> Self {
        LoggedState {
            next_tick: s.next_tick,
            timeline_next: s.timeline_next,
            nations: s
                .nations
                .iter()
                .map(|n| (n.budget_usd, n.revenue_usd, n.end_uses.clone()))
                .collect(),
            firms: s
                .firms
                .iter()
                .map(|f| LoggedFirm {
                    name: f.name.clone(),
                    nation: f.nation,
                    market: f.market,
                    plant: [
                        f.capacity_t_per_tick,
                        f.mc_at_zero_usd_per_t,
                        f.mc_at_capacity_usd_per_t,
                    ],
                    output_t: f.output_t,
                    inputs_t: f.inputs_t.clone(),
                    last_tick: f.last_tick,
                })
                .collect(),
            markets: s
                .markets
                .iter()
                .map(|m| LoggedMarket {
                    local: m.local.clone(),
                    supply: m.supply.clone(),
                    previous: m.previous.clone(),
                    expected: m.expected.clone(),
                    warm: m.warm.as_ref().map(|w| LoggedSolution {
                        supply_price: w.supply_price.clone(),
                        local_price: w.local_price.clone(),
                        produced: w.produced.clone(),
                        consumed: w.consumed.clone(),
                        domestic: w.domestic.clone(),
                        flow: w.flow.clone(),
                        landed: w.landed.clone(),
                        tariff_paid: w.tariff_paid.clone(),
                        levy_paid: w.levy_paid.clone(),
                        export_rent: w.export_rent.clone(),
                        sweeps: w.sweeps,
                        converged: w.converged,
                        residual: w.residual,
                    }),
                    warm_arcs: m.warm_arcs.clone(),
                })
                .collect(),
            tariffs: s.tariffs.clone(),
            licences: s
                .licences
                .iter()
                .map(|&(m, x, d, l, o)| (m, x, d, licence_from_engine(l), o))
                .collect(),
            floors: s.floors.clone(),
            stockpiles: s.stockpiles.clone(),
            pipeline: s
                .pipeline
                .iter()
                .map(|p| {
                    (
                        p.market.0,
                        p.host.0,
                        p.funder.0,
                        p.capacity_t_per_tick,
                        p.arrives_at_tick,
                    )
                })
                .collect(),
        }
    }

    pub fn to_engine(&self) -> EngineState {
        EngineState {
            next_tick: self.next_tick,
            timeline_next: self.timeline_next,
            nations: self
                .nations
                .iter()
                .map(|(b, r, u)| NationState {
                    budget_usd: *b,
                    revenue_usd: *r,
                    end_uses: u.clone(),
                })
                .collect(),
            firms: self
                .firms
                .iter()
                .map(|f| FirmState {
                    name: f.name.clone(),
                    nation: f.nation,
                    market: f.market,
                    capacity_t_per_tick: f.plant[0],
                    mc_at_zero_usd_per_t: f.plant[1],
                    mc_at_capacity_usd_per_t: f.plant[2],
                    output_t: f.output_t,
                    inputs_t: f.inputs_t.clone(),
                    last_tick: f.last_tick,
                })
                .collect(),
            markets: self
                .markets
                .iter()
                .map(|m| MarketSnapshot {
                    local: m.local.clone(),
                    supply: m.supply.clone(),
                    previous: m.previous.clone(),
                    expected: m.expected.clone(),
                    warm: m.warm.as_ref().map(|w| Solution {
                        supply_price: w.supply_price.clone(),
                        local_price: w.local_price.clone(),
                        produced: w.produced.clone(),
                        consumed: w.consumed.clone(),
                        domestic: w.domestic.clone(),
                        flow: w.flow.clone(),
                        landed: w.landed.clone(),
                        tariff_paid: w.tariff_paid.clone(),
                        levy_paid: w.levy_paid.clone(),
                        export_rent: w.export_rent.clone(),
                        sweeps: w.sweeps,
                        converged: w.converged,
                        residual: w.residual,
                    }),
                    warm_arcs: m.warm_arcs.clone(),
                })
                .collect(),
            tariffs: self.tariffs.clone(),
            licences: self
                .licences
                .iter()
                .map(|&(m, x, d, l, o)| (m, x, d, licence_to_engine(l), o))
                .collect(),
            floors: self.floors.clone(),
            stockpiles: self.stockpiles.clone(),
            pipeline: self
                .pipeline
                .iter()
                .map(|&(m, h, f, c, a)| Project {
                    market: MarketId(m),
                    host: NationId(h),
                    funder: NationId(f),
                    capacity_t_per_tick: c,
                    arrives_at_tick: a,
                })
                .collect(),
        }
    }
}
