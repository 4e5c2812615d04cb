//! The cost of negotiation: a tick of the bundled world with every kind of agreement in
//! force and a session bargaining every tick, against the same tick without.
//!
//! In force: FORGE (a club of five with floors on oxide and magnets), a China-US swap
//! (tariff cuts for licence holds in every market), offtakes delivered before the spot
//! market (China to South Korea and Japan), a financing framework (US in Australia),
//! a stockpile rule (US and Japan), and a Japan-Australia session countering every tick.
//!
//! Finding: with FORGE's floors held on several importers at once, the oxide market
//! stops converging within the solver's 10 000 sweeps (a flat landed price `F` into
//! every member from several non-member exporters leaves their split undetermined);
//! see README, "Performance".
//!
//! cargo bench -p chokepoint-benches --bench negotiation -- --warm-up-time 1 --measurement-time 3

use std::hint::black_box;
use std::sync::Arc;

use chokepoint_benches::bundled_world;
use chokepoint_engine::negotiation::{Channel, NegAction, Term};
use chokepoint_engine::{PolicyAction, Simulation};
use chokepoint_world::{MarketId, NationId, World};
use criterion::{Criterion, criterion_group, criterion_main};

const SEED: u64 = 2026;
const LONG: u32 = 1_000_000;

fn neg(sim: &mut Simulation, n: NationId, action: NegAction) {
    let round = sim.negotiation_round();
    sim.submit(n, PolicyAction::Negotiate { round, action });
}

fn open(to: NationId, terms: Vec<Term>) -> NegAction {
    NegAction::Open {
        counterparty: to,
        channel: Channel::Private,
        discount: [0.95, 0.95],
        time_cost_usd: [0.0, 0.0],
        deadline_rounds: u32::MAX,
        deadline_ticks: LONG,
        terms,
    }
}

/// Sign every agreement of the module docs (each opened in round 0, answered in 1).
fn negotiate_everything(sim: &mut Simulation, w: &World, floors: bool) {
    let n = |name: &str| w.nation_id(name).unwrap();
    let m = |c: &str, s: &str| w.market_id(c, s).unwrap();
    let (cn, us, jp, kr, eu, au) = (
        n("China"),
        n("United States"),
        n("Japan"),
        n("South Korea"),
        n("EU"),
        n("Australia"),
    );
    let (oxide, magnet) = (m("rare-earths", "oxide"), m("rare-earths", "magnet"));
    let all: Vec<MarketId> = (0..w.markets.len() as u32).map(MarketId).collect();
    let floor = |mk: MarketId| Term::ClubFloor {
        market: mk,
        floor_usd_per_t: w.markets[mk.index()].reference_price_usd_per_t,
        member_tariff: 0.0,
    };
    neg(
        sim,
        us,
        NegAction::OpenClub {
            invitees: vec![jp, kr, eu, au],
            channel: Channel::Public,
            deadline_ticks: 2,
            terms: if floors {
                vec![
                    floor(oxide),
                    floor(magnet),
                    Term::ClubExit {
                        notice_ticks: 3,
                        penalty_usd: 1e8,
                    },
                ]
            } else {
                vec![Term::ClubExit {
                    notice_ticks: 3,
                    penalty_usd: 1e8,
                }]
            },
        },
    );
    let mut swap: Vec<Term> = Vec::new();
    for &mk in &all {
        swap.push(Term::Tariff {
            importer: us,
            exporter: cn,
            market: mk,
            rate: 0.0,
            duration_ticks: LONG,
        });
        swap.push(Term::LicenceHold {
            exporter: cn,
            destination: us,
            market: mk,
            duration_ticks: LONG,
        });
    }
    neg(sim, cn, open(us, swap));
    let offtake = |buyer: NationId, mk: MarketId, t: f64| Term::Offtake {
        seller: cn,
        buyer,
        market: mk,
        t_per_tick: t,
        price_usd_per_t: w.markets[mk.index()].reference_price_usd_per_t,
        duration_ticks: LONG,
        penalty_usd: 1e6,
    };
    neg(
        sim,
        cn,
        open(
            kr,
            vec![offtake(kr, oxide, 20.0), offtake(kr, magnet, 50.0)],
        ),
    );
    neg(sim, cn, open(jp, vec![offtake(jp, magnet, 80.0)]));
    neg(
        sim,
        us,
        open(
            au,
            vec![Term::Finance {
                funder: us,
                host: au,
                market: oxide,
                t_per_year: 1000.0,
                usd_per_tpy: 10_000.0,
                offtake_share: 0.5,
                offtake_price_usd_per_t: 60_000.0,
                duration_ticks: LONG,
            }],
        ),
    );
    neg(
        sim,
        us,
        open(
            jp,
            vec![Term::Stockpile {
                market: oxide,
                t_per_tick: 5.0,
                buy_below_usd_per_t: 66_000.0,
                release_above_usd_per_t: 90_000.0,
                duration_ticks: LONG,
            }],
        ),
    );
    let haggle = Term::Offtake {
        seller: au,
        buyer: jp,
        market: oxide,
        t_per_tick: 1.0,
        price_usd_per_t: 1e6,
        duration_ticks: 1,
        penalty_usd: 0.0,
    };
    neg(sim, au, open(jp, vec![haggle]));
    sim.negotiate_round();
    for who in [jp, kr, eu, au] {
        neg(sim, who, NegAction::Join { session: 1 });
    }
    for (who, session) in [(us, 2), (kr, 3), (jp, 4), (au, 5), (jp, 6)] {
        neg(sim, who, NegAction::Accept { session });
    }
}

/// Answer the pending offer of the haggling session with a counter, as the other side.
fn haggle(sim: &mut Simulation) {
    let Some(s) = sim.negotiation().sessions.get(6) else {
        return;
    };
    let Some(o) = &s.offer else { return };
    let (to, terms) = (o.to, o.terms.clone());
    neg(sim, to, NegAction::Counter { session: 7, terms });
}

fn warmed(world: &Arc<World>, negotiating: bool, floors: bool) -> Simulation {
    let mut sim = Simulation::new(world.clone(), SEED);
    for t in 0..24 {
        if negotiating && t == 12 {
            negotiate_everything(&mut sim, world, floors);
        }
        sim.step().expect("warm-up tick");
    }
    if negotiating {
        let neg = sim.negotiation();
        let active = neg
            .agreements
            .iter()
            .filter(|a| a.status == chokepoint_engine::negotiation::AgreementStatus::Active)
            .count();
        assert_eq!(active, 6, "every agreement in force: {:?}", neg.agreements);
    }
    sim
}

fn bench(c: &mut Criterion) {
    let world = Arc::new(bundled_world());
    let mut g = c.benchmark_group("negotiation");
    let mut plain = warmed(&world, false, false);
    g.bench_function("bundled/without", |b| {
        b.iter(|| black_box(plain.step().expect("tick").flows.len()))
    });
    let mut busy = warmed(&world, true, true);
    g.bench_function("bundled/with", |b| {
        b.iter(|| {
            haggle(&mut busy);
            black_box(busy.step().expect("tick").deliveries.len())
        })
    });
    // The same without FORGE's floors: the cost of the negotiation machinery itself
    // (sessions, contracts before spot, swaps, stockpile rule) apart from the harder
    // markets that floors on several importers make for the solver.
    let mut no_floors = warmed(&world, true, false);
    g.bench_function("bundled/with-no-club-floors", |b| {
        b.iter(|| {
            haggle(&mut no_floors);
            black_box(no_floors.step().expect("tick").deliveries.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
