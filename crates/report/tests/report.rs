//! `report` on a logged run of the bundled world: every plot as a PNG that decodes and an
//! SVG with drawn paths, an index that shows them with the run's provenance, the same
//! files from the same log, and refusals that name what is wrong.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chokepoint_engine::{PolicyAction, Simulation};
use chokepoint_report::{ReportError, report};
use chokepoint_runlog::*;
use chokepoint_world::{Licence, NationId};

const PLOTS: [&str; 5] = [
    "prices",
    "flows",
    "supply_shares",
    "stockpiles",
    "shortages",
];
const SEED: u64 = 5;

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../worlds/critical-minerals-2026.toml")
}

/// A fresh scratch directory for one test.
fn scratch(what: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "chokepoint-report-{}-{what}-{n}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A run of the bundled world without plugins, with scripted actions (a tariff, an export
/// quota, a stockpile bought over several ticks and partly released, an investment),
/// logged to `path` as `chokepoint run` logs it.
fn make_log(path: &Path, ticks: u64) {
    let world_path = bundled();
    let world = Arc::new(chokepoint_world::load(&world_path).unwrap());
    let header = Header {
        format_version: FORMAT_VERSION,
        engine_version: "test".into(),
        engine_build: String::new(),
        world_name: world.name.clone(),
        world_path: world_path.display().to_string(),
        world_text: world.source.text.clone(),
        world_hash: world.hash.clone(),
        seed: SEED,
        ticks_requested: ticks,
        command_line: vec![
            "chokepoint".into(),
            "run".into(),
            "--seed".into(),
            "5".into(),
        ],
        plugins: vec![],
        forked_from: None,
        snapshot_every: 0,
        threads: 1,
    };
    let mut log = LogWriter::create(path, &header).unwrap();
    let mut sim = Simulation::new(world.clone(), SEED);
    let china = world.nation_id("China").unwrap();
    let us = world.nation_id("United States").unwrap();
    let oxide = world.market_id("rare-earths", "oxide").unwrap();
    for t in 0..ticks {
        match t {
            3 => sim.submit(
                us,
                PolicyAction::SetTariff {
                    market: oxide,
                    exporter: china,
                    rate: 0.3,
                },
            ),
            5 => sim.submit(
                china,
                PolicyAction::SetLicence {
                    market: oxide,
                    destination: us,
                    licence: Licence::Quota { t_per_tick: 10.0 },
                },
            ),
            9 => sim.submit(
                us,
                PolicyAction::Invest {
                    market: oxide,
                    host: NationId(0),
                    t_per_year: 1000.0,
                    usd_per_tpy: 1000.0,
                },
            ),
            _ => {}
        }
        if (7..13).contains(&t) {
            sim.submit(
                us,
                PolicyAction::StockpileBuy {
                    market: oxide,
                    t: 50.0,
                    max_price: 200_000.0,
                },
            );
        }
        if t == 24 {
            sim.submit(
                us,
                PolicyAction::StockpileRelease {
                    market: oxide,
                    t: 100.0,
                    min_price: 10_000.0,
                },
            );
        }
        let actions = sim
            .pending_actions()
            .iter()
            .map(|(n, a)| (n.0, from_engine(a)))
            .collect();
        sim.step().unwrap();
        let rec = sim.record();
        log.write_tick(&TickEntry {
            tick: rec.tick,
            actions,
            events: rec
                .events
                .iter()
                .map(|e| (e.kind.clone(), e.detail.clone()))
                .collect(),
            digest: sim.state_digest(),
        })
        .unwrap();
    }
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "not a PNG signature"
    );
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("PNG header decodes");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("PNG image data decodes");
    // A plot is not one colour: count distinct pixels in the decoded image.
    let px = info.color_type.samples();
    let mut colours: Vec<&[u8]> = buf[..info.buffer_size()].chunks(px).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 20, "only {} colours", colours.len());
    (info.width, info.height)
}

