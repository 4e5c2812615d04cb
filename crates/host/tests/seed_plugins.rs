//! Every bundled strategy, loaded from its real shared library through libloading and
//! stepped on the bundled world.

mod common;

use std::path::Path;
use std::sync::Arc;

use chokepoint_engine::Simulation;
use chokepoint_host::{Host, OnPluginError, Plugin, SearchPath};

use chokepoint_test_support::BUNDLED_AGENTS as SEEDS;

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

/// worlds/forge-2026.toml: the seed strategies negotiate. The US forms FORGE with the
/// members that answer (South Korea, Australia), China and the US swap licence holds
/// for tariff cuts, the US finances capacity in Australia with offtake rights, and South
/// Korea sits in FORGE and on a private hotline with China at once.
#[test]
fn in_forge_2026_the_seed_strategies_form_forge_swap_and_keep_a_hotline() {
    use chokepoint_engine::negotiation::{Channel, SessionKind, Term};
    let dir = common::build_plugin("passive")
        .parent()
        .unwrap()
        .to_path_buf();
    for name in SEEDS {
        common::build_plugin(name);
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../worlds/forge-2026.toml");
    let world = Arc::new(chokepoint_world::load(&path).unwrap());
    let search = SearchPath::new(vec![dir], Some(&path));
    let mut host = Host::load(&world, 7, &search, OnPluginError::Abort).unwrap();
    let mut sim = Simulation::new(world.clone(), 7);
    for _ in 0..12 {
        assert_eq!(host.decide(&mut sim).unwrap(), vec![]);
        sim.step().unwrap();
    }
    let n = |name: &str| world.nation_id(name).unwrap();
    let neg = sim.negotiation();
    let forge = neg
        .agreements
        .iter()
        .find(|a| a.kind == SessionKind::Club)
        .expect("FORGE formed");
    let members: Vec<_> = forge.members().collect();
    assert!(members.contains(&n("United States")));
    assert!(members.contains(&n("South Korea")));
    assert!(members.contains(&n("Australia")));
    assert_eq!(forge.channel, Channel::Public);
    let has =
        |a: &chokepoint_engine::negotiation::Agreement, f: fn(&Term) -> bool| a.terms.iter().any(f);
    assert!(neg.agreements.iter().any(|a| {
        a.parties.contains(&n("China"))
            && a.parties.contains(&n("United States"))
            && has(a, |t| matches!(t, Term::LicenceHold { .. }))
            && has(a, |t| matches!(t, Term::Tariff { .. }))
    }));
    assert!(neg.agreements.iter().any(|a| {
        a.parties.contains(&n("Australia")) && has(a, |t| matches!(t, Term::Finance { .. }))
    }));
    assert!(neg.agreements.iter().any(|a| {
        a.channel == Channel::Private
            && a.parties.contains(&n("China"))
            && a.parties.contains(&n("South Korea"))
            && has(a, |t| matches!(t, Term::Offtake { .. }))
    }));
}
