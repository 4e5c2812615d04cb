//! What the workspace's integration tests share: the bundled strategies, built as a
//! user's `cargo build` builds them.
//!
//! Why a crate: `cargo test` builds no cdylibs, and the bundled world binds its nations
//! to the strategy plugins, so every test that runs the bundled world through the
//! `chokepoint` binary or the host first builds them. That step was copied into each
//! test file that needed it; here it is written once.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Once;

/// The bundled strategy crates (`agents/`), by package name.
pub const BUNDLED_AGENTS: [&str; 5] = [
    "passive",
    "producer",
    "china-controls",
    "us-coalition",
    "hedging-ally",
];

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Build the bundled strategies in the dev profile, beside the test binaries and the
/// `chokepoint` binary under test (once per test process). Panics with cargo's output
/// if the build fails.
pub fn build_bundled_agents() {
    static BUILT: Once = Once::new();
    BUILT.call_once(|| {
        cargo_build_agents(&["--quiet"]);
    });
}

/// `cargo build` of the bundled strategies from the workspace root with `args` (a
/// profile, a message format); cargo's output, once the build succeeded (it panics with
/// cargo's messages if not).
pub fn cargo_build_agents(args: &[&str]) -> Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build.current_dir(workspace_root()).arg("build").args(args);
    for a in BUNDLED_AGENTS {
        build.args(["-p", a]);
    }
    let out = build.output().expect("run cargo build");
    assert!(
        out.status.success(),
        "building the bundled agents failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
