//! Tournaments: every assignment of the given strategies to the given roles (nations),
//! each with every seed, run as one batch (so resume and shards work the same), then a
//! ranking of each strategy in each role by what it got for its nation, with 95%
//! confidence intervals over all runs in which it played that role.
//!
//! The interval is mean ± t(0.975, n-1) · s / √n (Student's t), treating runs as
//! independent draws; runs share the other roles' strategies in a balanced design, so
//! the interval is for the average over opponents in this tournament.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Value;

use crate::error::BatchError;
use crate::exec::{Options, Outcome, run_batch, strategy_path};
use crate::metrics::Family;
use crate::path::nearest;
use crate::spec::{
    Axis, AxisValues, Design, RawSeeds, Spec, load_world_doc, parse_metrics, read_toml, seeds_from,
};
use crate::table::RowReader;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTournamentFile {
    tournament: RawTournament,
    #[serde(default)]
    seeds: Option<RawSeeds>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTournament {
    world: PathBuf,
    #[serde(default = "default_ticks")]
    ticks: u64,
    strategies: Vec<String>,
    roles: Vec<String>,
    #[serde(default)]
    agents: Vec<PathBuf>,
    #[serde(default)]
    metrics: Option<Vec<String>>,
}

fn default_ticks() -> u64 {
    120
}

/// A tournament: the batch that runs it and its roles.
pub struct Tournament {
    pub spec: Spec,
    pub roles: Vec<String>,
    pub strategies: Vec<String>,
}

/// The per-role metrics a strategy is ranked by (the first ranks), then world totals.
pub const RANKED: [(&str, bool); 4] = [
    ("welfare_usd[{role}]", true),
    ("shortage_t[{role}]", false),
    ("stockpile_cost_usd[{role}]", false),
    ("welfare_usd", true),
];

impl Tournament {
    pub fn load(path: &Path) -> Result<Tournament, BatchError> {
        let raw: RawTournamentFile = read_toml(path)?;
        let t = raw.tournament;
        let (world_path, world_doc) = load_world_doc(path, &t.world)?;
        let world =
            chokepoint_world::load(&world_path).map_err(|e| BatchError::World(e.to_string()))?;
        let nations: Vec<String> = world.nations.iter().map(|n| n.name.clone()).collect();
        if t.roles.is_empty() {
            return Err(BatchError::EmptyAxis {
                path: path.to_path_buf(),
                axis: "roles".into(),
            });
        }
        if t.strategies.is_empty() {
            return Err(BatchError::EmptyAxis {
                path: path.to_path_buf(),
                axis: "strategies".into(),
            });
        }
        for r in &t.roles {
            if !nations.contains(r) {
                return Err(BatchError::UnknownRole {
                    path: path.to_path_buf(),
                    name: r.clone(),
                    suggestion: nearest(r, &nations),
                });
            }
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let agents: Vec<PathBuf> = t.agents.iter().map(|a| base.join(a)).collect();
        let search = chokepoint_host::SearchPath::new(agents.clone(), Some(&world_path));
        for s in &t.strategies {
            check_strategy(path, &search, s)?;
        }
        let mut metrics = parse_metrics(path, t.metrics)?;
        for needed in [Family::Welfare, Family::Shortage, Family::StockpileCost] {
            if !metrics.contains(&needed) {
                metrics.push(needed);
            }
        }
        let axes = t
            .roles
            .iter()
            .map(|r| {
                let p = strategy_path(r);
                let base = p.resolve(&world_doc).map_err(BatchError::from)?.cloned();
                Ok(Axis {
                    path: p,
                    values: AxisValues::List(
                        t.strategies
                            .iter()
                            .map(|s| Value::String(s.clone()))
                            .collect(),
                    ),
                    base,
                })
            })
            .collect::<Result<Vec<_>, BatchError>>()?;
        Ok(Tournament {
            spec: Spec {
                spec_path: path.to_path_buf(),
                world_path,
                world_doc,
                ticks: t.ticks,
                design: Design::Grid,
                axes,
                seeds: seeds_from(path, raw.seeds)?,
                metrics,
                full_log: false,
                agents,
            },
            roles: t.roles,
            strategies: t.strategies,
        })
    }

    /// Run the tournament's batch, then rank.
    pub fn run(&self, opts: &Options) -> Result<(Outcome, Ranking), BatchError> {
        let outcome = run_batch(&self.spec, opts)?;
        let ranking = self.rank(&outcome.results_csv)?;
        ranking.write(&opts.out.join("ranking.csv"))?;
        Ok((outcome, ranking))
    }

    /// Rank from a results table (streamed: only per-group sums are kept).
    pub fn rank(&self, results: &Path) -> Result<Ranking, BatchError> {
        let cols = crate::exec::columns(&self.spec)?;
        let metric_names: Vec<String> = RANKED
            .iter()
            .map(|(m, _)| m.replace("{role}", "ROLE"))
            .collect();
        let mut groups: BTreeMap<(usize, String), Vec<Welford>> = BTreeMap::new();
        let mut reader = RowReader::open(results, &cols)?;
        let mut failed = 0;
        while let Some((row, _)) = reader.next_row() {
            if !row.ok() {
                failed += 1;
                continue;
            }
            for (ri, role) in self.roles.iter().enumerate() {
                let strategy = row.axes[ri].clone();
                let g = groups
                    .entry((ri, strategy))
                    .or_insert_with(|| vec![Welford::default(); RANKED.len()]);
                for (k, (m, _)) in RANKED.iter().enumerate() {
                    let name = m.replace("{role}", role);
                    if let Some(c) = cols.metrics.iter().position(|x| *x == name) {
                        let x = row.metrics[c];
                        if !x.is_nan() {
                            g[k].add(x);
                        }
                    }
                }
            }
        }
        let mut entries = Vec::new();
        for ri in 0..self.roles.len() {
            let mut es: Vec<RankEntry> = groups
                .iter()
                .filter(|((r, _), _)| *r == ri)
                .map(|((_, s), w)| RankEntry {
                    role: self.roles[ri].clone(),
                    strategy: s.clone(),
                    rank: 0,
                    runs: w[0].n,
                    stats: w.iter().map(|w| w.summary()).collect(),
                })
                .collect();
            es.sort_by(|a, b| {
                b.stats[0]
                    .0
                    .total_cmp(&a.stats[0].0)
                    .then(a.strategy.cmp(&b.strategy))
            });
            for (i, e) in es.iter_mut().enumerate() {
                e.rank = i + 1;
            }
            entries.extend(es);
        }
        Ok(Ranking {
            metrics: metric_names,
            entries,
            failed_runs: failed,
        })
    }
}

pub(crate) fn check_strategy(
    spec: &Path,
    search: &chokepoint_host::SearchPath,
    name: &str,
) -> Result<(), BatchError> {
    if search.find(name, "(tournament)").is_ok() {
        return Ok(());
    }
    let candidates = search.candidates(name);
    // Strategies that do exist in the places looked in, for a suggestion.
    let mut available = Vec::new();
    for c in &candidates {
        if let Some(dir) = c.parent()
            && let Ok(rd) = std::fs::read_dir(dir)
        {
            for e in rd.flatten() {
                let f = e.file_name().to_string_lossy().into_owned();
                if let Some(stem) = f
                    .strip_prefix(std::env::consts::DLL_PREFIX)
                    .and_then(|s| s.strip_suffix(std::env::consts::DLL_SUFFIX))
                {
                    available.push(stem.replace('_', "-"));
                }
            }
        }
    }
    available.sort();
    available.dedup();
    Err(BatchError::UnknownStrategy {
        path: spec.to_path_buf(),
        name: name.to_string(),
        suggestion: nearest(name, &available),
        looked: candidates
            .iter()
            .map(|p| format!("  - {}", p.display()))
            .collect::<Vec<_>>()
            .join("\n"),
    })
}

/// Running mean and variance (Welford), so a group keeps three numbers.
#[derive(Debug, Clone, Copy, Default)]
struct Welford {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Welford {
    fn add(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// (mean, half-width of the 95% interval; NaN with fewer than two runs).
    fn summary(&self) -> (f64, f64) {
        if self.n < 2 {
            return (if self.n == 1 { self.mean } else { f64::NAN }, f64::NAN);
        }
        let s = (self.m2 / (self.n - 1) as f64).sqrt();
        (self.mean, t975(self.n - 1) * s / (self.n as f64).sqrt())
    }
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom.
pub fn t975(df: u64) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df as usize - 1],
        // Beyond 30: the normal quantile z with the first Cornish-Fisher term.
        _ => {
            let z: f64 = 1.959964;
            z + (z.powi(3) + z) / (4.0 * df as f64)
        }
    }
}

#[derive(Debug, Clone)]
pub struct RankEntry {
    pub role: String,
    pub strategy: String,
    pub rank: usize,
    pub runs: u64,
    /// (mean, 95% half-width) per ranked metric.
    pub stats: Vec<(f64, f64)>,
}

#[derive(Debug, Clone)]
pub struct Ranking {
    /// Metric names, `ROLE` standing for the role's nation.
    pub metrics: Vec<String>,
    pub entries: Vec<RankEntry>,
    pub failed_runs: u64,
}

impl Ranking {
    pub fn write(&self, path: &Path) -> Result<(), BatchError> {
        let mut s = String::from("role,rank,strategy,runs");
        for m in &self.metrics {
            s.push_str(&format!(",{m} mean,{m} ci95"));
        }
        s.push('\n');
        for e in &self.entries {
            s.push_str(&format!(
                "\"{}\",{},{},{}",
                e.role, e.rank, e.strategy, e.runs
            ));
            for (m, h) in &e.stats {
                s.push_str(&format!(",{m:?},{h:?}"));
            }
            s.push('\n');
        }
        std::fs::write(path, s).map_err(|e| BatchError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// The table a terminal shows.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut role = "";
        for e in &self.entries {
            if e.role != role {
                role = &e.role;
                out.push_str(&format!(
                    "\nrole {role}:\n  {:>4} {:<20} {:>5} {:>28} {:>26} {:>28}\n",
                    "rank",
                    "strategy",
                    "runs",
                    "own welfare (USD)",
                    "own shortage (t)",
                    "world welfare (USD)"
                ));
            }
            let f = |(m, h): (f64, f64)| format!("{m:>.4e} ± {h:.2e}");
            out.push_str(&format!(
                "  {:>4} {:<20} {:>5} {:>28} {:>26} {:>28}\n",
                e.rank,
                e.strategy,
                e.runs,
                f(e.stats[0]),
                f(e.stats[1]),
                f(e.stats[3])
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welford_matches_the_textbook_interval() {
        let mut w = Welford::default();
        for x in [1.0, 2.0, 3.0, 4.0] {
            w.add(x);
        }
        let (m, h) = w.summary();
        assert_eq!(m, 2.5);
        // s = sqrt(5/3), t(0.975, 3) = 3.182: h = 3.182 * 1.29099 / 2 = 2.0540.
        assert!((h - 3.182 * (5.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-12);
        assert!((t975(1000) - 1.9624).abs() < 1e-3);
    }

    #[test]
    fn columns_of_ranked_metrics_exist() {
        let world = chokepoint_world::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../worlds/critical-minerals-2026.toml"),
        )
        .unwrap();
        let cols = crate::metrics::columns(&world, &Family::ALL);
        for (m, _) in RANKED {
            assert!(cols.contains(&m.replace("{role}", "China")), "{m}");
        }
    }
}
