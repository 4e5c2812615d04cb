//! Gauss-Seidel equilibration over exporters with an active arc set.
//! See the crate documentation for the method and why it was chosen.

use crate::error::ClearingError;
use crate::market::{Arc, Market, Node, Routes};
use crate::polish::Polish;
use crate::root::{Eval, REL_QTOL, solve_increasing};

/// Equilibrium (or best effort, see [`Solution::converged`]) of one market.
///
/// Per-node vectors are indexed like [`Market::nodes`], per-arc ones like
/// [`Solver::arcs`] after the solve that produced it (the market's listed
/// arcs, then the routes opened by its rule). Every number is finite and
/// non-negative. Goods balance by construction:
/// `produced[j] = domestic[j] + sum of flow on arcs from j` and
/// `consumed[i] = domestic[i] + sum of flow on arcs into i`, summed in arc
/// index order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Solution {
    /// Price received by producers in each node (USD/t). For a node that
    /// produces nothing it is the marginal cost of its first tonne; for a
    /// node without supply it is 0 and meaningless.
    pub supply_price: Vec<f64>,
    /// Price paid by buyers in each node; see the crate docs for the rule.
    /// None when the node has neither a source nor a finite choke price.
    pub local_price: Vec<Option<f64>>,
    pub produced: Vec<f64>,
    pub consumed: Vec<f64>,
    /// Shipments from a node to itself.
    pub domestic: Vec<f64>,
    /// Tonnes per tick on each arc.
    pub flow: Vec<f64>,
    /// Landed price on each arc at the exporter's price (plus its export-cap
    /// rent): `max(floor, (s + rent + t)(1 + tau))`. Reported for every arc;
    /// for an exporter without supply it is computed at price 0.
    pub landed: Vec<f64>,
    /// Ad valorem tariff revenue per arc: `tau * (s + rent + t) * flow`.
    pub tariff_paid: Vec<f64>,
    /// Variable-levy revenue per arc: `max(0, floor - (s + rent + t)(1 + tau)) * flow`.
    pub levy_paid: Vec<f64>,
    /// Per node: the export-cap rent lambda (USD/t) that foreign buyers pay
    /// on top of the supply price when the cap binds; 0 otherwise.
    /// (Addition to the original API.)
    pub export_rent: Vec<f64>,
    /// Gauss-Seidel sweeps used (over all active-set rounds).
    pub sweeps: u32,
    pub converged: bool,
    /// Largest flow change in the last sweep, relative to total consumption; for a
    /// converged solution, raised to its equilibrium gap if that is larger. (An
    /// unconverged solution's residual says nothing of its gap: a market that creeps
    /// can end with a tiny flow change far from equilibrium.)
    pub residual: f64,
}

impl Solution {
    pub fn new() -> Self {
        Self::default()
    }

    /// What a later [`Solver::solve_from`] starts from: prices, domestic shipments,
    /// flows and export rents. The rest (production, consumption, landed prices, tariff
    /// and levy paid, sweeps, convergence) is output the solve recomputes before reading
    /// it, so a warm start kept between ticks (or in a snapshot) leaves it empty.
    pub fn warm_start(&self) -> Solution {
        Solution {
            supply_price: self.supply_price.clone(),
            local_price: self.local_price.clone(),
            domestic: self.domestic.clone(),
            flow: self.flow.clone(),
            export_rent: self.export_rent.clone(),
            ..Solution::default()
        }
    }

    /// The market's price scale: the largest price in the solution, at least 1. Price
    /// gaps are measured against it.
    pub(crate) fn price_scale(&self) -> f64 {
        self.local_price
            .iter()
            .flatten()
            .chain(&self.supply_price)
            .fold(1.0_f64, |m, &p| m.max(p))
    }

    fn fits(&self, n: usize, a: usize) -> bool {
        self.supply_price.len() == n && self.domestic.len() == n && self.flow.len() == a
    }
}

/// One foreign destination of the exporter being equilibrated, with
/// everyone else's shipments to it frozen into `others`.
#[derive(Clone, Copy, Debug)]
struct Term {
    arc: usize,
    dest: usize,
    others: f64,
    t: f64,
    m: f64,
    /// Where goods land when the floor binds: the importer's current price
    /// clamped to the floor's smoothing ramp (just above the floor), where
    /// the importer block puts it. Using the floor itself would make the
    /// exporter and importer blocks disagree by the ramp's width forever.
    floor_landed: f64,
    quota: f64,
}

/// One source of the importer being equilibrated: exporter `from` with its
/// other sales frozen into `rest`; `room` is what the arc quota and the
/// exporter's cap still allow on this arc.
#[derive(Clone, Copy, Debug)]
struct Src {
    arc: usize,
    from: usize,
    rest: f64,
    room: f64,
    t: f64,
    m: f64,
    floor: f64,
    /// Width of the ramp that smooths the jump at the floor price.
    ramp: f64,
}

const DOMESTIC: usize = usize::MAX;

/// The network of one solve: the market's nodes, its listed arcs followed by
/// the routes opened so far, and the rule that may open more.
pub(crate) struct Net<'a> {
    pub(crate) nodes: &'a [Node],
    pub(crate) arcs: &'a [Arc],
    pub(crate) routes: Option<&'a Routes>,
}

/// Whether a node can ship abroad at all (routes from it are worth opening).
fn can_export(node: &Node) -> bool {
    !node.supply.is_empty() && node.export_cap > 0.0
}

/// Reusable solver. Holds only scratch memory: results never depend on
/// what it solved before (warm starts come from the explicit `Solution`).
#[derive(Clone, Debug)]
pub struct Solver {
    /// Sweeps stop when the largest flow change in a sweep is at most
    /// `tolerance * total consumption`; the pricing pass uses the same
    /// threshold to decide that an unused arc is profitable.
    pub tolerance: f64,
    /// Upper bound on Gauss-Seidel sweeps per solve (over all rounds).
    pub max_sweeps: u32,
    out_start: Vec<usize>,
    out_arcs: Vec<usize>,
    in_start: Vec<usize>,
    in_arcs: Vec<usize>,
    act_out_start: Vec<usize>,
    act_out: Vec<usize>,
    act_in_start: Vec<usize>,
    act_in: Vec<usize>,
    active: Vec<bool>,
    stamp: Vec<usize>,
    exports: Vec<f64>,
    marginal: Vec<f64>,
    wtp: Vec<f64>,
    terms: Vec<Term>,
    srcs: Vec<Src>,
    /// Arcs of the current solve: the market's, then the routes opened.
    arcs: Vec<Arc>,
    /// Routes found worth opening in the last pricing pass.
    opened: Vec<Arc>,
    polish: Polish,
    /// Per node, the epoch it was last marked in (see `mark_neighbours`).
    mark: Vec<u64>,
    epoch: u64,
    /// Exporters by region, cheapest first (see `sort_route_exporters`).
    route_order: Vec<usize>,
    route_start: Vec<usize>,
    fill: Vec<usize>,
    fob: Vec<f64>,
    /// Per node, the cheapest landed price over routes not listed.
    route_min: Vec<f64>,
}

impl Default for Solver {
    fn default() -> Self {
        Self::new()
    }
}

