//! Real plugins, loaded from real shared libraries: each fault the host must contain has
//! a library that commits it, and each gives its named error without crashing the host.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chokepoint_engine::Simulation;
use chokepoint_host::{Host, HostError, OnPluginError, Plugin, SearchPath};
use chokepoint_world::World;

fn world(strategy: &Path, params: &str) -> Arc<World> {
    let text = format!(
        r#"
[world]
name = "host-test"
ticks_per_year = 1
[[commodity]]
name = "ore"
[[commodity.stage]]
name = "raw"
reference_price_usd_per_t = 100.0
[[nation]]
name = "Alpha"
region = "a"
strategy = "{}"
params = {{ {params} }}
[[nation]]
name = "Beta"
region = "b"
demand = [{{ commodity = "ore", stage = "raw", reference_price_usd_per_t = 100.0, reference_quantity_tpy = 50.0, elasticity = 0.5 }}]
[[firm]]
name = "mine"
nation = "Alpha"
commodity = "ore"
stage = "raw"
capacity_tpy = 100.0
marginal_cost = {{ at_zero_usd_per_t = 10.0, at_capacity_usd_per_t = 150.0 }}
"#,
        strategy.display()
    );
    Arc::new(
        chokepoint_world::parse(Path::new("host-test.toml"), &text)
            .unwrap_or_else(|e| panic!("{e}")),
    )
}

fn strategy_lib() -> PathBuf {
    common::build_plugin("test-strategy")
}

fn run(
    mode: &str,
    policy: OnPluginError,
    ticks: u64,
) -> (Result<Vec<HostError>, HostError>, Simulation) {
    let w = world(
        &strategy_lib(),
        &format!("mode = \"{mode}\", from_tick = 1"),
    );
    let mut host = Host::load(&w, 3, &SearchPath::default(), policy).expect("load");
    let mut sim = Simulation::new(w, 3);
    let mut contained = Vec::new();
    for _ in 0..ticks {
        match host.decide(&mut sim) {
            Ok(c) => contained.extend(c),
            Err(e) => return (Err(e), sim),
        }
        sim.step().expect("engine tick");
    }
    (Ok(contained), sim)
}

#[test]
fn a_good_plugin_acts_through_the_engine() {
    let (r, sim) = run("ok", OnPluginError::Abort, 3);
    assert_eq!(r.unwrap(), vec![]);
    // Alpha set a 10% tariff on Beta (its first other nation) in the ore market.
    let policies = sim.ecs().resource::<chokepoint_engine::Policies>();
    let tariffs: Vec<_> = policies.tariffs().collect();
    assert_eq!(tariffs.len(), 1, "{tariffs:?}");
    assert_eq!(tariffs[0].3, 0.1);
}

#[test]
fn a_panic_in_decide_is_contained_and_named() {
    let (r, _) = run("panic", OnPluginError::Abort, 3);
    match r {
        Err(HostError::Panicked {
            plugin,
            nation,
            tick,
            message,
        }) => {
            assert_eq!(
                (plugin.as_str(), nation.as_str(), tick),
                ("test-strategy", "Alpha", 1)
            );
            assert!(message.contains("deliberate panic at tick 1"), "{message}");
        }
        other => panic!("expected a contained panic, got {other:?}"),
    }
}

#[test]
fn skip_agent_keeps_the_run_going_after_a_panic() {
    let (r, sim) = run("panic", OnPluginError::SkipAgent, 4);
    let contained = r.expect("the run goes on");
    assert_eq!(
        contained.len(),
        1,
        "the fault is reported once, then the agent is skipped"
    );
    assert_eq!(sim.tick(), 4);
}

#[test]
fn a_nan_action_is_an_invalid_action_naming_plugin_nation_and_tick() {
    let (r, _) = run("nan", OnPluginError::Abort, 3);
    match r {
        Err(HostError::InvalidAction {
            plugin,
            nation,
            tick,
            message,
        }) => {
            assert_eq!(
                (plugin.as_str(), nation.as_str(), tick),
                ("test-strategy", "Alpha", 1)
            );
            assert!(message.contains("rate is NaN"), "{message}");
        }
        other => panic!("expected an invalid action, got {other:?}"),
    }
}

#[test]
fn a_negative_quantity_is_an_invalid_action() {
    let (r, _) = run("negative", OnPluginError::Abort, 3);
    assert!(
        matches!(&r, Err(HostError::InvalidAction { message, .. }) if message.contains("quantity is -5")),
        "{r:?}"
    );
}

#[test]
fn an_unknown_id_is_an_invalid_action() {
    for (mode, needle) in [
        ("unknown-id", "unknown nation id 9999"),
        ("unknown-market", "unknown market id 9999"),
    ] {
        let (r, _) = run(mode, OnPluginError::Abort, 3);
        assert!(
            matches!(&r, Err(HostError::InvalidAction { message, .. }) if message.contains(needle)),
            "{mode}: {r:?}"
        );
    }
}

#[test]
fn a_create_error_or_panic_names_the_plugin_and_nation() {
    for (mode, needle) in [
        ("create-error", "refusing to start"),
        ("create-panic", "panicked: panicking in create"),
    ] {
        let w = world(&strategy_lib(), &format!("mode = \"{mode}\""));
        match Host::load(&w, 1, &SearchPath::default(), OnPluginError::Abort) {
            Err(HostError::CreateFailed {
                plugin,
                nation,
                message,
                ..
            }) => {
                assert_eq!(
                    (plugin.as_str(), nation.as_str()),
                    ("test-strategy", "Alpha")
                );
                assert!(message.contains(needle), "{mode}: {message}");
            }
            other => panic!("{mode}: expected a create failure, got {:?}", other.err()),
        }
    }
}

