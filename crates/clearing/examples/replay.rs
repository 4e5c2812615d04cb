//! Solves captured cases (see `chokepoint_clearing::Case`) and prints, per
//! file, sweeps, whether it converged and its residual.
//!
//! cargo run --release -p chokepoint-clearing --example replay -- /tmp/cases/*.txt
use chokepoint_clearing::{Case, Solver};

fn main() {
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).expect("read case");
        let case = Case::parse(&text).expect("parse case");
        let mut solver = Solver::new();
        let start = std::time::Instant::now();
        let sol = solver
            .solve_from(&case.market, case.warm.clone(), &case.pairs)
            .expect("solve");
        println!(
            "{path}: {} nodes, {} arcs, {} sweeps, converged {}, residual {:.1e}, {:.2?}",
            case.market.nodes.len(),
            solver.arcs().len(),
            sol.sweeps,
            sol.converged,
            sol.residual,
            start.elapsed()
        );
    }
}