impl Solver {
    pub fn new() -> Self {
        Self {
            tolerance: 1e-8,
            max_sweeps: 10_000,
            out_start: Vec::new(),
            out_arcs: Vec::new(),
            in_start: Vec::new(),
            in_arcs: Vec::new(),
            act_out_start: Vec::new(),
            act_out: Vec::new(),
            act_in_start: Vec::new(),
            act_in: Vec::new(),
            active: Vec::new(),
            stamp: Vec::new(),
            exports: Vec::new(),
            marginal: Vec::new(),
            wtp: Vec::new(),
            terms: Vec::new(),
            srcs: Vec::new(),
            arcs: Vec::new(),
            opened: Vec::new(),
            polish: Polish::default(),
            mark: Vec::new(),
            epoch: 0,
            route_order: Vec::new(),
            route_start: Vec::new(),
            fill: Vec::new(),
            fob: Vec::new(),
            route_min: Vec::new(),
        }
    }

    /// Solves `market`, warm-starting from `warm` if it has the same shape
    /// (same numbers of nodes and arcs); otherwise from autarky.
    pub fn solve(
        &mut self,
        market: &Market,
        warm: Option<&Solution>,
    ) -> Result<Solution, ClearingError> {
        let mut out = match warm {
            Some(w) => w.clone(),
            None => Solution::default(),
        };
        self.solve_into(market, &mut out)?;
        Ok(out)
    }

    /// Like [`Self::solve`], but uses `warm_and_out` both as the warm start
    /// (if it has the right shape) and as the output, reusing its
    /// allocations. On error its contents are unspecified.
    pub fn solve_into(
        &mut self,
        market: &Market,
        warm_and_out: &mut Solution,
    ) -> Result<(), ClearingError> {
        self.run(market, warm_and_out, None)
    }

    /// Solves `market` warm-started from the solution of an earlier market
    /// whose arcs may differ: `pairs` names the (exporter, importer) of each
    /// of `warm`'s arcs, as [`Self::arcs`] listed them after that solve.
    /// Flows carry over by pair; a pair the market no longer lists carries
    /// over as a route if [`Market::routes`] opens it, and is dropped
    /// otherwise. Reuses `warm`'s allocations.
    pub fn solve_from(
        &mut self,
        market: &Market,
        warm: Option<Solution>,
        pairs: &[(usize, usize)],
    ) -> Result<Solution, ClearingError> {
        #[cfg(feature = "capture")]
        let input = warm.clone();
        let mut out = warm.unwrap_or_default();
        self.run(market, &mut out, Some(pairs))?;
        #[cfg(feature = "capture")]
        if !out.converged {
            crate::case::capture(market, input, pairs, out.residual);
        }
        Ok(out)
    }

    /// The arcs the last solution's per-arc vectors (`flow`, `landed`, ...)
    /// are indexed by: the market's own in order, then the routes the solver
    /// opened from [`Market::routes`].
    pub fn arcs(&self) -> &[Arc] {
        &self.arcs
    }

    fn run(
        &mut self,
        market: &Market,
        out: &mut Solution,
        pairs: Option<&[(usize, usize)]>,
    ) -> Result<(), ClearingError> {
        validate(market)?;
        let n = market.nodes.len();
        let mut arcs = std::mem::take(&mut self.arcs);
        arcs.clear();
        arcs.extend_from_slice(&market.arcs);
        let warm = match pairs {
            None => out.fits(n, arcs.len()),
            Some(pairs) if out.fits(n, pairs.len()) => {
                carry_over(market, out, pairs, &mut arcs);
                true
            }
            Some(_) => false,
        };
        let result = self.run_on(market, &mut arcs, out, warm);
        self.arcs = arcs;
        result
    }

