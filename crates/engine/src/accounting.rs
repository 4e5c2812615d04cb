//! Double-entry books for every tick: what each stock held when the markets opened, and
//! checks when they close that every tonne and every dollar moved went somewhere.
//!
//! Why books rather than per-row sanity checks: a leak in the market code (a firm using
//! inputs it never bought, a tariff counted twice, a stockpile paid at one price and
//! booked at another) leaves every single row plausible; it shows only when stocks and
//! money before and after the tick are reconciled with the tick's rows. The checks are a
//! few passes over rows the tick already produced (beside the invariant check, from
//! 10,000 firms), so they stay on in release builds.
//!
//! The hook is a system and a function: [`open_books`] runs in [`crate::Phase::Clear`]
//! before the markets clear (after the timeline, actions and commissioning have changed
//! capacities and budgets), [`close`] in [`crate::Phase::Check`] (from
//! [`crate::systems::check_tick`], beside the invariant check). Everything between them is
//! the market's doing, so every change must be explained by the tick record:
//!
//! - goods, per firm: output stock after = before - sold from stock; each input stock
//!   after = before + bought - ratio x produced (inputs are bought upstream, earlier in
//!   the tick), and no firm uses more input than it held;
//! - goods, per stockpile: holdings after = before + bought - sold, never negative;
//! - money, per flow: the buyer's payment (landed price x quantity) covers the goods at
//!   the exporter's price, the trade cost, the tariff and the levy; what is left is
//!   export (quota) rent, never negative;
//! - money, per market: what sellers received (firms' revenue, stockpile sales) equals the
//!   goods' value at the exporters' prices over all flows;
//! - money, per nation: budget after = before + tariff and levy revenue + stockpile sales
//!   - stockpile purchases (payments = receipts + tariff revenue + stockpile spending);
//! - no NaN or negative price (local or exporter's), budget or stock anywhere.
//!
//! A violation stops the run as [`EngineError::Invariant`] naming the tick, the entity
//! (firm, stockpile, market, nation, flow) and the amount of the gap.

use std::collections::BTreeMap;

use bevy_ecs::prelude::*;
use chokepoint_world::{FirmId, MAX_INPUTS_PER_STAGE, MarketId, NationId, World};

use crate::EngineError;
use crate::components::*;
use crate::market::MarketState;
use crate::resources::*;

/// Relative tolerance of the books: far above float rounding over a tick's sums, far
/// below any economically meaningful leak.
pub const BOOKS_TOLERANCE: f64 = 1e-7;

/// Stocks and money as the markets open (or close: the same shape serves both).
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct Books {
    /// Per nation id.
    pub budgets_usd: Vec<f64>,
    /// Per firm id: output stock and input stocks.
    pub firm_stocks: Vec<(f64, [f64; MAX_INPUTS_PER_STAGE])>,
    /// Per firm id: revenue this tick (only meaningful at the close).
    pub firm_revenue_usd: Vec<f64>,
    pub stockpiles_t: BTreeMap<(MarketId, NationId), f64>,
    /// Per market: the exporter's (supply) price in each nation (at the close).
    pub supply_prices: Vec<Vec<f64>>,
    /// Per nation id: net money moved after the markets cleared by settling agreements
    /// and by subsidising firms' new capacity (at the close; empty when none moved).
    pub settled_usd: Vec<f64>,
}

