//! Demand that adapts: end users answer a price at once along the short-run curve, and
//! over time substitute towards the long-run curve (partial adjustment with a
//! half-life); part of what they adopt during a spike stays when prices fall.
//!
//! Why a separate state rather than a second demand curve: the market keeps clearing
//! on one short-run curve per end use, scaled by `EndUseState::adapted`, so clearing and
//! shortages are unchanged and only this multiplier moves between ticks. The equations
//! are in ARCHITECTURE.md, "Adaptation".

use bevy_ecs::prelude::*;

use crate::components::*;
use crate::levers::Levers;
use crate::market::MarketState;
use crate::resources::*;

/// Substitution state of each adapting end use, parallel to `AdaptationDef::demand`.
#[derive(Resource, Debug, Clone, Default)]
pub struct DemandAdaptation(pub Vec<SubstitutionState>);

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SubstitutionState {
    /// Share of the short-run curve substituted away (sigma; negative: demand has grown
    /// at prices below the reference).
    pub share: f64,
    /// Highest share reached so far (hysteresis keeps a part of it).
    pub peak: f64,
    /// Share substituted for good by research that has landed.
    pub research: f64,
}

impl SubstitutionState {
    /// The share that no longer reverses: `1 - (1 - eta * peak)(1 - research)`.
    pub fn permanent(&self, hysteresis: f64) -> f64 {
        1.0 - (1.0 - hysteresis * self.peak.max(0.0)) * (1.0 - self.research)
    }
}

/// Long-run target share at price `p`: the substitution that makes the short-run curve
/// times `1 - sigma` have elasticity `e_long` at the reference point,
/// `sigma*(p) = 1 - (p / P0)^-(e_long - e_short)`.
pub fn target_share(p: f64, p0: f64, e_short: f64, e_long: f64) -> f64 {
    1.0 - (p.max(p0 * 1e-6) / p0).powf(-(e_long - e_short))
}

/// After clearing: land research whose lag has passed, then move every adapting end
/// use's substitution a step `lambda = 1 - 2^(-1/half_life)` towards its target at this
/// tick's price, never below the permanent share.
#[allow(clippy::too_many_arguments)]
pub fn adapt_demand(
    def: Res<WorldDef>,
    clock: Res<Clock>,
    index: Res<Index>,
    fault: Res<Fault>,
    mut state: ResMut<DemandAdaptation>,
    mut levers: ResMut<Levers>,
    mut record: ResMut<TickRecord>,
    markets: Query<&MarketState>,
    mut end_uses: Query<&mut EndUse>,
) {
    let world = &def.0;
    if fault.0.is_some() || world.adaptation.demand.is_empty() {
        return;
    }
    let tick = clock.tick;
    if !levers.research.is_empty() {
        let (due, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut levers.research)
            .into_iter()
            .partition(|r| r.lands_at_tick <= tick);
        levers.research = waiting;
        for r in due {
            let s = &mut state.0[r.adaptation];
            s.research = 1.0 - (1.0 - s.research) * (1.0 - r.share);
            let a = &world.adaptation.demand[r.adaptation];
            let d = &world.nations[a.nation.index()].demand[a.index];
            record.events.push(EventRow {
                kind: "research_landed".into(),
                detail: format!(
                    "{} {} ({}): {} of demand substituted for good",
                    world.nations[a.nation.index()].name,
                    world.market_name(d.market),
                    d.end_use,
                    r.share
                ),
            });
        }
    }
    for (i, a) in world.adaptation.demand.iter().enumerate() {
        let d = &world.nations[a.nation.index()].demand[a.index];
        let prices = &markets
            .get(index.markets[d.market.index()])
            .expect("market entity")
            .prices;
        let p = prices.previous[a.nation.index()];
        let s = &mut state.0[i];
        let target = target_share(
            p,
            d.reference_price_usd_per_t,
            d.elasticity,
            a.long_run_elasticity,
        );
        let permanent = s.permanent(a.hysteresis);
        let goal = target.max(permanent);
        s.share += a.adjustment_rate() * (goal - s.share);
        s.peak = s.peak.max(s.share);
        let mut end_use = end_uses
            .get_mut(index.nations[a.nation.index()])
            .expect("nation entity");
        end_use.demands[a.index].adapted = 1.0 - s.share;
        record.substitution.push(SubstitutionRow {
            market: d.market,
            nation: a.nation,
            end_use: a.index,
            price_usd_per_t: p,
            substitution_share: s.share,
            target_share: target,
            permanent_share: s.permanent(a.hysteresis),
        });
    }
}
