//! `chokepoint report`: plots and a static HTML page from a run log.
//!
//! [`report`] reads a log, replays it through the engine from the world file stored in
//! its header (no plugin is loaded: the logged actions are submitted as they were), and
//! checks every tick's state digest as `chokepoint replay` does. While replaying it keeps
//! only the small per-tick series the plots need (markets x nations x ticks), then draws
//! five figures, each as PNG and SVG, and writes `index.html` with the run's provenance.
//!
//! Fonts: the PNGs are rasterised with DejaVu Sans embedded in the binary (the `dejavu`
//! crate) through plotters' `ab_glyph` backend, so no system font is looked up and the
//! output does not depend on the machine. The SVGs carry text as `<text>` elements
//! (`font-family="sans-serif"`): the viewer draws them.
//!
//! Architecture invariant: like the engine, the report iterates in id order (markets,
//! nations) and uses no hash-order iteration, so one log gives the same files every time.

mod draw;
mod html;
mod series;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chokepoint_runlog::{LogError, ReplayError, read_log_file};

use series::Series;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The log does not read (not a log, another format version, damaged header).
    #[error(transparent)]
    Log(#[from] LogError),
    /// The replay failed: the world does not load, the engine stopped, or a digest
    /// differs from the log (the error names the tick).
    #[error(transparent)]
    Replay(#[from] ReplayError),
    #[error("the run log has no tick records: nothing to plot")]
    NoTicks,
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("drawing {plot}: {message}")]
    Draw { plot: String, message: String },
}

/// What [`report`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSummary {
    /// `out_dir/index.html`.
    pub index_html: PathBuf,
    /// Every image written (each plot as `.png` then `.svg`), in plot order.
    pub images: Vec<PathBuf>,
    /// Ticks replayed, verified and plotted.
    pub ticks: u64,
    pub markets: usize,
    pub nations: usize,
    /// The reader's note when the log was cut or damaged: the report covers the ticks
    /// before it.
    pub log_stopped: Option<String>,
}

/// Read the log at `log_path`, replay it verifying every digest, and write the plots
/// (PNG and SVG) and `index.html` into `out_dir` (created if missing; files of the same
/// names are overwritten).
pub fn report(log_path: &Path, out_dir: &Path) -> Result<ReportSummary, ReportError> {
    let log = read_log_file(log_path)?;
    if log.ticks.is_empty() {
        return Err(ReportError::NoTicks);
    }
    let world = chokepoint_world::parse(Path::new(&log.header.world_path), &log.header.world_text)
        .map_err(|e| ReplayError::World(e.to_string()))?;
    let world = Arc::new(world);
    let mut series = Series::new(world.markets.len(), world.nations.len());
    chokepoint_runlog::replay_each(&log, None, |sim| series.push(sim.record()))?;

    std::fs::create_dir_all(out_dir).map_err(|source| ReportError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let figures = draw::figures(&world, &log.header, &series);
    let mut images = Vec::new();
    for fig in &figures {
        let (png, svg) = draw::render(fig).map_err(|message| ReportError::Draw {
            plot: fig.file_stem.to_string(),
            message,
        })?;
        for (ext, bytes) in [("png", png), ("svg", svg.into_bytes())] {
            let path = out_dir.join(format!("{}.{ext}", fig.file_stem));
            write(&path, &bytes)?;
            images.push(path);
        }
    }
    let index_html = out_dir.join("index.html");
    let page = html::page(&world, &log, &series, &figures);
    write(&index_html, page.as_bytes())?;
    Ok(ReportSummary {
        index_html,
        images,
        ticks: series.ticks() as u64,
        markets: world.markets.len(),
        nations: world.nations.len(),
        log_stopped: log.stopped.clone(),
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    std::fs::write(path, bytes).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })
}
