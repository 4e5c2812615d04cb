//! The engine against results known on paper. Each test builds the smallest world that
//! shows one textbook result, runs it through the real schedule (world file -> ECS ->
//! clearing) and compares with the closed-form answer at 0.1% relative tolerance.

use std::path::Path;
use std::sync::Arc;

use chokepoint_engine::{Simulation, TickRecord};
use chokepoint_world::{MarketId, NationId, World};

const TOL: f64 = 1e-3;

fn world(text: &str) -> Arc<World> {
    Arc::new(
        chokepoint_world::parse(Path::new("test.toml"), text).unwrap_or_else(|e| panic!("{e}")),
    )
}

fn close(got: f64, want: f64, what: &str) {
    let rel = (got - want).abs() / want.abs().max(1e-9);
    assert!(
        rel <= TOL,
        "{what}: got {got}, analytic {want} (relative error {rel:.2e} > {TOL})"
    );
}

fn price(rec: &TickRecord, w: &World, nation: &str) -> f64 {
    let n = w.nation_id(nation).unwrap();
    rec.prices
        .iter()
        .find(|p| p.nation == n && p.market == MarketId(0))
        .map(|p| p.price_usd_per_t)
        .unwrap()
}

fn flow(rec: &TickRecord, w: &World, from: &str, to: &str) -> f64 {
    let (f, t) = (w.nation_id(from).unwrap(), w.nation_id(to).unwrap());
    rec.flows
        .iter()
        .filter(|x| x.from == f && x.to == t)
        .map(|x| x.quantity_t)
        .sum()
}

/// One commodity, one stage; one tick per year so quantities are per tick.
/// Supply of a firm with marginal cost rising from `a` to `b` over capacity `k`:
/// S(p) = k (p - a) / (b - a). Linear demand through (P0, Q0) with elasticity e:
/// D(p) = Q0 (1 + e) - e Q0 p / P0.
fn header() -> String {
    r#"
[world]
name = "paper"
ticks_per_year = 1

[[commodity]]
name = "ore"
[[commodity.stage]]
name = "raw"
reference_price_usd_per_t = 100.0
"#
    .to_string()
}

fn nation(name: &str, demand_q0: Option<f64>) -> String {
    let demand = match demand_q0 {
        Some(q0) => format!(
            "demand = [{{ commodity = \"ore\", stage = \"raw\", reference_price_usd_per_t = 100.0, reference_quantity_tpy = {q0:?}, elasticity = 0.5 }}]"
        ),
        None => String::new(),
    };
    format!("\n[[nation]]\nname = \"{name}\"\nregion = \"r-{name}\"\n{demand}\n")
}

fn firm(name: &str, nation: &str, k: f64, a: f64, b: f64) -> String {
    format!(
        "\n[[firm]]\nname = \"{name}\"\nnation = \"{nation}\"\ncommodity = \"ore\"\nstage = \"raw\"\ncapacity_tpy = {k:?}\nmarginal_cost = {{ at_zero_usd_per_t = {a:?}, at_capacity_usd_per_t = {b:?} }}\n"
    )
}

/// Linear supply s (p - a) and demand alpha - d p with slopes from the world's numbers.
struct Lin {
    s: f64,
    a: f64,
    alpha: f64,
    d: f64,
}

fn supply_slope(k: f64, a: f64, b: f64) -> (f64, f64) {
    (k / (b - a), a)
}

fn demand_line(q0: f64) -> (f64, f64) {
    let (e, p0) = (0.5, 100.0);
    (q0 * (1.0 + e), e * q0 / p0)
}

fn step(w: &Arc<World>) -> TickRecord {
    let mut sim = Simulation::new(w.clone(), 7);
    sim.step().unwrap_or_else(|e| panic!("{e}")).clone()
}

#[test]
fn one_market_with_linear_supply_and_demand_clears_at_the_analytic_price() {
    let w = world(&(header() + &nation("A", Some(50.0)) + &firm("f", "A", 100.0, 20.0, 200.0)));
    let (s, a) = supply_slope(100.0, 20.0, 200.0);
    let (alpha, d) = demand_line(50.0);
    let l = Lin { s, a, alpha, d };
    // s (p - a) = alpha - d p
    let p = (l.alpha + l.s * l.a) / (l.s + l.d);
    let q = l.s * (p - l.a);
    let rec = step(&w);
    close(price(&rec, &w, "A"), p, "price");
    close(rec.production[0].produced_t, q, "quantity produced");
    close(rec.consumption[0].obtained_t, q, "quantity consumed");
}

