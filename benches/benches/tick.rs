//! Time per tick: one `Simulation::step` on a warmed-up simulation.
//!
//! Each benchmark keeps one simulation and steps it again and again (worlds have no
//! end), after warm-up ticks so that the solver's warm start and the firms' stocks are
//! representative of a long run rather than of tick 0. Simulations are built lazily,
//! so a filter such as `tick/generated/10x100` skips building the large worlds.
//!
//! cargo bench -p chokepoint-benches --bench tick -- --warm-up-time 1 --measurement-time 5

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use chokepoint_benches::{bundled_world, generated_world};
use chokepoint_engine::Simulation;
use chokepoint_world::World;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};

const SEED: u64 = 2026;

/// A simulation of `world` after `ticks` ticks.
fn warmed(label: &str, world: World, ticks: usize) -> Simulation {
    let start = Instant::now();
    let mut sim = Simulation::new(Arc::new(world), SEED);
    let built = start.elapsed();
    for _ in 0..ticks {
        sim.step()
            .unwrap_or_else(|e| panic!("{label}: warm-up tick failed: {e}"));
    }
    let r = sim.record();
    let sweeps: u32 = r.clearing.iter().map(|c| c.sweeps).sum();
    let unconverged = r.clearing.iter().filter(|c| !c.converged).count();
    eprintln!(
        "{label}: built in {built:.2?}, {ticks} warm-up ticks in {:.2?}; last tick: {} markets, \
         {sweeps} sweeps ({unconverged} not converged), {} flows",
        start.elapsed() - built,
        r.clearing.len(),
        r.flows.len(),
    );
    sim
}

fn step(sim: &mut Simulation) -> usize {
    sim.step().expect("tick").flows.len()
}

fn tick(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick");

    let mut bundled = None;
    group.bench_function("bundled", |b| {
        let sim = bundled.get_or_insert_with(|| warmed("tick/bundled", bundled_world(), 24));
        b.iter(|| black_box(step(sim)));
    });

    // Adaptation on: demand adjustment, recycling pools, the investment rule, levers.
    let mut adaptation = None;
    group.bench_function("adaptation-demo", |b| {
        let sim = adaptation.get_or_insert_with(|| {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../worlds/adaptation-demo.toml");
            let world = chokepoint_world::load(&path).unwrap_or_else(|e| panic!("{e}"));
            warmed("tick/adaptation-demo", world, 60)
        });
        b.iter(|| black_box(step(sim)));
    });

    // (nations, firms, sample size, warm-up ticks); 10 commodities x 3 stages each.
    // Warm-up is counted in ticks, not time: the first tick of a large world is a cold
    // solve from autarky (about 5 s at 200x20000) and sweeps per tick keep falling
    // while the warm start settles: about 20 ticks at 50 nations, about 90 at 200, where
    // two of the first 30 ticks also run a market to the sweep cap (about 1 s each; the
    // README gives a whole run's mean beside this steady figure).
    for (nations, firms, samples, warm_up) in [
        (10, 100, 100, 24),
        (50, 2_000, 20, 24),
        (200, 20_000, 10, 120),
    ] {
        let id = format!("generated/{nations}x{firms}");
        let label = format!("tick/{id}");
        group.sample_size(samples);
        // Flat sampling for the slow size: 10 samples of equal iteration counts rather
        // than criterion's 1, 2, .., 10 ramp (55 ticks at least).
        group.sampling_mode(if firms >= 20_000 {
            SamplingMode::Flat
        } else {
            SamplingMode::Auto
        });
        let mut sim = None;
        group.bench_function(&id, |b| {
            let sim = sim.get_or_insert_with(|| {
                warmed(
                    &label,
                    generated_world(nations, firms, 10, 3, SEED),
                    warm_up,
                )
            });
            b.iter(|| black_box(step(sim)));
        });
    }
    group.finish();
}

criterion_group!(benches, tick);
criterion_main!(benches);
