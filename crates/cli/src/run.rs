//! `chokepoint run`: load, step, write tables as we go, summarise.

use std::sync::Arc;

use chokepoint_engine::Simulation;
use chokepoint_host::{Host, SearchPath};
use chokepoint_tables::CsvTables;

use crate::summary::Summary;
use crate::{Failure, RunArgs};

pub fn run(args: &RunArgs, quiet: bool) -> Result<(), Failure> {
    let world = Arc::new(
        chokepoint_world::load(&args.world).map_err(|e| Failure::BadInput(e.to_string()))?,
    );
    let mut tables = CsvTables::create(&args.out).map_err(|e| Failure::BadInput(e.to_string()))?;
    let policy = match args.on_plugin_error {
        crate::OnPluginError::Abort => chokepoint_host::OnPluginError::Abort,
        crate::OnPluginError::SkipAgent => chokepoint_host::OnPluginError::SkipAgent,
    };
    let search = SearchPath::new(args.agents.clone(), Some(&args.world));
    let mut host = Host::load(&world, args.seed, &search, policy)
        .map_err(|e| Failure::BadInput(format!("error: {e}")))?;
    for p in host.plugins() {
        tracing::info!(plugin = %p.name, path = %p.path.display(), abi = p.abi_version, hash = %p.hash, "plugin");
    }
    let mut sim = Simulation::new(world.clone(), args.seed);
    let mut summary = Summary::new(&world);
    tracing::info!(world = %world.name, ticks = args.ticks, seed = args.seed, out = %args.out.display(), "run starting");
    let started = std::time::Instant::now();
    for _ in 0..args.ticks {
        match host.decide(&mut sim) {
            Ok(contained) => {
                for e in contained {
                    eprintln!("warning: {e}; that nation's strategy is skipped from now on");
                }
            }
            Err(e) => {
                let _ = tables.flush();
                return Err(Failure::Run(format!(
                    "{e}\n  the tables up to the previous tick are in {}",
                    args.out.display()
                )));
            }
        }
        if let Err(e) = sim.step() {
            // Keep everything written so far: flush before reporting.
            let _ = tables.flush();
            return Err(Failure::Run(format!(
                "{e}\n  the tables up to the previous tick are in {}",
                args.out.display()
            )));
        }
        let record = sim.record();
        tables
            .write_tick(&world, sim.firm_names(), record)
            .map_err(|e| Failure::Run(e.to_string()))?;
        summary.add(&world, record);
    }
    tables.flush().map_err(|e| Failure::Run(e.to_string()))?;
    let elapsed = started.elapsed();
    if !quiet {
        print!("{}", summary.render(&world, args.ticks, elapsed));
        println!("tables written to {}", args.out.display());
    }
    Ok(())
}
