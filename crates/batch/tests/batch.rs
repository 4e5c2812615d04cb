//! Batches on the bundled world with the bundled strategies: shards, resume, thread
//! counts and bad specs. Short runs (a few ticks) keep this quick; the 120-tick sweep
//! runs with CHOKEPOINT_SLOW_TESTS=1.

mod common;

use std::path::Path;

use common::{agents, bundled, spec_file, tmp};

use chokepoint_batch::error::BatchError;
use chokepoint_batch::path::PathError;
use chokepoint_batch::{Options, Progress, Shard, Spec, Tournament, merge, run_batch};

/// 3 escalation settings x 2 seeds, 6 ticks.
const SWEEP: &str = r#"ticks = 6
[seeds]
count = 2
base = 11
[[axis]]
path = 'firm."China rare-earths mined".capacity_tpy'
values = [150000.0, 315000.0, 450000.0]
"#;

fn opts(out: &Path, threads: usize) -> Options {
    Options {
        out: out.to_path_buf(),
        threads: Some(threads),
        shard: Shard::all(),
        progress: Progress::Off,
        retry_failed: false,
        stop_after: None,
    }
}

fn bytes(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    (
        std::fs::read(dir.join("results.csv")).unwrap(),
        std::fs::read(dir.join("results.parquet")).unwrap(),
    )
}

#[test]
fn one_and_two_threads_write_identical_tables_and_each_replicate_has_its_own_seed() {
    agents();
    let dir = tmp("threads");
    let spec = Spec::load(&spec_file(&dir, SWEEP)).unwrap();
    let a = run_batch(&spec, &opts(&dir.join("t1"), 1)).unwrap();
    let b = run_batch(&spec, &opts(&dir.join("t2"), 2)).unwrap();
    assert_eq!((a.planned, a.ran, a.failed_total), (6, 6, 0));
    assert_eq!(b.ran, 6);
    assert_eq!(bytes(&dir.join("t1")), bytes(&dir.join("t2")));
    let csv = String::from_utf8(bytes(&dir.join("t1")).0).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 6);
    // Plan order: combinations outermost, seeds innermost; ids all distinct.
    let seeds: Vec<&str> = rows.iter().map(|r| r[2]).collect();
    assert_eq!(seeds, ["11", "12", "11", "12", "11", "12"]);
    let mut ids: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6);
    // The parameter reached the run: half and 1.4x China's mine capacity give different
    // outcomes (the metrics of rows 0 and 4, same seed, differ). (In the calibrated
    // world China's escalation waits for a rival's capacity to grow, which takes longer
    // than these 6 ticks, so its pace would not show here.)
    assert_ne!(rows[0][6..], rows[4][6..]);
}

#[test]
fn shards_merge_to_the_unsharded_batch_and_gaps_or_duplicates_are_refused() {
    agents();
    let dir = tmp("shards");
    let spec = Spec::load(&spec_file(&dir, SWEEP)).unwrap();
    run_batch(&spec, &opts(&dir.join("all"), 2)).unwrap();
    let mut shards = Vec::new();
    for i in 0..4 {
        let d = dir.join(format!("shard{i}"));
        let o = Options {
            shard: Shard { index: i, count: 4 },
            ..opts(&d, 1)
        };
        let out = run_batch(&spec, &o).unwrap();
        assert_eq!(out.planned, [2, 2, 1, 1][i as usize]);
        shards.push(d);
    }
    let m = merge(&shards, &dir.join("merged")).unwrap();
    assert_eq!(m.runs, 6);
    assert_eq!(bytes(&dir.join("all")), bytes(&dir.join("merged")));

    let e = merge(&shards[..3], &dir.join("m2")).unwrap_err();
    assert!(e.to_string().contains("shards 3/4 are missing"), "{e}");
    let twice = vec![
        shards[0].clone(),
        shards[1].clone(),
        shards[2].clone(),
        shards[2].clone(),
    ];
    let e = merge(&twice, &dir.join("m3")).unwrap_err();
    assert!(e.to_string().contains("given twice"), "{e}");
    // A shard that stopped early: its missing runs are named.
    let cut = dir.join("cut");
    let o = Options {
        shard: Shard { index: 1, count: 4 },
        stop_after: Some(1),
        ..opts(&cut, 1)
    };
    assert!(run_batch(&spec, &o).unwrap().interrupted);
    let with_cut = vec![
        shards[0].clone(),
        cut.clone(),
        shards[2].clone(),
        shards[3].clone(),
    ];
    let e = merge(&with_cut, &dir.join("m4")).unwrap_err();
    assert!(
        e.to_string()
            .contains("1 runs of shard 1/4 are missing (first: 5)"),
        "{e}"
    );
}

