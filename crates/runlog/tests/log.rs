//! The run log: written as a run goes, read back to its last whole record whatever
//! happened to the file, and replayed bit-exactly without plugins.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chokepoint_engine::negotiation::{Channel, NegAction, Term};
use chokepoint_engine::{PolicyAction, Simulation};
use chokepoint_runlog::*;
use chokepoint_world::{Licence, MarketId, NationId};
use proptest::prelude::*;

/// Snapshot interval of the test logs: small, so a short log holds several.
const SNAPSHOT_EVERY: u64 = 4;

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../worlds/critical-minerals-2026.toml")
}

/// A log of the bundled world with scripted policy actions, written as `chokepoint run`
/// writes it.
fn make_log(ticks: u64) -> Vec<u8> {
    make_log_with(ticks, false)
}

/// The same, plus negotiation moves (an offtake agreed within the tick, a club, a
/// renege).
fn make_log_with(ticks: u64, negotiation: bool) -> Vec<u8> {
    let path = bundled();
    let world = Arc::new(chokepoint_world::load(&path).unwrap());
    let header = Header {
        format_version: FORMAT_VERSION,
        engine_version: "test".into(),
        engine_build: String::new(),
        world_name: world.name.clone(),
        world_path: path.display().to_string(),
        world_text: world.source.text.clone(),
        world_hash: world.hash.clone(),
        seed: 5,
        ticks_requested: ticks,
        command_line: vec!["test".into()],
        plugins: vec![],
        forked_from: None,
        snapshot_every: SNAPSHOT_EVERY,
        threads: 1,
    };
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = std::env::temp_dir().join(format!("chokepoint-log-{}-{n}.log", std::process::id()));
    let mut log = LogWriter::create(&file, &header).unwrap();
    let mut sim = Simulation::new(world.clone(), 5);
    let china = world.nation_id("China").unwrap();
    let us = world.nation_id("United States").unwrap();
    let oxide = world.market_id("rare-earths", "oxide").unwrap();
    let japan = world.nation_id("Japan").unwrap();
    let negotiate = |sim: &mut Simulation, n: NationId, action: NegAction| {
        let round = sim.negotiation_round();
        sim.submit(n, PolicyAction::Negotiate { round, action });
    };
    let refined = world.market_id("gallium", "refined").unwrap();
    let primary = world.market_id("gallium", "primary").unwrap();
    for t in 0..ticks {
        // Negotiation: an offtake agreed within the tick, a club, a renege.
        match if negotiation { t } else { u64::MAX } {
            2 => {
                negotiate(
                    &mut sim,
                    us,
                    NegAction::Open {
                        counterparty: china,
                        channel: Channel::Private,
                        discount: [0.9, 0.8],
                        time_cost_usd: [1000.0, 1000.0],
                        deadline_rounds: 4,
                        deadline_ticks: 2,
                        terms: vec![Term::Offtake {
                            seller: china,
                            buyer: us,
                            market: oxide,
                            t_per_tick: 20.0,
                            price_usd_per_t: 60_000.0,
                            duration_ticks: 12,
                            penalty_usd: 1e6,
                        }],
                    },
                );
                sim.negotiate_round();
                negotiate(&mut sim, china, NegAction::Accept { session: 1 });
                sim.negotiate_round();
            }
            4 => {
                negotiate(
                    &mut sim,
                    us,
                    NegAction::OpenClub {
                        invitees: vec![japan],
                        channel: Channel::Public,
                        deadline_ticks: 3,
                        terms: vec![Term::ClubFloor {
                            market: oxide,
                            floor_usd_per_t: 80_000.0,
                            member_tariff: 0.0,
                        }],
                    },
                );
                sim.negotiate_round();
                negotiate(&mut sim, japan, NegAction::Join { session: 2 });
            }
            11 => negotiate(&mut sim, china, NegAction::Renege { agreement: 1 }),
            _ => {}
        }
        match t {
            // Gallium capacity has a 24-tick build lag: it comes online at tick 25, so
            // logs longer than that carry a firm commissioned during the run.
            1 => sim.submit(
                us,
                PolicyAction::Invest {
                    market: primary,
                    host: us,
                    t_per_year: 50.0,
                    usd_per_tpy: 1000.0,
                },
            ),
            2 => sim.submit(
                us,
                PolicyAction::SetFloor {
                    market: refined,
                    floor_usd_per_t: 900.0,
                },
            ),
            4 => sim.submit(
                china,
                PolicyAction::SetLicence {
                    market: refined,
                    destination: us,
                    licence: Licence::Licensed { delay_ticks: 6 },
                },
            ),
            3 => sim.submit(
                us,
                PolicyAction::SetTariff {
                    market: oxide,
                    exporter: china,
                    rate: 0.3,
                },
            ),
            5 => sim.submit(
                china,
                PolicyAction::SetLicence {
                    market: oxide,
                    destination: us,
                    licence: Licence::Quota { t_per_tick: 10.0 },
                },
            ),
            7 => sim.submit(
                us,
                PolicyAction::StockpileBuy {
                    market: oxide,
                    t: 50.0,
                    max_price: 200_000.0,
                },
            ),
            9 => sim.submit(
                us,
                PolicyAction::Invest {
                    market: MarketId(oxide.0),
                    host: NationId(0),
                    t_per_year: 1000.0,
                    usd_per_tpy: 1000.0,
                },
            ),
            _ => {}
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
    bytes
}

#[test]
fn a_log_reads_back_and_replays_with_every_digest_verified() {
    let bytes = make_log(24);
    let log = read_log(&bytes).unwrap();
    assert_eq!(log.stopped, None);
    assert_eq!(log.ticks.len(), 24);
    assert_eq!(log.header.seed, 5);
    assert!(
        log.ticks[3]
            .actions
            .iter()
            .any(|(_, a)| matches!(a, LoggedAction::SetTariff { .. }))
    );
    let report = replay(&log, None).unwrap();
    assert_eq!(report.ticks_verified, 24);
    let to9 = replay(&log, Some(9)).unwrap();
    assert_eq!(
        (to9.from_snapshot, to9.ticks_verified),
        (Some(7), 2),
        "--to 9 seeks from the snapshot after tick 7 and stops after tick 9"
    );
}

#[test]
fn replay_names_the_first_tick_that_differs() {
    let mut log = read_log(&make_log(12)).unwrap();
    // Drop the tariff action of tick 3: the replay must diverge exactly there.
    log.ticks[3].actions.clear();
    match replay(&log, None) {
        Err(ReplayError::Diverged { tick, .. }) => assert_eq!(tick, 3),
        other => panic!("expected divergence at tick 3, got {other:?}"),
    }
}

#[test]
fn another_format_version_is_refused_naming_both() {
    let mut bytes = make_log(2);
    bytes[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let err = read_log(&bytes).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, LogError::Version { .. }), "{text}");
    assert!(
        text.contains(&format!("format version {}", FORMAT_VERSION + 1))
            && text.contains(&format!("reads version {FORMAT_VERSION}")),
        "{text}"
    );
}

#[test]
fn a_file_that_is_not_a_log_is_refused() {
    assert!(matches!(
        read_log(b"hello, world"),
        Err(LogError::NotALog(_))
    ));
    assert!(matches!(read_log(b""), Err(LogError::NotALog(_))));
}

#[test]
fn a_log_cut_inside_its_last_record_says_so_and_keeps_the_rest() {
    let full = make_log(6);
    let part = read_log(&full[..full.len() - 5]).unwrap();
    assert_eq!(part.ticks.len(), 5);
    let why = part.stopped.expect("a note on where reading stopped");
    assert!(why.contains("cut off mid-write"), "{why}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Cut anywhere: never a panic; either no header (an error) or every whole record
    /// before the cut, with a note saying where reading stopped.
    #[test]
    fn a_log_cut_at_any_byte_reads_to_its_last_whole_record(cut_frac in 0.0f64..1.0) {
        let full = make_log(8);
        let cut = ((full.len() as f64) * cut_frac) as usize;
        let whole = read_log(&full).unwrap();
        match read_log(&full[..cut]) {
            Ok(part) => {
                prop_assert!(part.ticks.len() <= whole.ticks.len());
                prop_assert_eq!(&part.ticks[..], &whole.ticks[..part.ticks.len()]);
                prop_assert_eq!(&part.snapshots[..], &whole.snapshots[..part.snapshots.len()]);
            }
            Err(e) => prop_assert!(matches!(e, LogError::NotALog(_) | LogError::Header(_)), "{e}"),
        }
    }

    /// Flip bytes anywhere: never a panic, and what is read is a prefix of the truth.
    #[test]
    fn flipped_bytes_never_panic_and_never_yield_wrong_records(pos_frac in 0.0f64..1.0, flips in 1u8..4, xor in 1u8..=255) {
        let full = make_log(8);
        let whole = read_log(&full).unwrap();
        let mut bad = full.clone();
        for k in 0..flips as usize {
            let pos = (((bad.len() - 1) as f64) * pos_frac) as usize;
            let pos = (pos + k * 97) % bad.len();
            bad[pos] ^= xor;
        }
        if let Ok(part) = read_log(&bad) {
            prop_assert!(part.ticks.len() <= whole.ticks.len());
            prop_assert_eq!(&part.ticks[..], &whole.ticks[..part.ticks.len()]);
            prop_assert_eq!(&part.snapshots[..], &whole.snapshots[..part.snapshots.len()]);
        }
    }
}

#[test]
fn negotiation_moves_and_their_effects_are_logged_and_replay_verifies_them() {
    let log = read_log(&make_log_with(14, true)).unwrap();
    let moves = log
        .ticks
        .iter()
        .flat_map(|t| &t.actions)
        .filter(|(_, a)| matches!(a, LoggedAction::Negotiate { .. }))
        .count();
    assert_eq!(moves, 5);
    let kinds: Vec<&str> = log
        .ticks
        .iter()
        .flat_map(|t| &t.events)
        .map(|(k, _)| k.as_str())
        .filter(|k| ["agreement_signed", "breach", "club_proposed"].contains(k))
        .collect();
    // China's quota of 10 t/tick towards the US (tick 5) caps the 20 t/tick offtake:
    // a shortfall breach every tick from 5 to 10, then China reneges at tick 11.
    let mut want = vec!["agreement_signed", "club_proposed", "agreement_signed"];
    want.extend(["breach"; 7]);
    assert_eq!(kinds, want);
    let report = replay(&log, None).unwrap();
    assert_eq!(report.ticks_verified, 14);
}

#[test]
fn snapshots_of_a_negotiating_run_are_written_and_seek_like_a_full_replay() {
    let log = read_log(&make_log_with(14, true)).unwrap();
    // Negotiation begins at tick 2; every snapshot is still written.
    let ticks: Vec<u64> = log.snapshots.iter().map(|s| s.tick).collect();
    assert_eq!(ticks, [3, 7, 11]);
    let neg = &log.snapshots[1].state.negotiation;
    assert_eq!((neg.sessions.len(), neg.agreements.len()), (2, 2));
    assert!(
        neg.trust.iter().any(|&t| t != 0.5 && t != 1.0),
        "trust moved"
    );
    assert!(!neg.history.is_empty());
    assert!(!log.snapshots[1].state.enforcement.deliveries.is_empty());
    assert!(!log.snapshots[1].state.enforcement.clubs.is_empty());
    let mut full_rows = Vec::new();
    replay_each(&log, None, |sim| {
        full_rows.push(format!("{}{:?}", rows(sim), sim.record().negotiation))
    })
    .unwrap();
    for snap in &log.snapshots {
        let (tick, mut sim) = resume_at(&log, snap.tick).unwrap().unwrap();
        assert_eq!(sim.state_digest(), log.ticks[tick as usize].digest);
        assert_eq!(
            LoggedState::from_engine(&sim.engine_state()),
            snap.state,
            "restored state after tick {tick}"
        );
        for entry in &log.ticks[tick as usize + 1..] {
            for (n, a) in &entry.actions {
                sim.submit(NationId(*n), to_engine(a));
            }
            sim.step().unwrap();
            assert_eq!(sim.state_digest(), entry.digest, "after tick {tick}");
            let got = format!("{}{:?}", rows(&sim), sim.record().negotiation);
            assert_eq!(got, full_rows[entry.tick as usize]);
        }
    }
    let r = replay(&log, Some(13)).unwrap();
    assert_eq!((r.from_snapshot, r.ticks_verified), (Some(11), 2));
}

/// The rows of a tick that a restored run must reproduce bit for bit.
fn rows(sim: &Simulation) -> String {
    let r = sim.record();
    format!(
        "{:?}{:?}{:?}{:?}{:?}{:?}",
        r.prices, r.flows, r.production, r.consumption, r.stockpiles, r.events
    )
}

#[test]
fn seeking_from_any_snapshot_gives_the_digests_and_rows_of_a_full_replay() {
    let log = read_log(&make_log(40)).unwrap();
    assert_eq!(log.snapshots.len(), 10, "one snapshot every 4 of 40 ticks");
    let mut full_rows = Vec::new();
    replay_each(&log, None, |sim| full_rows.push(rows(sim))).unwrap();
    let last = log.snapshots.last().unwrap();
    assert!(
        last.state.firms.len() > log.snapshots[0].state.firms.len(),
        "the last snapshot holds capacity commissioned during the run"
    );
    assert!(!last.state.stockpiles.is_empty() && !last.state.licences.is_empty());
    for snap in &log.snapshots {
        let (tick, mut sim) = resume_at(&log, snap.tick).unwrap().unwrap();
        assert_eq!(tick, snap.tick);
        assert_eq!(sim.state_digest(), log.ticks[tick as usize].digest);
        for entry in &log.ticks[tick as usize + 1..] {
            for (n, a) in &entry.actions {
                sim.submit(NationId(*n), to_engine(a));
            }
            sim.step().unwrap();
            assert_eq!(
                sim.state_digest(),
                entry.digest,
                "resumed after tick {tick}, tick {}",
                entry.tick
            );
            assert_eq!(rows(&sim), full_rows[entry.tick as usize]);
        }
    }
}

#[test]
fn replay_to_a_tick_seeks_from_the_nearest_snapshot_before_it() {
    let log = read_log(&make_log(40)).unwrap();
    let full = replay(&log, None).unwrap();
    assert_eq!((full.ticks_verified, full.from_snapshot), (40, None));
    // Snapshots follow ticks 3, 7, 11, ...: tick 30 seeks from the one after 27.
    let r = replay(&log, Some(30)).unwrap();
    assert_eq!((r.from_snapshot, r.ticks_verified), (Some(27), 3));
    let r = replay(&log, Some(27)).unwrap();
    assert_eq!((r.from_snapshot, r.ticks_verified), (Some(27), 0));
    // Before the first snapshot: from the start.
    let r = replay(&log, Some(2)).unwrap();
    assert_eq!((r.from_snapshot, r.ticks_verified), (None, 3));
    // The state seeked to is the state a full replay reaches.
    let (_, seeked) = resume_at(&log, 30).unwrap().unwrap();
    let (_, replayed) = replay_each(&log, Some(27), |_| {}).unwrap();
    assert_eq!(seeked.engine_state(), replayed.engine_state());
}

#[test]
fn a_snapshot_that_does_not_restore_the_logged_state_is_refused() {
    let log = read_log(&make_log(12)).unwrap();
    let file = std::env::temp_dir().join(format!("chokepoint-snap-{}.log", std::process::id()));
    let mut w = LogWriter::create(&file, &log.header).unwrap();
    for entry in &log.ticks {
        w.write_tick(entry).unwrap();
        if let Some(s) = log.snapshots.iter().find(|s| s.tick == entry.tick) {
            let mut s = s.clone();
            if s.tick == 7 {
                s.state.nations[0].0 += 1.0;
            }
            w.write_snapshot(&s).unwrap();
        }
    }
    drop(w);
    let tampered = read_log_file(&file).unwrap();
    let _ = std::fs::remove_file(&file);
    assert_eq!(tampered.snapshots.len(), 3);
    // Seeking from the snapshot after tick 3 is fine; after tick 7 it is refused.
    assert_eq!(replay(&tampered, Some(5)).unwrap().from_snapshot, Some(3));
    let err = replay(&tampered, Some(9)).unwrap_err().to_string();
    assert!(
        err.contains("snapshot after tick 7") && err.contains("state digest"),
        "{err}"
    );
    // A full replay does not use snapshots and verifies.
    assert_eq!(replay(&tampered, None).unwrap().ticks_verified, 12);
}

#[test]
fn a_snapshot_that_does_not_fit_the_world_is_an_error_not_a_panic() {
    let log = read_log(&make_log(8)).unwrap();
    let world = Arc::new(chokepoint_world::load(&bundled()).unwrap());
    let mut state = log.snapshots[0].state.to_engine().unwrap();
    state.nations.pop();
    let err = Simulation::from_state(world.clone(), 5, &state)
        .err()
        .unwrap();
    assert!(err.to_string().contains("nations"), "{err}");
    let mut state = log.snapshots[0].state.to_engine().unwrap();
    state.firms[0].name = "Somebody Else".into();
    let err = Simulation::from_state(world.clone(), 5, &state)
        .err()
        .unwrap();
    assert!(err.to_string().contains("Somebody Else"), "{err}");
    let mut state = log.snapshots[0].state.to_engine().unwrap();
    state.tariffs.push((99, 0, 1, 0.5));
    assert!(Simulation::from_state(world.clone(), 5, &state).is_err());
    let mut state = log.snapshots[0].state.to_engine().unwrap();
    let market = state
        .markets
        .iter_mut()
        .max_by_key(|m| m.warm_arcs.len())
        .unwrap();
    assert!(!market.warm_arcs.is_empty(), "some market trades");
    market.warm.as_mut().expect("a warm start").flow.pop();
    let err = Simulation::from_state(world, 5, &state).err().unwrap();
    assert!(err.to_string().contains("warm start"), "{err}");
}

#[test]
fn logs_of_older_versions_are_refused_naming_both_versions() {
    for old in [1u32, 2, 3] {
        let mut bytes = make_log(4);
        bytes[8..12].copy_from_slice(&old.to_le_bytes());
        let Err(err) = read_log(&bytes) else {
            panic!("a version {old} log was read")
        };
        let err = err.to_string();
        assert!(
            err.contains(&format!("format version {old}"))
                && err.contains(&format!("reads version {FORMAT_VERSION}")),
            "{err}"
        );
    }
}

/// `replay(log, None)` on a pool of `threads` threads.
fn replay_on(threads: usize, log: &LogContents) -> Result<ReplayReport, ReplayError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| replay(log, None))
}

