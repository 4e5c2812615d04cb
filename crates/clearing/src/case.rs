//! One solve written down exactly: a market, the warm start and the arc
//! pairs it was indexed by, as plain text that reads back bit for bit.
//!
//! For regression tests taken from simulations: with the crate feature
//! `capture`, every [`crate::Solver::solve_from`] whose solution is not
//! converged writes its input as a case file into the directory named by
//! the environment variable `CHOKEPOINT_CLEARING_CAPTURE` (if set), e.g.
//! `CHOKEPOINT_CLEARING_CAPTURE=/tmp/cases cargo run --release -p
//! chokepoint-benches --features chokepoint-clearing/capture --example sweeps -- 50 2000 40`.
//! Numbers are written in Rust's shortest round-trip form.

use std::fmt::Write as _;

use crate::market::{Arc, Market, Node, Routes};
use crate::solver::Solution;

const HEADER: &str = "chokepoint-clearing case v1";

/// The input of one [`crate::Solver::solve_from`] call.
#[derive(Clone, Debug, Default)]
pub struct Case {
    pub market: Market,
    /// The warm start (only the fields a solve reads from it are written:
    /// prices, rents, domestic sales and flows).
    pub warm: Option<Solution>,
    /// (exporter, importer) of each of `warm`'s arcs.
    pub pairs: Vec<(usize, usize)>,
}

impl Case {
    /// The case as text ([`Self::parse`] reads it back exactly).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let m = &self.market;
        let _ = writeln!(s, "{HEADER}");
        let _ = writeln!(s, "nodes {}", m.nodes.len());
        for node in &m.nodes {
            let _ = writeln!(s, "node {:?}", node.export_cap);
            let ramps: Vec<_> = node.supply.ramps().collect();
            let _ = write!(s, "supply {}", ramps.len());
            for (lo, hi, q) in ramps {
                let _ = write!(s, " {lo:?} {hi:?} {q:?}");
            }
            let ramps: Vec<_> = node.demand.ramps().collect();
            let _ = write!(s, "\ndemand {}", ramps.len());
            for (lo, hi, q) in ramps {
                let _ = write!(s, " {lo:?} {hi:?} {q:?}");
            }
            let iso: Vec<_> = node.demand.isoelastic().collect();
            let _ = write!(s, "\niso {}", iso.len());
            for (q0, p0, e) in iso {
                let _ = write!(s, " {q0:?} {p0:?} {e:?}");
            }
            s.push('\n');
        }
        let _ = writeln!(s, "arcs {}", m.arcs.len());
        for a in &m.arcs {
            let floor = a.floor.map_or("-".to_string(), |f| format!("{f:?}"));
            let _ = writeln!(
                s,
                "arc {} {} {:?} {:?} {floor} {:?}",
                a.from, a.to, a.transport_cost, a.ad_valorem, a.quota
            );
        }
        match &m.routes {
            None => s.push_str("routes -\n"),
            Some(r) => {
                let _ = write!(s, "routes {}\nregion", r.regions);
                for g in &r.region {
                    let _ = write!(s, " {g}");
                }
                s.push_str("\ncost");
                for c in &r.cost {
                    let _ = write!(s, " {c:?}");
                }
                s.push('\n');
            }
        }
        match &self.warm {
            None => s.push_str("warm -\n"),
            Some(w) => {
                s.push_str("warm +\n");
                let vecs: [(&str, &Vec<f64>); 4] = [
                    ("supply_price", &w.supply_price),
                    ("export_rent", &w.export_rent),
                    ("domestic", &w.domestic),
                    ("flow", &w.flow),
                ];
                for (name, v) in vecs {
                    let _ = write!(s, "{name} {}", v.len());
                    for x in v {
                        let _ = write!(s, " {x:?}");
                    }
                    s.push('\n');
                }
                let _ = write!(s, "local_price {}", w.local_price.len());
                for p in &w.local_price {
                    match p {
                        Some(p) => {
                            let _ = write!(s, " {p:?}");
                        }
                        None => s.push_str(" -"),
                    }
                }
                s.push('\n');
            }
        }
        let _ = write!(s, "pairs {}", self.pairs.len());
        for (f, t) in &self.pairs {
            let _ = write!(s, " {f} {t}");
        }
        s.push('\n');
        s
    }

    /// Reads a case written by [`Self::to_text`]; curves come back finished.
    pub fn parse(text: &str) -> Result<Case, String> {
        let mut t = Tokens(text.split_whitespace());
        for word in HEADER.split_whitespace() {
            t.keyword(word)?;
        }
        t.keyword("nodes")?;
        let n = t.usize()?;
        let mut nodes = Vec::with_capacity(n);
        for _ in 0..n {
            let mut node = Node::new();
            t.keyword("node")?;
            node.export_cap = t.f64()?;
            t.keyword("supply")?;
            for _ in 0..t.usize()? {
                let (lo, hi, q) = (t.f64()?, t.f64()?, t.f64()?);
                node.supply.add_ramp(lo, hi, q);
            }
            t.keyword("demand")?;
            for _ in 0..t.usize()? {
                let (lo, hi, q) = (t.f64()?, t.f64()?, t.f64()?);
                node.demand.add_ramp(lo, hi, q);
            }
            t.keyword("iso")?;
            for _ in 0..t.usize()? {
                let (q0, p0, e) = (t.f64()?, t.f64()?, t.f64()?);
                node.demand.add_isoelastic(q0, p0, e);
            }
            node.supply.finish();
            node.demand.finish();
            nodes.push(node);
        }
        t.keyword("arcs")?;
        let na = t.usize()?;
        let mut arcs = Vec::with_capacity(na);
        for _ in 0..na {
            t.keyword("arc")?;
            let (from, to) = (t.usize()?, t.usize()?);
            let mut arc = Arc::new(from, to, t.f64()?);
            arc.ad_valorem = t.f64()?;
            arc.floor = t.opt_f64()?;
            arc.quota = t.f64()?;
            arcs.push(arc);
        }
        t.keyword("routes")?;
        let routes = match t.word()? {
            "-" => None,
            w => {
                let regions: usize = w.parse().map_err(|_| format!("bad region count {w}"))?;
                t.keyword("region")?;
                let region = (0..n).map(|_| t.usize()).collect::<Result<_, _>>()?;
                t.keyword("cost")?;
                let cost = (0..regions * regions)
                    .map(|_| t.f64())
                    .collect::<Result<_, _>>()?;
                Some(Routes {
                    region,
                    regions,
                    cost,
                })
            }
        };
        t.keyword("warm")?;
        let warm = match t.word()? {
            "-" => None,
            "+" => {
                let mut w = Solution::new();
                for (name, v) in [
                    ("supply_price", &mut w.supply_price),
                    ("export_rent", &mut w.export_rent),
                    ("domestic", &mut w.domestic),
                    ("flow", &mut w.flow),
                ] {
                    t.keyword(name)?;
                    let k = t.usize()?;
                    *v = (0..k).map(|_| t.f64()).collect::<Result<_, _>>()?;
                }
                t.keyword("local_price")?;
                let k = t.usize()?;
                w.local_price = (0..k).map(|_| t.opt_f64()).collect::<Result<_, _>>()?;
                Some(w)
            }
            other => return Err(format!("expected - or + after warm, found {other}")),
        };
        t.keyword("pairs")?;
        let k = t.usize()?;
        let pairs = (0..k)
            .map(|_| Ok((t.usize()?, t.usize()?)))
            .collect::<Result<_, String>>()?;
        if let Some(extra) = t.0.next() {
            return Err(format!("unexpected {extra} after the pairs"));
        }
        Ok(Case {
            market: Market {
                nodes,
                arcs,
                routes,
            },
            warm,
            pairs,
        })
    }
}

