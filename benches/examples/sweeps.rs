//! Which markets need many sweeps: steps a generated world and prints, per tick, the
//! markets whose solve used more than 100 sweeps or did not converge (with the solver's
//! residual: for an unconverged market its last sweep's flow change, not its equilibrium
//! gap), and the state digest (to compare two builds bit for bit).
//!
//! cargo run --release -p chokepoint-benches --example sweeps -- 50 2000 30
use std::sync::Arc;

use chokepoint_benches::generated_world;
use chokepoint_engine::Simulation;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let (nations, firms, ticks) = (args[0], args[1], args[2]);
    let world = Arc::new(generated_world(nations, firms, 10, 3, 2026));
    let mut sim = Simulation::new(world.clone(), 2026);
    for t in 0..ticks {
        let start = std::time::Instant::now();
        sim.step().expect("tick");
        let el = start.elapsed();
        let r = sim.record();
        let total: u32 = r.clearing.iter().map(|c| c.sweeps).sum();
        let slow: Vec<String> = r
            .clearing
            .iter()
            .filter(|c| c.sweeps > 100 || !c.converged)
            .map(|c| {
                if c.converged {
                    format!("{}:{}", world.market_name(c.market), c.sweeps)
                } else {
                    format!(
                        "{}:{}!(residual {:.1e})",
                        world.market_name(c.market),
                        c.sweeps,
                        c.residual
                    )
                }
            })
            .collect();
        let digest: String = sim
            .state_digest()
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect();
        println!(
            "tick {t}: {el:.2?}, digest {digest}, {total} sweeps, {} flows; {}",
            r.flows.len(),
            slow.join(" ")
        );
    }
}
