//! `passive`: a market taker that never acts.
//!
//! **Rule.** Every tick, do nothing: no tariffs, licences, floors, stockpile orders or
//! investment. The nation's firms and consumers still trade at market prices, under
//! whatever policies the world file and its timeline put in force.
//!
//! **Why.** It is the baseline researchers compare every other strategy against: run the
//! same world and seed twice, once with a nation bound to `passive` and once to the
//! strategy under study, and the difference in prices, flows and shortages is the
//! strategy's effect. It takes no parameters and rejects any, so a typo in a world file
//! cannot silently turn a real strategy binding into a do-nothing one.

use chokepoint_sdk::prelude::*;

/// Does nothing, deliberately.
#[derive(Debug, Default)]
pub struct Passive;

impl Strategy for Passive {
    fn create(params: &Params, _ctx: &Context) -> Result<Self, String> {
        params.unknown_keys(&[])?;
        Ok(Passive)
    }

    fn decide(&mut self, _obs: &Observation, _actions: &mut Actions) {}
}

chokepoint_sdk::export_strategy!(Passive, "passive");

#[cfg(test)]
mod tests {
    use super::*;
    use chokepoint_sdk::abi::licence;
    use chokepoint_sdk::testing::{ObservationBuilder, create, decide};

    fn busy_world() -> ObservationBuilder {
        ObservationBuilder::new(
            &["China", "United States", "Japan"],
            &[
                ("rare-earths", "oxide", 69_000.0),
                ("gallium", "refined", 500_000.0),
            ],
        )
        .me("United States")
        .tick(5)
        .budget(12e9)
        .price("rare-earths", "oxide", "United States", 150_000.0)
        .price("rare-earths", "oxide", "China", 60_000.0)
        .production("rare-earths", "oxide", "China", 7_000.0, 7_600.0)
        .production("rare-earths", "oxide", "United States", 100.0, 190.0)
        .shortage("rare-earths", "oxide", "United States", 50.0)
        .licence(
            "rare-earths",
            "oxide",
            "China",
            "United States",
            licence::BAN,
            0.0,
            0,
        )
        .pipeline("gallium", "refined", "Japan", "Japan", 5.0, 30)
        .stockpile("rare-earths", "oxide", 10.0, 12e9)
    }

    #[test]
    fn takes_no_parameters() {
        assert!(create::<Passive>("", 1).is_ok());
        let err = create::<Passive>("margin = 0.2", 1).unwrap_err();
        assert!(err.contains("margin"), "{err}");
    }

    #[test]
    fn never_acts_even_under_a_ban_spike_and_shortage() {
        let mut s = create::<Passive>("", 7).unwrap();
        for tick in 0..3 {
            assert!(decide(&mut s, &busy_world().tick(tick)).is_empty());
        }
    }

    #[test]
    fn never_acts_in_an_empty_world() {
        let mut s = create::<Passive>("", 0).unwrap();
        assert!(decide(&mut s, &ObservationBuilder::new(&[], &[])).is_empty());
    }
}
