//! Markets that clear: every tick, each commodity's stages are cleared upstream first,
//! each as a spatial price equilibrium over all nations.
//!
//! The economics, per market m (one commodity at one stage) and nation n:
//! - Supply is the sum of the nation's firms. A firm's marginal cost rises linearly from
//!   `mc_at_zero` to `mc_at_capacity`, plus the value of the inputs it uses at this
//!   tick's input prices in its nation (the upstream market has just cleared). Output is
//!   limited by capacity and by the inputs actually held: `q <= min(K, stock_k / r_k)`.
//!   Unsold output from earlier (stocks) is offered at the firm's lowest marginal cost.
//! - Demand is end-use demand (linear or isoelastic through the reference point) plus
//!   derived demand from downstream firms: a firm expecting output price P (its nation's
//!   price of last tick) buys inputs for the output q that equates
//!   `mc(q) + sum_k r_k p_k = P`, net of the inputs it already holds.
//! - Trade moves goods on open arcs at landed price `(s_j + t_ji)(1 + tariff_ij)`;
//!   licences close arcs (ban, or a licence not yet granted) or cap them (quota).
//!   [`chokepoint_clearing`] solves for the equilibrium prices and flows.
//!
//! Shortage is measured against last tick's price: what each consumer would have bought
//! at the price it knew, minus what it obtained. A ban shows up as a shortage in the
//! tick it bites and as a higher price afterwards.

use bevy_ecs::prelude::*;
use chokepoint_clearing as clearing;
use chokepoint_world::{DemandForm, MarketId, NationId};
use rayon::prelude::*;

use crate::EngineError;
use crate::components::*;
use crate::negotiation::enforce::{Delivery, DeliveryRow, Enforcement};
use crate::resources::*;

/// Per-market state carried from tick to tick.
#[derive(Component, Debug, Clone)]
pub struct MarketState {
    pub prices: MarketPrices,
    /// Last solution and its arcs, to warm-start the next tick's solve.
    pub(crate) warm: Option<clearing::Solution>,
    pub(crate) warm_arcs: Vec<(usize, usize)>,
}

impl MarketState {
    pub fn new(nations: usize, reference_price: f64) -> Self {
        MarketState {
            prices: MarketPrices {
                local: vec![None; nations],
                supply: vec![reference_price; nations],
                previous: vec![reference_price; nations],
                expected: vec![reference_price; nations],
            },
            warm: None,
            warm_arcs: Vec::new(),
        }
    }
}

/// Trade costs per commodity, resolved once, as the clearing's route rule: a cost per
/// pair of regions, plus the pairs of nations whose cost the rule does not give.
///
/// Clearing then lists only the pairs that policies or these exceptions touch and lets
/// the solver open the rest by the rule, so a tick costs O(nations x regions) in routes,
/// not O(nations^2) (see [`chokepoint_clearing::Routes`]).
#[derive(Resource, Debug, Clone)]
pub struct TradeCostTable {
    pub routes: Vec<clearing::Routes>,
    /// Per commodity: (from, to, USD/t) where the cost differs from the rule, sorted.
    pub exceptions: Vec<Vec<(usize, usize, f64)>>,
}

impl TradeCostTable {
    /// Each region pair's rule is the cost most of its nation pairs have (ties: the
    /// lowest), so a world written by regions has no exceptions at all.
    pub fn new(world: &chokepoint_world::World) -> Self {
        let n = world.nations.len();
        let regions = world.regions.len().max(1);
        let region: Vec<usize> = world
            .nations
            .iter()
            .map(|x| x.region.min(regions - 1))
            .collect();
        let mut routes = Vec::new();
        let mut exceptions = Vec::new();
        for table in world.trade_cost_tables() {
            let cost_of = |j: usize, i: usize| table[j * n + i];
            let mut seen: Vec<Vec<u64>> = vec![Vec::new(); regions * regions];
            for j in 0..n {
                for i in 0..n {
                    if i != j {
                        seen[region[j] * regions + region[i]].push(cost_of(j, i).to_bits());
                    }
                }
            }
            let cost: Vec<f64> = seen
                .iter_mut()
                .map(|v| {
                    v.sort_unstable_by(|a, b| f64::from_bits(*a).total_cmp(&f64::from_bits(*b)));
                    let mut best = (0usize, 0u64);
                    let mut k = 0;
                    while k < v.len() {
                        let run = v[k..].iter().take_while(|&&x| x == v[k]).count();
                        if run > best.0 {
                            best = (run, v[k]);
                        }
                        k += run;
                    }
                    f64::from_bits(best.1)
                })
                .collect();
            let rule = clearing::Routes {
                region: region.clone(),
                regions,
                cost,
            };
            let mut odd = Vec::new();
            for j in 0..n {
                for i in 0..n {
                    let x = cost_of(j, i);
                    if i != j && x.to_bits() != rule.cost(j, i).to_bits() {
                        odd.push((j, i, x));
                    }
                }
            }
            routes.push(rule);
            exceptions.push(odd);
        }
        TradeCostTable { routes, exceptions }
    }

    /// Cost of shipping `commodity` from `from` to `to`, as [`World::trade_cost`] gives it.
    ///
    /// [`World::trade_cost`]: chokepoint_world::World::trade_cost
    pub fn cost(&self, commodity: usize, from: usize, to: usize) -> f64 {
        let odd = &self.exceptions[commodity];
        match odd.binary_search_by(|&(j, i, _)| (j, i).cmp(&(from, to))) {
            Ok(k) => odd[k].2,
            Err(_) => self.routes[commodity].cost(from, to),
        }
    }
}

/// Buffers reused across ticks so clearing does not allocate in steady state.
#[derive(Resource)]
pub struct ClearingScratch {
    /// Per market: its solver and its problem, kept so their buffers are reused and
    /// so the markets of a batch can be solved at once (see [`clear_markets`]).
    solvers: Vec<clearing::Solver>,
    problems: Vec<clearing::Market>,
    /// Per market: the buffers a [`Job`] carries from set-up to write-back.
    sides: Vec<Sides>,
    /// Markets by stage depth (mined first), each level in id order.
    levels: Vec<Vec<MarketId>>,
    /// `co_input[a][b]`: some market takes inputs from both `a` and `b`.
    co_input: Vec<Vec<bool>>,
    /// Price per market and nation as known now: this tick's where cleared, else last.
    price_now: Vec<Vec<f64>>,
    /// Firms' expected price per market and nation, for planning.
    expected: Vec<Vec<f64>>,
    /// Per market: written back this tick (its firms' outcomes in `sides` are new).
    applied: Vec<bool>,
    /// Per firm id: its place among its market's firms (`Index::firms_by_market`).
    firm_pos: Vec<u32>,
}