impl Books {
    fn take(
        &mut self,
        index: &Index,
        nations: &Query<&Treasury>,
        firms: &Query<(Entity, &Firm, &Stocks, &FirmTick)>,
        piles: &Query<&Stockpile>,
    ) {
        self.budgets_usd.clear();
        self.budgets_usd.extend(
            index
                .nations
                .iter()
                .map(|&e| nations.get(e).map_or(0.0, |t| t.budget_usd)),
        );
        // Walked in storage order and placed by id: the table a walk in id order gives,
        // without a look-up per firm (firms are stored market by market).
        self.firm_stocks.clear();
        self.firm_stocks
            .resize(index.firms.len(), (0.0, [0.0; MAX_INPUTS_PER_STAGE]));
        self.firm_revenue_usd.clear();
        self.firm_revenue_usd.resize(index.firms.len(), 0.0);
        for (e, f, s, t) in firms.iter() {
            let i = f.id.index();
            if index.firms.get(i) == Some(&e) {
                self.firm_stocks[i] = (s.output_t, s.inputs_t);
                self.firm_revenue_usd[i] = t.revenue_usd;
            }
        }
        self.stockpiles_t.clear();
        for (&key, &e) in &index.stockpiles {
            self.stockpiles_t
                .insert(key, piles.get(e).map_or(0.0, |p| p.holdings_t));
        }
    }
}

/// The books at the close, kept apart from the opening so neither allocates per tick.
#[derive(Resource, Debug, Clone, Default)]
pub struct ClosingBooks(pub Books);

/// Open the books: record stocks and budgets before any market clears.
pub fn open_books(
    index: Res<Index>,
    nations: Query<&Treasury>,
    firms: Query<(Entity, &Firm, &Stocks, &FirmTick)>,
    piles: Query<&Stockpile>,
    mut books: ResMut<Books>,
) {
    books.take(&index, &nations, &firms, &piles);
}