/// What a full replay says, whatever the thread count: the report without its timing
/// and segment count, or the error's text.
fn outcome(
    r: Result<ReplayReport, ReplayError>,
) -> Result<(u64, Option<u64>, Option<String>), String> {
    r.map(|r| (r.ticks_verified, r.from_snapshot, r.log_stopped))
        .map_err(|e| e.to_string())
}

#[test]
fn a_full_replay_verifies_segments_between_snapshots_in_parallel_with_the_same_report() {
    let log = read_log(&make_log_with(40, true)).unwrap();
    assert_eq!(log.snapshots.len(), 10);
    let one = replay_on(1, &log).unwrap();
    assert_eq!(one.segments, 1, "one thread replays sequentially");
    // Cut at the first snapshot, then into segments of at least 1/(4 x threads) of
    // the ticks, every segment used (each one's start reached bit for bit by the one
    // before).
    for (threads, segments) in [(2, 6), (3, 10), (4, 10)] {
        let par = replay_on(threads, &log).unwrap();
        assert_eq!(par.segments, segments, "{threads} threads");
        assert_eq!(outcome(Ok(par)), outcome(Ok(one.clone())));
    }
    assert_eq!((one.ticks_verified, one.from_snapshot), (40, None));
}

#[test]
fn a_corrupted_record_or_digest_in_a_middle_segment_names_the_same_first_divergent_tick() {
    let log = read_log(&make_log(40)).unwrap();
    // Snapshots follow ticks 3, 7, ..., 39: with 2 threads the segments are cut at
    // the snapshots after ticks 3, 11, 19, 27 and 35, with more at every one.
    type Corrupt = Box<dyn Fn(&mut LogContents)>;
    let cases: Vec<(&str, Corrupt)> = vec![
        // A tick record's actions dropped in the middle of a segment.
        (
            "actions",
            Box::new(|l: &mut LogContents| l.ticks[9].actions.clear()),
        ),
        // A digest tampered in the middle of a later segment, and at a cut.
        (
            "digest",
            Box::new(|l: &mut LogContents| l.ticks[17].digest[0] ^= 1),
        ),
        (
            "digest at a cut",
            Box::new(|l: &mut LogContents| l.ticks[19].digest[5] ^= 1),
        ),
        // Two at once: the earlier one is named, though its segment ends later.
        (
            "two",
            Box::new(|l: &mut LogContents| {
                l.ticks[35].digest[0] ^= 1;
                l.ticks[13].digest[0] ^= 1;
            }),
        ),
    ];
    for (what, corrupt) in cases {
        let mut bad = log.clone();
        corrupt(&mut bad);
        let seq = outcome(replay_on(1, &bad));
        assert!(seq.is_err(), "{what}: sequential replay must fail");
        for threads in [2, 3, 4] {
            assert_eq!(
                outcome(replay_on(threads, &bad)),
                seq,
                "{what}, {threads} threads"
            );
        }
    }
    // A tick's digest in the sequential report: the tampered one, not a later one.
    let mut bad = log.clone();
    bad.ticks[17].digest[0] ^= 1;
    match replay_on(2, &bad) {
        Err(ReplayError::Diverged { tick, .. }) => assert_eq!(tick, 17),
        other => panic!("expected divergence at tick 17, got {other:?}"),
    }
}

