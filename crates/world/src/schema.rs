//! The world file as written: serde types that mirror the TOML one to one.
//!
//! Every name, reference and number that validation may reject is wrapped in
//! [`Spanned`] so the error can point at it. Nothing here is checked beyond what
//! serde checks (types, missing and unknown fields); `validate` turns these raw
//! types into the checked [`crate::World`]. Keeping the two apart means the engine
//! never sees an unchecked value, and the file format can change without the
//! engine noticing.

use serde::Deserialize;
use toml::Spanned;

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorld {
    pub world: S<RawMeta>,
    #[serde(default, rename = "commodity")]
    pub commodities: Vec<RawCommodity>,
    #[serde(default, rename = "nation")]
    pub nations: Vec<RawNation>,
    #[serde(default, rename = "firm")]
    pub firms: Vec<RawFirm>,
    #[serde(default)]
    pub trade: RawTrade,
    #[serde(default, rename = "tariff")]
    pub tariffs: Vec<RawTariff>,
    #[serde(default, rename = "licence")]
    pub licences: Vec<RawLicence>,
    #[serde(default, rename = "event")]
    pub events: Vec<RawEvent>,
    #[serde(default)]
    pub recycling: Vec<RawRecycling>,
    #[serde(default, rename = "recycler")]
    pub recyclers: Vec<RawRecycler>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    pub name: S<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub ticks_per_year: Option<S<i64>>,
    #[serde(default)]
    pub expectation_weight: Option<S<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCommodity {
    pub name: S<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "documentation for readers of the world file; accepted, not used"
    )]
    pub description: Option<String>,
    #[serde(rename = "stage")]
    pub stages: S<Vec<RawStage>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub name: S<String>,
    pub reference_price_usd_per_t: S<f64>,
    #[serde(default)]
    pub inputs: Vec<RawInput>,
    #[serde(default)]
    pub build_lag_ticks: Option<S<i64>>,
    #[serde(default)]
    pub capex_usd_per_tpy: Option<S<f64>>,
    #[serde(default)]
    pub payback_years: Option<S<f64>>,
    #[serde(default)]
    pub expansion_share: Option<S<f64>>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "documentation for readers of the world file; accepted, not used"
    )]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInput {
    pub stage: S<String>,
    /// Tonnes of the input stage used per tonne of output.
    pub ratio: S<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNation {
    pub name: S<String>,
    pub region: S<String>,
    #[serde(default)]
    pub budget_usd: Option<S<f64>>,
    #[serde(default)]
    pub demand: Vec<RawDemand>,
    #[serde(default)]
    pub strategy: Option<S<String>>,
    #[serde(default)]
    pub params: Option<S<toml::Table>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDemand {
    pub commodity: S<String>,
    pub stage: S<String>,
    pub reference_price_usd_per_t: S<f64>,
    pub reference_quantity_tpy: S<f64>,
    pub elasticity: S<f64>,
    #[serde(default)]
    pub form: Option<S<String>>,
    #[serde(default)]
    pub end_use: Option<String>,
    #[serde(default)]
    pub long_run_elasticity: Option<S<f64>>,
    #[serde(default)]
    pub adjustment_half_life_years: Option<S<f64>>,
    #[serde(default)]
    pub hysteresis: Option<S<f64>>,
    #[serde(default)]
    pub research_usd_per_pct: Option<S<f64>>,
    #[serde(default)]
    pub research_lag_years: Option<S<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFirm {
    pub name: S<String>,
    pub nation: S<String>,
    pub commodity: S<String>,
    pub stage: S<String>,
    pub capacity_tpy: S<f64>,
    pub marginal_cost: S<RawCost>,
    #[serde(default)]
    pub inventory_t: Option<S<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCost {
    pub at_zero_usd_per_t: S<f64>,
    pub at_capacity_usd_per_t: S<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrade {
    #[serde(default)]
    pub default_usd_per_t: Option<S<f64>>,
    #[serde(default, rename = "cost")]
    pub costs: Vec<RawTradeCost>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTradeCost {
    pub from: S<String>,
    pub to: S<String>,
    pub usd_per_t: S<f64>,
    #[serde(default)]
    pub commodity: Option<S<String>>,
    #[serde(default)]
    pub symmetric: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTariff {
    pub importer: S<String>,
    pub exporter: S<String>,
    pub commodity: S<String>,
    #[serde(default)]
    pub stage: Option<S<String>>,
    pub rate: S<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLicence {
    pub exporter: S<String>,
    pub destination: S<String>,
    pub commodity: S<String>,
    #[serde(default)]
    pub stage: Option<S<String>>,
    pub kind: S<String>,
    #[serde(default)]
    pub quota_tpy: Option<S<f64>>,
    #[serde(default)]
    pub delay_ticks: Option<S<i64>>,
}

/// A scripted event. One flat table rather than a tagged enum: serde's internally
/// tagged enums buffer their input and lose the spans errors need, and a flat table
/// lets validation say exactly which field a given `kind` is missing.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    pub tick: S<i64>,
    pub kind: S<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub importer: Option<S<String>>,
    #[serde(default)]
    pub exporter: Option<S<String>>,
    #[serde(default)]
    pub destination: Option<S<String>>,
    #[serde(default)]
    pub nation: Option<S<String>>,
    #[serde(default)]
    pub firm: Option<S<String>>,
    #[serde(default)]
    pub commodity: Option<S<String>>,
    #[serde(default)]
    pub stage: Option<S<String>>,
    #[serde(default)]
    pub rate: Option<S<f64>>,
    #[serde(default)]
    pub licence: Option<S<String>>,
    #[serde(default)]
    pub quota_tpy: Option<S<f64>>,
    #[serde(default)]
    pub delay_ticks: Option<S<i64>>,
    #[serde(default)]
    pub factor: Option<S<f64>>,
    #[serde(default)]
    pub usd_per_t: Option<S<f64>>,
    #[serde(default)]
    pub usd: Option<S<f64>>,
    #[serde(default)]
    pub capacity_tpy: Option<S<f64>>,
    #[serde(default)]
    pub usd_per_tpy: Option<S<f64>>,
    #[serde(default)]
    pub share: Option<S<f64>>,
    #[serde(default)]
    pub cover_ticks: Option<S<f64>>,
}

/// A scrap stream: end-use consumption of `from_stage` comes back after a product
/// lifetime and is recycled into supply of `to_stage`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecycling {
    pub commodity: S<String>,
    pub from_stage: S<String>,
    pub to_stage: S<String>,
    pub collection_rate: S<f64>,
    #[serde(rename = "yield")]
    pub yield_: S<f64>,
    pub lifetime: S<RawLifetime>,
    #[serde(default)]
    pub build_lag_ticks: Option<S<i64>>,
    #[serde(default)]
    pub new_plant_marginal_cost: Option<S<RawCost>>,
}

/// A product lifetime distribution: `discrete` (years with shares) or `weibull`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLifetime {
    pub family: S<String>,
    #[serde(default)]
    pub years: Option<S<Vec<S<f64>>>>,
    #[serde(default)]
    pub shares: Option<S<Vec<S<f64>>>>,
    #[serde(default)]
    pub shape: Option<S<f64>>,
    #[serde(default)]
    pub scale_years: Option<S<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecycler {
    pub name: S<String>,
    pub nation: S<String>,
    pub commodity: S<String>,
    pub stage: S<String>,
    pub capacity_tpy: S<f64>,
    pub marginal_cost: S<RawCost>,
}
