//! Negotiation in the engine against results known on paper: a club floor in a
//! one-market world, offtake delivered before spot, breaches with penalties and trust,
//! a tariff-for-licence swap that unravels, alternating offers with a deadline,
//! malformed offers, and round-by-round processing equal to processing in `step`.

use std::path::Path;
use std::sync::Arc;

use chokepoint_engine::negotiation::*;
use chokepoint_engine::{PolicyAction, Simulation, TickRecord};
use chokepoint_world::{Licence, MarketId, NationId, World};

const TOL: f64 = 1e-6;

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

[trade]
default_usd_per_t = 5.0
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
    format!("\n[[nation]]\nname = \"{name}\"\nregion = \"r-{name}\"\nbudget_usd = 1e6\n{demand}\n")
}

fn firm(name: &str, nation: &str, k: f64, a: f64, b: f64) -> String {
    format!(
        "\n[[firm]]\nname = \"{name}\"\nnation = \"{nation}\"\ncommodity = \"ore\"\nstage = \"raw\"\ncapacity_tpy = {k:?}\nmarginal_cost = {{ at_zero_usd_per_t = {a:?}, at_capacity_usd_per_t = {b:?} }}\n"
    )
}

fn id(w: &World, name: &str) -> NationId {
    w.nation_id(name).unwrap()
}

fn price(rec: &TickRecord, n: NationId) -> f64 {
    rec.prices
        .iter()
        .find(|p| p.nation == n)
        .map(|p| p.price_usd_per_t)
        .unwrap()
}

fn flow(rec: &TickRecord, from: NationId, to: NationId) -> (f64, f64) {
    rec.flows
        .iter()
        .filter(|x| x.from == from && x.to == to)
        .fold((0.0, 0.0), |(q, l), x| (q + x.quantity_t, l + x.levy_usd))
}

fn neg(sim: &mut Simulation, n: NationId, action: NegAction) {
    let round = sim.negotiation_round();
    sim.submit(n, PolicyAction::Negotiate { round, action });
}

fn open(counterparty: NationId, terms: Vec<Term>, deadline_rounds: u32) -> NegAction {
    NegAction::Open {
        counterparty,
        channel: Channel::Private,
        discount: [0.9, 0.9],
        time_cost_usd: [0.0, 0.0],
        deadline_rounds,
        deadline_ticks: 10,
        terms,
    }
}

fn events(rec: &TickRecord, kind: &str) -> Vec<String> {
    rec.events
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| e.detail.clone())
        .collect()
}

/// A (importer, member), M (dear producer, member), X (cheap producer, outsider).
/// With a club floor F on A's imports from non-members and a trade cost t:
/// p_A = F; M ships S_M(F - t) levy-free; X ships D_A(F) - S_M(F - t) and pays
/// F - (s_X + t) per tonne, with s_X on its supply curve at that quantity.
#[test]
fn club_floor_is_held_by_a_levy_on_non_member_supply_at_the_analytic_outcome() {
    let text = header()
        + &nation("A", Some(60.0))
        + &nation("M", None)
        + &nation("X", None)
        + &firm("fm", "M", 60.0, 60.0, 240.0)
        + &firm("fx", "X", 200.0, 0.0, 100.0);
    let w = world(&text);
    let (a, m, x) = (id(&w, "A"), id(&w, "M"), id(&w, "X"));
    let (f, t) = (110.0, 5.0);

    // Without the club: X's cheap ore sets A's price well below the floor.
    let mut free = Simulation::new(w.clone(), 1);
    let free_rec = free.step().unwrap().clone();
    assert!(price(&free_rec, a) < 0.5 * f);

    let mut sim = Simulation::new(w.clone(), 1);
    neg(
        &mut sim,
        a,
        NegAction::OpenClub {
            invitees: vec![m],
            channel: Channel::Public,
            deadline_ticks: 3,
            terms: vec![
                Term::ClubFloor {
                    market: MarketId(0),
                    floor_usd_per_t: f,
                    member_tariff: 0.0,
                },
                Term::ClubExit {
                    notice_ticks: 2,
                    penalty_usd: 1000.0,
                },
            ],
        },
    );
    assert!(sim.negotiate_round());
    neg(&mut sim, m, NegAction::Join { session: 1 });
    let rec = sim.step().unwrap().clone();
    assert_eq!(sim.negotiation().agreements.len(), 1);
    assert_eq!(rec.agreements[0].members, vec![a, m]);

    let (alpha, d) = (60.0 * 1.5, 0.5 * 60.0 / 100.0);
    let s_m = 60.0 * (f - t - 60.0) / (240.0 - 60.0);
    let q_x = alpha - d * f - s_m;
    let s_x = 100.0 * q_x / 200.0;
    close(price(&rec, a), f, "members' price at the floor");
    let (q_m, levy_m) = flow(&rec, m, a);
    close(q_m, s_m, "member supply M -> A");
    assert_eq!(levy_m, 0.0, "members pay no levy");
    let (q, levy) = flow(&rec, x, a);
    close(q, q_x, "non-member supply X -> A");
    close(levy, (f - (s_x + t)) * q_x, "levy max(0, F - landed) on X");
}

