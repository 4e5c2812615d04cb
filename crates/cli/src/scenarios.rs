//! `chokepoint scenarios DIR`: run every world file in a directory with its strategies
//! and print one row of headline outcomes per scenario (a markdown table, or CSV for
//! scripts and tests).
//!
//! Why its own command rather than a script over `run`: the headline numbers (prices
//! inside and outside the dominant producer, who runs short first, stockpile and budget)
//! need the records of every tick, which `run` writes as tables of tens of thousands of
//! rows; here they are reduced as the run goes, and the table the README quotes comes
//! from one command.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chokepoint_engine::{Consumer, Simulation, TickRecord};
use chokepoint_host::{Host, SearchPath};
use chokepoint_world::{MarketId, NationId, World};

use crate::Failure;

#[derive(clap::Args, Debug)]
pub struct ScenariosArgs {
    /// Directory of scenario files (`*.toml`), run in name order.
    pub dir: PathBuf,
    /// Ticks per scenario (120 = ten years of months).
    #[arg(long, default_value_t = 120)]
    pub ticks: u64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Extra directories to look for strategy plugins in.
    #[arg(long = "agents", value_name = "DIR")]
    pub agents: Vec<PathBuf>,
    /// `markdown` (for the README) or `csv`.
    #[arg(long, default_value = "markdown")]
    pub format: String,
}

/// The dominant producer whose inside and outside prices are compared.
const INCUMBENT: &str = "China";
/// Markets whose prices are reported: (commodity, stage, column label).
const PRICED: [(&str, &str, &str); 3] = [
    ("rare-earths", "magnet", "REE magnet"),
    ("gallium", "refined", "Ga refined"),
    ("lithium", "chemical", "Li chemical"),
];
/// Market whose incumbent output share is reported at the start and the end.
const SHARE_MARKET: (&str, &str) = ("rare-earths", "oxide");
/// Nations whose shortage is reported one by one.
const WATCHED: [&str; 4] = ["United States", "Japan", "South Korea", "EU"];
/// A nation "runs short" in a market when its shortage is above this share of what it
/// wanted, from tick 1 on (in tick 0 firms fill empty input stocks, a start-up artefact).
const SHORT: f64 = 0.05;

pub fn scenarios(args: &ScenariosArgs) -> Result<(), Failure> {
    if args.format != "markdown" && args.format != "csv" {
        return Err(Failure::BadInput(format!(
            "error: unknown --format `{}`; use `markdown` or `csv`",
            args.format
        )));
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.dir)
        .map_err(|e| {
            Failure::BadInput(format!(
                "error: cannot read the scenario directory {}: {e}",
                args.dir.display()
            ))
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Failure::BadInput(format!(
            "error: no scenario files (*.toml) in {}",
            args.dir.display()
        )));
    }
    let mut rows = Vec::new();
    for file in &files {
        rows.push(run_one(file, args)?);
    }
    print!(
        "{}",
        if args.format == "csv" {
            csv(&rows)
        } else {
            markdown(&rows, args.ticks)
        }
    );
    Ok(())
}

/// Headline outcomes of one scenario.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub scenario: String,
    /// Per priced market: mean price (x reference) inside the incumbent, outside it.
    pub prices: Vec<(f64, f64)>,
    /// Incumbent's output share of SHARE_MARKET in the first and the last year.
    pub share_first: f64,
    pub share_last: f64,
    /// (tick, nation, market) of the first shortage above SHORT outside the incumbent.
    pub first_short: Option<(u64, String, String)>,
    /// End users' shortage outside the incumbent, % of what they wanted, all markets.
    pub short_outside_pct: f64,
    /// Shortage of each WATCHED nation, % of what it wanted.
    pub short_watched_pct: Vec<f64>,
    /// US stockpiles at the end, valued at reference prices, USD m.
    pub us_stock_musd: f64,
    /// Change in the US budget over the run, USD bn.
    pub us_budget_change_busd: f64,
}

fn run_one(file: &Path, args: &ScenariosArgs) -> Result<Outcome, Failure> {
    let world =
        Arc::new(chokepoint_world::load(file).map_err(|e| Failure::BadInput(e.to_string()))?);
    let search = SearchPath::new(args.agents.clone(), Some(file));
    let mut host = Host::load(
        &world,
        args.seed,
        &search,
        chokepoint_host::OnPluginError::Abort,
    )
    .map_err(|e| Failure::BadInput(format!("error: {}: {e}", file.display())))?;
    let mut sim = Simulation::new(world.clone(), args.seed);
    let us = world.nation_id("United States");
    let budget0 = us.map_or(0.0, |n| sim.budget_usd(n));
    let mut acc = Accumulator::new(&world, args.ticks);
    for _ in 0..args.ticks {
        for e in host
            .decide(&mut sim)
            .map_err(|e| Failure::Run(format!("{}: {e}", file.display())))?
        {
            eprintln!("warning: {}: {e}", file.display());
        }
        let rec = sim
            .step()
            .map_err(|e| Failure::Run(format!("{}: {e}", file.display())))?;
        acc.add(&world, rec);
    }
    let mut out = acc.finish(&world);
    out.scenario = world.name.clone();
    if let Some(n) = us {
        out.us_budget_change_busd = (sim.budget_usd(n) - budget0) / 1e9;
    }
    Ok(out)
}

