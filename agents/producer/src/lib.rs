//! `producer`: a resource-rich exporter that sells to the best net price.
//!
//! **Rule.** Every tick, in each market it watches:
//!
//! 1. *Lift own controls.* Towards every destination where it has a licence regime other
//!    than open (a delay, a quota or a ban), it sets [`Licence::Open`]. An exporter that
//!    wants the best price sells to everyone.
//! 2. *Invest when abroad pays.* The best net price abroad in a market is the highest
//!    local price of another nation net of that nation's tariff on me,
//!    `max_d price(d) / (1 + tariff(d on me))`. When my domestic price is below it by more
//!    than `export_margin` (as a fraction of the price abroad), the market is a
//!    candidate. Among candidates where I already produce, where I have no project of my
//!    own under construction in my territory, it picks the one with the lowest
//!    `supply share / capacity utilisation` — which is `my capacity / world output`, so
//!    the market where I am smallest relative to its size — and finances `invest_tpy`
//!    t/yr of capacity at home at `usd_per_tpy`, if the budget covers it. At most one
//!    investment per tick.
//!
//! **Why.** It is the counterfactual to a controlling incumbent: a supplier that treats
//! minerals as a business (Australia, or China played as a pure profit maximiser).
//! Trade costs are not observed, so `export_margin` stands for them plus the margin that
//! makes a new plant worth building; a project of its own already in the pipeline
//! blocks another in the same market, so it does not pile up projects while the first
//! is built.
//!
//! **Negotiation** (with `negotiate = true`): I accept capacity financed in my country
//! (whatever offtake comes with it) and offtakes in which I sell at no less than my own
//! price; I join clubs proposed by a nation in `clubs_of`; I reject everything else.
//!
//! Reads: `me`, `budget_usd`, market names, prices, tariffs, licences, production and
//! capacity, pipeline. Markets named in the parameters but absent from the world are
//! skipped (and logged once).

use chokepoint_sdk::prelude::*;

/// Negotiation as a business: accept capacity financed here and offtakes that sell at
/// my price at least; join clubs proposed by `clubs_of` (their floors raise what I sell
/// for); reject the rest.
fn answer(obs: &Observation, actions: &mut Actions, clubs_of: &[String]) {
    let me = obs.me();
    for s in obs.sessions() {
        if s.kind == SessionKind::Club
            && s.status == SessionStatus::Open
            && s.standing(me) == Some(Standing::Invited)
        {
            if clubs_of.iter().any(|n| obs.nation_id(n) == Some(s.opener)) {
                actions.join(s.id);
            } else {
                actions.decline(s.id);
            }
        }
    }
    for offer in obs.offers_to_me() {
        let good = offer.terms.iter().all(|t| match *t {
            Term::Finance { host, .. } => host == me,
            Term::Offtake {
                seller,
                market,
                price,
                ..
            } => seller == me && obs.price(market, me).is_some_and(|p| price >= p),
            _ => false,
        });
        if good {
            actions.accept(offer.session);
        } else {
            actions.reject(offer.session);
        }
    }
}

/// The bundled world's markets (`worlds/critical-minerals-2026.toml`).
const DEFAULT_MARKETS: [&str; 5] = [
    "rare-earths/mined",
    "rare-earths/oxide",
    "rare-earths/magnet",
    "gallium/primary",
    "gallium/refined",
];

const PARAMS: [&str; 6] = [
    "markets",
    "export_margin",
    "invest_tpy",
    "usd_per_tpy",
    "negotiate",
    "clubs_of",
];

pub struct Producer {
    markets: Vec<(String, String)>,
    export_margin: f64,
    invest_tpy: f64,
    usd_per_tpy: f64,
    log: Logger,
    warned: bool,
    negotiate: bool,
    clubs_of: Vec<String>,
}

impl Strategy for Producer {
    fn create(params: &Params, ctx: &Context) -> Result<Self, String> {
        params.unknown_keys(&PARAMS)?;
        let export_margin = params.f64_or("export_margin", 0.1)?;
        if !(0.0..1.0).contains(&export_margin) {
            return Err(format!(
                "parameter `export_margin` is {export_margin}; it is a fraction of the price abroad, 0 <= x < 1 (0.1 = 10%)"
            ));
        }
        let invest_tpy = params.non_negative_or("invest_tpy", 2_000.0)?;
        let usd_per_tpy = params.non_negative_or("usd_per_tpy", 20_000.0)?;
        Ok(Producer {
            markets: params.markets_or("markets", &DEFAULT_MARKETS)?,
            export_margin,
            invest_tpy,
            usd_per_tpy,
            log: ctx.logger(),
            warned: false,
            negotiate: params.bool_or("negotiate", false)?,
            clubs_of: params.strings_or("clubs_of", &["United States"])?,
        })
    }

