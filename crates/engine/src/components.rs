//! Components of the three kinds of entity: nations, firms and markets.
//!
//! Components carry model state only (no serde, no file formats): the log crate keeps
//! its own versioned mirror types, so the ECS layout can change without breaking logs.

use bevy_ecs::prelude::*;
use chokepoint_world::{FirmId, MAX_INPUTS_PER_STAGE, MarketId, NationId};

/// A run-independent id derived from the entity's kind and name. `Entity` ids are not
/// stable across runs; this is, so it keys RNG streams, digests and logs.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StableId(pub u64);

impl StableId {
    pub fn of(kind: &str, name: &str) -> Self {
        let mut h = blake3::Hasher::new();
        h.update(kind.as_bytes());
        h.update(&[0]);
        h.update(name.as_bytes());
        let bytes = h.finalize();
        StableId(u64::from_le_bytes(
            bytes.as_bytes()[..8].try_into().expect("8 bytes"),
        ))
    }
}

/// A nation: its demand and its treasury.
#[derive(Component, Debug, Clone)]
pub struct Nation {
    pub id: NationId,
}

/// End-use demand of a nation, one entry per (market, end use) in the world file.
#[derive(Component, Debug, Clone, Default)]
pub struct EndUse {
    pub demands: Vec<EndUseState>,
}

#[derive(Debug, Clone)]
pub struct EndUseState {
    pub def: chokepoint_world::EndUseDemand,
    /// Multiplier from demand shocks (1 = as in the world file).
    pub factor: f64,
    /// What end users obtained this tick, tonnes.
    pub consumed_t: f64,
    /// Demand left after substitution, as a share of the short-run curve (1: none;
    /// moved by `adaptation::adapt_demand`).
    pub adapted: f64,
}

impl EndUseState {
    /// The multiplier on the world file's demand curve: shocks times adaptation.
    pub fn scale(&self) -> f64 {
        self.factor * self.adapted
    }
}

/// A nation's public money.
#[derive(Component, Debug, Clone, Default)]
pub struct Treasury {
    pub budget_usd: f64,
    /// Tariff and levy revenue collected this tick.
    pub revenue_usd: f64,
}

/// A firm: one plant at one production stage in one nation.
#[derive(Component, Debug, Clone)]
pub struct Firm {
    pub id: FirmId,
    pub nation: NationId,
    pub market: MarketId,
}

/// What a firm can make and at what marginal cost: linear from `mc_at_zero` at no output
/// to `mc_at_capacity` at full capacity (USD per tonne, excluding inputs).
#[derive(Component, Debug, Clone)]
pub struct Plant {
    pub capacity_t_per_tick: f64,
    pub mc_at_zero_usd_per_t: f64,
    pub mc_at_capacity_usd_per_t: f64,
}

/// Goods a firm holds: its own output not yet sold and each of its inputs (in the order
/// of the stage's inputs in the world file).
#[derive(Component, Debug, Clone, Default)]
pub struct Stocks {
    pub output_t: f64,
    pub inputs_t: [f64; MAX_INPUTS_PER_STAGE],
    /// Input stock a mandate obliges the firm to hold: not used in production, and
    /// bought on top of what production needs (`levers::apply_mandates`).
    pub reserve_t: [f64; MAX_INPUTS_PER_STAGE],
}

impl Stocks {
    /// Input stock the firm may use in production: what it holds above its reserve.
    pub fn usable_input(&self, slot: usize) -> f64 {
        let reserve = self.reserve_t[slot];
        if reserve > 0.0 {
            (self.inputs_t[slot] - reserve).max(0.0)
        } else {
            self.inputs_t[slot]
        }
    }
}

/// What a firm did this tick.
#[derive(Component, Debug, Clone, Default)]
pub struct FirmTick {
    pub produced_t: f64,
    pub sold_from_stock_t: f64,
    /// Output the firm could make with the inputs it held (<= capacity).
    pub input_limited_capacity_t: f64,
    pub revenue_usd: f64,
}

/// One commodity at one production stage.
#[derive(Component, Debug, Clone)]
pub struct Market {
    pub id: MarketId,
}

/// A strategic stockpile: goods a nation holds off the market, bought and released on
/// its strategy's orders with money from its treasury.
#[derive(Component, Debug, Clone)]
pub struct Stockpile {
    pub owner: NationId,
    pub market: MarketId,
    pub holdings_t: f64,
}
