//! `us-coalition`: stockpile, price floors and financed capacity abroad.
//!
//! **Rule.** Every tick, in this order (so money is spent in this order):
//!
//! 1. *Floors.* In each market of `floor_markets`, hold a floor on the landed price of
//!    my imports at `floor_share` x the market's reference price, by a variable levy
//!    ([`Actions::set_floor`]). Set once; re-set only if the floor in force differs.
//! 2. *Capacity abroad.* On the first tick that shows any production, then every
//!    `invest_every` ticks: in each market of `invest_markets` where the `rival`'s share
//!    of last tick's world output is above `dependence`, finance `invest_tpy` t/yr of
//!    capacity at `usd_per_tpy` in the nation of `partners` with the least capacity in
//!    that market (ties: the first listed), if the remaining budget covers it.
//! 3. *Stockpile.* In each market of `stockpile_markets`, with `p` my local price and
//!    `ref` the reference price:
//!    - if `p > release_above x ref` and I hold stock: release up to `step_days` of
//!      consumption, at prices from `release_above x ref` up;
//!    - else if `p < buy_below x ref`: buy up to `step_days` of consumption, at prices up
//!      to `buy_below x ref`, without taking holdings above `target_days` of
//!      consumption, and only what the remaining budget pays for at that limit price.
//!
//!    Consumption is last tick's: everything delivered to me (domestic and imported)
//!    plus my shortage, minus what my own stockpile bought (the rise in holdings) and
//!    minus the part of its last order it did not get (the observed shortage counts a
//!    stockpile's unfilled order too), so the stockpile does not chase its own orders.
//!    A day is `365 / ticks_per_year` of a tick.
//!
//! **Negotiation** (with `negotiate = true`), in round 0 of each tick:
//!
//! 4. *FORGE.* While no club of mine is in force or proposed, propose a public club to
//!    `forge_members`: in each of `forge_markets` a floor of `forge_floor_share` x the
//!    reference price on non-member supply (held by the engine as a levy), no tariffs
//!    among members, exit on 3 ticks' notice with `forge_exit_penalty_usd`.
//! 5. *Frameworks.* To each nation of `frameworks` with no financing agreement of
//!    mine, offer to finance `invest_tpy` t/yr in the first of `invest_markets` at
//!    `usd_per_tpy`, with `framework_share` of it delivered to me at the reference
//!    price for 60 ticks (re-offered every `invest_every` ticks if refused).
//!
//! In any round I accept a swap (a licence hold towards me for my tariff cuts) from a
//! nation I trust at least `min_trust`, and reject other offers.
//!
//! **Why.** It is the US response of 2025-2026 as reported: Project Vault (a stockpile
//! to damp spikes, buying in competition with everyone else), FORGE reference prices
//! held as floors by adjustable tariffs, and capital for capacity in partner countries
//! while China dominates a market. The stockpile buys cheap and sells dear, so it leans
//! against the price and pays for itself when it works; the floor protects coalition
//! producers at the cost of my consumers.
//!
//! Reads: `me`, `tick`, `ticks_per_year`, `budget_usd`, nation and market names,
//! reference prices, my prices, flows into me, my shortages, my stockpiles, floors in
//! force, production and capacity. Names absent from the world are skipped (and logged
//! once).

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

/// Where the 2025-2026 deals put money: separation and magnets. One project size
/// (`invest_tpy`) applies to every listed market, so list markets of a similar scale.
const DEFAULT_INVEST_MARKETS: [&str; 2] = ["rare-earths/oxide", "rare-earths/magnet"];

const PARAMS: [&str; 22] = [
    "stockpile_markets",
    "buy_below",
    "release_above",
    "target_days",
    "step_days",
    "floor_markets",
    "floor_share",
    "invest_markets",
    "rival",
    "dependence",
    "partners",
    "invest_every",
    "invest_tpy",
    "usd_per_tpy",
    "negotiate",
    "forge_members",
    "forge_markets",
    "forge_floor_share",
    "forge_exit_penalty_usd",
    "frameworks",
    "framework_share",
    "min_trust",
];

