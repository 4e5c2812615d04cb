//! The systems of the tick other than market clearing: the timeline, settlement and
//! the accounting checks.

use bevy_ecs::prelude::*;
use chokepoint_world::{EventAction, Licence};

use crate::EngineError;
use crate::components::*;
use crate::resources::*;

/// Start of tick: clear last tick's record and apply the scripted events due now.
pub fn apply_timeline(
    def: Res<WorldDef>,
    clock: Res<Clock>,
    index: Res<Index>,
    mut timeline: ResMut<Timeline>,
    mut policies: ResMut<Policies>,
    mut record: ResMut<TickRecord>,
    mut plants: Query<&mut Plant>,
    mut end_uses: Query<&mut EndUse>,
) {
    record.clear(clock.tick);
    let world = &def.0;
    while let Some(event) = world.events.get(timeline.next) {
        if event.tick > clock.tick {
            break;
        }
        timeline.next += 1;
        let (kind, detail) = match &event.action {
            EventAction::SetTariff(rule) => {
                for &m in &rule.markets {
                    for &i in &rule.importers {
                        for &x in &rule.exporters {
                            policies.set_tariff(m, i, x, rule.rate);
                        }
                    }
                }
                (
                    "tariff",
                    format!(
                        "rate {} on {} importer(s) x {} exporter(s) x {} market(s)",
                        rule.rate,
                        rule.importers.len(),
                        rule.exporters.len(),
                        rule.markets.len()
                    ),
                )
            }
            EventAction::SetLicence(rule) => {
                for &m in &rule.markets {
                    for &x in &rule.exporters {
                        for &d in &rule.destinations {
                            policies.set_licence(m, x, d, rule.licence, Some(clock.tick));
                        }
                    }
                }
                (
                    "licence",
                    format!(
                        "{} from {} exporter(s) to {} destination(s) in {} market(s)",
                        licence_name(rule.licence),
                        rule.exporters.len(),
                        rule.destinations.len(),
                        rule.markets.len()
                    ),
                )
            }
            EventAction::CapacityShock { firms, factor } => {
                for f in firms {
                    if let Ok(mut plant) = plants.get_mut(index.firms[f.index()]) {
                        plant.capacity_t_per_tick *= factor;
                    }
                }
                (
                    "capacity_shock",
                    format!("capacity x{factor} at {} firm(s)", firms.len()),
                )
            }
            EventAction::DemandShock {
                nations,
                markets,
                factor,
            } => {
                for n in nations {
                    if let Ok(mut end_use) = end_uses.get_mut(index.nations[n.index()]) {
                        for d in end_use
                            .demands
                            .iter_mut()
                            .filter(|d| markets.contains(&d.def.market))
                        {
                            d.factor *= factor;
                        }
                    }
                }
                (
                    "demand_shock",
                    format!(
                        "end-use demand x{factor} in {} nation(s) x {} market(s)",
                        nations.len(),
                        markets.len()
                    ),
                )
            }
        };
        let detail = if event.note.is_empty() {
            detail
        } else {
            format!("{}: {detail}", event.note)
        };
        record.events.push(EventRow {
            kind: kind.into(),
            detail,
        });
    }
}

pub fn licence_name(l: Licence) -> String {
    match l {
        Licence::Open => "open".into(),
        Licence::Ban => "ban".into(),
        Licence::Quota { t_per_tick } => format!("quota {t_per_tick} t/tick"),
        Licence::Licensed { delay_ticks } => format!("licence with {delay_ticks}-tick delay"),
    }
}

/// Public money: tariff and levy revenue goes to the importing nation's budget.
pub fn settle(fault: Res<Fault>, mut treasuries: Query<&mut Treasury>) {
    if fault.0.is_some() {
        return;
    }
    for mut t in treasuries.iter_mut() {
        let revenue = t.revenue_usd;
        t.budget_usd += revenue;
        t.revenue_usd = 0.0;
    }
}

/// Relative tolerance of the accounting checks: far above float rounding, far below
/// any economically meaningful leak.
pub const ACCOUNTING_TOLERANCE: f64 = 1e-7;

/// Accounting checks, every tick: goods balance per market (what firms sold = what
/// consumers obtained = what flowed), prices finite and non-negative, stocks and
/// capacities non-negative. A violation stops the run naming tick, entity and amount.
pub fn check_invariants(
    def: Res<WorldDef>,
    clock: Res<Clock>,
    record: Res<TickRecord>,
    firms: Query<(&Firm, &Plant, &Stocks)>,
    mut fault: ResMut<Fault>,
) {
    if fault.0.is_some() {
        return;
    }
    let world = &def.0;
    let tick = clock.tick;
    let violation = |entity: String, what: &str, amount: f64| EngineError::Invariant {
        tick,
        entity,
        what: what.into(),
        amount,
    };
    for p in &record.prices {
        if !p.price_usd_per_t.is_finite() || p.price_usd_per_t < 0.0 {
            fault.0 = Some(violation(
                format!(
                    "market {} in {}",
                    world.market_name(p.market),
                    world.nations[p.nation.index()].name
                ),
                "price is not a finite non-negative number",
                p.price_usd_per_t,
            ));
            return;
        }
    }
    for (firm, plant, stocks) in firms.iter() {
        let name = || format!("firm {}", world.firms[firm.id.index()].name);
        if plant.capacity_t_per_tick.is_nan() || plant.capacity_t_per_tick < 0.0 {
            fault.0 = Some(violation(
                name(),
                "negative or NaN capacity",
                plant.capacity_t_per_tick,
            ));
            return;
        }
        for (what, v) in std::iter::once(("output stock", stocks.output_t))
            .chain(stocks.inputs_t.iter().map(|&v| ("input stock", v)))
        {
            if !v.is_finite() || v < 0.0 {
                fault.0 = Some(violation(
                    name(),
                    &format!("{what} is negative or not finite"),
                    v,
                ));
                return;
            }
        }
    }
    for p in &record.production {
        for (what, v) in [
            ("produced", p.produced_t),
            ("sold from stock", p.sold_from_stock_t),
        ] {
            if !v.is_finite() || v < 0.0 {
                let entity = format!("firm {}", world.firms[p.firm.index()].name);
                fault.0 = Some(violation(
                    entity,
                    &format!("{what} is negative or not finite"),
                    v,
                ));
                return;
            }
        }
    }
    let markets = world.markets.len();
    let (mut sold, mut obtained, mut shipped) =
        (vec![0.0; markets], vec![0.0; markets], vec![0.0; markets]);
    for p in &record.production {
        sold[p.market.index()] += p.produced_t + p.sold_from_stock_t;
    }
    for c in &record.consumption {
        obtained[c.market.index()] += c.obtained_t;
    }
    for f in &record.flows {
        shipped[f.market.index()] += f.quantity_t;
    }
    for m in 0..markets {
        let scale = sold[m].max(obtained[m]).max(1.0);
        for (what, gap) in [
            ("goods sold != goods obtained", sold[m] - obtained[m]),
            ("goods sold != goods shipped", sold[m] - shipped[m]),
        ] {
            if gap.is_nan() || gap.abs() > ACCOUNTING_TOLERANCE * scale {
                fault.0 = Some(violation(
                    format!(
                        "market {}",
                        world.market_name(chokepoint_world::MarketId(m as u32))
                    ),
                    what,
                    gap,
                ));
                return;
            }
        }
    }
}

/// End of tick: advance the clock.
pub fn advance_clock(mut clock: ResMut<Clock>) {
    clock.tick += 1;
}
