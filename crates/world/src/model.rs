//! The checked world: what the engine builds its ECS world from.
//!
//! Ids are dense indices in name order (nations, firms, commodities) or in
//! commodity-then-stage order (markets), so the same file always gives the same ids
//! and iteration in id order is deterministic. Quantities are per tick here: the file
//! speaks in tonnes per year because that is how sources publish them, and the
//! conversion happens once, in validation.

use crate::error::SourceText;

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id_type!(
    /// A nation, by its index in name order.
    NationId
);
id_type!(
    /// A firm, by its index in name order.
    FirmId
);
id_type!(
    /// A commodity, by its index in name order.
    CommodityId
);
id_type!(
    /// A market: one commodity at one production stage.
    MarketId
);

#[derive(Debug, Clone)]
pub struct World {
    pub name: String,
    pub description: String,
    pub ticks_per_year: u32,
    /// Weight of the latest price in firms' price expectations (adaptive expectations:
    /// `E' = E + w (p - E)`). Firms plan input purchases on expected output prices; a
    /// weight of 1 (naive expectations) makes vertical chains cobweb.
    pub expectation_weight: f64,
    pub source: SourceText,
    /// BLAKE3 of the world file's bytes, hex.
    pub hash: String,
    pub commodities: Vec<Commodity>,
    pub markets: Vec<MarketDef>,
    pub regions: Vec<String>,
    pub nations: Vec<Nation>,
    pub firms: Vec<Firm>,
    pub trade: TradeCosts,
    pub tariffs: Vec<TariffRule>,
    pub licences: Vec<LicenceRule>,
    pub events: Vec<Event>,
    /// Adaptation over time: demand that adjusts, recycling, firms' investment and the
    /// levers that act on them (all optional in the file; empty keeps the static model).
    pub adaptation: AdaptationDef,
}

#[derive(Debug, Clone)]
pub struct Commodity {
    pub name: String,
    pub unit: String,
    /// Markets of this commodity, upstream before downstream (a topological order of
    /// the stage graph).
    pub markets: Vec<MarketId>,
}

/// Upper bound on the inputs of one stage, so firms can keep input stocks inline.
pub const MAX_INPUTS_PER_STAGE: usize = 4;

#[derive(Debug, Clone)]
pub struct MarketDef {
    pub commodity: CommodityId,
    pub stage: String,
    pub reference_price_usd_per_t: f64,
    /// Inputs from upstream markets of the same commodity: (market, tonnes per tonne).
    pub inputs: Vec<(MarketId, f64)>,
    pub build_lag_ticks: u32,
}

#[derive(Debug, Clone)]
pub struct Nation {
    pub name: String,
    pub region: usize,
    pub budget_usd: f64,
    pub demand: Vec<EndUseDemand>,
    pub strategy: Option<StrategyBinding>,
}

#[derive(Debug, Clone)]
pub struct StrategyBinding {
    pub name: String,
    /// Parameters as TOML text, passed verbatim to the strategy at creation.
    pub params_toml: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DemandForm {
    /// D(p) = Q0 * (1 + e - e p / P0), cut at zero: point elasticity e at the reference.
    Linear,
    /// D(p) = Q0 * (p / P0)^(-e).
    Isoelastic,
}

#[derive(Debug, Clone)]
pub struct EndUseDemand {
    pub market: MarketId,
    pub end_use: String,
    pub reference_price_usd_per_t: f64,
    pub reference_quantity_t_per_tick: f64,
    pub elasticity: f64,
    pub form: DemandForm,
}

#[derive(Debug, Clone)]
pub struct Firm {
    pub name: String,
    pub nation: NationId,
    pub market: MarketId,
    pub capacity_t_per_tick: f64,
    pub mc_at_zero_usd_per_t: f64,
    pub mc_at_capacity_usd_per_t: f64,
    pub inventory_t: f64,
}

#[derive(Debug, Clone)]
pub struct TradeCosts {
    pub default_usd_per_t: f64,
    /// Directed overrides in file order (later wins): from, to, commodity (None = all).
    pub overrides: Vec<TradeCostRule>,
}

#[derive(Debug, Clone)]
pub struct TradeCostRule {
    pub from: Vec<NationId>,
    pub to: Vec<NationId>,
    pub commodity: Option<CommodityId>,
    pub usd_per_t: f64,
}

#[derive(Debug, Clone)]
pub struct TariffRule {
    pub importers: Vec<NationId>,
    pub exporters: Vec<NationId>,
    pub markets: Vec<MarketId>,
    pub rate: f64,
}

/// An export licence regime on one exporter-destination-market cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Licence {
    /// No control: goods ship freely.
    Open,
    /// No exports at all.
    Ban,
    /// At most this many tonnes per tick.
    Quota { t_per_tick: f64 },
    /// Each shipment needs a licence that takes this many ticks to be granted: after the
    /// regime starts, the arc carries nothing until the first licences come through.
    Licensed { delay_ticks: u32 },
}

