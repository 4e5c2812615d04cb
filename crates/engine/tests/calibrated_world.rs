//! The bundled world against its sources: run its first year with the policies in force
//! (no strategies: the scripted world alone) and compare output shares and prices with
//! the figures it was calibrated to (../shared/data/calibration.md, USGS MCS 2026, IEA).
//! Tolerances are the issue's: shares within 5 percentage points, prices within 25%.

use std::path::Path;
use std::sync::Arc;

use chokepoint_engine::Simulation;
use chokepoint_world::World;

fn bundled() -> Arc<World> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../worlds/critical-minerals-2026.toml");
    Arc::new(chokepoint_world::load(&path).unwrap_or_else(|e| panic!("{e}")))
}

/// One year: output by (market, nation) and the output-weighted mean producer price by
/// market, summed over the ticks.
struct Year {
    output: Vec<Vec<f64>>,
    price_sum: Vec<Vec<f64>>,
    price_n: Vec<Vec<f64>>,
}

fn first_year(world: &Arc<World>) -> Year {
    let (m, n) = (world.markets.len(), world.nations.len());
    let mut y = Year {
        output: vec![vec![0.0; n]; m],
        price_sum: vec![vec![0.0; n]; m],
        price_n: vec![vec![0.0; n]; m],
    };
    let mut sim = Simulation::new(world.clone(), 1);
    for _ in 0..world.ticks_per_year {
        let r = sim.step().unwrap_or_else(|e| panic!("{e}"));
        for p in &r.production {
            y.output[p.market.index()][p.nation.index()] += p.produced_t + p.sold_from_stock_t;
        }
        for p in &r.prices {
            y.price_sum[p.market.index()][p.nation.index()] += p.price_usd_per_t;
            y.price_n[p.market.index()][p.nation.index()] += 1.0;
        }
    }
    y
}

fn share(world: &World, y: &Year, commodity: &str, stage: &str, nation: &str) -> f64 {
    let m = world.market_id(commodity, stage).unwrap().index();
    let n = world.nation_id(nation).unwrap().index();
    let total: f64 = y.output[m].iter().sum();
    assert!(total > 0.0, "{commodity}/{stage} produced nothing");
    y.output[m][n] / total
}

fn mean_price(world: &World, y: &Year, commodity: &str, stage: &str, nation: &str) -> f64 {
    let m = world.market_id(commodity, stage).unwrap().index();
    let n = world.nation_id(nation).unwrap().index();
    assert!(
        y.price_n[m][n] > 0.0,
        "no price for {commodity}/{stage} in {nation}"
    );
    y.price_sum[m][n] / y.price_n[m][n]
}