#[test]
fn every_plot_is_drawn_as_png_and_svg_and_the_index_shows_them_with_provenance() {
    let dir = scratch("full");
    let log_path = dir.join("run.log");
    make_log(&log_path, 36);
    let out = dir.join("report");
    let summary = report(&log_path, &out).unwrap();
    assert_eq!(summary.ticks, 36);
    assert_eq!(summary.log_stopped, None);
    assert_eq!(summary.index_html, out.join("index.html"));
    assert_eq!(summary.images.len(), 2 * PLOTS.len());

    for stem in PLOTS {
        let png_path = out.join(format!("{stem}.png"));
        let svg_path = out.join(format!("{stem}.svg"));
        assert!(summary.images.contains(&png_path) && summary.images.contains(&svg_path));
        let bytes = std::fs::read(&png_path).unwrap();
        assert!(bytes.len() > 10_000, "{stem}.png is {} bytes", bytes.len());
        let (w, h) = png_size(&bytes);
        assert!(w >= 900 && h >= 300, "{stem}.png is {w}x{h}");
        let svg = std::fs::read_to_string(&svg_path).unwrap();
        let start = svg.trim_start();
        assert!(
            start.starts_with("<svg") || start.starts_with("<?xml"),
            "{stem}.svg starts with {:?}",
            &start[..start.len().min(40)]
        );
        assert!(
            svg.trim_end().ends_with("</svg>"),
            "{stem}.svg is not closed"
        );
        assert!(
            svg.contains("<path") || svg.contains("<polyline"),
            "{stem}.svg draws no path"
        );
        assert!(svg.contains("<text"), "{stem}.svg has no text");
    }
    // The stockpile plot has data, not the placeholder.
    let stockpiles = std::fs::read_to_string(out.join("stockpiles.svg")).unwrap();
    assert!(stockpiles.contains("rare-earths/oxide"));
    assert!(!stockpiles.contains("No stockpiles"));

    let index = std::fs::read_to_string(&summary.index_html).unwrap();
    for stem in PLOTS {
        for ext in ["png", "svg"] {
            assert!(
                index.contains(&format!("src=\"{stem}.{ext}\""))
                    || index.contains(&format!("href=\"{stem}.{ext}\"")),
                "index.html does not reference {stem}.{ext}"
            );
        }
    }
    let world = chokepoint_world::load(&bundled()).unwrap();
    assert!(
        index.contains(&world.hash),
        "index.html lacks the world hash"
    );
    assert!(index.contains("critical-minerals-2026"));
    assert!(index.contains("<th>Seed</th><td>5</td>"));
    assert!(index.contains("chokepoint run --seed 5"));
    assert!(index.contains("United States stockpiles up to 50 t of rare-earths/oxide"));
    assert!(!index.contains("<script"));
    if std::env::var_os("CHOKEPOINT_KEEP_REPORT").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!("report kept in {}", out.display());
    }
}

#[test]
fn the_same_log_gives_the_same_files() {
    let dir = scratch("same");
    let log_path = dir.join("run.log");
    make_log(&log_path, 14);
    let a = report(&log_path, &dir.join("a")).unwrap();
    let b = report(&log_path, &dir.join("b")).unwrap();
    for (x, y) in a
        .images
        .iter()
        .chain([&a.index_html])
        .zip(b.images.iter().chain([&b.index_html]))
    {
        assert_eq!(x.file_name(), y.file_name());
        assert!(
            std::fs::read(x).unwrap() == std::fs::read(y).unwrap(),
            "{} differs between two reports of one log",
            x.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_log_that_does_not_replay_is_refused_naming_the_tick() {
    let dir = scratch("diverged");
    let log_path = dir.join("run.log");
    make_log(&log_path, 10);
    let mut log = read_log_file(&log_path).unwrap();
    // Drop the tariff of tick 3: the replayed state differs from the logged digest there.
    log.ticks[3].actions.clear();
    let tampered = dir.join("tampered.log");
    let mut w = LogWriter::create(&tampered, &log.header).unwrap();
    for t in &log.ticks {
        w.write_tick(t).unwrap();
    }
    drop(w);
    let err = report(&tampered, &dir.join("out")).unwrap_err();
    assert!(
        matches!(
            err,
            ReportError::Replay(ReplayError::Diverged { tick: 3, .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("tick 3"), "{err}");
    assert!(!dir.join("out").join("index.html").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_cut_log_is_reported_up_to_its_last_whole_record() {
    let dir = scratch("cut");
    let log_path = dir.join("run.log");
    make_log(&log_path, 12);
    let bytes = std::fs::read(&log_path).unwrap();
    std::fs::write(&log_path, &bytes[..bytes.len() - 5]).unwrap();
    let summary = report(&log_path, &dir.join("out")).unwrap();
    assert_eq!(summary.ticks, 11);
    let why = summary.log_stopped.expect("the cut is reported");
    let index = std::fs::read_to_string(&summary.index_html).unwrap();
    assert!(index.contains("The log ends early") && index.contains(&why));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_that_is_not_a_log_is_refused() {
    let dir = scratch("notalog");
    let path = dir.join("x.log");
    std::fs::write(&path, b"hello, world").unwrap();
    let err = report(&path, &dir.join("out")).unwrap_err();
    assert!(
        matches!(err, ReportError::Log(LogError::NotALog(_))),
        "{err:?}"
    );
    let err = report(&dir.join("missing.log"), &dir.join("out")).unwrap_err();
    assert!(
        matches!(err, ReportError::Log(LogError::Io { .. })),
        "{err:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
