//! Small markets whose equilibrium is known in closed form. Every test
//! states the analytic answer (worked out in its comment) and asserts it
//! to a relative 1e-6 or better, then runs the generic equilibrium check.

mod common;

use chokepoint_clearing::{Arc, Market, Node, Solver};
use common::{assert_rel, check_equilibrium};

const REL: f64 = 1e-6;

/// Supply `S(p) = slope * (p - p0)` for `p` in `[p0, p0 + span]`: one ramp.
fn linear_supply(node: &mut Node, p0: f64, slope: f64, span: f64) {
    node.supply.add_ramp(p0, p0 + span, slope * span);
    node.supply.finish();
}

/// Demand `D(p) = a - b p`.
fn linear_demand(node: &mut Node, a: f64, b: f64) {
    node.demand.add_linear(a, b);
    node.demand.finish();
}

fn solve_checked(m: &Market) -> chokepoint_clearing::Solution {
    let sol = Solver::new().solve(m, None).expect("solvable");
    assert!(sol.converged, "not converged: residual {}", sol.residual);
    // Steps and floors are smoothed over STEP_WIDTH_REL (1e-6) of price, so
    // equilibrium conditions hold to a few times that.
    check_equilibrium(m, &sol, 3e-6).unwrap();
    sol
}

#[test]
fn one_market_linear_clears_at_analytic_price() {
    // S = (p - a)/b with a = 10, b = 1 (ramp 10..110, 100 t);
    // D = A - B p with A = 120, B = 0.5.
    // (p - 10) = 120 - 0.5 p  =>  p* = (A + a/b) / (B + 1/b) = 130 / 1.5
    // = 86.6667, q* = 76.6667.
    let mut node = Node::new();
    linear_supply(&mut node, 10.0, 1.0, 100.0);
    linear_demand(&mut node, 120.0, 0.5);
    let m = Market {
        nodes: vec![node],
        arcs: vec![],
        routes: None,
    };
    let sol = solve_checked(&m);
    let p = 130.0 / 1.5;
    assert_rel(sol.supply_price[0], p, REL, "supply price");
    assert_rel(sol.local_price[0].unwrap(), p, REL, "local price");
    assert_rel(sol.produced[0], p - 10.0, REL, "quantity");
    assert_rel(sol.domestic[0], p - 10.0, REL, "domestic");
}

#[test]
fn trade_cost_opens_price_gap_equal_to_cost() {
    // A: S = p - 10 (ramp 10..210), D_A = 100 - 0.5 p. B: D_B = 80 - 0.4 p,
    // no supply. Arc A->B with t = 20, so p_B = p_A + 20 and
    // p_A - 10 = 100 - 0.5 p_A + 80 - 0.4 (p_A + 20)  =>  1.9 p_A = 182.
    let mut a = Node::new();
    linear_supply(&mut a, 10.0, 1.0, 200.0);
    linear_demand(&mut a, 100.0, 0.5);
    let mut b = Node::new();
    linear_demand(&mut b, 80.0, 0.4);
    let m = Market {
        nodes: vec![a, b],
        arcs: vec![Arc::new(0, 1, 20.0)],
        routes: None,
    };
    let sol = solve_checked(&m);
    let pa = 182.0 / 1.9;
    let pb = pa + 20.0;
    assert_rel(sol.local_price[0].unwrap(), pa, REL, "p_A");
    assert_rel(sol.local_price[1].unwrap(), pb, REL, "p_B");
    let gap = sol.local_price[1].unwrap() - sol.local_price[0].unwrap();
    assert!(
        (gap - 20.0).abs() < 1e-7,
        "price gap {gap} != transport cost 20"
    );
    assert_rel(sol.flow[0], 80.0 - 0.4 * pb, REL, "flow");
    assert_rel(sol.landed[0], pb, REL, "landed");
}

