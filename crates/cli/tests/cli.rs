//! The `chokepoint` binary as a user runs it: exit codes, messages, and outputs that
//! are byte-identical across runs with the same seed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The binary, with the bundled strategies built beside it (`cargo test` builds no
/// cdylibs; the bundled world binds its nations to them).
fn bin() -> Command {
    chokepoint_test_support::build_bundled_agents();
    Command::new(env!("CARGO_BIN_EXE_chokepoint"))
}

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../worlds/critical-minerals-2026.toml")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chokepoint-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn run_writes_the_tables_and_prints_a_summary() {
    let out = tmp("summary");
    let o = bin()
        .args(["run"])
        .arg(bundled())
        .args(["--ticks", "13", "--seed", "1", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "final prices",
        "largest producer",
        "China",
        "largest cross-border flows",
        "shortages",
    ] {
        assert!(
            stdout.contains(needle),
            "summary lacks {needle:?}:\n{stdout}"
        );
    }
    for table in [
        "prices",
        "flows",
        "production",
        "shortages",
        "events",
        "clearing",
    ] {
        let text = std::fs::read_to_string(out.join(format!("{table}.csv"))).unwrap();
        assert!(text.lines().count() > 1, "{table}.csv has no rows");
    }
    // The strategies' licence changes and investments are in the events table (the
    // bundled world has no scripted timeline: its scenarios do).
    let events = std::fs::read_to_string(out.join("events.csv")).unwrap();
    assert!(
        events.lines().any(|l| l.contains(",licence,China: ")),
        "{events}"
    );
    assert!(
        events
            .lines()
            .any(|l| l.contains(",investment,") && l.contains("United States finances")),
        "{events}"
    );
}

