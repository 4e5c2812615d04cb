//! Export a run log as tidy tables: one file per table (Parquet or CSV) and a
//! `manifest.json`, for pandas, polars, R, DuckDB or a spreadsheet.
//!
//! [`export`] reads a run log, rebuilds the run by replaying it (the world file stored in
//! the log's header, its seed, and each tick's logged actions, without any plugin) and
//! checks every tick's state digest against the log, as `chokepoint replay` does: a log
//! whose replay diverges is refused, naming the first tick that differs, and nothing is
//! left in the output directory. Tables are written as the replay goes: rows are buffered
//! for at most [`ExportOptions::ticks_per_batch`] ticks (or
//! [`ExportOptions::max_batch_rows`] rows of one table) and then handed to the file, so
//! the run is never held in memory (the log itself, which is small, is read whole).
//! Files are written under a `.partial` name and renamed when the export has succeeded.
//!
//! # Tables
//!
//! One row per observation; rows name things (nations, firms, commodities, stages)
//! rather than numbering them. `prices`, `flows`, `production`, `shortages`,
//! `stockpiles`, `events`, `clearing`, and the negotiation (`negotiation_rounds`, with
//! `round` beside `tick`; `agreements`; `deliveries`) and adaptation (`substitution`,
//! `recycling`, `pipeline`) tables have the same columns, meanings and CSV bytes as the
//! run's CSV tables (`chokepoint_tables`), so a run's tables can be had again from its
//! log alone. The others:
//!
//! - **policies** `(tick, kind, commodity, stage, nation_a, nation_b, value, detail)`:
//!   the tariffs, export licences and import price floors in force after each tick, as
//!   *changes*: at tick 0 every policy cell in force after tick 0 (the world file's
//!   policies plus tick 0's events and actions), then at each later tick one row per cell
//!   set, changed or removed during that tick. A snapshot every tick would repeat
//!   thousands of unchanged cells; the state at tick t is the last row of each cell up to
//!   t. `kind = tariff`: nation_a importer, nation_b exporter, value the ad valorem rate
//!   (0 with detail `removed` when lifted). `kind = licence`: nation_a exporter,
//!   nation_b destination, detail `ban`, `quota` (value: t per tick),
//!   `licensed, delay N ticks, opens at tick T`, or `open` when the control was lifted.
//!   `kind = floor`: nation_a importer, nation_b null, value the floor in USD/t (0 with
//!   detail `removed` when lifted).
//! - **events** `(tick, kind, detail)`: the timeline's events and rejected actions.
//! - **actions** `(tick, nation, kind, commodity, stage, other_nation, value, price,
//!   detail)`: what strategies asked for before each tick, from the log, in the order
//!   the engine applied them. kind `set_tariff` (other: exporter, value: rate),
//!   `set_licence` (other: destination, detail: open/ban/quota/licensed, value: quota t
//!   per tick or delay in ticks), `set_floor` (value: USD/t), `stockpile_buy` /
//!   `stockpile_release` (value: t, price: the price limit), `invest` (other: host,
//!   value: t per year, price: USD per t/yr).
//! - **welfare** `(tick, nation, consumer_surplus_usd, producer_revenue_usd,
//!   tariff_revenue_usd, budget_usd)`, one row per nation and tick:
//!   - `producer_revenue_usd`: the nation's firms' sales (produced plus sold from stock)
//!     times the nation's supply price in each market; stockpile releases are not
//!     counted (they are in `stockpiles.earned_usd`).
//!   - `tariff_revenue_usd`: tariff plus variable levy paid on flows into the nation.
//!   - `budget_usd`: the treasury after the tick.
//!   - `consumer_surplus_usd`: end users only (firms buying inputs are producers), the
//!     area under each end use's inverse demand above the local price over what it
//!     obtained, with its demand-shock factor (see [`welfare`]). **Null** when any end
//!     use of the nation has a surplus that is not finite: isoelastic demand with
//!     elasticity <= 1, or linear demand with elasticity 0.
//! - **clearing** `(tick, commodity, stage, sweeps, converged, residual)`: solver
//!   diagnostics, as in the run's CSV tables.
//!
//! # Adding a table
//!
//! Tables are declared once, in [`schema::TABLES`] (name, columns, types): the Parquet
//! schema, the CSV header and the manifest all come from there, and both sinks handle
//! any table. Adding one is a `TableDef` in `TABLES` with its index constant next to
//! the others, and the code in `rows.rs` that pushes its rows each tick; nothing else
//! changes, and the pyarrow test checks its schema from the manifest.
//!
//! # Types and provenance
//!
//! `tick` is UInt64; names (and `kind`) are dictionary-encoded strings
//! (`Dictionary(Int32, Utf8)`); quantities, prices and money are Float64; `detail`
//! columns are Utf8. Parquet files are zstd-compressed with dictionary encoding, and each
//! carries in its key-value metadata the log's [`Header`](chokepoint_runlog::Header) as
//! JSON under `chokepoint.header` (format and engine version, world name, path, text and
//! hash, seed, plugins with their hashes, command line), plus `chokepoint.table` and
//! `chokepoint.export_version`. CSV files have the same columns (RFC 4180 quoting, floats
//! in Rust's shortest round-trip form, nulls as empty fields, `\n` line ends as the
//! run's tables). `manifest.json` lists the tables, files, row counts and column types,
//! and holds the header too.
//!
//! Architecture invariant: this crate only reads logs and replays them through the
//! engine's public API; it changes nothing in the engine or the log format, and the same
//! log gives byte-identical exports.