impl ClearingScratch {
    pub fn new(world: &chokepoint_world::World) -> Self {
        let (nations, markets) = (world.nations.len(), world.markets.len());
        let problem = clearing::Market {
            nodes: (0..nations).map(|_| clearing::Node::new()).collect(),
            arcs: Vec::new(),
            routes: None,
        };
        let mut depth = vec![0usize; markets];
        for (m, def) in world.markets.iter().enumerate() {
            // Inputs come from earlier markets (commodity-then-stage order).
            depth[m] = def
                .inputs
                .iter()
                .map(|&(im, _)| depth[im.index()] + 1)
                .max()
                .unwrap_or(0);
        }
        let mut levels = vec![Vec::new(); depth.iter().max().map_or(0, |d| d + 1)];
        for (m, &d) in depth.iter().enumerate() {
            levels[d].push(MarketId(m as u32));
        }
        let mut co_input = vec![vec![false; markets]; markets];
        for def in &world.markets {
            for &(a, _) in &def.inputs {
                for &(b, _) in &def.inputs {
                    co_input[a.index()][b.index()] = a != b;
                }
            }
        }
        ClearingScratch {
            co_input,
            solvers: (0..markets).map(|_| clearing::Solver::new()).collect(),
            problems: vec![problem; markets],
            sides: vec![Sides::default(); markets],
            levels,
            price_now: vec![vec![0.0; nations]; markets],
            expected: vec![vec![0.0; nations]; markets],
            applied: vec![false; markets],
            firm_pos: Vec::new(),
        }
    }
}

/// The buffers of a [`Job`], kept per market between ticks for reuse.
#[derive(Clone, Default)]
struct Sides {
    committed: Vec<(f64, f64)>,
    user_ramps: Vec<(f64, f64, f64, usize)>,
    stock_orders: Vec<(NationId, StockpileOrder, f64, f64)>,
    /// (exporter, importer) pairs the market lists arc by arc.
    pairs: Vec<(usize, usize)>,
    shares: Vec<Share>,
    totals: Vec<f64>,
    users: Vec<(f64, f64)>,
    offers: Vec<Offer>,
    outcomes: Vec<FirmOutcome>,
    rows: Rows,
}

/// A market's rows of the tick record and the money it moves, made with the tally
/// (in parallel in large worlds) so that the write-back only appends and stores.
#[derive(Clone, Default)]
struct Rows {
    /// Domestic flows first, then trade in arc order.
    flows: Vec<FlowRow>,
    /// Per flow with tariff or levy due: (importer, USD), in flow order.
    dues: Vec<(usize, f64)>,
    deliveries: Vec<DeliveryRow>,
    production: Vec<ProductionRow>,
    /// End uses' rows, then users'.
    consumption: Vec<ConsumptionRow>,
    /// Per end use of the market (`Index::end_uses_by_market`): what it obtained.
    end_uses: Vec<f64>,
}

/// Firms as clearing reads and writes them.
type Firms<'w, 's> = Query<
    'w,
    's,
    (
        &'static Firm,
        &'static Plant,
        &'static mut Stocks,
        &'static mut FirmTick,
    ),
>;
/// Nations as clearing reads and writes them.
type Nations<'w, 's> = Query<'w, 's, (&'static mut EndUse, &'static mut Treasury)>;

/// What a market's set-up reads of the world: shared by the markets of a batch,
/// which are set up at once (in parallel in large worlds). Nothing here is written
/// until the batch's write-back.
struct View<'a, 'w, 's> {
    world: &'a chokepoint_world::World,
    tick: u64,
    policies: &'a Policies,
    index: &'a Index,
    costs: &'a TradeCostTable,
    orders: &'a StockpileOrders,
    enforcement: &'a Enforcement,
    firms: &'a Firms<'w, 's>,
    nations: &'a Nations<'w, 's>,
    stockpiles: &'a Query<'w, 's, &'static mut Stockpile>,
    price_now: &'a [Vec<f64>],
    expected: &'a [Vec<f64>],
}

/// One market's clearing between its set-up, which reads the world, and its
/// write-back, which changes it. The solve in between touches nothing shared, so the
/// markets of a batch solve in parallel and the result does not depend on threads.
struct Job<'e> {
    mid: MarketId,
    problem: clearing::Market,
    solver: clearing::Solver,
    warm: Option<clearing::Solution>,
    warm_pairs: Vec<(usize, usize)>,
    deliveries: Vec<&'e Delivery>,
    delivered: Vec<f64>,
    /// Per firm of the market: (made, from stock) committed to contracts.
    committed: Vec<(f64, f64)>,
    /// Derived-demand ramps of the market's users: (lo, hi, q_max, nation).
    user_ramps: Vec<(f64, f64, f64, usize)>,
    stock_orders: Vec<(NationId, StockpileOrder, f64, f64)>,
    pairs: Vec<(usize, usize)>,
    solved: Option<Result<clearing::Solution, clearing::ClearingError>>,
    /// The market's prices before this tick's.
    previous: Vec<f64>,
    /// Sales split among the market's firms, then contract releases from
    /// `releases_at`, then stockpile releases from `stocks_at` ([`Job::tally`]).
    shares: Vec<Share>,
    releases_at: usize,
    stocks_at: usize,
    /// Per nation: what its consumers would buy at its price ([`Job::tally`]).
    totals: Vec<f64>,
    /// Per user of the market (`Index::users_by_market`): (obtained, wanted).
    users: Vec<(f64, f64)>,
    /// Per firm of the market: its offer ([`Job::set_up`]).
    offers: Vec<Offer>,
    /// Per firm of the market: its state after the tick's sales (begun by
    /// [`Job::set_up`], finished by [`Job::tally`]).
    outcomes: Vec<FirmOutcome>,
    rows: Rows,
}

/// A firm's offer in its market this tick, as set up: production on a cost ramp
/// (input costs at today's prices included, contracts' share taken off), and its
/// stock at the bottom of its cost curve.
#[derive(Clone, Copy)]
struct Offer {
    nation: usize,
    made_lo: f64,
    made_hi: f64,
    made_t: f64,
    stock_price: f64,
    stock_t: f64,
}

/// A firm of a market after the market cleared: what the write-back stores.
#[derive(Clone)]
struct FirmOutcome {
    stocks: Stocks,
    tick: FirmTick,
    nation: NationId,
    capacity_t: f64,
}