#[test]
fn two_runs_with_the_same_seed_write_byte_identical_tables() {
    let (a, b) = (tmp("det-a"), tmp("det-b"));
    for dir in [&a, &b] {
        let o = bin()
            .args(["-q", "run"])
            .arg(bundled())
            .args(["--ticks", "36", "--seed", "42", "--out"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for table in [
        "prices",
        "flows",
        "production",
        "shortages",
        "events",
        "clearing",
    ] {
        let (x, y) = (
            std::fs::read(a.join(format!("{table}.csv"))).unwrap(),
            std::fs::read(b.join(format!("{table}.csv"))).unwrap(),
        );
        assert!(
            x == y,
            "{table}.csv differs between two runs with the same seed"
        );
    }
}

#[test]
fn a_malformed_world_gets_a_located_error_and_exit_code_2() {
    let dir = tmp("bad");
    let world = dir.join("bad.toml");
    let text = std::fs::read_to_string(bundled()).unwrap().replacen(
        "capacity_tpy = 315000.0",
        "capacity_tpy = -315000.0",
        1,
    );
    std::fs::write(&world, &text).unwrap();
    let line = text.lines().position(|l| l.contains("-315000.0")).unwrap() + 1;
    for cmd in ["validate", "run"] {
        let mut c = bin();
        c.arg(cmd).arg(&world);
        if cmd == "run" {
            c.arg("--out").arg(dir.join("o"));
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("bad.toml:{line}:")),
            "{cmd}: no file:line in\n{err}"
        );
        assert!(
            err.contains("capacity_tpy") && err.contains("help:"),
            "{cmd}: \n{err}"
        );
    }
}

#[test]
fn a_missing_world_file_is_bad_input() {
    let o = bin()
        .args(["validate", "no/such/world.toml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no/such/world.toml"));
}

#[test]
fn validate_accepts_the_bundled_world() {
    let o = bin().arg("validate").arg(bundled()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("ok"));
}

#[test]
fn a_scaffolded_strategy_outside_the_workspace_builds_loads_and_runs() {
    let dir = tmp("scaffold");
    let o = bin()
        .args(["new-agent", "tariff-hawk", "--path"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let krate = dir.join("tariff-hawk");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = Command::new(&cargo)
        .current_dir(&krate)
        .args(["build", "--quiet"])
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "the scaffold must build unchanged:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let test = Command::new(&cargo)
        .current_dir(&krate)
        .args(["test", "--quiet"])
        .output()
        .unwrap();
    assert!(
        test.status.success(),
        "the scaffold's own test must pass:\n{}",
        String::from_utf8_lossy(&test.stderr)
    );

    // Bind it to the United States in a copy of the bundled world and run.
    // Its binding replaces the US's, parameters and all.
    let bundled_text = std::fs::read_to_string(bundled()).unwrap();
    let us = "name = \"United States\"\nregion = \"north-america\"\nstrategy = \"us-coalition\"\n";
    let start = bundled_text.find(us).expect("the US binding") + us.len();
    let params_end = start
        + bundled_text[start..]
            .strip_prefix("params = ")
            .and_then(|rest| rest.find('\n'))
            .map_or(0, |n| n + "params = ".len() + 1);
    let text = format!(
        "{}name = \"United States\"\nregion = \"north-america\"\nstrategy = \"tariff-hawk\"\nparams = {{ rate = 0.05 }}\n{}",
        &bundled_text[..start - us.len()],
        &bundled_text[params_end..]
    );
    assert!(text.contains("tariff-hawk"));
    let world = dir.join("world.toml");
    std::fs::write(&world, text).unwrap();
    let o = bin()
        .args(["-v", "run"])
        .arg(&world)
        .args(["--ticks", "3", "--out"])
        .arg(dir.join("out"))
        .arg("--agents")
        .arg(krate.join("target/debug"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("strategy loaded") && stderr.contains("tariff-hawk"),
        "{stderr}"
    );
}

#[test]
fn a_missing_plugin_lists_where_it_looked_and_exits_2() {
    let dir = tmp("missing-plugin");
    let text = std::fs::read_to_string(bundled()).unwrap().replacen(
        "name = \"Japan\"\nregion = \"east-asia\"\nstrategy = \"passive\"",
        "name = \"Japan\"\nregion = \"east-asia\"\nstrategy = \"no-such-strategy\"",
        1,
    );
    let world = dir.join("world.toml");
    std::fs::write(&world, text).unwrap();
    let o = bin()
        .arg("run")
        .arg(&world)
        .args(["--ticks", "1", "--agents", "/nowhere", "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no-such-strategy")
            && err.contains("Japan")
            && err.contains("/nowhere/libno_such_strategy.so"),
        "{err}"
    );
}

/// A world whose "Japan" plays the host's test strategy (a real .so) in `mode`.
fn world_with_test_strategy(dir: &Path, mode: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(cargo)
        .current_dir(&root)
        .args(["build", "--quiet", "-p", "test-strategy"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_chokepoint"));
    let lib = exe.parent().unwrap().join(format!(
        "{}test_strategy{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    assert!(lib.is_file(), "{}", lib.display());
    let text = std::fs::read_to_string(bundled()).unwrap().replacen(
        "name = \"Japan\"\nregion = \"east-asia\"\nstrategy = \"passive\"",
        &format!("name = \"Japan\"\nregion = \"east-asia\"\nstrategy = {:?}\nparams = {{ mode = \"{mode}\", from_tick = 2 }}", lib.display().to_string()),
        1,
    );
    let world = dir.join("world.toml");
    std::fs::write(&world, text).unwrap();
    world
}

fn ticks_in(csv: &Path) -> Vec<u64> {
    let mut ticks: Vec<u64> = std::fs::read_to_string(csv)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    ticks.dedup();
    ticks
}

#[test]
fn a_panicking_plugin_stops_the_run_naming_it_and_keeps_the_tables_so_far() {
    let dir = tmp("panicking-plugin");
    let world = world_with_test_strategy(&dir, "panic");
    let o = bin()
        .arg("run")
        .arg(&world)
        .args(["--ticks", "5", "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("plugin `test-strategy` panicked in decide for Japan at tick 2"),
        "{err}"
    );
    assert!(err.contains("deliberate panic at tick 2"), "{err}");
    assert_eq!(
        ticks_in(&dir.join("out/prices.csv")),
        vec![0, 1],
        "ticks before the fault are kept"
    );
}

#[test]
fn skip_agent_contains_a_faulty_plugin_and_finishes_the_run() {
    let dir = tmp("skip-agent");
    let world = world_with_test_strategy(&dir, "nan");
    let o = bin()
        .arg("run")
        .arg(&world)
        .args(["--ticks", "5", "--on-plugin-error", "skip-agent", "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("invalid action for Japan at tick 2") && err.contains("rate is NaN"),
        "{err}"
    );
    assert_eq!(ticks_in(&dir.join("out/prices.csv")), vec![0, 1, 2, 3, 4]);
}

#[test]
fn a_run_leaves_a_log_that_replays_without_plugins_even_when_cut() {
    let dir = tmp("replay");
    let o = bin()
        .args(["-q", "run"])
        .arg(bundled())
        // Snapshots after ticks 4 and 9: the log ends with tick 11's record.
        .args([
            "--ticks",
            "12",
            "--seed",
            "3",
            "--snapshot-every",
            "5",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let log = dir.join("run.log");
    let o = bin().arg("replay").arg(&log).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.contains("verified 12 ticks") && out.contains("china-controls"),
        "{out}"
    );

    // A run killed mid-write: the log still replays up to its last whole record.
    let bytes = std::fs::read(&log).unwrap();
    let cut = dir.join("cut.log");
    std::fs::write(&cut, &bytes[..bytes.len() - 7]).unwrap();
    let o = bin().arg("replay").arg(&cut).output().unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("verified 11 ticks"));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cut off mid-write"));
}

#[test]
fn a_fork_at_t_is_identical_before_t_and_diff_says_so() {
    let dir = tmp("fork");
    let parent = dir.join("parent");
    let o = bin()
        .args(["-q", "run"])
        .arg(bundled())
        .args(["--ticks", "30", "--seed", "2", "--out"])
        .arg(&parent)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let child = dir.join("child");
    let o = bin()
        .arg("fork")
        .arg(parent.join("run.log"))
        .args(["--at", "12", "--strategy", "United States=passive", "--out"])
        .arg(&child)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The child's log replays on its own, and its first 12 ticks are the parent's.
    let o = bin()
        .arg("replay")
        .arg(child.join("run.log"))
        .output()
        .unwrap();
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("verified 30 ticks"));
    let o = bin()
        .arg("diff")
        .arg(parent.join("run.log"))
        .arg(child.join("run.log"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let first: u64 = out
        .split("first divergence at tick ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(first >= 12, "identical before the fork tick: {out}");
    let prices = |d: &Path| std::fs::read_to_string(d.join("prices.csv")).unwrap();
    let before = |text: String| {
        text.lines()
            .filter(|l| {
                l.split(',')
                    .next()
                    .unwrap()
                    .parse::<u64>()
                    .is_ok_and(|t| t < 12)
            })
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(before(prices(&parent)), before(prices(&child)));
    // A run diffed against itself is identical.
    let o = bin()
        .arg("diff")
        .arg(parent.join("run.log"))
        .arg(parent.join("run.log"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("identical"));
}

fn run_to(dir: &Path, extra: &[&str]) -> PathBuf {
    let o = bin()
        .args(["-q", "run"])
        .arg(bundled())
        .args(["--ticks", "30", "--seed", "4", "--out"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    dir.join("run.log")
}

#[test]
fn runs_with_one_and_two_threads_log_identical_ticks_that_replay() {
    let dir = tmp("threads");
    let one = run_to(&dir.join("one"), &["--threads", "1"]);
    let two = run_to(&dir.join("two"), &["--threads", "2"]);
    for log in [&one, &two] {
        let o = bin().arg("replay").arg(log).output().unwrap();
        assert!(
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains("verified 30 ticks"),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let (a, b) = (
        chokepoint_runlog::read_log_file(&one).unwrap(),
        chokepoint_runlog::read_log_file(&two).unwrap(),
    );
    assert_eq!((a.header.threads, b.header.threads), (1, 2));
    assert_eq!(
        a.header.snapshot_every, 60,
        "default: five years of monthly ticks"
    );
    assert!(a.snapshots.is_empty(), "none in 30 ticks");
    assert_eq!(a.ticks.len(), 30);
    assert!(
        a.ticks.iter().any(|t| !t.actions.is_empty()),
        "strategies acted"
    );
    assert_eq!(a.ticks, b.ticks, "tick records are identical");
    assert_eq!(a.snapshots, b.snapshots, "snapshots are identical");
    let o = bin()
        .args(["-q", "run"])
        .arg(bundled())
        .args(["--ticks", "1", "--threads", "0", "--out"])
        .arg(dir.join("zero"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--threads 0"));
}

#[test]
fn replay_to_seeks_from_the_nearest_snapshot_and_replay_verifies_from_tick_0() {
    let dir = tmp("seek");
    let log = run_to(&dir, &["--snapshot-every", "12"]);
    let header = chokepoint_runlog::read_log_file(&log).unwrap();
    assert_eq!(header.header.snapshot_every, 12);
    assert_eq!(
        header.snapshots.iter().map(|s| s.tick).collect::<Vec<_>>(),
        [11, 23]
    );
    let o = bin()
        .arg("replay")
        .arg(&log)
        .args(["--to", "27"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.contains("verified 4 ticks from the snapshot after tick 23"),
        "{out}"
    );
    let o = bin().arg("replay").arg(&log).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && out.contains("verified 30 ticks in"),
        "{out}"
    );
    // The full verification on two threads runs the segments between snapshots in
    // parallel; on one, sequentially.
    for (threads, note) in [("2", true), ("1", false)] {
        let o = bin()
            .arg("replay")
            .arg(&log)
            .args(["--threads", threads])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success()
                && out.contains("verified 30 ticks in")
                && out.contains("segments between snapshots in parallel") == note,
            "{threads} threads: {out}"
        );
    }
}

#[test]
fn negotiating_and_adapting_runs_have_snapshots_that_replay_seeks_from_and_export_their_tables() {
    let dir = tmp("seek-state");
    for world in ["forge-2026", "adaptation-demo"] {
        let out = dir.join(world);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../worlds/{world}.toml"));
        let o = bin()
            .args(["-q", "run"])
            .arg(&path)
            .args(["--ticks", "30", "--snapshot-every", "12", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let log = chokepoint_runlog::read_log_file(&out.join("run.log")).unwrap();
        let last = &log.snapshots.last().expect("snapshots").state;
        if world == "forge-2026" {
            assert!(
                !last.negotiation.agreements.is_empty(),
                "FORGE negotiates before tick 24"
            );
        } else {
            assert!(last.adaptation.substitution.iter().any(|s| s[0] != 0.0));
        }
        assert_eq!(
            log.snapshots.iter().map(|s| s.tick).collect::<Vec<_>>(),
            [11, 23],
            "{world}: after the 12th and the 24th tick"
        );
        let o = bin()
            .arg("replay")
            .arg(out.join("run.log"))
            .args(["--to", "29"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success()
                && stdout.contains("verified 6 ticks from the snapshot after tick 23"),
            "{world}: {stdout}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        // Every table the run wrote comes out of the log byte for byte.
        let exported = out.join("export");
        let o = bin()
            .arg("export")
            .arg(out.join("run.log"))
            .args(["--format", "csv", "--out"])
            .arg(&exported)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut compared = 0;
        for entry in std::fs::read_dir(&out).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "csv") {
                let name = path.file_name().unwrap();
                let theirs = std::fs::read(exported.join(name))
                    .unwrap_or_else(|e| panic!("{world}: {name:?} exported: {e}"));
                assert!(
                    std::fs::read(&path).unwrap() == theirs,
                    "{world}: exported {name:?} differs from the run's"
                );
                compared += 1;
            }
        }
        assert_eq!(compared, 13, "{world}: the run's tables");
    }
}

#[test]
fn export_writes_parquet_and_csv_tables_of_a_run() {
    let dir = tmp("export");
    let log = run_to(&dir.join("run"), &[]);
    for format in ["parquet", "csv"] {
        let out = dir.join(format);
        let o = bin()
            .arg("export")
            .arg(&log)
            .args(["--format", format, "--out"])
            .arg(&out)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(stdout.contains("exported 30 verified ticks"), "{stdout}");
        for table in chokepoint_export::TABLES {
            let file = out.join(format!("{}.{format}", table.name));
            assert!(file.is_file(), "{} missing", file.display());
        }
        assert!(out.join("manifest.json").is_file());
    }
    // The CSV prices are the run's own prices table.
    assert_eq!(
        std::fs::read_to_string(dir.join("csv/prices.csv")).unwrap(),
        std::fs::read_to_string(dir.join("run/prices.csv")).unwrap()
    );
    let o = bin()
        .arg("export")
        .arg(&log)
        .args(["--format", "xlsx"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("use `parquet` or `csv`"));
    let o = bin()
        .arg("export")
        .arg(dir.join("no-such.log"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such.log"));
}
