//! Resources: the state of the run that is not owned by one entity.
//!
//! The world definition is shared read-only; policies are the mutable state that
//! strategies and the timeline change; the tick record is what one tick produced, to
//! be taken by whoever writes outputs (the engine writes no files).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bevy_ecs::prelude::*;
use chokepoint_world::{FirmId, Lever, Licence, MarketId, NationId};
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;

use crate::components::StableId;

/// The checked world this run was built from.
#[derive(Resource, Clone)]
pub struct WorldDef(pub Arc<chokepoint_world::World>);

/// The tick being run (0-based). One tick is `1 / ticks_per_year` of a year.
#[derive(Resource, Debug, Clone, Copy, Default)]
pub struct Clock {
    pub tick: u64,
}

/// Entities by id, in id order: the deterministic iteration order of every system.
#[derive(Resource, Debug, Clone, Default)]
pub struct Index {
    pub nations: Vec<Entity>,
    pub firms: Vec<Entity>,
    pub markets: Vec<Entity>,
    /// Firms of each market, in firm-id order.
    pub firms_by_market: Vec<Vec<FirmId>>,
    /// Firms that use each market as an input: (firm, input slot, tonnes per tonne).
    pub users_by_market: Vec<Vec<(FirmId, usize, f64)>>,
    /// End uses in each market: (nation, index in its `EndUse`).
    pub end_uses_by_market: Vec<Vec<(NationId, usize)>>,
    /// Stockpile entities by (market, owner).
    pub stockpiles: BTreeMap<(MarketId, NationId), Entity>,
    /// Firm names by id: the world file's firms, then capacity built during the run.
    pub firm_names: Vec<String>,
}

/// Seeded random streams. Every consumer of randomness asks for its own stream by
/// (stable id, purpose): the values it gets do not depend on who else drew what, so
/// agent order and thread count cannot change results.
#[derive(Resource, Debug, Clone, Copy)]
pub struct RngStreams {
    pub seed: u64,
}

impl RngStreams {
    pub fn stream(&self, id: StableId, purpose: &str) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(StableId::of(purpose, &id.0.to_string()).0);
        rng
    }
}

/// An export licence in force on one exporter-destination-market cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LicenceState {
    pub licence: Licence,
    /// First tick goods may move under a `Licensed` regime: the tick it was imposed
    /// plus its delay. Regimes in the world file's initial policies are already in
    /// force, so their licences have come through (0).
    pub opens_at_tick: u64,
}

/// Whether goods can move on an arc this tick, and how many.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ArcStatus {
    Closed,
    Open { quota_t: f64 },
}

/// Trade policies in force: ad valorem tariffs, export licences, price floors.
#[derive(Resource, Debug, Clone)]
pub struct Policies {
    nations: usize,
    /// `tariff[market][importer * nations + exporter]`, a fraction of the CIF value.
    tariff: Vec<Vec<f64>>,
    /// Per market, the (exporter, importer) pairs with a tariff: clearing lists only
    /// these (and other pairs policies touch) and leaves the rest to the route rule.
    tariffed: Vec<BTreeSet<(NationId, NationId)>>,
    licences: BTreeMap<(MarketId, NationId, NationId), LicenceState>,
    /// Licences in force per `market * nations + exporter`: lets clearing skip the
    /// licence look-up for the many exporters that have none.
    licence_count: Vec<u32>,
    /// Floors on the landed price of imports, by (market, importer), held by a variable
    /// levy `max(0, floor - landed)`.
    floors: BTreeMap<(MarketId, NationId), f64>,
}

impl Policies {
    pub fn new(nations: usize, markets: usize) -> Self {
        Policies {
            nations,
            tariff: vec![vec![0.0; nations * nations]; markets],
            tariffed: vec![BTreeSet::new(); markets],
            licences: BTreeMap::new(),
            licence_count: vec![0; markets * nations],
            floors: BTreeMap::new(),
        }
    }

    pub fn tariff(&self, market: MarketId, importer: NationId, exporter: NationId) -> f64 {
        self.tariff[market.index()][importer.index() * self.nations + exporter.index()]
    }

    pub fn set_tariff(
        &mut self,
        market: MarketId,
        importer: NationId,
        exporter: NationId,
        rate: f64,
    ) {
        if importer != exporter {
            self.tariff[market.index()][importer.index() * self.nations + exporter.index()] = rate;
            if rate != 0.0 {
                self.tariffed[market.index()].insert((exporter, importer));
            } else {
                self.tariffed[market.index()].remove(&(exporter, importer));
            }
        }
    }