#[test]
fn an_interrupted_batch_resumed_gives_the_uninterrupted_result() {
    agents();
    let dir = tmp("resume");
    let spec = Spec::load(&spec_file(&dir, SWEEP)).unwrap();
    run_batch(&spec, &opts(&dir.join("whole"), 2)).unwrap();
    let out = dir.join("cut");
    let first = run_batch(
        &spec,
        &Options {
            stop_after: Some(4),
            ..opts(&out, 2)
        },
    )
    .unwrap();
    assert!(first.interrupted);
    // A torn half-row at the end, as a kill in mid-write leaves it.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(out.join("results.csv"))
        .unwrap();
    std::io::Write::write_all(&mut f, b"4,deadbeef,11,1,ok,,1.5").unwrap();
    drop(f);
    let second = run_batch(&spec, &opts(&out, 2)).unwrap();
    assert_eq!((second.skipped, second.ran), (4, 2));
    assert_eq!(bytes(&dir.join("whole")), bytes(&out));
    // Once more: nothing left to run, same tables.
    let third = run_batch(&spec, &opts(&out, 1)).unwrap();
    assert_eq!((third.skipped, third.ran), (6, 0));
    assert_eq!(bytes(&dir.join("whole")), bytes(&out));
    // Another spec into the same directory is refused.
    let other = Spec::load(&spec_file(&dir, &SWEEP.replace("base = 11", "base = 12"))).unwrap();
    let e = run_batch(&other, &opts(&out, 1)).unwrap_err();
    assert!(matches!(e, BatchError::OtherBatch { .. }), "{e}");
}

#[test]
fn a_failing_run_is_recorded_and_the_batch_goes_on() {
    agents();
    let dir = tmp("failing");
    // A negative capacity is refused by the world's validation: that run fails.
    let spec = Spec::load(&spec_file(
        &dir,
        r#"ticks = 3
[[axis]]
path = 'firm."Australia rare-earths mined".capacity_tpy'
values = [34000.0, -5.0, 50000.0]
"#,
    ))
    .unwrap();
    let o = run_batch(&spec, &opts(&dir.join("out"), 2)).unwrap();
    assert_eq!((o.ran, o.failed_total), (3, 1));
    let cols = chokepoint_batch::exec::columns(&spec).unwrap();
    let mut r =
        chokepoint_batch::table::RowReader::open(&dir.join("out/results.csv"), &cols).unwrap();
    let rows: Vec<_> = std::iter::from_fn(|| r.next_row().map(|(row, _)| row)).collect();
    assert_eq!(rows.len(), 3);
    assert!(rows[0].ok() && rows[2].ok());
    let e = rows[1].error.as_deref().unwrap();
    assert!(
        e.contains("invalid parameters") && e.contains("capacity_tpy"),
        "{e}"
    );
    assert!(rows[1].metrics.iter().all(|x| x.is_nan()));
}