/// What closing the books reads besides the tick's record.
#[derive(bevy_ecs::system::SystemParam)]
pub struct Ledger<'w, 's> {
    nations: Query<'w, 's, &'static Treasury>,
    firms: Query<'w, 's, (Entity, &'static Firm, &'static Stocks, &'static FirmTick)>,
    piles: Query<'w, 's, &'static Stockpile>,
    markets: Query<'w, 's, &'static MarketState>,
    enforcement: Res<'w, crate::negotiation::enforce::Enforcement>,
    projects: Res<'w, crate::investment::FirmPipeline>,
}

/// Close the books (into `after`): reconcile stocks and money with the tick's record.
/// Run by [`crate::systems::check_tick`], beside the invariant check.
pub(crate) fn close(
    world: &World,
    index: &Index,
    tick: u64,
    record: &TickRecord,
    books: &Books,
    after: &mut Books,
    ledger: &Ledger<'_, '_>,
) -> Result<(), EngineError> {
    after.take(index, &ledger.nations, &ledger.firms, &ledger.piles);
    after
        .settled_usd
        .clone_from(&ledger.enforcement.settled_usd);
    after.settled_usd.resize(index.nations.len(), 0.0);
    for p in ledger.projects.0.iter().filter(|p| p.started_tick == tick) {
        after.settled_usd[p.nation.index()] -= p.subsidy_usd;
    }
    after.supply_prices.resize(index.markets.len(), Vec::new());
    for (m, &e) in index.markets.iter().enumerate() {
        let dst = &mut after.supply_prices[m];
        dst.clear();
        if let Ok(state) = ledger.markets.get(e) {
            dst.extend_from_slice(&state.prices.supply);
        }
    }
    audit(world, &index.firm_names, tick, record, books, after)
}

fn gap_too_big(gap: f64, scale: f64) -> bool {
    gap.is_nan() || gap.abs() > BOOKS_TOLERANCE * scale.abs().max(1.0)
}

/// Reconcile the books opened before the markets cleared (`before`) and closed after
/// (`after`) with the tick's `record`. Pure, so a deliberately broken state can be fed
/// to it in tests.
pub fn audit(
    world: &World,
    firm_names: &[String],
    tick: u64,
    record: &TickRecord,
    before: &Books,
    after: &Books,
) -> Result<(), EngineError> {
    let violation = |entity: String, what: &str, amount: f64| EngineError::Invariant {
        tick,
        entity,
        what: what.into(),
        amount,
    };
    let nation = |n: NationId| world.nations[n.index()].name.as_str();
    let firm_name = |f: FirmId| {
        firm_names
            .get(f.index())
            .map_or_else(|| format!("#{}", f.index()), |s| s.clone())
    };

    // Prices, budgets and stocks are numbers that make sense.
    for (m, prices) in after.supply_prices.iter().enumerate() {
        for (n, &p) in prices.iter().enumerate() {
            if !p.is_finite() || p < 0.0 {
                return Err(violation(
                    format!(
                        "market {} in {}",
                        world.market_name(MarketId(m as u32)),
                        world.nations[n].name
                    ),
                    "exporter's price is not a finite non-negative number",
                    p,
                ));
            }
        }
    }
    for (n, &b) in after.budgets_usd.iter().enumerate() {
        // A treasury may run a deficit (contract payments and penalties are owed
        // whatever the budget; stockpile orders and financing are budget-limited where
        // they are placed), so only a non-finite budget is wrong in itself; a budget
        // that moved by money from nowhere is caught by the balance below.
        if !b.is_finite() {
            return Err(violation(
                format!("nation {}", world.nations[n].name),
                "budget is not finite",
                b,
            ));
        }
    }

    // Goods: firms' stocks. Every firm has a production row each tick (its market),
    // which also places the inputs it bought.
    let mut produced = vec![(0.0, 0.0, None); after.firm_stocks.len()];
    for p in &record.production {
        if let Some(x) = produced.get_mut(p.firm.index()) {
            *x = (p.produced_t, p.sold_from_stock_t, Some(p.market));
        }
    }
    let mut obtained = vec![[0.0; MAX_INPUTS_PER_STAGE]; after.firm_stocks.len()];
    for c in &record.consumption {
        if let Consumer::Firm(g) = c.consumer {
            let Some(&(_, _, Some(m))) = produced.get(g.index()) else {
                return Err(violation(
                    format!("firm {}", firm_name(g)),
                    "bought inputs but has no production row",
                    c.obtained_t,
                ));
            };
            let inputs = &world.markets[m.index()].inputs;
            if let Some(slot) = inputs.iter().position(|&(im, _)| im == c.market) {
                obtained[g.index()][slot] += c.obtained_t;
            }
        }
    }
    for (g, &(out_after, ref in_after)) in after.firm_stocks.iter().enumerate() {
        let (out_before, in_before) = before
            .firm_stocks
            .get(g)
            .copied()
            .unwrap_or((0.0, [0.0; MAX_INPUTS_PER_STAGE]));
        let (made, from_stock, market) = produced[g];
        let gap = out_after - (out_before - from_stock);
        if gap_too_big(gap, out_before.max(from_stock)) || out_after < 0.0 {
            return Err(violation(
                format!("firm {}", firm_name(FirmId(g as u32))),
                "output stock after != before - sold from stock",
                gap,
            ));
        }
        let inputs: &[(MarketId, f64)] = match market {
            Some(m) => &world.markets[m.index()].inputs,
            None => &[],
        };
        for (slot, &(im, r)) in inputs.iter().enumerate() {
            // Inputs come from upstream markets, cleared earlier in the tick: what was
            // bought is in stock before production uses it.
            let used = r * made;
            let held = in_before[slot] + obtained[g][slot];
            let overdraw = used - held;
            if overdraw > BOOKS_TOLERANCE * used.max(1.0) {
                return Err(violation(
                    format!("firm {}", firm_name(FirmId(g as u32))),
                    &format!("used more {} than it held", world.market_name(im)),
                    overdraw,
                ));
            }
            let want = (held - used).max(0.0);
            let gap = in_after[slot] - want;
            if gap_too_big(gap, held) || in_after[slot] < 0.0 {
                return Err(violation(
                    format!("firm {}", firm_name(FirmId(g as u32))),
                    &format!(
                        "{} stock after != before - used + bought",
                        world.market_name(im)
                    ),
                    gap,
                ));
            }
        }
    }

    // Goods: stockpiles.
    for s in &record.stockpiles {
        let was = before
            .stockpiles_t
            .get(&(s.market, s.owner))
            .copied()
            .unwrap_or(0.0);
        let now = after
            .stockpiles_t
            .get(&(s.market, s.owner))
            .copied()
            .unwrap_or(0.0);
        let gap = now - (was + s.bought_t - s.sold_t);
        if gap_too_big(gap, was.max(s.bought_t).max(s.sold_t))
            || now < 0.0
            || s.sold_t > was + BOOKS_TOLERANCE * was.max(1.0)
        {
            return Err(violation(
                format!(
                    "stockpile of {} in {}",
                    nation(s.owner),
                    world.market_name(s.market)
                ),
                "holdings after != before + bought - sold (or sold more than held)",
                gap,
            ));
        }
    }

    // Money: each flow's payment covers its parts; the rest is export rent, >= 0.
    let n_markets = world.markets.len();
    let mut shipped_value = vec![0.0; n_markets];
    let mut revenue = vec![0.0; world.nations.len()];
    for f in &record.flows {
        let m = f.market.index();
        let s = after
            .supply_prices
            .get(m)
            .and_then(|p| p.get(f.from.index()))
            .copied()
            .unwrap_or(f64::NAN);
        shipped_value[m] += f.quantity_t * s;
        revenue[f.to.index()] += f.tariff_usd + f.levy_usd;
        let paid = f.quantity_t * f.landed_usd_per_t;
        let rent = paid - (f.value_usd + f.tariff_usd + f.levy_usd);
        if rent.is_nan()
            || rent < -BOOKS_TOLERANCE * paid.abs().max(1.0)
            || f.tariff_usd < 0.0
            || f.levy_usd < 0.0
        {
            return Err(violation(
                format!(
                    "flow of {} from {} to {}",
                    world.market_name(f.market),
                    nation(f.from),
                    nation(f.to)
                ),
                "payment (landed x quantity) < goods + trade cost + tariff + levy",
                rent,
            ));
        }
    }

    // Money: sellers received the goods' value at the exporters' prices.
    let mut received = vec![0.0; n_markets];
    for p in &record.production {
        if let Some(r) = after.firm_revenue_usd.get(p.firm.index()) {
            received[p.market.index()] += r;
        }
    }
    let mut stock_flows = vec![0.0; world.nations.len()];
    for s in &record.stockpiles {
        received[s.market.index()] += s.earned_usd;
        stock_flows[s.owner.index()] += s.earned_usd - s.spent_usd;
    }
    // Contracts (negotiation): the seller's firms book the contract price for what they
    // delivered, which is not a spot sale; the buyer resells the delivered goods on the
    // spot market, which is. Treasuries move by the settlement's own ledger (contract
    // payments, resales, shortfall penalties).
    for d in &record.deliveries {
        received[d.market.index()] += d.resold_usd - d.delivered_t * d.price_usd_per_t;
    }
    for (n, usd) in after.settled_usd.iter().enumerate() {
        stock_flows[n] += usd;
    }
    for m in 0..n_markets {
        let gap = received[m] - shipped_value[m];
        if gap_too_big(gap, shipped_value[m]) {
            return Err(violation(
                format!("market {}", world.market_name(MarketId(m as u32))),
                "sellers' receipts != value of goods shipped at exporters' prices",
                gap,
            ));
        }
    }

    // Money: each treasury moved by its tariff and levy revenue and its stockpiles.
    for n in 0..world.nations.len() {
        let (was, now) = (
            before.budgets_usd.get(n).copied().unwrap_or(0.0),
            after.budgets_usd.get(n).copied().unwrap_or(0.0),
        );
        let gap = now - (was + revenue[n] + stock_flows[n]);
        if gap_too_big(
            gap,
            was.abs().max(revenue[n].abs()).max(stock_flows[n].abs()),
        ) {
            return Err(violation(
                format!("nation {}", world.nations[n].name),
                "budget after != before + tariff and levy revenue + stockpile sales - purchases",
                gap,
            ));
        }
    }
    Ok(())
}
