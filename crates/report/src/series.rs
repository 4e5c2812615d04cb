//! The per-tick series the plots need, accumulated from tick records during replay.
//!
//! Everything is indexed `[market][nation][tick]`: small (markets x nations x ticks
//! numbers per series), and the records themselves are dropped after each tick.

use std::collections::BTreeMap;

use chokepoint_engine::{Consumer, TickRecord};

pub(crate) struct Series {
    markets: usize,
    nations: usize,
    ticks: usize,
    /// Local price; `None` where the market had no price in that nation that tick.
    pub price: Vec<Vec<Vec<Option<f64>>>>,
    /// Tonnes obtained by all consumers of a nation (end users, firms buying inputs,
    /// stockpiles): the weights of the "outside" mean price.
    pub obtained: Vec<Vec<Vec<f64>>>,
    /// Tonnes put on the market by a nation's firms: produced plus sold from stock.
    pub output: Vec<Vec<Vec<f64>>>,
    /// Tonnes shipped from an origin nation to anywhere, home included.
    pub shipped_from: Vec<Vec<Vec<f64>>>,
    /// Shortage of a nation's consumers, stockpiles excluded.
    pub shortage: Vec<Vec<Vec<f64>>>,
    /// Holdings per (market, owner), from the tick of the stockpile's first order
    /// (zero before it); carried forward through ticks without orders.
    pub holdings: BTreeMap<(usize, usize), Vec<f64>>,
}

fn grid<T: Clone>(markets: usize, nations: usize) -> Vec<Vec<Vec<T>>> {
    vec![vec![Vec::new(); nations]; markets]
}

impl Series {
    pub fn new(markets: usize, nations: usize) -> Self {
        Series {
            markets,
            nations,
            ticks: 0,
            price: grid(markets, nations),
            obtained: grid(markets, nations),
            output: grid(markets, nations),
            shipped_from: grid(markets, nations),
            shortage: grid(markets, nations),
            holdings: BTreeMap::new(),
        }
    }

    pub fn ticks(&self) -> usize {
        self.ticks
    }

    pub fn markets(&self) -> usize {
        self.markets
    }

    pub fn nations(&self) -> usize {
        self.nations
    }

    /// Add one tick's record.
    pub fn push(&mut self, rec: &TickRecord) {
        let t = self.ticks;
        for m in 0..self.markets {
            for n in 0..self.nations {
                self.price[m][n].push(None);
                self.obtained[m][n].push(0.0);
                self.output[m][n].push(0.0);
                self.shipped_from[m][n].push(0.0);
                self.shortage[m][n].push(0.0);
            }
        }
        for r in &rec.prices {
            self.price[r.market.index()][r.nation.index()][t] = Some(r.price_usd_per_t);
        }
        for r in &rec.consumption {
            let (m, n) = (r.market.index(), r.nation.index());
            self.obtained[m][n][t] += r.obtained_t;
            if !matches!(r.consumer, Consumer::Stockpile(_)) {
                self.shortage[m][n][t] += r.shortage_t();
            }
        }
        for r in &rec.production {
            self.output[r.market.index()][r.nation.index()][t] +=
                r.produced_t + r.sold_from_stock_t;
        }
        for r in &rec.flows {
            self.shipped_from[r.market.index()][r.from.index()][t] += r.quantity_t;
        }
        for h in self.holdings.values_mut() {
            let last = h.last().copied().unwrap_or(0.0);
            h.push(last);
        }
        for r in &rec.stockpiles {
            let h = self
                .holdings
                .entry((r.market.index(), r.owner.index()))
                .or_insert_with(|| vec![0.0; t + 1]);
            h[t] = r.holdings_t;
        }
        self.ticks += 1;
    }

    /// The nation with the largest output in market `m` at the last tick (over the
    /// whole run if nobody produced then; lowest id on ties). `None` if nobody ever
    /// produced.
    pub fn largest_producer(&self, m: usize) -> Option<usize> {
        let last = self.ticks.checked_sub(1)?;
        let pick = |value: &dyn Fn(usize) -> f64| {
            let mut best: Option<(usize, f64)> = None;
            for n in 0..self.nations {
                let v = value(n);
                if v > 0.0 && best.is_none_or(|(_, b)| v > b) {
                    best = Some((n, v));
                }
            }
            best.map(|(n, _)| n)
        };
        pick(&|n| self.output[m][n][last])
            .or_else(|| pick(&|n| self.output[m][n].iter().sum::<f64>()))
    }