/// S sells to B under an offtake of 10 t/tick at 50 USD/t: the contract is served
/// before the spot market, paid at the contract price; when S bans exports to B the
/// delivery fails, S pays the penalty and B trusts S less.
#[test]
fn offtake_is_delivered_before_spot_and_a_breach_pays_the_penalty_and_costs_trust() {
    let text = header()
        + &nation("B", Some(40.0))
        + &nation("S", None)
        + &firm("fs", "S", 100.0, 10.0, 110.0);
    let w = world(&text);
    let (b, s) = (id(&w, "B"), id(&w, "S"));
    let (q, p, penalty) = (10.0, 50.0, 1000.0);
    let mut sim = Simulation::new(w.clone(), 1);
    neg(
        &mut sim,
        s,
        open(
            b,
            vec![Term::Offtake {
                seller: s,
                buyer: b,
                market: MarketId(0),
                t_per_tick: q,
                price_usd_per_t: p,
                duration_ticks: 5,
                penalty_usd: penalty,
            }],
            4,
        ),
    );
    sim.negotiate_round();
    neg(&mut sim, b, NegAction::Accept { session: 1 });
    let (bb0, sb0) = (sim.budget_usd(b), sim.budget_usd(s));
    let rec = sim.step().unwrap().clone();
    let d = &rec.deliveries[0];
    close(d.delivered_t, q, "delivered");
    // Spot: B's consumption less the contract comes over the spot arc.
    let consumed: f64 = rec.consumption.iter().map(|c| c.obtained_t).sum();
    let (spot, _) = flow(&rec, s, b);
    close(
        spot,
        consumed - q,
        "spot flow is what the contract did not cover",
    );
    let produced: f64 = rec.production.iter().map(|r| r.produced_t).sum();
    close(
        produced,
        consumed,
        "the seller made the contract and the spot sales",
    );
    close(
        sim.budget_usd(s) - sb0,
        q * p,
        "seller paid at the contract price",
    );
    close(
        bb0 - sim.budget_usd(b),
        q * p - d.resold_usd,
        "buyer paid the contract and resold at home",
    );
    let trust_kept = sim.negotiation().trust(b, s);
    assert!(trust_kept > INITIAL_TRUST, "a kept tick builds trust");

    // S bans exports to B: the contract cannot be delivered.
    sim.submit(
        s,
        PolicyAction::SetLicence {
            market: MarketId(0),
            destination: b,
            licence: Licence::Ban,
        },
    );
    let (bb1, sb1) = (sim.budget_usd(b), sim.budget_usd(s));
    let rec = sim.step().unwrap().clone();
    assert_eq!(rec.deliveries[0].delivered_t, 0.0);
    assert_eq!(events(&rec, "breach").len(), 1, "{:?}", rec.events);
    close(sim.budget_usd(s) - sb1, -penalty, "seller pays the penalty");
    close(
        sim.budget_usd(b) - bb1,
        penalty,
        "buyer receives the penalty",
    );
    close(
        sim.negotiation().trust(b, s),
        trust_kept * BREACH_KEEP,
        "trust after a full shortfall",
    );
    let h = &sim.negotiation().history;
    assert!(
        h.iter()
            .any(|r| r.kind == "breach" && r.nation == s && r.tick == 1)
    );
}

