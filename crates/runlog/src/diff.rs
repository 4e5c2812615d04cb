//! Where and how two runs diverge: both logs are replayed in lockstep, and prices and
//! flows are compared by name (market, nation), so runs of edited worlds still compare
//! wherever their names match.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chokepoint_engine::Simulation;
use chokepoint_world::NationId;

use crate::{LogContents, ReplayError};

#[derive(Debug, Clone, PartialEq)]
pub struct DiffReport {
    /// Ticks compared (the shorter run's length).
    pub ticks: u64,
    /// First tick whose state digest differs (None: identical runs).
    pub first_divergence: Option<u64>,
    /// Largest absolute price differences: (market, nation, tick, a, b), largest first.
    pub prices: Vec<(String, String, u64, f64, f64)>,
    /// Largest absolute flow differences: (market, origin, destination, tick, a, b).
    pub flows: Vec<(String, String, String, u64, f64, f64)>,
}

fn rebuild(log: &LogContents) -> Result<Simulation, ReplayError> {
    let world = chokepoint_world::parse(Path::new(&log.header.world_path), &log.header.world_text)
        .map_err(|e| ReplayError::World(e.to_string()))?;
    Ok(Simulation::new(Arc::new(world), log.header.seed))
}

type Key = (String, String, String);

fn snapshot(sim: &Simulation) -> (BTreeMap<(String, String), f64>, BTreeMap<Key, f64>) {
    let w = sim.world_def();
    let rec = sim.record();
    let n = |id: NationId| w.nations[id.index()].name.clone();
    let prices = rec
        .prices
        .iter()
        .map(|p| ((w.market_name(p.market), n(p.nation)), p.price_usd_per_t))
        .collect();
    let mut flows = BTreeMap::new();
    for f in &rec.flows {
        *flows
            .entry((w.market_name(f.market), n(f.from), n(f.to)))
            .or_insert(0.0) += f.quantity_t;
    }
    (prices, flows)
}

/// Compare two logged runs tick by tick (replaying both, digests verified).
pub fn diff(a: &LogContents, b: &LogContents, top: usize) -> Result<DiffReport, ReplayError> {
    let (mut sa, mut sb) = (rebuild(a)?, rebuild(b)?);
    let mut first = None;
    let mut price_gaps: Vec<(String, String, u64, f64, f64)> = Vec::new();
    let mut flow_gaps: Vec<(String, String, String, u64, f64, f64)> = Vec::new();
    let mut best_price: BTreeMap<(String, String), (u64, f64, f64)> = BTreeMap::new();
    let mut best_flow: BTreeMap<Key, (u64, f64, f64)> = BTreeMap::new();
    let ticks = a.ticks.len().min(b.ticks.len());
    for k in 0..ticks {
        for (sim, entry) in [(&mut sa, &a.ticks[k]), (&mut sb, &b.ticks[k])] {
            crate::replay::step_verified(sim, entry)?;
        }
        if first.is_none() && a.ticks[k].digest != b.ticks[k].digest {
            first = Some(a.ticks[k].tick);
        }
        if first.is_none() {
            continue;
        }
        let tick = a.ticks[k].tick;
        let ((pa, fa), (pb, fb)) = (snapshot(&sa), snapshot(&sb));
        for (key, &x) in &pa {
            let y = pb.get(key).copied().unwrap_or(f64::NAN);
            let d = (x - y).abs();
            if d.is_finite() && best_price.get(key).is_none_or(|b| d > (b.1 - b.2).abs()) {
                best_price.insert(key.clone(), (tick, x, y));
            }
        }
        for key in fa.keys().chain(fb.keys()) {
            let (x, y) = (
                fa.get(key).copied().unwrap_or(0.0),
                fb.get(key).copied().unwrap_or(0.0),
            );
            let d = (x - y).abs();
            if d > 0.0 && best_flow.get(key).is_none_or(|b| d > (b.1 - b.2).abs()) {
                best_flow.insert(key.clone(), (tick, x, y));
            }
        }
    }
    price_gaps.extend(
        best_price
            .into_iter()
            .filter(|(_, v)| v.1 != v.2)
            .map(|((m, n), (t, x, y))| (m, n, t, x, y)),
    );
    price_gaps.sort_by(|p, q| (q.4 - q.3).abs().total_cmp(&(p.4 - p.3).abs()));
    price_gaps.truncate(top);
    flow_gaps.extend(
        best_flow
            .into_iter()
            .map(|((m, o, d), (t, x, y))| (m, o, d, t, x, y)),
    );
    flow_gaps.sort_by(|p, q| (q.5 - q.4).abs().total_cmp(&(p.5 - p.4).abs()));
    flow_gaps.truncate(top);
    Ok(DiffReport {
        ticks: ticks as u64,
        first_divergence: first,
        prices: price_gaps,
        flows: flow_gaps,
    })
}