    /// The mean local price of every nation but `except` in market `m` at tick `t`,
    /// weighted by what each obtained; the plain mean of their prices when nobody
    /// obtained anything; `None` when none of them has a price.
    pub fn outside_price(&self, m: usize, except: usize, t: usize) -> Option<f64> {
        let (mut num, mut den, mut sum, mut count) = (0.0, 0.0, 0.0, 0usize);
        for n in (0..self.nations).filter(|&n| n != except) {
            if let Some(p) = self.price[m][n][t] {
                let w = self.obtained[m][n][t];
                num += w * p;
                den += w;
                sum += p;
                count += 1;
            }
        }
        if den > 0.0 {
            Some(num / den)
        } else if count > 0 {
            Some(sum / count as f64)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chokepoint_engine::{ConsumptionRow, PriceRow, ProductionRow, StockpileRow};
    use chokepoint_world::{FirmId, MarketId, NationId};

    fn price(m: u32, n: u32, p: f64) -> PriceRow {
        PriceRow {
            market: MarketId(m),
            nation: NationId(n),
            price_usd_per_t: p,
        }
    }

    fn consumption(n: u32, consumer: Consumer, wanted_t: f64, obtained_t: f64) -> ConsumptionRow {
        ConsumptionRow {
            market: MarketId(0),
            nation: NationId(n),
            consumer,
            wanted_t,
            obtained_t,
        }
    }

    fn production(n: u32, produced_t: f64) -> ProductionRow {
        ProductionRow {
            firm: FirmId(n),
            market: MarketId(0),
            nation: NationId(n),
            capacity_t: 100.0,
            input_limited_capacity_t: 100.0,
            produced_t,
            sold_from_stock_t: 0.0,
        }
    }

    #[test]
    fn outside_price_is_weighted_by_what_the_others_obtained() {
        let mut s = Series::new(1, 3);
        let rec = TickRecord {
            prices: vec![price(0, 0, 10.0), price(0, 1, 20.0), price(0, 2, 40.0)],
            consumption: vec![
                consumption(
                    1,
                    Consumer::EndUse {
                        nation: NationId(1),
                        index: 0,
                    },
                    3.0,
                    3.0,
                ),
                consumption(2, Consumer::Firm(FirmId(7)), 1.0, 1.0),
                // Nation 0's own consumption does not count outside it.
                consumption(
                    0,
                    Consumer::EndUse {
                        nation: NationId(0),
                        index: 0,
                    },
                    99.0,
                    99.0,
                ),
            ],
            ..Default::default()
        };
        s.push(&rec);
        assert_eq!(s.outside_price(0, 0, 0), Some((3.0 * 20.0 + 40.0) / 4.0));
        // Nobody obtained anything: the plain mean.
        let mut s = Series::new(1, 3);
        s.push(&TickRecord {
            prices: vec![price(0, 1, 20.0), price(0, 2, 40.0)],
            ..Default::default()
        });
        assert_eq!(s.outside_price(0, 0, 0), Some(30.0));
        assert_eq!(s.outside_price(0, 1, 0), Some(40.0));
    }

    #[test]
    fn shortages_leave_out_stockpiles_and_holdings_carry_forward() {
        let mut s = Series::new(1, 2);
        s.push(&TickRecord::default());
        s.push(&TickRecord {
            consumption: vec![
                consumption(
                    0,
                    Consumer::EndUse {
                        nation: NationId(0),
                        index: 0,
                    },
                    5.0,
                    2.0,
                ),
                consumption(0, Consumer::Stockpile(NationId(0)), 50.0, 0.0),
            ],
            stockpiles: vec![StockpileRow {
                market: MarketId(0),
                owner: NationId(1),
                bought_t: 7.0,
                sold_t: 0.0,
                holdings_t: 7.0,
                spent_usd: 70.0,
                earned_usd: 0.0,
            }],
            ..Default::default()
        });
        s.push(&TickRecord::default());
        assert_eq!(s.shortage[0][0], vec![0.0, 3.0, 0.0]);
        assert_eq!(s.holdings[&(0, 1)], vec![0.0, 7.0, 7.0]);
    }

    #[test]
    fn the_largest_producer_is_taken_at_the_last_tick() {
        let mut s = Series::new(1, 3);
        s.push(&TickRecord {
            production: vec![production(0, 100.0), production(1, 1.0)],
            ..Default::default()
        });
        s.push(&TickRecord {
            production: vec![production(0, 1.0), production(1, 2.0)],
            ..Default::default()
        });
        assert_eq!(s.largest_producer(0), Some(1));
        // Nobody produced at the last tick: the whole run decides.
        s.push(&TickRecord::default());
        assert_eq!(s.largest_producer(0), Some(0));
        assert_eq!(Series::new(1, 3).largest_producer(0), None);
    }
}