/// Sums kept as the run goes.
struct Accumulator {
    incumbent: Option<NationId>,
    priced: Vec<Option<MarketId>>,
    share_market: Option<MarketId>,
    ticks: u64,
    /// Per priced market: (sum inside, n inside, sum outside, n outside) of x-reference prices.
    price_sums: Vec<(f64, f64, f64, f64)>,
    /// Incumbent and world output of SHARE_MARKET: first year, last year.
    share: [(f64, f64); 2],
    first_short: Option<(u64, String, String)>,
    /// Per nation: (wanted, short) over all markets.
    short: Vec<(f64, f64)>,
    /// Last holdings per (market, owner).
    holdings: BTreeMap<(MarketId, NationId), f64>,
}

impl Accumulator {
    fn new(world: &World, ticks: u64) -> Self {
        Accumulator {
            incumbent: world.nation_id(INCUMBENT),
            priced: PRICED
                .iter()
                .map(|(c, s, _)| world.market_id(c, s))
                .collect(),
            share_market: world.market_id(SHARE_MARKET.0, SHARE_MARKET.1),
            ticks,
            price_sums: vec![(0.0, 0.0, 0.0, 0.0); PRICED.len()],
            share: [(0.0, 0.0); 2],
            first_short: None,
            short: vec![(0.0, 0.0); world.nations.len()],
            holdings: BTreeMap::new(),
        }
    }

    fn add(&mut self, world: &World, rec: &TickRecord) {
        let inside = |n: NationId| Some(n) == self.incumbent;
        // Prices: inside the incumbent; outside, weighted by what each nation obtained.
        let mut bought: BTreeMap<(MarketId, NationId), f64> = BTreeMap::new();
        for c in &rec.consumption {
            *bought.entry((c.market, c.nation)).or_default() += c.obtained_t;
        }
        for (k, m) in self.priced.iter().enumerate() {
            let Some(m) = *m else { continue };
            let p0 = world.markets[m.index()].reference_price_usd_per_t;
            let (mut wsum, mut w) = (0.0, 0.0);
            for p in rec.prices.iter().filter(|p| p.market == m) {
                let x = p.price_usd_per_t / p0;
                if inside(p.nation) {
                    self.price_sums[k].0 += x;
                    self.price_sums[k].1 += 1.0;
                } else {
                    let q = bought.get(&(m, p.nation)).copied().unwrap_or(0.0);
                    wsum += q * x;
                    w += q;
                }
            }
            if w > 0.0 {
                self.price_sums[k].2 += wsum / w;
                self.price_sums[k].3 += 1.0;
            }
        }
        // The incumbent's share of output, first and last year.
        let year = 12.min(self.ticks);
        let slot = if rec.tick < year {
            Some(0)
        } else if rec.tick + year >= self.ticks {
            Some(1)
        } else {
            None
        };
        if let (Some(m), Some(s)) = (self.share_market, slot) {
            for p in rec.production.iter().filter(|p| p.market == m) {
                let q = p.produced_t + p.sold_from_stock_t;
                self.share[s].1 += q;
                if inside(p.nation) {
                    self.share[s].0 += q;
                }
            }
        }
        // The last year is also the first when the run is a year or less.
        if rec.tick < year && rec.tick + year >= self.ticks {
            self.share[1] = self.share[0];
        }
        // Shortages of end users: firms' input orders swing with their cost ramps (and
        // their shortfalls reach end users downstream); stockpiles' unfilled orders are
        // not shortages.
        let mut tick_short: BTreeMap<(NationId, MarketId), (f64, f64)> = BTreeMap::new();
        for c in &rec.consumption {
            if !matches!(c.consumer, Consumer::EndUse { .. }) {
                continue;
            }
            let e = tick_short.entry((c.nation, c.market)).or_default();
            e.0 += c.wanted_t;
            e.1 += c.shortage_t();
            let n = &mut self.short[c.nation.index()];
            n.0 += c.wanted_t;
            n.1 += c.shortage_t();
        }
        if self.first_short.is_none() && rec.tick > 0 {
            let worst = tick_short
                .iter()
                .filter(|((n, _), (w, s))| !inside(*n) && *w > 0.0 && *s > SHORT * *w)
                .max_by(|a, b| (a.1.1 / a.1.0).total_cmp(&(b.1.1 / b.1.0)));
            if let Some(((n, m), _)) = worst {
                self.first_short = Some((
                    rec.tick,
                    world.nations[n.index()].name.clone(),
                    world.market_name(*m),
                ));
            }
        }
        for s in &rec.stockpiles {
            self.holdings.insert((s.market, s.owner), s.holdings_t);
        }
    }