#[test]
fn trade_cost_opens_a_price_gap_equal_to_the_cost_and_the_analytic_flow() {
    let t = 12.0;
    let text = header()
        + &nation("A", Some(40.0))
        + &nation("B", Some(30.0))
        + &firm("f", "A", 150.0, 10.0, 190.0)
        + &format!("\n[trade]\ndefault_usd_per_t = {t:?}\n");
    let w = world(&text);
    let (s, a) = supply_slope(150.0, 10.0, 190.0);
    let (alpha_a, d_a) = demand_line(40.0);
    let (alpha_b, d_b) = demand_line(30.0);
    // s (pA - a) = alpha_a - d_a pA + alpha_b - d_b (pA + t)
    let pa = (alpha_a + alpha_b - d_b * t + s * a) / (s + d_a + d_b);
    let pb = pa + t;
    let rec = step(&w);
    close(price(&rec, &w, "A"), pa, "price in A");
    close(price(&rec, &w, "B"), pb, "price in B");
    close(price(&rec, &w, "B") - price(&rec, &w, "A"), t, "price gap");
    close(flow(&rec, &w, "A", "B"), alpha_b - d_b * pb, "flow A -> B");
}

#[test]
fn ad_valorem_tariff_splits_its_incidence_by_the_slopes_of_supply_and_demand() {
    let (t, tau) = (5.0, 0.2);
    let base = header()
        + &nation("A", None)
        + &nation("B", Some(60.0))
        + &firm("f", "A", 200.0, 0.0, 240.0)
        + &format!("\n[trade]\ndefault_usd_per_t = {t:?}\n");
    let with_tariff = base.clone()
        + &format!(
            "\n[[tariff]]\nimporter = \"B\"\nexporter = \"A\"\ncommodity = \"ore\"\nrate = {tau:?}\n"
        );
    let (s, a) = supply_slope(200.0, 0.0, 240.0);
    let (alpha, d) = demand_line(60.0);
    // Free trade: s (pA - a) = alpha - d (pA + t).
    let p0_a = (alpha - d * t + s * a) / (s + d);
    let p0_b = p0_a + t;
    // Tariff on the CIF value: pB = (pA + t)(1 + tau); s (pA - a) = alpha - d (1 + tau)(pA + t).
    let pa = (alpha - d * (1.0 + tau) * t + s * a) / (s + d * (1.0 + tau));
    let pb = (pa + t) * (1.0 + tau);

    let free = step(&world(&base));
    let w = world(&with_tariff);
    let taxed = step(&w);
    close(price(&free, &w, "B"), p0_b, "free-trade price in B");
    close(
        price(&taxed, &w, "A"),
        pa,
        "exporter price under the tariff",
    );
    close(
        price(&taxed, &w, "B"),
        pb,
        "importer price under the tariff",
    );
    // Partial equilibrium: of the wedge T = pB - pA - t, buyers bear s / (s + d).
    let wedge = price(&taxed, &w, "B") - price(&taxed, &w, "A") - t;
    let buyers = (price(&taxed, &w, "B") - price(&free, &w, "B")) / wedge;
    close(buyers, s / (s + d), "buyers' share of the tariff wedge");
    let tariff_paid: f64 = taxed.flows.iter().map(|f| f.tariff_usd).sum();
    close(
        tariff_paid,
        tau * (pa + t) * flow(&taxed, &w, "A", "B"),
        "tariff revenue",
    );
}

fn two_producers(extra: &str) -> Arc<World> {
    // A: cheap supply, B: dear supply; both consume. Free trade sends goods A -> B.
    world(
        &(header()
            + &nation("A", Some(40.0))
            + &nation("B", Some(40.0))
            + &firm("fa", "A", 120.0, 10.0, 130.0)
            + &firm("fb", "B", 60.0, 60.0, 240.0)
            + "\n[trade]\ndefault_usd_per_t = 4.0\n"
            + extra),
    )
}

/// Autarky price of a nation with supply s (p - a) and demand alpha - d p.
fn autarky(k: f64, a: f64, b: f64, q0: f64) -> f64 {
    let (s, a) = supply_slope(k, a, b);
    let (alpha, d) = demand_line(q0);
    (alpha + s * a) / (s + d)
}

#[test]
fn export_ban_yields_the_two_autarky_prices() {
    let free = step(&two_producers(""));
    let w0 = two_producers("");
    assert!(
        flow(&free, &w0, "A", "B") > 1.0,
        "without the ban A exports to B"
    );
    let ban = "\n[[licence]]\nexporter = \"A\"\ndestination = \"B\"\ncommodity = \"ore\"\nkind = \"ban\"\n";
    let w = two_producers(ban);
    let rec = step(&w);
    close(
        price(&rec, &w, "A"),
        autarky(120.0, 10.0, 130.0, 40.0),
        "autarky price in A",
    );
    close(
        price(&rec, &w, "B"),
        autarky(60.0, 60.0, 240.0, 40.0),
        "autarky price in B",
    );
    assert_eq!(flow(&rec, &w, "A", "B"), 0.0);
}

