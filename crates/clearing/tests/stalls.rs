//! Markets captured from generated worlds (50 nations x 2000 firms) where
//! block Gauss-Seidel settled at prices no equilibrium supports (gaps up to
//! 13% of the price scale, or a thousand sweeps creeping at 2e-5), where it
//! settled cross-hauling (a nation importing at one price while exporting
//! at a lower one: fixed only by moving goods around a cycle), and a cold
//! solve whose sweeps crept for 10,000 sweeps while a polish was being
//! developed (a polished point returned without a sweep after it left
//! producers off their curves, selling more than their capacity), and, from
//! 200 nations x 20000 firms, a market stalled for 30 ticks because a
//! producer at capacity with 1.6e-13 t of exports counted as an exporter
//! whose supply price bounds its buyers' price, and a market whose every
//! round settled in one sweep while the pricing pass toggled the same
//! unused arcs on and off, so neither the check nor the polish ever ran
//! and it crept to the sweep cap (10,000 sweeps), and two whose check
//! failed on local prices read before producers at capacity selling at
//! home only were raised to their buyers' price (one of them also crept to
//! the cap). Each file
//! holds the market and the warm start the engine gave the solver (see
//! [`Case`]); captured with the `capture` feature.

mod common;

use chokepoint_clearing::{Case, Market, Solution, Solver};
use common::{check_equilibrium, price_scale};

const CASES: [(&str, &str); 10] = [
    (
        "stall-50n-gap1.3e-1",
        include_str!("cases/stall-50n-gap1.3e-1.txt"),
    ),
    (
        "stall-50n-gap1.4e-5",
        include_str!("cases/stall-50n-gap1.4e-5.txt"),
    ),
    (
        "stall-50n-1031sweeps-gap1.9e-5",
        include_str!("cases/stall-50n-1031sweeps-gap1.9e-5.txt"),
    ),
    (
        "crosshaul-50n-gap2.8e-2",
        include_str!("cases/crosshaul-50n-gap2.8e-2.txt"),
    ),
    (
        "crosshaul-50n-gap6.8e-3",
        include_str!("cases/crosshaul-50n-gap6.8e-3.txt"),
    ),
    ("cold-50n", include_str!("cases/cold-50n.txt")),
    (
        "dust-200n-gap6.8e-3",
        include_str!("cases/dust-200n-gap6.8e-3.txt"),
    ),
    (
        "creep-200n-10000sweeps",
        include_str!("cases/creep-200n-10000sweeps.txt"),
    ),
    (
        "stale-200n-10000sweeps",
        include_str!("cases/stale-200n-10000sweeps.txt"),
    ),
    (
        "stale-200n-gap8.1e-3",
        include_str!("cases/stale-200n-gap8.1e-3.txt"),
    ),
];

fn solve(case: &Case, solver: &mut Solver) -> Solution {
    solver
        .solve_from(&case.market, case.warm.clone(), &case.pairs)
        .expect("solves")
}

/// A captured case by name, parsed, and a fresh solver's solution of it.
fn solve_case(name: &str) -> (Case, Solver, Solution) {
    let (_, text) = CASES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no captured case {name}"));
    let case = Case::parse(text).expect("parses");
    let mut solver = Solver::new();
    let sol = solve(&case, &mut solver);
    (case, solver, sol)
}

/// Routes the rule did not open carry nothing: none may land below a
/// buyer's price where the buyer would buy more.
fn check_unopened_routes(case: &Case, arcs: &[chokepoint_clearing::Arc], sol: &Solution, tol: f64) {
    let Some(routes) = &case.market.routes else {
        return;
    };
    let n = case.market.nodes.len();
    let volume: f64 = sol.consumed.iter().sum::<f64>().max(1.0);
    let pscale = price_scale(sol);
    for i in 0..n {
        let Some(p) = sol.local_price[i] else {
            continue;
        };
        for j in 0..n {
            let exporter = &case.market.nodes[j];
            if j == i
                || exporter.supply.is_empty()
                || exporter.export_cap == 0.0
                || arcs.iter().any(|a| a.from == j && a.to == i)
            {
                continue;
            }
            let landed = sol.supply_price[j] + sol.export_rent[j] + routes.cost(j, i);
            let d = case.market.nodes[i].demand.quantity(landed);
            assert!(
                !(p > landed + tol * pscale && d > sol.consumed[i] + tol * volume),
                "route {j}->{i} lands at {landed} below the price {p} of a buyer who wants {d} > {}",
                sol.consumed[i]
            );
        }
    }
}

#[test]
fn captured_stalls_converge_and_pass_the_independent_check() {
    for (name, _) in CASES {
        let (case, solver, sol) = solve_case(name);
        assert!(
            sol.converged,
            "{name}: not converged, residual {:.2e} after {} sweeps",
            sol.residual, sol.sweeps
        );
        assert!(sol.residual <= 1e-5, "{name}: residual {}", sol.residual);
        let listed = Market {
            nodes: case.market.nodes.clone(),
            arcs: solver.arcs().to_vec(),
            routes: None,
        };
        if let Err(e) = check_equilibrium(&listed, &sol, 1.5e-5) {
            panic!("{name}: {e}");
        }
        check_unopened_routes(&case, solver.arcs(), &sol, 1.5e-5);
        // The engine splits a nation's sales among its firms by their curves:
        // nobody may sell more than its curve's capacity.
        for (j, node) in case.market.nodes.iter().enumerate() {
            let cap = node.supply.capacity();
            assert!(
                sol.produced[j] <= cap * (1.0 + 1e-9),
                "{name}: node {j} produces {} > capacity {cap}",
                sol.produced[j]
            );
        }
    }
}

#[test]
fn markets_that_crept_to_the_sweep_cap_converge_long_before_it() {
    for name in ["creep-200n-10000sweeps", "stale-200n-10000sweeps"] {
        let (_, solver, sol) = solve_case(name);
        assert!(sol.converged, "{name}: residual {:.2e}", sol.residual);
        assert!(
            sol.sweeps <= 200,
            "{name}: {} sweeps (the cap is {})",
            sol.sweeps,
            solver.max_sweeps
        );
    }
}

#[test]
fn captured_stalls_solve_bit_identically() {
    for (name, text) in CASES {
        let case = Case::parse(text).expect("parses");
        let mut fresh = Solver::new();
        let a = solve(&case, &mut fresh);
        // A solver that solved other markets first holds only scratch memory.
        let mut used = Solver::new();
        for (_, other) in CASES {
            let other = Case::parse(other).expect("parses");
            solve(&other, &mut used);
        }
        let b = solve(&case, &mut used);
        assert_eq!(a, b, "{name}: same input, different solution");
        assert_eq!(fresh.arcs(), used.arcs(), "{name}: different arcs");
    }
}

#[test]
fn cases_round_trip_exactly() {
    for (name, text) in CASES {
        let case = Case::parse(text).expect("parses");
        assert_eq!(
            case.to_text(),
            text,
            "{name}: text differs after a round trip"
        );
    }
}
