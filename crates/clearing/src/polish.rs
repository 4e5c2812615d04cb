//! Price-space polish on the current active set.
//!
//! Block Gauss-Seidel can settle where no single block can move (flat supply
//! and demand stretches: vertical inventory steps) although the prices the
//! blocks picked are inconsistent: a producer at capacity keeps the bottom
//! of its flat price range while its buyers pay more, a route lands below a
//! buyer's price, and so on. The polish takes the pattern the sweeps found
//! and solves it exactly in price space.
//!
//! Every node has a seller side (price `s_j`) and a buyer side (price
//! `p_i`). A *link* ties a seller to a buyer: a domestic sale (`p_i = s_i`)
//! or a used route strictly inside its quota, above its floor's ramp, from
//! an exporter whose cap does not bind (`p_i = (s_j + t)(1 + tau)`). Every
//! other route keeps its flow. In each connected component of the links,
//! every price is an increasing affine function of one root price, so the
//! component's excess supply is a non-decreasing function of that root: one
//! safeguarded root-find clears it. Flows then follow from the sides'
//! balances along a spanning tree (links off the tree keep their flows; on
//! consistent cycles, as region-priced routes make them, that is exact).
//! A component whose tree flows come out negative, over a quota or over an
//! export cap is left as it was: the sweeps and the pricing pass go on from
//! there.

use crate::curve::STEP_WIDTH_REL;
use crate::market::Node;
use crate::root::Eval;
use crate::solver::{Net, Solution, root_above};

/// A price link: seller side of `seller` to buyer side of `buyer`, carrying
/// `arc`'s flow (or the domestic sale when `arc == DOMESTIC`), with buyer
/// price `m * (seller price + t)`.
#[derive(Clone, Copy, Debug)]
struct Link {
    seller: usize,
    buyer: usize,
    arc: usize,
    t: f64,
    m: f64,
    /// Carries flow, so it ties prices and may be on a tree; an unused
    /// link (at most `qtol`) only enters cycles in `pivot`.
    used: bool,
}

const DOMESTIC: usize = usize::MAX;
const NONE: usize = usize::MAX;

/// Network-simplex pivots per polish (each moves at most one cycle per
/// component).
const MAX_PIVOTS: usize = 64;

/// A cycle whose trade costs miss by more than this share of the price
/// scale is cross-hauling (far below the check's 1e-5).
const PIVOT_TOL: f64 = 1e-7;

/// Flow on a link now.
#[inline]
fn link_flow(out: &Solution, l: &Link) -> f64 {
    if l.arc == DOMESTIC {
        out.domestic[l.seller]
    } else {
        out.flow[l.arc]
    }
}

/// The other end of link `l` from vertex `v`.
#[inline]
fn other(l: &Link, v: usize) -> usize {
    if is_seller(v) {
        2 * l.buyer + 1
    } else {
        2 * l.seller
    }
}

/// Side vertices: the seller side of node j is `2j`, the buyer side `2j + 1`.
#[inline]
fn is_seller(v: usize) -> bool {
    v & 1 == 0
}

/// Scratch memory of the polish (kept in the solver between solves).
#[derive(Clone, Debug, Default)]
pub(crate) struct Polish {
    links: Vec<Link>,
    /// Links per side vertex (seller j = 2j, buyer i = 2i + 1), CSR.
    start: Vec<usize>,
    adj: Vec<usize>,
    /// Per vertex: the component's root price maps to this vertex's price
    /// as `alpha * r + beta`.
    alpha: Vec<f64>,
    beta: Vec<f64>,
    /// Per vertex: the tree link to its parent, or NONE for a root.
    parent: Vec<usize>,
    seen: Vec<bool>,
    /// Per vertex: what it ships (seller) or receives (buyer) outside the tree.
    fixed: Vec<f64>,
    order: Vec<usize>,
    on_tree: Vec<bool>,
    sub: Vec<f64>,
    tree_flow: Vec<f64>,
    exports: Vec<f64>,
    /// Per vertex: depth in its tree and component.
    depth: Vec<u32>,
    comp: Vec<usize>,
    /// `order[comp_start[c]..comp_start[c + 1]]`: component c, root first.
    comp_start: Vec<usize>,
    pivoted: Vec<bool>,
    cycle: Vec<(usize, f64)>,
}

impl Polish {
    /// Polishes every component of the price links of `out`'s flows;
    /// `qtol` is the flow below which a route counts as unused; unused
    /// routes take part (in pivots) only if `active`. Returns how many
    /// pivots were made and components re-solved (0: `out` is unchanged).
    pub(crate) fn run(
        &mut self,
        market: &Net<'_>,
        active: &[bool],
        out: &mut Solution,
        qtol: f64,
    ) -> usize {
        let pscale = out.price_scale();
        let (solved, pivots) = self.solve_pattern(market, active, out, qtol, pscale);
        solved + pivots
    }