    fn finish(&self, world: &World) -> Outcome {
        let pct = |(w, s): (f64, f64)| if w > 0.0 { 100.0 * s / w } else { 0.0 };
        let outside = self
            .short
            .iter()
            .enumerate()
            .filter(|(n, _)| Some(NationId(*n as u32)) != self.incumbent)
            .fold((0.0, 0.0), |a, (_, &(w, s))| (a.0 + w, a.1 + s));
        let us = world.nation_id("United States");
        Outcome {
            scenario: String::new(),
            prices: self
                .price_sums
                .iter()
                .map(|&(si, ni, so, no)| {
                    (
                        if ni > 0.0 { si / ni } else { f64::NAN },
                        if no > 0.0 { so / no } else { f64::NAN },
                    )
                })
                .collect(),
            share_first: ratio(self.share[0]),
            share_last: ratio(self.share[1]),
            first_short: self.first_short.clone(),
            short_outside_pct: pct(outside),
            short_watched_pct: WATCHED
                .iter()
                .map(|n| {
                    world
                        .nation_id(n)
                        .map_or(f64::NAN, |n| pct(self.short[n.index()]))
                })
                .collect(),
            us_stock_musd: self
                .holdings
                .iter()
                .filter(|((_, o), _)| Some(*o) == us)
                .map(|((m, _), h)| h * world.markets[m.index()].reference_price_usd_per_t)
                .sum::<f64>()
                / 1e6
                + 0.0, // no stockpile: print 0, not -0
            us_budget_change_busd: 0.0,
        }
    }
}

fn ratio((a, b): (f64, f64)) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

fn headers() -> Vec<String> {
    let mut h = vec!["scenario".to_string()];
    for (_, _, label) in PRICED {
        h.push(format!("{label} price in {INCUMBENT} (x ref)"));
        h.push(format!("{label} price outside (x ref)"));
    }
    h.push(format!(
        "{INCUMBENT} share of {}/{}, first year",
        SHARE_MARKET.0, SHARE_MARKET.1
    ));
    h.push("last year".into());
    h.push("first short (tick, nation, market)".into());
    h.push(format!("shortage outside {INCUMBENT} (% of wanted)"));
    for n in WATCHED {
        h.push(format!("shortage {n} (%)"));
    }
    h.push("US stockpile at end (USD m at ref)".into());
    h.push("US budget change (USD bn)".into());
    h
}

fn cells(o: &Outcome) -> Vec<String> {
    let mut c = vec![o.scenario.clone()];
    for &(i, x) in &o.prices {
        c.push(format!("{i:.2}"));
        c.push(format!("{x:.2}"));
    }
    c.push(format!("{:.1}%", 100.0 * o.share_first));
    c.push(format!("{:.1}%", 100.0 * o.share_last));
    c.push(match &o.first_short {
        Some((t, n, m)) => format!("t{t} {n} {m}"),
        None => "none".into(),
    });
    c.push(format!("{:.2}", o.short_outside_pct));
    for s in &o.short_watched_pct {
        c.push(format!("{s:.2}"));
    }
    c.push(format!("{:.0}", o.us_stock_musd));
    c.push(format!("{:+.2}", o.us_budget_change_busd));
    c
}

fn markdown(rows: &[Outcome], ticks: u64) -> String {
    let mut s = String::new();
    let h = headers();
    let _ = writeln!(s, "| {} |", h.join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(h.len()));
    for o in rows {
        let _ = writeln!(s, "| {} |", cells(o).join(" | "));
    }
    let _ = writeln!(
        s,
        "\n{ticks} ticks per scenario; prices are run means relative to the 2025 reference price (outside {INCUMBENT}: weighted by purchases); shortages are end users' (what they wanted at last tick's price and did not obtain); \"short\" means more than {:.0}% of what a nation's end users wanted in a market went unmet (from tick 1).",
        100.0 * SHORT
    );
    s
}

fn csv(rows: &[Outcome]) -> String {
    let mut s = String::new();
    let quote = |x: &str| {
        if x.contains(',') || x.contains('"') {
            format!("\"{}\"", x.replace('"', "\"\""))
        } else {
            x.to_string()
        }
    };
    let _ = writeln!(
        s,
        "{}",
        headers()
            .iter()
            .map(|h| quote(h))
            .collect::<Vec<_>>()
            .join(",")
    );
    for o in rows {
        // Raw numbers for scripts: shares as fractions, first short split out.
        let mut c = vec![quote(&o.scenario)];
        for &(i, x) in &o.prices {
            c.push(format!("{i}"));
            c.push(format!("{x}"));
        }
        c.push(format!("{}", o.share_first));
        c.push(format!("{}", o.share_last));
        c.push(quote(&match &o.first_short {
            Some((t, n, m)) => format!("{t}|{n}|{m}"),
            None => "none".into(),
        }));
        c.push(format!("{}", o.short_outside_pct));
        for v in &o.short_watched_pct {
            c.push(format!("{v}"));
        }
        c.push(format!("{}", o.us_stock_musd));
        c.push(format!("{}", o.us_budget_change_busd));
        let _ = writeln!(s, "{}", c.join(","));
    }
    s
}
