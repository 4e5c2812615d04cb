//! A safe, typed view of what the engine shows a nation each tick.
//!
//! The engine lays the observation out as borrowed `#[repr(C)]` arrays valid for one
//! `decide` call; this wrapper turns them into slices and typed ids, and offers the
//! questions strategies ask (a price, a supply share, a tariff in force) as methods.
//! Price, production and shortage arrays are sorted by (market, nation), so look-ups
//! are binary searches.

use chokepoint_abi as abi;

use crate::actions::Licence;

/// A nation, by the engine's index (nations in name order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NationId(pub u32);

/// A market (one commodity at one stage), by the engine's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MarketId(pub u32);

/// Last tick's shipment from one nation to another (domestic when `from == to`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flow {
    pub market: MarketId,
    pub from: NationId,
    pub to: NationId,
    pub quantity_t: f64,
    pub landed_usd_per_t: f64,
}

/// One of my firms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Firm {
    pub market: MarketId,
    pub capacity_t: f64,
    pub produced_t: f64,
    pub stock_t: f64,
}

/// My stockpile in one market.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stockpile {
    pub market: MarketId,
    pub holdings_t: f64,
    pub budget_usd: f64,
}

/// Capacity under construction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pipeline {
    pub market: MarketId,
    pub host: NationId,
    pub funder: NationId,
    /// Tonnes per **tick** once online (`Actions::invest` takes tonnes per year).
    pub capacity_t: f64,
    pub arrives_at_tick: u64,
    /// Who builds it (`abi::pipeline::FINANCED`, `FIRM` or `RECYCLING`).
    pub kind: u32,
    /// The expanding firm's id, for a firm's own project.
    pub firm: Option<u32>,
    pub started_tick: u64,
}

pub struct Observation<'a> {
    raw: &'a abi::Observation,
    nations: &'a [abi::NationInfo],
    markets: &'a [abi::MarketInfo],
    prices: &'a [abi::PriceObs],
    flows: &'a [abi::FlowObs],
    production: &'a [abi::ProductionObs],
    shortages: &'a [abi::ShortageObs],
    tariffs: &'a [abi::TariffObs],
    licences: &'a [abi::LicenceObs],
    floors: &'a [abi::FloorObs],
    firms: &'a [abi::FirmObs],
    stockpiles: &'a [abi::StockpileObs],
    pipeline: &'a [abi::PipelineObs],
}

fn text<'a>(s: abi::Str) -> &'a str {
    // SAFETY: the engine's strings are valid for the observation's lifetime `'a`, which
    // every caller ties the result to.
    let bytes = unsafe { s.as_slice() };
    std::str::from_utf8(bytes).unwrap_or("")
}

impl<'a> Observation<'a> {
    /// # Safety
    /// Every view in `raw` must be valid for `'a`, as the engine guarantees during a
    /// `decide` call.
    #[doc(hidden)]
    pub unsafe fn from_raw(raw: &'a abi::Observation) -> Self {
        // SAFETY: guaranteed by the caller.
        unsafe {
            Observation {
                raw,
                nations: raw.nations.as_slice(),
                markets: raw.markets.as_slice(),
                prices: raw.prices.as_slice(),
                flows: raw.flows.as_slice(),
                production: raw.production.as_slice(),
                shortages: raw.shortages.as_slice(),
                tariffs: raw.tariffs.as_slice(),
                licences: raw.licences.as_slice(),
                floors: raw.floors.as_slice(),
                firms: raw.firms.as_slice(),
                stockpiles: raw.stockpiles.as_slice(),
                pipeline: raw.pipeline.as_slice(),
            }
        }
    }

    pub fn tick(&self) -> u64 {
        self.raw.tick
    }
    pub fn ticks_per_year(&self) -> u32 {
        self.raw.ticks_per_year
    }
    /// The nation I play.
    pub fn me(&self) -> NationId {
        NationId(self.raw.me)
    }
    /// My budget (USD) for stockpiles and investment.
    pub fn budget_usd(&self) -> f64 {
        self.raw.budget_usd
    }