#[test]
fn tariff_incidence_splits_by_slopes() {
    // Exporter A: S = 2 (p - 10) (supply slope 2 t/$). Importer B:
    // D = 300 - p (demand slope 1 t/$). No transport cost, tariff 25 %:
    // p_B = 1.25 p_A, 2 (p_A - 10) = 300 - 1.25 p_A => p_A = 320 / 3.25.
    // Free trade: 2 (p - 10) = 300 - p => p0 = 320 / 3. Treating the wedge
    // W = p_B - p_A as a specific tariff, buyers bear
    // (p_B - p0) / W = 2 / (2 + 1) of it.
    let mut a = Node::new();
    linear_supply(&mut a, 10.0, 2.0, 200.0);
    let mut b = Node::new();
    linear_demand(&mut b, 300.0, 1.0);
    let mut arc = Arc::new(0, 1, 0.0);
    arc.ad_valorem = 0.25;
    let m = Market {
        nodes: vec![a, b],
        arcs: vec![arc],
        routes: None,
    };
    let sol = solve_checked(&m);
    let pa = 320.0 / 3.25;
    let pb = 1.25 * pa;
    assert_rel(sol.supply_price[0], pa, REL, "p_A");
    assert_rel(sol.local_price[1].unwrap(), pb, REL, "p_B");
    assert_rel(sol.flow[0], 300.0 - pb, REL, "flow");
    assert_rel(
        sol.tariff_paid[0],
        0.25 * pa * (300.0 - pb),
        REL,
        "tariff revenue",
    );
    let p0 = 320.0 / 3.0;
    let wedge = sol.local_price[1].unwrap() - sol.supply_price[0];
    let buyers_share = (sol.local_price[1].unwrap() - p0) / wedge;
    assert_rel(buyers_share, 2.0 / 3.0, REL, "buyers' share of the wedge");
}

#[test]
fn export_ban_gives_two_autarky_prices() {
    // No arc between A and B. A: (p - 10) = 120 - 0.5 p => p = 86.667.
    // B: S = 0.5 (p - 40), D = 90 - 0.3 p => 0.8 p = 110 => p = 137.5.
    // With the arc open (t = 5) A would export and the gap would shrink to 5.
    let mut a = Node::new();
    linear_supply(&mut a, 10.0, 1.0, 200.0);
    linear_demand(&mut a, 120.0, 0.5);
    let mut b = Node::new();
    linear_supply(&mut b, 40.0, 0.5, 200.0);
    linear_demand(&mut b, 90.0, 0.3);
    let mut m = Market {
        nodes: vec![a, b],
        arcs: vec![],
        routes: None,
    };
    let sol = solve_checked(&m);
    assert_rel(sol.local_price[0].unwrap(), 130.0 / 1.5, REL, "autarky p_A");
    assert_rel(sol.local_price[1].unwrap(), 137.5, REL, "autarky p_B");
    m.arcs.push(Arc::new(0, 1, 5.0));
    let open = solve_checked(&m);
    let gap = open.local_price[1].unwrap() - open.local_price[0].unwrap();
    assert!(
        open.flow[0] > 0.0 && (gap - 5.0).abs() < 1e-6,
        "open arc: gap {gap}"
    );
}

#[test]
fn binding_quota_gives_analytic_price_wedge() {
    // A: S = 2 (p - 10); B: D = 300 - p; t = 5. Free trade would ship 190 t
    // (2 (p - 10) = 300 - (p + 5) => p = 105). Quota 100: A sells 100 at
    // p_A = 60, B buys 100 at p_B = 200; the wedge 140 is transport 5 plus
    // a quota rent of 135 per tonne.
    let mut a = Node::new();
    linear_supply(&mut a, 10.0, 2.0, 200.0);
    let mut b = Node::new();
    linear_demand(&mut b, 300.0, 1.0);
    let mut arc = Arc::new(0, 1, 5.0);
    arc.quota = 100.0;
    let m = Market {
        nodes: vec![a, b],
        arcs: vec![arc],
        routes: None,
    };
    let sol = solve_checked(&m);
    assert_rel(sol.flow[0], 100.0, REL, "flow at quota");
    assert_rel(sol.supply_price[0], 60.0, REL, "p_A");
    assert_rel(sol.local_price[1].unwrap(), 200.0, REL, "p_B");
    assert_rel(sol.landed[0], 65.0, REL, "landed");
    let rent = sol.local_price[1].unwrap() - sol.landed[0];
    assert_rel(rent, 135.0, REL, "quota rent");
}