impl Job<'_> {
    fn solve(&mut self) {
        for node in self.problem.nodes.iter_mut() {
            node.supply.finish();
            node.demand.finish();
        }
        let warm = self.warm.take();
        self.solved = Some(
            self.solver
                .solve_from(&self.problem, warm, &self.warm_pairs),
        );
        // What the next tick's solve carries flows over by: this one's arcs.
        self.warm_pairs.clear();
        self.warm_pairs
            .extend(self.solver.arcs().iter().map(|a| (a.from, a.to)));
    }

    /// The write-back's arithmetic that only reads the world: how each nation's
    /// sales split among its firms, and what each consumer obtained. Done for the
    /// whole batch before any write-back (in parallel in large worlds); what it reads,
    /// no write-back of the batch changes (see [`batch_size`]).
    fn tally(&mut self, v: &View<'_, '_, '_>) {
        let Some(Ok(sol)) = &self.solved else {
            return;
        };
        let (index, nations) = (v.index, v.nations);
        let m = self.mid.index();
        let mdef = &v.world.markets[m];
        let n_nations = v.world.nations.len();
        let (committed, deliveries, delivered, stock_orders, user_ramps, previous) = (
            &self.committed,
            &self.deliveries,
            &self.delivered,
            &self.stock_orders,
            &self.user_ramps,
            &self.previous,
        );
        let firm_share = &mut self.shares;
        // Who produced what: each nation's output shared among its firms by their curves.
        firm_share.clear();
        // The firms' offers as set up; their outcomes are finished below once the
        // sales are split.
        for o in &self.offers {
            let s = sol.supply_price[o.nation];
            let made = if o.made_t > 0.0 {
                ramp_up(s, o.made_lo, o.made_hi, o.made_t)
            } else {
                0.0
            };
            let from_stock = ramp_up(s, o.stock_price, o.stock_price, o.stock_t);
            firm_share.push(Share {
                nation: o.nation,
                want_made: made,
                want_stock: from_stock,
                cap_made: o.made_t.max(0.0),
                cap_stock: o.stock_t.max(0.0),
                made: 0.0,
                stock: 0.0,
            });
        }
        let releases_at = firm_share.len();
        for (d, &q) in deliveries.iter().zip(delivered) {
            if q > 0.0 {
                firm_share.push(Share {
                    nation: d.buyer.index(),
                    want_made: 0.0,
                    want_stock: q,
                    cap_made: 0.0,
                    cap_stock: q,
                    made: 0.0,
                    stock: 0.0,
                });
            }
        }
        let stocks_at = firm_share.len();
        for &(owner, order, sell, _) in stock_orders {
            let s = sol.supply_price[owner.index()];
            firm_share.push(Share {
                nation: owner.index(),
                want_made: 0.0,
                want_stock: ramp_up(s, order.min_price, order.min_price, sell),
                cap_made: 0.0,
                cap_stock: sell,
                made: 0.0,
                stock: 0.0,
            });
        }
        split_sales(&sol.produced, firm_share);
        // What each firm holds and did after its sales: written back as is.
        for (k, o) in self.outcomes.iter_mut().enumerate() {
            let n = o.nation.index();
            let (cm, cs) = committed[k];
            let contract_usd = (cm + cs) * contract_price(deliveries, delivered, o.nation);
            let (made, from_stock) = (firm_share[k].made + cm, firm_share[k].stock + cs);
            let stocks = &mut o.stocks;
            stocks.output_t -= from_stock;
            for (slot, &(_, r)) in mdef.inputs.iter().enumerate() {
                // Rounding dust left after using up a stock is dropped: as supply it
                // would be a few 1e-16 t that very inelastic buyers bid to prices
                // beyond f64.
                let held = stocks.inputs_t[slot];
                let left = held - r * made;
                stocks.inputs_t[slot] = if left > INPUT_DUST_REL * held {
                    left
                } else {
                    0.0
                };
            }
            let cap = o.capacity_t;
            o.tick = FirmTick {
                input_limited_capacity_t: mdef
                    .inputs
                    .iter()
                    .enumerate()
                    .fold(cap, |c, (slot, &(_, r))| {
                        c.min((stocks.usable_input(slot) + r * made) / r)
                    }),
                produced_t: made,
                sold_from_stock_t: from_stock,
                revenue_usd: (firm_share[k].made + firm_share[k].stock) * sol.supply_price[n]
                    + contract_usd,
            };
        }
        self.releases_at = releases_at;
        self.stocks_at = stocks_at;

        // Who consumed what: each nation's purchases shared among its consumers.
        // Each nation's demand at its price, summed in one pass over the consumers.
        let price_at = |n: usize| sol.local_price[n].unwrap_or(previous[n]);
        let totals = &mut self.totals;
        totals.clear();
        totals.resize(n_nations, 0.0);
        for &(n, k) in &index.end_uses_by_market[m] {
            let ni = n.index();
            if sol.consumed[ni] > 0.0 {
                let end_use = &nations.get(index.nations[ni]).expect("nation entity").0;
                totals[ni] += end_use_quantity(&end_use.demands[k], price_at(ni));
            }
        }
        for &(lo, hi, q_max, ni) in user_ramps.iter() {
            if q_max > 0.0 && sol.consumed[ni] > 0.0 {
                totals[ni] += ramp_down(price_at(ni), lo, hi, q_max);
            }
        }
        for &(owner, order, _, buy) in stock_orders {
            let ni = owner.index();
            if buy > 0.0 && sol.consumed[ni] > 0.0 {
                totals[ni] += ramp_down(price_at(ni), order.max_price, order.max_price, buy);
            }
        }
        self.users.clear();
        for &(lo, hi, q_max, ni) in user_ramps.iter() {
            let obtained = if totals[ni] > 0.0 && q_max > 0.0 {
                ramp_down(price_at(ni), lo, hi, q_max) * sol.consumed[ni] / totals[ni]
            } else {
                0.0
            };
            let wanted = if q_max > 0.0 {
                ramp_down(previous[ni], lo, hi, q_max)
            } else {
                0.0
            };
            self.users.push((obtained, wanted));
        }
        self.make_rows(v);
    }

    /// The market's rows of the tick record, from the solution and the tally.
    fn make_rows(&mut self, v: &View<'_, '_, '_>) {
        let Some(Ok(sol)) = &self.solved else {
            return;
        };
        let (mid, m) = (self.mid, self.mid.index());
        let rows = &mut self.rows;
        let previous = &self.previous;
        let price_at = |n: usize| sol.local_price[n].unwrap_or(previous[n]);

        // Flows: domestic first, then trade, in arc order.
        rows.flows.clear();
        rows.dues.clear();
        for (n, &q) in sol.domestic.iter().enumerate() {
            if q > 0.0 {
                rows.flows.push(FlowRow {
                    market: mid,
                    from: NationId(n as u32),
                    to: NationId(n as u32),
                    quantity_t: q,
                    landed_usd_per_t: sol.supply_price[n],
                    value_usd: q * sol.supply_price[n],
                    tariff_usd: 0.0,
                    levy_usd: 0.0,
                });
            }
        }
        for (k, a) in self.solver.arcs().iter().enumerate() {
            if sol.flow[k] > 0.0 {
                rows.flows.push(FlowRow {
                    market: mid,
                    from: NationId(a.from as u32),
                    to: NationId(a.to as u32),
                    quantity_t: sol.flow[k],
                    landed_usd_per_t: sol.landed[k],
                    value_usd: sol.flow[k] * (sol.supply_price[a.from] + a.transport_cost),
                    tariff_usd: sol.tariff_paid[k],
                    levy_usd: sol.levy_paid[k],
                });
                let due = sol.tariff_paid[k] + sol.levy_paid[k];
                // Most routes are free trade: adding their zero would change nothing.
                if due != 0.0 {
                    rows.dues.push((a.to, due));
                }
            }
        }

        rows.deliveries.clear();
        let mut released = self.shares[self.releases_at..self.stocks_at].iter();
        for (d, &q) in self.deliveries.iter().zip(&self.delivered) {
            let resold = if q > 0.0 {
                released.next().map_or(0.0, |s| s.stock)
            } else {
                0.0
            };
            rows.deliveries.push(DeliveryRow {
                agreement: d.agreement,
                market: mid,
                seller: d.seller,
                buyer: d.buyer,
                planned_t: d.t,
                delivered_t: q,
                price_usd_per_t: d.price_usd_per_t,
                resold_usd: resold * sol.supply_price[d.buyer.index()],
                resold_t: resold,
                penalty_usd: d.penalty_usd,
            });
        }

        rows.production.clear();
        for (&f, o) in v.index.firms_by_market[m].iter().zip(&self.outcomes) {
            rows.production.push(ProductionRow {
                firm: f,
                market: mid,
                nation: o.nation,
                capacity_t: o.capacity_t,
                input_limited_capacity_t: o.tick.input_limited_capacity_t,
                produced_t: o.tick.produced_t,
                sold_from_stock_t: o.tick.sold_from_stock_t,
            });
        }

        // Who consumed what: each nation's purchases shared among its consumers.
        rows.consumption.clear();
        rows.end_uses.clear();
        for &(n, k) in &v.index.end_uses_by_market[m] {
            let ni = n.index();
            let end_use = &v.nations.get(v.index.nations[ni]).expect("nation entity").0;
            let d = &end_use.demands[k];
            let obtained = if self.totals[ni] > 0.0 {
                end_use_quantity(d, price_at(ni)) * sol.consumed[ni] / self.totals[ni]
            } else {
                0.0
            };
            rows.end_uses.push(obtained);
            rows.consumption.push(ConsumptionRow {
                market: mid,
                nation: n,
                consumer: Consumer::EndUse {
                    nation: n,
                    index: k,
                },
                wanted_t: end_use_quantity(d, previous[ni]),
                obtained_t: obtained,
            });
        }
        for (&(g, _, _), (&(obtained, wanted), &(_, _, _, ni))) in v.index.users_by_market[m]
            .iter()
            .zip(self.users.iter().zip(&self.user_ramps))
        {
            if wanted > 0.0 || obtained > 0.0 {
                rows.consumption.push(ConsumptionRow {
                    market: mid,
                    nation: NationId(ni as u32),
                    consumer: Consumer::Firm(g),
                    wanted_t: wanted,
                    obtained_t: obtained,
                });
            }
        }
    }
}

