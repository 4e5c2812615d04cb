mod common;
use chokepoint_clearing::Solver;
use common::*;

#[test]
#[ignore]
fn explore() {
    let mut solver = Solver::new();
    let mut worst = 0;
    let mut fails = 0;
    let mut nc = 0;
    for seed in 0..500u64 {
        let n = 2 + (seed % 11) as usize;
        let m = random_market(seed, n, 0.7);
        let sol = solver.solve(&m, None).unwrap();
        if !sol.converged { nc += 1; println!("seed {seed} n {n}: not converged, residual {}", sol.residual); }
        worst = worst.max(sol.sweeps);
        if let Err(e) = check_equilibrium(&m, &sol, 1e-6) {
            fails += 1;
            if fails < 6 { println!("seed {seed} n {n} sweeps {}: {e}", sol.sweeps); }
        }
    }
    println!("worst sweeps {worst}, fails {fails}, nonconverged {nc}");
}

#[test]
#[ignore]
fn one() {
    let seed: u64 = std::env::var("SEED").unwrap().parse().unwrap();
    let n = 2 + (seed % 11) as usize;
    let m = random_market(seed, n, 0.7);
    let mut solver = Solver::new();
    let sol = solver.solve(&m, None).unwrap();
    for (i, node) in m.nodes.iter().enumerate() {
        println!("node {i}: s={} rent={} p={:?} prod={} cons={} dom={} cap={} supply_empty={} demand_empty={}", sol.supply_price[i], sol.export_rent[i], sol.local_price[i], sol.produced[i], sol.consumed[i], sol.domestic[i], node.export_cap, node.supply.is_empty(), node.demand.is_empty());
    }
    for (a, arc) in m.arcs.iter().enumerate() {
        if sol.flow[a] > 0.0 || Some(arc.to) == std::env::var("NODE").ok().map(|s| s.parse().unwrap()) {
            println!("arc {a}: {}->{} t={:.3} tau={:.3} floor={:?} q={:.3} flow={} landed={}", arc.from, arc.to, arc.transport_cost, arc.ad_valorem, arc.floor, arc.quota, sol.flow[a], sol.landed[a]);
        }
    }
    println!("{:?}", check_equilibrium(&m, &sol, 1e-6));
    println!("sweeps {}", sol.sweeps);
}
