//! The Parquet export read by pyarrow (and polars when installed), as researchers will.
//!
//! Runs only with `CHOKEPOINT_PYARROW=1` (CI sets it after installing pyarrow into a
//! venv); `CHOKEPOINT_PYTHON` names the interpreter (default `python3`).

mod common;

use std::process::Command;

use chokepoint_export::{Format, export};
use common::*;

#[test]
fn pyarrow_reads_every_table_with_its_schema_and_the_goods_balance() {
    if std::env::var("CHOKEPOINT_PYARROW").as_deref() != Ok("1") {
        eprintln!(
            "note: skipped; set CHOKEPOINT_PYARROW=1 (and CHOKEPOINT_PYTHON to a Python with pyarrow) to run it"
        );
        return;
    }
    let python = std::env::var("CHOKEPOINT_PYTHON").unwrap_or_else(|_| "python3".into());
    let dir = scratch("pyarrow");
    let log = make_log(&dir, 24);
    let out = dir.join("out");
    export(&log, &out, Format::Parquet).unwrap();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/read_with_pyarrow.py");
    let result = Command::new(&python)
        .arg(&script)
        .arg(&out)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    println!("{stdout}");
    assert!(
        result.status.success() && stdout.contains(" passed, 0 failed"),
        "{} failed ({}):\n{stdout}\n{stderr}",
        script.display(),
        result.status
    );
    let _ = std::fs::remove_dir_all(&dir);
}