/// From this many nations on, markets list only the routes policies touch and leave
/// plain free trade to the regional rule; below it, listing every route is cheaper
/// than the rule's bookkeeping (10 nations: 20% faster ticks listed; 50 nations: 1.4x
/// faster by rule). The equilibrium is the same either way.
const ROUTES_FROM_NATIONS: usize = 24;

/// Below this many nations a market solves faster than rayon wakes a thread, so
/// batches are solved in parallel only in larger worlds (the result is the same).
const PARALLEL_FROM_NATIONS: usize = 24;

/// One firm's part of its nation's sales in a market.
#[derive(Debug, Clone, Copy)]
struct Share {
    nation: usize,
    /// What its own curves offer at the nation's supply price: from production and stock.
    want_made: f64,
    want_stock: f64,
    /// What it can sell at most: input-limited capacity and stock held.
    cap_made: f64,
    cap_stock: f64,
    /// The split decided.
    made: f64,
    stock: f64,
}

/// Split each nation's sales among its firms so that the parts add up exactly to what
/// the solver says the nation sold. Shares follow each firm's curve at the supply price
/// (stock first, as it is offered at the lowest cost); the solver's curves and ours may
/// differ by rounding inside a step, so whatever the caps leave over is spread over the
/// firms with room left, in proportion to that room.
fn split_sales(sold: &[f64], shares: &mut [Share]) {
    let mut offered = vec![0.0; sold.len()];
    for s in shares.iter() {
        offered[s.nation] += s.want_made + s.want_stock;
    }
    let mut placed = vec![0.0; sold.len()];
    for s in shares.iter_mut() {
        let scale = if offered[s.nation] > 0.0 {
            sold[s.nation] / offered[s.nation]
        } else {
            0.0
        };
        s.stock = (s.want_stock * scale).min(s.cap_stock);
        s.made = (s.want_made * scale).min(s.cap_made);
        placed[s.nation] += s.made + s.stock;
    }
    let mut room = vec![0.0; sold.len()];
    for s in shares.iter() {
        room[s.nation] += (s.cap_stock - s.stock) + (s.cap_made - s.made);
    }
    for s in shares.iter_mut() {
        let left = sold[s.nation] - placed[s.nation];
        if left > 0.0 && room[s.nation] > 0.0 {
            let extra = left * ((s.cap_stock - s.stock) + (s.cap_made - s.made)) / room[s.nation];
            let to_stock = extra.min(s.cap_stock - s.stock);
            s.stock += to_stock;
            s.made += extra - to_stock;
        }
    }
}

/// Input stock left after production below this share of what was held counts as
/// used up (well inside the accounting tolerance of 1e-7).
const INPUT_DUST_REL: f64 = 1e-9;

/// Supply of a ramp from `lo` to `hi` (a step when they meet) at price `p`, on the
/// interval the clearing curve really used, so firms' shares add up to the nation's.
fn ramp_up(p: f64, lo: f64, hi: f64, q: f64) -> f64 {
    let (lo, hi) = clearing::effective_ramp(lo, hi);
    q * ((p - lo) / (hi - lo)).clamp(0.0, 1.0)
}