#[test]
fn price_floor_levy_charges_gap_and_holds_members_price() {
    // Non-member N: S = 10 (p - 5) (cheap, elastic). Member M: S = p - 40,
    // D = 200 - p. Arc N->M, t = 5, floor 70. Landed is held at 70, so
    // p_M = 70: M produces 30, consumes 130, imports 100; N sells 100 at
    // s_N = 15 (10 (s - 5) = 100), CIF 20, levy 70 - 20 = 50 per tonne.
    let mut n = Node::new();
    linear_supply(&mut n, 5.0, 10.0, 100.0);
    let mut mem = Node::new();
    linear_supply(&mut mem, 40.0, 1.0, 200.0);
    linear_demand(&mut mem, 200.0, 1.0);
    let mut arc = Arc::new(0, 1, 5.0);
    arc.floor = Some(70.0);
    let m = Market {
        nodes: vec![n, mem],
        arcs: vec![arc],
        routes: None,
    };
    let sol = solve_checked(&m);
    let pm = sol.local_price[1].unwrap();
    assert!(
        pm >= 70.0 * (1.0 - 1e-9),
        "member price {pm} below the floor"
    );
    assert_rel(pm, 70.0, REL, "p_M");
    assert_rel(sol.flow[0], 100.0, REL, "imports");
    assert_rel(sol.supply_price[0], 15.0, REL, "s_N");
    assert_rel(sol.landed[0], 70.0, REL, "landed at floor");
    assert_rel(
        sol.levy_paid[0],
        50.0 * 100.0,
        REL,
        "levy = (F - CIF) * flow",
    );
    assert_rel(sol.produced[1], 30.0, REL, "member output");
}

#[test]
fn export_cap_binds_with_rent() {
    // A: S = 2 (p - 10), D_A = 100 - p; B: D_B = 300 - p; t = 10.
    // Uncapped: 2p - 20 = 100 - p + 290 - p => p = 102.5, exports 187.5.
    // Cap 50: foreign D_B(p_B) = 50 => p_B = 250, A's export price
    // v = 240; home 2 s - 20 = (100 - s) + 50 => s = 170 / 3; rent
    // lambda = 240 - 170 / 3.
    let mut a = Node::new();
    linear_supply(&mut a, 10.0, 2.0, 200.0);
    linear_demand(&mut a, 100.0, 1.0);
    a.export_cap = 50.0;
    let mut b = Node::new();
    linear_demand(&mut b, 300.0, 1.0);
    let m = Market {
        nodes: vec![a, b],
        arcs: vec![Arc::new(0, 1, 10.0)],
        routes: None,
    };
    let sol = solve_checked(&m);
    let s = 170.0 / 3.0;
    assert_rel(sol.flow[0], 50.0, REL, "exports at cap");
    assert_rel(sol.supply_price[0], s, REL, "home price");
    assert_rel(sol.local_price[0].unwrap(), s, REL, "home buyer price");
    assert_rel(sol.local_price[1].unwrap(), 250.0, REL, "p_B");
    assert_rel(sol.export_rent[0], 240.0 - s, REL, "cap rent");
    assert_rel(sol.landed[0], 250.0, REL, "landed includes the rent");
}

#[test]
fn three_exporters_with_tariffs_equalise_landed_prices_at_the_importer() {
    // Exporters k = 0..3 with S_k = c_k (s - a_k), ad valorem tau_k and
    // transport t_k into importer 3 with D = A - B p. All interior, so
    // s_k = p / m_k - t_k (m_k = 1 + tau_k) and
    // sum c_k (p / m_k - t_k - a_k) = A - B p
    // => p = (A + sum c_k (t_k + a_k)) / (B + sum c_k / m_k).
    let c = [1.0, 2.0, 0.5];
    let a0 = [20.0, 30.0, 10.0];
    let t = [5.0, 2.0, 12.0];
    let tau = [0.1, 0.25, 0.0];
    let (big_a, big_b) = (400.0, 1.0);
    let mut nodes = Vec::new();
    let mut arcs = Vec::new();
    for k in 0..3 {
        let mut n = Node::new();
        linear_supply(&mut n, a0[k], c[k], 400.0);
        nodes.push(n);
        let mut arc = Arc::new(k, 3, t[k]);
        arc.ad_valorem = tau[k];
        arcs.push(arc);
    }
    let mut imp = Node::new();
    linear_demand(&mut imp, big_a, big_b);
    nodes.push(imp);
    let m = Market {
        nodes,
        arcs,
        routes: None,
    };
    let sol = solve_checked(&m);
    let num = big_a + (0..3).map(|k| c[k] * (t[k] + a0[k])).sum::<f64>();
    let den = big_b + (0..3).map(|k| c[k] / (1.0 + tau[k])).sum::<f64>();
    let p = num / den;
    assert_rel(sol.local_price[3].unwrap(), p, REL, "importer price");
    for k in 0..3 {
        let s = p / (1.0 + tau[k]) - t[k];
        assert_rel(sol.supply_price[k], s, REL, "exporter price");
        assert_rel(sol.flow[k], c[k] * (s - a0[k]), REL, "flow");
        assert_rel(sol.landed[k], p, REL, "landed equals importer price");
    }
    check_equilibrium(&m, &sol, 1e-9).unwrap();
}
