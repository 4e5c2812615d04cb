//! Every bundled strategy, loaded from its real shared library through libloading and
//! stepped on the bundled world.

mod common;

use std::path::Path;
use std::sync::Arc;

use chokepoint_engine::Simulation;
use chokepoint_host::{Host, OnPluginError, Plugin, SearchPath};

const SEEDS: [&str; 5] = [
    "passive",
    "producer",
    "china-controls",
    "us-coalition",
    "hedging-ally",
];

#[test]
fn each_seed_plugin_loads_from_its_shared_library_with_the_current_abi() {
    for name in SEEDS {
        let lib = common::build_plugin(name);
        let plugin = Plugin::load(&lib).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(plugin.name, name);
        assert_eq!(plugin.abi_version, chokepoint_abi::ABI_VERSION);
    }
}

#[test]
fn the_bundled_world_runs_with_all_seed_strategies_loaded() {
    let dir = common::build_plugin("passive")
        .parent()
        .unwrap()
        .to_path_buf();
    for name in SEEDS {
        common::build_plugin(name);
    }
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../worlds/critical-minerals-2026.toml");
    let world = Arc::new(chokepoint_world::load(&path).unwrap());
    let search = SearchPath::new(vec![dir], Some(&path));
    let mut host = Host::load(&world, 7, &search, OnPluginError::Abort).unwrap();
    let bound: Vec<&str> = host
        .agents()
        .iter()
        .map(|a| a.plugin.name.as_str())
        .collect();
    for name in SEEDS {
        assert!(
            bound.contains(&name),
            "{name} is bound in the bundled world: {bound:?}"
        );
    }
    let mut sim = Simulation::new(world, 7);
    for _ in 0..36 {
        assert_eq!(host.decide(&mut sim).unwrap(), vec![]);
        sim.step().unwrap();
    }
}