/// Demand of a ramp falling from `q` at `lo` to 0 at `hi` (a step when they meet),
/// on the interval the clearing curve really used.
fn ramp_down(p: f64, lo: f64, hi: f64, q: f64) -> f64 {
    let (lo, hi) = clearing::effective_ramp(lo, hi);
    q * ((hi - p) / (hi - lo)).clamp(0.0, 1.0)
}

fn end_use_quantity(d: &EndUseState, p: f64) -> f64 {
    let q0 = d.def.reference_quantity_t_per_tick * d.scale();
    let (p0, e) = (d.def.reference_price_usd_per_t, d.def.elasticity);
    match d.def.form {
        DemandForm::Linear => (q0 * (1.0 + e) - e * q0 / p0 * p).max(0.0),
        DemandForm::Isoelastic => q0 * (p.max(p0 * 1e-6) / p0).powf(-e),
    }
}

/// Clear every market of the tick, upstream stages first.
#[allow(clippy::too_many_arguments)]
pub fn clear_markets(
    def: Res<WorldDef>,
    clock: Res<Clock>,
    policies: Res<Policies>,
    index: Res<Index>,
    costs: Res<TradeCostTable>,
    mut scratch: ResMut<ClearingScratch>,
    mut record: ResMut<TickRecord>,
    mut fault: ResMut<Fault>,
    orders: Res<StockpileOrders>,
    enforcement: Res<Enforcement>,
    mut markets: Query<&mut MarketState>,
    mut firms: Firms,
    mut nations: Nations,
    mut stockpiles: Query<&'static mut Stockpile>,
) {
    if fault.0.is_some() {
        return;
    }
    let world = &def.0;
    let scratch = &mut *scratch;
    for (m, &e) in index.markets.iter().enumerate() {
        let state = markets.get(e).expect("market entity");
        scratch.price_now[m].copy_from_slice(&state.prices.previous);
        scratch.expected[m].copy_from_slice(&state.prices.expected);
    }
    scratch.applied.fill(false);
    // Level by level (all first stages, then their users, ...), in batches of
    // markets whose set-up does not read what another's write-back changes: set up
    // each, solve all (in parallel in large worlds), write back in id order.
    let levels = std::mem::take(&mut scratch.levels);
    let parallel = world.nations.len() >= PARALLEL_FROM_NATIONS;
    let mut failed = None;
    'levels: for level in &levels {
        let mut rest = &level[..];
        while !rest.is_empty() {
            let size = batch_size(rest, &scratch.co_input, &orders);
            let (batch, later) = rest.split_at(size);
            rest = later;
            let mut jobs: Vec<Job> = batch
                .iter()
                .map(|&mid| take_job(mid, &index, &enforcement, scratch, &mut markets))
                .collect();
            let view = View {
                world,
                tick: clock.tick,
                policies: &policies,
                index: &index,
                costs: &costs,
                orders: &orders,
                enforcement: &enforcement,
                firms: &firms,
                nations: &nations,
                stockpiles: &stockpiles,
                price_now: &scratch.price_now,
                expected: &scratch.expected,
            };
            let run = |job: &mut Job| {
                job.set_up(&view);
                job.solve();
                job.tally(&view);
            };
            if parallel && jobs.len() > 1 {
                jobs.par_iter_mut().for_each(run);
            } else {
                jobs.iter_mut().for_each(run);
            }
            for job in jobs {
                if let Err(err) = apply(
                    world,
                    clock.tick,
                    job,
                    &index,
                    scratch,
                    &mut record,
                    &mut markets,
                    &mut firms,
                    &mut nations,
                    &mut stockpiles,
                ) {
                    failed = Some(err);
                    break 'levels;
                }
            }
        }
    }
    scratch.levels = levels;
    store_firms(&index, scratch, &mut firms);
    if let Some(err) = failed {
        fault.0 = Some(err);
    }
}

/// How many of `level`'s first markets form a batch: none may read, while being set
/// up, what an earlier one in the batch writes back. Markets of one level never
/// feed each other, but two that a downstream firm both buys from read each
/// other's price for it (`co_input`), and a nation's stockpile orders in two markets
/// share its budget.
fn batch_size(level: &[MarketId], co_input: &[Vec<bool>], orders: &StockpileOrders) -> usize {
    let owners = |m: MarketId| {
        orders
            .0
            .range((m, NationId(0))..=(m, NationId(u32::MAX)))
            .map(|(&(_, owner), _)| owner)
    };
    for k in 1..level.len() {
        let m = level[k];
        let clash = level[..k].iter().any(|&b| {
            co_input[b.index()][m.index()]
                || (!orders.0.is_empty() && owners(b).any(|o| owners(m).any(|p| p == o)))
        });
        if clash {
            return k;
        }
    }
    level.len()
}

/// Take market `mid`'s problem, solver, buffers and warm start out of `scratch` and
/// its state, for a [`Job`] that can be set up and solved away from the world.
fn take_job<'e>(
    mid: MarketId,
    index: &Index,
    enforcement: &'e Enforcement,
    scratch: &mut ClearingScratch,
    markets: &mut Query<&mut MarketState>,
) -> Job<'e> {
    let m = mid.index();
    let Sides {
        committed,
        user_ramps,
        stock_orders,
        pairs,
        shares,
        totals,
        users,
        offers,
        outcomes,
        rows,
    } = std::mem::take(&mut scratch.sides[m]);
    let mut state = markets.get_mut(index.markets[m]).expect("market entity");
    Job {
        mid,
        problem: std::mem::take(&mut scratch.problems[m]),
        solver: std::mem::take(&mut scratch.solvers[m]),
        // Warm start from last tick: the solver carries flows over by pair.
        warm: state.warm.take(),
        warm_pairs: std::mem::take(&mut state.warm_arcs),
        // Contracts first: what is delivered under agreements leaves the sellers'
        // firms before the spot market sees them.
        deliveries: enforcement.deliveries_in(mid).collect(),
        delivered: Vec::new(),
        committed,
        user_ramps,
        stock_orders,
        pairs,
        solved: None,
        previous: state.prices.previous.clone(),
        shares,
        releases_at: 0,
        stocks_at: 0,
        totals,
        users,
        offers,
        outcomes,
        rows,
    }
}