/// October 2025 in miniature: A cuts its tariff on C, C lifts its export ban on A. C
/// re-imposes the ban: a breach, and A's tariff concession lapses.
#[test]
fn a_tariff_for_licence_swap_is_enforced_and_unravels_on_breach() {
    let text = header()
        + &nation("A", Some(40.0))
        + &nation("C", None)
        + &firm("fc", "C", 100.0, 10.0, 110.0)
        + "\n[[tariff]]\nimporter = \"A\"\nexporter = \"C\"\ncommodity = \"ore\"\nrate = 0.5\n"
        + "\n[[licence]]\nexporter = \"C\"\ndestination = \"A\"\ncommodity = \"ore\"\nkind = \"ban\"\n";
    let w = world(&text);
    let (a, c) = (id(&w, "A"), id(&w, "C"));
    let m = MarketId(0);
    let mut sim = Simulation::new(w.clone(), 1);
    let rec = sim.step().unwrap().clone();
    assert_eq!(flow(&rec, c, a).0, 0.0, "banned");
    neg(
        &mut sim,
        a,
        open(
            c,
            vec![
                Term::Tariff {
                    importer: a,
                    exporter: c,
                    market: m,
                    rate: 0.1,
                    duration_ticks: 12,
                },
                Term::LicenceHold {
                    exporter: c,
                    destination: a,
                    market: m,
                    duration_ticks: 12,
                },
            ],
            4,
        ),
    );
    sim.negotiate_round();
    neg(&mut sim, c, NegAction::Accept { session: 1 });
    let rec = sim.step().unwrap().clone();
    assert!(flow(&rec, c, a).0 > 0.0, "licence granted");
    let tariff = |sim: &Simulation| {
        sim.ecs()
            .resource::<chokepoint_engine::Policies>()
            .tariff(m, a, c)
    };
    assert_eq!(tariff(&sim), 0.1);
    sim.submit(
        c,
        PolicyAction::SetLicence {
            market: m,
            destination: a,
            licence: Licence::Ban,
        },
    );
    let rec = sim.step().unwrap().clone();
    assert_eq!(events(&rec, "breach").len(), 1, "{:?}", rec.events);
    assert_eq!(tariff(&sim), 0.5, "the concession lapses");
    assert_eq!(
        sim.negotiation().agreements[0].status,
        AgreementStatus::Breached(c)
    );
}

fn offtake(s: NationId, b: NationId, price: f64) -> Vec<Term> {
    vec![Term::Offtake {
        seller: s,
        buyer: b,
        market: MarketId(0),
        t_per_tick: 1.0,
        price_usd_per_t: price,
        duration_ticks: 2,
        penalty_usd: 0.0,
    }]
}

fn two() -> (Arc<World>, NationId, NationId) {
    let w = world(
        &(header()
            + &nation("B", Some(40.0))
            + &nation("S", None)
            + &firm("fs", "S", 100.0, 10.0, 110.0)),
    );
    let (b, s) = (id(&w, "B"), id(&w, "S"));
    (w, b, s)
}

#[test]
fn alternating_offers_keep_tick_round_and_session_round_apart() {
    let (w, b, s) = two();
    let mut sim = Simulation::new(w, 1);
    neg(&mut sim, s, open(b, offtake(s, b, 80.0), 6));
    sim.negotiate_round();
    neg(
        &mut sim,
        b,
        NegAction::Counter {
            session: 1,
            terms: offtake(s, b, 40.0),
        },
    );
    sim.negotiate_round();
    // S answers out of turn with an offer of its own: refused, told back.
    neg(
        &mut sim,
        s,
        NegAction::Offer {
            session: 1,
            terms: offtake(s, b, 70.0),
        },
    );
    sim.negotiate_round();
    sim.step().unwrap();
    assert_eq!(sim.negotiation().notices[0].error.code(), "not_your_turn");
    // Next tick: S counters, B accepts in round 1.
    neg(
        &mut sim,
        s,
        NegAction::Counter {
            session: 1,
            terms: offtake(s, b, 60.0),
        },
    );
    sim.negotiate_round();
    neg(&mut sim, b, NegAction::Accept { session: 1 });
    let rec = sim.step().unwrap().clone();
    let a = &sim.negotiation().agreements[0];
    assert_eq!((a.signed_tick, a.signed_round, a.session_round), (1, 1, 3));
    let rows: Vec<(u64, u32, u32, &str)> = rec
        .negotiation
        .iter()
        .map(|r| (r.tick, r.round, r.session_round, r.action))
        .collect();
    assert_eq!(rows, vec![(1, 0, 3, "counter"), (1, 1, 3, "accept")]);
}