    pub fn licence(
        &self,
        market: MarketId,
        exporter: NationId,
        destination: NationId,
    ) -> Option<&LicenceState> {
        self.licences.get(&(market, exporter, destination))
    }

    /// Set a licence regime imposed at `tick` (`None`: in force since before the run).
    /// Re-imposing the same regime changes nothing, so a licence requirement that is
    /// merely repeated does not restart its delay.
    pub fn set_licence(
        &mut self,
        market: MarketId,
        exporter: NationId,
        destination: NationId,
        licence: Licence,
        tick: Option<u64>,
    ) {
        if exporter == destination {
            return;
        }
        let key = (market, exporter, destination);
        let count = market.index() * self.nations + exporter.index();
        match licence {
            Licence::Open => {
                if self.licences.remove(&key).is_some() {
                    self.licence_count[count] -= 1;
                }
            }
            _ => {
                if self
                    .licences
                    .get(&key)
                    .is_some_and(|s| s.licence == licence)
                {
                    return;
                }
                let opens_at_tick = match (licence, tick) {
                    (Licence::Licensed { delay_ticks }, Some(t)) => t + delay_ticks as u64,
                    _ => 0,
                };
                if self
                    .licences
                    .insert(
                        key,
                        LicenceState {
                            licence,
                            opens_at_tick,
                        },
                    )
                    .is_none()
                {
                    self.licence_count[count] += 1;
                }
            }
        }
    }

    /// Whether `exporter` applies any licence in `market` (if not, every arc is open).
    pub fn has_licences(&self, market: MarketId, exporter: NationId) -> bool {
        self.licence_count[market.index() * self.nations + exporter.index()] > 0
    }

    pub fn arc_status(
        &self,
        market: MarketId,
        exporter: NationId,
        destination: NationId,
        tick: u64,
    ) -> ArcStatus {
        match self.licences.get(&(market, exporter, destination)) {
            None => ArcStatus::Open {
                quota_t: f64::INFINITY,
            },
            Some(s) => match s.licence {
                Licence::Open => ArcStatus::Open {
                    quota_t: f64::INFINITY,
                },
                Licence::Ban => ArcStatus::Closed,
                Licence::Quota { t_per_tick } => ArcStatus::Open {
                    quota_t: t_per_tick,
                },
                Licence::Licensed { .. } => {
                    if tick >= s.opens_at_tick {
                        ArcStatus::Open {
                            quota_t: f64::INFINITY,
                        }
                    } else {
                        ArcStatus::Closed
                    }
                }
            },
        }
    }

    /// The floor on imports into `importer` in `market` (None: no floor).
    /// (exporter, importer) pairs of `market` whose trade a tariff or a licence touches,
    /// and importers with a floor: what clearing must list arc by arc.
    pub fn touched(
        &self,
        market: MarketId,
    ) -> (
        impl Iterator<Item = (NationId, NationId)> + '_,
        impl Iterator<Item = NationId> + '_,
    ) {
        let pairs = self.tariffed[market.index()].iter().copied().chain(
            self.licences
                .range(
                    (market, NationId(0), NationId(0))
                        ..=(market, NationId(u32::MAX), NationId(u32::MAX)),
                )
                .map(|(&(_, x, d), _)| (x, d)),
        );
        let floored = self
            .floors
            .range((market, NationId(0))..=(market, NationId(u32::MAX)))
            .map(|(&(_, n), _)| n);
        (pairs, floored)
    }

    pub fn floor(&self, market: MarketId, importer: NationId) -> Option<f64> {
        self.floors.get(&(market, importer)).copied()
    }

    /// Set (or with 0, remove) a floor on imports into `importer`.
    pub fn set_floor(&mut self, market: MarketId, importer: NationId, floor_usd_per_t: f64) {
        if floor_usd_per_t > 0.0 {
            self.floors.insert((market, importer), floor_usd_per_t);
        } else {
            self.floors.remove(&(market, importer));
        }
    }

