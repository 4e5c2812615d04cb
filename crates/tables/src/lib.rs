//! Tidy tables from tick records: one row per observation, one file per table, so
//! pandas, polars, R or a spreadsheet read them without reshaping.
//!
//! Rows name things (nation, commodity, stage, firm) rather than numbering them: a
//! table must make sense without the world file beside it. Floats are written with
//! Rust's shortest round-trip formatting, so a value read back is bit-identical and two
//! runs with the same seed give byte-identical files.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chokepoint_engine::{Consumer, TickRecord};
use chokepoint_world::{MarketId, World};

#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct TableError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// The tables and their columns.
pub const TABLES: &[(&str, &str)] = &[
    ("prices", "tick,commodity,stage,nation,price_usd_per_t"),
    (
        "flows",
        "tick,commodity,stage,origin,destination,quantity_t,landed_usd_per_t,value_usd,tariff_usd,levy_usd",
    ),
    (
        "production",
        "tick,firm,nation,commodity,stage,capacity_t,input_limited_capacity_t,produced_t,sold_from_stock_t",
    ),
    (
        "shortages",
        "tick,commodity,stage,nation,consumer,wanted_t,obtained_t,shortage_t",
    ),
    ("events", "tick,kind,detail"),
    ("clearing", "tick,commodity,stage,sweeps,converged,residual"),
    (
        "stockpiles",
        "tick,commodity,stage,owner,bought_t,sold_t,holdings_t,spent_usd,earned_usd",
    ),
    (
        "substitution",
        "tick,commodity,stage,nation,end_use,price_usd_per_t,substitution_share,target_share,permanent_share",
    ),
    (
        "recycling",
        "tick,commodity,stage,nation,scrap_arising_t,collected_t,recycled_t,recycled_sold_t,supply_t,recycled_share,scrap_stock_t,subsidy_usd",
    ),
    (
        "pipeline",
        "tick,commodity,stage,nation,firm,funder,kind,capacity_t,started_tick,arrives_at_tick",
    ),
];

/// Positions of the adaptation tables in [`TABLES`].
const SUBSTITUTION: usize = 7;
const RECYCLING: usize = 8;
const PIPELINE: usize = 9;

/// Streams tick records to one CSV file per table.
pub struct CsvTables {
    dir: PathBuf,
    files: Vec<BufWriter<File>>,
    line: String,
}

