//! The trade-cost table filled rule by rule equals `trade_cost` cell by cell, bit for
//! bit, on the bundled worlds (nation and region rules, per-commodity overrides).

use std::path::Path;

use chokepoint_world::{CommodityId, NationId};

#[test]
fn trade_cost_tables_match_trade_cost_in_every_cell() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for file in [
        "worlds/critical-minerals-2026.toml",
        "worlds/forge-2026.toml",
        "worlds/adaptation-demo.toml",
    ] {
        let world = chokepoint_world::load(&root.join(file)).unwrap_or_else(|e| panic!("{e}"));
        let n = world.nations.len();
        let tables = world.trade_cost_tables();
        assert_eq!(tables.len(), world.commodities.len());
        for (c, table) in tables.iter().enumerate() {
            for j in 0..n {
                for i in 0..n {
                    let want = world.trade_cost(
                        NationId(j as u32),
                        NationId(i as u32),
                        CommodityId(c as u32),
                    );
                    assert_eq!(
                        table[j * n + i].to_bits(),
                        want.to_bits(),
                        "{file}: {c} {j}->{i}"
                    );
                }
            }
        }
    }
}