#[test]
fn bad_specs_get_named_errors() {
    agents();
    let dir = tmp("bad");
    let load = |body: &str| Spec::load(&spec_file(&dir, body)).unwrap_err();
    match load("[[axis]]\npath = \"nation.China.parms.escalate_every\"\nvalues = [1]\n") {
        BatchError::Path(p) => match *p {
            PathError::UnknownKey {
                key, suggestion, ..
            } => {
                assert_eq!(key, "parms");
                assert_eq!(suggestion.as_deref(), Some("params"));
            }
            e => panic!("{e}"),
        },
        e => panic!("{e}"),
    }
    match load("[[axis]]\npath = \"firm.Lynas.capacity_tpy\"\nvalues = [1.0]\n") {
        BatchError::Path(p) => match *p {
            PathError::UnknownName { name, .. } => assert_eq!(name, "Lynas"),
            e => panic!("{e}"),
        },
        e => panic!("{e}"),
    }
    match load("[[axis]]\npath = \"nation.China.params.escalate_every\"\nvalues = []\n") {
        BatchError::EmptyAxis { axis, .. } => {
            assert_eq!(axis, "nation.China.params.escalate_every")
        }
        e => panic!("{e}"),
    }
    match load("[[axis]]\npath = \"nation.Japan.strategy\"\nvalues = [\"pasive\"]\n") {
        e @ BatchError::UnknownStrategy { .. } => {
            assert!(e.to_string().contains("did you mean `passive`"), "{e}")
        }
        e => panic!("{e}"),
    }
    match load("metrics = [\"welfair\"]\n") {
        e @ BatchError::UnknownMetric { .. } => {
            assert!(e.to_string().contains("did you mean `welfare`"), "{e}")
        }
        e => panic!("{e}"),
    }
    match load("[seeds]\nlist = []\n") {
        BatchError::EmptyAxis { axis, .. } => assert_eq!(axis, "seeds"),
        e => panic!("{e}"),
    }
    let t = dir.join("t.toml");
    std::fs::write(
        &t,
        format!(
            "[tournament]\nworld = {:?}\nstrategies = [\"passive\", \"no-such-strategy\"]\nroles = [\"China\"]\n",
            bundled().display().to_string()
        ),
    )
    .unwrap();
    assert!(matches!(
        Tournament::load(&t),
        Err(BatchError::UnknownStrategy { .. })
    ));
}

#[test]
fn latin_hypercube_puts_one_sample_in_every_stratum_of_every_axis() {
    let dir = tmp("lhs");
    let spec = Spec::load(&spec_file(
        &dir,
        r#"design = "lhs"
samples = 8
sample_seed = 3
[[axis]]
path = 'firm."China rare-earths mined".capacity_tpy'
from = 0.0
to = 1.0
[[axis]]
path = 'firm."Australia rare-earths mined".capacity_tpy'
from = 30000.0
to = 70000.0
"#,
    ))
    .unwrap();
    let combos = spec.combinations();
    assert_eq!(combos.len(), 8);
    for (axis, (lo, hi)) in [(0, (0.0, 1.0)), (1, (30000.0, 70000.0))] {
        let mut strata: Vec<usize> = combos
            .iter()
            .map(|c| {
                let x = c[axis].as_float().unwrap();
                ((x - lo) / (hi - lo) * 8.0).floor() as usize
            })
            .collect();
        strata.sort();
        assert_eq!(strata, (0..8).collect::<Vec<_>>());
    }
    // The same sample seed gives the same design.
    assert_eq!(format!("{combos:?}"), format!("{:?}", spec.combinations()));
}

#[test]
fn a_tournament_plays_every_assignment_and_ranks_with_intervals() {
    agents();
    let dir = tmp("tournament");
    let t = dir.join("t.toml");
    std::fs::write(
        &t,
        format!(
            "[tournament]\nworld = {:?}\nticks = 4\nstrategies = [\"passive\", \"china-controls\"]\nroles = [\"China\", \"Japan\"]\n[seeds]\ncount = 2\nbase = 5\n",
            bundled().display().to_string()
        ),
    )
    .unwrap();
    let t = Tournament::load(&t).unwrap();
    let (o, r) = t.run(&opts(&dir.join("out"), 2)).unwrap();
    // 2 strategies ^ 2 roles x 2 seeds.
    assert_eq!(o.planned, 8);
    assert_eq!(r.entries.len(), 4);
    for e in &r.entries {
        assert_eq!(e.runs, 4, "{e:?}");
        assert!(e.stats[0].0.is_finite());
    }
    let ranking = std::fs::read_to_string(dir.join("out/ranking.csv")).unwrap();
    assert!(ranking.starts_with("role,rank,strategy,runs,welfare_usd[ROLE] mean"));
}

#[test]
fn the_full_120_tick_sweep_runs_clean() {
    if std::env::var_os("CHOKEPOINT_SLOW_TESTS").is_none() {
        eprintln!("skipped: set CHOKEPOINT_SLOW_TESTS=1 to run the 120-tick example sweep");
        return;
    }
    agents();
    let dir = tmp("slow");
    let spec = Spec::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../worlds/batch/escalation-sweep.toml"),
    )
    .unwrap();
    let o = run_batch(&spec, &opts(&dir.join("out"), 2)).unwrap();
    assert_eq!((o.planned, o.failed_total), (36, 0));
}
