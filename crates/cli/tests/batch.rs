//! `chokepoint batch` as a user runs it: killed with SIGKILL mid-way and rerun, it ends
//! with the same tables as an uninterrupted batch; bad specs exit 2 with a named error.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn bin() -> Command {
    chokepoint_test_support::build_bundled_agents();
    let mut c = Command::new(env!("CARGO_BIN_EXE_chokepoint"));
    c.env("RUST_LOG", "error");
    c
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "chokepoint-cli-batch-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn spec(dir: &Path, body: &str) -> PathBuf {
    let world = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../worlds/critical-minerals-2026.toml")
        .canonicalize()
        .unwrap();
    let p = dir.join("spec.toml");
    std::fs::write(
        &p,
        format!("[batch]\nworld = {:?}\n{body}", world.display().to_string()),
    )
    .unwrap();
    p
}

const SWEEP: &str = r#"ticks = 24
[seeds]
count = 4
base = 1
[[axis]]
path = "nation.China.params.escalate_every"
values = [1, 2, 4, 8]
"#;

fn rows(csv: &Path) -> usize {
    std::fs::read_to_string(csv)
        .map(|s| s.lines().count().saturating_sub(1))
        .unwrap_or(0)
}

#[test]
fn a_batch_killed_midway_and_rerun_ends_with_the_uninterrupted_tables() {
    let dir = tmp("kill");
    let s = spec(&dir, SWEEP);
    let whole = dir.join("whole");
    let o = bin()
        .args(["batch", "--threads", "2", "--out"])
        .arg(&whole)
        .arg(&s)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(rows(&whole.join("results.csv")), 16);

    let cut = dir.join("cut");
    let mut child = bin()
        .args(["batch", "--threads", "2", "--out"])
        .arg(&cut)
        .arg(&s)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    while rows(&cut.join("results.csv")) < 3 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the batch finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let done = rows(&cut.join("results.csv"));
    assert!(done < 16, "{done} rows before the kill");

    let o = bin()
        .args(["batch", "--threads", "2", "--out"])
        .arg(&cut)
        .arg(&s)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(&format!("{done} already done")), "{stdout}");
    for f in ["results.csv", "results.parquet"] {
        assert!(
            std::fs::read(whole.join(f)).unwrap() == std::fs::read(cut.join(f)).unwrap(),
            "{f} differs after resume"
        );
    }
}

#[test]
fn shards_merge_and_bad_specs_exit_2_with_a_named_error() {
    let dir = tmp("shards");
    let s = spec(&dir, &SWEEP.replace("ticks = 24", "ticks = 2"));
    for i in 0..2 {
        let o = bin()
            .args(["batch", "--shard", &format!("{i}/2"), "--out"])
            .arg(dir.join(format!("s{i}")))
            .arg(&s)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = bin()
        .args(["batch", "merge"])
        .arg(dir.join("s0"))
        .arg(dir.join("s1"))
        .arg("--out")
        .arg(dir.join("all"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(rows(&dir.join("all/results.csv")), 16);
    let o = bin()
        .args(["batch", "merge"])
        .arg(dir.join("s0"))
        .arg("--out")
        .arg(dir.join("half"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("shards 1/2 are missing"));

    let bad = spec(
        &dir,
        "[[axis]]\npath = \"nation.China.params.escalate_every\"\nvalues = []\n",
    );
    let o = bin().args(["batch"]).arg(&bad).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("axis `nation.China.params.escalate_every` has no values"),
        "{e}"
    );
    let o = bin()
        .args(["batch", "--shard", "2/2"])
        .arg(&s)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}
