//! Building each nation's observation from the engine's state, into buffers the host
//! owns and reuses: the plugin borrows them for one `decide` call.

use chokepoint_abi as abi;
use chokepoint_engine::components::{Firm, Plant, Stockpile, Stocks, Treasury};
use chokepoint_engine::{Index, MarketState, Pipeline, Policies, Simulation};
use chokepoint_world::{Licence, NationId};

/// Text the observation points into, fixed for the run.
pub struct Names {
    nations: Vec<(String, String)>,
    markets: Vec<(String, String, f64, u32)>,
}

impl Names {
    pub fn new(world: &chokepoint_world::World) -> Self {
        Names {
            nations: world
                .nations
                .iter()
                .map(|n| {
                    (
                        n.name.clone(),
                        world.regions.get(n.region).cloned().unwrap_or_default(),
                    )
                })
                .collect(),
            markets: world
                .markets
                .iter()
                .map(|m| {
                    (
                        world.commodities[m.commodity.index()].name.clone(),
                        m.stage.clone(),
                        m.reference_price_usd_per_t,
                        m.build_lag_ticks,
                    )
                })
                .collect(),
        }
    }
}

/// Public tables shared by every nation's observation, rebuilt once per tick.
#[derive(Default)]
pub struct Shared {
    nations: Vec<abi::NationInfo>,
    markets: Vec<abi::MarketInfo>,
    prices: Vec<abi::PriceObs>,
    flows: Vec<abi::FlowObs>,
    production: Vec<abi::ProductionObs>,
    shortages: Vec<abi::ShortageObs>,
    tariffs: Vec<abi::TariffObs>,
    licences: Vec<abi::LicenceObs>,
    floors: Vec<abi::FloorObs>,
    pipeline: Vec<abi::PipelineObs>,
    // Per nation, rebuilt for each agent.
    firms: Vec<abi::FirmObs>,
    stockpiles: Vec<abi::StockpileObs>,
}

impl Shared {
    pub fn refresh(&mut self, names: &Names, sim: &Simulation) {
        let ecs = sim.ecs();
        let world = sim.world_def();
        let index = ecs.resource::<Index>();
        self.nations.clear();
        self.nations
            .extend(names.nations.iter().map(|(n, r)| abi::NationInfo {
                name: abi::View::of(n.as_bytes()),
                region: abi::View::of(r.as_bytes()),
            }));
        self.markets.clear();
        self.markets
            .extend(names.markets.iter().map(|(c, s, p, lag)| abi::MarketInfo {
                commodity: abi::View::of(c.as_bytes()),
                stage: abi::View::of(s.as_bytes()),
                reference_price_usd_per_t: *p,
                build_lag_ticks: *lag,
            }));

        // Last known price in every market and nation, sorted by (market, nation).
        self.prices.clear();
        for (m, &e) in index.markets.iter().enumerate() {
            let state = ecs.get::<MarketState>(e).expect("market entity");
            for (n, &p) in state.prices.previous.iter().enumerate() {
                self.prices.push(abi::PriceObs {
                    market: m as u32,
                    nation: n as u32,
                    price_usd_per_t: p,
                });
            }
        }

        let rec = sim.record();
        self.flows.clear();
        self.flows.extend(rec.flows.iter().map(|f| abi::FlowObs {
            market: f.market.0,
            from: f.from.0,
            to: f.to.0,
            quantity_t: f.quantity_t,
            landed_usd_per_t: f.landed_usd_per_t,
        }));

        // Production and capacity by (market, nation): capacity from every plant, output
        // from last tick's record.
        let (n_markets, n_nations) = (world.markets.len(), world.nations.len());
        let mut produced = vec![0.0; n_markets * n_nations];
        let mut capacity = vec![0.0; n_markets * n_nations];
        for p in &rec.production {
            produced[p.market.index() * n_nations + p.nation.index()] +=
                p.produced_t + p.sold_from_stock_t;
        }
        for &e in &index.firms {
            if let (Some(f), Some(plant)) = (ecs.get::<Firm>(e), ecs.get::<Plant>(e)) {
                capacity[f.market.index() * n_nations + f.nation.index()] +=
                    plant.capacity_t_per_tick;
            }
        }
        self.production.clear();
        for k in 0..n_markets * n_nations {
            if produced[k] > 0.0 || capacity[k] > 0.0 {
                self.production.push(abi::ProductionObs {
                    market: (k / n_nations) as u32,
                    nation: (k % n_nations) as u32,
                    produced_t: produced[k],
                    capacity_t: capacity[k],
                });
            }
        }
        let mut short = vec![0.0; n_markets * n_nations];
        // A stockpile's unfilled buy order is not a shortage of the nation.
        for c in rec
            .consumption
            .iter()
            .filter(|c| !matches!(c.consumer, chokepoint_engine::Consumer::Stockpile(_)))
        {
            short[c.market.index() * n_nations + c.nation.index()] += c.shortage_t();
        }
        self.shortages.clear();
        for (k, &s) in short.iter().enumerate() {
            if s > 0.0 {
                self.shortages.push(abi::ShortageObs {
                    market: (k / n_nations) as u32,
                    nation: (k % n_nations) as u32,
                    shortage_t: s,
                });
            }
        }

        let policies = ecs.resource::<Policies>();
        self.tariffs.clear();
        self.tariffs
            .extend(policies.tariffs().map(|(m, i, x, rate)| abi::TariffObs {
                market: m.0,
                importer: i.0,
                exporter: x.0,
                rate,
            }));
        self.licences.clear();
        self.licences
            .extend(policies.licences().map(|(&(m, x, d), s)| {
                let (kind, quota_t, delay_ticks) = match s.licence {
                    Licence::Open => (abi::licence::OPEN, 0.0, 0),
                    Licence::Ban => (abi::licence::BAN, 0.0, 0),
                    Licence::Quota { t_per_tick } => (abi::licence::QUOTA, t_per_tick, 0),
                    Licence::Licensed { delay_ticks } => (abi::licence::LICENSED, 0.0, delay_ticks),
                };
                abi::LicenceObs {
                    market: m.0,
                    exporter: x.0,
                    destination: d.0,
                    kind,
                    quota_t,
                    delay_ticks,
                }
            }));
        self.floors.clear();
        self.floors
            .extend(policies.floors().map(|(m, n, f)| abi::FloorObs {
                market: m.0,
                importer: n.0,
                floor_usd_per_t: f,
            }));
        self.pipeline.clear();
        self.pipeline.extend(
            ecs.resource::<Pipeline>()
                .0
                .iter()
                .map(|p| abi::PipelineObs {
                    market: p.market.0,
                    nation: p.host.0,
                    funder: p.funder.0,
                    capacity_t: p.capacity_t_per_tick,
                    arrives_at_tick: p.arrives_at_tick,
                    kind: abi::pipeline::FINANCED,
                    firm: abi::pipeline::NO_FIRM,
                    started_tick: p.arrives_at_tick.saturating_sub(
                        sim.world_def().markets[p.market.index()].build_lag_ticks as u64,
                    ),
                }),
        );
        // Firms' own projects (the engine's investment rule), funded by their nation's
        // firms, and recycling plants financed by a lever.
        let world = sim.world_def();
        self.pipeline.extend(
            ecs.resource::<chokepoint_engine::investment::FirmPipeline>()
                .0
                .iter()
                .map(|p| abi::PipelineObs {
                    market: p.market.0,
                    nation: p.nation.0,
                    funder: p.nation.0,
                    capacity_t: p.capacity_t_per_tick,
                    arrives_at_tick: p.arrives_at_tick,
                    kind: abi::pipeline::FIRM,
                    firm: p.firm.0,
                    started_tick: p.started_tick,
                }),
        );
        self.pipeline.extend(
            ecs.resource::<chokepoint_engine::levers::Levers>()
                .recycling_projects
                .iter()
                .map(|p| abi::PipelineObs {
                    market: world.adaptation.recycling[p.stream].to.0,
                    nation: p.nation.0,
                    funder: p.nation.0,
                    capacity_t: p.capacity_t_per_tick,
                    arrives_at_tick: p.arrives_at_tick,
                    kind: abi::pipeline::RECYCLING,
                    firm: abi::pipeline::NO_FIRM,
                    started_tick: p.started_tick,
                }),
        );
    }