impl<'e> Job<'e> {
    /// Build the market's problem from the world as it stands before the batch's
    /// write-back: curves of firms, end uses, downstream users and stockpiles, then
    /// the arcs with their policies.
    fn set_up(&mut self, v: &View<'_, '_, '_>) {
        let View {
            world,
            tick,
            policies,
            index,
            costs,
            orders,
            enforcement,
            firms,
            nations,
            stockpiles,
            price_now,
            expected,
        } = *v;
        let mid = self.mid;
        let m = mid.index();
        let mdef = &world.markets[m];
        let n_nations = world.nations.len();
        let commodity = mdef.commodity.index();
        let market = &mut self.problem;
        let (committed, user_ramps, stock_orders, pairs) = (
            &mut self.committed,
            &mut self.user_ramps,
            &mut self.stock_orders,
            &mut self.pairs,
        );
        committed.clear();
        user_ramps.clear();
        stock_orders.clear();

        for node in market.nodes.iter_mut() {
            node.supply.clear();
            node.demand.clear();
            node.export_cap = f64::INFINITY;
        }

        // Contracts first: what is delivered under agreements leaves the sellers' firms
        // before the spot market sees them and reaches the buyers as supply at any price.
        let deliveries = &self.deliveries;
        committed.resize(index.firms_by_market[m].len(), (0.0, 0.0));
        self.delivered = if deliveries.is_empty() {
            Vec::new()
        } else {
            predeliver(
                mdef, mid, tick, policies, index, deliveries, committed, firms,
            )
        };
        for (d, &q) in deliveries.iter().zip(&self.delivered) {
            if q > 0.0 {
                market.nodes[d.buyer.index()].supply.add_ramp(0.0, 0.0, q);
            }
        }

        // Supply: this market's firms, less what they owe under contracts. Each firm
        // is read once: its offer and what the write-back needs of it are kept for
        // the tally.
        self.offers.clear();
        self.outcomes.clear();
        for (pos, &f) in index.firms_by_market[m].iter().enumerate() {
            let (firm, plant, stocks, _) = firms.get(index.firms[f.index()]).expect("firm entity");
            let (cm, cs) = committed[pos];
            let n = firm.nation.index();
            let (input_cost, cap, cap_eff) =
                capacity_and_input_cost(mdef, price_now, n, plant, stocks);
            let (lo, hi) = if cap_eff - cm > 0.0 {
                let (lo, hi) = remaining_ramp(plant, cap, cap_eff, cm);
                (lo + input_cost, hi + input_cost)
            } else {
                (0.0, 0.0)
            };
            let offer = Offer {
                nation: n,
                made_lo: lo,
                made_hi: hi,
                made_t: cap_eff - cm,
                stock_price: plant.mc_at_zero_usd_per_t,
                stock_t: stocks.output_t - cs,
            };
            let node = &mut market.nodes[n];
            if offer.made_t > 0.0 {
                node.supply
                    .add_ramp(offer.made_lo, offer.made_hi, offer.made_t);
            }
            if offer.stock_t > 0.0 {
                node.supply
                    .add_ramp(offer.stock_price, offer.stock_price, offer.stock_t);
            }
            self.offers.push(offer);
            self.outcomes.push(FirmOutcome {
                stocks: stocks.clone(),
                tick: FirmTick::default(),
                nation: firm.nation,
                capacity_t: cap,
            });
        }

        // Demand: end uses, then downstream firms' derived demand for this input.
        for &(n, k) in &index.end_uses_by_market[m] {
            let (end_use, _) = nations
                .get(index.nations[n.index()])
                .expect("nation entity");
            let d = &end_use.demands[k];
            let q0 = d.def.reference_quantity_t_per_tick * d.scale();
            let (p0, e) = (d.def.reference_price_usd_per_t, d.def.elasticity);
            let demand = &mut market.nodes[n.index()].demand;
            match d.def.form {
                DemandForm::Linear => demand.add_linear(q0 * (1.0 + e), e * q0 / p0),
                DemandForm::Isoelastic => demand.add_isoelastic(q0, p0, e),
            }
        }
        for &(g, slot, r) in &index.users_by_market[m] {
            let (firm, plant, stocks, _) = firms.get(index.firms[g.index()]).expect("firm entity");
            let n = firm.nation.index();
            let gdef = &world.markets[firm.market.index()];
            let expected_output_price = expected[firm.market.index()][n];
            let other_inputs: f64 = gdef
                .inputs
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != slot)
                .map(|(_, &(im, rk))| rk * price_now[im.index()][n])
                .sum();
            let margin = expected_output_price - other_inputs;
            let (hi, lo) = (
                (margin - plant.mc_at_zero_usd_per_t) / r,
                (margin - plant.mc_at_capacity_usd_per_t) / r,
            );
            let full = r * plant.capacity_t_per_tick + stocks.reserve_t[slot];
            let held = stocks.inputs_t[slot];
            let ramp = if hi > 0.0 && full > held && full > 0.0 {
                let (lo, q) = (lo + (held / full) * (hi - lo), full - held);
                // Prices are never negative: keep the part of the ramp above zero.
                if lo < 0.0 {
                    (0.0, hi, q * hi / (hi - lo))
                } else {
                    (lo, hi, q)
                }
            } else {
                (0.0, 0.0, 0.0)
            };
            if ramp.2 > 0.0 {
                market.nodes[n].demand.add_ramp(ramp.0, ramp.1, ramp.2);
            }
            user_ramps.push((ramp.0, ramp.1, ramp.2, n));
        }
        // Stockpiles: releases are supply at the owner's reserve price, buys are demand up
        // to the owner's price limit and what its budget pays for.
        for (&(om, owner), order) in orders
            .0
            .range((mid, NationId(0))..=(mid, NationId(u32::MAX)))
        {
            debug_assert_eq!(om, mid);
            let holdings = index
                .stockpiles
                .get(&(mid, owner))
                .and_then(|&e| stockpiles.get(e).ok())
                .map_or(0.0, |s| s.holdings_t);
            let budget = nations
                .get(index.nations[owner.index()])
                .expect("nation entity")
                .1
                .budget_usd;
            let sell = order.release_t.min(holdings).max(0.0);
            let buy = if order.max_price > 0.0 {
                order.buy_t.min(budget.max(0.0) / order.max_price).max(0.0)
            } else {
                0.0
            };
            let node = &mut market.nodes[owner.index()];
            if sell > 0.0 {
                node.supply.add_ramp(order.min_price, order.min_price, sell);
            }
            if buy > 0.0 {
                node.demand.add_ramp(order.max_price, order.max_price, buy);
            }
            stock_orders.push((owner, *order, sell, buy));
        }