    fn run_on(
        &mut self,
        market: &Market,
        arcs: &mut Vec<Arc>,
        out: &mut Solution,
        warm: bool,
    ) -> Result<(), ClearingError> {
        let (nodes, routes) = (&market.nodes[..], market.routes.as_ref());
        self.mark.clear();
        self.mark.resize(nodes.len(), 0);
        self.epoch = 0;
        {
            let net = Net {
                nodes,
                arcs,
                routes,
            };
            self.build_topology(&net)?;
            self.active.clear();
            self.active.resize(arcs.len(), false);
            self.init_state(&net, out, warm);
        }

        let tol = if self.tolerance.is_finite() && self.tolerance > 0.0 {
            self.tolerance
        } else {
            1e-10
        };
        let mut sweeps = 0u32;
        let mut converged = false;
        let mut residual = 0.0;
        let mut polishes = 0;
        let mut finished = None;
        let (mut since, mut checkpoint) = (0u32, CREEP_SWEEPS);
        let mut idle = IdlePricing::default();
        'rounds: loop {
            let net = Net {
                nodes,
                arcs,
                routes,
            };
            self.rebuild_active_lists();
            // Sweeps that creep (zigzag between blocks, or cycle at the
            // resolution of a steep ramp) are checked after 50, 100, 200, ...
            // sweeps as if they had settled: the check decides, and a failed
            // one polishes (a jump to the pattern's exact solution).
            let mut polished = false;
            let first = sweeps;
            let settled = loop {
                if sweeps >= self.max_sweeps {
                    break 'rounds;
                }
                let delta = self.sweep(&net, out)?;
                sweeps += 1;
                let scale = total(&out.consumed);
                residual = if scale > 0.0 {
                    delta / scale
                } else if delta > 0.0 {
                    f64::INFINITY
                } else {
                    0.0
                };
                if delta <= tol * scale {
                    (since, checkpoint) = (0, CREEP_SWEEPS);
                    break true;
                }
                if polished {
                    break false;
                }
                since += 1;
                if since == checkpoint {
                    // Polish, sweep once more (every solution the solver
                    // returns or checks comes from a sweep, exporters last,
                    // so producers sit on their curves), then check.
                    checkpoint = checkpoint.saturating_mul(2);
                    self.recompute_balances(&net, out);
                    polished = self.polish.run(&net, &self.active, out, tol * scale) > 0;
                    if polished {
                        self.recompute_balances(&net, out);
                    } else {
                        break false;
                    }
                }
            };
            self.recompute_balances(&net, out);
            let added = self.pricing(&net, out, tol);
            if !self.opened.is_empty() {
                arcs.append(&mut self.opened);
                out.flow.resize(arcs.len(), 0.0);
                self.active.resize(arcs.len(), true);
                let net = Net {
                    nodes,
                    arcs,
                    routes,
                };
                self.build_topology(&net)?;
            }
            // Pricing can creep too. A route from a producer at capacity,
            // priced at the bottom of its flat range, lands below its buyer's
            // marginal source, so the pass activates it; the sweeps give it
            // nothing (the producer has nothing left to sell), and while it
            // is active its own landed price is the buyer's marginal one, so
            // the next pass finds it unprofitable and drops it, and the one
            // after adds it again. Every round then settles in one sweep and
            // adds arcs, and the check below never ran (two markets at 200
            // nations crept to 10,000 sweeps so). After every 50 such rounds
            // the state is checked, and polished, as if pricing had added
            // nothing: at most `MAX_POLISHES` times, then a failed check ends
            // the solve unconverged (checking after 50, 100, 200, ... such
            // rounds let polishes that changed nothing run to the cap).
            let idling = idle.after_round(settled && sweeps - first == 1, added);
            if added == 0 || idling {
                // Settled sweeps are not enough: in degenerate markets (flat
                // supply and demand stretches) one-node blocks can stall at
                // prices no single block can move. Check, and if the check
                // fails, solve the active pattern in price space and sweep on
                // from there.
                let net = Net {
                    nodes,
                    arcs,
                    routes,
                };
                self.finish_solution(&net, out, tol);
                let mut gap = equilibrium_gap(&net, out);
                if gap > VERIFY_TOL {
                    gap = self.recheck(&net, out, tol);
                }
                if gap > VERIFY_TOL {
                    if polishes < MAX_POLISHES && sweeps < self.max_sweeps {
                        let qtol = tol * total(&out.consumed);
                        if self.polish.run(&net, &self.active, out, qtol) > 0 {
                            polishes += 1;
                            self.recompute_balances(&net, out);
                            continue 'rounds;
                        }
                    }
                    if !settled {
                        self.recompute_balances(&net, out);
                        continue 'rounds;
                    }
                }
                converged = true;
                finished = Some(gap);
                break;
            }
        }
        if !residual.is_finite() {
            residual = f64::MAX;
        }
        let net = Net {
            nodes,
            arcs,
            routes,
        };
        out.sweeps = sweeps;
        // Only a solution whose prices pass every equilibrium condition is
        // reported as converged.
        let gap = match finished {
            Some(gap) => gap,
            None => {
                self.finish_solution(&net, out, tol);
                equilibrium_gap(&net, out)
            }
        };
        out.converged = converged && gap <= VERIFY_TOL;
        out.residual = if converged {
            residual.max(gap)
        } else {
            residual
        };
        Ok(())
    }

    /// Marks the node `i` itself and every node with a listed or opened arc
    /// into `i` (`inbound`) or out of `i` (otherwise); returns the mark.
    fn mark_neighbours(&mut self, market: &Net<'_>, i: usize, inbound: bool) -> u64 {
        self.epoch += 1;
        let e = self.epoch;
        self.mark[i] = e;
        if inbound {
            for k in self.in_start[i]..self.in_start[i + 1] {
                self.mark[market.arcs[self.in_arcs[k]].from] = e;
            }
        } else {
            for k in self.out_start[i]..self.out_start[i + 1] {
                self.mark[market.arcs[self.out_arcs[k]].to] = e;
            }
        }
        e
    }

    /// Nodes that can export, grouped by region, each group cheapest FOB
    /// price first (ties by node index, so the order is deterministic).
    fn sort_route_exporters(&mut self, market: &Net<'_>, out: &Solution, routes: &Routes) {
        let n = market.nodes.len();
        self.fob.clear();
        self.fob
            .extend((0..n).map(|j| out.supply_price[j] + out.export_rent[j]));
        self.route_start.clear();
        self.route_start.resize(routes.regions + 1, 0);
        for j in 0..n {
            if can_export(&market.nodes[j]) {
                self.route_start[routes.region[j] + 1] += 1;
            }
        }
        for r in 0..routes.regions {
            self.route_start[r + 1] += self.route_start[r];
        }
        self.route_order.clear();
        self.route_order.resize(self.route_start[routes.regions], 0);
        self.fill.clone_from(&self.route_start);
        for j in 0..n {
            if can_export(&market.nodes[j]) {
                let r = routes.region[j];
                self.route_order[self.fill[r]] = j;
                self.fill[r] += 1;
            }
        }
        let fob = &self.fob;
        for r in 0..routes.regions {
            self.route_order[self.route_start[r]..self.route_start[r + 1]]
                .sort_unstable_by(|&a, &b| fob[a].total_cmp(&fob[b]).then(a.cmp(&b)));
        }
    }

    /// Cheapest landed price at `i` over the routes not (yet) listed, by the
    /// rule; infinity if there is none.
    fn cheapest_route(&mut self, market: &Net<'_>, routes: &Routes, i: usize) -> f64 {
        let e = self.mark_neighbours(market, i, true);
        let ri = routes.region[i];
        let mut best = f64::INFINITY;
        for r in 0..routes.regions {
            let c = routes.cost[r * routes.regions + ri];
            let group = &self.route_order[self.route_start[r]..self.route_start[r + 1]];
            if let Some(&j) = group.iter().find(|&&j| self.mark[j] != e) {
                best = best.min(self.fob[j] + c);
            }
        }
        best
    }

    fn build_topology(&mut self, market: &Net<'_>) -> Result<(), ClearingError> {
        let n = market.nodes.len();
        csr(
            n,
            market.arcs.iter().map(|a| a.from),
            &mut self.out_start,
            &mut self.out_arcs,
        );
        csr(
            n,
            market.arcs.iter().map(|a| a.to),
            &mut self.in_start,
            &mut self.in_arcs,
        );
        // Duplicate check: per exporter, stamp destinations with the last arc seen.
        self.stamp.clear();
        self.stamp.resize(n, usize::MAX);
        for j in 0..n {
            for k in self.out_start[j]..self.out_start[j + 1] {
                let a = self.out_arcs[k];
                let to = market.arcs[a].to;
                let prev = self.stamp[to];
                if prev != usize::MAX && market.arcs[prev].from == j {
                    return Err(ClearingError::DuplicateArc {
                        arc: a,
                        first: prev,
                    });
                }
                self.stamp[to] = a;
            }
        }
        Ok(())
    }

    fn init_state(&mut self, market: &Net<'_>, out: &mut Solution, warm: bool) {
        let n = market.nodes.len();
        let na = market.arcs.len();
        if !warm {
            out.supply_price.clear();
            out.supply_price.resize(n, f64::NAN);
            out.domestic.clear();
            out.domestic.resize(n, 0.0);
            out.flow.clear();
            out.flow.resize(na, 0.0);
            out.local_price.clear();
        }
        if out.export_rent.len() != n || !warm {
            out.export_rent.clear();
            out.export_rent.resize(n, 0.0);
        }
        if out.local_price.len() != n {
            out.local_price.clear();
            out.local_price.resize(n, None);
        }
        let sane = |x: f64| if x.is_finite() && x >= 0.0 { x } else { 0.0 };
        for (j, node) in market.nodes.iter().enumerate() {
            out.export_rent[j] = sane(out.export_rent[j]);
            out.domestic[j] = sane(out.domestic[j]);
            if node.supply.is_empty() || node.demand.is_empty() {
                out.domestic[j] = 0.0;
            }
            let s = out.supply_price[j];
            out.supply_price[j] = match node.supply.min_price() {
                Some(lo) if s.is_finite() && s >= lo => s,
                Some(lo) => lo,
                None => 0.0,
            };
            out.local_price[j] = out.local_price[j].filter(|p| p.is_finite() && *p >= 0.0);
        }
        for (a, arc) in market.arcs.iter().enumerate() {
            let exporter = &market.nodes[arc.from];
            let mut x = out.flow[a];
            if !(x.is_finite() && x > 0.0)
                || exporter.supply.is_empty()
                || exporter.export_cap == 0.0
                || market.nodes[arc.to].demand.is_empty()
            {
                x = 0.0;
            }
            x = x.min(arc.quota);
            out.flow[a] = x;
            self.active[a] = x > 0.0;
        }
        self.recompute_balances(market, out);
    }

    /// Consumption, production and exports of every node, summed exactly in
    /// index order; done between rounds so incremental updates never drift.
    fn recompute_balances(&mut self, market: &Net<'_>, out: &mut Solution) {
        let n = market.nodes.len();
        out.consumed.clear();
        out.consumed.resize(n, 0.0);
        out.produced.clear();
        out.produced.resize(n, 0.0);
        self.exports.clear();
        self.exports.resize(n, 0.0);
        for i in 0..n {
            let mut sum = out.domestic[i];
            for k in self.in_start[i]..self.in_start[i + 1] {
                sum += out.flow[self.in_arcs[k]];
            }
            out.consumed[i] = sum;
            let mut ex = 0.0;
            for k in self.out_start[i]..self.out_start[i + 1] {
                ex += out.flow[self.out_arcs[k]];
            }
            self.exports[i] = ex;
            out.produced[i] = out.domestic[i] + ex;
        }
    }

    fn rebuild_active_lists(&mut self) {
        let n = self.out_start.len() - 1;
        self.act_out_start.clear();
        self.act_out.clear();
        self.act_out_start.push(0);
        self.act_in_start.clear();
        self.act_in.clear();
        self.act_in_start.push(0);
        for j in 0..n {
            for k in self.out_start[j]..self.out_start[j + 1] {
                let a = self.out_arcs[k];
                if self.active[a] {
                    self.act_out.push(a);
                }
            }
            self.act_out_start.push(self.act_out.len());
            for k in self.in_start[j]..self.in_start[j + 1] {
                let a = self.in_arcs[k];
                if self.active[a] {
                    self.act_in.push(a);
                }
            }
            self.act_in_start.push(self.act_in.len());
        }
    }

    /// One Gauss-Seidel pass: every importer's block, then every exporter's
    /// block, each in index order. Exporters go last so that supply prices
    /// are consistent with production when the sweeps stop. Returns the
    /// largest absolute flow change.
    fn sweep(&mut self, market: &Net<'_>, out: &mut Solution) -> Result<f64, ClearingError> {
        let mut delta = 0.0_f64;
        for i in 0..market.nodes.len() {
            if market.nodes[i].demand.is_empty() {
                continue;
            }
            delta = delta.max(self.solve_importer(market, out, i)?);
        }
        for j in 0..market.nodes.len() {
            if market.nodes[j].supply.is_empty() {
                continue;
            }
            delta = delta.max(self.solve_exporter(market, out, j)?);
        }
        Ok(delta)
    }

    /// Exact best response of exporter `j` to everyone else's shipments:
    /// one supply price that clears its output across all its destinations.
    fn solve_exporter(
        &mut self,
        market: &Net<'_>,
        out: &mut Solution,
        j: usize,
    ) -> Result<f64, ClearingError> {
        let node = &market.nodes[j];
        let supply = &node.supply;
        let cap = node.export_cap;
        self.terms.clear();
        if cap > 0.0 {
            for k in self.act_out_start[j]..self.act_out_start[j + 1] {
                let a = self.act_out[k];
                let arc = &market.arcs[a];
                let floor = arc.floor.unwrap_or(f64::NEG_INFINITY);
                let floor_landed = match out.local_price[arc.to] {
                    Some(p) if floor.is_finite() => {
                        p.clamp(floor, floor + crate::curve::STEP_WIDTH_REL * floor.max(1.0))
                    }
                    _ => floor,
                };
                self.terms.push(Term {
                    arc: a,
                    dest: arc.to,
                    others: out.consumed[arc.to] - out.flow[a],
                    t: arc.transport_cost,
                    m: 1.0 + arc.ad_valorem,
                    floor_landed,
                    quota: arc.quota,
                });
            }
        }
        let terms = &self.terms[..];
        let home = if node.demand.is_empty() {
            None
        } else {
            Some((&node.demand, out.consumed[j] - out.domestic[j]))
        };
        let domestic = |s: f64| -> (f64, f64) {
            match home {
                None => (0.0, 0.0),
                Some((d, others)) => {
                    let (q, dq) = d.quantity_and_slope(s);
                    let x = q - others;
                    if x > 0.0 { (x, dq) } else { (0.0, 0.0) }
                }
            }
        };
        let foreign = |v: f64| -> (f64, f64) {
            let mut sum = 0.0;
            let mut dsum = 0.0;
            for t in terms {
                let (x, dx) = ship(market, t, v);
                sum += x;
                dsum += dx;
            }
            (sum, dsum)
        };
        let excess = |s: f64| -> Eval {
            let (q, dq) = supply.quantity_and_slope(s);
            let (xd, dxd) = domestic(s);
            let (xf, dxf) = foreign(s);
            let x = xd + xf;
            Eval {
                g: q - x,
                dg: dq + dxd + dxf,
                scale: q.max(x),
            }
        };

        let s_lo = supply.min_price().unwrap_or(0.0);
        let s_prev = out.supply_price[j];
        let at_lo = excess(s_lo);
        let s_star = if at_lo.g >= 0.0 {
            s_lo
        } else {
            let hint = supply.max_price().unwrap_or(s_lo);
            root_above(&excess, s_lo, at_lo, s_prev, hint)
                .ok_or(ClearingError::PriceOverflow { node: j })?
        };

        let mut s_dom = s_star;
        let mut v = s_star;
        if cap.is_finite() && !terms.is_empty() {
            let f_star = foreign(s_star).0;
            if f_star > cap {
                // Two-level problem: the cap splits j's sales into a domestic
                // market at s and a foreign one at s + lambda.
                let dom_excess = |s: f64| -> Eval {
                    let (q, dq) = supply.quantity_and_slope(s);
                    let (xd, dxd) = domestic(s);
                    Eval {
                        g: q - xd - cap,
                        dg: dq + dxd,
                        scale: q.max(xd + cap),
                    }
                };
                let lo_e = dom_excess(s_lo);
                s_dom = if lo_e.g >= 0.0 {
                    s_lo
                } else {
                    let hi_e = dom_excess(s_star);
                    if hi_e.g < 0.0 {
                        s_star
                    } else {
                        solve_increasing(dom_excess, s_lo, lo_e, s_star, hi_e, Some(s_prev))
                    }
                };
                let cap_gap = |v: f64| -> Eval {
                    let (xf, dxf) = foreign(v);
                    Eval {
                        g: cap - xf,
                        dg: dxf,
                        scale: cap.max(xf),
                    }
                };
                let at_star = cap_gap(s_star);
                let v_prev = s_prev + out.export_rent[j];
                v = root_above(&cap_gap, s_star, at_star, v_prev, s_star)
                    .ok_or(ClearingError::PriceOverflow { node: j })?;
            }
        }

        // Write back flows at the solved prices and keep balances current.
        let mut delta = 0.0_f64;
        if home.is_some() {
            let x = domestic(s_dom).0;
            let old = out.domestic[j];
            out.domestic[j] = x;
            out.consumed[j] += x - old;
            out.produced[j] += x - old;
            delta = delta.max((x - old).abs());
        }
        for t in terms {
            let x = ship(market, t, v).0;
            let old = out.flow[t.arc];
            out.flow[t.arc] = x;
            out.consumed[t.dest] += x - old;
            out.produced[j] += x - old;
            self.exports[j] += x - old;
            delta = delta.max((x - old).abs());
        }
        out.supply_price[j] = s_dom;
        out.export_rent[j] = (v - s_dom).max(0.0);
        Ok(delta)
    }

    /// Exact best response of importer `i` to everyone else's shipments:
    /// one buyer price at which every source's landed supply clears its
    /// demand. This block is what allocates an importer's purchases among
    /// competing sources by landed price where its demand curve is flat
    /// (exporter blocks cannot see a price difference there), and it
    /// speeds up convergence when demand is inelastic relative to supply.
    fn solve_importer(
        &mut self,
        market: &Net<'_>,
        out: &mut Solution,
        i: usize,
    ) -> Result<f64, ClearingError> {
        let node = &market.nodes[i];
        self.srcs.clear();
        if !node.supply.is_empty() {
            self.srcs.push(Src {
                arc: DOMESTIC,
                from: i,
                rest: out.produced[i] - out.domestic[i],
                room: f64::INFINITY,
                t: 0.0,
                m: 1.0,
                floor: f64::NEG_INFINITY,
                ramp: 0.0,
            });
        }
        for k in self.act_in_start[i]..self.act_in_start[i + 1] {
            let a = self.act_in[k];
            let arc = &market.arcs[a];
            let j = arc.from;
            let x = out.flow[a];
            let cap_room = market.nodes[j].export_cap - (self.exports[j] - x);
            let floor = arc.floor.unwrap_or(f64::NEG_INFINITY);
            self.srcs.push(Src {
                arc: a,
                from: j,
                rest: out.produced[j] - x,
                room: arc.quota.min(cap_room).max(0.0),
                t: arc.transport_cost,
                m: 1.0 + arc.ad_valorem,
                floor,
                ramp: if floor.is_finite() {
                    crate::curve::STEP_WIDTH_REL * floor.max(1.0)
                } else {
                    0.0
                },
            });
        }
        if self.srcs.is_empty() {
            return Ok(0.0);
        }
        let srcs = &self.srcs[..];
        let demand = &node.demand;
        let gap = |p: f64| -> Eval {
            let mut sum = 0.0;
            let mut dsum = 0.0;
            for s in srcs {
                let (x, dx) = offer(market, s, p);
                sum += x;
                dsum += dx;
            }
            let (d, dd) = demand.quantity_and_slope(p);
            Eval {
                g: sum - d,
                dg: dsum + dd,
                scale: sum.max(d),
            }
        };
        let at_zero = gap(0.0);
        let p = if at_zero.g >= 0.0 {
            0.0
        } else {
            let guess = out.local_price[i].unwrap_or(f64::NAN);
            let hint = demand.choke_price().unwrap_or(1.0);
            match root_above(&gap, 0.0, at_zero, guess, hint) {
                Some(p) => p,
                // Demand that stays above everything offered at any price
                // (isoelastic buyers facing sources whose other sales are
                // frozen): no price clears this block alone. Take all that
                // is offered, at the price where every offer is at its
                // maximum, and let the exporters' blocks reallocate.
                None => saturation_price(market, srcs)
                    .ok_or(ClearingError::PriceOverflow { node: i })?,
            }
        };
        out.local_price[i] = Some(p);
        let mut delta = 0.0_f64;
        for s in srcs {
            let x = offer(market, s, p).0;
            let j = s.from;
            let old;
            if s.arc == DOMESTIC {
                old = out.domestic[i];
                out.domestic[i] = x;
            } else {
                old = out.flow[s.arc];
                out.flow[s.arc] = x;
                self.exports[j] += x - old;
            }
            out.produced[j] += x - old;
            out.consumed[i] += x - old;
            delta = delta.max((x - old).abs());
        }
        Ok(delta)
    }

    /// Marks every unused arc that would carry flow at current prices: either
    /// the importer would buy more at its landed price, or it undercuts the
    /// importer's marginal source (which matters where demand is flat).
    /// Unused arcs that are not profitable are dropped so later sweeps skip
    /// them. Returns how many arcs were added. (Activating only the few
    /// cheapest per importer was tried: fewer arcs per sweep, but more
    /// rounds, and the 50-nation world's first ticks took 1.5-4x longer.)
    fn pricing(&mut self, market: &Net<'_>, out: &Solution, tol: f64) -> usize {
        let n = market.nodes.len();
        let qtol = tol * total(&out.consumed);
        let ptol = 10.0 * tol.max(1e-12);
        self.marginal.clear();
        self.marginal.resize(n, f64::INFINITY);
        self.wtp.clear();
        self.wtp.resize(n, f64::NEG_INFINITY);
        for i in 0..n {
            let node = &market.nodes[i];
            if node.demand.is_empty() {
                continue;
            }
            let mut p = f64::INFINITY;
            if !node.supply.is_empty() {
                p = out.supply_price[i];
            }
            for k in self.in_start[i]..self.in_start[i + 1] {
                let a = self.in_arcs[k];
                let arc = &market.arcs[a];
                if self.active[a] && out.flow[a] < arc.quota {
                    p = p.min(arc.landed(out.supply_price[arc.from] + out.export_rent[arc.from]));
                }
            }
            let d = out.consumed[i];
            // An arc whose landed price l undercuts the marginal source by
            // more than ptol is profitable where the importer buys at all.
            let undercut = if d > qtol && p.is_finite() {
                p - ptol * p.max(1.0)
            } else if d > qtol {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            };
            // D(l) > d + qtol  <=>  l < sup{ p : D(p) >= d + qtol } (D is
            // non-increasing), so one inverse per importer replaces a
            // demand evaluation per arc.
            let want = d + qtol;
            let wtp = if want <= 0.0 {
                node.demand.choke_price().unwrap_or(f64::INFINITY)
            } else {
                node.demand.inverse(want).unwrap_or(f64::NEG_INFINITY)
            };
            self.marginal[i] = p;
            self.wtp[i] = wtp.max(undercut);
        }
        let mut added = 0;
        for (a, arc) in market.arcs.iter().enumerate() {
            let exporter = &market.nodes[arc.from];
            if exporter.supply.is_empty()
                || exporter.export_cap == 0.0
                || arc.quota <= 0.0
                || market.nodes[arc.to].demand.is_empty()
            {
                self.active[a] = false;
                continue;
            }
            let l = arc.landed(out.supply_price[arc.from] + out.export_rent[arc.from]);
            let profitable = l < self.wtp[arc.to];
            if self.active[a] {
                if out.flow[a] == 0.0 && !profitable {
                    self.active[a] = false;
                }
            } else if profitable {
                self.active[a] = true;
                added += 1;
            }
        }
        // Routes by the rule: per importer and region, exporters cheapest
        // first until the landed price stops being profitable, so the pass
        // costs what it opens plus one look per region, not one per pair.
        if let Some(routes) = market.routes {
            self.sort_route_exporters(market, out, routes);
            for i in 0..n {
                let w = self.wtp[i];
                if market.nodes[i].demand.is_empty() || w == f64::NEG_INFINITY {
                    continue;
                }
                let e = self.mark_neighbours(market, i, true);
                let ri = routes.region[i];
                for r in 0..routes.regions {
                    let c = routes.cost[r * routes.regions + ri];
                    for &j in &self.route_order[self.route_start[r]..self.route_start[r + 1]] {
                        if (self.fob[j] + c).partial_cmp(&w) != Some(std::cmp::Ordering::Less) {
                            break;
                        }
                        if self.mark[j] != e {
                            self.opened.push(Arc::new(j, i, c));
                        }
                    }
                }
            }
            added += self.opened.len();
        }
        added
    }

    fn finish_solution(&mut self, market: &Net<'_>, out: &mut Solution, tol: f64) {
        let na = market.arcs.len();
        self.recompute_balances(market, out);
        // Exports below the sweeps' flow tolerance are rounding dust left by
        // the blocks, not trade: a producer at capacity with dust exports
        // sells at home only.
        let dust = tol * total(&out.consumed);
        // Rent of fully banned exporters (cap = 0): the smallest markup that
        // makes every foreign arc unattractive. Importers with unbounded
        // willingness to pay and zero consumption (isoelastic demand, no
        // source) would need an infinite rent and are ignored.
        for (j, node) in market.nodes.iter().enumerate() {
            if node.supply.is_empty() {
                out.supply_price[j] = 0.0;
                out.export_rent[j] = 0.0;
                continue;
            }
            if node.export_cap == 0.0 {
                let s = out.supply_price[j];
                let mut v = s;
                for k in self.out_start[j]..self.out_start[j + 1] {
                    let arc = &market.arcs[self.out_arcs[k]];
                    let d = &market.nodes[arc.to].demand;
                    if d.is_empty() || arc.quota <= 0.0 {
                        continue;
                    }
                    let o = out.consumed[arc.to];
                    if let Some(p) = d.inverse(o)
                        && p > arc.floor.unwrap_or(f64::NEG_INFINITY)
                    {
                        v = v.max(p / (1.0 + arc.ad_valorem) - arc.transport_cost);
                    }
                }
                if let Some(routes) = market.routes {
                    let e = self.mark_neighbours(market, j, false);
                    for (i, to) in market.nodes.iter().enumerate() {
                        if self.mark[i] != e
                            && !to.demand.is_empty()
                            && let Some(p) = to.demand.inverse(out.consumed[i])
                        {
                            v = v.max(p - routes.cost(j, i));
                        }
                    }
                }
                out.export_rent[j] = (v - s).max(0.0);
            }
        }
        out.landed.clear();
        out.landed.resize(na, 0.0);
        out.tariff_paid.clear();
        out.tariff_paid.resize(na, 0.0);
        out.levy_paid.clear();
        out.levy_paid.resize(na, 0.0);
        for (a, arc) in market.arcs.iter().enumerate() {
            let fob = out.supply_price[arc.from] + out.export_rent[arc.from];
            let cif = fob + arc.transport_cost;
            let raw = cif * (1.0 + arc.ad_valorem);
            let landed = arc.landed(fob);
            let x = out.flow[a];
            out.landed[a] = landed;
            out.tariff_paid[a] = arc.ad_valorem * cif * x;
            out.levy_paid[a] = (landed - raw).max(0.0) * x;
        }
        self.local_prices(market, out, dust);
        // A node selling all it can produce at home only is paid what its
        // buyers pay: its supply price is pinned only from below (the top
        // of its curve), and the exporter block picked the bottom of that
        // range. Exporters at capacity keep theirs: their landed prices
        // already set other nodes' prices.
        for (i, node) in market.nodes.iter().enumerate() {
            if out.domestic[i] > 0.0
                && self.exports[i] <= dust
                && at_capacity(node, out.produced[i])
                && let Some(p) = out.local_price[i]
            {
                out.supply_price[i] = out.supply_price[i].max(p);
                // Its (unused) export routes now land dearer.
                for k in self.out_start[i]..self.out_start[i + 1] {
                    let a = self.out_arcs[k];
                    out.landed[a] = market.arcs[a].landed(out.supply_price[i] + out.export_rent[i]);
                }
            }
        }
    }

    /// Every node's local price at the current supply and landed prices
    /// (unlisted routes by the rule included).
    fn local_prices(&mut self, market: &Net<'_>, out: &mut Solution, dust: f64) {
        let n = market.nodes.len();
        self.route_min.clear();
        self.route_min.resize(n, f64::INFINITY);
        if let Some(routes) = market.routes {
            self.sort_route_exporters(market, out, routes);
            for i in 0..n {
                self.route_min[i] = self.cheapest_route(market, routes, i);
            }
        }
        out.local_price.clear();
        out.local_price.resize(n, None);
        for i in 0..n {
            out.local_price[i] = self.local_price(market, out, i, dust);
        }
    }

    /// The check again after local prices are read anew. `finish_solution`
    /// reads them before it raises producers at capacity that sell at home
    /// only to their buyers' price; a buyer whose cheapest source was such
    /// a producer's route kept the old, lower price, undercutting its own
    /// producers, and the check failed markets whose flows were an
    /// equilibrium (in isolation the five unconverged markets captured at
    /// 200 nations converge with this). Only a failed check is redone:
    /// reading prices anew after every raise changed markets that converge
    /// without it (at 200 nations from tick 6) and made two creep to the
    /// sweep cap.
    fn recheck(&mut self, market: &Net<'_>, out: &mut Solution, tol: f64) -> f64 {
        self.local_prices(market, out, tol * total(&out.consumed));
        equilibrium_gap(market, out)
    }

    fn local_price(&self, market: &Net<'_>, out: &Solution, i: usize, dust: f64) -> Option<f64> {
        let node = &market.nodes[i];
        let mut cheapest = f64::INFINITY;
        let mut marginal_source_used = false;
        // Home supply bounds the price from above only if it could sell more
        // (or if it exports: then its supply price is already what its
        // buyers abroad pay, net, and home buyers pay the same).
        if !node.supply.is_empty()
            && (self.exports[i] > dust || !at_capacity(node, out.produced[i]))
        {
            cheapest = out.supply_price[i];
            marginal_source_used = out.domestic[i] > 0.0;
        }
        for k in self.in_start[i]..self.in_start[i + 1] {
            let a = self.in_arcs[k];
            let arc = &market.arcs[a];
            let exporter = &market.nodes[arc.from];
            if exporter.supply.is_empty() || exporter.export_cap == 0.0 || arc.quota <= 0.0 {
                continue;
            }
            let x = out.flow[a];
            if x < arc.quota {
                cheapest = cheapest.min(out.landed[a]);
                marginal_source_used |= x > 0.0;
            }
        }
        // Unlisted routes carry nothing but bound the price like any source.
        cheapest = cheapest.min(self.route_min[i]);
        let d = out.consumed[i];
        if marginal_source_used {
            Some(cheapest)
        } else if d > 0.0 {
            // Only quota-bound sources: the buyers' willingness to pay sets
            // the price (the quota rent is the gap to the landed price).
            let dq = d.min(node.demand.max_quantity());
            let p = node.demand.inverse(dq).unwrap_or(cheapest);
            Some(p.min(cheapest))
        } else if cheapest.is_finite() {
            Some(cheapest)
        } else {
            node.demand.choke_price()
        }
    }
}

