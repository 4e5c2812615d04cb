//! Warm starts, input validation and API edge cases.

mod common;

use chokepoint_clearing::{
    Arc, ClearingError, DemandCurve, Market, Node, Solution, Solver, SupplyCurve,
};
use common::{Lcg, assert_rel, check_equilibrium};

/// A 30-nation world with firm-level supply ramps, end-use demand and
/// dense arcs with distance-based costs and random tariffs.
fn world(n: usize, seed: u64) -> Market {
    let mut r = Lcg(seed);
    let mut m = Market::default();
    let mut xy = Vec::new();
    for _ in 0..n {
        xy.push((r.range(0.0, 100.0), r.range(0.0, 100.0)));
        let mut node = Node::new();
        if r.chance(0.4) {
            for _ in 0..(1 + (r.unit() * 20.0) as usize) {
                let lo = r.range(20.0, 80.0);
                node.supply
                    .add_ramp(lo, lo + r.range(5.0, 40.0), r.range(1.0, 20.0));
            }
        }
        node.demand
            .add_linear(r.range(20.0, 200.0), r.range(0.1, 1.5));
        for _ in 0..((r.unit() * 6.0) as usize) {
            let lo = r.range(30.0, 120.0);
            node.demand
                .add_ramp(lo, lo + r.range(5.0, 50.0), r.range(1.0, 10.0));
        }
        node.supply.finish();
        node.demand.finish();
        m.nodes.push(node);
    }
    for i in 0..n {
        for j in 0..n {
            if i != j {
                let d = ((xy[i].0 - xy[j].0).powi(2) + (xy[i].1 - xy[j].1).powi(2)).sqrt();
                let mut a = Arc::new(i, j, 2.0 + 0.3 * d);
                if r.chance(0.3) {
                    a.ad_valorem = r.range(0.0, 0.25);
                }
                m.arcs.push(a);
            }
        }
    }
    m
}

#[test]
fn warm_start_gives_same_answer_in_fewer_sweeps() {
    let m = world(30, 7);
    let mut solver = Solver::new();
    let base = solver.solve(&m, None).unwrap();
    assert!(base.converged);

    // Next tick: demand in one importer grows 5 %, a producer adds a firm.
    let mut next = m.clone();
    next.nodes[4].demand.add_linear(3.0, 0.02);
    next.nodes[4].demand.finish();
    let producer = (0..next.nodes.len())
        .find(|&i| !next.nodes[i].supply.is_empty())
        .unwrap();
    next.nodes[producer].supply.add_ramp(50.0, 70.0, 5.0);
    next.nodes[producer].supply.finish();

    let cold = solver.solve(&next, None).unwrap();
    let warm = solver.solve(&next, Some(&base)).unwrap();
    assert!(cold.converged && warm.converged);
    check_equilibrium(&next, &warm, 1e-6).unwrap();
    assert!(
        warm.sweeps < cold.sweeps,
        "warm {} sweeps, cold {}",
        warm.sweeps,
        cold.sweeps
    );
    for i in 0..next.nodes.len() {
        assert_rel(
            warm.produced[i] + 1.0,
            cold.produced[i] + 1.0,
            1e-6,
            "produced",
        );
        assert_rel(
            warm.consumed[i] + 1.0,
            cold.consumed[i] + 1.0,
            1e-6,
            "consumed",
        );
        assert_rel(
            warm.local_price[i].unwrap(),
            cold.local_price[i].unwrap(),
            1e-6,
            "price",
        );
    }

    // An unchanged tick is a single sweep, and solve_into reuses the buffers.
    let mut steady: Solution = warm.clone();
    solver.solve_into(&next, &mut steady).unwrap();
    assert!(steady.converged);
    assert!(
        steady.sweeps <= 2,
        "steady state took {} sweeps",
        steady.sweeps
    );
}

#[test]
fn warm_start_of_the_wrong_shape_is_ignored() {
    let m = world(8, 3);
    let mut solver = Solver::new();
    let cold = solver.solve(&m, None).unwrap();
    let mut junk = Solution {
        flow: vec![f64::NAN; 3],
        ..Solution::default()
    };
    solver.solve_into(&m, &mut junk).unwrap();
    assert_eq!(junk.flow.len(), m.arcs.len());
    assert_eq!(junk.flow, cold.flow);
}

