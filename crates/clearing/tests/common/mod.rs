//! Shared test helpers: an independent equilibrium checker and a seeded
//! random market generator.
#![allow(dead_code)]

use chokepoint_clearing::{Arc, Market, Node, Solution};

pub fn rel_close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-12)
}

#[track_caller]
pub fn assert_rel(actual: f64, expected: f64, rel: f64, what: &str) {
    assert!(
        rel_close(actual, expected, rel),
        "{what}: got {actual}, expected {expected} (rel err {:.3e} > {rel:.0e})",
        (actual - expected).abs() / expected.abs().max(1e-12)
    );
}

/// Shape, finiteness, non-negativity and goods balance: what every
/// solution must satisfy, converged or not.
pub fn check_sanity(market: &Market, sol: &Solution) -> Result<(), String> {
    let n = market.nodes.len();
    let na = market.arcs.len();
    let mut errs = Vec::new();
    macro_rules! fail { ($($t:tt)*) => { errs.push(format!($($t)*)) } }
    for (name, len, want) in [
        ("supply_price", sol.supply_price.len(), n),
        ("local_price", sol.local_price.len(), n),
        ("produced", sol.produced.len(), n),
        ("consumed", sol.consumed.len(), n),
        ("domestic", sol.domestic.len(), n),
        ("export_rent", sol.export_rent.len(), n),
        ("flow", sol.flow.len(), na),
        ("landed", sol.landed.len(), na),
        ("tariff_paid", sol.tariff_paid.len(), na),
        ("levy_paid", sol.levy_paid.len(), na),
    ] {
        if len != want {
            return Err(format!("{name} has length {len}, want {want}"));
        }
    }
    let all = sol
        .supply_price
        .iter()
        .chain(&sol.produced)
        .chain(&sol.consumed)
        .chain(&sol.domestic)
        .chain(&sol.export_rent)
        .chain(&sol.flow)
        .chain(&sol.landed)
        .chain(&sol.tariff_paid)
        .chain(&sol.levy_paid)
        .chain(sol.local_price.iter().flatten())
        .chain(std::iter::once(&sol.residual));
    for &x in all {
        if !(x.is_finite() && x >= 0.0) {
            return Err(format!("output value {x} is not finite and non-negative"));
        }
    }

    // Goods balance (exact up to rounding).
    let mut out_sum = sol.domestic.clone();
    let mut in_sum = sol.domestic.clone();
    for (a, arc) in market.arcs.iter().enumerate() {
        out_sum[arc.from] += sol.flow[a];
        in_sum[arc.to] += sol.flow[a];
    }
    for i in 0..n {
        if (out_sum[i] - sol.produced[i]).abs() > 1e-9 * sol.produced[i].max(1.0) {
            fail!(
                "node {i}: produced {} != shipped {}",
                sol.produced[i],
                out_sum[i]
            );
        }
        if (in_sum[i] - sol.consumed[i]).abs() > 1e-9 * sol.consumed[i].max(1.0) {
            fail!(
                "node {i}: consumed {} != received {}",
                sol.consumed[i],
                in_sum[i]
            );
        }
    }

    for (a, arc) in market.arcs.iter().enumerate() {
        if sol.flow[a] > arc.quota * (1.0 + 1e-12) {
            fail!("arc {a}: flow {} above quota {}", sol.flow[a], arc.quota);
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n"))
    }
}

/// The scale price tolerances are relative to: the highest local or supply price
/// (at least 1). The tests' own, kept apart from the solver's on purpose.
pub fn price_scale(sol: &Solution) -> f64 {
    sol.local_price
        .iter()
        .flatten()
        .chain(&sol.supply_price)
        .fold(1.0_f64, |m, &p| m.max(p))
}

/// Checks every Takayama-Judge equilibrium condition, goods balance and
/// output sanity. `tol` is relative: prices are compared against the
/// market's price scale, quantities against its volume. Returns all
/// violations found.
pub fn check_equilibrium(market: &Market, sol: &Solution, tol: f64) -> Result<(), String> {
    check_sanity(market, sol)?;
    let mut errs = Vec::new();
    macro_rules! fail { ($($t:tt)*) => { errs.push(format!($($t)*)) } }

    let volume: f64 = sol.consumed.iter().sum::<f64>().max(1e-9);
    let qtol = tol * volume.max(1.0);
    let pscale = price_scale(sol);
    let ptol = tol * pscale;

    for (i, node) in market.nodes.iter().enumerate() {
        let s = sol.supply_price[i];
        let has_supply = !node.supply.is_empty();
        if has_supply {
            // Producers are on their supply curve (to within what one ulp
            // of price can resolve on a near-vertical step).
            let q = node.supply.quantity(s);
            let ulp = node.supply.quantity(s.next_up()) - node.supply.quantity(s.next_down());
            if (q - sol.produced[i]).abs() > qtol + ulp {
                fail!("node {i}: S(s={s}) = {q} but produced {}", sol.produced[i]);
            }
        } else if sol.produced[i] != 0.0 {
            fail!("node {i}: produces {} without supply", sol.produced[i]);
        }
        if node.demand.is_empty() && sol.consumed[i] != 0.0 {
            fail!("node {i}: consumes {} without demand", sol.consumed[i]);
        }
        let p = sol.local_price[i];
        if let Some(p) = p {
            if sol.consumed[i] > qtol {
                let d = node.demand.quantity(p);
                let ulp = node.demand.quantity(p.next_down()) - node.demand.quantity(p.next_up());
                if (d - sol.consumed[i]).abs() > qtol + ulp {
                    fail!("node {i}: D(p={p}) = {d} but consumed {}", sol.consumed[i]);
                }
            } else if !node.demand.is_empty() {
                // Not buying: price must be at or above the choke price.
                let d = node.demand.quantity(p);
                if d > qtol {
                    fail!("node {i}: consumes nothing but D(p={p}) = {d}");
                }
            }
            if has_supply {
                if p > s + ptol {
                    fail!("node {i}: local price {p} above own supply price {s}");
                }
                if sol.domestic[i] > qtol && (p - s).abs() > ptol {
                    fail!(
                        "node {i}: domestic flow {} but p={p} != s={s}",
                        sol.domestic[i]
                    );
                }
            }
        } else if sol.consumed[i] > 0.0 {
            fail!("node {i}: consumes but has no local price");
        }
        // Export cap.
        let exports: f64 = market
            .arcs
            .iter()
            .zip(&sol.flow)
            .filter(|(a, _)| a.from == i)
            .map(|(_, x)| x)
            .sum();
        if exports > node.export_cap + qtol {
            fail!("node {i}: exports {exports} above cap {}", node.export_cap);
        }
        if sol.export_rent[i] > ptol
            && node.export_cap > 0.0
            && (exports - node.export_cap).abs() > qtol
        {
            fail!(
                "node {i}: export rent {} but exports {exports} != cap {}",
                sol.export_rent[i],
                node.export_cap
            );
        }
    }

    for (a, arc) in market.arcs.iter().enumerate() {
        let x = sol.flow[a];
        let exporter = &market.nodes[arc.from];
        if x > arc.quota * (1.0 + 1e-12) {
            fail!("arc {a}: flow {x} above quota {}", arc.quota);
        }
        if exporter.supply.is_empty() {
            if x != 0.0 {
                fail!("arc {a}: flow {x} from a node without supply");
            }
            continue;
        }
        let fob = sol.supply_price[arc.from] + sol.export_rent[arc.from];
        let cif = fob + arc.transport_cost;
        let raw = cif * (1.0 + arc.ad_valorem);
        let landed = raw.max(arc.floor.unwrap_or(f64::NEG_INFINITY));
        if (landed - sol.landed[a]).abs() > 1e-9 * landed.max(1.0) {
            fail!("arc {a}: landed {} != recomputed {landed}", sol.landed[a]);
        }
        if (sol.tariff_paid[a] - arc.ad_valorem * cif * x).abs() > 1e-9 * (1.0 + sol.tariff_paid[a])
        {
            fail!(
                "arc {a}: tariff {} != tau*cif*x {}",
                sol.tariff_paid[a],
                arc.ad_valorem * cif * x
            );
        }
        let levy = (landed - raw).max(0.0) * x;
        if (sol.levy_paid[a] - levy).abs() > 1e-9 * (1.0 + levy) {
            fail!("arc {a}: levy {} != {levy}", sol.levy_paid[a]);
        }
        if exporter.export_cap == 0.0 || arc.quota == 0.0 {
            continue;
        }
        let Some(p) = sol.local_price[arc.to] else {
            if x > 0.0 {
                fail!("arc {a}: flow {x} into a node without price");
            }
            continue;
        };
        let importer = &market.nodes[arc.to];
        // No profitable unused arbitrage: either the price gap is within
        // tolerance, or the importer would not buy more at the landed price.
        if p > landed + ptol
            && x < arc.quota - qtol
            && importer.demand.quantity(landed) > sol.consumed[arc.to] + qtol
        {
            fail!(
                "arc {a}: local price {p} exceeds landed {landed} with flow {x} < quota {}",
                arc.quota
            );
        }
        if x > qtol && x < arc.quota - qtol && (p - landed).abs() > ptol {
            fail!("arc {a}: interior flow {x} but p={p} != landed={landed}");
        }
        if x >= arc.quota - qtol && x > 0.0 && p < landed - ptol {
            fail!("arc {a}: quota-bound flow but p={p} < landed={landed}");
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n"))
    }
}

/// Tiny deterministic generator (PCG-style LCG) so tests and benches need no rand.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 ^ (self.0 >> 29)
    }
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// Random market of `n` nations, generated from `seed`.
pub fn random_market(seed: u64, n: usize, arc_prob: f64) -> Market {
    random_market_with(seed, n, arc_prob, false)
}

/// Like [`random_market`]; `generic` adds to every node with demand a
/// linear end-use component whose choke price lies above every supply
/// price, so no demand curve is flat where it is positive.
pub fn random_market_with(seed: u64, n: usize, arc_prob: f64, generic: bool) -> Market {
    let mut r = Lcg(seed ^ 0x9E37_79B9_7F4A_7C15);
    let mut m = Market::default();
    for _ in 0..n {
        let mut node = Node::new();
        let firms = (r.unit() * 4.0) as usize;
        for _ in 0..firms {
            let lo = r.range(5.0, 80.0);
            let w = if r.chance(0.15) {
                0.0
            } else {
                r.range(1.0, 60.0)
            };
            node.supply.add_ramp(lo, lo + w, r.range(1.0, 50.0));
        }
        let buyers = (r.unit() * 4.0) as usize;
        for _ in 0..buyers {
            match (r.unit() * 3.0) as u32 {
                0 => node
                    .demand
                    .add_linear(r.range(10.0, 100.0), r.range(0.1, 2.0)),
                1 => {
                    let lo = r.range(0.0, 100.0);
                    node.demand
                        .add_ramp(lo, lo + r.range(0.0, 80.0), r.range(1.0, 40.0));
                }
                _ => node.demand.add_isoelastic(
                    r.range(5.0, 40.0),
                    r.range(30.0, 120.0),
                    r.range(0.2, 1.5),
                ),
            }
        }
        if generic && buyers > 0 {
            node.demand
                .add_linear(r.range(5.0, 30.0), r.range(0.01, 0.1));
        }
        if r.chance(0.15) {
            node.export_cap = r.range(0.0, 30.0);
        }
        node.supply.finish();
        node.demand.finish();
        m.nodes.push(node);
    }
    for from in 0..n {
        for to in 0..n {
            if from == to || !r.chance(arc_prob) {
                continue;
            }
            let mut arc = Arc::new(from, to, r.range(0.0, 30.0));
            if r.chance(0.5) {
                arc.ad_valorem = r.range(0.0, 0.4);
            }
            if r.chance(0.1) {
                arc.floor = Some(r.range(20.0, 150.0));
            }
            if r.chance(0.2) {
                arc.quota = r.range(0.0, 30.0);
            }
            m.arcs.push(arc);
        }
    }
    m
}