/// What source `s` offers the importer at buyer price `p`, and d/dp of it.
#[inline]
fn offer(market: &Net<'_>, s: &Src, p: f64) -> (f64, f64) {
    // At or below the floor nothing can land; a ramp of relative width
    // STEP_WIDTH_REL just above it keeps the offer continuous so the root
    // finder never has to split a jump, and keeps the buyer's price at or
    // above the floor.
    let (w, dw) = if p >= s.floor + s.ramp {
        (1.0, 0.0)
    } else if p <= s.floor {
        return (0.0, 0.0);
    } else {
        ((p - s.floor) / s.ramp, 1.0 / s.ramp)
    };
    let v = p / s.m - s.t;
    let (q, dq) = market.nodes[s.from].supply.quantity_and_slope(v);
    let y = q - s.rest;
    if y <= 0.0 {
        (0.0, 0.0)
    } else if y >= s.room {
        (s.room * w, s.room * dw)
    } else {
        (y * w, dq / s.m * w + y * dw)
    }
}

/// Relative tolerance of [`equilibrium_gap`]. Steps and floors are smoothed
/// over `STEP_WIDTH_REL` (1e-6) of price and sweeps stop at 1e-8 of volume
/// per block, so well-posed markets meet the conditions to a few 1e-6;
/// 1e-5 (the tests check at 1.5e-5) is far below any tolerance the
/// simulation's results care about (0.1% in the analytic tests).
const VERIFY_TOL: f64 = 1e-5;