fn two_nodes() -> Market {
    let mut a = Node::new();
    a.supply.add_ramp(10.0, 50.0, 40.0);
    a.supply.finish();
    let mut b = Node::new();
    b.demand.add_linear(100.0, 1.0);
    b.demand.finish();
    Market {
        nodes: vec![a, b],
        arcs: vec![Arc::new(0, 1, 5.0)],
        routes: None,
    }
}

#[test]
fn nan_or_infinite_inputs_give_typed_errors_naming_the_culprit() {
    let mut solver = Solver::new();

    let mut m = two_nodes();
    m.nodes[1].supply.add_ramp(f64::NAN, 10.0, 1.0);
    m.nodes[1].supply.finish();
    assert!(matches!(
        solver.solve(&m, None),
        Err(ClearingError::InvalidSupply { node: 1, .. })
    ));

    let mut m = two_nodes();
    m.nodes[0].demand.add_linear(f64::INFINITY, 1.0);
    m.nodes[0].demand.finish();
    assert!(matches!(
        solver.solve(&m, None),
        Err(ClearingError::InvalidDemand { node: 0, .. })
    ));

    let mut m = two_nodes();
    m.nodes[0].demand.add_isoelastic(1.0, f64::NAN, 0.5);
    m.nodes[0].demand.finish();
    assert!(matches!(
        solver.solve(&m, None),
        Err(ClearingError::InvalidDemand { node: 0, .. })
    ));

    let mut m = two_nodes();
    m.arcs[0].transport_cost = f64::NAN;
    assert!(matches!(
        solver.solve(&m, None),
        Err(ClearingError::InvalidArc { arc: 0, .. })
    ));

    let mut m = two_nodes();
    m.arcs[0].ad_valorem = f64::INFINITY;
    assert!(matches!(
        solver.solve(&m, None),
        Err(ClearingError::InvalidArc { arc: 0, .. })
    ));

    let mut m = two_nodes();
    m.arcs[0].floor = Some(f64::NAN);
    assert!(matches!(
        solver.solve(&m, None),
        Err(ClearingError::InvalidArc { arc: 0, .. })
    ));

    let mut m = two_nodes();
    m.arcs[0].quota = f64::NAN;
    assert!(matches!(
        solver.solve(&m, None),
        Err(ClearingError::InvalidArc { arc: 0, .. })
    ));

    let mut m = two_nodes();
    m.nodes[0].export_cap = f64::NAN;
    assert!(matches!(
        solver.solve(&m, None),
        Err(ClearingError::InvalidExportCap { node: 0 })
    ));

    // The solver stays usable after an error.
    assert!(solver.solve(&two_nodes(), None).unwrap().converged);
}

#[test]
fn malformed_markets_give_typed_errors() {
    let mut solver = Solver::new();

    let mut m = two_nodes();
    m.arcs.push(Arc::new(0, 1, 7.0));
    assert_eq!(
        solver.solve(&m, None).unwrap_err(),
        ClearingError::DuplicateArc { arc: 1, first: 0 }
    );

    let mut m = two_nodes();
    m.arcs.push(Arc::new(0, 2, 1.0));
    assert!(matches!(
        solver.solve(&m, None),
        Err(ClearingError::InvalidArc { arc: 1, .. })
    ));

    let mut m = two_nodes();
    m.arcs.push(Arc::new(1, 1, 1.0));
    assert!(matches!(
        solver.solve(&m, None),
        Err(ClearingError::InvalidArc { arc: 1, .. })
    ));

    let mut m = two_nodes();
    m.nodes[1].demand.add_ramp(10.0, 5.0, 1.0);
    m.nodes[1].demand.finish();
    assert!(matches!(
        solver.solve(&m, None),
        Err(ClearingError::InvalidDemand { node: 1, .. })
    ));

    let mut m = two_nodes();
    m.nodes[0].supply.add_ramp(20.0, 30.0, 5.0); // not finished
    assert_eq!(
        solver.solve(&m, None).unwrap_err(),
        ClearingError::UnfinishedCurve { node: 0 }
    );
}

