//! Problem description: nations (nodes) and the open trade routes (arcs)
//! between them for one commodity at one production stage.

use crate::curve::{DemandCurve, SupplyCurve};

/// One nation in this market.
#[derive(Clone, Debug)]
pub struct Node {
    pub supply: SupplyCurve,
    pub demand: DemandCurve,
    /// Maximum total tonnes per tick over all foreign arcs (export quota or
    /// licensing limit). `f64::INFINITY` means no cap; 0 is an export ban.
    pub export_cap: f64,
}

impl Node {
    pub fn new() -> Self {
        Self {
            supply: SupplyCurve::new(),
            demand: DemandCurve::new(),
            export_cap: f64::INFINITY,
        }
    }
}

impl Default for Node {
    fn default() -> Self {
        Self::new()
    }
}

/// An open trade route `from -> to` (exporter -> importer). Banned routes
/// are simply absent from [`Market::arcs`].
#[derive(Clone, Debug, PartialEq)]
pub struct Arc {
    pub from: usize,
    pub to: usize,
    /// Freight, insurance, handling: USD per tonne, >= 0.
    pub transport_cost: f64,
    /// Ad valorem tariff rate levied by the importer on the CIF value
    /// (exporter price + transport), >= 0.
    pub ad_valorem: f64,
    /// Minimum import price (variable levy): a tonne landing below it pays
    /// the difference as a levy.
    pub floor: Option<f64>,
    /// Maximum tonnes per tick on this arc; `f64::INFINITY` if none.
    pub quota: f64,
}

impl Arc {
    /// A free-trade arc with the given transport cost.
    pub fn new(from: usize, to: usize, transport_cost: f64) -> Self {
        Self {
            from,
            to,
            transport_cost,
            ad_valorem: 0.0,
            floor: None,
            quota: f64::INFINITY,
        }
    }

    /// Landed price at the importer for an exporter (FOB) price `v`:
    /// `max(floor, (v + t)(1 + tau))`.
    #[inline]
    pub fn landed(&self, v: f64) -> f64 {
        let raw = (v + self.transport_cost) * (1.0 + self.ad_valorem);
        match self.floor {
            Some(f) if f > raw => f,
            _ => raw,
        }
    }
}

/// One market: a commodity at one stage, across all nations.
#[derive(Clone, Debug, Default)]
pub struct Market {
    pub nodes: Vec<Node>,
    pub arcs: Vec<Arc>,
}

impl Market {
    pub fn new() -> Self {
        Self::default()
    }
}
