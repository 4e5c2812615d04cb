//! Build plugin crates with cargo and find their shared libraries, as a user's build
//! would: the tests load real `.so` files, never in-process stand-ins.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

static BUILD: Mutex<()> = Mutex::new(());

/// `cargo build -p NAME` in the workspace; the path of the cdylib it produced.
pub fn build_plugin(package: &str) -> PathBuf {
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(cargo)
        .current_dir(&workspace)
        .args(["build", "--quiet", "--message-format=json", "-p", package])
        .output()
        .expect("run cargo build");
    assert!(
        out.status.success(),
        "cargo build -p {package} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let file = format!(
        "{}",
        libloading::library_filename(package.replace('-', "_")).to_string_lossy()
    );
    stdout
        .lines()
        .filter(|l| l.contains("\"reason\":\"compiler-artifact\"") && l.contains("cdylib"))
        .flat_map(|l| {
            l.split('"')
                .filter(|s| s.ends_with(&file))
                .map(PathBuf::from)
                .collect::<Vec<_>>()
        })
        .next()
        .unwrap_or_else(|| panic!("no {file} in cargo's output for {package}:\n{stdout}"))
}
