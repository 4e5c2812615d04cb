//! `hedging-ally`: source where cheapest and reliable; hedge only when it is cheap to.
//!
//! **Rule.** Every tick, in each watched market, for each supplier in `suppliers` that
//! has capacity in the market (never myself):
//!
//! 1. *Reliability.* A tick is *good* for a supplier unless (a) its export licence
//!    towards me is anything but open, or (b) I was short in the market while its
//!    deliveries to me fell from the tick before. Reliability is the exponentially
//!    weighted share of good ticks: `r <- (1 - smoothing) r + smoothing x good`,
//!    starting at 1 (trusted until shown otherwise).
//! 2. *Price.* A supplier's landed price is that of its last delivery to me, net of my
//!    own tariff on it (`landed / (1 + tariff)`), so my hedge does not feed back into
//!    the comparison. Before any delivery, its local price stands in (which leaves out
//!    trade costs).
//! 3. *Hedge.* For each supplier with `r < min_reliability`: if it is cheaper than the
//!    cheapest reliable supplier (`r >= min_reliability`), and that reliable supplier's
//!    price is within `max_premium` of it (`reliable <= unreliable x (1 + max_premium)`),
//!    my tariff on it is `hedge_tariff`. Every other listed supplier's tariff is kept
//!    at zero (a tariff in force is removed). Actions are sent only when the tariff in
//!    force differs.
//!
//! **Why.** It plays South Korea in February 2026: in the coalition and, days later,
//! opening a fast lane for Chinese minerals. Firms keep buying where it is cheapest and
//! most reliable; the state pays a little (a premium up to `max_premium`) to move
//! sourcing away from a supplier that has proven unreliable, and nothing more. Joining
//! the coalition (floors, shared stockpiles, coordinated tariffs) comes with the
//! negotiation layer; this strategy is only the sourcing rule.
//!
//! **Negotiation** (with `negotiate = true`): I join clubs proposed by a nation in
//! `coalition` (FORGE) and decline others; when short in a market where `hotline`
//! supplies at least half the world, I open a private session with it asking for an
//! offtake of the shortfall at its price plus `hotline_premium`, if I trust it at least
//! `min_trust`. I accept offtakes to me priced no more than my own price plus the
//! premium; an agent may sit in the public club and the private hotline at once.
//!
//! Reads: `me`, nation and market names, licences towards me, my shortages, flows into
//! me (quantity and landed price), my tariffs, local prices, capacity. Names absent from
//! the world are skipped (and logged once).

use std::collections::BTreeMap;

use chokepoint_sdk::prelude::*;

/// The bundled world's markets (`worlds/critical-minerals-2026.toml`).
const DEFAULT_MARKETS: [&str; 5] = [
    "rare-earths/mined",
    "rare-earths/oxide",
    "rare-earths/magnet",
    "gallium/primary",
    "gallium/refined",
];
/// The bundled world's nations; the deciding nation is left out at run time.
const DEFAULT_SUPPLIERS: [&str; 7] = [
    "China",
    "United States",
    "Japan",
    "South Korea",
    "EU",
    "Australia",
    "Rest of world",
];

const PARAMS: [&str; 11] = [
    "negotiate",
    "coalition",
    "hotline",
    "hotline_premium",
    "min_trust",
    "markets",
    "suppliers",
    "smoothing",
    "min_reliability",
    "hedge_tariff",
    "max_premium",
];

pub struct HedgingAlly {
    markets: Vec<(String, String)>,
    suppliers: Vec<String>,
    smoothing: f64,
    min_reliability: f64,
    hedge_tariff: f64,
    max_premium: f64,
    /// Reliability by (market, supplier).
    reliability: BTreeMap<(MarketId, NationId), f64>,
    /// Deliveries to me last tick, by (market, supplier).
    last_delivery: BTreeMap<(MarketId, NationId), f64>,
    /// Last landed price net of my tariff, by (market, supplier).
    last_price: BTreeMap<(MarketId, NationId), f64>,
    log: Logger,
    warned: bool,
    negotiate: bool,
    coalition: Vec<String>,
    hotline: String,
    hotline_premium: f64,
    min_trust: f64,
}

