//! The systems of the tick other than market clearing: the timeline, settlement and
//! the accounting checks.

use bevy_ecs::prelude::*;
use chokepoint_world::{EventAction, FirmId, Licence};

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
fn invariants(
    world: &chokepoint_world::World,
    index: &Index,
    tick: u64,
    record: &TickRecord,
    firms: &Query<(&Firm, &Plant, &Stocks)>,
) -> Result<(), EngineError> {
    let violation = |entity: String, what: &str, amount: f64| EngineError::Invariant {
        tick,
        entity,
        what: what.into(),
        amount,
    };
    for p in &record.prices {
        if !p.price_usd_per_t.is_finite() || p.price_usd_per_t < 0.0 {
            return Err(violation(
                format!(
                    "market {} in {}",
                    world.market_name(p.market),
                    world.nations[p.nation.index()].name
                ),
                "price is not a finite non-negative number",
                p.price_usd_per_t,
            ));
        }
    }
    // Firms in storage order, reporting the violation of the lowest firm id: what a walk
    // in id order would report, without a look-up per firm.
    let mut first: Option<(FirmId, EngineError)> = None;
    for (firm, plant, stocks) in firms.iter() {
        let sane = |v: f64| v.is_finite() && v >= 0.0;
        let capacity_ok = !(plant.capacity_t_per_tick.is_nan() || plant.capacity_t_per_tick < 0.0);
        if capacity_ok && sane(stocks.output_t) && stocks.inputs_t.iter().all(|&v| sane(v)) {
            continue;
        }
        if first.as_ref().is_some_and(|(id, _)| *id < firm.id) {
            continue;
        }
        let name = format!("firm {}", index.firm_names[firm.id.index()]);
        let err = if !capacity_ok {
            violation(name, "negative or NaN capacity", plant.capacity_t_per_tick)
        } else {
            let (what, v) = std::iter::once(("output stock", stocks.output_t))
                .chain(stocks.inputs_t.iter().map(|&v| ("input stock", v)))
                .find(|&(_, v)| !sane(v))
                .unwrap_or(("output stock", stocks.output_t));
            violation(name, &format!("{what} is negative or not finite"), v)
        };
        first = Some((firm.id, err));
    }
    if let Some((_, err)) = first {
        return Err(err);
    }
    for p in &record.production {
        for (what, v) in [
            ("produced", p.produced_t),
            ("sold from stock", p.sold_from_stock_t),
        ] {
            if !v.is_finite() || v < 0.0 {
                let entity = format!("firm {}", index.firm_names[p.firm.index()]);
                return Err(violation(
                    entity,
                    &format!("{what} is negative or not finite"),
                    v,
                ));
            }
        }
    }
    let markets = world.markets.len();
    let (mut sold, mut obtained, mut shipped) =
        (vec![0.0; markets], vec![0.0; markets], vec![0.0; markets]);
    for p in &record.production {
        sold[p.market.index()] += p.produced_t + p.sold_from_stock_t;
    }
    // Contract deliveries left the sellers' firms before the spot market and came back
    // into it as the buyers' supply: count what the buyers resold, not what was made.
    for d in &record.deliveries {
        sold[d.market.index()] += d.resold_t - d.delivered_t;
    }
    for s in &record.stockpiles {
        sold[s.market.index()] += s.sold_t;
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
                return Err(violation(
                    format!(
                        "market {}",
                        world.market_name(chokepoint_world::MarketId(m as u32))
                    ),
                    what,
                    gap,
                ));
            }
        }
    }
    Ok(())
}

/// From this many firms the checks run at once. Measured with the tick bench, both ways
/// alternately: at 20,000 firms at once 8.43/8.40 ms a tick against 9.34/10.00 ms one
/// after the other; at 2,000 firms no gain (1.14/1.04 against 1.03/1.02 ms).
const PARALLEL_CHECKS_FROM_FIRMS: usize = 10_000;

/// The end-of-tick checks: the invariants above and the books
/// ([`crate::accounting`]). The two only read the tick's state, so in large worlds
/// they run at once; an invariant violation is reported before a books gap, as if
/// they ran in that order.
#[allow(clippy::too_many_arguments)]
pub fn check_tick(
    def: Res<WorldDef>,
    index: Res<Index>,
    clock: Res<Clock>,
    record: Res<TickRecord>,
    books: Res<crate::accounting::Books>,
    mut closing: ResMut<crate::accounting::ClosingBooks>,
    firms: Query<(&Firm, &Plant, &Stocks)>,
    ledger: crate::accounting::Ledger,
    mut fault: ResMut<Fault>,
) {
    if fault.0.is_some() {
        return;
    }
    let (world, tick) = (&def.0, clock.tick);
    let (index, record, books, ledger) = (&*index, &*record, &*books, &ledger);
    let after = &mut closing.0;
    let check = || invariants(world, index, tick, record, &firms);
    let mut close = || crate::accounting::close(world, index, tick, record, books, after, ledger);
    let (checked, closed) = if index.firms.len() >= PARALLEL_CHECKS_FROM_FIRMS {
        rayon::join(check, close)
    } else {
        (check(), close())
    };
    if let Err(err) = checked.and(closed) {
        fault.0 = Some(err);
    }
}

