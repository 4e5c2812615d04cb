//! Shared by the export tests: a logged run of the bundled world with scripted actions,
//! the same run kept in memory for comparison, scratch directories, and readers for the
//! exported Parquet and CSV files.

#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, UInt32Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use chokepoint_engine::{PolicyAction, Simulation};
use chokepoint_runlog::{FORMAT_VERSION, Header, LogWriter, TickEntry, from_engine};
use chokepoint_world::{Licence, NationId, World};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

pub const SEED: u64 = 5;

pub fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../worlds/critical-minerals-2026.toml")
}

pub fn world() -> Arc<World> {
    Arc::new(chokepoint_world::load(&bundled()).unwrap())
}

/// A fresh, empty scratch directory under cargo's target tmp dir.
pub fn scratch(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "chokepoint-export-{name}-{}-{n}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What a scripted "strategy" does before tick `t`: tariffs, floors, licences of every
/// kind (set, changed and lifted), stockpile buys and releases, an investment.
pub fn scripted_actions(world: &World, t: u64) -> Vec<(NationId, PolicyAction)> {
    let china = world.nation_id("China").unwrap();
    let us = world.nation_id("United States").unwrap();
    let japan = world.nation_id("Japan").unwrap();
    let oxide = world.market_id("rare-earths", "oxide").unwrap();
    let magnet = world.market_id("rare-earths", "magnet").unwrap();
    match t {
        2 => vec![(
            us,
            PolicyAction::SetFloor {
                market: oxide,
                floor_usd_per_t: 60_000.0,
            },
        )],
        3 => vec![(
            us,
            PolicyAction::SetTariff {
                market: oxide,
                exporter: china,
                rate: 0.3,
            },
        )],
        5 => vec![(
            china,
            PolicyAction::SetLicence {
                market: oxide,
                destination: us,
                licence: Licence::Quota { t_per_tick: 10.0 },
            },
        )],
        7 => vec![(
            us,
            PolicyAction::StockpileBuy {
                market: oxide,
                t: 50.0,
                max_price: 200_000.0,
            },
        )],
        9 => vec![(
            us,
            PolicyAction::Invest {
                market: oxide,
                host: us,
                t_per_year: 1000.0,
                usd_per_tpy: 1000.0,
            },
        )],
        12 => vec![(
            china,
            PolicyAction::SetLicence {
                market: magnet,
                destination: japan,
                licence: Licence::Ban,
            },
        )],
        15 => vec![
            (
                us,
                PolicyAction::SetTariff {
                    market: oxide,
                    exporter: china,
                    rate: 0.0,
                },
            ),
            (
                us,
                PolicyAction::SetFloor {
                    market: oxide,
                    floor_usd_per_t: 0.0,
                },
            ),
        ],
        18 => vec![(
            china,
            PolicyAction::SetLicence {
                market: magnet,
                destination: japan,
                licence: Licence::Open,
            },
        )],
        20 => vec![(
            us,
            PolicyAction::StockpileRelease {
                market: oxide,
                t: 20.0,
                min_price: 1000.0,
            },
        )],
        _ => vec![],
    }
}

/// Run the bundled world for `ticks` with the scripted actions, logging it to a file in
/// `dir`; `tamper` may change each entry before it is written (to make a bad log).
pub fn make_log_with(dir: &Path, ticks: u64, mut tamper: impl FnMut(&mut TickEntry)) -> PathBuf {
    let path = bundled();
    let world = world();
    let header = Header {
        format_version: FORMAT_VERSION,
        engine_version: "test".into(),
        engine_build: String::new(),
        world_name: world.name.clone(),
        world_path: path.display().to_string(),
        world_text: world.source.text.clone(),
        world_hash: world.hash.clone(),
        seed: SEED,
        ticks_requested: ticks,
        command_line: vec!["test".into(), "--seed".into(), SEED.to_string()],
        plugins: vec![],
        forked_from: None,
        // Snapshots in the log: export reads past them.
        snapshot_every: 6,
        threads: 1,
    };
    let file = dir.join("run.log");
    let mut log = LogWriter::create(&file, &header).unwrap();
    let mut sim = Simulation::new(world.clone(), SEED);
    for t in 0..ticks {
        for (n, a) in scripted_actions(&world, t) {
            sim.submit(n, a);
        }
        let actions = sim
            .pending_actions()
            .iter()
            .map(|(n, a)| (n.0, from_engine(a)))
            .collect();
        sim.step().unwrap();
        let rec = sim.record();
        let mut entry = TickEntry {
            tick: rec.tick,
            actions,
            events: rec
                .events
                .iter()
                .map(|e| (e.kind.clone(), e.detail.clone()))
                .collect(),
            digest: sim.state_digest(),
        };
        tamper(&mut entry);
        log.write_tick_of(&sim, &entry).unwrap();
    }
    log.flush().unwrap();
    file
}

pub fn make_log(dir: &Path, ticks: u64) -> PathBuf {
    make_log_with(dir, ticks, |_| {})
}

/// The same run in memory: a simulation stepped to the end of tick `upto`, calling `each`
/// after every tick.
pub fn run_sim(upto: u64, mut each: impl FnMut(&Simulation)) -> Simulation {
    let world = world();
    let mut sim = Simulation::new(world.clone(), SEED);
    for t in 0..=upto {
        for (n, a) in scripted_actions(&world, t) {
            sim.submit(n, a);
        }
        sim.step().unwrap();
        each(&sim);
    }
    sim
}

pub fn adaptation_demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../worlds/adaptation-demo.toml")
}