    /// Pivots, then solves every component; (components solved, pivots).
    fn solve_pattern(
        &mut self,
        market: &Net<'_>,
        active: &[bool],
        out: &mut Solution,
        qtol: f64,
        pscale: f64,
    ) -> (usize, usize) {
        let n = market.nodes.len();
        let mut pivots = 0;
        loop {
            self.build_links(market, active, out, qtol);
            if self.links.is_empty() {
                return (0, pivots);
            }
            self.forest(n);
            if pivots >= MAX_PIVOTS || !self.pivot(market, out, pscale) {
                break;
            }
            pivots += 1;
        }
        let nv = 2 * n;
        // Flows off the trees are fixed: every flow, less the tree links'.
        self.fixed.clear();
        self.fixed.resize(nv, 0.0);
        for i in 0..n {
            self.fixed[2 * i] += out.domestic[i];
            self.fixed[2 * i + 1] += out.domestic[i];
        }
        for (a, arc) in market.arcs.iter().enumerate() {
            self.fixed[2 * arc.from] += out.flow[a];
            self.fixed[2 * arc.to + 1] += out.flow[a];
        }
        for &v in &self.order {
            if self.parent[v] != NONE {
                let l = self.links[self.parent[v]];
                let x = link_flow(out, &l);
                self.fixed[2 * l.seller] -= x;
                self.fixed[2 * l.buyer + 1] -= x;
            }
        }
        self.tree_flow.clear();
        self.tree_flow.resize(self.links.len(), 0.0);
        self.sub.clear();
        self.sub.resize(nv, 0.0);
        let mut solved = 0;
        for c in 0..self.comp_start.len() - 1 {
            if self.component(market, out, c, qtol) {
                solved += 1;
            }
        }
        (solved, pivots)
    }

    /// CSR of the links per vertex, and a breadth-first spanning tree of
    /// every component with the affine maps from its root's price.
    fn forest(&mut self, n: usize) {
        let nv = 2 * n;
        self.start.clear();
        self.start.resize(nv + 1, 0);
        for l in &self.links {
            self.start[2 * l.seller + 1] += 1;
            self.start[2 * l.buyer + 2] += 1;
        }
        for v in 0..nv {
            self.start[v + 1] += self.start[v];
        }
        self.adj.clear();
        self.adj.resize(self.start[nv], 0);
        let mut fill = self.start.clone();
        for (k, l) in self.links.iter().enumerate() {
            self.adj[fill[2 * l.seller]] = k;
            fill[2 * l.seller] += 1;
            self.adj[fill[2 * l.buyer + 1]] = k;
            fill[2 * l.buyer + 1] += 1;
        }
        self.alpha.clear();
        self.alpha.resize(nv, 0.0);
        self.beta.clear();
        self.beta.resize(nv, 0.0);
        self.parent.clear();
        self.parent.resize(nv, NONE);
        self.depth.clear();
        self.depth.resize(nv, 0);
        self.comp.clear();
        self.comp.resize(nv, NONE);
        self.seen.clear();
        self.seen.resize(nv, false);
        self.on_tree.clear();
        self.on_tree.resize(self.links.len(), false);
        self.order.clear();
        self.comp_start.clear();
        self.comp_start.push(0);
        for root in 0..nv {
            if self.seen[root] || self.start[root] == self.start[root + 1] {
                continue;
            }
            let c = self.comp_start.len() - 1;
            let mut head = self.order.len();
            self.order.push(root);
            self.seen[root] = true;
            self.alpha[root] = 1.0;
            self.comp[root] = c;
            while head < self.order.len() {
                let v = self.order[head];
                head += 1;
                for k in self.start[v]..self.start[v + 1] {
                    let li = self.adj[k];
                    let l = self.links[li];
                    if !l.used {
                        continue;
                    }
                    let (w, a, b) = if is_seller(v) {
                        // Seller to buyer: p = m s + m t.
                        (2 * l.buyer + 1, l.m, l.m * l.t)
                    } else {
                        // Buyer to seller: s = p / m - t.
                        (2 * l.seller, 1.0 / l.m, -l.t)
                    };
                    if self.seen[w] {
                        continue;
                    }
                    self.seen[w] = true;
                    self.alpha[w] = a * self.alpha[v];
                    self.beta[w] = a * self.beta[v] + b;
                    self.parent[w] = li;
                    self.depth[w] = self.depth[v] + 1;
                    self.comp[w] = c;
                    self.on_tree[li] = true;
                    self.order.push(w);
                }
            }
            self.comp_start.push(self.order.len());
        }
    }