#[test]
fn a_wrong_abi_version_is_refused_naming_both_versions() {
    let lib = common::build_plugin("test-wrong-abi");
    match Plugin::load(&lib) {
        Err(
            e @ HostError::AbiMismatch {
                found, expected, ..
            },
        ) => {
            assert_eq!(expected, chokepoint_abi::ABI_VERSION);
            assert_eq!(found, chokepoint_abi::ABI_VERSION + 998);
            let text = e.to_string();
            assert!(
                text.contains(&format!("version {found}"))
                    && text.contains(&format!("version {expected}")),
                "{text}"
            );
        }
        other => panic!("expected an ABI mismatch, got {other:?}"),
    }
}

#[test]
fn a_library_without_the_handshake_symbol_is_refused() {
    let lib = common::build_plugin("test-no-symbol");
    assert!(
        matches!(Plugin::load(&lib), Err(HostError::MissingSymbol { symbol, .. }) if symbol == "chokepoint_abi_version")
    );
}

#[test]
fn a_file_that_is_not_a_library_is_refused() {
    let dir = std::env::temp_dir().join(format!("chokepoint-host-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fake = dir.join("libfake.so");
    std::fs::write(&fake, b"not an ELF file").unwrap();
    assert!(matches!(
        Plugin::load(&fake),
        Err(HostError::NotLoadable { .. })
    ));
}

#[test]
fn a_failed_lookup_lists_every_place_it_looked() {
    let mut w = (*world(Path::new("x"), "")).clone();
    w.nations[0].strategy.as_mut().unwrap().name = "no-such-strategy".into();
    let search = SearchPath::new(vec![PathBuf::from("/nowhere/agents")], None);
    match Host::load(&w, 1, &search, OnPluginError::Abort) {
        Err(e @ HostError::NotFound { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("/nowhere/agents/libno_such_strategy.so"),
                "{text}"
            );
            assert!(
                text.contains("Alpha") && text.contains("--agents"),
                "{text}"
            );
        }
        other => panic!("expected a failed lookup, got {:?}", other.err()),
    }
}

#[test]
fn two_nations_share_one_library_with_different_params() {
    let lib = strategy_lib();
    let mut w = (*world(&lib, "mode = \"ok\", rate = 0.2")).clone();
    let mut second = w.nations[0].strategy.clone().unwrap();
    second.params_toml = "mode = \"ok\"\nrate = 0.3\n".into();
    w.nations[1].strategy = Some(second);
    let w = Arc::new(w);
    let mut host = Host::load(&w, 1, &SearchPath::default(), OnPluginError::Abort).unwrap();
    assert_eq!(host.agents().len(), 2);
    assert_eq!(host.plugins().len(), 1, "one library for both nations");
    let mut sim = Simulation::new(w, 1);
    host.decide(&mut sim).unwrap();
    sim.step().unwrap();
    let mut rates: Vec<f64> = sim
        .ecs()
        .resource::<chokepoint_engine::Policies>()
        .tariffs()
        .map(|t| t.3)
        .collect();
    rates.sort_by(f64::total_cmp);
    assert_eq!(rates, vec![0.2, 0.3]);
}

#[test]
fn hosts_share_one_loaded_library_and_each_gets_its_own_instances() {
    let lib = strategy_lib();
    let tariffs = |host: &mut Host, w: &Arc<World>| {
        let mut sim = Simulation::new(w.clone(), 1);
        host.decide(&mut sim).unwrap();
        sim.step().unwrap();
        sim.ecs()
            .resource::<chokepoint_engine::Policies>()
            .tariffs()
            .map(|t| t.3)
            .collect::<Vec<f64>>()
    };
    let (wa, wb) = (
        world(&lib, "mode = \"ok\", rate = 0.2"),
        world(&lib, "mode = \"ok\", rate = 0.3"),
    );
    let mut a = Host::load(&wa, 1, &SearchPath::default(), OnPluginError::Abort).unwrap();
    let mut b = Host::load(&wb, 1, &SearchPath::default(), OnPluginError::Abort).unwrap();
    assert!(
        Arc::ptr_eq(&a.plugins()[0], &b.plugins()[0]),
        "the second host reuses the library the first loaded"
    );
    assert!(Arc::ptr_eq(&a.plugins()[0], &Plugin::shared(&lib).unwrap()));
    // Same library, separate instances: each host's strategy acts on its own params.
    assert_eq!(tariffs(&mut a, &wa), vec![0.2]);
    assert_eq!(tariffs(&mut b, &wb), vec![0.3]);
    drop(a);
    assert_eq!(
        tariffs(&mut b, &wb),
        vec![0.3],
        "dropping a host leaves others' instances"
    );
}

#[test]
fn a_refused_library_stays_refused_with_the_same_error() {
    let lib = common::build_plugin("test-wrong-abi");
    let first = Plugin::shared(&lib).unwrap_err();
    assert!(matches!(first, HostError::AbiMismatch { .. }), "{first}");
    assert_eq!(Plugin::shared(&lib).unwrap_err(), first);
}

#[test]
fn a_library_that_could_not_be_read_or_opened_is_tried_again() {
    let dir = std::env::temp_dir().join(format!("chokepoint-host-retry-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let lib = dir.join("libretry.so");
    std::fs::write(&lib, b"not an ELF file yet").unwrap();
    assert!(matches!(
        Plugin::shared(&lib),
        Err(HostError::NotLoadable { .. })
    ));
    std::fs::copy(strategy_lib(), &lib).unwrap();
    let plugin = Plugin::shared(&lib).expect("the second attempt loads the library now there");
    assert!(Arc::ptr_eq(&plugin, &Plugin::shared(&lib).unwrap()));
    std::fs::remove_dir_all(&dir).unwrap();
}