impl Strategy for HedgingAlly {
    fn create(params: &Params, ctx: &Context) -> Result<Self, String> {
        params.unknown_keys(&PARAMS)?;
        let smoothing = params.fraction_or("smoothing", 0.2)?;
        if smoothing == 0.0 {
            return Err(
                "parameter `smoothing` must be above 0, or reliability never changes".into(),
            );
        }
        let hedge_tariff = params.f64_or("hedge_tariff", 0.25)?;
        if !(0.0..=10.0).contains(&hedge_tariff) {
            return Err(format!(
                "parameter `hedge_tariff` is {hedge_tariff}; it is a rate, 0 <= x <= 10 (0.25 = 25%)"
            ));
        }
        let max_premium = params.f64_or("max_premium", 0.15)?;
        if max_premium < 0.0 {
            return Err(format!(
                "parameter `max_premium` is {max_premium}; it is a fraction, >= 0 (0.15 = 15%)"
            ));
        }
        Ok(HedgingAlly {
            markets: params.markets_or("markets", &DEFAULT_MARKETS)?,
            suppliers: params.strings_or("suppliers", &DEFAULT_SUPPLIERS)?,
            smoothing,
            min_reliability: params.fraction_or("min_reliability", 0.8)?,
            hedge_tariff,
            max_premium,
            reliability: BTreeMap::new(),
            last_delivery: BTreeMap::new(),
            last_price: BTreeMap::new(),
            log: ctx.logger(),
            warned: false,
            negotiate: params.bool_or("negotiate", false)?,
            coalition: params.strings_or("coalition", &["United States"])?,
            hotline: params.str_or("hotline", "China")?,
            hotline_premium: params.non_negative_or("hotline_premium", 0.05)?,
            min_trust: params.fraction_or("min_trust", 0.3)?,
        })
    }

    fn decide(&mut self, obs: &Observation, actions: &mut Actions) {
        if self.negotiate {
            self.negotiate(obs, actions);
        }
        if obs.round() > 0 {
            return; // later rounds are for answering offers only
        }
        self.warn_missing(obs);
        let me = obs.me();
        let mut listed: Vec<NationId> = Vec::new();
        for n in self.suppliers.iter().filter_map(|n| obs.nation_id(n)) {
            if n != me && !listed.contains(&n) {
                listed.push(n);
            }
        }
        let markets: Vec<MarketId> = self
            .markets
            .iter()
            .filter_map(|(c, s)| obs.market_id(c, s))
            .collect();
        for m in markets {
            let short = obs.shortage(m, me) > 0.0;
            // 1 and 2: update reliability and prices of suppliers able to supply.
            let mut able: Vec<(NationId, f64, Option<f64>)> = Vec::new();
            for &s in &listed {
                let delivered = obs.flow(m, s, me);
                let before = self.last_delivery.insert((m, s), delivered);
                if obs.capacity(m, s) <= 0.0 {
                    continue;
                }
                let restricted = obs.licence(m, s, me) != Licence::Open;
                let cut = short && before.is_some_and(|b| delivered < b);
                let good = if restricted || cut { 0.0 } else { 1.0 };
                let r = self.reliability.entry((m, s)).or_insert(1.0);
                *r = (1.0 - self.smoothing) * *r + self.smoothing * good;
                if let Some(landed) = landed_ex_tariff(obs, m, s) {
                    self.last_price.insert((m, s), landed);
                }
                let price = self
                    .last_price
                    .get(&(m, s))
                    .copied()
                    .or_else(|| obs.price(m, s));
                able.push((s, *r, price));
            }
            // 3: the cheapest reliable supplier, then the tariff on each listed one.
            let reliable = able
                .iter()
                .filter(|(_, r, _)| *r >= self.min_reliability)
                .filter_map(|&(_, _, p)| p)
                .reduce(f64::min);
            for &s in &listed {
                let hedge =
                    able.iter()
                        .find(|a| a.0 == s)
                        .is_some_and(|&(_, r, p)| match (p, reliable) {
                            (Some(p), Some(alt)) => {
                                r < self.min_reliability
                                    && p < alt
                                    && alt <= p * (1.0 + self.max_premium)
                            }
                            _ => false,
                        });
                let rate = if hedge { self.hedge_tariff } else { 0.0 };
                if (obs.tariff(m, me, s) - rate).abs() > 1e-12 {
                    actions.set_tariff(m, s, rate);
                }
            }
        }
    }
}