/// Before tick `t` of a run of the adaptation demo world: negotiation (an offtake
/// offered and accepted within tick 2, a club proposed at tick 4 and joined) and every
/// adaptation lever, so that every negotiation and adaptation table has rows. Runs the
/// negotiation rounds it needs; what is left is pending for the step.
pub fn negotiate_and_adapt(world: &World, sim: &mut Simulation, t: u64) {
    use chokepoint_engine::negotiation::{Channel, NegAction, Term};
    use chokepoint_world::Lever;
    let china = world.nation_id("China").unwrap();
    let japan = world.nation_id("Japan").unwrap();
    let us = world.nation_id("United States").unwrap();
    let oxide = world.market_id("rare-earths", "oxide").unwrap();
    let magnet = world.market_id("rare-earths", "magnet").unwrap();
    let negotiate = |sim: &mut Simulation, n: NationId, action: NegAction| {
        let round = sim.negotiation_round();
        sim.submit(n, PolicyAction::Negotiate { round, action });
    };
    match t {
        2 => {
            negotiate(
                sim,
                us,
                NegAction::Open {
                    counterparty: china,
                    channel: Channel::Private,
                    discount: [0.9, 0.8],
                    time_cost_usd: [1000.0, 1000.0],
                    deadline_rounds: 4,
                    deadline_ticks: 2,
                    terms: vec![Term::Offtake {
                        seller: china,
                        buyer: us,
                        market: oxide,
                        t_per_tick: 20.0,
                        price_usd_per_t: 60_000.0,
                        duration_ticks: 12,
                        penalty_usd: 1e6,
                    }],
                },
            );
            sim.negotiate_round();
            negotiate(sim, china, NegAction::Accept { session: 1 });
            sim.negotiate_round();
            sim.submit(
                us,
                PolicyAction::Lever(Lever::FundRecycling {
                    market: oxide,
                    t_per_year: 500.0,
                    usd_per_tpy: 20000.0,
                }),
            );
        }
        3 => sim.submit(
            japan,
            PolicyAction::Lever(Lever::FundSubstitution {
                market: magnet,
                usd: 1.0e8,
            }),
        ),
        4 => {
            negotiate(
                sim,
                us,
                NegAction::OpenClub {
                    invitees: vec![japan],
                    channel: Channel::Public,
                    deadline_ticks: 3,
                    terms: vec![Term::ClubFloor {
                        market: magnet,
                        floor_usd_per_t: 80_000.0,
                        member_tariff: 0.0,
                    }],
                },
            );
            sim.negotiate_round();
            negotiate(sim, japan, NegAction::Join { session: 2 });
            sim.submit(
                japan,
                PolicyAction::Lever(Lever::CapacitySubsidy {
                    market: oxide,
                    share: 0.5,
                }),
            );
        }
        5 => sim.submit(
            us,
            PolicyAction::Lever(Lever::StockMandate {
                market: oxide,
                cover_ticks: 1.0,
            }),
        ),
        6 => sim.submit(
            japan,
            PolicyAction::Lever(Lever::RecyclingSubsidy {
                market: oxide,
                usd_per_t: 8000.0,
            }),
        ),
        _ => {}
    }
}

/// Log `ticks` of the adaptation demo world with [`negotiate_and_adapt`] into `dir`.
pub fn make_state_log(dir: &Path, ticks: u64) -> PathBuf {
    let path = adaptation_demo();
    let world = Arc::new(chokepoint_world::load(&path).unwrap());
    let header = Header {
        format_version: FORMAT_VERSION,
        engine_version: "test".into(),
        engine_build: String::new(),
        world_name: world.name.clone(),
        world_path: path.display().to_string(),
        world_text: world.source.text.clone(),
        world_hash: world.hash.clone(),
        seed: SEED,
        ticks_requested: ticks,
        command_line: vec!["test".into()],
        plugins: vec![],
        forked_from: None,
        snapshot_every: 6,
        threads: 1,
    };
    let file = dir.join("run.log");
    let mut log = LogWriter::create(&file, &header).unwrap();
    let mut sim = Simulation::new(world.clone(), SEED);
    for t in 0..ticks {
        negotiate_and_adapt(&world, &mut sim, t);
        let actions = sim
            .pending_actions()
            .iter()
            .map(|(n, a)| (n.0, from_engine(a)))
            .collect();
        sim.step().unwrap();
        let rec = sim.record();
        let entry = TickEntry {
            tick: rec.tick,
            actions,
            events: rec
                .events
                .iter()
                .map(|e| (e.kind.clone(), e.detail.clone()))
                .collect(),
            digest: sim.state_digest(),
        };
        log.write_tick_of(&sim, &entry).unwrap();
    }
    log.flush().unwrap();
    file
}

