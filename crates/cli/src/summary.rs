//! The short report `run` prints: final prices inside and outside the largest producer,
//! the largest cross-border flows, and shortages over the run.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use chokepoint_engine::TickRecord;
use chokepoint_world::{MarketId, NationId, World};

pub struct Summary {
    last: TickRecord,
    /// (market, nation) -> total shortage over the run, tonnes.
    shortage: BTreeMap<(MarketId, NationId), f64>,
}

impl Summary {
    pub fn new(_world: &World) -> Self {
        Summary {
            last: TickRecord::default(),
            shortage: BTreeMap::new(),
        }
    }

    pub fn add(&mut self, _world: &World, rec: &TickRecord) {
        for c in rec
            .consumption
            .iter()
            .filter(|c| !matches!(c.consumer, chokepoint_engine::Consumer::Stockpile(_)))
        {
            let s = c.shortage_t();
            if s > 0.0 {
                *self.shortage.entry((c.market, c.nation)).or_default() += s;
            }
        }
        self.last = rec.clone();
    }

    pub fn render(&self, world: &World, ticks: u64, elapsed: Duration) -> String {
        let mut out = String::new();
        let rec = &self.last;
        let _ = writeln!(
            out,
            "world `{}`: {} ticks in {:.3} s ({:.0} ticks/s)",
            world.name,
            ticks,
            elapsed.as_secs_f64(),
            ticks as f64 / elapsed.as_secs_f64().max(1e-9)
        );
        let _ = writeln!(
            out,
            "\nfinal prices (USD/t) inside the largest producer and outside it (consumption-weighted):"
        );
        let _ = writeln!(
            out,
            "  {:<32} {:<16} {:>14} {:>14}",
            "market", "largest producer", "inside", "outside"
        );
        for m in 0..world.markets.len() {
            let mid = MarketId(m as u32);
            let mut produced = vec![0.0; world.nations.len()];
            for p in rec.production.iter().filter(|p| p.market == mid) {
                produced[p.nation.index()] += p.produced_t + p.sold_from_stock_t;
            }
            let Some((top, _)) = produced
                .iter()
                .enumerate()
                .filter(|(_, q)| **q > 0.0)
                .max_by(|a, b| a.1.total_cmp(b.1))
            else {
                let _ = writeln!(
                    out,
                    "  {:<32} {:<16} {:>14} {:>14}",
                    world.market_name(mid),
                    "(no output)",
                    "-",
                    "-"
                );
                continue;
            };
            let price = |n: usize| {
                rec.prices
                    .iter()
                    .find(|p| p.market == mid && p.nation.index() == n)
                    .map(|p| p.price_usd_per_t)
            };
            let mut consumed = vec![0.0; world.nations.len()];
            for c in rec.consumption.iter().filter(|c| c.market == mid) {
                consumed[c.nation.index()] += c.obtained_t;
            }
            let (mut num, mut den) = (0.0, 0.0);
            for n in (0..world.nations.len()).filter(|&n| n != top) {
                if let Some(p) = price(n) {
                    num += p * consumed[n];
                    den += consumed[n];
                }
            }
            let inside = price(top).map(|p| format!("{p:.2}")).unwrap_or("-".into());
            let outside = if den > 0.0 {
                format!("{:.2}", num / den)
            } else {
                "-".into()
            };
            let _ = writeln!(
                out,
                "  {:<32} {:<16} {:>14} {:>14}",
                world.market_name(mid),
                world.nations[top].name,
                inside,
                outside
            );
        }
        let mut flows: Vec<_> = rec.flows.iter().filter(|f| f.from != f.to).collect();
        flows.sort_by(|a, b| b.value_usd.total_cmp(&a.value_usd));
        let _ = writeln!(out, "\nlargest cross-border flows in the last tick:");
        if flows.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        for f in flows.iter().take(8) {
            let _ = writeln!(
                out,
                "  {:<32} {:>12} -> {:<12} {:>12.1} t  {:>14.0} USD",
                world.market_name(f.market),
                world.nations[f.from.index()].name,
                world.nations[f.to.index()].name,
                f.quantity_t,
                f.value_usd
            );
        }
        let _ = writeln!(
            out,
            "\nshortages over the run (demand at last tick's price not obtained):"
        );
        let mut short: Vec<_> = self.shortage.iter().collect();
        short.sort_by(|a, b| b.1.total_cmp(a.1));
        if short.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        for ((m, n), t) in short.iter().take(8) {
            let _ = writeln!(
                out,
                "  {:<32} {:<16} {:>12.1} t",
                world.market_name(*m),
                world.nations[n.index()].name,
                t
            );
        }
        out
    }
}
