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
    // Negotiation: `tick` is market time, `round` the negotiation round inside it,
    // `session_round` the bargaining period of the session (offers made so far).
    (
        "negotiation_rounds",
        "tick,round,session,session_round,nation,action,outcome,detail",
    ),
    (
        "agreements",
        "tick,agreement,session,kind,status,members,signed_tick,signed_round,session_round,shortfalls,terms",
    ),
    (
        "deliveries",
        "tick,agreement,commodity,stage,seller,buyer,planned_t,delivered_t,price_usd_per_t,resold_t",
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
const SUBSTITUTION: usize = 10;
const RECYCLING: usize = 11;
const PIPELINE: usize = 12;

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
        for r in &rec.negotiation {
            let _ = write!(
                self.line,
                "{t},{},{},{},{},{},{},{}",
                r.round,
                r.session,
                r.session_round,
                csv(nation(r.nation)),
                r.action,
                r.outcome,
                csv(&r.detail)
            );
            self.emit(7)?;
        }
        for a in &rec.agreements {
            let members: Vec<&str> = a.members.iter().map(|&n| nation(n)).collect();
            let terms = describe_terms(world, &a.terms);
            let _ = write!(
                self.line,
                "{t},{},{},{},{},{},{},{},{},{},{}",
                a.agreement,
                a.session,
                match a.kind {
                    chokepoint_engine::negotiation::SessionKind::Bilateral => "bilateral",
                    chokepoint_engine::negotiation::SessionKind::Club => "club",
                },
                a.status.name(),
                csv(&members.join(";")),
                a.signed_tick,
                a.signed_round,
                a.session_round,
                a.shortfalls,
                csv(&terms)
            );
            self.emit(8)?;
        }
        for d in &rec.deliveries {
            let (c, s) = market(d.market);
            let _ = write!(
                self.line,
                "{t},{},{},{},{},{},{},{},{},{}",
                d.agreement,
                csv(c),
                csv(s),
                csv(nation(d.seller)),
                csv(nation(d.buyer)),
                d.planned_t,
                d.delivered_t,
                d.price_usd_per_t,
                d.resold_t
            );
            self.emit(9)?;
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

/// Terms in words, `;`-separated: "offtake China->South Korea rare-earths/oxide 50 t/tick
/// at 60000 USD/t for 12 ticks".
pub fn describe_terms(world: &World, terms: &[chokepoint_engine::negotiation::Term]) -> String {
    use chokepoint_engine::negotiation::Term;
    let n = |x: chokepoint_world::NationId| {
        world
            .nations
            .get(x.index())
            .map_or("?", |n| n.name.as_str())
    };
    let m = |x: MarketId| {
        if x.index() < world.markets.len() {
            world.market_name(x)
        } else {
            "?".into()
        }
    };
    terms
        .iter()
        .map(|t| match *t {
            Term::Offtake {
                seller,
                buyer,
                market,
                t_per_tick,
                price_usd_per_t,
                duration_ticks,
                penalty_usd,
            } => format!(
                "offtake {}->{} {} {t_per_tick} t/tick at {price_usd_per_t} USD/t for {duration_ticks} ticks, penalty {penalty_usd} USD",
                n(seller),
                n(buyer),
                m(market)
            ),
            Term::Tariff {
                importer,
                exporter,
                market,
                rate,
                duration_ticks,
            } => format!(
                "tariff {} on {} {} at {rate} for {duration_ticks} ticks",
                n(importer),
                n(exporter),
                m(market)
            ),
            Term::LicenceHold {
                exporter,
                destination,
                market,
                duration_ticks,
            } => format!(
                "licence hold {}->{} {} for {duration_ticks} ticks",
                n(exporter),
                n(destination),
                m(market)
            ),
            Term::Finance {
                funder,
                host,
                market,
                t_per_year,
                usd_per_tpy,
                offtake_share,
                offtake_price_usd_per_t,
                duration_ticks,
            } => format!(
                "finance {} in {} {} {t_per_year} t/yr at {usd_per_tpy} USD per t/yr, offtake {offtake_share} at {offtake_price_usd_per_t} USD/t for {duration_ticks} ticks",
                n(funder),
                n(host),
                m(market)
            ),
            Term::Stockpile {
                market,
                t_per_tick,
                buy_below_usd_per_t,
                release_above_usd_per_t,
                duration_ticks,
            } => format!(
                "stockpile {} {t_per_tick} t/tick below {buy_below_usd_per_t}, release above {release_above_usd_per_t} for {duration_ticks} ticks",
                m(market)
            ),
            Term::Transfer { from, to, usd } => {
                format!("transfer {}->{} {usd} USD", n(from), n(to))
            }
            Term::ClubFloor {
                market,
                floor_usd_per_t,
                member_tariff,
            } => format!(
                "club floor {} {floor_usd_per_t} USD/t, member tariff {member_tariff}",
                m(market)
            ),
            Term::ClubExit {
                notice_ticks,
                penalty_usd,
            } => format!("exit on {notice_ticks} ticks' notice, penalty {penalty_usd} USD"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Quote a CSV field when it needs it (RFC 4180).
fn csv(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        std::borrow::Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}
