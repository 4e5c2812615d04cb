//! Helpers shared by the batch tests: the bundled world, its strategies built as a
//! user's `cargo build` would, and scratch directories.

use std::path::{Path, PathBuf};

/// Build the bundled strategies next to the test binary's target dir, once.
pub fn agents() {
    chokepoint_test_support::build_bundled_agents();
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