        // Arcs. In large worlds only the pairs that policies, agreements or odd trade
        // costs touch are listed (a ban as a closed arc); every other pair is a free-trade
        // route the solver opens by the commodity's rule when it pays. In small ones every
        // pair from a supplier to a buyer is listed.
        pairs.clear();
        let by_rule = n_nations >= ROUTES_FROM_NATIONS;
        if by_rule {
            pairs.extend(costs.exceptions[commodity].iter().map(|&(j, i, _)| (j, i)));
            let (touched, floored) = policies.touched(mid);
            pairs.extend(touched.map(|(j, i)| (j.index(), i.index())));
            let everyone_into = |pairs: &mut Vec<(usize, usize)>, i: usize| {
                pairs.extend((0..n_nations).filter(|&j| j != i).map(|j| (j, i)));
            };
            for i in floored {
                everyone_into(pairs, i.index());
            }
            for club in enforcement.clubs.iter().filter(|c| c.market == mid) {
                for &i in &club.members {
                    everyone_into(pairs, i.index());
                }
            }
            pairs.sort_unstable();
            pairs.dedup();
        } else {
            let nodes = &market.nodes;
            for j in (0..n_nations).filter(|&j| !nodes[j].supply.is_empty()) {
                pairs.extend(
                    (0..n_nations)
                        .filter(|&i| i != j && !nodes[i].demand.is_empty())
                        .map(|i| (j, i)),
                );
            }
        }
        market.arcs.clear();
        for &(j, i) in pairs.iter() {
            let (nj, ni) = (NationId(j as u32), NationId(i as u32));
            // Most exporters have no licence at all: skip the look-up for them.
            let quota_t = if !policies.has_licences(mid, nj) {
                f64::INFINITY
            } else {
                match policies.arc_status(mid, nj, ni, tick) {
                    ArcStatus::Open { quota_t } => quota_t,
                    ArcStatus::Closed => 0.0,
                }
            };
            let (mut ad_valorem, mut floor) =
                (policies.tariff(mid, ni, nj), policies.floor(mid, ni));
            if !enforcement.clubs.is_empty() {
                (ad_valorem, floor) = enforcement.arc(mid, ni, nj, ad_valorem, floor);
            }
            market.arcs.push(clearing::Arc {
                from: j,
                to: i,
                transport_cost: costs.cost(commodity, j, i),
                ad_valorem,
                floor,
                quota: quota_t,
            });
        }
        if by_rule && market.routes.is_none() {
            // Trade costs are fixed for the run: the rule is set once per market.
            market.routes = Some(costs.routes[commodity].clone());
        }
    }
}

/// Write a solved and tallied market back, in id order within its batch: its prices,
/// its rows (made by the tally), tariff revenue, end uses' consumption, users' inputs
/// and stockpiles. Its own firms are stored later, by [`store_firms`].
#[allow(clippy::too_many_arguments)]
fn apply(
    world: &chokepoint_world::World,
    tick: u64,
    job: Job<'_>,
    index: &Index,
    scratch: &mut ClearingScratch,
    record: &mut TickRecord,
    markets: &mut Query<&mut MarketState>,
    firms: &mut Query<(&Firm, &Plant, &mut Stocks, &mut FirmTick)>,
    nations: &mut Query<(&mut EndUse, &mut Treasury)>,
    stockpiles: &mut Query<&mut Stockpile>,
) -> Result<(), EngineError> {
    let Job {
        mid,
        problem,
        solver,
        warm_pairs,
        committed,
        user_ramps,
        stock_orders,
        pairs,
        solved,
        previous,
        shares: firm_share,
        stocks_at,
        totals,
        users,
        offers,
        outcomes,
        rows,
        ..
    } = job;
    let m = mid.index();
    let ClearingScratch {
        solvers,
        problems,
        sides,
        price_now,
        applied: scratch_applied,
        ..
    } = scratch;
    problems[m] = problem;
    solvers[m] = solver;
    let mut state = markets.get_mut(index.markets[m]).expect("market entity");
    let sol = solved
        .expect("every job is solved before it is applied")
        .map_err(|source| EngineError::Clearing {
            tick,
            market: world.market_name(mid),
            message: source.to_string(),
        })?;
    record.clearing.push(ClearingRow {
        market: mid,
        sweeps: sol.sweeps,
        converged: sol.converged,
        residual: sol.residual,
    });
    if !sol.converged {
        tracing::warn!(tick, market = %world.market_name(mid), residual = sol.residual, sweeps = sol.sweeps, "market did not fully converge");
    }

    // Prices.
    state.prices.local.copy_from_slice(&sol.local_price);
    state.prices.supply.copy_from_slice(&sol.supply_price);
    for (n, p) in sol.local_price.iter().enumerate() {
        if let Some(p) = *p {
            price_now[m][n] = p;
            state.prices.previous[n] = p;
            state.prices.expected[n] += world.expectation_weight * (p - state.prices.expected[n]);
            record.prices.push(PriceRow {
                market: mid,
                nation: NationId(n as u32),
                price_usd_per_t: p,
            });
        }
    }

    // Rows made by the tally; tariff and levy revenue in flow order.
    record.flows.extend_from_slice(&rows.flows);
    for &(to, due) in &rows.dues {
        let (_, mut treasury) = nations.get_mut(index.nations[to]).expect("nation entity");
        treasury.revenue_usd += due;
    }
    record.deliveries.extend_from_slice(&rows.deliveries);
    let stock_sold: Vec<f64> = firm_share[stocks_at..].iter().map(|s| s.stock).collect();
    // The market's own firms are stored after the last market (`store_firms`).
    scratch_applied[m] = true;
    record.production.extend_from_slice(&rows.production);
    for (&(n, k), &obtained) in index.end_uses_by_market[m].iter().zip(&rows.end_uses) {
        let (mut end_use, _) = nations
            .get_mut(index.nations[n.index()])
            .expect("nation entity");
        end_use.demands[k].consumed_t = obtained;
    }
    for (&(g, slot, _), &(obtained, _)) in index.users_by_market[m].iter().zip(&users) {
        let (_, _, mut stocks, _) = firms.get_mut(index.firms[g.index()]).expect("firm entity");
        stocks.inputs_t[slot] += obtained;
    }
    record.consumption.extend_from_slice(&rows.consumption);

    // Stockpiles: holdings and money move with what they bought and sold.
    for (k, &(owner, order, _, buy)) in stock_orders.iter().enumerate() {
        let ni = owner.index();
        let p = sol.local_price[ni].unwrap_or(previous[ni]);
        let bought = if totals[ni] > 0.0 && buy > 0.0 {
            ramp_down(p, order.max_price, order.max_price, buy) * sol.consumed[ni] / totals[ni]
        } else {
            0.0
        };
        let sold = stock_sold[k];
        let (spent, earned) = (bought * p, sold * sol.supply_price[ni]);
        let e = *index
            .stockpiles
            .get(&(mid, owner))
            .expect("stockpile entity made with its first order");
        let mut pile = stockpiles.get_mut(e).expect("stockpile entity");
        pile.holdings_t += bought - sold;
        let (_, mut treasury) = nations.get_mut(index.nations[ni]).expect("nation entity");
        treasury.budget_usd += earned - spent;
        if buy > 0.0 {
            record.consumption.push(ConsumptionRow {
                market: mid,
                nation: owner,
                consumer: Consumer::Stockpile(owner),
                wanted_t: ramp_down(previous[ni], order.max_price, order.max_price, buy),
                obtained_t: bought,
            });
        }
        record.stockpiles.push(StockpileRow {
            market: mid,
            owner,
            bought_t: bought,
            sold_t: sold,
            holdings_t: pile.holdings_t,
            spent_usd: spent,
            earned_usd: earned,
        });
    }

    state.warm_arcs = warm_pairs;
    state.warm = Some(sol);
    sides[m] = Sides {
        committed,
        user_ramps,
        stock_orders,
        pairs,
        shares: firm_share,
        totals,
        users,
        offers,
        outcomes,
        rows,
    };
    Ok(())
}