#[test]
fn the_first_year_reproduces_sourced_production_and_refining_shares() {
    let world = bundled();
    let y = first_year(&world);
    // (commodity, stage, nation, sourced share, source)
    let sourced = [
        (
            "rare-earths",
            "mined",
            "China",
            270.0 / 390.0,
            "USGS MCS 2026: 270 of 390 kt REO",
        ),
        (
            "rare-earths",
            "mined",
            "United States",
            51.0 / 390.0,
            "USGS MCS 2026: 51 of 390 kt",
        ),
        (
            "rare-earths",
            "mined",
            "Australia",
            29.0 / 390.0,
            "USGS MCS 2026: 29 of 390 kt",
        ),
        (
            "rare-earths",
            "oxide",
            "China",
            0.91,
            "IEA Oct 2025: 91% of separation",
        ),
        (
            "rare-earths",
            "magnet",
            "China",
            0.94,
            "IEA Oct 2025: 94% of magnet manufacturing",
        ),
        (
            "gallium",
            "primary",
            "China",
            0.99,
            "USGS MCS 2026: ~99% of primary",
        ),
        (
            "gallium",
            "refined",
            "China",
            0.50,
            "CSIS 2025: ~50% of high-purity",
        ),
        (
            "germanium",
            "refined",
            "China",
            180.0 / 210.0,
            "USGS OFR 2024-1057: 180 of 210 t (2022)",
        ),
        (
            "graphite",
            "mined",
            "China",
            1400.0 / 1800.0,
            "USGS MCS 2026: 1.4 of 1.8 Mt",
        ),
        (
            "graphite",
            "anode",
            "China",
            0.90,
            "IEA WEO 2024: 90% of battery-grade",
        ),
        (
            "lithium",
            "mined",
            "Australia",
            92.0 / 290.0,
            "USGS MCS 2026: 92 of 290 kt Li",
        ),
        (
            "lithium",
            "mined",
            "Chile",
            56.0 / 290.0,
            "USGS MCS 2026: 56 of 290 kt",
        ),
        (
            "lithium",
            "mined",
            "China",
            62.0 / 290.0,
            "USGS MCS 2026: 62 of 290 kt",
        ),
        (
            "lithium",
            "chemical",
            "China",
            0.65,
            "IEA WEO 2024: 65% of chemical processing",
        ),
        (
            "cobalt",
            "mined",
            "DRC",
            230.0 / 310.0,
            "USGS MCS 2026: 230 of 310 kt",
        ),
        (
            "cobalt",
            "refined",
            "China",
            0.78,
            "IEA WEO 2024: >75% of refining",
        ),
        (
            "nickel",
            "mined",
            "Indonesia",
            2600.0 / 3900.0,
            "USGS MCS 2026: 2.6 of 3.9 Mt",
        ),
        (
            "antimony",
            "mined",
            "China",
            40.0 / 110.0,
            "USGS MCS 2026: 40 of 110 kt",
        ),
        (
            "tungsten",
            "mined",
            "China",
            67.0 / 85.0,
            "USGS MCS 2026: 67 of 85 kt",
        ),
    ];
    let mut failures = Vec::new();
    for (c, s, n, want, src) in sourced {
        let got = share(&world, &y, c, s, n);
        eprintln!(
            "{c}/{s} {n}: {:.1}% (sourced {:.1}%, {src})",
            100.0 * got,
            100.0 * want
        );
        if (got - want).abs() > 0.05 {
            failures.push(format!(
                "{c}/{s} {n}: {:.1}% vs sourced {:.1}% ({src})",
                100.0 * got,
                100.0 * want
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "shares off by more than 5 points:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_first_year_reproduces_sourced_price_levels() {
    let world = bundled();
    let y = first_year(&world);
    // Sourced prices, USD/t, and where they are quoted (the price basis: FOB China for
    // Chinese export quotes, LME/European for the others).
    let sourced = [
        (
            "rare-earths",
            "oxide",
            "China",
            69_000.0,
            "USGS: NdPr oxide USD 69/kg FOB China",
        ),
        (
            "gallium",
            "primary",
            "China",
            220_000.0,
            "MCS 2025: low-purity USD 220/kg",
        ),
        (
            "gallium",
            "refined",
            "Japan",
            500_000.0,
            "MCS 2025: high-purity USD 500/kg",
        ),
        (
            "germanium",
            "refined",
            "EU",
            4_100_000.0,
            "Argus: USD 4,100/kg, Europe",
        ),
        (
            "graphite",
            "mined",
            "United States",
            1_000.0,
            "Census: flake import unit value",
        ),
        (
            "lithium",
            "chemical",
            "China",
            9_000.0,
            "USGS: carbonate USD 9,000/t",
        ),
        ("cobalt", "refined", "EU", 33_069.0, "LME: USD 15/lb"),
        ("nickel", "refined", "EU", 15_000.0, "LME: USD 15,000/t"),
        (
            "antimony",
            "refined",
            "United States",
            55_116.0,
            "USGS: USD 25/lb CIF",
        ),
        (
            "tungsten",
            "mined",
            "EU",
            47_919.0,
            "Argus: USD 380/mtu WO3, Rotterdam",
        ),
    ];
    let mut failures = Vec::new();
    for (c, s, n, want, src) in sourced {
        let got = mean_price(&world, &y, c, s, n);
        eprintln!("{c}/{s} in {n}: {got:.0} (sourced {want:.0}, {src})");
        if (got / want - 1.0).abs() > 0.25 {
            failures.push(format!(
                "{c}/{s} in {n}: {got:.0} vs sourced {want:.0} ({src})"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "prices off by more than 25%:\n{}",
        failures.join("\n")
    );
}

/// The simulation's trade cost table (built rule by rule) is the world's `trade_cost`
/// for every commodity and pair of nations.
#[test]
fn the_trade_cost_table_is_the_worlds_trade_cost() {
    use chokepoint_engine::TradeCostTable;
    use chokepoint_world::{CommodityId, NationId};
    let world = bundled();
    assert!(
        !world.trade.overrides.is_empty(),
        "the world overrides some costs"
    );
    let sim = Simulation::new(world.clone(), 1);
    let table = &sim.ecs().resource::<TradeCostTable>().0;
    let n = world.nations.len();
    assert_eq!(table.len(), world.commodities.len());
    for (c, t) in table.iter().enumerate() {
        for j in 0..n {
            for i in 0..n {
                let want = world.trade_cost(
                    NationId(j as u32),
                    NationId(i as u32),
                    CommodityId(c as u32),
                );
                assert_eq!(t[j * n + i].to_bits(), want.to_bits(), "{c} {j} -> {i}");
            }
        }
    }
}