/// The run of [`make_state_log`] in memory, stepped to the end of tick `upto`.
pub fn run_state_sim(upto: u64, mut each: impl FnMut(&Simulation)) -> Simulation {
    let world = Arc::new(chokepoint_world::load(&adaptation_demo()).unwrap());
    let mut sim = Simulation::new(world.clone(), SEED);
    for t in 0..=upto {
        negotiate_and_adapt(&world, &mut sim, t);
        sim.step().unwrap();
        each(&sim);
    }
    sim
}

/// Every table the run's CSV writer writes is exported, with the same header and
/// byte-identical contents.
pub fn assert_run_tables_are_exported_byte_identical(exported: &Path, run: &Path) {
    for (name, columns) in chokepoint_tables::TABLES {
        let def = chokepoint_export::schema::table(name)
            .unwrap_or_else(|| panic!("table {name} is exported"));
        assert_eq!(def.csv_header(), *columns, "columns of {name}");
        let ours = std::fs::read(exported.join(format!("{name}.csv"))).unwrap();
        let theirs = std::fs::read(run.join(format!("{name}.csv"))).unwrap();
        assert!(ours == theirs, "{name}.csv differs from the run's table");
    }
}

/// A Parquet file: its batches and its key-value metadata.
pub struct ParquetTable {
    pub schema: arrow_schema::SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub metadata: Vec<(String, Option<String>)>,
    pub row_groups: usize,
}

impl ParquetTable {
    pub fn rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }

    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_deref())
    }

    /// Every row as CSV fields (the CSV export's text), so both formats compare exactly.
    pub fn rows_as_csv_fields(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for b in &self.batches {
            for r in 0..b.num_rows() {
                out.push(
                    b.columns()
                        .iter()
                        .map(|c| cell_text(c.as_ref(), r))
                        .collect(),
                );
            }
        }
        out
    }

    /// The column `name` as text per row (nulls as "").
    pub fn column_text(&self, name: &str) -> Vec<String> {
        let k = self.schema.index_of(name).unwrap();
        self.batches
            .iter()
            .flat_map(|b| (0..b.num_rows()).map(move |r| cell_text(b.column(k).as_ref(), r)))
            .collect()
    }
}

pub fn read_parquet(path: &Path) -> ParquetTable {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let metadata = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                .map(|k| (k.key.clone(), k.value.clone()))
                .collect()
        })
        .unwrap_or_default();
    let row_groups = builder.metadata().num_row_groups();
    let schema = builder.schema().clone();
    let batches = builder
        .build()
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    ParquetTable {
        schema,
        batches,
        metadata,
        row_groups,
    }
}

/// A value as the CSV export writes it.
pub fn cell_text(col: &dyn Array, r: usize) -> String {
    if col.is_null(r) {
        return String::new();
    }
    match col.data_type() {
        DataType::UInt64 => col.as_primitive::<UInt64Type>().value(r).to_string(),
        DataType::UInt32 => col.as_primitive::<UInt32Type>().value(r).to_string(),
        DataType::Float64 => format!("{}", col.as_primitive::<Float64Type>().value(r)),
        DataType::Boolean => col.as_boolean().value(r).to_string(),
        DataType::Utf8 => col.as_string::<i32>().value(r).to_string(),
        DataType::Dictionary(_, _) => {
            let d = col.as_dictionary::<Int32Type>();
            let key = d.keys().value(r) as usize;
            d.values().as_string::<i32>().value(key).to_string()
        }
        other => panic!("unexpected type {other}"),
    }
}

/// Parse a CSV file (RFC 4180: quoted fields may hold commas, quotes and line breaks).
/// Returns the header and the rows.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else {
            match c {
                '"' => quoted = true,
                ',' => row.push(std::mem::take(&mut field)),
                '\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                _ => field.push(c),
            }
        }
    }
    assert!(!quoted, "{}: unterminated quote", path.display());
    assert!(
        field.is_empty() && row.is_empty(),
        "{}: no newline at the end",
        path.display()
    );
    let header = rows.remove(0);
    (header, rows)
}