    pub fn floors(&self) -> impl Iterator<Item = (MarketId, NationId, f64)> + '_ {
        self.floors.iter().map(|(&(m, n), &f)| (m, n, f))
    }

    pub fn licences(
        &self,
    ) -> impl Iterator<Item = (&(MarketId, NationId, NationId), &LicenceState)> {
        self.licences.iter()
    }

    /// Non-zero tariffs: (market, importer, exporter, rate), in that order. (From the
    /// sparse set, not by scanning every market's n^2 cells: the state digest asks for
    /// them every tick.)
    pub fn tariffs(&self) -> impl Iterator<Item = (MarketId, NationId, NationId, f64)> + '_ {
        self.tariffed.iter().enumerate().flat_map(move |(m, set)| {
            let m = MarketId(m as u32);
            let mut cells: Vec<(NationId, NationId)> = set.iter().map(|&(x, i)| (i, x)).collect();
            cells.sort_unstable();
            cells
                .into_iter()
                .map(move |(i, x)| (m, i, x, self.tariff(m, i, x)))
        })
    }
}

/// What a strategy (through the host) asks of the engine for one nation.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyAction {
    /// The acting nation's tariff on imports from `exporter`.
    SetTariff {
        market: MarketId,
        exporter: NationId,
        rate: f64,
    },
    /// The acting nation's export licence towards `destination`.
    SetLicence {
        market: MarketId,
        destination: NationId,
        licence: Licence,
    },
    /// A floor on the landed price of the acting nation's imports (0 removes it).
    SetFloor {
        market: MarketId,
        floor_usd_per_t: f64,
    },
    /// Stockpile buys up to `t` this tick at prices up to `max_price`.
    StockpileBuy {
        market: MarketId,
        t: f64,
        max_price: f64,
    },
    /// Stockpile sells up to `t` this tick at prices from `min_price` up.
    StockpileRelease {
        market: MarketId,
        t: f64,
        min_price: f64,
    },
    /// Finance `t_per_year` of capacity in `host`, paying `usd_per_tpy` now; it comes
    /// online after the stage's build lag.
    Invest {
        market: MarketId,
        host: NationId,
        t_per_year: f64,
        usd_per_tpy: f64,
    },
    /// A negotiation move made in negotiation round `round` of the tick.
    Negotiate {
        round: u32,
        action: crate::negotiation::NegAction,
    },
    /// A lever on adaptation: subsidies, research, stockholding mandates
    /// (`levers::apply_lever`).
    Lever(Lever),
}

/// Actions submitted for this tick, applied in the Policies phase in submission order
/// (the host submits agents in nation-id order).
#[derive(Resource, Debug, Clone, Default)]
pub struct PendingActions(pub Vec<(NationId, PolicyAction)>);

/// This tick's stockpile orders by (market, owner).
#[derive(Resource, Debug, Clone, Default)]
pub struct StockpileOrders(pub BTreeMap<(MarketId, NationId), StockpileOrder>);

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StockpileOrder {
    pub buy_t: f64,
    pub max_price: f64,
    pub release_t: f64,
    pub min_price: f64,
}

/// Capacity under construction.
#[derive(Resource, Debug, Clone, Default)]
pub struct Pipeline(pub Vec<Project>);

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub market: MarketId,
    pub host: NationId,
    pub funder: NationId,
    pub capacity_t_per_tick: f64,
    pub arrives_at_tick: u64,
}

/// Position in the world file's timeline.
#[derive(Resource, Debug, Clone, Default)]
pub struct Timeline {
    pub next: usize,
}

/// Prices of the markets: this tick's and the last, per nation.
#[derive(Debug, Clone)]
pub struct MarketPrices {
    /// Price inside each nation this tick (None: nothing to buy and no demand).
    pub local: Vec<Option<f64>>,
    /// Price each nation's buyers paid at the FOB side, i.e. the exporter's price.
    pub supply: Vec<f64>,
    /// The price each nation's agents remember from the previous tick (reference price
    /// before the first tick, last known price where there was none).
    pub previous: Vec<f64>,
    /// Firms' expected price (adaptive expectations over `previous`).
    pub expected: Vec<f64>,
}

/// What one tick produced: the rows of the per-tick tables.
#[derive(Resource, Debug, Clone, Default)]
pub struct TickRecord {
    pub tick: u64,
    pub prices: Vec<PriceRow>,
    pub flows: Vec<FlowRow>,
    pub production: Vec<ProductionRow>,
    pub consumption: Vec<ConsumptionRow>,
    pub events: Vec<EventRow>,
    pub clearing: Vec<ClearingRow>,
    pub stockpiles: Vec<StockpileRow>,
    /// Negotiation moves processed this tick (tick and round kept apart).
    pub negotiation: Vec<crate::negotiation::RoundRow>,
    /// Agreements in force, or changed, this tick.
    pub agreements: Vec<crate::negotiation::enforce::AgreementRow>,
    /// Contracted deliveries, made before the spot market cleared.
    pub deliveries: Vec<crate::negotiation::enforce::DeliveryRow>,
    /// Adaptation outputs (see `adaptation`, `recycling`, `investment`).
    pub substitution: Vec<SubstitutionRow>,
    pub recycling: Vec<RecyclingRow>,
    pub pipeline: Vec<PipelineRow>,
}

