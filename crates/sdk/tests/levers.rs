//! The adaptation levers as a strategy pulls them: each builder emits its ABI kind with
//! its value in the documented field, and the pipeline in the observation says who
//! builds what.

use chokepoint_sdk::abi;
use chokepoint_sdk::prelude::*;
use chokepoint_sdk::testing::{ObservationBuilder, decide};

struct Levers;
impl Strategy for Levers {
    fn create(_: &Params, _: &Context) -> Result<Self, String> {
        Ok(Levers)
    }
    fn decide(&mut self, obs: &Observation, actions: &mut Actions) {
        let m = obs.markets().next().unwrap();
        actions.recycling_subsidy(m, 500.0);
        actions.fund_recycling(m, 120.0, 9000.0);
        actions.fund_substitution(m, 1.0e6);
        actions.capacity_subsidy(m, 0.3);
        actions.stock_mandate(m, 2.0);
    }
}

#[test]
fn lever_builders_emit_their_kinds_and_values() {
    let obs = ObservationBuilder::new(&["Japan", "US"], &[("re", "oxide", 6e4)]).me("Japan");
    let a = decide(&mut Levers, &obs);
    let got: Vec<(u32, f64, f64)> = a.iter().map(|a| (a.kind, a.value, a.price)).collect();
    assert_eq!(
        got,
        vec![
            (abi::action::RECYCLING_SUBSIDY, 500.0, 0.0),
            (abi::action::FUND_RECYCLING, 120.0, 9000.0),
            (abi::action::FUND_SUBSTITUTION, 1.0e6, 0.0),
            (abi::action::CAPACITY_SUBSIDY, 0.3, 0.0),
            (abi::action::STOCK_MANDATE, 2.0, 0.0),
        ]
    );
}

#[test]
fn the_pipeline_says_who_builds_it() {
    let obs = ObservationBuilder::new(&["Japan", "US"], &[("re", "oxide", 6e4)])
        .me("Japan")
        .pipeline("re", "oxide", "US", "Japan", 10.0, 24);
    obs.with(|o| {
        let p: Vec<_> = o.pipeline().collect();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].kind, abi::pipeline::FINANCED);
        assert_eq!(p[0].firm, None);
        assert_eq!(p[0].arrives_at_tick, 24);
    });
}