/// The landed price of `s`'s delivery to me last tick, net of my tariff on it.
fn landed_ex_tariff(obs: &Observation, m: MarketId, s: NationId) -> Option<f64> {
    let me = obs.me();
    let (mut t, mut value) = (0.0, 0.0);
    for f in obs
        .flows()
        .filter(|f| f.market == m && f.from == s && f.to == me)
    {
        t += f.quantity_t;
        value += f.quantity_t * f.landed_usd_per_t;
    }
    (t > 0.0).then(|| value / t / (1.0 + obs.tariff(m, me, s)))
}

impl HedgingAlly {
    fn warn_missing(&mut self, obs: &Observation) {
        if self.warned {
            return;
        }
        self.warned = true;
        for n in &self.suppliers {
            if obs.nation_id(n).is_none() {
                self.log
                    .warn(&format!("nation `{n}` is not in this world; skipped"));
            }
        }
        for (c, s) in &self.markets {
            if obs.market_id(c, s).is_none() {
                self.log
                    .warn(&format!("market {c}/{s} is not in this world; skipped"));
            }
        }
    }
}

chokepoint_sdk::export_strategy!(HedgingAlly, "hedging-ally");

impl HedgingAlly {
    /// Join the coalition, keep a private hotline with the dominant supplier.
    fn negotiate(&mut self, obs: &Observation, actions: &mut Actions) {
        let me = obs.me();
        let coalition: Vec<NationId> = self
            .coalition
            .iter()
            .filter_map(|n| obs.nation_id(n))
            .collect();
        let hotline = obs.nation_id(&self.hotline).filter(|&h| h != me);
        for s in obs.sessions() {
            if s.kind == SessionKind::Club
                && s.status == SessionStatus::Open
                && s.standing(me) == Some(Standing::Invited)
            {
                if coalition.contains(&s.opener) {
                    actions.join(s.id);
                } else {
                    actions.decline(s.id);
                }
            }
        }
        for offer in obs.offers_to_me() {
            let trusted = obs.trust(me, offer.from).unwrap_or(0.5) >= self.min_trust;
            // Offtakes to me that cost no more than my own market (plus the premium I
            // pay for supply that bypasses the spot market).
            let pays = offer.terms.iter().all(|t| match *t {
                Term::Offtake {
                    buyer,
                    market,
                    price,
                    ..
                } if buyer == me => obs
                    .price(market, me)
                    .is_some_and(|p| price <= p * (1.0 + self.hotline_premium)),
                _ => false,
            });
            if trusted && pays {
                actions.accept(offer.session);
            } else {
                actions.reject(offer.session);
            }
        }
        // The hotline: when short in a market the other side dominates, ask for an
        // offtake of the shortfall at its price plus the premium.
        let Some(h) = hotline else { return };
        if obs.round() > 0 || obs.trust(me, h).unwrap_or(0.5) < self.min_trust {
            return;
        }
        let open_with_h = obs.sessions().iter().any(|s| {
            s.status == SessionStatus::Open
                && s.parties.iter().any(|p| p.0 == h)
                && s.parties.iter().any(|p| p.0 == me)
        });
        if open_with_h {
            return;
        }
        let terms: Vec<Term> = self
            .markets
            .iter()
            .filter_map(|(c, st)| obs.market_id(c, st))
            .filter(|&m| obs.shortage(m, me) > 0.0 && obs.supply_share(m, h) >= 0.5)
            .filter_map(|m| {
                let price = obs.price(m, h)?;
                Some(Term::Offtake {
                    seller: h,
                    buyer: me,
                    market: m,
                    t_per_tick: obs.shortage(m, me),
                    price: price * (1.0 + self.hotline_premium),
                    duration_ticks: 6,
                    penalty_usd: 0.0,
                })
            })
            .collect();
        if !terms.is_empty() {
            actions.open(
                h,
                &terms,
                OpenOptions {
                    deadline_rounds: 2,
                    deadline_ticks: 1,
                    ..OpenOptions::default()
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chokepoint_sdk::abi::{self, action, licence};
    use chokepoint_sdk::testing::{ObservationBuilder, create, decide};

    const NATIONS: [&str; 4] = ["China", "Japan", "South Korea", "United States"];
    const CHN: u32 = 0;
    const JPN: u32 = 1;
    const MAGNET: u32 = 0;

    /// Korea buys 600 t of magnets a tick from China at 50,000 and 50 t from Japan at
    /// `japan_landed`; China's licence towards Korea is `china_licence`.
    fn world(tick: u64, china_licence: u32, japan_landed: f64) -> ObservationBuilder {
        world_priced(tick, china_licence, 50_000.0, japan_landed)
    }

    fn world_priced(
        tick: u64,
        china_licence: u32,
        china_landed: f64,
        japan_landed: f64,
    ) -> ObservationBuilder {
        let obs = ObservationBuilder::new(
            &NATIONS,
            &[
                ("rare-earths", "magnet", 60_000.0),
                ("gallium", "refined", 500_000.0),
            ],
        )
        .me("South Korea")
        .tick(tick)
        .production("rare-earths", "magnet", "China", 27_000.0, 27_000.0)
        .production("rare-earths", "magnet", "Japan", 900.0, 950.0)
        .flow(
            "rare-earths",
            "magnet",
            "China",
            "South Korea",
            600.0,
            china_landed,
        )
        .flow(
            "rare-earths",
            "magnet",
            "Japan",
            "South Korea",
            50.0,
            japan_landed,
        );
        if china_licence == licence::OPEN {
            obs
        } else {
            obs.licence(
                "rare-earths",
                "magnet",
                "China",
                "South Korea",
                china_licence,
                0.0,
                2,
            )
        }
    }

    fn tariffs(actions: &[abi::Action]) -> Vec<(u32, u32, f64)> {
        actions
            .iter()
            .inspect(|a| assert_eq!(a.kind, action::SET_TARIFF))
            .map(|a| (a.market, a.nation, a.value))
            .collect()
    }

    fn ally() -> HedgingAlly {
        create::<HedgingAlly>("", 0).unwrap()
    }

    #[test]
    fn taxes_a_cheap_unreliable_supplier_when_a_reliable_one_is_close() {
        let mut s = ally();
        // Tick 0: reliability 0.8, not below 0.8 yet.
        assert!(decide(&mut s, &world(0, licence::LICENSED, 55_000.0)).is_empty());
        // Tick 1: 0.64. Japan at 55,000 is within 15% of 50,000.
        let got = tariffs(&decide(&mut s, &world(1, licence::LICENSED, 55_000.0)));
        assert_eq!(got, vec![(MAGNET, CHN, 0.25)]);
        assert!(s.reliability[&(MarketId(MAGNET), NationId(CHN))] < 0.8);
        assert_eq!(s.reliability[&(MarketId(MAGNET), NationId(JPN))], 1.0);
    }

    #[test]
    fn no_tariff_when_the_reliable_alternative_costs_too_much() {
        let mut s = ally();
        for tick in 0..5 {
            // Japan at 60,000: 20% above China.
            assert!(decide(&mut s, &world(tick, licence::BAN, 60_000.0)).is_empty());
        }
        // A tariff in force is taken off.
        let obs = world(5, licence::BAN, 60_000.0).tariff(
            "rare-earths",
            "magnet",
            "South Korea",
            "China",
            0.25,
        );
        assert_eq!(tariffs(&decide(&mut s, &obs)), vec![(MAGNET, CHN, 0.0)]);
    }

    #[test]
    fn the_comparison_is_net_of_my_own_tariff() {
        let mut s = ally();
        decide(&mut s, &world(0, licence::LICENSED, 55_000.0));
        decide(&mut s, &world(1, licence::LICENSED, 55_000.0));
        // My 25% tariff is in force: China's landed price is 62,500, but 50,000 net, so
        // the tariff stays (no action), rather than flip-flopping.
        let obs = ObservationBuilder::new(&NATIONS, &[("rare-earths", "magnet", 60_000.0)])
            .me("South Korea")
            .tick(2)
            .production("rare-earths", "magnet", "China", 27_000.0, 27_000.0)
            .production("rare-earths", "magnet", "Japan", 900.0, 950.0)
            .flow(
                "rare-earths",
                "magnet",
                "China",
                "South Korea",
                300.0,
                62_500.0,
            )
            .flow(
                "rare-earths",
                "magnet",
                "Japan",
                "South Korea",
                300.0,
                55_000.0,
            )
            .licence(
                "rare-earths",
                "magnet",
                "China",
                "South Korea",
                licence::LICENSED,
                0.0,
                2,
            )
            .tariff("rare-earths", "magnet", "South Korea", "China", 0.25);
        assert!(decide(&mut s, &obs).is_empty());
    }

    #[test]
    fn a_supplier_cutting_deliveries_during_my_shortage_loses_reliability() {
        let mut s = ally();
        decide(&mut s, &world(0, licence::OPEN, 55_000.0));
        // Short, and China shipped 600 -> 200: a bad tick for China only.
        let cut = |tick| {
            ObservationBuilder::new(&NATIONS, &[("rare-earths", "magnet", 60_000.0)])
                .me("South Korea")
                .tick(tick)
                .production("rare-earths", "magnet", "China", 27_000.0, 27_000.0)
                .production("rare-earths", "magnet", "Japan", 900.0, 950.0)
                .flow(
                    "rare-earths",
                    "magnet",
                    "China",
                    "South Korea",
                    600.0 - 200.0 * tick as f64,
                    50_000.0,
                )
                .flow(
                    "rare-earths",
                    "magnet",
                    "Japan",
                    "South Korea",
                    50.0,
                    55_000.0,
                )
                .shortage("rare-earths", "magnet", "South Korea", 400.0)
        };
        assert!(decide(&mut s, &cut(1)).is_empty());
        assert_eq!(tariffs(&decide(&mut s, &cut(2))), vec![(MAGNET, CHN, 0.25)]);
        assert_eq!(s.reliability[&(MarketId(MAGNET), NationId(JPN))], 1.0);

        // A shortage with steady deliveries blames no one.
        let mut s = ally();
        for tick in 0..5 {
            let obs = world(tick, licence::OPEN, 55_000.0).shortage(
                "rare-earths",
                "magnet",
                "South Korea",
                400.0,
            );
            assert!(decide(&mut s, &obs).is_empty());
        }
    }

    #[test]
    fn the_tariff_comes_off_when_reliability_recovers() {
        let mut s = ally();
        decide(&mut s, &world(0, licence::LICENSED, 55_000.0));
        decide(&mut s, &world(1, licence::LICENSED, 55_000.0)); // 0.64: hedged
        // Open again: 0.712, 0.770, 0.816 -> tariff off on the third open tick.
        // (China's landed price includes my 25%: 62,500.)
        let hedged = |tick| {
            world_priced(tick, licence::OPEN, 62_500.0, 55_000.0).tariff(
                "rare-earths",
                "magnet",
                "South Korea",
                "China",
                0.25,
            )
        };
        assert!(decide(&mut s, &hedged(2)).is_empty());
        assert!(decide(&mut s, &hedged(3)).is_empty());
        assert_eq!(
            tariffs(&decide(&mut s, &hedged(4))),
            vec![(MAGNET, CHN, 0.0)]
        );
    }

    #[test]
    fn only_suppliers_with_capacity_count_as_alternatives() {
        // The US sells nothing and has no capacity: its price is not an alternative.
        let mut s = create::<HedgingAlly>("min_reliability = 0.9", 0).unwrap();
        let obs = |tick| {
            ObservationBuilder::new(&NATIONS, &[("rare-earths", "magnet", 60_000.0)])
                .me("South Korea")
                .tick(tick)
                .price("rare-earths", "magnet", "United States", 52_000.0)
                .production("rare-earths", "magnet", "China", 27_000.0, 27_000.0)
                .flow(
                    "rare-earths",
                    "magnet",
                    "China",
                    "South Korea",
                    600.0,
                    50_000.0,
                )
                .licence(
                    "rare-earths",
                    "magnet",
                    "China",
                    "South Korea",
                    licence::BAN,
                    0.0,
                    0,
                )
        };
        for tick in 0..4 {
            assert!(decide(&mut s, &obs(tick)).is_empty());
        }
    }

    #[test]
    fn before_any_delivery_the_local_price_stands_in() {
        let mut s = create::<HedgingAlly>("smoothing = 1.0", 0).unwrap();
        // Nothing delivered from Japan yet; its local price, 54,000, is within 15%.
        let obs = ObservationBuilder::new(&NATIONS, &[("rare-earths", "magnet", 60_000.0)])
            .me("South Korea")
            .price("rare-earths", "magnet", "Japan", 54_000.0)
            .production("rare-earths", "magnet", "China", 27_000.0, 27_000.0)
            .production("rare-earths", "magnet", "Japan", 900.0, 950.0)
            .flow(
                "rare-earths",
                "magnet",
                "China",
                "South Korea",
                600.0,
                50_000.0,
            )
            .licence(
                "rare-earths",
                "magnet",
                "China",
                "South Korea",
                licence::QUOTA,
                100.0,
                0,
            );
        assert_eq!(tariffs(&decide(&mut s, &obs)), vec![(MAGNET, CHN, 0.25)]);
    }

    #[test]
    fn missing_names_are_skipped() {
        let mut s = create::<HedgingAlly>(
            r#"suppliers = ["Atlantis", "China", "South Korea", "Japan"]
               markets = ["lithium/carbonate", "rare-earths/magnet"]"#,
            0,
        )
        .unwrap();
        decide(&mut s, &world(0, licence::BAN, 55_000.0));
        assert_eq!(
            tariffs(&decide(&mut s, &world(1, licence::BAN, 55_000.0))),
            vec![(MAGNET, CHN, 0.25)]
        );
        let mut s = ally();
        assert!(
            decide(
                &mut s,
                &ObservationBuilder::new(&["Atlantis"], &[("tin", "ore", 1.0)]).me("Atlantis")
            )
            .is_empty()
        );
    }

    #[test]
    fn rejects_bad_parameters() {
        for (text, needle) in [
            ("tariff = 0.3", "tariff"),
            ("smoothing = 0", "smoothing"),
            ("smoothing = 2", "smoothing"),
            ("min_reliability = 1.2", "min_reliability"),
            ("hedge_tariff = -0.1", "hedge_tariff"),
            ("max_premium = -0.1", "max_premium"),
            ("suppliers = [1, 2]", "suppliers"),
            ("markets = [\"magnet\"]", "commodity/stage"),
        ] {
            let err = create::<HedgingAlly>(text, 0).err().unwrap_or_default();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn joins_the_coalition_and_takes_a_fair_hotline_offtake_in_a_later_round() {
        let mut s = create::<HedgingAlly>("negotiate = true", 0).unwrap();
        let (china, korea) = (NationId(CHN), NationId(2));
        let floor = Term::ClubFloor {
            market: MarketId(MAGNET),
            floor: 60_000.0,
            member_tariff: 0.0,
        };
        let offtake = |price: f64| Term::Offtake {
            seller: china,
            buyer: korea,
            market: MarketId(MAGNET),
            t_per_tick: 50.0,
            price,
            duration_ticks: 6,
            penalty_usd: 0.0,
        };
        let obs = world(3, licence::OPEN, 55_000.0)
            .price("rare-earths", "magnet", "South Korea", 52_000.0)
            .round(1)
            .club_invitation(1, "United States", &["South Korea", "Japan"], &[floor])
            .club_invitation(2, "China", &["South Korea"], &[floor])
            .offer_to_me(3, "China", 1, (0.9, 0.9), 4, &[offtake(51_000.0)]);
        let (actions, moves) = chokepoint_sdk::testing::decide_all(&mut s, &obs);
        assert!(actions.is_empty(), "no policy outside round 0: {actions:?}");
        assert_eq!(
            moves,
            vec![
                Move::Join { session: 1 },
                Move::Decline { session: 2 },
                Move::Accept { session: 3 }
            ]
        );
        let dear = world(3, licence::OPEN, 55_000.0)
            .price("rare-earths", "magnet", "South Korea", 52_000.0)
            .round(1)
            .offer_to_me(3, "China", 1, (0.9, 0.9), 4, &[offtake(60_000.0)]);
        let (_, moves) = chokepoint_sdk::testing::decide_all(&mut s, &dear);
        assert_eq!(moves, vec![Move::Reject { session: 3 }]);
    }
}