#[derive(Debug, Clone)]
pub struct LicenceRule {
    pub exporters: Vec<NationId>,
    pub destinations: Vec<NationId>,
    pub markets: Vec<MarketId>,
    pub licence: Licence,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub tick: u64,
    pub note: String,
    pub action: EventAction,
}

#[derive(Debug, Clone)]
pub enum EventAction {
    SetTariff(TariffRule),
    SetLicence(LicenceRule),
    /// Multiply the capacity of these firms by `factor`.
    CapacityShock {
        firms: Vec<FirmId>,
        factor: f64,
    },
    /// Multiply the end-use demand of these nations in these markets by `factor`.
    DemandShock {
        nations: Vec<NationId>,
        markets: Vec<MarketId>,
        factor: f64,
    },
}

impl World {
    pub fn nation_id(&self, name: &str) -> Option<NationId> {
        self.nations
            .iter()
            .position(|n| n.name == name)
            .map(|i| NationId(i as u32))
    }
    pub fn commodity_id(&self, name: &str) -> Option<CommodityId> {
        self.commodities
            .iter()
            .position(|c| c.name == name)
            .map(|i| CommodityId(i as u32))
    }
    pub fn market_id(&self, commodity: &str, stage: &str) -> Option<MarketId> {
        let c = self.commodity_id(commodity)?;
        self.markets
            .iter()
            .position(|m| m.commodity == c && m.stage == stage)
            .map(|i| MarketId(i as u32))
    }
    /// "commodity/stage", the name a market goes by in outputs.
    pub fn market_name(&self, m: MarketId) -> String {
        let def = &self.markets[m.index()];
        format!(
            "{}/{}",
            self.commodities[def.commodity.index()].name,
            def.stage
        )
    }
    /// [`trade_cost`](Self::trade_cost) of every (commodity, exporter, importer), as
    /// `[commodity][from * nations + to]`, filled rule by rule (the last matching rule
    /// wins, as there) rather than by searching the rules for each cell: engines build
    /// it once per simulation, and a simulation is built for every run, seek and
    /// snapshot check.
    pub fn trade_cost_tables(&self) -> Vec<Vec<f64>> {
        let n = self.nations.len();
        let mut base = vec![self.trade.default_usd_per_t; n * n];
        for k in 0..n {
            base[k * n + k] = 0.0;
        }
        let mut tables = vec![base; self.commodities.len()];
        for rule in &self.trade.overrides {
            for (c, t) in tables.iter_mut().enumerate() {
                if rule.commodity.is_some_and(|rc| rc.index() != c) {
                    continue;
                }
                for from in &rule.from {
                    for to in &rule.to {
                        let (j, i) = (from.index(), to.index());
                        if j != i && j < n && i < n {
                            t[j * n + i] = rule.usd_per_t;
                        }
                    }
                }
            }
        }
        tables
    }

    /// Trade cost from one nation to another for a commodity: the last matching
    /// override in file order, else the default. Zero within a nation.
    pub fn trade_cost(&self, from: NationId, to: NationId, commodity: CommodityId) -> f64 {
        if from == to {
            return 0.0;
        }
        self.trade
            .overrides
            .iter()
            .rev()
            .find(|r| {
                r.commodity.is_none_or(|c| c == commodity)
                    && r.from.contains(&from)
                    && r.to.contains(&to)
            })
            .map(|r| r.usd_per_t)
            .unwrap_or(self.trade.default_usd_per_t)
    }
}