struct Tokens<'a>(std::str::SplitWhitespace<'a>);

impl<'a> Tokens<'a> {
    fn word(&mut self) -> Result<&'a str, String> {
        self.0
            .next()
            .ok_or_else(|| "unexpected end of case".to_string())
    }
    fn keyword(&mut self, k: &str) -> Result<(), String> {
        match self.word()? {
            w if w == k => Ok(()),
            w => Err(format!("expected {k}, found {w}")),
        }
    }
    fn usize(&mut self) -> Result<usize, String> {
        let w = self.word()?;
        w.parse().map_err(|_| format!("bad integer {w}"))
    }
    fn f64(&mut self) -> Result<f64, String> {
        let w = self.word()?;
        w.parse().map_err(|_| format!("bad number {w}"))
    }
    fn opt_f64(&mut self) -> Result<Option<f64>, String> {
        match self.word()? {
            "-" => Ok(None),
            w => w.parse().map(Some).map_err(|_| format!("bad number {w}")),
        }
    }
}

/// With the `capture` feature: writes the input of a solve that did not
/// converge to `$CHOKEPOINT_CLEARING_CAPTURE/case-<pid>-<k>-<residual>.txt`.
#[cfg(feature = "capture")]
pub(crate) fn capture(
    market: &Market,
    warm: Option<Solution>,
    pairs: &[(usize, usize)],
    residual: f64,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let Some(dir) = std::env::var_os("CHOKEPOINT_CLEARING_CAPTURE") else {
        return;
    };
    let case = Case {
        market: market.clone(),
        warm,
        pairs: pairs.to_vec(),
    };
    let k = COUNT.fetch_add(1, Ordering::Relaxed);
    let path = std::path::Path::new(&dir).join(format!(
        "case-{}-{k}-{residual:.1e}.txt",
        std::process::id()
    ));
    let _ = std::fs::write(path, case.to_text());
}
