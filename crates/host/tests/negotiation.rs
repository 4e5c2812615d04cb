//! Negotiation through real plugins: two shared libraries playing the subgame-perfect
//! strategies of Rubinstein's alternating-offers game agree at once on the textbook
//! split; without a surplus they never agree and the deadline ends the session; a
//! plugin built before negotiation (ABI 1) is refused by name.

mod common;

use std::path::Path;
use std::sync::Arc;

use chokepoint_engine::Simulation;
use chokepoint_engine::negotiation::{SessionStatus, Term};
use chokepoint_host::{Host, HostError, OnPluginError, Plugin, SearchPath};

/// S sells ore (cost c), B buys it (value v); S opens. Discount factors per session
/// round: d1 (seller, the first proposer), d2 (buyer).
fn world(lib: &Path, c: f64, v: f64, d1: f64, d2: f64, deadline: u32) -> String {
    let common = format!(
        "commodity = \"ore\", stage = \"raw\", cost = {c:?}, value = {v:?}, quantity = 5.0, discount_seller = {d1:?}, discount_buyer = {d2:?}, deadline_rounds = {deadline}"
    );
    format!(
        r#"
[world]
name = "bargaining"
ticks_per_year = 12

[[commodity]]
name = "ore"
[[commodity.stage]]
name = "raw"
reference_price_usd_per_t = 100.0

[[nation]]
name = "B"
region = "r"
strategy = "{lib}"
params = {{ role = "buyer", counterparty = "S", {common} }}
budget_usd = 1e9
demand = [{{ commodity = "ore", stage = "raw", reference_price_usd_per_t = 100.0, reference_quantity_tpy = 600.0, elasticity = 0.5 }}]

[[nation]]
name = "S"
region = "r"
strategy = "{lib}"
params = {{ role = "seller", counterparty = "B", opens = true, {common} }}
budget_usd = 1e9

[[firm]]
name = "mine"
nation = "S"
commodity = "ore"
stage = "raw"
capacity_tpy = 1200.0
marginal_cost = {{ at_zero_usd_per_t = 20.0, at_capacity_usd_per_t = 120.0 }}
"#,
        lib = lib.display()
    )
}

fn run(text: &str, ticks: usize) -> Simulation {
    let w = Arc::new(chokepoint_world::parse(Path::new("bargaining.toml"), text).unwrap());
    let search = SearchPath::new(vec![], None);
    let mut host = Host::load(&w, 3, &search, OnPluginError::Abort).unwrap();
    let mut sim = Simulation::new(w, 3);
    for _ in 0..ticks {
        host.decide(&mut sim).unwrap();
        sim.step().unwrap();
    }
    sim
}

#[test]
fn rubinstein_players_agree_in_the_first_round_on_the_spe_split() {
    let lib = common::build_plugin("test-rubinstein");
    for (d1, d2) in [(0.9, 0.9), (0.9, 0.6), (0.5, 0.95)] {
        let (c, v) = (40.0, 90.0);
        let sim = run(&world(&lib, c, v, d1, d2, 50), 1);
        let neg = sim.negotiation();
        assert_eq!(
            neg.agreements.len(),
            1,
            "d1 {d1}, d2 {d2}: {:?}",
            neg.sessions
        );
        let a = &neg.agreements[0];
        assert_eq!(a.session_round, 1, "agreed on the first offer");
        assert_eq!(
            (a.signed_tick, a.signed_round),
            (0, 1),
            "answered in round 1 of tick 0"
        );
        let Term::Offtake {
            price_usd_per_t: price,
            ..
        } = a.terms[0]
        else {
            panic!("an offtake: {:?}", a.terms)
        };
        let share = (price - c) / (v - c);
        let spe = (1.0 - d2) / (1.0 - d1 * d2);
        assert!(
            (share - spe).abs() < 1e-12,
            "d1 {d1}, d2 {d2}: seller's share {share}, SPE {spe}"
        );
    }
}

#[test]
fn with_no_acceptable_offer_the_deadline_ends_the_session_without_agreement() {
    let lib = common::build_plugin("test-rubinstein");
    // Cost above value: no price is acceptable to both.
    let sim = run(&world(&lib, 95.0, 90.0, 0.9, 0.9, 4), 3);
    let neg = sim.negotiation();
    assert!(neg.agreements.is_empty());
    assert_eq!(neg.sessions.len(), 1);
    assert_eq!(neg.sessions[0].status, SessionStatus::Expired);
    assert_eq!(
        neg.sessions[0].session_round, 4,
        "four offers, then the deadline"
    );
}

#[test]
fn a_plugin_built_for_abi_1_is_refused_naming_it_and_both_versions() {
    let lib = common::build_plugin("test-abi-v1");
    let err = Plugin::load(&lib).unwrap_err();
    assert!(matches!(
        err,
        HostError::AbiMismatch {
            found: 1,
            expected: 3,
            ..
        }
    ));
    let msg = err.to_string();
    assert!(msg.contains("`test_abi_v1`"), "{msg}");
    assert!(msg.contains("ABI version 1"), "{msg}");
    assert!(msg.contains("ABI version 3"), "{msg}");
}