#[test]
fn a_snapshot_the_run_did_not_produce_is_not_trusted_by_a_parallel_replay() {
    let log = read_log(&make_log(40)).unwrap();
    // A warm start tampered with keeps the snapshot's digest (the digest does not
    // cover it), so it restores; but the segment before does not reach it bit for bit,
    // and replay goes on from the state that segment reached: it verifies like a
    // sequential replay, which does not read snapshots.
    let mut bad = log.clone();
    let k = bad.snapshots.iter().position(|s| s.tick == 19).unwrap();
    let market = bad.snapshots[k]
        .state
        .markets
        .iter_mut()
        .find(|m| {
            m.warm
                .as_ref()
                .is_some_and(|w| w.flow.iter().any(|&x| x > 0.0))
        })
        .unwrap();
    let w = market.warm.as_mut().unwrap();
    let a = w.flow.iter().position(|&x| x > 0.0).unwrap();
    w.flow[a] *= 1.5;
    // And a snapshot whose state no longer has its tick's digest: not used either.
    bad.snapshots[k + 2].state.nations[0].0 += 1.0;
    let seq = outcome(replay_on(1, &bad));
    assert_eq!(seq, Ok((40, None, None)));
    for threads in [2, 3, 4] {
        assert_eq!(outcome(replay_on(threads, &bad)), seq, "{threads} threads");
    }
    // The segments from those two snapshots (after ticks 19 and 27, cuts with any
    // number of threads) were verified again from where the segment before ended.
    assert_eq!(replay_on(2, &bad).unwrap().segments, 6 - 2);
    assert_eq!(replay_on(4, &bad).unwrap().segments, 10 - 2);
}

