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
}

const DOMESTIC: usize = usize::MAX;
const NONE: usize = usize::MAX;

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
}

impl Polish {
    /// Polishes every component of the price links of `out`'s flows;
    /// `qtol` is the flow below which a route counts as unused. Returns
    /// how many components were re-solved.
    pub(crate) fn run(&mut self, market: &Net<'_>, out: &mut Solution, qtol: f64) -> usize {
        let n = market.nodes.len();
        self.build_links(market, out, qtol);
        if self.links.is_empty() {
            return 0;
        }
        let nv = 2 * n;
        // CSR of links per vertex.
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
        // Flows off the tree are fixed: start from every flow, then take the
        // tree links' flows back out once the tree is known.
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
        self.alpha.clear();
        self.alpha.resize(nv, 0.0);
        self.beta.clear();
        self.beta.resize(nv, 0.0);
        self.parent.clear();
        self.parent.resize(nv, NONE);
        self.seen.clear();
        self.seen.resize(nv, false);
        self.on_tree.clear();
        self.on_tree.resize(self.links.len(), false);
        self.tree_flow.clear();
        self.tree_flow.resize(self.links.len(), 0.0);
        self.sub.clear();
        self.sub.resize(nv, 0.0);
        let mut solved = 0;
        for root in 0..nv {
            if self.seen[root] || self.start[root] == self.start[root + 1] {
                continue;
            }
            if self.component(market, out, root, qtol) {
                solved += 1;
            }
        }
        solved
    }

    /// The links of the current flows (see the module docs).
    fn build_links(&mut self, market: &Net<'_>, out: &Solution, qtol: f64) {
        self.links.clear();
        for (i, node) in market.nodes.iter().enumerate() {
            if !node.supply.is_empty() && !node.demand.is_empty() && out.domestic[i] > qtol {
                self.links.push(Link {
                    seller: i,
                    buyer: i,
                    arc: DOMESTIC,
                    t: 0.0,
                    m: 1.0,
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
            if x <= qtol
                || x >= arc.quota - qtol
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
            });
        }
    }

    /// Solves the component of `root`; true if its result was taken.
    fn component(&mut self, market: &Net<'_>, out: &mut Solution, root: usize, qtol: f64) -> bool {
        // Breadth-first spanning tree with affine price maps.
        self.order.clear();
        self.order.push(root);
        self.seen[root] = true;
        self.alpha[root] = 1.0;
        self.beta[root] = 0.0;
        self.parent[root] = NONE;
        let mut head = 0;
        while head < self.order.len() {
            let v = self.order[head];
            head += 1;
            for k in self.start[v]..self.start[v + 1] {
                let li = self.adj[k];
                let l = self.links[li];
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
                self.on_tree[li] = true;
                self.order.push(w);
            }
        }
        // Tree flows are unknowns: take them out of the fixed amounts.
        for &v in &self.order[1..] {
            let l = self.links[self.parent[v]];
            let x = if l.arc == DOMESTIC {
                out.domestic[l.seller]
            } else {
                out.flow[l.arc]
            };
            self.fixed[2 * l.seller] -= x;
            self.fixed[2 * l.buyer + 1] -= x;
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
        let (order, alpha, beta, fixed) = (&order[..], &alpha[..], &beta[..], &fixed[..]);
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
