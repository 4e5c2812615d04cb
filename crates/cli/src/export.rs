//! `chokepoint export LOG --format parquet|csv --out DIR`: the run's tidy tables for
//! pandas, polars, R or DuckDB. The work is in `chokepoint_export` (replay with every
//! digest verified, one file per table, provenance in the metadata); this module only
//! maps its outcome to messages and exit codes: a log that cannot be read is bad input
//! (2), a log that does not reproduce or a file that cannot be written is a failed run
//! (1).

use std::path::Path;

use chokepoint_export::{ExportError, Format};

use crate::Failure;

pub fn export(log: &Path, format: Format, out: &Path) -> Result<(), Failure> {
    let summary = chokepoint_export::export(log, out, format).map_err(|e| match e {
        ExportError::Log { .. } | ExportError::World(_) | ExportError::WorldHash { .. } => {
            Failure::BadInput(format!("error: {e}"))
        }
        e => Failure::Run(format!("{}: {e}", log.display())),
    })?;
    if let Some(why) = &summary.log_stopped {
        eprintln!(
            "warning: the log is cut or damaged ({why}); the export covers the {} whole ticks before it",
            summary.ticks
        );
    }
    println!(
        "exported {} verified ticks of {} as {} to {} in {:.2} s:",
        summary.ticks,
        log.display(),
        summary.format,
        summary.out_dir.display(),
        summary.elapsed.as_secs_f64()
    );
    for t in &summary.tables {
        println!("  {:<12} {:>9} rows {:>10} bytes", t.name, t.rows, t.bytes);
    }
    println!("  manifest: {}", summary.manifest.display());
    Ok(())
}