#[test]
fn the_writers_restore_check_agrees_with_a_full_restore() {
    // `restores_digest` restores without what only stepping uses; it must say what
    // `from_state` and `state_digest` say, for a state that restores and for ones
    // that do not.
    let path = bundled();
    let world = Arc::new(chokepoint_world::load(&path).unwrap());
    let mut sim = Simulation::new(world.clone(), 5);
    for _ in 0..6 {
        sim.step().unwrap();
    }
    let digest = sim.state_digest();
    let full = |s: &chokepoint_engine::EngineState| {
        Simulation::from_state(world.clone(), 5, s).is_ok_and(|r| r.state_digest() == digest)
    };
    let state = sim.engine_state();
    assert!(sim.restores_digest(&state, digest) && full(&state));
    let mut budget = state.clone();
    budget.nations[1].budget_usd += 1.0;
    let mut misfit = state.clone();
    misfit.nations.pop();
    let mut firm = state.clone();
    firm.firms[3].output_t += 1.0;
    for (what, s) in [("budget", budget), ("misfit", misfit), ("firm", firm)] {
        assert!(!sim.restores_digest(&s, digest), "{what}");
        assert!(!full(&s), "{what}");
    }
    // A warm start is not in the digest: both restore it to the run's digest (the
    // parallel replay's bit-for-bit comparison at segment boundaries covers it).
    let mut warm = state.clone();
    let w = warm
        .markets
        .iter_mut()
        .find_map(|m| m.warm.as_mut())
        .unwrap();
    w.supply_price[0] += 1.0;
    assert!(sim.restores_digest(&warm, digest) && full(&warm));
}