    /// Links off the trees close cycles. On a cycle whose trade costs do not
    /// add up (the link lands cheaper or dearer than the tree path between
    /// its ends), no price system supports flow on every link: goods cross-
    /// haul. Pushes flow around the first such cycle of each component, in
    /// the direction that lowers cost, until a link empties or fills (a
    /// network-simplex pivot; balances are unchanged). True if any moved.
    fn pivot(&mut self, market: &Net<'_>, out: &mut Solution, pscale: f64) -> bool {
        self.pivoted.clear();
        self.pivoted.resize(self.comp_start.len(), false);
        let mut moved = false;
        for k in 0..self.links.len() {
            if self.on_tree[k] {
                continue;
            }
            let l = self.links[k];
            let (sv, bv) = (2 * l.seller, 2 * l.buyer + 1);
            let c = self.comp[sv];
            if c != self.comp[bv] || self.pivoted[c] {
                continue;
            }
            // Consistent iff the link's price map equals the tree path's.
            // With ad valorem rates on the cycle the slopes may differ; then
            // the cycle is consistent at one price only: left alone.
            if (self.alpha[bv] - l.m * self.alpha[sv]).abs() > 1e-12 * self.alpha[bv] {
                continue;
            }
            let delta = self.beta[bv] - l.m * (self.beta[sv] + l.t);
            // An unused link can only gain flow: it must land cheaper.
            if delta.abs() <= PIVOT_TOL * pscale || (!l.used && delta < 0.0) {
                continue;
            }
            // The cycle: the link seller -> buyer, then the tree path from
            // the buyer back to the seller. A link crossed from seller to
            // buyer gains what is pushed, one crossed the other way loses it.
            self.cycle.clear();
            self.cycle.push((k, 1.0));
            let (mut u, mut w) = (bv, sv);
            let mut tail = Vec::new();
            while u != w {
                if self.depth[u] >= self.depth[w] {
                    let li = self.parent[u];
                    self.cycle.push((li, if is_seller(u) { 1.0 } else { -1.0 }));
                    u = other(&self.links[li], u);
                } else {
                    let li = self.parent[w];
                    tail.push((li, if is_seller(w) { -1.0 } else { 1.0 }));
                    w = other(&self.links[li], w);
                }
            }
            self.cycle.extend(tail.into_iter().rev());
            let dir = if delta > 0.0 { 1.0 } else { -1.0 };
            let mut theta = f64::INFINITY;
            let mut leaving = NONE;
            for &(li, sign) in &self.cycle {
                let link = self.links[li];
                let x = link_flow(out, &link);
                let room = if dir * sign < 0.0 {
                    x
                } else if link.arc == DOMESTIC {
                    f64::INFINITY
                } else {
                    market.arcs[link.arc].quota - x
                };
                if room < theta {
                    theta = room;
                    leaving = li;
                }
            }
            // Export caps: a seller whose domestic sale shrinks on the cycle
            // exports more.
            for &(li, sign) in &self.cycle {
                let link = self.links[li];
                if link.arc == DOMESTIC && dir * sign < 0.0 {
                    let j = link.seller;
                    let room = market.nodes[j].export_cap - self.exports[j];
                    if room < theta {
                        theta = room;
                        leaving = NONE;
                    }
                }
            }
            if !(theta > 0.0 && theta.is_finite()) {
                continue;
            }
            self.pivoted[c] = true;
            for &(li, sign) in &self.cycle {
                let link = self.links[li];
                let x = if li == leaving && dir * sign < 0.0 {
                    0.0
                } else if li == leaving {
                    market.arcs[link.arc].quota
                } else {
                    (link_flow(out, &link) + dir * sign * theta).max(0.0)
                };
                if link.arc == DOMESTIC {
                    out.domestic[link.seller] = x;
                } else {
                    self.exports[link.seller] += x - out.flow[link.arc];
                    out.flow[link.arc] = x;
                }
            }
            moved = true;
        }
        moved
    }

    /// The links of the current flows (see the module docs).
    fn build_links(&mut self, market: &Net<'_>, active: &[bool], out: &Solution, qtol: f64) {
        self.links.clear();
        for (i, node) in market.nodes.iter().enumerate() {
            if !node.supply.is_empty() && !node.demand.is_empty() {
                self.links.push(Link {
                    seller: i,
                    buyer: i,
                    arc: DOMESTIC,
                    t: 0.0,
                    m: 1.0,
                    used: out.domestic[i] > qtol,
                });
            }
        }
        let n = market.nodes.len();
        self.exports.clear();
        self.exports.resize(n, 0.0);
        for (a, arc) in market.arcs.iter().enumerate() {
            self.exports[arc.from] += out.flow[a];
        }
        for (a, arc) in market.arcs.iter().enumerate() {
            let x = out.flow[a];
            let j = arc.from;
            let exporter: &Node = &market.nodes[j];
            // Unused routes enter only if active: the sweeps see no others.
            if x >= arc.quota - qtol
                || (x <= qtol && !active[a])
                || exporter.supply.is_empty()
                || market.nodes[arc.to].demand.is_empty()
                || out.export_rent[j] > 0.0
                || self.exports[j] >= exporter.export_cap - qtol
            {
                continue;
            }
            if let Some(f) = arc.floor {
                let raw = (out.supply_price[j] + arc.transport_cost) * (1.0 + arc.ad_valorem);
                if raw <= f + STEP_WIDTH_REL * f.max(1.0) {
                    continue;
                }
            }
            self.links.push(Link {
                seller: j,
                buyer: arc.to,
                arc: a,
                t: arc.transport_cost,
                m: 1.0 + arc.ad_valorem,
                used: x > qtol,
            });
        }
    }

