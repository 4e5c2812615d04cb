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

/// Free-trade routes given by a rule instead of one by one.
///
/// A world of n nations has n(n-1) routes per market, but only the routes
/// that carry goods, and the few that policies touch, differ from "open,
/// priced by distance". Listing all of them made every tick O(n^2) in set-up
/// alone (40,000 arcs per market at 200 nations). With `routes`, every
/// ordered pair of distinct nodes that [`Market::arcs`] does not list is an
/// open route with the transport cost of its two regions and no tariff,
/// floor or quota; the solver opens those it needs (see
/// [`crate::Solver::arcs`]). List a pair in `arcs` to give it a tariff, a
/// floor, a quota or another cost; list it with `quota: 0.0` to close it.
#[derive(Clone, Debug, PartialEq)]
pub struct Routes {
    /// Region of each node, `< regions`.
    pub region: Vec<usize>,
    pub regions: usize,
    /// USD per tonne from region `a` to region `b`: `cost[a * regions + b]`.
    pub cost: Vec<f64>,
}

impl Routes {
    /// Transport cost of the route `from -> to` by the rule.
    #[inline]
    pub fn cost(&self, from: usize, to: usize) -> f64 {
        self.cost[self.region[from] * self.regions + self.region[to]]
    }
}

/// One market: a commodity at one stage, across all nations.
#[derive(Clone, Debug, Default)]
pub struct Market {
    pub nodes: Vec<Node>,
    /// Routes listed one by one; with [`Market::routes`] unset, the only open ones.
    pub arcs: Vec<Arc>,
    /// Every unlisted pair is an open route priced by region (see [`Routes`]).
    pub routes: Option<Routes>,
}

impl Market {
    pub fn new() -> Self {
        Self::default()
    }
}