#[test]
fn step_supply_is_a_steep_ramp_and_inventory_clears_at_its_reservation_price() {
    // 30 t of inventory offered at 80 (a step), demand 100 - 0.5 p: at 80
    // buyers want 60 > 30, so the price rises until 100 - 0.5 p = 30 => 140.
    let mut n = Node::new();
    n.supply.add_ramp(80.0, 80.0, 30.0);
    n.supply.finish();
    n.demand.add_linear(100.0, 0.5);
    n.demand.finish();
    let m = Market {
        nodes: vec![n],
        arcs: vec![],
        routes: None,
    };
    let sol = Solver::new().solve(&m, None).unwrap();
    assert!(sol.converged);
    assert_rel(sol.local_price[0].unwrap(), 140.0, 1e-9, "scarcity price");
    assert_rel(sol.produced[0], 30.0, 1e-9, "all inventory sold");

    // With demand 40 - 0.25 p, only 20 t are wanted at 80: the price stays
    // within the step's width (STEP_WIDTH_REL, 1e-6 relative) of the
    // reservation price.
    let mut n = Node::new();
    n.supply.add_ramp(80.0, 80.0, 30.0);
    n.supply.finish();
    n.demand.add_linear(40.0, 0.25);
    n.demand.finish();
    let m = Market {
        nodes: vec![n],
        arcs: vec![],
        routes: None,
    };
    let sol = Solver::new().solve(&m, None).unwrap();
    assert!(sol.converged);
    assert_rel(sol.local_price[0].unwrap(), 80.0, 1e-6, "reservation price");
    assert_rel(sol.produced[0], 20.0, 1e-6, "partial sale");
}

#[test]
fn curve_evaluation_uses_the_breakpoint_table() {
    // Many firms: the finished curve agrees with direct summation.
    let mut s = SupplyCurve::new();
    let mut d = DemandCurve::new();
    let mut r = Lcg(11);
    for _ in 0..2000 {
        let lo = r.range(0.0, 100.0);
        s.add_ramp(lo, lo + r.range(0.0, 30.0), r.range(0.1, 5.0));
        d.add_ramp(lo, lo + r.range(0.0, 30.0), r.range(0.1, 5.0));
    }
    let slow_s: Vec<f64> = (0..200).map(|k| s.quantity(k as f64 * 0.7)).collect();
    let slow_d: Vec<f64> = (0..200).map(|k| d.quantity(k as f64 * 0.7)).collect();
    s.finish();
    d.finish();
    for k in 0..200 {
        let p = k as f64 * 0.7;
        assert!((s.quantity(p) - slow_s[k]).abs() < 1e-8 * (1.0 + slow_s[k]));
        assert!((d.quantity(p) - slow_d[k]).abs() < 1e-8 * (1.0 + slow_d[k]));
        if slow_d[k] > 1e-9 {
            let inv = d.inverse(slow_d[k]).unwrap();
            assert!((d.quantity(inv) - slow_d[k]).abs() < 1e-7 * (1.0 + slow_d[k]));
        }
    }
    assert!(!s.is_empty() && d.choke_price().is_some());
    s.clear();
    assert!(s.is_empty());
}

#[test]
fn nodes_without_sources_report_choke_price_or_none() {
    // B has demand with choke 100 but no source; C has nothing at all.
    let mut a = Node::new();
    a.supply.add_ramp(10.0, 20.0, 5.0);
    a.supply.finish();
    let mut b = Node::new();
    b.demand.add_linear(50.0, 0.5);
    b.demand.finish();
    let c = Node::new();
    let m = Market {
        nodes: vec![a, b, c],
        arcs: vec![],
        routes: None,
    };
    let sol = Solver::new().solve(&m, None).unwrap();
    assert!(sol.converged);
    assert_eq!(sol.local_price[1], Some(100.0));
    assert_eq!(sol.local_price[2], None);
    assert_eq!(sol.produced[0], 0.0);
    assert_rel(
        sol.supply_price[0],
        10.0,
        1e-12,
        "idle producer reports marginal cost",
    );
}