    fn decide(&mut self, obs: &Observation, actions: &mut Actions) {
        if self.negotiate {
            answer(obs, actions, &self.clubs_of);
        }
        if obs.round() > 0 {
            return; // later rounds are for answering offers only
        }
        let me = obs.me();
        let markets = self.resolve(obs);

        // 1. Lift every export restriction of mine.
        for &m in &markets {
            for d in obs.nations().filter(|&d| d != me) {
                if obs.licence(m, me, d) != Licence::Open {
                    actions.set_licence(m, d, Licence::Open);
                }
            }
        }

        // 2. Invest at home where the price abroad pays more than the margin.
        let cost = self.invest_tpy * self.usd_per_tpy;
        if self.invest_tpy <= 0.0 || cost > obs.budget_usd() {
            return;
        }
        let mut best: Option<(f64, MarketId)> = None;
        for &m in &markets {
            let Some(score) = self.candidate_score(obs, m) else {
                continue;
            };
            if best.is_none_or(|(s, _)| score < s) {
                best = Some((score, m));
            }
        }
        if let Some((_, m)) = best {
            actions.invest(m, me, self.invest_tpy, self.usd_per_tpy);
        }
    }
}

impl Producer {
    /// `supply share / utilisation` if `m` is a candidate for investment, else None.
    fn candidate_score(&self, obs: &Observation, m: MarketId) -> Option<f64> {
        let me = obs.me();
        let home = obs.price(m, me)?;
        let abroad = best_net_price_abroad(obs, m)?;
        if home >= abroad * (1.0 - self.export_margin) {
            return None;
        }
        let (produced, capacity) = (obs.production(m, me), obs.capacity(m, me));
        if produced <= 0.0 || capacity <= 0.0 {
            return None;
        }
        let building = obs
            .pipeline()
            .any(|p| p.market == m && p.host == me && p.funder == me && p.capacity_t > 0.0);
        if building {
            return None;
        }
        Some(obs.supply_share(m, me) / (produced / capacity))
    }

    fn resolve(&mut self, obs: &Observation) -> Vec<MarketId> {
        let found: Vec<Option<MarketId>> = self
            .markets
            .iter()
            .map(|(c, s)| obs.market_id(c, s))
            .collect();
        if !self.warned {
            self.warned = true;
            for ((c, s), id) in self.markets.iter().zip(&found) {
                if id.is_none() {
                    self.log
                        .warn(&format!("market {c}/{s} is not in this world; skipped"));
                }
            }
        }
        found.into_iter().flatten().collect()
    }
}

/// The highest local price abroad, net of that importer's tariff on me.
fn best_net_price_abroad(obs: &Observation, m: MarketId) -> Option<f64> {
    let me = obs.me();
    obs.nations()
        .filter(|&d| d != me)
        .filter_map(|d| {
            let p = obs.price(m, d)?;
            Some(p / (1.0 + obs.tariff(m, d, me)))
        })
        .filter(|p| p.is_finite() && *p > 0.0)
        .reduce(f64::max)
}

chokepoint_sdk::export_strategy!(Producer, "producer");

#[cfg(test)]
mod tests {
    use super::*;
    use chokepoint_sdk::abi::{self, action, licence};
    use chokepoint_sdk::testing::{ObservationBuilder, create, decide};

    const NATIONS: [&str; 4] = ["Australia", "China", "Japan", "United States"];

    fn world() -> ObservationBuilder {
        ObservationBuilder::new(
            &NATIONS,
            &[
                ("rare-earths", "mined", 5_000.0),
                ("rare-earths", "oxide", 69_000.0),
            ],
        )
        .me("Australia")
        .tick(3)
        .budget(1e9)
        // Australia: a small miner and a smaller separator, both running at 90%.
        .production("rare-earths", "mined", "Australia", 2_700.0, 3_000.0)
        .production("rare-earths", "mined", "China", 22_000.0, 26_000.0)
        .production("rare-earths", "oxide", "Australia", 90.0, 100.0)
        .production("rare-earths", "oxide", "China", 6_500.0, 7_600.0)
    }

    /// Home prices well below what Japan pays, in both markets.
    fn gap_everywhere() -> ObservationBuilder {
        world()
            .price("rare-earths", "mined", "Australia", 4_000.0)
            .price("rare-earths", "mined", "Japan", 6_000.0)
            .price("rare-earths", "oxide", "Australia", 60_000.0)
            .price("rare-earths", "oxide", "Japan", 90_000.0)
    }

    fn invests(actions: &[abi::Action]) -> Vec<&abi::Action> {
        actions
            .iter()
            .filter(|a| a.kind == action::INVEST)
            .collect()
    }

    #[test]
    fn lifts_every_own_restriction_and_no_one_elses() {
        let obs = world()
            .licence(
                "rare-earths",
                "oxide",
                "Australia",
                "China",
                licence::BAN,
                0.0,
                0,
            )
            .licence(
                "rare-earths",
                "mined",
                "Australia",
                "Japan",
                licence::LICENSED,
                0.0,
                3,
            )
            .licence(
                "rare-earths",
                "mined",
                "China",
                "Japan",
                licence::BAN,
                0.0,
                0,
            );
        let mut s = create::<Producer>("invest_tpy = 0", 0).unwrap();
        let actions = decide(&mut s, &obs);
        let mut opened: Vec<(u32, u32)> = actions
            .iter()
            .filter(|a| a.kind == action::SET_LICENCE)
            .inspect(|a| assert_eq!(a.licence, licence::OPEN))
            .map(|a| (a.market, a.nation))
            .collect();
        opened.sort();
        // mined = market 0, oxide = market 1; China = 1, Japan = 2.
        assert_eq!(opened, vec![(0, 2), (1, 1)]);
        assert_eq!(actions.len(), 2);
    }