type MarketName = (String, String);

pub struct UsCoalition {
    stockpile_markets: Vec<MarketName>,
    buy_below: f64,
    release_above: f64,
    target_days: f64,
    step_days: f64,
    floor_markets: Vec<MarketName>,
    floor_share: f64,
    invest_markets: Vec<MarketName>,
    rival: String,
    dependence: f64,
    partners: Vec<String>,
    invest_every: u64,
    invest_tpy: f64,
    usd_per_tpy: f64,
    /// Holdings seen last tick, by market.
    last_holdings: BTreeMap<MarketId, f64>,
    /// The buy order sent last tick, by market (0 if none).
    last_order: BTreeMap<MarketId, f64>,
    /// The tick of the next investment round (None: the first tick with production).
    next_invest: Option<u64>,
    log: Logger,
    warned: bool,
    negotiate: bool,
    forge_members: Vec<String>,
    forge_markets: Vec<MarketName>,
    forge_floor_share: f64,
    forge_exit_penalty_usd: f64,
    frameworks: Vec<String>,
    framework_share: f64,
    min_trust: f64,
}

impl Strategy for UsCoalition {
    fn create(params: &Params, ctx: &Context) -> Result<Self, String> {
        params.unknown_keys(&PARAMS)?;
        let buy_below = params.positive_or("buy_below", 1.1)?;
        let release_above = params.positive_or("release_above", 1.5)?;
        if release_above <= buy_below {
            return Err(format!(
                "`release_above` ({release_above}) must be above `buy_below` ({buy_below}), or the stockpile would buy and sell at the same prices"
            ));
        }
        let invest_every = params.u64_or("invest_every", 12)?;
        if invest_every == 0 {
            return Err("parameter `invest_every` must be at least 1 tick".into());
        }
        let dependence = params.f64_or("dependence", 0.6)?;
        if !(0.0..=1.0).contains(&dependence) {
            return Err(format!(
                "parameter `dependence` is {dependence}; it is a supply share, 0 <= x <= 1"
            ));
        }
        Ok(UsCoalition {
            stockpile_markets: params.markets_or("stockpile_markets", &DEFAULT_MARKETS)?,
            buy_below,
            release_above,
            target_days: params.non_negative_or("target_days", 90.0)?,
            step_days: params.non_negative_or("step_days", 15.0)?,
            floor_markets: params.markets_or("floor_markets", &["rare-earths/oxide"])?,
            floor_share: params.non_negative_or("floor_share", 1.0)?,
            invest_markets: params.markets_or("invest_markets", &DEFAULT_INVEST_MARKETS)?,
            rival: params.str_or("rival", "China")?,
            dependence,
            partners: params.strings_or("partners", &["Australia"])?,
            invest_every,
            invest_tpy: params.non_negative_or("invest_tpy", 2_000.0)?,
            usd_per_tpy: params.non_negative_or("usd_per_tpy", 100_000.0)?,
            last_holdings: BTreeMap::new(),
            last_order: BTreeMap::new(),
            next_invest: None,
            log: ctx.logger(),
            warned: false,
            negotiate: params.bool_or("negotiate", false)?,
            forge_members: params.strings_or(
                "forge_members",
                &["Japan", "South Korea", "EU", "Australia"],
            )?,
            forge_markets: params.markets_or(
                "forge_markets",
                &["rare-earths/oxide", "rare-earths/magnet"],
            )?,
            forge_floor_share: params.non_negative_or("forge_floor_share", 1.0)?,
            forge_exit_penalty_usd: params.non_negative_or("forge_exit_penalty_usd", 1e8)?,
            frameworks: params.strings_or("frameworks", &["Australia"])?,
            framework_share: params.fraction_or("framework_share", 0.5)?,
            min_trust: params.fraction_or("min_trust", 0.4)?,
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
        let mut budget = obs.budget_usd().max(0.0);
        self.floors(obs, actions);
        self.invest(obs, actions, &mut budget);
        self.stockpile(obs, actions, &mut budget);
    }
}

impl UsCoalition {
    /// FORGE, financing frameworks, and answers to offers (see the crate docs).
    fn negotiate(&mut self, obs: &Observation, actions: &mut Actions) {
        let me = obs.me();
        for offer in obs.offers_to_me() {
            let trusted = obs.trust(me, offer.from).unwrap_or(0.5) >= self.min_trust;
            // A swap: their licence hold towards me for my tariff cut on them.
            let hold_for_me = offer
                .terms
                .iter()
                .any(|t| matches!(*t, Term::LicenceHold { destination, .. } if destination == me));
            let only_swap = offer.terms.iter().all(|t| match *t {
                Term::LicenceHold { destination, .. } => destination == me,
                Term::Tariff { importer, .. } => importer == me,
                _ => false,
            });
            if trusted && hold_for_me && only_swap {
                actions.accept(offer.session);
            } else {
                actions.reject(offer.session);
            }
        }
        if obs.round() > 0 {
            return;
        }
        let sessions = obs.sessions();
        let agreements = obs.agreements();
        // FORGE: a public club with floors on non-member supply.
        let forge_live = agreements.iter().any(|a| {
            a.kind == SessionKind::Club
                && a.status == AgreementStatus::Active
                && a.members.first().is_some_and(|m| m.0 == me)
        });
        let forge_pending = sessions.iter().any(|s| {
            s.kind == SessionKind::Club && s.opener == me && s.status == SessionStatus::Open
        });
        let members = resolve_nations(obs, &self.forge_members, me);
        if !forge_live && !forge_pending && !members.is_empty() {
            let mut terms: Vec<Term> = resolve_markets(obs, &self.forge_markets)
                .into_iter()
                .map(|m| Term::ClubFloor {
                    market: m,
                    floor: self.forge_floor_share * obs.reference_price(m),
                    member_tariff: 0.0,
                })
                .collect();
            terms.push(Term::ClubExit {
                notice_ticks: 3,
                penalty_usd: self.forge_exit_penalty_usd,
            });
            actions.open_club(&members, &terms, true, 2);
        }
        // Financing frameworks: capacity in a partner, part of it delivered to me.
        let Some(&m) = resolve_markets(obs, &self.invest_markets).first() else {
            return;
        };
        for p in resolve_nations(obs, &self.frameworks, me) {
            let bound = agreements.iter().any(|a| {
                a.status == AgreementStatus::Active
                    && a.terms
                        .iter()
                        .any(|t| matches!(*t, Term::Finance { host, .. } if host == p))
            });
            let recent = sessions.iter().any(|s| {
                s.opener == me
                    && s.parties.iter().any(|x| x.0 == p)
                    && s.deadline_tick + self.invest_every > obs.tick()
            });
            if bound || recent || self.invest_tpy <= 0.0 {
                continue;
            }
            if self.invest_tpy * self.usd_per_tpy > obs.budget_usd() {
                continue;
            }
            actions.open(
                p,
                &[Term::Finance {
                    funder: me,
                    host: p,
                    market: m,
                    t_per_year: self.invest_tpy,
                    usd_per_tpy: self.usd_per_tpy,
                    offtake_share: self.framework_share,
                    offtake_price: obs.reference_price(m),
                    duration_ticks: 60,
                }],
                OpenOptions {
                    deadline_rounds: 2,
                    deadline_ticks: 1,
                    ..OpenOptions::default()
                },
            );
        }
    }

    fn floors(&self, obs: &Observation, actions: &mut Actions) {
        let me = obs.me();
        for m in resolve_markets(obs, &self.floor_markets) {
            let floor = self.floor_share * obs.reference_price(m);
            let in_force = obs.floor(m, me).unwrap_or(0.0);
            if (in_force - floor).abs() > 1e-9 * floor.max(1.0) {
                actions.set_floor(m, floor);
            }
        }
    }

    fn invest(&mut self, obs: &Observation, actions: &mut Actions, budget: &mut f64) {
        let tick = obs.tick();
        if self.invest_tpy <= 0.0 || self.next_invest.is_some_and(|t| tick < t) {
            return;
        }
        let markets = resolve_markets(obs, &self.invest_markets);
        if !markets.iter().any(|&m| obs.world_production(m) > 0.0) {
            return; // no data yet (the first tick): wait for it
        }
        self.next_invest = Some(tick + self.invest_every);
        let Some(rival) = obs.nation_id(&self.rival) else {
            return;
        };
        let partners: Vec<NationId> = self
            .partners
            .iter()
            .filter_map(|p| obs.nation_id(p))
            .filter(|&p| p != rival)
            .collect();
        let cost = self.invest_tpy * self.usd_per_tpy;
        for m in markets {
            if obs.supply_share(m, rival) <= self.dependence || cost > *budget {
                continue;
            }
            let mut least: Option<(f64, NationId)> = None;
            for &p in &partners {
                let c = obs.capacity(m, p);
                if least.is_none_or(|(best, _)| c < best) {
                    least = Some((c, p));
                }
            }
            if let Some((_, host)) = least {
                actions.invest(m, host, self.invest_tpy, self.usd_per_tpy);
                *budget -= cost;
            }
        }
    }

    fn stockpile(&mut self, obs: &Observation, actions: &mut Actions, budget: &mut f64) {
        let me = obs.me();
        let days_per_tick = 365.0 / f64::from(obs.ticks_per_year().max(1));
        for m in resolve_markets(obs, &self.stockpile_markets) {
            let holdings = obs.stockpile(m).map_or(0.0, |s| s.holdings_t).max(0.0);
            let bought =
                (holdings - self.last_holdings.insert(m, holdings).unwrap_or(0.0)).max(0.0);
            let delivered: f64 = obs
                .flows()
                .filter(|f| f.market == m && f.to == me)
                .map(|f| f.quantity_t)
                .sum();
            // The shortage observed includes my stockpile's unfilled order: take it out.
            let ordered = self.last_order.insert(m, 0.0).unwrap_or(0.0);
            let unfilled = (ordered - bought).max(0.0);
            let shortage = (obs.shortage(m, me) - unfilled).max(0.0);
            let consumption = (delivered + shortage - bought).max(0.0);
            let per_day = consumption / days_per_tick;
            let (cap, step) = (self.target_days * per_day, self.step_days * per_day);
            let Some(price) = obs.price(m, me) else {
                continue;
            };
            let reference = obs.reference_price(m);
            if reference <= 0.0 {
                continue;
            }
            if price > self.release_above * reference {
                let t = step.min(holdings);
                if t > 0.0 {
                    actions.stockpile_release(m, t, self.release_above * reference);
                }
            } else if price < self.buy_below * reference {
                let limit = self.buy_below * reference;
                let t = step.min(cap - holdings).min(*budget / limit);
                if t > 0.0 {
                    actions.stockpile_buy(m, t, limit);
                    self.last_order.insert(m, t);
                    *budget -= t * limit;
                }
            }
        }
    }

    fn warn_missing(&mut self, obs: &Observation) {
        if self.warned {
            return;
        }
        self.warned = true;
        for n in self.partners.iter().chain(std::iter::once(&self.rival)) {
            if obs.nation_id(n).is_none() {
                self.log
                    .warn(&format!("nation `{n}` is not in this world; skipped"));
            }
        }
        let all = self
            .stockpile_markets
            .iter()
            .chain(&self.floor_markets)
            .chain(&self.invest_markets);
        let mut seen: Vec<&MarketName> = Vec::new();
        for name in all {
            if !seen.contains(&name) && obs.market_id(&name.0, &name.1).is_none() {
                self.log.warn(&format!(
                    "market {}/{} is not in this world; skipped",
                    name.0, name.1
                ));
            }
            seen.push(name);
        }
    }
}

/// Nations named in `list` that exist, without `me` and without repeats, in list order.
fn resolve_nations(obs: &Observation, list: &[String], me: NationId) -> Vec<NationId> {
    let mut out: Vec<NationId> = Vec::new();
    for n in list.iter().filter_map(|n| obs.nation_id(n)) {
        if n != me && !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

fn resolve_markets(obs: &Observation, names: &[MarketName]) -> Vec<MarketId> {
    let mut out: Vec<MarketId> = Vec::new();
    for m in names.iter().filter_map(|(c, s)| obs.market_id(c, s)) {
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

chokepoint_sdk::export_strategy!(UsCoalition, "us-coalition");

#[cfg(test)]
mod tests {
    use super::*;
    use chokepoint_sdk::abi::{self, action};
    use chokepoint_sdk::testing::{ObservationBuilder, create, decide};

    const NATIONS: [&str; 5] = [
        "Australia",
        "China",
        "Japan",
        "South Korea",
        "United States",
    ];
    const AUS: u32 = 0;
    const JPN: u32 = 2;
    const KOR: u32 = 3;
    const OXIDE: u32 = 0;
    const MAGNET: u32 = 1;
    /// 600 t delivered per tick (monthly): 19.73 t/day.
    const PER_DAY: f64 = 600.0 * 12.0 / 365.0;

    /// The US takes 500 t of magnets from China and 100 t from Japan a tick; China makes
    /// 90% of the world's magnets and oxide.
    fn world(tick: u64, us_magnet_price: f64) -> ObservationBuilder {
        ObservationBuilder::new(
            &NATIONS,
            &[
                ("rare-earths", "oxide", 69_000.0),
                ("rare-earths", "magnet", 60_000.0),
            ],
        )
        .me("United States")
        .tick(tick)
        .budget(12e9)
        .price("rare-earths", "magnet", "United States", us_magnet_price)
        .price("rare-earths", "oxide", "United States", 69_000.0)
        .flow(
            "rare-earths",
            "magnet",
            "China",
            "United States",
            500.0,
            57_000.0,
        )
        .flow(
            "rare-earths",
            "magnet",
            "Japan",
            "United States",
            100.0,
            57_000.0,
        )
        .production("rare-earths", "magnet", "China", 900.0, 1_000.0)
        .production("rare-earths", "magnet", "Japan", 100.0, 120.0)
        .production("rare-earths", "oxide", "China", 90.0, 100.0)
        .production("rare-earths", "oxide", "Australia", 10.0, 12.0)
    }

    /// Stockpile and nothing else, buying below 0.9 x reference.
    fn stockpile_only(extra: &str) -> UsCoalition {
        create::<UsCoalition>(
            &format!("floor_markets = []\ninvest_tpy = 0\nbuy_below = 0.9\n{extra}"),
            0,
        )
        .unwrap()
    }

    fn of_kind(actions: &[abi::Action], kind: u32) -> Vec<abi::Action> {
        actions.iter().filter(|a| a.kind == kind).copied().collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn buys_below_the_threshold_a_step_at_a_time_at_a_capped_price() {
        let mut s = stockpile_only("");
        let got = decide(&mut s, &world(1, 50_000.0));
        assert_eq!(got.len(), 1);
        let buy = got[0];
        assert_eq!((buy.kind, buy.market), (action::STOCKPILE_BUY, MAGNET));
        assert!(close(buy.value, 15.0 * PER_DAY), "{}", buy.value);
        assert!(close(buy.price, 0.9 * 60_000.0));
    }

    #[test]
    fn does_not_buy_above_the_threshold_or_beyond_target_days() {
        let mut s = stockpile_only("");
        assert!(decide(&mut s, &world(1, 55_000.0)).is_empty());
        // Holding 85 days: only the 5 days left to 90 are bought.
        let mut s = stockpile_only("");
        let obs = world(1, 50_000.0).stockpile("rare-earths", "magnet", 85.0 * PER_DAY, 12e9);
        s.last_holdings.insert(MarketId(MAGNET), 85.0 * PER_DAY);
        let buy = of_kind(&decide(&mut s, &obs), action::STOCKPILE_BUY);
        assert!(close(buy[0].value, 5.0 * PER_DAY), "{}", buy[0].value);
        // Holding 90 days: nothing.
        let obs = world(2, 50_000.0).stockpile("rare-earths", "magnet", 90.0 * PER_DAY, 12e9);
        s.last_holdings.insert(MarketId(MAGNET), 90.0 * PER_DAY);
        assert!(decide(&mut s, &obs).is_empty());
    }

    #[test]
    fn releases_on_a_spike_from_the_release_price_up() {
        let mut s = stockpile_only("");
        let obs = world(1, 95_000.0).stockpile("rare-earths", "magnet", 100.0, 12e9);
        s.last_holdings.insert(MarketId(MAGNET), 100.0);
        let got = decide(&mut s, &obs);
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].kind, got[0].market),
            (action::STOCKPILE_RELEASE, MAGNET)
        );
        assert!(
            close(got[0].value, 100.0),
            "all it holds, less than 15 days"
        );
        assert!(close(got[0].price, 1.5 * 60_000.0));
        // Big holdings: 15 days a tick.
        let obs = world(2, 95_000.0).stockpile("rare-earths", "magnet", 5_000.0, 12e9);
        s.last_holdings.insert(MarketId(MAGNET), 5_000.0);
        let got = decide(&mut s, &obs);
        assert!(close(got[0].value, 15.0 * PER_DAY));
        // Nothing to release: nothing.
        let mut s = stockpile_only("");
        assert!(decide(&mut s, &world(1, 95_000.0)).is_empty());
    }

    #[test]
    fn buys_only_what_the_budget_pays_for() {
        let mut s = stockpile_only("");
        let got = decide(&mut s, &world(1, 50_000.0).budget(54_000.0 * 10.0));
        assert!(close(got[0].value, 10.0));
        let mut s = stockpile_only("");
        assert!(decide(&mut s, &world(1, 50_000.0).budget(0.0)).is_empty());
    }

    #[test]
    fn consumption_excludes_the_stockpiles_own_purchases() {
        let mut s = stockpile_only("");
        decide(&mut s, &world(0, 50_000.0));
        // Tick 1: 200 t more arrived, and holdings rose by 200 t: that was the stockpile.
        let obs = world(1, 50_000.0)
            .flow(
                "rare-earths",
                "magnet",
                "Australia",
                "United States",
                200.0,
                54_000.0,
            )
            .stockpile("rare-earths", "magnet", 200.0, 12e9);
        let buy = of_kind(&decide(&mut s, &obs), action::STOCKPILE_BUY);
        assert!(close(buy[0].value, 15.0 * PER_DAY), "{}", buy[0].value);
        // A shortage counts as consumption wanted.
        let mut s = stockpile_only("");
        let obs = world(1, 50_000.0).shortage("rare-earths", "magnet", "United States", 600.0);
        let buy = of_kind(&decide(&mut s, &obs), action::STOCKPILE_BUY);
        assert!(close(buy[0].value, 30.0 * PER_DAY), "{}", buy[0].value);
    }

    #[test]
    fn its_own_unfilled_order_is_not_counted_as_consumption() {
        let mut s = stockpile_only("");
        let first = of_kind(&decide(&mut s, &world(0, 50_000.0)), action::STOCKPILE_BUY);
        // Tick 1: nothing was filled, and the engine reports the whole order as the
        // nation's shortage.
        let obs =
            world(1, 50_000.0).shortage("rare-earths", "magnet", "United States", first[0].value);
        let buy = of_kind(&decide(&mut s, &obs), action::STOCKPILE_BUY);
        assert!(close(buy[0].value, 15.0 * PER_DAY), "{}", buy[0].value);
    }

    #[test]
    fn holds_a_floor_at_floor_share_of_the_reference_price() {
        let mut s = create::<UsCoalition>(
            "invest_tpy = 0\nstockpile_markets = []\nfloor_share = 1.2",
            0,
        )
        .unwrap();
        let got = decide(&mut s, &world(0, 60_000.0));
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].kind, got[0].market), (action::SET_FLOOR, OXIDE));
        assert!(close(got[0].value, 1.2 * 69_000.0));
    }

    #[test]
    fn a_floor_in_force_is_not_set_again() {
        let mut s = create::<UsCoalition>("invest_tpy = 0\nstockpile_markets = []", 0).unwrap();
        let obs = world(3, 60_000.0);
        let floors = [abi::FloorObs {
            market: OXIDE,
            importer: 4,
            floor_usd_per_t: 69_000.0,
        }];
        // The builder has no floors; splice one into the raw observation.
        let mut out = Vec::new();
        obs.with_raw(|raw| {
            let raw = abi::Observation {
                floors: abi::View::of(&floors),
                ..copy(raw)
            };
            // SAFETY: every view points into `obs` or `floors`, alive for the call.
            let o = unsafe { Observation::from_raw(&raw) };
            s.decide(&o, &mut Actions::collect_into(&mut out));
        });
        assert!(out.is_empty(), "{out:?}");
    }

    fn copy(r: &abi::Observation) -> abi::Observation {
        abi::Observation {
            tick: r.tick,
            ticks_per_year: r.ticks_per_year,
            me: r.me,
            budget_usd: r.budget_usd,
            nations: r.nations,
            markets: r.markets,
            prices: r.prices,
            flows: r.flows,
            production: r.production,
            shortages: r.shortages,
            tariffs: r.tariffs,
            licences: r.licences,
            floors: r.floors,
            firms: r.firms,
            stockpiles: r.stockpiles,
            pipeline: r.pipeline,
            round: r.round,
            rounds_per_tick: r.rounds_per_tick,
            sessions: r.sessions,
            offers: r.offers,
            agreements: r.agreements,
            members: r.members,
            terms: r.terms,
            trust: r.trust,
            history: r.history,
            notices: r.notices,
        }
    }

    fn investor(extra: &str) -> UsCoalition {
        create::<UsCoalition>(
            &format!("floor_markets = []\nstockpile_markets = []\n{extra}"),
            0,
        )
        .unwrap()
    }

    #[test]
    fn finances_the_partner_with_the_least_capacity_where_china_dominates() {
        let mut s = investor(
            r#"partners = ["Japan", "South Korea", "Australia"]
                               invest_markets = ["rare-earths/magnet"]
                               invest_tpy = 600
                               usd_per_tpy = 50000"#,
        );
        let got = decide(&mut s, &world(1, 60_000.0));
        assert_eq!(got.len(), 1);
        let a = got[0];
        assert_eq!((a.kind, a.market), (action::INVEST, MAGNET));
        // South Korea and Australia have no magnet capacity: the least; South Korea is
        // listed first.
        assert_eq!(a.nation, KOR);
        assert_eq!((a.value, a.price), (600.0, 50_000.0));
    }

    #[test]
    fn invests_every_invest_every_ticks_from_the_first_tick_with_data() {
        let mut s = investor("invest_every = 3");
        // Tick 0 has no production yet: no round.
        let empty = ObservationBuilder::new(&NATIONS, &[("rare-earths", "magnet", 60_000.0)])
            .me("United States")
            .budget(12e9);
        assert!(decide(&mut s, &empty).is_empty());
        let rounds: Vec<u64> = (1..9)
            .filter(|&t| !decide(&mut s, &world(t, 60_000.0)).is_empty())
            .collect();
        assert_eq!(rounds, vec![1, 4, 7]);
    }

    #[test]
    fn invests_only_above_dependence_and_within_budget() {
        // Default partner Australia; both markets are 90% Chinese: two investments.
        let mut s = investor("");
        let got = decide(&mut s, &world(1, 60_000.0));
        let hosts: Vec<(u32, u32)> = got.iter().map(|a| (a.market, a.nation)).collect();
        assert_eq!(hosts, vec![(OXIDE, AUS), (MAGNET, AUS)]);
        // Dependence 0.95: none.
        let mut s = investor("dependence = 0.95");
        assert!(decide(&mut s, &world(1, 60_000.0)).is_empty());
        // Budget for one project of 2,000 t/yr x 100,000 USD: only the first market.
        let mut s = investor("");
        let got = decide(&mut s, &world(1, 60_000.0).budget(250e6));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].market, OXIDE);
    }

    #[test]
    fn spends_on_investment_before_the_stockpile() {
        let mut s = create::<UsCoalition>(
            r#"floor_markets = []
               buy_below = 0.9
               invest_markets = ["rare-earths/magnet"]
               partners = ["Japan"]"#,
            0,
        )
        .unwrap();
        // 200m for the project leaves 54,000 x 10 for the stockpile.
        let got = decide(&mut s, &world(1, 50_000.0).budget(200e6 + 540_000.0));
        assert_eq!(got[0].kind, action::INVEST);
        assert_eq!(got[0].nation, JPN);
        assert_eq!(got[1].kind, action::STOCKPILE_BUY);
        assert!(close(got[1].value, 10.0));
    }

    #[test]
    fn missing_names_are_skipped() {
        let mut s = create::<UsCoalition>(
            r#"rival = "Atlantis"
               partners = ["Lemuria"]
               floor_markets = ["lithium/carbonate"]
               stockpile_markets = ["lithium/carbonate"]"#,
            0,
        )
        .unwrap();
        assert!(decide(&mut s, &world(1, 50_000.0)).is_empty());
        let mut s = create::<UsCoalition>("partners = [\"Lemuria\"]", 0).unwrap();
        let got = decide(&mut s, &world(1, 60_000.0));
        assert!(of_kind(&got, action::INVEST).is_empty());
        let mut s = create::<UsCoalition>("", 0).unwrap();
        assert!(decide(&mut s, &ObservationBuilder::new(&["Atlantis"], &[])).is_empty());
    }

    #[test]
    fn rejects_bad_parameters() {
        for (text, needle) in [
            ("stockpile = 1", "stockpile"),
            ("buy_below = 0", "buy_below"),
            ("buy_below = 1.2\nrelease_above = 1.1", "release_above"),
            ("target_days = -5", "target_days"),
            ("dependence = 60", "dependence"),
            ("invest_every = 0", "invest_every"),
            ("partners = \"Australia\"", "partners"),
            ("rival = 3", "rival"),
            ("floor_markets = [\"oxide\"]", "commodity/stage"),
        ] {
            let err = create::<UsCoalition>(text, 0).err().unwrap_or_default();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn proposes_forge_and_accepts_a_swap_from_a_trusted_nation() {
        let mut s = create::<UsCoalition>(
            "negotiate = true\nstockpile_markets = []\nfloor_markets = []\ninvest_tpy = 0",
            0,
        )
        .unwrap();
        let (us, china, oxide) = (NationId(4), NationId(1), MarketId(0));
        let (_, moves) = chokepoint_sdk::testing::decide_all(&mut s, &world(0, 60_000.0));
        let Some(Move::OpenClub {
            invitees,
            terms,
            public,
            ..
        }) = moves.first()
        else {
            panic!("FORGE proposed: {moves:?}")
        };
        assert!(*public);
        assert_eq!(invitees, &vec![NationId(JPN), NationId(KOR), NationId(AUS)]);
        assert!(terms.contains(&Term::ClubFloor {
            market: oxide,
            floor: 69_000.0,
            member_tariff: 0.0
        }));
        let swap = [
            Term::Tariff {
                importer: us,
                exporter: china,
                market: oxide,
                rate: 0.0,
                duration_ticks: 12,
            },
            Term::LicenceHold {
                exporter: china,
                destination: us,
                market: oxide,
                duration_ticks: 12,
            },
        ];
        let trusted = world(1, 60_000.0)
            .round(1)
            .trust("United States", "China", 0.5)
            .offer_to_me(7, "China", 1, (0.95, 0.95), 2, &swap);
        let (_, moves) = chokepoint_sdk::testing::decide_all(&mut s, &trusted);
        assert_eq!(moves, vec![Move::Accept { session: 7 }]);
        let burnt = world(1, 60_000.0)
            .round(1)
            .trust("United States", "China", 0.2)
            .offer_to_me(7, "China", 1, (0.95, 0.95), 2, &swap);
        let (_, moves) = chokepoint_sdk::testing::decide_all(&mut s, &burnt);
        assert_eq!(moves, vec![Move::Reject { session: 7 }]);
    }
}