    pub fn nations(&self) -> impl Iterator<Item = NationId> + '_ {
        (0..self.nations.len() as u32).map(NationId)
    }
    pub fn nation_name(&self, n: NationId) -> &str {
        self.nations
            .get(n.0 as usize)
            .map(|i| text(i.name))
            .unwrap_or("")
    }
    pub fn region(&self, n: NationId) -> &str {
        self.nations
            .get(n.0 as usize)
            .map(|i| text(i.region))
            .unwrap_or("")
    }
    pub fn nation_id(&self, name: &str) -> Option<NationId> {
        self.nations
            .iter()
            .position(|i| text(i.name) == name)
            .map(|i| NationId(i as u32))
    }

    pub fn markets(&self) -> impl Iterator<Item = MarketId> + '_ {
        (0..self.markets.len() as u32).map(MarketId)
    }
    pub fn commodity(&self, m: MarketId) -> &str {
        self.markets
            .get(m.0 as usize)
            .map(|i| text(i.commodity))
            .unwrap_or("")
    }
    pub fn stage(&self, m: MarketId) -> &str {
        self.markets
            .get(m.0 as usize)
            .map(|i| text(i.stage))
            .unwrap_or("")
    }
    pub fn market_id(&self, commodity: &str, stage: &str) -> Option<MarketId> {
        self.markets
            .iter()
            .position(|i| text(i.commodity) == commodity && text(i.stage) == stage)
            .map(|i| MarketId(i as u32))
    }
    pub fn reference_price(&self, m: MarketId) -> f64 {
        self.markets
            .get(m.0 as usize)
            .map(|i| i.reference_price_usd_per_t)
            .unwrap_or(0.0)
    }
    pub fn build_lag_ticks(&self, m: MarketId) -> u32 {
        self.markets
            .get(m.0 as usize)
            .map(|i| i.build_lag_ticks)
            .unwrap_or(0)
    }

    /// Last tick's price inside nation `n` (None if it had none).
    pub fn price(&self, m: MarketId, n: NationId) -> Option<f64> {
        self.prices
            .binary_search_by_key(&(m.0, n.0), |p| (p.market, p.nation))
            .ok()
            .map(|i| self.prices[i].price_usd_per_t)
    }

    /// Last tick's flows.
    pub fn flows(&self) -> impl Iterator<Item = Flow> + '_ {
        self.flows.iter().map(|f| Flow {
            market: MarketId(f.market),
            from: NationId(f.from),
            to: NationId(f.to),
            quantity_t: f.quantity_t,
            landed_usd_per_t: f.landed_usd_per_t,
        })
    }
    /// What `n` imported in `m` last tick, from everyone else.
    pub fn imports(&self, m: MarketId, n: NationId) -> f64 {
        self.flows()
            .filter(|f| f.market == m && f.to == n && f.from != n)
            .map(|f| f.quantity_t)
            .sum()
    }
    /// What `to` received from `from` in `m` last tick.
    pub fn flow(&self, m: MarketId, from: NationId, to: NationId) -> f64 {
        self.flows()
            .filter(|f| f.market == m && f.from == from && f.to == to)
            .map(|f| f.quantity_t)
            .sum()
    }

    /// Last tick's output of nation `n` in `m`.
    pub fn production(&self, m: MarketId, n: NationId) -> f64 {
        self.production
            .binary_search_by_key(&(m.0, n.0), |p| (p.market, p.nation))
            .ok()
            .map(|i| self.production[i].produced_t)
            .unwrap_or(0.0)
    }
    /// Capacity of nation `n` in `m`.
    pub fn capacity(&self, m: MarketId, n: NationId) -> f64 {
        self.production
            .binary_search_by_key(&(m.0, n.0), |p| (p.market, p.nation))
            .ok()
            .map(|i| self.production[i].capacity_t)
            .unwrap_or(0.0)
    }
    /// World output in `m` last tick.
    pub fn world_production(&self, m: MarketId) -> f64 {
        self.production
            .iter()
            .filter(|p| p.market == m.0)
            .map(|p| p.produced_t)
            .sum()
    }
    /// Nation `n`'s share of world output in `m` (0 when nothing was made).
    pub fn supply_share(&self, m: MarketId, n: NationId) -> f64 {
        let w = self.world_production(m);
        if w > 0.0 {
            self.production(m, n) / w
        } else {
            0.0
        }
    }
    /// Nation `n`'s shortage in `m` last tick.
    pub fn shortage(&self, m: MarketId, n: NationId) -> f64 {
        self.shortages
            .binary_search_by_key(&(m.0, n.0), |p| (p.market, p.nation))
            .ok()
            .map(|i| self.shortages[i].shortage_t)
            .unwrap_or(0.0)
    }

    /// The tariff `importer` levies on `exporter` in `m`.
    pub fn tariff(&self, m: MarketId, importer: NationId, exporter: NationId) -> f64 {
        self.tariffs
            .iter()
            .find(|t| t.market == m.0 && t.importer == importer.0 && t.exporter == exporter.0)
            .map(|t| t.rate)
            .unwrap_or(0.0)
    }
    /// The export licence `exporter` applies to `destination` in `m`.
    pub fn licence(&self, m: MarketId, exporter: NationId, destination: NationId) -> Licence {
        self.licences
            .iter()
            .find(|l| l.market == m.0 && l.exporter == exporter.0 && l.destination == destination.0)
            .map(|l| Licence::from_raw(l.kind, l.quota_t, l.delay_ticks))
            .unwrap_or(Licence::Open)
    }
    /// The floor on imports into `importer` in `m`, if any.
    pub fn floor(&self, m: MarketId, importer: NationId) -> Option<f64> {
        self.floors
            .iter()
            .find(|f| f.market == m.0 && f.importer == importer.0)
            .map(|f| f.floor_usd_per_t)
    }

    /// My firms.
    pub fn firms(&self) -> impl Iterator<Item = Firm> + '_ {
        self.firms.iter().map(|f| Firm {
            market: MarketId(f.market),
            capacity_t: f.capacity_t,
            produced_t: f.produced_t,
            stock_t: f.stock_t,
        })
    }
    /// My stockpile in `m`, if I have one.
    pub fn stockpile(&self, m: MarketId) -> Option<Stockpile> {
        self.stockpiles
            .iter()
            .find(|s| s.market == m.0)
            .map(|s| Stockpile {
                market: m,
                holdings_t: s.holdings_t,
                budget_usd: s.budget_usd,
            })
    }
    pub fn stockpiles(&self) -> impl Iterator<Item = Stockpile> + '_ {
        self.stockpiles.iter().map(|s| Stockpile {
            market: MarketId(s.market),
            holdings_t: s.holdings_t,
            budget_usd: s.budget_usd,
        })
    }
    /// Capacity under construction everywhere.
    pub fn pipeline(&self) -> impl Iterator<Item = Pipeline> + '_ {
        self.pipeline.iter().map(|p| Pipeline {
            market: MarketId(p.market),
            host: NationId(p.nation),
            funder: NationId(p.funder),
            capacity_t: p.capacity_t,
            arrives_at_tick: p.arrives_at_tick,
            kind: p.kind,
            firm: (p.firm != abi::pipeline::NO_FIRM).then_some(p.firm),
            started_tick: p.started_tick,
        })
    }
}