mod rows;
pub mod schema;
mod sink;
pub mod welfare;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chokepoint_engine::Simulation;
use chokepoint_runlog::{LogContents, LogError, ReplayError, read_log_file};

pub use schema::{ColumnType, TABLES, TableDef};

use crate::sink::{CsvSink, ParquetSink, Sink};

/// Version of the exported tables' layout, in every file's metadata and the manifest.
/// Bumped on any change of columns or meanings. Version 2 added the negotiation and
/// adaptation tables (the others are as in version 1).
pub const EXPORT_VERSION: u32 = 2;

/// Parquet key-value metadata key holding the log's header as JSON.
pub const HEADER_KEY: &str = "chokepoint.header";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Csv,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.extension())
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "parquet" => Ok(Format::Parquet),
            "csv" => Ok(Format::Csv),
            _ => Err(format!("unknown format `{s}`: use `parquet` or `csv`")),
        }
    }
}

/// How much is buffered before rows are handed to the files.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExportOptions {
    /// Hand every table's buffered rows to its file after this many ticks.
    pub ticks_per_batch: u64,
    /// ... or as soon as one table has buffered this many rows (checked after each tick).
    pub max_batch_rows: usize,
    /// Parquet: start a new row group after this many rows.
    pub max_row_group_rows: usize,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            ticks_per_batch: 64,
            max_batch_rows: 1 << 16,
            max_row_group_rows: 1 << 20,
        }
    }
}

/// One written table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSummary {
    pub name: &'static str,
    pub file: PathBuf,
    pub rows: u64,
    pub bytes: u64,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSummary {
    pub format: Format,
    pub out_dir: PathBuf,
    pub manifest: PathBuf,
    /// Ticks replayed, verified and exported.
    pub ticks: u64,
    pub tables: Vec<TableSummary>,
    /// The log reader's note when the log was cut or damaged: the export covers the
    /// ticks before it.
    pub log_stopped: Option<String>,
    pub elapsed: Duration,
}

impl ExportSummary {
    pub fn total_bytes(&self) -> u64 {
        self.tables.iter().map(|t| t.bytes).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot read the run log {path}: {source}")]
    Log {
        path: PathBuf,
        #[source]
        source: LogError,
    },
    #[error("the world file stored in the log does not load: {0}")]
    World(String),
    #[error(
        "the world text stored in the log hashes to {computed}, but the header records {recorded}: the log was edited; export refused"
    )]
    WorldHash { recorded: String, computed: String },
    #[error(
        "replay diverges at tick {tick}: {what}; ticks before {tick} match. A log that does not reproduce is not exported (replay it with the chokepoint version in its header)"
    )]
    Diverged { tick: u64, what: String },
    #[error("replay failed at tick {tick}: {message}")]
    Engine { tick: u64, message: String },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write Parquet file {path}: {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("cannot encode {what} as JSON: {message}")]
    Json { what: &'static str, message: String },
}

/// Export the run logged at `log_path` into `out_dir` (created if needed), with the
/// default [`ExportOptions`].
pub fn export(
    log_path: &Path,
    out_dir: &Path,
    format: Format,
) -> Result<ExportSummary, ExportError> {
    export_with(log_path, out_dir, format, &ExportOptions::default())
}

