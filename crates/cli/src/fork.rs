//! `chokepoint fork LOG --at T ...`: "what if" from tick T. The parent's ticks before T
//! are replayed from its log (digests verified); from T on, the strategies bound in the
//! (possibly changed) world act. Strategy instances start fresh at T: they see the state
//! of the world, not their parent's private memory.
//!
//! `chokepoint diff A B`: where and how two runs diverge.

use std::path::Path;
use std::sync::Arc;

use chokepoint_engine::Simulation;
use chokepoint_host::SearchPath;
use chokepoint_runlog::{ForkInfo, LogWriter};
use chokepoint_tables::CsvTables;
use chokepoint_world::StrategyBinding;

use crate::run::{Outputs, Source, header_for, tick};
use crate::summary::Summary;
use crate::{Failure, ForkArgs};

fn bad(msg: String) -> Failure {
    Failure::BadInput(format!("error: {msg}"))
}

pub fn fork(args: &ForkArgs) -> Result<(), Failure> {
    let parent = chokepoint_runlog::read_log_file(&args.log)
        .map_err(|e| bad(format!("{}: {e}", args.log.display())))?;
    if args.at as usize > parent.ticks.len() {
        return Err(bad(format!(
            "--at {} is past the end of the log ({} ticks recorded)",
            args.at,
            parent.ticks.len()
        )));
    }
    let h = &parent.header;
    let mut world = chokepoint_world::parse(Path::new(&h.world_path), &h.world_text)
        .map_err(|e| bad(e.to_string()))?;
    let mut changes = Vec::new();
    for s in &args.strategy {
        let (nation, name) = s.split_once('=').ok_or_else(|| {
            bad(format!(
                "--strategy {s:?}: write NATION=STRATEGY, e.g. \"United States=passive\""
            ))
        })?;
        let id = world
            .nation_id(nation)
            .ok_or_else(|| bad(format!("--strategy: unknown nation `{nation}`")))?;
        world.nations[id.index()].strategy = if name.is_empty() || name == "none" {
            None
        } else {
            Some(StrategyBinding {
                name: name.to_string(),
                params_toml: String::new(),
            })
        };
        changes.push(format!("{nation}: strategy {name}"));
    }
    for p in &args.param {
        let (lhs, value) = p
            .split_once('=')
            .ok_or_else(|| bad(format!("--param {p:?}: write NATION.KEY=VALUE")))?;
        let (nation, key) = lhs
            .rsplit_once('.')
            .ok_or_else(|| bad(format!("--param {p:?}: write NATION.KEY=VALUE")))?;
        let id = world
            .nation_id(nation)
            .ok_or_else(|| bad(format!("--param: unknown nation `{nation}`")))?;
        let binding = world.nations[id.index()]
            .strategy
            .as_mut()
            .ok_or_else(|| bad(format!("--param: `{nation}` has no strategy")))?;
        let mut table: toml::Table = toml::from_str(&binding.params_toml)
            .map_err(|e| bad(format!("params of `{nation}`: {e}")))?;
        let parsed: toml::Table = toml::from_str(&format!("v = {value}")).map_err(|e| {
            bad(format!(
                "--param {p:?}: the value is not TOML ({e}); quote strings: KEY='\"text\"'"
            ))
        })?;
        table.insert(key.to_string(), parsed["v"].clone());
        binding.params_toml = toml::to_string(&table).map_err(|e| bad(e.to_string()))?;
        changes.push(format!("{nation}: {key} = {value}"));
    }
    if changes.is_empty() {
        return Err(bad(
            "nothing to change: give --strategy NATION=NAME and/or --param NATION.KEY=VALUE".into(),
        ));
    }
    let world = Arc::new(world);
    let ticks = args.ticks.unwrap_or(h.ticks_requested).max(args.at);
    let policy = if args.skip_agent {
        chokepoint_host::OnPluginError::SkipAgent
    } else {
        chokepoint_host::OnPluginError::Abort
    };
    let search = SearchPath::new(args.agents.clone(), None);
    let mut host = chokepoint_runner::load_host(&world, h.seed, &search, policy)
        .map_err(|e| bad(e.to_string()))?;
    let log_bytes = std::fs::read(&args.log).map_err(|e| bad(e.to_string()))?;
    let fork_info = ForkInfo {
        parent_log_hash: blake3::hash(&log_bytes).to_hex().to_string(),
        parent_log_path: args.log.display().to_string(),
        at_tick: args.at,
        changes: changes.clone(),
    };
    let mut header = header_for(
        &world,
        Path::new(&h.world_path),
        h.seed,
        ticks,
        &host,
        Some(fork_info),
    );
    header.world_text = h.world_text.clone();
    header.snapshot_every = h.snapshot_every;
    let mut tables = CsvTables::create(&args.out).map_err(|e| bad(e.to_string()))?;
    let log_path = args.out.join("run.log");
    let mut log = LogWriter::create(&log_path, &header).map_err(|e| bad(e.to_string()))?;
    let mut sim = Simulation::new(world.clone(), h.seed);
    let mut summary = Summary::new(&world);
    let started = std::time::Instant::now();
    let mut out = Outputs {
        tables: &mut tables,
        log: &mut log,
        summary: &mut summary,
        dir: &args.out,
    };
    for t in 0..ticks {
        if t < args.at {
            tick(
                &world,
                &mut sim,
                Source::Recorded(&parent.ticks[t as usize]),
                &mut out,
            )?;
        } else {
            tick(&world, &mut sim, Source::Plugins(&mut host), &mut out)?;
        }
    }
    out.tables
        .flush()
        .map_err(|e| Failure::Run(e.to_string()))?;
    out.log.flush().map_err(|e| Failure::Run(e.to_string()))?;
    print!("{}", summary.render(&world, ticks, started.elapsed()));
    println!(
        "forked {} at tick {} ({}); tables and run log in {}",
        args.log.display(),
        args.at,
        changes.join("; "),
        args.out.display()
    );
    Ok(())
}

pub fn diff(a: &Path, b: &Path, top: usize) -> Result<(), Failure> {
    let la =
        chokepoint_runlog::read_log_file(a).map_err(|e| bad(format!("{}: {e}", a.display())))?;
    let lb =
        chokepoint_runlog::read_log_file(b).map_err(|e| bad(format!("{}: {e}", b.display())))?;
    let r = chokepoint_runlog::diff(&la, &lb, top).map_err(|e| Failure::Run(e.to_string()))?;
    match r.first_divergence {
        None => println!(
            "identical: {} ticks compared, every state digest equal",
            r.ticks
        ),
        Some(t) => {
            println!(
                "{} ticks compared; identical before tick {t}, first divergence at tick {t}",
                r.ticks
            );
            println!("\nlargest price differences (USD/t):");
            println!(
                "  {:<28} {:<16} {:>5} {:>14} {:>14}",
                "market", "nation", "tick", "A", "B"
            );
            for (m, n, t, x, y) in &r.prices {
                println!("  {m:<28} {n:<16} {t:>5} {x:>14.2} {y:>14.2}");
            }
            println!("\nlargest flow differences (t/tick):");
            println!(
                "  {:<28} {:<14} {:<14} {:>5} {:>12} {:>12}",
                "market", "origin", "destination", "tick", "A", "B"
            );
            for (m, o, d, t, x, y) in &r.flows {
                println!("  {m:<28} {o:<14} {d:<14} {t:>5} {x:>12.2} {y:>12.2}");
            }
        }
    }
    Ok(())
}