/// Store every firm's state after the tick: stocks and what it did, from its market's
/// tally, in one walk in storage order (no look-up per firm). Deferred to the end of
/// clearing because nothing reads a firm's own state after its market's write-back
/// within the tick: later levels read their own firms and their users, which are
/// further downstream. A firm whose market was not written back (the tick failed
/// before it) keeps its stocks and shows that it did nothing.
fn store_firms(index: &Index, scratch: &mut ClearingScratch, firms: &mut Firms<'_, '_>) {
    // Firms are only ever appended to their market's list, so places change only
    // when firms were added.
    let pos = &mut scratch.firm_pos;
    if pos.len() != index.firms.len() {
        pos.clear();
        pos.resize(index.firms.len(), u32::MAX);
        for list in &index.firms_by_market {
            for (k, &f) in list.iter().enumerate() {
                pos[f.index()] = k as u32;
            }
        }
    }
    for (firm, _, mut stocks, mut t) in firms.iter_mut() {
        let m = firm.market.index();
        let outcome = match pos.get(firm.id.index()) {
            Some(&k) if scratch.applied[m] => scratch.sides[m].outcomes.get(k as usize),
            _ => None,
        };
        match outcome {
            Some(o) => {
                stocks.clone_from(&o.stocks);
                t.clone_from(&o.tick);
            }
            None => *t = FirmTick::default(),
        }
    }
}

/// A firm's (input cost per tonne of output at its nation's prices now, capacity,
/// capacity the inputs it may use allow): what its supply curve is built from, in
/// set-up and again when its sales are shared out.
fn capacity_and_input_cost(
    mdef: &chokepoint_world::MarketDef,
    price_now: &[Vec<f64>],
    n: usize,
    plant: &Plant,
    stocks: &Stocks,
) -> (f64, f64, f64) {
    let input_cost: f64 = mdef
        .inputs
        .iter()
        .map(|&(im, r)| r * price_now[im.index()][n])
        .sum();
    let cap = plant.capacity_t_per_tick;
    let cap_eff = mdef
        .inputs
        .iter()
        .enumerate()
        .fold(cap, |c, (k, &(_, r))| c.min(stocks.usable_input(k) / r));
    (input_cost, cap, cap_eff)
}

/// The cost ramp of a plant's capacity left after `committed` tonnes went to contracts:
/// contracts take the cheapest part, so what is left starts higher up the line.
fn remaining_ramp(plant: &Plant, cap: f64, cap_eff: f64, committed: f64) -> (f64, f64) {
    let (a, b) = (plant.mc_at_zero_usd_per_t, plant.mc_at_capacity_usd_per_t);
    let top = a + (b - a) * cap_eff / cap;
    let lo = if cap_eff > 0.0 {
        a + (top - a) * committed / cap_eff
    } else {
        a
    };
    (lo, top)
}

/// Average contract price of what a nation's firms delivered this tick.
fn contract_price(deliveries: &[&Delivery], delivered: &[f64], seller: NationId) -> f64 {
    let (mut q, mut v) = (0.0, 0.0);
    for (d, &x) in deliveries.iter().zip(delivered) {
        if d.seller == seller {
            q += x;
            v += x * d.price_usd_per_t;
        }
    }
    if q > 0.0 { v / q } else { 0.0 }
}

/// Commit sellers' stocks and capacity to this market's contracts, in agreement order:
/// stock first, then production, shared over the seller's firms in proportion to what
/// each has left. A contract is delivered only on an open arc (an export ban blocks it,
/// a quota caps it), and at most what the seller's firms can make: the rest is a
/// shortfall, settled as a breach. Returns what each delivery moves.
#[allow(clippy::too_many_arguments)]
fn predeliver(
    mdef: &chokepoint_world::MarketDef,
    mid: MarketId,
    tick: u64,
    policies: &Policies,
    index: &Index,
    deliveries: &[&Delivery],
    committed: &mut [(f64, f64)],
    firms: &Query<(&Firm, &Plant, &mut Stocks, &mut FirmTick)>,
) -> Vec<f64> {
    let m = mid.index();
    let mut out = Vec::with_capacity(deliveries.len());
    for d in deliveries {
        let limit = match policies.arc_status(mid, d.seller, d.buyer, tick) {
            ArcStatus::Closed => 0.0,
            ArcStatus::Open { quota_t } => quota_t,
        };
        let want = d.t.min(limit);
        let mut stock_left = 0.0;
        let mut made_left = 0.0;
        let mut room: Vec<(usize, f64, f64)> = Vec::new();
        for (pos, &f) in index.firms_by_market[m].iter().enumerate() {
            let (firm, plant, stocks, _) = firms.get(index.firms[f.index()]).expect("firm entity");
            if firm.nation != d.seller {
                continue;
            }
            let cap_eff = mdef
                .inputs
                .iter()
                .enumerate()
                .fold(plant.capacity_t_per_tick, |c, (k, &(_, r))| {
                    c.min(stocks.usable_input(k) / r)
                })
                .max(0.0);
            let (cm, cs) = committed[pos];
            let s = (stocks.output_t - cs).max(0.0);
            let mk = (cap_eff - cm).max(0.0);
            stock_left += s;
            made_left += mk;
            room.push((pos, s, mk));
        }
        let q = want.min(stock_left + made_left).max(0.0);
        let from_stock = q.min(stock_left);
        let from_made = q - from_stock;
        for &(pos, s, mk) in &room {
            if stock_left > 0.0 {
                committed[pos].1 += from_stock * s / stock_left;
            }
            if made_left > 0.0 {
                committed[pos].0 += from_made * mk / made_left;
            }
        }
        out.push(q);
    }
    out
}