#[test]
fn no_acceptable_offer_before_the_deadline_means_no_agreement() {
    let (w, b, s) = two();
    let mut sim = Simulation::new(w, 1);
    neg(&mut sim, s, open(b, offtake(s, b, 80.0), 2));
    sim.negotiate_round();
    neg(
        &mut sim,
        b,
        NegAction::Counter {
            session: 1,
            terms: offtake(s, b, 40.0),
        },
    );
    sim.negotiate_round();
    neg(&mut sim, s, NegAction::Reject { session: 1 });
    let rec = sim.step().unwrap().clone();
    assert!(sim.negotiation().agreements.is_empty());
    assert_eq!(sim.negotiation().sessions[0].status, SessionStatus::Expired);
    assert_eq!(events(&rec, "negotiation_expired").len(), 1);
    // The deadline tick ends a session nobody answers, too.
    neg(&mut sim, s, {
        let mut o = open(b, offtake(s, b, 80.0), 9);
        if let NegAction::Open { deadline_ticks, .. } = &mut o {
            *deadline_ticks = 1;
        }
        o
    });
    sim.step().unwrap();
    assert_eq!(sim.negotiation().sessions[1].status, SessionStatus::Open);
    sim.step().unwrap();
    assert_eq!(sim.negotiation().sessions[1].status, SessionStatus::Expired);
}

#[test]
fn malformed_offers_are_refused_with_a_named_error_and_an_event() {
    let (w, b, s) = two();
    let mut sim = Simulation::new(w, 1);
    let bad = |t: Term| open(b, vec![t], 3);
    neg(
        &mut sim,
        s,
        bad(Term::Offtake {
            seller: s,
            buyer: NationId(99),
            market: MarketId(0),
            t_per_tick: 1.0,
            price_usd_per_t: 1.0,
            duration_ticks: 1,
            penalty_usd: 0.0,
        }),
    );
    neg(
        &mut sim,
        s,
        bad(Term::Offtake {
            seller: s,
            buyer: b,
            market: MarketId(0),
            t_per_tick: -1.0,
            price_usd_per_t: 1.0,
            duration_ticks: 1,
            penalty_usd: 0.0,
        }),
    );
    neg(
        &mut sim,
        s,
        bad(Term::Tariff {
            importer: b,
            exporter: s,
            market: MarketId(7),
            rate: 0.1,
            duration_ticks: 1,
        }),
    );
    neg(&mut sim, s, NegAction::Accept { session: 42 });
    let rec = sim.step().unwrap().clone();
    let codes: Vec<&str> = sim
        .negotiation()
        .notices
        .iter()
        .map(|n| n.error.code())
        .collect();
    assert_eq!(
        codes,
        vec![
            "unknown_party",
            "negative_quantity",
            "unknown_market",
            "unknown_session"
        ]
    );
    assert_eq!(events(&rec, "negotiation_rejected").len(), 4);
    assert!(sim.negotiation().sessions.is_empty());
}

/// The host runs rounds as it goes; replay submits everything and lets `step` run
/// them. Both must leave the same state.
#[test]
fn rounds_run_before_step_or_inside_it_give_the_same_digest() {
    let (w, b, s) = two();
    let script = |live: bool| {
        let mut sim = Simulation::new(w.clone(), 1);
        let moves: Vec<(u32, NationId, NegAction)> = vec![
            (0, s, open(b, offtake(s, b, 80.0), 6)),
            (
                1,
                b,
                NegAction::Counter {
                    session: 1,
                    terms: offtake(s, b, 55.0),
                },
            ),
            (2, s, NegAction::Accept { session: 1 }),
        ];
        for r in 0..ROUNDS_PER_TICK {
            for (mr, n, a) in &moves {
                if *mr == r {
                    sim.submit(
                        *n,
                        PolicyAction::Negotiate {
                            round: r,
                            action: a.clone(),
                        },
                    );
                }
            }
            if live {
                sim.negotiate_round();
            }
        }
        sim.step().unwrap();
        sim.step().unwrap();
        (sim.state_digest(), sim.negotiation().agreements.len())
    };
    let (live, n_live) = script(true);
    let (replayed, n_replayed) = script(false);
    assert_eq!(n_live, 1);
    assert_eq!(n_replayed, 1);
    assert_eq!(live, replayed);
}