/// Everything that lets a world adapt over time. Kept apart from the static model so a
/// world without these tables is exactly the world it was before.
#[derive(Debug, Clone, Default)]
pub struct AdaptationDef {
    /// End uses whose demand adjusts over time, in (nation, demand index) order.
    pub demand: Vec<DemandAdaptation>,
    /// Scrap streams: consumption of one stage returning as supply of another.
    pub recycling: Vec<RecyclingStream>,
    /// Recycling plants in the world file, in name order.
    pub recyclers: Vec<RecyclerDef>,
    /// Stages where firms invest by the engine's rule, by market.
    pub investment: Vec<StageInvestment>,
    /// Scripted levers (subsidies, research, mandates) in tick order.
    pub levers: Vec<LeverEvent>,
}

/// Partial adjustment of one end use towards its long-run demand.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandAdaptation {
    pub nation: NationId,
    /// Index in the nation's `demand`.
    pub index: usize,
    pub long_run_elasticity: f64,
    /// Half-life of the gap to the long-run demand, in ticks (> 0).
    pub half_life_ticks: f64,
    /// Share of substitution adopted during a spike that stays when prices fall (0..=1).
    pub hysteresis: f64,
    /// USD that substitutes away 1% of this end use's reference demand (research lever).
    pub research_usd_per_pct: Option<f64>,
    pub research_lag_ticks: u32,
}

impl DemandAdaptation {
    /// Share of the gap closed per tick: `1 - 2^(-1/half_life)`.
    pub fn adjustment_rate(&self) -> f64 {
        1.0 - (-std::f64::consts::LN_2 / self.half_life_ticks).exp()
    }
}

/// Consumption of `from` returning as scrap after a product lifetime, collected and
/// recycled into supply of `to`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecyclingStream {
    pub from: MarketId,
    pub to: MarketId,
    pub collection_rate: f64,
    /// Tonnes of output per tonne of collected scrap.
    pub yield_: f64,
    /// `lifetime[k]`: share of a tick's consumption that reaches end of life k + 1 ticks
    /// later. Sums to 1.
    pub lifetime: Vec<f64>,
    pub build_lag_ticks: u32,
    /// Cost curve of recycling capacity built during the run (financed by a lever).
    pub new_plant_mc_at_zero_usd_per_t: f64,
    pub new_plant_mc_at_capacity_usd_per_t: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecyclerDef {
    pub name: String,
    pub nation: NationId,
    /// Index in `AdaptationDef::recycling`.
    pub stream: usize,
    pub capacity_t_per_tick: f64,
    pub mc_at_zero_usd_per_t: f64,
    pub mc_at_capacity_usd_per_t: f64,
}

/// The engine's investment rule for one stage: firms expand when the expected price
/// covers full cost (operating cost plus capital cost over the payback period).
#[derive(Debug, Clone, PartialEq)]
pub struct StageInvestment {
    pub market: MarketId,
    pub capex_usd_per_tpy: f64,
    pub payback_years: f64,
    /// New capacity per decision, as a share of the firm's capacity.
    pub expansion_share: f64,
}

/// A strategy lever: a policy whose cost falls now and whose effect comes later.
#[derive(Debug, Clone, PartialEq)]
pub enum Lever {
    /// Pay `usd_per_t` per tonne recycled into `market` in the acting nation (0 ends it).
    RecyclingSubsidy { market: MarketId, usd_per_t: f64 },
    /// Finance recycling capacity into `market` in the acting nation; online after the
    /// stream's build lag.
    FundRecycling {
        market: MarketId,
        t_per_year: f64,
        usd_per_tpy: f64,
    },
    /// Fund substitution research for the acting nation's end uses of `market`: after
    /// the research lag, `usd / research_usd_per_pct` percent of demand is substituted
    /// for good.
    FundSubstitution { market: MarketId, usd: f64 },
    /// Pay `share` of the capital cost of firms' new capacity in `market` in the acting
    /// nation (0 ends it).
    CapacitySubsidy { market: MarketId, share: f64 },
    /// Firms in the acting nation that use `market` as an input must hold at least
    /// `cover_ticks` ticks of their full-capacity use of it (0 ends it).
    StockMandate { market: MarketId, cover_ticks: f64 },
}

#[derive(Debug, Clone)]
pub struct LeverEvent {
    pub tick: u64,
    pub note: String,
    pub nations: Vec<NationId>,
    pub lever: Lever,
}