    /// Solves component `c` (trees from `forest`, fixed flows in `fixed`);
    /// true if its result was taken.
    fn component(&mut self, market: &Net<'_>, out: &mut Solution, c: usize, qtol: f64) -> bool {
        let root = self.order[self.comp_start[c]];
        if self.comp_start[c + 1] - self.comp_start[c] < 2 {
            return false;
        }
        let Polish {
            links,
            alpha,
            beta,
            parent,
            fixed,
            order,
            sub,
            tree_flow,
            exports,
            ..
        } = self;
        let order = &order[self.comp_start[c]..self.comp_start[c + 1]];
        let (alpha, beta, fixed) = (&alpha[..], &beta[..], &fixed[..]);
        let nodes = market.nodes;
        let excess = |r: f64| -> Eval {
            let mut g = 0.0;
            let mut dg = 0.0;
            let mut scale = 0.0;
            for &v in order {
                let price = alpha[v] * r + beta[v];
                if is_seller(v) {
                    let (q, dq) = nodes[v / 2].supply.quantity_and_slope(price);
                    g += q - fixed[v];
                    dg += dq * alpha[v];
                    scale += q + fixed[v].abs();
                } else {
                    let (q, dq) = nodes[v / 2].demand.quantity_and_slope(price);
                    g -= q - fixed[v];
                    dg += dq * alpha[v];
                    scale += q + fixed[v].abs();
                }
            }
            Eval { g, dg, scale }
        };
        // Prices stay >= 0.
        let r_lo = order
            .iter()
            .map(|&v| -beta[v] / alpha[v])
            .fold(0.0_f64, f64::max);
        let r_now = if is_seller(root) {
            out.supply_price[root / 2]
        } else {
            out.local_price[root / 2].unwrap_or(r_lo)
        };
        let at_lo = excess(r_lo);
        let r = if at_lo.g >= 0.0 {
            r_lo
        } else {
            match root_above(&excess, r_lo, at_lo, r_now, r_now.max(1.0) * 2.0) {
                Some(r) => r,
                None => return false,
            }
        };
        // Tree flows, leaves first: each vertex's subtree excess crosses the
        // link to its parent.
        for &v in order.iter().rev() {
            let price = alpha[v] * r + beta[v];
            let own = if is_seller(v) {
                nodes[v / 2].supply.quantity(price) - fixed[v]
            } else {
                -(nodes[v / 2].demand.quantity(price) - fixed[v])
            };
            sub[v] += own;
            if v != root {
                let li = parent[v];
                let l = links[li];
                // Flow seller -> buyer: the seller's surplus, or the buyer's need.
                tree_flow[li] = if is_seller(v) { sub[v] } else { -sub[v] };
                let p = if is_seller(v) {
                    2 * l.buyer + 1
                } else {
                    2 * l.seller
                };
                sub[p] += sub[v];
            }
        }
        // Feasibility: non-negative, within quotas and export caps.
        for &v in &order[1..] {
            let l = links[parent[v]];
            let x = tree_flow[parent[v]];
            if x < -qtol || (l.arc != DOMESTIC && x > market.arcs[l.arc].quota) {
                return false;
            }
            if l.arc != DOMESTIC {
                exports[l.seller] += x.max(0.0) - out.flow[l.arc];
            }
        }
        for &v in order {
            if is_seller(v) && exports[v / 2] > nodes[v / 2].export_cap {
                return false;
            }
        }
        for &v in order {
            let price = alpha[v] * r + beta[v];
            if is_seller(v) {
                out.supply_price[v / 2] = price;
            } else {
                out.local_price[v / 2] = Some(price);
            }
        }
        for &v in &order[1..] {
            let li = parent[v];
            let l = links[li];
            let x = tree_flow[li].max(0.0);
            if l.arc == DOMESTIC {
                out.domestic[l.seller] = x;
            } else {
                out.flow[l.arc] = x;
            }
        }
        true
    }
}