/// End of tick: advance the clock.
pub fn advance_clock(mut clock: ResMut<Clock>) {
    clock.tick += 1;
}

/// Apply the actions strategies submitted for this tick, in submission order. Actions
/// the engine cannot honour (a budget too small for an investment, an id out of range)
/// are rejected with an event row rather than stopping the run: the host has already
/// refused malformed ones with a named error.
pub fn apply_actions(
    mut commands: Commands,
    def: Res<WorldDef>,
    clock: Res<Clock>,
    mut index: ResMut<Index>,
    mut pending: ResMut<PendingActions>,
    mut policies: ResMut<Policies>,
    mut orders: ResMut<StockpileOrders>,
    mut pipeline: ResMut<Pipeline>,
    mut levers: ResMut<crate::levers::Levers>,
    mut record: ResMut<TickRecord>,
    mut treasuries: Query<&mut Treasury>,
) {
    orders.0.clear();
    let world = &def.0;
    let (n_nations, n_markets) = (world.nations.len(), world.markets.len());
    for (nation, action) in std::mem::take(&mut pending.0) {
        let who = world
            .nations
            .get(nation.index())
            .map_or("?", |n| n.name.as_str());
        let market_ok = |m: chokepoint_world::MarketId| m.index() < n_markets;
        let mut reject = |why: String| {
            record.events.push(EventRow {
                kind: "action_rejected".into(),
                detail: format!("{who}: {why}"),
            });
        };
        if nation.index() >= n_nations {
            reject(format!("unknown acting nation id {}", nation.0));
            continue;
        }
        match action {
            PolicyAction::SetTariff {
                market,
                exporter,
                rate,
            } if market_ok(market) && exporter.index() < n_nations => {
                policies.set_tariff(market, nation, exporter, rate);
            }
            PolicyAction::SetLicence {
                market,
                destination,
                licence,
            } if market_ok(market) && destination.index() < n_nations => {
                if policies
                    .licence(market, nation, destination)
                    .map(|s| s.licence)
                    != Some(licence)
                    && licence != Licence::Open
                    || licence == Licence::Open
                        && policies.licence(market, nation, destination).is_some()
                {
                    record.events.push(EventRow {
                        kind: "licence".into(),
                        detail: format!(
                            "{who}: {} towards {} in {}",
                            licence_name(licence),
                            world.nations[destination.index()].name,
                            world.market_name(market)
                        ),
                    });
                }
                policies.set_licence(market, nation, destination, licence, Some(clock.tick));
            }
            PolicyAction::SetFloor {
                market,
                floor_usd_per_t,
            } if market_ok(market) => {
                policies.set_floor(market, nation, floor_usd_per_t);
            }
            PolicyAction::StockpileBuy {
                market,
                t,
                max_price,
            } if market_ok(market) => {
                ensure_stockpile(&mut commands, &mut index, market, nation);
                let o = orders.0.entry((market, nation)).or_default();
                o.buy_t += t;
                o.max_price = o.max_price.max(max_price);
            }
            PolicyAction::StockpileRelease {
                market,
                t,
                min_price,
            } if market_ok(market) => {
                ensure_stockpile(&mut commands, &mut index, market, nation);
                let o = orders.0.entry((market, nation)).or_default();
                o.release_t += t;
                o.min_price = if o.release_t > t {
                    o.min_price.min(min_price)
                } else {
                    min_price
                };
            }
            PolicyAction::Invest {
                market,
                host,
                t_per_year,
                usd_per_tpy,
            } if market_ok(market) && host.index() < n_nations => {
                let cost = t_per_year * usd_per_tpy;
                let mut treasury = treasuries
                    .get_mut(index.nations[nation.index()])
                    .expect("nation entity");
                if cost > treasury.budget_usd {
                    reject(format!(
                        "investment of {t_per_year} t/yr in {} costs {cost:.0} USD, budget is {:.0} USD",
                        world.market_name(market),
                        treasury.budget_usd
                    ));
                    continue;
                }
                treasury.budget_usd -= cost;
                let arrives_at_tick =
                    clock.tick + world.markets[market.index()].build_lag_ticks as u64;
                pipeline.0.push(Project {
                    market,
                    host,
                    funder: nation,
                    capacity_t_per_tick: t_per_year / world.ticks_per_year as f64,
                    arrives_at_tick,
                });
                record.events.push(EventRow {
                    kind: "investment".into(),
                    detail: format!(
                        "{who} finances {t_per_year} t/yr of {} in {} for {cost:.0} USD, online at tick {arrives_at_tick}",
                        world.market_name(market),
                        world.nations[host.index()].name
                    ),
                });
            }
            // Negotiation moves were handled by the rounds (`negotiation::protocol`).
            PolicyAction::Negotiate { .. } => {}
            PolicyAction::Lever(lever) => {
                let mut treasury = treasuries
                    .get_mut(index.nations[nation.index()])
                    .expect("nation entity");
                match crate::levers::apply_lever(
                    world,
                    clock.tick,
                    nation,
                    &lever,
                    &mut levers,
                    &mut treasury,
                ) {
                    Ok((kind, detail)) => record.events.push(EventRow {
                        kind: kind.into(),
                        detail,
                    }),
                    Err(why) => reject(why),
                }
            }
            other => reject(format!("{other:?} names an unknown market or nation")),
        }
    }
}

