//! The clearing sees trade costs as a regional rule plus exceptions; both together must
//! give exactly the cost the world file gives every pair, bit for bit.

use std::path::Path;

use chokepoint_engine::TradeCostTable;
use chokepoint_world::{CommodityId, NationId, World};

fn check(world: &World) -> usize {
    let table = TradeCostTable::new(world);
    let n = world.nations.len();
    for c in 0..world.commodities.len() {
        for j in 0..n {
            for i in 0..n {
                if i == j {
                    continue;
                }
                let want = world.trade_cost(
                    NationId(j as u32),
                    NationId(i as u32),
                    CommodityId(c as u32),
                );
                assert_eq!(
                    table.cost(c, j, i).to_bits(),
                    want.to_bits(),
                    "commodity {c}, {j} -> {i}"
                );
            }
        }
    }
    table.exceptions.iter().map(Vec::len).sum()
}

#[test]
fn rule_and_exceptions_give_every_pair_its_cost() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for file in [
        "worlds/critical-minerals-2026.toml",
        "worlds/forge-2026.toml",
        "worlds/adaptation-demo.toml",
    ] {
        let world = chokepoint_world::load(&root.join(file)).unwrap_or_else(|e| panic!("{e}"));
        let odd = check(&world);
        // Costs written by region need few exceptions: far fewer than there are pairs.
        let pairs = world.nations.len() * (world.nations.len() - 1) * world.commodities.len();
        assert!(odd * 4 < pairs, "{file}: {odd} exceptions of {pairs} pairs");
    }
}