/// Price-space polishes per solve (see `polish`): each is followed by sweeps
/// and a pricing pass, which may move the pattern again.
const MAX_POLISHES: u32 = 16;

/// Sweeps in a row that do not settle before the solution is checked anyway
/// (then after twice as many, and so on); also rounds in a row that settle in
/// one sweep while pricing keeps adding arcs (checked after every such run).
const CREEP_SWEEPS: u32 = 50;

/// Counts rounds in a row that settled in their first sweep: whatever the
/// pricing pass (or a polish) before them changed, the sweeps moved no flow
/// beyond the tolerance (see `run_on`).
#[derive(Default)]
struct IdlePricing {
    rounds: u32,
}

impl IdlePricing {
    /// Records a round (`at_once`: it settled in its first sweep) whose
    /// pricing pass added `added` arcs; true when the state is due a check
    /// (after every `CREEP_SWEEPS` such rounds in a row).
    fn after_round(&mut self, at_once: bool, added: usize) -> bool {
        self.rounds = if at_once { self.rounds + 1 } else { 0 };
        let due = added > 0 && self.rounds >= CREEP_SWEEPS;
        if due {
            self.rounds = 0;
        }
        due
    }
}

/// Largest violation of the equilibrium conditions, relative to the
/// market's price scale (prices) or volume (quantities): producers on their
/// supply curves, buyers on their demand curves, no buyer paying more than
/// its own supply price, every used route and domestic sale priced at
/// arbitrage, no unused route that undercuts a buyer who would buy more.
fn equilibrium_gap(market: &Net<'_>, sol: &Solution) -> f64 {
    let volume = total(&sol.consumed).max(1e-9).max(1.0);
    let pscale = sol.price_scale();
    let qtol = VERIFY_TOL * volume;
    let mut worst_q = 0.0_f64;
    let mut worst_p = 0.0_f64;
    for (i, node) in market.nodes.iter().enumerate() {
        let s = sol.supply_price[i];
        if !node.supply.is_empty() {
            let q = node.supply.quantity(s);
            let ulp = node.supply.quantity(s.next_up()) - node.supply.quantity(s.next_down());
            worst_q = worst_q.max(((q - sol.produced[i]).abs() - ulp).max(0.0));
        }
        if let Some(p) = sol.local_price[i] {
            if sol.consumed[i] > qtol {
                let d = node.demand.quantity(p);
                let ulp = node.demand.quantity(p.next_down()) - node.demand.quantity(p.next_up());
                worst_q = worst_q.max(((d - sol.consumed[i]).abs() - ulp).max(0.0));
            } else if !node.demand.is_empty() {
                worst_q = worst_q.max(node.demand.quantity(p));
            }
            if !node.supply.is_empty() {
                worst_p = worst_p.max(p - s);
                if sol.domestic[i] > qtol {
                    worst_p = worst_p.max((p - s).abs());
                }
            }
        }
    }
    for (a, arc) in market.arcs.iter().enumerate() {
        let x = sol.flow[a];
        let exporter = &market.nodes[arc.from];
        if exporter.supply.is_empty() || exporter.export_cap == 0.0 || arc.quota == 0.0 {
            continue;
        }
        let Some(p) = sol.local_price[arc.to] else {
            continue;
        };
        let landed = sol.landed[a];
        let interior = x < arc.quota - qtol;
        if p > landed
            && interior
            && market.nodes[arc.to].demand.quantity(landed) > sol.consumed[arc.to] + qtol
        {
            worst_p = worst_p.max(p - landed);
        }
        if x > qtol && interior {
            worst_p = worst_p.max((p - landed).abs());
        }
        if !interior && x > 0.0 {
            worst_p = worst_p.max(landed - p);
        }
    }
    // Unlisted routes carry nothing: none may undercut a buyer who would buy
    // more. The cheapest per region is the one to check. (Kept apart from
    // the solver's own route search: this check must not share its code.)
    if let Some(routes) = market.routes {
        // Exporters listed into each importer, bucketed by importer (a counting
        // sort: the arcs number thousands in large worlds, sorting them per
        // check cost more than the rest of it).
        let n = market.nodes.len();
        let mut start = vec![0usize; n + 1];
        for a in market.arcs.iter() {
            start[a.to + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut listed_from = vec![0usize; market.arcs.len()];
        let mut fill = start.clone();
        for a in market.arcs.iter() {
            listed_from[fill[a.to]] = a.from;
            fill[a.to] += 1;
        }
        // Exporters listed into the importer at hand, stamped with it (plus one).
        let mut stamp = vec![0usize; n];
        let mut by_region: Vec<Vec<(f64, usize)>> = vec![Vec::new(); routes.regions];
        for (j, node) in market.nodes.iter().enumerate() {
            if can_export(node) {
                by_region[routes.region[j]].push((sol.supply_price[j] + sol.export_rent[j], j));
            }
        }
        for group in &mut by_region {
            group.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        for (i, node) in market.nodes.iter().enumerate() {
            let Some(p) = sol.local_price[i] else {
                continue;
            };
            for &j in &listed_from[start[i]..start[i + 1]] {
                stamp[j] = i + 1;
            }
            if node.demand.is_empty() {
                continue;
            }
            for (r, group) in by_region.iter().enumerate() {
                let first = group.iter().find(|&&(_, j)| j != i && stamp[j] != i + 1);
                if let Some(&(fob, _)) = first {
                    let landed = fob + routes.cost[r * routes.regions + routes.region[i]];
                    if p > landed && node.demand.quantity(landed) > sol.consumed[i] + qtol {
                        worst_p = worst_p.max(p - landed);
                    }
                }
            }
        }
    }
    (worst_q / volume).max(worst_p / pscale)
}

/// Whether a node produces all its supply curve allows, to the solver's
/// flow tolerance (a price on the last steep step counts as at capacity).
fn at_capacity(node: &crate::market::Node, produced: f64) -> bool {
    let cap = node.supply.capacity();
    cap > 0.0 && produced >= cap * (1.0 - 1e-8)
}

/// Lowest buyer price at which every source offers all it can (the top of
/// each source's supply curve, landed, and above its floor's ramp).
fn saturation_price(market: &Net<'_>, srcs: &[Src]) -> Option<f64> {
    let mut p = 0.0_f64;
    for s in srcs {
        let top = market.nodes[s.from].supply.max_price()?;
        p = p.max((top + s.t) * s.m);
        if s.floor.is_finite() {
            p = p.max(s.floor + s.ramp);
        }
    }
    p.is_finite().then_some(p)
}

/// Flow on one arc when the exporter's FOB price is `v`, and |d flow / dv|.
#[inline]
fn ship(market: &Net<'_>, t: &Term, v: f64) -> (f64, f64) {
    let raw = (v + t.t) * t.m;
    let (landed, dl) = if raw >= t.floor_landed {
        (raw, t.m)
    } else {
        (t.floor_landed, 0.0)
    };
    let (q, dq) = market.nodes[t.dest].demand.quantity_and_slope(landed);
    let x = q - t.others;
    if x <= 0.0 {
        (0.0, 0.0)
    } else if x >= t.quota {
        (t.quota, 0.0)
    } else {
        (x, dq * dl)
    }
}

/// Root of a non-decreasing `f` above `lo` (where f < 0): brackets it using
/// the warm guess and a hint, widening geometrically if needed. None if the
/// root lies beyond the range of f64.
pub(crate) fn root_above(
    f: &impl Fn(f64) -> Eval,
    lo: f64,
    f_lo: Eval,
    guess: f64,
    hint: f64,
) -> Option<f64> {
    let mut a = lo;
    let mut fa = f_lo;
    if guess.is_finite() && guess > a {
        let e = f(guess);
        if e.g.abs() <= REL_QTOL * e.scale {
            return Some(guess);
        }
        if e.g >= 0.0 {
            return Some(solve_increasing(f, a, fa, guess, e, None));
        }
        a = guess;
        fa = e;
    }
    let mut b = if hint > a { hint } else { a + a.abs().max(1.0) };
    let mut step = (b - a).max(a.abs() * 1e-3).max(1e-9);
    for _ in 0..4000 {
        let e = f(b);
        if e.g >= 0.0 {
            return Some(solve_increasing(f, a, fa, b, e, None));
        }
        a = b;
        fa = e;
        step *= 2.0;
        b = a + step;
        if !b.is_finite() || b > 1e300 {
            return None;
        }
    }
    None
}

fn csr(
    n: usize,
    keys: impl Iterator<Item = usize> + Clone,
    start: &mut Vec<usize>,
    items: &mut Vec<usize>,
) {
    start.clear();
    start.resize(n + 1, 0);
    let mut count = 0;
    for k in keys.clone() {
        start[k + 1] += 1;
        count += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    items.clear();
    items.resize(count, 0);
    let mut fill = start.clone();
    for (idx, k) in keys.enumerate() {
        items[fill[k]] = idx;
        fill[k] += 1;
    }
}

/// Maps `out`'s flows, indexed by `pairs`, onto `arcs` (the market's listed
/// arcs), opening a route for each carried pair the market does not list
/// when its rule allows it (in pair order, once per pair).
fn carry_over(market: &Market, out: &mut Solution, pairs: &[(usize, usize)], arcs: &mut Vec<Arc>) {
    let same = pairs.len() == arcs.len()
        && pairs
            .iter()
            .zip(arcs.iter())
            .all(|(&(f, t), a)| f == a.from && t == a.to);
    if same {
        return;
    }
    let n = market.nodes.len();
    // Usual case: the market lists the same arcs as last time, in the same order
    // (policies unchanged), so flows carry over one to one and the rest of `pairs`
    // are the routes the rule opened, none of them listed (the solver opens only
    // pairs the market does not list). No sort, no search.
    let k = arcs.len();
    if pairs.len() > k
        && pairs[..k]
            .iter()
            .zip(arcs.iter())
            .all(|(&(f, t), a)| f == a.from && t == a.to)
    {
        let mut routes: Vec<((usize, usize), f64)> = pairs[k..]
            .iter()
            .zip(&out.flow[k..])
            .filter(|&(&(f, t), &x)| x > 0.0 && f < n && t < n && f != t)
            .map(|(&pair, &x)| (pair, x))
            .collect();
        out.flow.truncate(k);
        if let Some(rule) = &market.routes {
            if !routes.is_sorted_by_key(|r| r.0) {
                routes.sort_unstable_by_key(|r| r.0);
            }
            routes.dedup_by(|a, b| a.0 == b.0);
            for ((f, t), x) in routes {
                arcs.push(Arc::new(f, t, rule.cost(f, t)));
                out.flow.push(x);
            }
        }
        return;
    }
    let mut listed: Vec<((usize, usize), usize)> = arcs
        .iter()
        .enumerate()
        .map(|(k, a)| ((a.from, a.to), k))
        .collect();
    listed.sort_unstable();
    let mut flow = vec![0.0; arcs.len()];
    let mut routes: Vec<((usize, usize), f64)> = Vec::new();
    for (&pair, &x) in pairs.iter().zip(&out.flow) {
        if x.is_nan() || x <= 0.0 {
            continue;
        }
        match listed.binary_search_by(|probe| probe.0.cmp(&pair)) {
            Ok(k) => flow[listed[k].1] = x,
            Err(_) if pair.0 < n && pair.1 < n && pair.0 != pair.1 => routes.push((pair, x)),
            Err(_) => {}
        }
    }
    if let Some(rule) = &market.routes {
        routes.sort_unstable_by_key(|r| r.0);
        routes.dedup_by(|a, b| a.0 == b.0);
        for ((f, t), x) in routes {
            arcs.push(Arc::new(f, t, rule.cost(f, t)));
            flow.push(x);
        }
    }
    out.flow = flow;
}

fn total(v: &[f64]) -> f64 {
    v.iter().sum()
}

fn validate(market: &Market) -> Result<(), ClearingError> {
    let n = market.nodes.len();
    for (node_idx, node) in market.nodes.iter().enumerate() {
        if let Some(reason) = node.supply.issue() {
            return Err(ClearingError::InvalidSupply {
                node: node_idx,
                reason,
            });
        }
        if let Some(reason) = node.demand.issue() {
            return Err(ClearingError::InvalidDemand {
                node: node_idx,
                reason,
            });
        }
        if node.supply.is_dirty() || node.demand.is_dirty() {
            return Err(ClearingError::UnfinishedCurve { node: node_idx });
        }
        if node.export_cap.is_nan() || node.export_cap < 0.0 {
            return Err(ClearingError::InvalidExportCap { node: node_idx });
        }
    }
    if let Some(r) = &market.routes {
        let bad = |reason| Err(ClearingError::InvalidRoutes { reason });
        if r.region.len() != n {
            return bad("one region per node needed");
        }
        if r.region.iter().any(|&g| g >= r.regions) {
            return bad("a node's region is out of range");
        }
        if r.cost.len() != r.regions * r.regions {
            return bad("cost must have regions x regions entries");
        }
        if !r.cost.iter().all(|c| c.is_finite() && *c >= 0.0) {
            return bad("transport costs must be finite and >= 0");
        }
    }
    for (arc_idx, a) in market.arcs.iter().enumerate() {
        let bad = |reason| {
            Err(ClearingError::InvalidArc {
                arc: arc_idx,
                reason,
            })
        };
        if a.from >= n || a.to >= n {
            return bad("endpoint out of range");
        }
        if a.from == a.to {
            return bad("arc from a node to itself (the domestic arc is implicit)");
        }
        if !(a.transport_cost.is_finite() && a.transport_cost >= 0.0) {
            return bad("transport cost must be finite and >= 0");
        }
        if !(a.ad_valorem.is_finite() && a.ad_valorem >= 0.0) {
            return bad("ad valorem rate must be finite and >= 0");
        }
        if let Some(f) = a.floor
            && !(f.is_finite() && f >= 0.0)
        {
            return bad("price floor must be finite and >= 0");
        }
        if a.quota.is_nan() || a.quota < 0.0 {
            return bad("quota must be >= 0 (infinity for none)");
        }
    }
    Ok(())
}