impl CsvTables {
    pub fn create(dir: &Path) -> Result<Self, TableError> {
        std::fs::create_dir_all(dir).map_err(|source| TableError {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut files = Vec::new();
        for (name, header) in TABLES {
            let path = dir.join(format!("{name}.csv"));
            let f = File::create(&path).map_err(|source| TableError {
                path: path.clone(),
                source,
            })?;
            let mut w = BufWriter::new(f);
            writeln!(w, "{header}").map_err(|source| TableError { path, source })?;
            files.push(w);
        }
        Ok(CsvTables {
            dir: dir.to_path_buf(),
            files,
            line: String::new(),
        })
    }

    fn emit(&mut self, table: usize) -> Result<(), TableError> {
        self.line.push('\n');
        let r = self.files[table].write_all(self.line.as_bytes());
        self.line.clear();
        r.map_err(|source| TableError {
            path: self.dir.join(format!("{}.csv", TABLES[table].0)),
            source,
        })
    }

    /// Append one tick's rows. `firm_names` names firms by id, including capacity built
    /// during the run (`Simulation::firm_names`).
    pub fn write_tick(
        &mut self,
        world: &World,
        firm_names: &[String],
        rec: &TickRecord,
    ) -> Result<(), TableError> {
        let t = rec.tick;
        let nation = |n: chokepoint_world::NationId| world.nations[n.index()].name.as_str();
        let market = |m: MarketId| {
            let d = &world.markets[m.index()];
            (
                world.commodities[d.commodity.index()].name.as_str(),
                d.stage.as_str(),
            )
        };
        for p in &rec.prices {
            let (c, s) = market(p.market);
            let _ = write!(
                self.line,
                "{t},{},{},{},{}",
                csv(c),
                csv(s),
                csv(nation(p.nation)),
                p.price_usd_per_t
            );
            self.emit(0)?;
        }
        for f in &rec.flows {
            let (c, s) = market(f.market);
            let _ = write!(
                self.line,
                "{t},{},{},{},{},{},{},{},{},{}",
                csv(c),
                csv(s),
                csv(nation(f.from)),
                csv(nation(f.to)),
                f.quantity_t,
                f.landed_usd_per_t,
                f.value_usd,
                f.tariff_usd,
                f.levy_usd
            );
            self.emit(1)?;
        }
        for p in &rec.production {
            let (c, s) = market(p.market);
            let _ = write!(
                self.line,
                "{t},{},{},{},{},{},{},{},{}",
                csv(&firm_names[p.firm.index()]),
                csv(nation(p.nation)),
                csv(c),
                csv(s),
                p.capacity_t,
                p.input_limited_capacity_t,
                p.produced_t,
                p.sold_from_stock_t
            );
            self.emit(2)?;
        }
        for r in &rec.consumption {
            let (c, s) = market(r.market);
            let _ = write!(
                self.line,
                "{t},{},{},{},{},{},{},{}",
                csv(c),
                csv(s),
                csv(nation(r.nation)),
                csv(&consumer_name(world, firm_names, r.consumer)),
                r.wanted_t,
                r.obtained_t,
                r.shortage_t()
            );
            self.emit(3)?;
        }
        for e in &rec.events {
            let _ = write!(self.line, "{t},{},{}", csv(&e.kind), csv(&e.detail));
            self.emit(4)?;
        }
        for r in &rec.clearing {
            let (c, s) = market(r.market);
            let _ = write!(
                self.line,
                "{t},{},{},{},{},{}",
                csv(c),
                csv(s),
                r.sweeps,
                r.converged,
                r.residual
            );
            self.emit(5)?;
        }
        for r in &rec.stockpiles {
            let (c, s) = market(r.market);
            let _ = write!(
                self.line,
                "{t},{},{},{},{},{},{},{},{}",
                csv(c),
                csv(s),
                csv(nation(r.owner)),
                r.bought_t,
                r.sold_t,
                r.holdings_t,
                r.spent_usd,
                r.earned_usd
            );
            self.emit(6)?;
        }
        for r in &rec.substitution {
            let (c, s) = market(r.market);
            let _ = write!(
                self.line,
                "{t},{},{},{},{},{},{},{},{}",
                csv(c),
                csv(s),
                csv(nation(r.nation)),
                csv(&world.nations[r.nation.index()].demand[r.end_use].end_use),
                r.price_usd_per_t,
                r.substitution_share,
                r.target_share,
                r.permanent_share
            );
            self.emit(SUBSTITUTION)?;
        }
        for r in &rec.recycling {
            let (c, s) = market(r.market);
            let share = if r.supply_t > 0.0 {
                r.recycled_sold_t / r.supply_t
            } else {
                0.0
            };
            let _ = write!(
                self.line,
                "{t},{},{},{},{},{},{},{},{},{share},{},{}",
                csv(c),
                csv(s),
                csv(nation(r.nation)),
                r.scrap_arising_t,
                r.collected_t,
                r.recycled_t,
                r.recycled_sold_t,
                r.supply_t,
                r.scrap_stock_t,
                r.subsidy_usd
            );
            self.emit(RECYCLING)?;
        }
        for r in &rec.pipeline {
            let (c, s) = market(r.market);
            let firm = r.firm.map_or("", |f| firm_names[f.index()].as_str());
            let _ = write!(
                self.line,
                "{t},{},{},{},{},{},{},{},{},{}",
                csv(c),
                csv(s),
                csv(nation(r.nation)),
                csv(firm),
                csv(nation(r.funder)),
                r.kind,
                r.capacity_t,
                r.started_tick,
                r.arrives_at_tick
            );
            self.emit(PIPELINE)?;
        }
        Ok(())
    }

    /// Flush every file; called after each tick by careful writers and always at the end.
    pub fn flush(&mut self) -> Result<(), TableError> {
        for (k, f) in self.files.iter_mut().enumerate() {
            f.flush().map_err(|source| TableError {
                path: self.dir.join(format!("{}.csv", TABLES[k].0)),
                source,
            })?;
        }
        Ok(())
    }
}

impl Drop for CsvTables {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// "end-use:<name>" for end users of a nation, "firm:<name>" for a firm's input purchases.
pub fn consumer_name(world: &World, firm_names: &[String], c: Consumer) -> String {
    match c {
        Consumer::Stockpile(nation) => format!("stockpile:{}", world.nations[nation.index()].name),
        Consumer::EndUse { nation, index } => format!(
            "end-use:{}",
            world.nations[nation.index()].demand[index].end_use
        ),
        Consumer::Firm(f) => format!("firm:{}", firm_names[f.index()]),
    }
}

/// Quote a CSV field when it needs it (RFC 4180).
fn csv(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        std::borrow::Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}