pub(crate) fn ensure_stockpile(
    commands: &mut Commands,
    index: &mut Index,
    market: chokepoint_world::MarketId,
    owner: chokepoint_world::NationId,
) {
    index.stockpiles.entry((market, owner)).or_insert_with(|| {
        commands
            .spawn(Stockpile {
                owner,
                market,
                holdings_t: 0.0,
            })
            .id()
    });
}

/// Capacity whose build lag has passed comes online as a new plant in the host nation.
/// Its cost curve is the capacity-weighted average of the market's plants (or, in a
/// market with none, 40% to 110% of the stage's value added at reference prices, the
/// rule the bundled world is calibrated with).
pub fn commission_capacity(
    mut commands: Commands,
    def: Res<WorldDef>,
    clock: Res<Clock>,
    mut index: ResMut<Index>,
    mut pipeline: ResMut<Pipeline>,
    mut record: ResMut<TickRecord>,
    plants: Query<(&Firm, &Plant)>,
) {
    let world = &def.0;
    let (due, waiting): (Vec<Project>, Vec<Project>) = std::mem::take(&mut pipeline.0)
        .into_iter()
        .partition(|p| p.arrives_at_tick <= clock.tick);
    pipeline.0 = waiting;
    for p in due {
        let m = p.market.index();
        let (mut k, mut a, mut b) = (0.0, 0.0, 0.0);
        for &f in &index.firms_by_market[m] {
            if let Ok((_, plant)) = plants.get(index.firms[f.index()]) {
                k += plant.capacity_t_per_tick;
                a += plant.capacity_t_per_tick * plant.mc_at_zero_usd_per_t;
                b += plant.capacity_t_per_tick * plant.mc_at_capacity_usd_per_t;
            }
        }
        let (mc0, mc1) = if k > 0.0 {
            (a / k, b / k)
        } else {
            let mdef = &world.markets[m];
            let inputs: f64 = mdef
                .inputs
                .iter()
                .map(|&(im, r)| r * world.markets[im.index()].reference_price_usd_per_t)
                .sum();
            let value_added =
                (mdef.reference_price_usd_per_t - inputs).max(0.1 * mdef.reference_price_usd_per_t);
            (0.4 * value_added, 1.1 * value_added)
        };
        let id = FirmId(index.firm_names.len() as u32);
        let name = format!(
            "{} capacity in {} #{} (financed by {})",
            world.market_name(p.market),
            world.nations[p.host.index()].name,
            id.0,
            world.nations[p.funder.index()].name
        );
        let e = commands
            .spawn((
                Firm {
                    id,
                    nation: p.host,
                    market: p.market,
                },
                StableId::of("firm", &name),
                Plant {
                    capacity_t_per_tick: p.capacity_t_per_tick,
                    mc_at_zero_usd_per_t: mc0,
                    mc_at_capacity_usd_per_t: mc1,
                },
                Stocks::default(),
                FirmTick::default(),
            ))
            .id();
        index.firms.push(e);
        index.firms_by_market[m].push(id);
        for (slot, &(input, ratio)) in world.markets[m].inputs.iter().enumerate() {
            index.users_by_market[input.index()].push((id, slot, ratio));
        }
        record.events.push(EventRow {
            kind: "capacity_online".into(),
            detail: format!("{name}: {} t/tick", p.capacity_t_per_tick),
        });
        index.firm_names.push(name);
    }
}
