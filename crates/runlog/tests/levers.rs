//! Adaptation levers in the run log: every lever kind round-trips through the log's
//! types, and a run of the adaptation demo world with strategies' levers replays with
//! every digest verified (the digest covers substitution, scrap, plants, projects) and
//! seeks from snapshots that carry all of that state.

use std::path::Path;
use std::sync::Arc;

use chokepoint_engine::{PolicyAction, Simulation};
use chokepoint_runlog::*;
use chokepoint_world::{Lever, MarketId};

#[test]
fn every_lever_round_trips_through_the_log_types() {
    let m = MarketId(1);
    for lever in [
        Lever::RecyclingSubsidy {
            market: m,
            usd_per_t: 5.5,
        },
        Lever::FundRecycling {
            market: m,
            t_per_year: 10.0,
            usd_per_tpy: 3.0,
        },
        Lever::FundSubstitution {
            market: m,
            usd: 1.0e6,
        },
        Lever::CapacitySubsidy {
            market: m,
            share: 0.25,
        },
        Lever::StockMandate {
            market: m,
            cover_ticks: 2.0,
        },
    ] {
        let a = PolicyAction::Lever(lever);
        assert_eq!(to_engine(&from_engine(&a)), a);
    }
}

#[test]
fn a_run_with_levers_replays_and_seeks_from_snapshots_with_every_digest_verified() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../worlds/adaptation-demo.toml");
    let world = Arc::new(chokepoint_world::load(&path).unwrap());
    let header = Header {
        format_version: FORMAT_VERSION,
        engine_version: "test".into(),
        engine_build: String::new(),
        world_name: world.name.clone(),
        world_path: path.display().to_string(),
        world_text: world.source.text.clone(),
        world_hash: world.hash.clone(),
        seed: 3,
        ticks_requested: 40,
        command_line: vec!["test".into()],
        plugins: vec![],
        forked_from: None,
        snapshot_every: 8,
        threads: 1,
    };
    let file = std::env::temp_dir().join(format!("chokepoint-levers-{}.log", std::process::id()));
    let mut log = LogWriter::create(&file, &header).unwrap();
    let mut sim = Simulation::new(world.clone(), 3);
    let japan = world.nation_id("Japan").unwrap();
    let us = world.nation_id("United States").unwrap();
    let oxide = world.market_id("rare-earths", "oxide").unwrap();
    let magnet = world.market_id("rare-earths", "magnet").unwrap();
    for t in 0..40 {
        let lever = match t {
            2 => Some((
                us,
                Lever::FundRecycling {
                    market: oxide,
                    t_per_year: 500.0,
                    usd_per_tpy: 20000.0,
                },
            )),
            3 => Some((
                japan,
                Lever::FundSubstitution {
                    market: magnet,
                    usd: 1.0e8,
                },
            )),
            4 => Some((
                japan,
                Lever::CapacitySubsidy {
                    market: oxide,
                    share: 0.5,
                },
            )),
            5 => Some((
                us,
                Lever::StockMandate {
                    market: oxide,
                    cover_ticks: 1.0,
                },
            )),
            6 => Some((
                japan,
                Lever::RecyclingSubsidy {
                    market: oxide,
                    usd_per_t: 8000.0,
                },
            )),
            _ => None,
        };
        if let Some((n, l)) = lever {
            sim.submit(n, PolicyAction::Lever(l));
        }
        let actions = sim
            .pending_actions()
            .iter()
            .map(|(n, a)| (n.0, from_engine(a)))
            .collect();
        sim.step().unwrap();
        let rec = sim.record();
        let entry = TickEntry {
            tick: rec.tick,
            actions,
            events: rec
                .events
                .iter()
                .map(|e| (e.kind.clone(), e.detail.clone()))
                .collect(),
            digest: sim.state_digest(),
        };
        log.write_tick_of(&sim, &entry).unwrap();
    }
    drop(log);
    let bytes = std::fs::read(&file).unwrap();
    let _ = std::fs::remove_file(&file);
    let log = read_log(&bytes).unwrap();
    assert!(
        log.ticks[2]
            .actions
            .iter()
            .any(|(_, a)| matches!(a, LoggedAction::Lever(_)))
    );
    assert_eq!(replay(&log, None).unwrap().ticks_verified, 40);
    // A snapshot after every 8th tick, each holding the levers' state, and each one a
    // place replay seeks from with the digests of the ticks after it verified.
    let ticks: Vec<u64> = log.snapshots.iter().map(|s| s.tick).collect();
    assert_eq!(ticks, [7, 15, 23, 31, 39]);
    let last = &log.snapshots.last().unwrap().state;
    let a = &last.adaptation;
    assert!(
        a.substitution.iter().any(|s| s[0] != 0.0),
        "substitution moved"
    );
    assert!(!a.levers.mandates.is_empty() && !a.levers.recycling_subsidy.is_empty());
    assert!(last.firms.iter().any(|f| f.recycler.is_some()));
    assert!(
        last.firms
            .iter()
            .any(|f| f.reserve_t.iter().any(|&r| r > 0.0))
    );
    for snap in &log.snapshots[..4] {
        let r = replay(&log, Some(snap.tick + 7)).unwrap();
        assert_eq!((r.from_snapshot, r.ticks_verified), (Some(snap.tick), 7));
    }
}