impl TickRecord {
    pub fn clear(&mut self, tick: u64) {
        self.tick = tick;
        self.prices.clear();
        self.flows.clear();
        self.production.clear();
        self.consumption.clear();
        self.events.clear();
        self.clearing.clear();
        self.stockpiles.clear();
        self.negotiation.clear();
        self.agreements.clear();
        self.deliveries.clear();
        self.substitution.clear();
        self.recycling.clear();
        self.pipeline.clear();
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PriceRow {
    pub market: MarketId,
    pub nation: NationId,
    pub price_usd_per_t: f64,
}

/// Goods moving from one nation to another (or staying home when `from == to`).
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRow {
    pub market: MarketId,
    pub from: NationId,
    pub to: NationId,
    pub quantity_t: f64,
    pub landed_usd_per_t: f64,
    pub value_usd: f64,
    pub tariff_usd: f64,
    pub levy_usd: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProductionRow {
    pub firm: FirmId,
    pub market: MarketId,
    pub nation: NationId,
    pub capacity_t: f64,
    pub input_limited_capacity_t: f64,
    pub produced_t: f64,
    pub sold_from_stock_t: f64,
}

/// Who consumed in a market: end users of a nation, or a firm buying its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Consumer {
    EndUse { nation: NationId, index: usize },
    Firm(FirmId),
    Stockpile(NationId),
}

/// What a consumer wanted at last tick's price and what it obtained; the difference is
/// its shortage.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumptionRow {
    pub market: MarketId,
    pub nation: NationId,
    pub consumer: Consumer,
    pub wanted_t: f64,
    pub obtained_t: f64,
}

impl ConsumptionRow {
    pub fn shortage_t(&self) -> f64 {
        (self.wanted_t - self.obtained_t).max(0.0)
    }
}

/// A stockpile's trades this tick.
#[derive(Debug, Clone, PartialEq)]
pub struct StockpileRow {
    pub market: MarketId,
    pub owner: NationId,
    pub bought_t: f64,
    pub sold_t: f64,
    pub holdings_t: f64,
    pub spent_usd: f64,
    pub earned_usd: f64,
}

/// An adapting end use after this tick: how much of its demand has been substituted.
#[derive(Debug, Clone, PartialEq)]
pub struct SubstitutionRow {
    pub market: MarketId,
    pub nation: NationId,
    /// Index in the nation's end uses.
    pub end_use: usize,
    pub price_usd_per_t: f64,
    /// Share of the short-run demand curve substituted away (`1 - adapted`).
    pub substitution_share: f64,
    /// Long-run target share at this price.
    pub target_share: f64,
    /// Substitution that stays when prices fall (hysteresis and research).
    pub permanent_share: f64,
}

/// A recycling stream in one nation this tick.
#[derive(Debug, Clone, PartialEq)]
pub struct RecyclingRow {
    /// The market recycled output supplies.
    pub market: MarketId,
    pub nation: NationId,
    /// End-of-life products arising this tick, tonnes.
    pub scrap_arising_t: f64,
    pub collected_t: f64,
    /// Recycled output made this tick (scrap used x yield).
    pub recycled_t: f64,
    /// Recycled output sold this tick.
    pub recycled_sold_t: f64,
    /// All the nation's firms sold in this market (recycled included).
    pub supply_t: f64,
    pub scrap_stock_t: f64,
    pub subsidy_usd: f64,
}

/// Capacity under construction after this tick, one row per project.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineRow {
    pub market: MarketId,
    pub nation: NationId,
    /// Who pays: the firm that expands, or a nation's financing.
    pub firm: Option<FirmId>,
    pub funder: NationId,
    pub kind: &'static str,
    pub capacity_t: f64,
    pub started_tick: u64,
    pub arrives_at_tick: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub kind: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClearingRow {
    pub market: MarketId,
    pub sweeps: u32,
    pub converged: bool,
    pub residual: f64,
}

/// The first error of the tick; later systems skip once it is set.
#[derive(Resource, Debug, Default)]
pub struct Fault(pub Option<crate::EngineError>);
