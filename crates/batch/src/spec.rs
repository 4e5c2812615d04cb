//! The batch spec file and its expansion into a plan: an ordered list of runs, each a
//! set of parameter assignments and a seed. The order is fixed by the spec alone (axes
//! in file order, seeds innermost), so a run's index, shard and id never depend on the
//! machine, the thread count or what ran before.

use std::path::{Path, PathBuf};

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use serde::Deserialize;
use toml::Value;

use crate::error::BatchError;
use crate::metrics::Family;
use crate::path::{ParamPath, Seg};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    batch: RawBatch,
    #[serde(default)]
    seeds: Option<RawSeeds>,
    #[serde(default)]
    axis: Vec<RawAxis>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBatch {
    world: PathBuf,
    #[serde(default = "default_ticks")]
    ticks: u64,
    #[serde(default)]
    design: Option<String>,
    #[serde(default)]
    samples: Option<usize>,
    #[serde(default)]
    sample_seed: Option<u64>,
    #[serde(default)]
    metrics: Option<Vec<String>>,
    #[serde(default)]
    full_log: bool,
    #[serde(default)]
    agents: Vec<PathBuf>,
}

fn default_ticks() -> u64 {
    120
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSeeds {
    #[serde(default)]
    list: Option<Vec<u64>>,
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    base: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAxis {
    path: String,
    #[serde(default)]
    values: Option<Vec<Value>>,
    #[serde(default)]
    from: Option<f64>,
    #[serde(default)]
    to: Option<f64>,
    #[serde(default)]
    steps: Option<usize>,
}

/// How axes combine into runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Design {
    /// Every combination of the axes' values.
    Grid,
    /// The i-th value of every axis together (all axes the same length).
    Zip,
    /// `samples` points of a Latin hypercube over the axes' ranges.
    Lhs { samples: usize, seed: u64 },
}

#[derive(Debug, Clone)]
pub enum AxisValues {
    List(Vec<Value>),
    Range { from: f64, to: f64, steps: usize },
}

#[derive(Debug, Clone)]
pub struct Axis {
    pub path: ParamPath,
    pub values: AxisValues,
    /// The base world's value there (None: a new strategy parameter).
    pub base: Option<Value>,
}

impl Axis {
    fn list(&self) -> Vec<Value> {
        match &self.values {
            AxisValues::List(v) => v.clone(),
            AxisValues::Range { from, to, steps } => (0..*steps)
                .map(|i| {
                    let x = if *steps == 1 {
                        *from
                    } else {
                        from + (to - from) * i as f64 / (*steps - 1) as f64
                    };
                    self.number(x)
                })
                .collect(),
        }
    }

    /// A number in the type of the base value (integers rounded).
    fn number(&self, x: f64) -> Value {
        match self.base {
            Some(Value::Integer(_)) => Value::Integer(x.round() as i64),
            _ => Value::Float(x),
        }
    }

    /// Whether every value is a number (the column is then numeric).
    pub fn numeric(&self) -> bool {
        match &self.values {
            AxisValues::Range { .. } => true,
            AxisValues::List(v) => v
                .iter()
                .all(|x| matches!(x, Value::Integer(_) | Value::Float(_))),
        }
    }
}

/// A validated spec.
#[derive(Debug, Clone)]
pub struct Spec {
    pub spec_path: PathBuf,
    pub world_path: PathBuf,
    pub world_doc: toml::Table,
    pub ticks: u64,
    pub design: Design,
    pub axes: Vec<Axis>,
    pub seeds: Vec<u64>,
    pub metrics: Vec<Family>,
    pub full_log: bool,
    pub agents: Vec<PathBuf>,
}

/// One run of the plan.
#[derive(Debug, Clone)]
pub struct Point {
    pub index: u64,
    pub assignments: Vec<(ParamPath, Value)>,
    pub seed: u64,
}

pub(crate) fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, BatchError> {
    let text = std::fs::read_to_string(path).map_err(|e| BatchError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    toml::from_str(&text).map_err(|e| BatchError::Spec {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

pub(crate) fn load_world_doc(
    spec_path: &Path,
    world: &Path,
) -> Result<(PathBuf, toml::Table), BatchError> {
    let world_path = spec_path.parent().unwrap_or(Path::new(".")).join(world);
    // Check the base world fully first, so its errors are reported as world errors.
    chokepoint_world::load(&world_path).map_err(|e| BatchError::World(e.to_string()))?;
    let text = std::fs::read_to_string(&world_path).map_err(|e| BatchError::Io {
        path: world_path.clone(),
        message: e.to_string(),
    })?;
    let doc: toml::Table = toml::from_str(&text).map_err(|e| BatchError::World(e.to_string()))?;
    Ok((world_path, doc))
}

pub(crate) fn seeds_from(path: &Path, raw: Option<RawSeeds>) -> Result<Vec<u64>, BatchError> {
    let bad = |m: &str| BatchError::Spec {
        path: path.to_path_buf(),
        message: format!("[seeds]: {m}"),
    };
    let Some(raw) = raw else {
        return Ok(vec![0]);
    };
    let seeds = match (raw.list, raw.count) {
        (Some(_), Some(_)) => {
            return Err(bad("give either `list` or `count` (with `base`), not both"));
        }
        (Some(l), None) => l,
        (None, Some(n)) => {
            let base = raw.base.unwrap_or(0);
            (0..n).map(|i| base.wrapping_add(i)).collect()
        }
        (None, None) => return Err(bad("give `list = [..]` or `count = N` (and `base`)")),
    };
    if seeds.is_empty() {
        return Err(BatchError::EmptyAxis {
            path: path.to_path_buf(),
            axis: "seeds".into(),
        });
    }
    let mut sorted = seeds.clone();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(bad(&format!(
            "seed {} is listed twice; each replicate needs its own seed",
            w[0]
        )));
    }
    Ok(seeds)
}

pub(crate) fn parse_metrics(
    path: &Path,
    names: Option<Vec<String>>,
) -> Result<Vec<Family>, BatchError> {
    match names {
        None => Ok(Family::ALL.to_vec()),
        Some(names) => names
            .iter()
            .map(|n| {
                Family::parse(n).ok_or_else(|| BatchError::UnknownMetric {
                    path: path.to_path_buf(),
                    name: n.clone(),
                    suggestion: crate::path::nearest(
                        n,
                        &Family::ALL
                            .iter()
                            .map(|f| f.name().to_string())
                            .collect::<Vec<_>>(),
                    ),
                })
            })
            .collect(),
    }
}

impl Spec {
    pub fn load(spec_path: &Path) -> Result<Spec, BatchError> {
        let raw: RawSpec = read_toml(spec_path)?;
        let (world_path, world_doc) = load_world_doc(spec_path, &raw.batch.world)?;
        let bad = |m: String| BatchError::Spec {
            path: spec_path.to_path_buf(),
            message: m,
        };
        let mut axes = Vec::new();
        for a in raw.axis {
            let path = ParamPath::parse(&a.path).map_err(BatchError::from)?;
            let base = path.resolve(&world_doc).map_err(BatchError::from)?.cloned();
            let values = match (a.values, a.from, a.to, a.steps) {
                (Some(v), None, None, None) => AxisValues::List(v),
                (None, Some(from), Some(to), steps) => AxisValues::Range {
                    from,
                    to,
                    steps: steps.unwrap_or(0),
                },
                _ => {
                    return Err(bad(format!(
                        "axis `{}`: give either `values = [..]` or `from`, `to` and `steps`",
                        a.path
                    )));
                }
            };
            let empty = match &values {
                AxisValues::List(v) => v.is_empty(),
                AxisValues::Range { steps, .. } => *steps == 0,
            };
            let axis = Axis { path, values, base };
            let lhs = raw.batch.design.as_deref() == Some("lhs");
            if empty && !(lhs && matches!(axis.values, AxisValues::Range { .. })) {
                return Err(BatchError::EmptyAxis {
                    path: spec_path.to_path_buf(),
                    axis: a.path,
                });
            }
            // Check every value's type against the world now, not run by run.
            for v in axis.list() {
                let mut scratch = world_doc.clone();
                axis.path.set(&mut scratch, &v).map_err(BatchError::from)?;
            }
            if axes.iter().any(|x: &Axis| x.path == axis.path) {
                return Err(bad(format!("axis `{}` is given twice", axis.path)));
            }
            axes.push(axis);
        }
        let design = match raw.batch.design.as_deref() {
            None | Some("grid") => Design::Grid,
            Some("zip") => {
                let lens: Vec<usize> = axes.iter().map(|a| a.list().len()).collect();
                if lens.windows(2).any(|w| w[0] != w[1]) {
                    return Err(bad(format!(
                        "design = \"zip\" takes the i-th value of every axis together; the axes have {lens:?} values"
                    )));
                }
                Design::Zip
            }
            Some("lhs") => {
                let samples = raw
                    .batch
                    .samples
                    .ok_or_else(|| bad("design = \"lhs\" needs `samples = N` in [batch]".into()))?;
                if samples == 0 {
                    return Err(BatchError::EmptyAxis {
                        path: spec_path.to_path_buf(),
                        axis: "samples".into(),
                    });
                }
                if let Some(a) = axes
                    .iter()
                    .find(|a| !matches!(a.values, AxisValues::Range { .. }))
                {
                    return Err(bad(format!(
                        "design = \"lhs\" samples ranges: give axis `{}` as `from` and `to`",
                        a.path
                    )));
                }
                Design::Lhs {
                    samples,
                    seed: raw.batch.sample_seed.unwrap_or(0),
                }
            }
            Some(other) => {
                return Err(bad(format!(
                    "design = \"{other}\": use \"grid\", \"zip\" or \"lhs\"{}",
                    crate::path::nearest(other, &["grid".into(), "zip".into(), "lhs".into()])
                        .map(|s| format!(" (did you mean \"{s}\"?)"))
                        .unwrap_or_default()
                )));
            }
        };
        let base = spec_path.parent().unwrap_or(Path::new("."));
        let agents: Vec<PathBuf> = raw.batch.agents.iter().map(|a| base.join(a)).collect();
        let search = chokepoint_host::SearchPath::new(agents.clone(), Some(&world_path));
        for a in axes.iter().filter(|a| a.path.strategy_of().is_some()) {
            for v in a.list() {
                if let Value::String(name) = v {
                    crate::tournament::check_strategy(spec_path, &search, &name)?;
                }
            }
        }
        let seeds = seeds_from(spec_path, raw.seeds)?;
        let metrics = parse_metrics(spec_path, raw.batch.metrics)?;
        Ok(Spec {
            spec_path: spec_path.to_path_buf(),
            world_path,
            world_doc,
            ticks: raw.batch.ticks,
            design,
            axes,
            seeds,
            metrics,
            full_log: raw.batch.full_log,
            agents,
        })
    }

    /// The parameter combinations, in plan order (without seeds).
    pub fn combinations(&self) -> Vec<Vec<Value>> {
        let lists: Vec<Vec<Value>> = self.axes.iter().map(|a| a.list()).collect();
        match self.design {
            Design::Grid => {
                let mut out = vec![Vec::new()];
                for l in &lists {
                    out = out
                        .into_iter()
                        .flat_map(|prefix| {
                            l.iter().map(move |v| {
                                let mut p = prefix.clone();
                                p.push(v.clone());
                                p
                            })
                        })
                        .collect();
                }
                out
            }
            Design::Zip => {
                let n = lists.first().map_or(1, |l| l.len());
                (0..n)
                    .map(|i| lists.iter().map(|l| l[i].clone()).collect())
                    .collect()
            }
            Design::Lhs { samples, seed } => {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                // One random permutation of the strata per axis, one point per stratum.
                let cols: Vec<Vec<Value>> = self
                    .axes
                    .iter()
                    .map(|a| {
                        let AxisValues::Range { from, to, .. } = a.values else {
                            unreachable!("checked at load")
                        };
                        let mut strata: Vec<usize> = (0..samples).collect();
                        for i in (1..samples).rev() {
                            let j = rng.random_range(0..=i);
                            strata.swap(i, j);
                        }
                        strata
                            .iter()
                            .map(|&s| {
                                let u: f64 = rng.random();
                                let x = from + (to - from) * (s as f64 + u) / samples as f64;
                                a.number(x)
                            })
                            .collect()
                    })
                    .collect();
                (0..samples)
                    .map(|i| cols.iter().map(|c| c[i].clone()).collect())
                    .collect()
            }
        }
    }

    /// Every run, in plan order: combinations outermost, seeds innermost.
    pub fn points(&self) -> Vec<Point> {
        let mut out = Vec::new();
        for combo in self.combinations() {
            for &seed in &self.seeds {
                out.push(Point {
                    index: out.len() as u64,
                    assignments: self
                        .axes
                        .iter()
                        .zip(combo.iter())
                        .map(|(a, v)| (a.path.clone(), v.clone()))
                        .collect(),
                    seed,
                });
            }
        }
        out
    }
}

/// The world document of one run: the base with the run's assignments applied. A
/// nation given another strategy loses its old strategy's params unless the run sets
/// them too.
pub fn resolve_world(
    base: &toml::Table,
    assignments: &[(ParamPath, Value)],
) -> Result<toml::Table, BatchError> {
    let mut doc = base.clone();
    for (path, value) in assignments {
        if let Some(who) = path.strategy_of() {
            let changed = path
                .resolve(&doc)
                .map_err(BatchError::from)?
                .is_none_or(|old| old != value);
            let sets_params = assignments.iter().any(|(p, _)| p.is_params_of(who));
            if changed && !sets_params {
                drop_params(&mut doc, who);
            }
        }
    }
    for (path, value) in assignments {
        path.set(&mut doc, value).map_err(BatchError::from)?;
    }
    Ok(doc)
}

fn drop_params(doc: &mut toml::Table, who: &Seg) {
    let Some(Value::Array(nations)) = doc.get_mut("nation") else {
        return;
    };
    let n = match who {
        Seg::Index(i) => nations.get_mut(*i),
        Seg::Key(name) => nations
            .iter_mut()
            .find(|v| v.get("name").and_then(|n| n.as_str()) == Some(name)),
    };
    if let Some(Value::Table(t)) = n {
        t.remove("params");
    }
}
