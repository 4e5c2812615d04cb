//! Helpers shared by the batch tests: the bundled world, its strategies built as a
//! user's `cargo build` would, and scratch directories.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Build the bundled strategies next to the test binary's target dir, once.
pub fn agents() {
    static AGENTS: std::sync::Once = std::sync::Once::new();
    AGENTS.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut build = Command::new(cargo);
        build.current_dir(root).args(["build", "--quiet"]);
        for a in [
            "passive",
            "producer",
            "china-controls",
            "us-coalition",
            "hedging-ally",
        ] {
            build.args(["-p", a]);
        }
        let out = build.output().expect("run cargo build");
        assert!(
            out.status.success(),
            "building the bundled agents failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

pub fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../worlds/critical-minerals-2026.toml")
        .canonicalize()
        .unwrap()
}

pub fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chokepoint-batch-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn spec_file(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("spec.toml");
    std::fs::write(
        &p,
        format!(
            "[batch]\nworld = {:?}\n{body}",
            bundled().display().to_string()
        ),
    )
    .unwrap();
    p
}