/// [`export`] with explicit buffering options.
pub fn export_with(
    log_path: &Path,
    out_dir: &Path,
    format: Format,
    options: &ExportOptions,
) -> Result<ExportSummary, ExportError> {
    let started = Instant::now();
    let log = read_log_file(log_path).map_err(|source| ExportError::Log {
        path: log_path.to_path_buf(),
        source,
    })?;
    let header = &log.header;
    let world = chokepoint_world::parse(Path::new(&header.world_path), &header.world_text)
        .map_err(|e| ExportError::World(e.to_string()))?;
    if world.hash != header.world_hash {
        return Err(ExportError::WorldHash {
            recorded: header.world_hash.clone(),
            computed: world.hash.clone(),
        });
    }
    std::fs::create_dir_all(out_dir).map_err(|source| ExportError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let header_json = serde_json::to_string(header).map_err(|e| ExportError::Json {
        what: "the log header",
        message: e.to_string(),
    })?;
    let metadata = vec![
        (HEADER_KEY.to_string(), header_json),
        (
            "chokepoint.export_version".to_string(),
            EXPORT_VERSION.to_string(),
        ),
    ];
    let mut sink: Box<dyn Sink> = match format {
        Format::Parquet => Box::new(ParquetSink::create(
            out_dir,
            &metadata,
            options.max_row_group_rows,
        )?),
        Format::Csv => Box::new(CsvSink::create(out_dir)?),
    };
    let ticks = match replay_into(&log, world.nations.len(), sink.as_mut(), options) {
        Ok(ticks) => ticks,
        Err(e) => {
            sink.abandon();
            return Err(e);
        }
    };
    let written = match sink.finish() {
        Ok(w) => w,
        Err(e) => {
            // Files already moved into place stay (they are complete); the rest go.
            for def in TABLES {
                let name = format!("{}.{}.partial", def.name, format.extension());
                let _ = std::fs::remove_file(out_dir.join(name));
            }
            return Err(e);
        }
    };
    let tables: Vec<TableSummary> = TABLES
        .iter()
        .zip(written)
        .map(|(def, w)| TableSummary {
            name: def.name,
            file: w.file,
            rows: w.rows,
            bytes: w.bytes,
        })
        .collect();
    let manifest = write_manifest(out_dir, format, &log, ticks, &tables)?;
    Ok(ExportSummary {
        format,
        out_dir: out_dir.to_path_buf(),
        manifest,
        ticks,
        tables,
        log_stopped: log.stopped.clone(),
        elapsed: started.elapsed(),
    })
}

/// Replay the log with the one replay loop (`chokepoint_runlog::replay_each`, which
/// checks every tick's digest), check each tick's events too, and write its rows.
fn replay_into(
    log: &LogContents,
    n_nations: usize,
    sink: &mut dyn Sink,
    options: &ExportOptions,
) -> Result<u64, ExportError> {
    let mut rows = rows::TickRows::new(n_nations);
    let mut since_batch = 0;
    // The first error of the callback; once set, later ticks are only replayed.
    let mut failed: Option<ExportError> = None;
    let mut each = |sim: &Simulation| -> Result<(), ExportError> {
        let tick = sim.record().tick;
        // The reader guarantees ticks numbered 0, 1, 2, ... in order.
        let entry = &log.ticks[tick as usize];
        let events = &sim.record().events;
        if events.len() != entry.events.len()
            || events
                .iter()
                .zip(&entry.events)
                .any(|(e, (kind, detail))| e.kind != *kind || e.detail != *detail)
        {
            return Err(ExportError::Diverged {
                tick,
                what: format!(
                    "the events differ from the log ({} logged, {} replayed)",
                    entry.events.len(),
                    events.len()
                ),
            });
        }
        rows.write(sink, sim, entry)?;
        since_batch += 1;
        let all = since_batch >= options.ticks_per_batch.max(1);
        for k in 0..TABLES.len() {
            if all || sink.buffered_rows(k) >= options.max_batch_rows.max(1) {
                sink.flush_table(k)?;
            }
        }
        if all {
            since_batch = 0;
        }
        Ok(())
    };
    let replayed = chokepoint_runlog::replay_each(log, None, |sim| {
        if failed.is_none() {
            failed = each(sim).err();
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    match replayed {
        Ok((report, _)) => Ok(report.ticks_verified),
        Err(ReplayError::World(message)) => Err(ExportError::World(message)),
        Err(ReplayError::Diverged {
            tick,
            expected,
            found,
        }) => Err(ExportError::Diverged {
            tick,
            what: format!(
                "the state digest differs from the log ({expected} logged, {found} replayed)"
            ),
        }),
        Err(ReplayError::Engine { tick, message }) => Err(ExportError::Engine { tick, message }),
        // replay_each never seeks, so it never restores a snapshot.
        Err(e @ ReplayError::Snapshot { tick, .. }) => Err(ExportError::Engine {
            tick,
            message: e.to_string(),
        }),
    }
}

fn write_manifest(
    out_dir: &Path,
    format: Format,
    log: &LogContents,
    ticks: u64,
    tables: &[TableSummary],
) -> Result<PathBuf, ExportError> {
    use serde_json::json;
    let tables_json: Vec<serde_json::Value> = TABLES
        .iter()
        .zip(tables)
        .map(|(def, t)| {
            json!({
                "name": def.name,
                "file": t.file.file_name().map(|f| f.to_string_lossy().into_owned()),
                "rows": t.rows,
                "bytes": t.bytes,
                "columns": def.columns.iter().map(|&(name, ty)| json!({
                    "name": name,
                    "type": ty.manifest_name(),
                    "nullable": ty.nullable(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let manifest = json!({
        "export_version": EXPORT_VERSION,
        "format": format.extension(),
        "ticks": ticks,
        "log_stopped": log.stopped,
        "header": log.header,
        "tables": tables_json,
        "notes": {
            "policies": "changes only: every cell in force after tick 0, then one row per cell set, changed or removed at each later tick",
            "welfare": "consumer_surplus_usd is end users' surplus over what they obtained; null where not finite (isoelastic demand with elasticity <= 1, linear with elasticity 0)",
        },
    });
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| ExportError::Json {
        what: "the manifest",
        message: e.to_string(),
    })?;
    let path = out_dir.join("manifest.json");
    let tmp = out_dir.join("manifest.json.partial");
    let io = |source| ExportError::Io {
        path: path.clone(),
        source,
    };
    std::fs::write(&tmp, text + "\n").map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)?;
    Ok(path)
}