    /// The observation of `me`, borrowing these buffers.
    pub fn observation(&mut self, sim: &Simulation, me: NationId) -> abi::Observation {
        let ecs = sim.ecs();
        let index = ecs.resource::<Index>();
        self.firms.clear();
        for &e in &index.firms {
            if let (Some(f), Some(plant), Some(stocks)) = (
                ecs.get::<Firm>(e),
                ecs.get::<Plant>(e),
                ecs.get::<Stocks>(e),
            ) && f.nation == me
            {
                let produced = sim
                    .record()
                    .production
                    .iter()
                    .find(|p| p.firm == f.id)
                    .map_or(0.0, |p| p.produced_t);
                self.firms.push(abi::FirmObs {
                    firm: f.id.0,
                    market: f.market.0,
                    capacity_t: plant.capacity_t_per_tick,
                    produced_t: produced,
                    stock_t: stocks.output_t,
                });
            }
        }
        let budget = ecs
            .get::<Treasury>(index.nations[me.index()])
            .map_or(0.0, |t| t.budget_usd);
        self.stockpiles.clear();
        for (&(m, owner), &e) in &index.stockpiles {
            if owner == me
                && let Some(s) = ecs.get::<Stockpile>(e)
            {
                self.stockpiles.push(abi::StockpileObs {
                    market: m.0,
                    holdings_t: s.holdings_t,
                    budget_usd: budget,
                });
            }
        }
        abi::Observation {
            tick: sim.tick(),
            ticks_per_year: sim.world_def().ticks_per_year,
            me: me.0,
            budget_usd: budget,
            nations: abi::View::of(&self.nations),
            markets: abi::View::of(&self.markets),
            prices: abi::View::of(&self.prices),
            flows: abi::View::of(&self.flows),
            production: abi::View::of(&self.production),
            shortages: abi::View::of(&self.shortages),
            tariffs: abi::View::of(&self.tariffs),
            licences: abi::View::of(&self.licences),
            floors: abi::View::of(&self.floors),
            firms: abi::View::of(&self.firms),
            stockpiles: abi::View::of(&self.stockpiles),
            pipeline: abi::View::of(&self.pipeline),
        }
    }
}