    #[test]
    fn invests_where_it_is_smallest_relative_to_the_market() {
        // Australia's capacity / world output: mined 3,000/24,700 = 0.12; oxide
        // 100/6,590 = 0.015. Oxide wins.
        let mut s = create::<Producer>("invest_tpy = 500\nusd_per_tpy = 1000", 0).unwrap();
        let actions = decide(&mut s, &gap_everywhere());
        let inv = invests(&actions);
        assert_eq!(inv.len(), 1);
        assert_eq!(inv[0].market, 1);
        assert_eq!(inv[0].nation, 0, "at home");
        assert_eq!((inv[0].value, inv[0].price), (500.0, 1000.0));
    }

    #[test]
    fn no_investment_when_the_gap_is_within_the_margin() {
        // 60,000 vs 64,000 abroad: 6.25% below, margin 10%.
        let obs = world()
            .price("rare-earths", "oxide", "Australia", 60_000.0)
            .price("rare-earths", "oxide", "Japan", 64_000.0);
        let mut s = create::<Producer>("", 0).unwrap();
        assert!(invests(&decide(&mut s, &obs)).is_empty());
        // The same gap with a 5% margin is enough.
        let mut s = create::<Producer>("export_margin = 0.05", 0).unwrap();
        assert_eq!(invests(&decide(&mut s, &obs)).len(), 1);
    }

    #[test]
    fn the_price_abroad_is_net_of_the_importers_tariff_on_me() {
        // Japan pays 90,000 but taxes Australian oxide at 50%: 60,000 net, no gap.
        let obs = world()
            .price("rare-earths", "oxide", "Australia", 60_000.0)
            .price("rare-earths", "oxide", "Japan", 90_000.0)
            .tariff("rare-earths", "oxide", "Japan", "Australia", 0.5);
        let mut s = create::<Producer>("", 0).unwrap();
        assert!(invests(&decide(&mut s, &obs)).is_empty());
    }

    #[test]
    fn no_investment_beyond_the_budget() {
        let mut s = create::<Producer>("invest_tpy = 500\nusd_per_tpy = 1000", 0).unwrap();
        assert!(invests(&decide(&mut s, &gap_everywhere().budget(499_999.0))).is_empty());
        assert_eq!(
            invests(&decide(&mut s, &gap_everywhere().budget(500_000.0))).len(),
            1
        );
    }

    #[test]
    fn one_project_at_a_time_per_market() {
        // Oxide already building: the next best candidate, mined, gets the money.
        let obs =
            gap_everywhere().pipeline("rare-earths", "oxide", "Australia", "Australia", 10.0, 99);
        let mut s = create::<Producer>("", 0).unwrap();
        let actions = decide(&mut s, &obs);
        let inv = invests(&actions);
        assert_eq!(inv.len(), 1);
        assert_eq!(inv[0].market, 0);
        // A project financed by someone else does not count as mine.
        let obs = gap_everywhere().pipeline(
            "rare-earths",
            "oxide",
            "Australia",
            "United States",
            10.0,
            99,
        );
        assert_eq!(invests(&decide(&mut s, &obs))[0].market, 1);
    }

    #[test]
    fn no_investment_where_it_does_not_produce() {
        let obs = ObservationBuilder::new(&NATIONS, &[("gallium", "refined", 500_000.0)])
            .me("Australia")
            .budget(1e12)
            .price("gallium", "refined", "Australia", 100_000.0)
            .price("gallium", "refined", "Japan", 900_000.0)
            .production("gallium", "refined", "Japan", 9.0, 10.0);
        let mut s = create::<Producer>("", 0).unwrap();
        assert!(decide(&mut s, &obs).is_empty());
    }

    #[test]
    fn markets_missing_from_the_world_are_skipped() {
        let mut s =
            create::<Producer>(r#"markets = ["lithium/carbonate", "rare-earths/oxide"]"#, 0)
                .unwrap();
        let actions = decide(&mut s, &gap_everywhere());
        assert_eq!(invests(&actions)[0].market, 1);
        let mut s = create::<Producer>("", 0).unwrap();
        assert!(decide(&mut s, &ObservationBuilder::new(&["Australia"], &[])).is_empty());
    }

    #[test]
    fn rejects_bad_parameters() {
        for (text, needle) in [
            ("margin = 0.1", "margin"),
            ("export_margin = 1.5", "export_margin"),
            ("export_margin = -0.1", "export_margin"),
            ("invest_tpy = -1", "invest_tpy"),
            ("usd_per_tpy = \"cheap\"", "usd_per_tpy"),
            ("markets = [\"rare-earths\"]", "commodity/stage"),
            ("markets = \"rare-earths/oxide\"", "markets"),
        ] {
            let err = create::<Producer>(text, 0).err().unwrap_or_default();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
