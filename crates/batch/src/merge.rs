//! Joining shard outputs into the table one unsharded batch would have written, and
//! refusing to when a run is missing or present twice: a cluster job that died or ran
//! twice must not pass unnoticed into an analysis.

use std::path::{Path, PathBuf};

use crate::error::BatchError;
use crate::exec::Manifest;
use crate::table::{Columns, RowReader, TableWriter};

#[derive(Debug, Clone)]
pub struct Merged {
    pub runs: u64,
    pub failed: u64,
    pub shards: u64,
    pub results_csv: PathBuf,
    pub results_parquet: PathBuf,
}

fn read_manifest(dir: &Path) -> Result<Manifest, BatchError> {
    let p = dir.join("batch.toml");
    let text = std::fs::read_to_string(&p).map_err(|e| BatchError::Io {
        path: p.clone(),
        message: format!("{e}; is this a batch output directory?"),
    })?;
    toml::from_str(&text).map_err(|e| BatchError::Io {
        path: p,
        message: e.to_string(),
    })
}

/// Merge the shard directories `dirs` into `out`.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Merged, BatchError> {
    let err = |m: String| BatchError::Merge(m);
    if dirs.is_empty() {
        return Err(err("give the shard output directories to merge".into()));
    }
    let manifests: Vec<Manifest> = dirs
        .iter()
        .map(|d| read_manifest(d))
        .collect::<Result<_, _>>()?;
    let first = &manifests[0];
    for (d, m) in dirs.iter().zip(&manifests) {
        if m.plan_hash != first.plan_hash || m.columns != first.columns {
            return Err(err(format!(
                "{} is from another batch than {} (plan {} vs {})",
                d.display(),
                dirs[0].display(),
                &m.plan_hash[..16],
                &first.plan_hash[..16]
            )));
        }
        if m.shard.count != first.shard.count {
            return Err(err(format!(
                "{} is shard {}/{}, {} is shard {}/{}: shards of one split only",
                d.display(),
                m.shard.index,
                m.shard.count,
                dirs[0].display(),
                first.shard.index,
                first.shard.count
            )));
        }
    }
    let n = first.shard.count;
    let mut by_shard: Vec<Option<usize>> = vec![None; n as usize];
    for (k, m) in manifests.iter().enumerate() {
        let slot = &mut by_shard[m.shard.index as usize];
        if let Some(other) = slot {
            return Err(err(format!(
                "shard {}/{n} is given twice: {} and {}; its runs would be duplicated",
                m.shard.index,
                dirs[*other].display(),
                dirs[k].display()
            )));
        }
        *slot = Some(k);
    }
    let missing: Vec<String> = by_shard
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(err(format!(
            "shards {} are missing: their runs would be missing",
            missing.join(", ")
        )));
    }
    let cols = Columns {
        axes: first.axes.clone(),
        metrics: first.metrics.clone(),
    };
    let mut readers: Vec<RowReader> = by_shard
        .iter()
        .map(|k| RowReader::open(&dirs[k.expect("checked")].join("results.csv"), &cols))
        .collect::<Result<_, _>>()?;
    std::fs::create_dir_all(out).map_err(|e| BatchError::Io {
        path: out.to_path_buf(),
        message: e.to_string(),
    })?;
    let csv = out.join("results.csv");
    let parquet = out.join("results.parquet");
    let mut w = TableWriter::create(&csv, None, &parquet, &cols)?;
    let mut failed = 0;
    let mut missing_runs = Vec::new();
    // Shard i holds runs i, i + n, i + 2n, ... in order: take them round robin.
    let mut idx = 0u64;
    while idx < first.runs {
        let s = (idx % n) as usize;
        let dir = &dirs[by_shard[s].expect("checked")];
        match readers[s].next_row() {
            Some((row, _)) if row.index == idx => {
                failed += u64::from(!row.ok());
                w.write(row)?;
                idx += 1;
            }
            Some((row, _)) if row.index < idx => {
                return Err(err(format!(
                    "{}: run {} appears twice (or out of order)",
                    dir.display(),
                    row.index
                )));
            }
            Some((row, _)) => {
                return Err(err(format!(
                    "{}: run {idx} is missing (the next row is run {})",
                    dir.display(),
                    row.index
                )));
            }
            None => {
                // This shard stopped early: list what is missing from it.
                let mut i = idx;
                while i < first.runs && missing_runs.len() < 10 {
                    missing_runs.push(i);
                    i += n;
                }
                let count = (first.runs - idx).div_ceil(n);
                return Err(err(format!(
                    "{}: {count} runs of shard {}/{n} are missing (first: {}); resume that shard with the same command, then merge again",
                    dir.display(),
                    s,
                    missing_runs
                        .iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    for (s, r) in readers.iter_mut().enumerate() {
        if let Some((row, _)) = r.next_row() {
            return Err(err(format!(
                "{}: run {} is past the end of the plan or a duplicate",
                dirs[by_shard[s].expect("checked")].display(),
                row.index
            )));
        }
    }
    w.finish()?;
    let manifest = Manifest {
        shard: crate::exec::Shard::all(),
        ..first.clone()
    };
    std::fs::write(
        out.join("batch.toml"),
        toml::to_string(&manifest).map_err(|e| BatchError::Output(e.to_string()))?,
    )
    .map_err(|e| BatchError::Output(e.to_string()))?;
    Ok(Merged {
        runs: first.runs,
        failed,
        shards: n,
        results_csv: csv,
        results_parquet: parquet,
    })
}