#[test]
fn binding_export_quota_gives_the_analytic_price_wedge() {
    let quota = 5.0;
    let w = two_producers(&format!(
        "\n[[licence]]\nexporter = \"A\"\ndestination = \"B\"\ncommodity = \"ore\"\nkind = \"quota\"\nquota_tpy = {quota:?}\n"
    ));
    let free_flow = flow(&step(&two_producers("")), &w, "A", "B");
    assert!(
        free_flow > quota * 2.0,
        "the quota must bind: free flow {free_flow}"
    );
    // A: sA (p - aA) = alphaA - dA p + Q ; B: sB (p - aB) + Q = alphaB - dB p.
    let (sa, aa) = supply_slope(120.0, 10.0, 130.0);
    let (sb, ab) = supply_slope(60.0, 60.0, 240.0);
    let (alpha, d) = demand_line(40.0);
    let pa = (alpha + quota + sa * aa) / (sa + d);
    let pb = (alpha - quota + sb * ab) / (sb + d);
    let rec = step(&w);
    close(flow(&rec, &w, "A", "B"), quota, "flow at the quota");
    close(price(&rec, &w, "A"), pa, "exporter price");
    close(price(&rec, &w, "B"), pb, "importer price");
    close(
        price(&rec, &w, "B") - price(&rec, &w, "A") - 4.0,
        pb - pa - 4.0,
        "quota rent per tonne",
    );
}

#[test]
fn licence_delay_closes_the_arc_until_licences_come_through() {
    let event = "\n[[event]]\ntick = 2\nkind = \"licence\"\nexporter = \"A\"\ndestination = \"B\"\ncommodity = \"ore\"\nlicence = \"licence\"\ndelay_ticks = 3\n";
    let w = two_producers(event);
    let mut sim = Simulation::new(w.clone(), 1);
    let mut flows = Vec::new();
    for _ in 0..7 {
        let rec = sim.step().unwrap();
        flows.push(flow(rec, &w, "A", "B"));
    }
    assert!(
        flows[0] > 1.0 && flows[1] > 1.0,
        "open before the regime: {flows:?}"
    );
    assert!(
        flows[2..5].iter().all(|&f| f == 0.0),
        "no licences granted for 3 ticks: {flows:?}"
    );
    assert!(
        flows[5] > 1.0 && flows[6] > 1.0,
        "licensed trade resumes: {flows:?}"
    );
}

#[test]
fn a_vertical_chain_is_limited_by_inputs_actually_received() {
    // Downstream firm in B needs 2 t of ore per t of metal; its only ore supplier is in A.
    // Ban ore exports from A at tick 3: B's metal output stops once its input stock is gone
    // and the shortfall shows up as a shortage of the firm's input.
    let text = r#"
[world]
name = "chain"
ticks_per_year = 1
[[commodity]]
name = "ore"
[[commodity.stage]]
name = "raw"
reference_price_usd_per_t = 100.0
[[commodity.stage]]
name = "metal"
reference_price_usd_per_t = 400.0
inputs = [{ stage = "raw", ratio = 2.0 }]
[[nation]]
name = "A"
region = "ra"
[[nation]]
name = "B"
region = "rb"
demand = [{ commodity = "ore", stage = "metal", reference_price_usd_per_t = 400.0, reference_quantity_tpy = 20.0, elasticity = 0.5 }]
[[firm]]
name = "mine"
nation = "A"
commodity = "ore"
stage = "raw"
capacity_tpy = 100.0
marginal_cost = { at_zero_usd_per_t = 20.0, at_capacity_usd_per_t = 150.0 }
[[firm]]
name = "smelter"
nation = "B"
commodity = "ore"
stage = "metal"
capacity_tpy = 40.0
marginal_cost = { at_zero_usd_per_t = 50.0, at_capacity_usd_per_t = 250.0 }
[[event]]
tick = 3
kind = "licence"
exporter = "A"
destination = "B"
commodity = "ore"
stage = "raw"
licence = "ban"
"#;
    let w = world(text);
    let mut sim = Simulation::new(w.clone(), 1);
    let smelter = w.firms.iter().position(|f| f.name == "smelter").unwrap();
    let mut made = Vec::new();
    let mut short = Vec::new();
    for _ in 0..6 {
        let rec = sim.step().unwrap();
        made.push(
            rec.production
                .iter()
                .find(|p| p.firm.index() == smelter)
                .unwrap()
                .produced_t,
        );
        short.push(
            rec.consumption
                .iter()
                .filter(|c| c.nation == NationId(1) && c.market == MarketId(0))
                .map(|c| c.shortage_t())
                .sum::<f64>(),
        );
    }
    assert!(
        made[0] > 1.0 && made[2] > 1.0,
        "the smelter runs while ore flows: {made:?}"
    );
    // At tick 3 the smelter still works off the ore it held; after that nothing is made.
    assert!(made[3] < made[2], "output falls when ore stops: {made:?}");
    assert!(
        made[4..].iter().all(|&q| q < 1e-9),
        "no ore, no metal: {made:?}"
    );
    assert!(
        short[3] > 1.0 && short[4] > 1.0,
        "the missing ore is recorded as the smelter's shortage: {short:?}"
    );
}
