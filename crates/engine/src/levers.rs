//! Strategy levers on adaptation: subsidies for recycling and for new capacity, funding
//! of recycling plants and of substitution research, and minimum stockholding mandates.
//!
//! Each lever costs the acting nation now and acts later or through firms' decisions,
//! so a strategy trades money today against a shorter squeeze tomorrow. Strategies reach
//! them as `PolicyAction::Lever`, world files as lever events; both go through
//! [`apply_lever`], so a scripted lever and a strategy's are the same thing.

use std::collections::BTreeMap;

use bevy_ecs::prelude::*;
use chokepoint_world::{Lever, MarketId, NationId, World};

use crate::components::*;
use crate::resources::*;

/// Lever state: policies in force and what has been paid for but not yet arrived.
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct Levers {
    /// USD per tonne recycled, by (market recycled into, nation).
    pub recycling_subsidy: BTreeMap<(MarketId, NationId), f64>,
    /// Share of firms' capital cost the nation pays, by (market, nation).
    pub capacity_subsidy: BTreeMap<(MarketId, NationId), f64>,
    /// Ticks of full-capacity input use firms must hold, by (input market, nation).
    pub mandates: BTreeMap<(MarketId, NationId), f64>,
    /// Research paid for: lands on end uses when its lag has passed.
    pub research: Vec<ResearchProject>,
    /// Recycling plants financed, online when their build lag has passed.
    pub recycling_projects: Vec<RecyclingProject>,
    /// Position in the world file's lever events.
    pub next_event: usize,
    /// Whether any mandate was ever set (reserves must then be kept up to date).
    pub mandates_seen: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResearchProject {
    /// Index in `AdaptationDef::demand`.
    pub adaptation: usize,
    /// Share of the end use's demand substituted for good when it lands.
    pub share: f64,
    pub started_tick: u64,
    pub lands_at_tick: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecyclingProject {
    pub stream: usize,
    pub nation: NationId,
    pub capacity_t_per_tick: f64,
    pub started_tick: u64,
    pub arrives_at_tick: u64,
}

/// Apply one lever for `nation` at `tick`, paying from its treasury. On success returns
/// the event row's (kind, detail); on failure why it cannot be honoured.
pub fn apply_lever(
    world: &World,
    tick: u64,
    nation: NationId,
    lever: &Lever,
    levers: &mut Levers,
    treasury: &mut Treasury,
) -> Result<(&'static str, String), String> {
    let who = &world.nations[nation.index()].name;
    let market = match *lever {
        Lever::RecyclingSubsidy { market, .. }
        | Lever::FundRecycling { market, .. }
        | Lever::FundSubstitution { market, .. }
        | Lever::CapacitySubsidy { market, .. }
        | Lever::StockMandate { market, .. } => market,
    };
    if market.index() >= world.markets.len() {
        return Err(format!("{lever:?} names an unknown market"));
    }
    let mname = world.market_name(market);
    let stream = world
        .adaptation
        .recycling
        .iter()
        .position(|s| s.to == market);
    let pay = |treasury: &mut Treasury, cost: f64, what: &str| {
        if !cost.is_finite() || cost < 0.0 || cost > treasury.budget_usd {
            return Err(format!(
                "{what} costs {cost:.0} USD, budget is {:.0} USD",
                treasury.budget_usd
            ));
        }
        treasury.budget_usd -= cost;
        Ok(())
    };
    let set = |map: &mut BTreeMap<(MarketId, NationId), f64>, v: f64| {
        if v > 0.0 {
            map.insert((market, nation), v);
        } else {
            map.remove(&(market, nation));
        }
    };
    match *lever {
        Lever::RecyclingSubsidy { usd_per_t, .. } => {
            if stream.is_none() {
                return Err(format!("no recycling stream supplies {mname}"));
            }
            if !usd_per_t.is_finite() || usd_per_t < 0.0 {
                return Err(format!("recycling subsidy of {usd_per_t} USD/t"));
            }
            set(&mut levers.recycling_subsidy, usd_per_t);
            Ok((
                "recycling_subsidy",
                format!("{who} pays {usd_per_t} USD/t recycled into {mname}"),
            ))
        }
        Lever::FundRecycling {
            t_per_year,
            usd_per_tpy,
            ..
        } => {
            let Some(s) = stream else {
                return Err(format!("no recycling stream supplies {mname}"));
            };
            if !(t_per_year > 0.0 && t_per_year.is_finite()) {
                return Err(format!("recycling capacity of {t_per_year} t/yr"));
            }
            let cost = t_per_year * usd_per_tpy;
            pay(
                treasury,
                cost,
                &format!("recycling capacity of {t_per_year} t/yr"),
            )?;
            let arrives_at_tick = tick + world.adaptation.recycling[s].build_lag_ticks as u64;
            levers.recycling_projects.push(RecyclingProject {
                stream: s,
                nation,
                capacity_t_per_tick: t_per_year / world.ticks_per_year as f64,
                started_tick: tick,
                arrives_at_tick,
            });
            Ok((
                "recycling_investment",
                format!(
                    "{who} finances {t_per_year} t/yr of recycling into {mname} for {cost:.0} USD, online at tick {arrives_at_tick}"
                ),
            ))
        }
        Lever::FundSubstitution { usd, .. } => {
            let targets: Vec<(usize, f64, u32)> = world
                .adaptation
                .demand
                .iter()
                .enumerate()
                .filter(|(_, a)| {
                    a.nation == nation
                        && world.nations[nation.index()].demand[a.index].market == market
                })
                .filter_map(|(i, a)| a.research_usd_per_pct.map(|c| (i, c, a.research_lag_ticks)))
                .collect();
            if targets.is_empty() {
                return Err(format!(
                    "no end use of {mname} in {who} has research_usd_per_pct in the world file"
                ));
            }
            if usd.is_nan() || usd <= 0.0 {
                return Err(format!("research funding of {usd} USD"));
            }
            pay(treasury, usd, "substitution research")?;
            // Knowledge is not used up: every end use of the market gains from it.
            let mut lands = tick;
            for (i, usd_per_pct, lag) in targets {
                let share = (usd / (100.0 * usd_per_pct)).min(1.0);
                lands = tick + lag as u64;
                levers.research.push(ResearchProject {
                    adaptation: i,
                    share,
                    started_tick: tick,
                    lands_at_tick: lands,
                });
            }
            Ok((
                "substitution_research",
                format!(
                    "{who} funds {usd:.0} USD of research to substitute {mname}, landing at tick {lands}"
                ),
            ))
        }
        Lever::CapacitySubsidy { share, .. } => {
            if !(0.0..=1.0).contains(&share) {
                return Err(format!("capacity subsidy share {share} is outside [0, 1]"));
            }
            set(&mut levers.capacity_subsidy, share);
            Ok((
                "capacity_subsidy",
                format!("{who} pays {share} of the capital cost of new {mname} capacity"),
            ))
        }
        Lever::StockMandate { cover_ticks, .. } => {
            if !(cover_ticks >= 0.0 && cover_ticks.is_finite()) {
                return Err(format!("stock mandate of {cover_ticks} ticks"));
            }
            set(&mut levers.mandates, cover_ticks);
            levers.mandates_seen = true;
            Ok((
                "stock_mandate",
                format!("{who}: firms using {mname} must hold {cover_ticks} ticks of input"),
            ))
        }
    }
}

/// Scripted lever events due this tick, for each nation they name, in file order.
pub fn apply_lever_events(
    def: Res<WorldDef>,
    clock: Res<Clock>,
    index: Res<Index>,
    mut levers: ResMut<Levers>,
    mut record: ResMut<TickRecord>,
    mut treasuries: Query<&mut Treasury>,
) {
    let world = &def.0;
    while let Some(event) = world.adaptation.levers.get(levers.next_event) {
        if event.tick > clock.tick {
            break;
        }
        levers.next_event += 1;
        for &n in &event.nations {
            let mut treasury = treasuries
                .get_mut(index.nations[n.index()])
                .expect("nation entity");
            let row = match apply_lever(
                world,
                clock.tick,
                n,
                &event.lever,
                &mut levers,
                &mut treasury,
            ) {
                Ok((kind, detail)) => EventRow {
                    kind: kind.into(),
                    detail: if event.note.is_empty() {
                        detail
                    } else {
                        format!("{}: {detail}", event.note)
                    },
                },
                Err(why) => EventRow {
                    kind: "lever_rejected".into(),
                    detail: format!("{}: {why}", world.nations[n.index()].name),
                },
            };
            record.events.push(row);
        }
    }
}

/// Set each firm's mandated input reserve from the mandates in force: `cover` ticks of
/// its full-capacity use of each input, where its nation mandates that input.
pub fn apply_mandates(
    def: Res<WorldDef>,
    index: Res<Index>,
    levers: Res<Levers>,
    mut firms: Query<(&Firm, &Plant, &mut Stocks)>,
) {
    if !levers.mandates_seen {
        return;
    }
    let world = &def.0;
    for &e in &index.firms {
        let Ok((firm, plant, mut stocks)) = firms.get_mut(e) else {
            continue;
        };
        for (slot, &(input, ratio)) in world.markets[firm.market.index()].inputs.iter().enumerate()
        {
            let cover = levers
                .mandates
                .get(&(input, firm.nation))
                .copied()
                .unwrap_or(0.0);
            stocks.reserve_t[slot] = cover * ratio * plant.capacity_t_per_tick;
        }
    }
}
