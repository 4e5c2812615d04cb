//! `china-controls`: the incumbent's export-licence ladder and price suppression.
//!
//! **Rule.** In each watched market where my share of world output is at least
//! `dominance` (last tick's production), every tick:
//!
//! 1. *Escalate against expanding targets.* For each nation in `targets`, if its
//!    capacity in the market grew since the previous tick, or a project in the market is
//!    under construction that it hosts or finances (`pipeline`), my licence towards it
//!    climbs one rung of the ladder
//!
//!    `Open -> Licensed { delay_ticks } -> Quota(quota_fraction x last flow) -> Ban`
//!
//!    at most once every `escalate_every` ticks. "Last flow" is the last non-zero
//!    shipment from me to it in this market that I observed (a quota of 0 if none was).
//!    The rung is read from the licence in force, so licences set by the world's
//!    timeline are climbed from where they stand.
//! 2. *Relax towards cooperators.* Every `relax_every` ticks (ticks that are a positive
//!    multiple of it), my licence towards each nation in `cooperators` steps one rung
//!    down, towards `Open`, in every watched market, dominated or not.
//! 3. *Flood when rival capacity comes online.* When a target's capacity in a dominated
//!    market grows and is then above `rival_trigger` x my own capacity there, I open
//!    that market fully to every nation except that target for `flood_ticks` ticks, so
//!    the world price falls and the new capacity enters a glutted market. During the
//!    flood, only the target's licence moves on the ladder. When the flood ends, the
//!    licences it lifted are put back (where they are still open). One flood per market
//!    at a time.
//!
//! In the engine, `Licensed { d }` stops shipments for `d` ticks from when it is set and
//! then lets them through; `Quota(q)` caps them for as long as it stands. So a step
//! down from a quota to a licence pauses shipments for `d` ticks before they are free.
//!
//! **Why.** It plays the controls of 2023-2025 as reported: licences by destination and
//! commodity with delays, quotas and refusals rather than a blanket ban; pressure on
//! whoever builds alternative supply; stability for those who cooperate; cheap supply
//! that undercuts rivals trying to diversify. `stockpile_release` is not used: China has
//! no stockpile in the bundled world, so the flood is done with licences alone.
//!
//! **Negotiation** (with `negotiate = true`). Every `offer_every` ticks, in round 0:
//!
//! 4. *Licence holds for tariff cuts.* To each nation in `swap_partners` that taxes my
//!    exports in a watched market while my licence towards it is not open, I offer a
//!    swap in a private session: it cuts those tariffs to 0, I open those licences and
//!    impose none stricter, both for `hold_ticks` (October 2025).
//! 5. *Court hedgers privately.* To each nation in `hedgers` I ship to in a market I
//!    dominate, I offer an offtake of `court_share` x last tick's flow at
//!    `court_discount` below my price, for `hold_ticks`.
//!
//! I accept swaps that cut a tariff on me, and offtakes in which I sell to a
//! non-target at no less than `1 - court_discount` of my price; I reject the rest. I
//! honour my holds: a nation under a hold of mine is not escalated against, and a
//! flood's end does not re-impose a licence towards it.
//!
//! Reads: `me`, `tick`, nation and market names, production and capacity (supply share,
//! capacity growth), flows from me, licences in force, pipeline. Names absent from the
//! world are skipped (and logged once); the deciding nation is never its own target.

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
const DEFAULT_TARGETS: [&str; 4] = ["United States", "Japan", "EU", "Australia"];
const DEFAULT_COOPERATORS: [&str; 2] = ["South Korea", "Rest of world"];

const PARAMS: [&str; 19] = [
    "negotiate",
    "swap_partners",
    "hedgers",
    "hold_ticks",
    "offer_every",
    "court_share",
    "court_discount",
    "min_trust",
    "targets",
    "cooperators",
    "markets",
    "dominance",
    "delay_ticks",
    "quota_fraction",
    "escalate_every",
    "relax_every",
    "rival_trigger",
    "flood_ticks",
    "growth_tolerance",
];

/// A flood in one market.
#[derive(Debug, Clone)]
struct Flood {
    target: NationId,
    until_tick: u64,
    /// Licences lifted when it began, to restore when it ends.
    lifted: Vec<(NationId, Licence)>,
}

pub struct ChinaControls {
    targets: Vec<String>,
    cooperators: Vec<String>,
    markets: Vec<(String, String)>,
    dominance: f64,
    delay_ticks: u32,
    quota_fraction: f64,
    escalate_every: u64,
    relax_every: u64,
    rival_trigger: f64,
    flood_ticks: u64,
    growth_tolerance: f64,
    /// Capacity of each target last tick, by (market, nation).
    last_capacity: BTreeMap<(MarketId, NationId), f64>,
    /// Last non-zero flow from me, by (market, destination).
    last_flow: BTreeMap<(MarketId, NationId), f64>,
    /// Tick of the last escalation, by (market, target).
    last_step: BTreeMap<(MarketId, NationId), u64>,
    floods: BTreeMap<MarketId, Flood>,
    log: Logger,
    warned: bool,
    negotiate: bool,
    swap_partners: Vec<String>,
    hedgers: Vec<String>,
    hold_ticks: u32,
    offer_every: u64,
    court_share: f64,
    court_discount: f64,
    min_trust: f64,
    /// Licence holds I owe: (market, destination), refreshed from my agreements.
    holds: Vec<(MarketId, NationId)>,
}

/// The ladder's rungs: 0 open, 1 licensed, 2 quota, 3 ban.
fn rung(l: Licence) -> u8 {
    match l {
        Licence::Open => 0,
        Licence::Licensed { .. } => 1,
        Licence::Quota(_) => 2,
        Licence::Ban => 3,
    }
}

impl Strategy for ChinaControls {
    fn create(params: &Params, ctx: &Context) -> Result<Self, String> {
        params.unknown_keys(&PARAMS)?;
        let targets = params.strings_or("targets", &DEFAULT_TARGETS)?;
        let cooperators = params.strings_or("cooperators", &DEFAULT_COOPERATORS)?;
        if let Some(both) = targets.iter().find(|t| cooperators.contains(t)) {
            return Err(format!(
                "`{both}` is in both `targets` and `cooperators`; a nation can be only one"
            ));
        }
        let dominance = params.fraction_or("dominance", 0.6)?;
        let quota_fraction = params.fraction_or("quota_fraction", 0.5)?;
        let rival_trigger = params.f64_or("rival_trigger", 0.1)?;
        if rival_trigger < 0.0 {
            return Err(format!(
                "parameter `rival_trigger` is {rival_trigger}; it is a share of my capacity, >= 0 (0.1 = 10%)"
            ));
        }
        let delay = params.u64_or("delay_ticks", 3)?;
        let delay_ticks = u32::try_from(delay)
            .ok()
            .filter(|&d| d >= 1)
            .ok_or_else(|| {
                format!(
                    "parameter `delay_ticks` is {delay}; it must be between 1 and {}",
                    u32::MAX
                )
            })?;
        let escalate_every = params.u64_or("escalate_every", 1)?;
        if escalate_every == 0 {
            return Err("parameter `escalate_every` must be at least 1 tick".into());
        }
        let growth_tolerance = params.f64_or("growth_tolerance", 1e-6)?;
        if growth_tolerance < 0.0 {
            return Err(format!(
                "parameter `growth_tolerance` is {growth_tolerance}; it must be >= 0"
            ));
        }
        Ok(ChinaControls {
            targets,
            cooperators,
            markets: params.markets_or("markets", &DEFAULT_MARKETS)?,
            dominance,
            delay_ticks,
            quota_fraction,
            escalate_every,
            relax_every: params.u64_or("relax_every", 6)?,
            rival_trigger,
            flood_ticks: params.u64_or("flood_ticks", 12)?,
            growth_tolerance,
            last_capacity: BTreeMap::new(),
            last_flow: BTreeMap::new(),
            last_step: BTreeMap::new(),
            floods: BTreeMap::new(),
            log: ctx.logger(),
            warned: false,
            negotiate: params.bool_or("negotiate", false)?,
            swap_partners: params.strings_or("swap_partners", &["United States"])?,
            hedgers: params.strings_or("hedgers", &["South Korea"])?,
            hold_ticks: params.u64_or("hold_ticks", 12)?.min(u32::MAX as u64) as u32,
            offer_every: params.u64_or("offer_every", 6)?.max(1),
            court_share: params.fraction_or("court_share", 0.5)?,
            court_discount: params.fraction_or("court_discount", 0.05)?,
            min_trust: params.fraction_or("min_trust", 0.2)?,
            holds: Vec::new(),
        })
    }

    fn decide(&mut self, obs: &Observation, actions: &mut Actions) {
        self.holds = holds_of(obs);
        if self.negotiate {
            self.negotiate(obs, actions);
        }
        if obs.round() > 0 {
            return; // later rounds are for answering offers only
        }
        self.warn_missing(obs);
        let me = obs.me();
        let tick = obs.tick();
        let targets = resolve_nations(obs, &self.targets, me);
        let cooperators = resolve_nations(obs, &self.cooperators, me);
        let markets: Vec<MarketId> = self
            .markets
            .iter()
            .filter_map(|(c, s)| obs.market_id(c, s))
            .collect();
        let relax_now = self.relax_every > 0 && tick > 0 && tick.is_multiple_of(self.relax_every);

        for &m in &markets {
            for d in obs.nations().filter(|&d| d != me) {
                let f = obs.flow(m, me, d);
                if f > 0.0 {
                    self.last_flow.insert((m, d), f);
                }
            }
            self.end_flood(obs, m, actions);
            let dominant = obs.supply_share(m, me) >= self.dominance;
            let my_capacity = obs.capacity(m, me);

            for &t in &targets {
                let capacity = obs.capacity(m, t);
                let grew = self
                    .last_capacity
                    .insert((m, t), capacity)
                    .is_some_and(|before| capacity > before * (1.0 + self.growth_tolerance));
                if !dominant {
                    continue;
                }
                let building = obs
                    .pipeline()
                    .any(|p| p.market == m && (p.host == t || p.funder == t) && p.capacity_t > 0.0);
                let flooded_for_other = self.floods.get(&m).is_some_and(|f| f.target != t);
                if (grew || building) && !flooded_for_other {
                    self.escalate(obs, m, t, actions);
                }
                if grew
                    && !self.floods.contains_key(&m)
                    && self.flood_ticks > 0
                    && my_capacity > 0.0
                    && capacity > self.rival_trigger * my_capacity
                {
                    self.start_flood(obs, m, t, actions);
                }
            }

            if relax_now {
                for &c in &cooperators {
                    if self.floods.get(&m).is_some_and(|f| f.target != c) {
                        continue; // already open for the flood
                    }
                    let current = obs.licence(m, me, c);
                    if let Some(r) = rung(current).checked_sub(1) {
                        actions.set_licence(m, c, self.licence_at(r, m, c));
                    }
                }
            }
        }
    }
}

impl ChinaControls {
    /// The licence on rung `r` towards `d` in `m`.
    fn licence_at(&self, r: u8, m: MarketId, d: NationId) -> Licence {
        match r {
            0 => Licence::Open,
            1 => Licence::Licensed {
                delay_ticks: self.delay_ticks,
            },
            2 => Licence::Quota(
                self.quota_fraction * self.last_flow.get(&(m, d)).copied().unwrap_or(0.0),
            ),
            _ => Licence::Ban,
        }
    }

    fn escalate(&mut self, obs: &Observation, m: MarketId, t: NationId, actions: &mut Actions) {
        if self.holds.contains(&(m, t)) {
            return; // a hold I agreed to
        }
        let tick = obs.tick();
        if self
            .last_step
            .get(&(m, t))
            .is_some_and(|&at| tick < at + self.escalate_every)
        {
            return;
        }
        let r = rung(obs.licence(m, obs.me(), t));
        if r >= 3 {
            return;
        }
        actions.set_licence(m, t, self.licence_at(r + 1, m, t));
        self.last_step.insert((m, t), tick);
    }

    fn start_flood(
        &mut self,
        obs: &Observation,
        m: MarketId,
        target: NationId,
        actions: &mut Actions,
    ) {
        let me = obs.me();
        let mut lifted = Vec::new();
        for d in obs.nations().filter(|&d| d != me && d != target) {
            let current = obs.licence(m, me, d);
            if current != Licence::Open {
                lifted.push((d, current));
                actions.set_licence(m, d, Licence::Open);
            }
        }
        self.log.info(&format!(
            "flooding {}/{} against {} until tick {}",
            obs.commodity(m),
            obs.stage(m),
            obs.nation_name(target),
            obs.tick() + self.flood_ticks
        ));
        self.floods.insert(
            m,
            Flood {
                target,
                until_tick: obs.tick() + self.flood_ticks,
                lifted,
            },
        );
    }

    fn end_flood(&mut self, obs: &Observation, m: MarketId, actions: &mut Actions) {
        if self
            .floods
            .get(&m)
            .is_none_or(|f| obs.tick() < f.until_tick)
        {
            return;
        }
        if let Some(flood) = self.floods.remove(&m) {
            for (d, licence) in flood.lifted {
                if obs.licence(m, obs.me(), d) == Licence::Open && !self.holds.contains(&(m, d)) {
                    actions.set_licence(m, d, licence);
                }
            }
        }
    }

    fn negotiate(&mut self, obs: &Observation, actions: &mut Actions) {
        let me = obs.me();
        let targets = resolve_nations(obs, &self.targets, me);
        for offer in obs.offers_to_me() {
            let trusted = obs.trust(me, offer.from).unwrap_or(0.5) >= self.min_trust;
            let cuts_on_me = offer.terms.iter().any(|t| {
                matches!(*t, Term::Tariff { exporter, importer, market, rate, .. }
                    if exporter == me && rate < obs.tariff(market, importer, me))
            });
            let fair_sales = offer.terms.iter().all(|t| match *t {
                Term::Offtake {
                    seller,
                    buyer,
                    market,
                    price,
                    ..
                } if seller == me => {
                    !targets.contains(&buyer)
                        && obs
                            .price(market, me)
                            .is_some_and(|p| price >= p * (1.0 - self.court_discount))
                }
                Term::Offtake { .. } | Term::Finance { .. } | Term::Transfer { .. } => false,
                _ => true,
            });
            let sells = offer
                .terms
                .iter()
                .any(|t| matches!(t, Term::Offtake { .. }));
            if trusted && fair_sales && (cuts_on_me || sells) {
                actions.accept(offer.session);
            } else {
                actions.reject(offer.session);
            }
        }
        let tick = obs.tick();
        if obs.round() > 0 || !tick.is_multiple_of(self.offer_every) {
            return;
        }
        let markets: Vec<MarketId> = self
            .markets
            .iter()
            .filter_map(|(c, s)| obs.market_id(c, s))
            .collect();
        let sessions = obs.sessions();
        let busy = |n: NationId| {
            sessions.iter().any(|s| {
                s.status == SessionStatus::Open
                    && s.parties.iter().any(|p| p.0 == n)
                    && s.parties.iter().any(|p| p.0 == me)
            })
        };
        let agreements = obs.agreements();
        let bound = |n: NationId| {
            agreements.iter().any(|a| {
                a.status == AgreementStatus::Active
                    && a.kind == SessionKind::Bilateral
                    && a.is_member(n)
                    && a.is_member(me)
            })
        };
        for p in resolve_nations(obs, &self.swap_partners, me) {
            if busy(p) || bound(p) {
                continue;
            }
            let mut terms = Vec::new();
            for &m in &markets {
                if obs.tariff(m, p, me) > 0.0 {
                    terms.push(Term::Tariff {
                        importer: p,
                        exporter: me,
                        market: m,
                        rate: 0.0,
                        duration_ticks: self.hold_ticks,
                    });
                }
            }
            let cuts = terms.len();
            for &m in &markets {
                if obs.licence(m, me, p) != Licence::Open {
                    terms.push(Term::LicenceHold {
                        exporter: me,
                        destination: p,
                        market: m,
                        duration_ticks: self.hold_ticks,
                    });
                }
            }
            if cuts > 0 && terms.len() > cuts {
                actions.open(
                    p,
                    &terms,
                    OpenOptions {
                        deadline_rounds: 2,
                        deadline_ticks: 1,
                        ..OpenOptions::default()
                    },
                );
            }
        }
        for h in resolve_nations(obs, &self.hedgers, me) {
            if busy(h) || bound(h) {
                continue;
            }
            let terms: Vec<Term> = markets
                .iter()
                .filter(|&&m| obs.supply_share(m, me) >= self.dominance)
                .filter_map(|&m| {
                    let flow = obs.flow(m, me, h);
                    let price = obs.price(m, me)?;
                    (flow > 0.0).then_some(Term::Offtake {
                        seller: me,
                        buyer: h,
                        market: m,
                        t_per_tick: self.court_share * flow,
                        price: price * (1.0 - self.court_discount),
                        duration_ticks: self.hold_ticks,
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

    fn warn_missing(&mut self, obs: &Observation) {
        if self.warned {
            return;
        }
        self.warned = true;
        for n in self.targets.iter().chain(&self.cooperators) {
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

/// Licence holds I owe under agreements in force: (market, destination).
fn holds_of(obs: &Observation) -> Vec<(MarketId, NationId)> {
    let me = obs.me();
    obs.agreements()
        .iter()
        .filter(|a| a.status == AgreementStatus::Active)
        .flat_map(|a| a.terms.clone())
        .filter_map(|t| match t {
            Term::LicenceHold {
                exporter,
                destination,
                market,
                ..
            } if exporter == me => Some((market, destination)),
            _ => None,
        })
        .collect()
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

chokepoint_sdk::export_strategy!(ChinaControls, "china-controls");

#[cfg(test)]
mod tests {
    use super::*;
    use chokepoint_sdk::abi::{self, action, licence};
    use chokepoint_sdk::testing::{self, ObservationBuilder, create, decide};

    // Nation ids follow name order, as in the engine.
    const NATIONS: [&str; 7] = [
        "Australia",
        "China",
        "EU",
        "Japan",
        "Rest of world",
        "South Korea",
        "United States",
    ];
    const AUS: u32 = 0;
    const EU: u32 = 2;
    const JPN: u32 = 3;
    const ROW: u32 = 4;
    const KOR: u32 = 5;
    const USA: u32 = 6;
    const OXIDE: u32 = 0;
    const GALLIUM: u32 = 1;

    /// China makes 6,500 of 7,000 t of oxide (93%) and 20 of 60 t of gallium (33%).
    fn world(tick: u64, us_oxide_capacity: f64) -> ObservationBuilder {
        world_with(tick, us_oxide_capacity, &[])
    }

    /// `world`, with some (commodity, stage, nation, produced, capacity) rows replaced.
    /// (The builder's `production` appends, so a row is given once.)
    fn world_with(
        tick: u64,
        us_oxide_capacity: f64,
        replace: &[(&str, &str, &str, f64, f64)],
    ) -> ObservationBuilder {
        let rows = [
            ("rare-earths", "oxide", "China", 6_500.0, 7_600.0),
            ("rare-earths", "oxide", "Rest of world", 400.0, 600.0),
            (
                "rare-earths",
                "oxide",
                "United States",
                100.0,
                us_oxide_capacity,
            ),
            ("gallium", "refined", "China", 20.0, 27.0),
            ("gallium", "refined", "Japan", 40.0, 45.0),
        ];
        let mut obs = ObservationBuilder::new(
            &NATIONS,
            &[
                ("rare-earths", "oxide", 69_000.0),
                ("gallium", "refined", 500_000.0),
            ],
        )
        .me("China")
        .tick(tick);
        for row in rows {
            let (c, st, n, p, k) = replace
                .iter()
                .copied()
                .find(|r| (r.0, r.1, r.2) == (row.0, row.1, row.2))
                .unwrap_or(row);
            obs = obs.production(c, st, n, p, k);
        }
        obs
    }

    /// (market, destination, licence) of every licence action.
    fn licences(actions: &[abi::Action]) -> Vec<(u32, u32, Licence)> {
        actions
            .iter()
            .filter(|a| a.kind == action::SET_LICENCE)
            .map(|a| {
                let l = match a.licence {
                    licence::OPEN => Licence::Open,
                    licence::BAN => Licence::Ban,
                    licence::QUOTA => Licence::Quota(a.value),
                    _ => Licence::Licensed {
                        delay_ticks: a.delay_ticks,
                    },
                };
                (a.market, a.nation, l)
            })
            .collect()
    }

    fn china() -> ChinaControls {
        create::<ChinaControls>("", 0).unwrap()
    }

    #[test]
    fn tightens_licence_toward_a_coalition_member_when_its_capacity_grows() {
        let mut s = china();
        assert!(
            decide(&mut s, &world(0, 190.0)).is_empty(),
            "first tick: nothing to compare"
        );
        assert!(
            decide(&mut s, &world(1, 190.0)).is_empty(),
            "no growth, no pipeline"
        );
        let a = decide(&mut s, &world(2, 200.0));
        assert_eq!(
            licences(&a),
            vec![(OXIDE, USA, Licence::Licensed { delay_ticks: 3 })]
        );
    }

    #[test]
    fn climbs_one_rung_at_a_time_to_a_ban() {
        let mut s = china();
        // Tick 0: 80 t shipped to the US (remembered for the quota).
        decide(
            &mut s,
            &world(0, 190.0).flow(
                "rare-earths",
                "oxide",
                "China",
                "United States",
                80.0,
                70_000.0,
            ),
        );
        // Tick 1: licensed (so nothing shipped); capacity grows again: quota of 50% of 80 t.
        let obs = world(1, 200.0).licence(
            "rare-earths",
            "oxide",
            "China",
            "United States",
            licence::LICENSED,
            0.0,
            3,
        );
        assert_eq!(
            licences(&decide(&mut s, &obs)),
            vec![(OXIDE, USA, Licence::Quota(40.0))]
        );
        let obs = world(2, 210.0).licence(
            "rare-earths",
            "oxide",
            "China",
            "United States",
            licence::QUOTA,
            40.0,
            0,
        );
        assert_eq!(
            licences(&decide(&mut s, &obs)),
            vec![(OXIDE, USA, Licence::Ban)]
        );
        // The top rung: nothing more to do.
        let obs = world(3, 220.0).licence(
            "rare-earths",
            "oxide",
            "China",
            "United States",
            licence::BAN,
            0.0,
            0,
        );
        assert!(licences(&decide(&mut s, &obs)).is_empty());
    }

    #[test]
    fn a_project_under_construction_escalates_its_host_and_its_funder() {
        let mut s = china();
        let obs = world(0, 190.0).pipeline(
            "rare-earths",
            "oxide",
            "Australia",
            "United States",
            50.0,
            96,
        );
        let mut got = licences(&decide(&mut s, &obs));
        got.sort_by_key(|x| x.1);
        let licensed = Licence::Licensed { delay_ticks: 3 };
        assert_eq!(got, vec![(OXIDE, AUS, licensed), (OXIDE, USA, licensed)]);
    }

    #[test]
    fn only_dominated_markets_and_only_targets_are_escalated() {
        let mut s = china();
        decide(&mut s, &world(0, 190.0));
        // Japan expands gallium, where China has 33%: below dominance 0.6.
        // South Korea (cooperator) builds oxide; so does a nation in neither list.
        let obs = world_with(
            1,
            190.0,
            &[
                ("gallium", "refined", "Japan", 40.0, 60.0),
                ("rare-earths", "oxide", "Rest of world", 400.0, 900.0),
            ],
        )
        .pipeline(
            "rare-earths",
            "oxide",
            "South Korea",
            "South Korea",
            10.0,
            96,
        );
        assert!(decide(&mut s, &obs).is_empty());
        // With dominance lowered to 0.3, gallium counts.
        let mut s = create::<ChinaControls>("dominance = 0.3", 0).unwrap();
        decide(&mut s, &world(0, 190.0));
        let obs = world_with(1, 190.0, &[("gallium", "refined", "Japan", 40.0, 60.0)]);
        let l = Licence::Licensed { delay_ticks: 3 };
        assert_eq!(licences(&decide(&mut s, &obs)), vec![(GALLIUM, JPN, l)]);
    }

    #[test]
    fn relaxes_one_rung_toward_cooperators_every_relax_every_ticks() {
        let restrictive = |tick| {
            world(tick, 190.0)
                .licence(
                    "rare-earths",
                    "oxide",
                    "China",
                    "South Korea",
                    licence::BAN,
                    0.0,
                    0,
                )
                .licence(
                    "rare-earths",
                    "oxide",
                    "China",
                    "Rest of world",
                    licence::LICENSED,
                    0.0,
                    2,
                )
                .licence(
                    "gallium",
                    "refined",
                    "China",
                    "South Korea",
                    licence::LICENSED,
                    0.0,
                    2,
                )
                .licence(
                    "rare-earths",
                    "oxide",
                    "China",
                    "Japan",
                    licence::BAN,
                    0.0,
                    0,
                )
        };
        let mut s = china();
        for tick in 0..6 {
            assert!(decide(&mut s, &restrictive(tick)).is_empty(), "tick {tick}");
        }
        let got = licences(&decide(&mut s, &restrictive(6)));
        // South Korea's quota is 50% of the last flow seen: none was, so 0 t.
        // In `cooperators` order: South Korea, then Rest of world.
        assert_eq!(
            got,
            vec![
                (OXIDE, KOR, Licence::Quota(0.0)),
                (OXIDE, ROW, Licence::Open),
                (GALLIUM, KOR, Licence::Open),
            ]
        );
        assert!(decide(&mut s, &restrictive(7)).is_empty());
    }

    #[test]
    fn floods_a_market_when_rival_capacity_comes_online_then_restores() {
        let mut s = china();
        let controls = |tick, us: f64| {
            world(tick, us)
                .licence(
                    "rare-earths",
                    "oxide",
                    "China",
                    "Japan",
                    licence::LICENSED,
                    0.0,
                    2,
                )
                .licence("rare-earths", "oxide", "China", "EU", licence::BAN, 0.0, 0)
                .licence(
                    "rare-earths",
                    "oxide",
                    "China",
                    "United States",
                    licence::LICENSED,
                    0.0,
                    2,
                )
        };
        decide(&mut s, &controls(0, 190.0));
        // US capacity jumps to 1,000 t, above 10% of China's 7,600 t.
        let got = licences(&decide(&mut s, &controls(1, 1_000.0)));
        assert_eq!(
            got,
            vec![
                (OXIDE, USA, Licence::Quota(0.0)), // the ladder still climbs for the target
                (OXIDE, EU, Licence::Open),
                (OXIDE, JPN, Licence::Open),
            ]
        );
        // During the flood, other targets expanding are not escalated; the target
        // keeps climbing while it builds more.
        let flooded = |tick, us_kind| {
            world(tick, 1_000.0)
                .licence(
                    "rare-earths",
                    "oxide",
                    "China",
                    "United States",
                    us_kind,
                    0.0,
                    0,
                )
                .pipeline("rare-earths", "oxide", "Japan", "Japan", 10.0, 96)
                .pipeline(
                    "rare-earths",
                    "oxide",
                    "United States",
                    "United States",
                    10.0,
                    96,
                )
        };
        let got = licences(&decide(&mut s, &flooded(2, licence::QUOTA)));
        assert_eq!(got, vec![(OXIDE, USA, Licence::Ban)]);
        for tick in 3..13 {
            let a = decide(&mut s, &flooded(tick, licence::BAN));
            assert!(a.is_empty(), "tick {tick}: {a:?}");
        }
        // Tick 13 = 1 + flood_ticks: the lifted licences come back, in nation order.
        let obs = world(13, 1_000.0).licence(
            "rare-earths",
            "oxide",
            "China",
            "United States",
            licence::BAN,
            0.0,
            0,
        );
        let got = licences(&decide(&mut s, &obs));
        assert_eq!(
            got,
            vec![
                (OXIDE, EU, Licence::Ban),
                (OXIDE, JPN, Licence::Licensed { delay_ticks: 2 }),
            ]
        );
    }

    #[test]
    fn small_rival_growth_does_not_trigger_a_flood() {
        let mut s = china();
        decide(
            &mut s,
            &world(0, 190.0).licence(
                "rare-earths",
                "oxide",
                "China",
                "Japan",
                licence::BAN,
                0.0,
                0,
            ),
        );
        let obs = world(1, 700.0).licence(
            "rare-earths",
            "oxide",
            "China",
            "Japan",
            licence::BAN,
            0.0,
            0,
        );
        let got = licences(&decide(&mut s, &obs));
        assert_eq!(
            got,
            vec![(OXIDE, USA, Licence::Licensed { delay_ticks: 3 })]
        );
    }

    #[test]
    fn escalate_every_paces_the_ladder() {
        let mut s = create::<ChinaControls>("escalate_every = 3\nflood_ticks = 0", 0).unwrap();
        let building = |tick, l: Option<(u32, f64, u32)>| {
            let obs = world(tick, 190.0).pipeline(
                "rare-earths",
                "oxide",
                "United States",
                "United States",
                10.0,
                96,
            );
            match l {
                Some((k, q, d)) => {
                    obs.licence("rare-earths", "oxide", "China", "United States", k, q, d)
                }
                None => obs,
            }
        };
        assert_eq!(licences(&decide(&mut s, &building(0, None))).len(), 1);
        let licensed = Some((licence::LICENSED, 0.0, 3));
        assert!(decide(&mut s, &building(1, licensed)).is_empty());
        assert!(decide(&mut s, &building(2, licensed)).is_empty());
        assert_eq!(
            licences(&decide(&mut s, &building(3, licensed))),
            vec![(OXIDE, USA, Licence::Quota(0.0))]
        );
    }

    #[test]
    fn missing_names_and_self_are_skipped() {
        let mut s = create::<ChinaControls>(
            r#"targets = ["Atlantis", "China", "United States"]
               cooperators = ["Lemuria"]
               markets = ["lithium/carbonate", "rare-earths/oxide"]"#,
            0,
        )
        .unwrap();
        decide(&mut s, &world(0, 190.0));
        let obs = world_with(
            1,
            200.0,
            &[("rare-earths", "oxide", "China", 6_500.0, 9_000.0)],
        );
        let got = licences(&decide(&mut s, &obs));
        assert_eq!(
            got,
            vec![(OXIDE, USA, Licence::Licensed { delay_ticks: 3 })]
        );
        // A world with none of the default names.
        let mut s = china();
        let tiny = ObservationBuilder::new(&["Atlantis"], &[("tin", "ore", 1.0)]).me("Atlantis");
        assert!(decide(&mut s, &tiny).is_empty());
    }

    #[test]
    fn rejects_bad_parameters() {
        for (text, needle) in [
            ("target = [\"Japan\"]", "target"),
            ("targets = \"Japan\"", "targets"),
            ("cooperators = [\"Japan\"]", "both"),
            ("dominance = 1.5", "dominance"),
            ("quota_fraction = -0.5", "quota_fraction"),
            ("delay_ticks = 0", "delay_ticks"),
            ("escalate_every = 0", "escalate_every"),
            ("rival_trigger = -1", "rival_trigger"),
            ("flood_ticks = 2.5", "flood_ticks"),
            ("markets = [\"oxide\"]", "commodity/stage"),
        ] {
            let err = create::<ChinaControls>(text, 0).err().unwrap_or_default();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    fn negotiator() -> ChinaControls {
        create::<ChinaControls>("negotiate = true\nmarkets = [\"rare-earths/oxide\"]", 0).unwrap()
    }

    #[test]
    fn offers_a_licence_hold_for_a_tariff_cut_and_honours_holds() {
        let mut s = negotiator();
        let obs = world(6, 100.0)
            .price("rare-earths", "oxide", "China", 60_000.0)
            .tariff("rare-earths", "oxide", "United States", "China", 0.25)
            .licence(
                "rare-earths",
                "oxide",
                "China",
                "United States",
                abi::licence::LICENSED,
                0.0,
                3,
            );
        let (_, moves) = testing::decide_all(&mut s, &obs);
        let (us, china, oxide) = (NationId(6), NationId(1), MarketId(0));
        let Some(Move::Open {
            counterparty,
            terms,
            ..
        }) = moves.first()
        else {
            panic!("a swap offer: {moves:?}")
        };
        assert_eq!(*counterparty, us);
        assert!(terms.contains(&Term::Tariff {
            importer: us,
            exporter: china,
            market: oxide,
            rate: 0.0,
            duration_ticks: 12
        }));
        assert!(terms.contains(&Term::LicenceHold {
            exporter: china,
            destination: us,
            market: oxide,
            duration_ticks: 12
        }));
        // With the hold agreed, US capacity growth no longer escalates the licence.
        let hold = Term::LicenceHold {
            exporter: china,
            destination: us,
            market: oxide,
            duration_ticks: 12,
        };
        let mut s = negotiator();
        testing::decide(&mut s, &world(1, 100.0));
        let grown =
            world(2, 500.0).agreement(1, abi::neg::BILATERAL, &["China", "United States"], &[hold]);
        let actions = testing::decide(&mut s, &grown);
        assert!(licences(&actions).is_empty(), "{actions:?}");
    }

    #[test]
    fn answers_offers_in_later_rounds_without_repeating_its_policy() {
        let mut s = negotiator();
        let (sk, china, oxide) = (NationId(5), NationId(1), MarketId(0));
        let fair = [Term::Offtake {
            seller: china,
            buyer: sk,
            market: oxide,
            t_per_tick: 10.0,
            price: 59_000.0,
            duration_ticks: 6,
            penalty_usd: 0.0,
        }];
        let obs = world(3, 500.0)
            .price("rare-earths", "oxide", "China", 60_000.0)
            .round(1)
            .offer_to_me(1, "South Korea", 1, (0.9, 0.9), 4, &fair);
        let (actions, moves) = testing::decide_all(&mut s, &obs);
        assert!(actions.is_empty(), "no policy in round 1: {actions:?}");
        assert_eq!(moves, vec![Move::Accept { session: 1 }]);
        let cheap = [Term::Offtake {
            seller: china,
            buyer: sk,
            market: oxide,
            t_per_tick: 10.0,
            price: 30_000.0,
            duration_ticks: 6,
            penalty_usd: 0.0,
        }];
        let obs = world(3, 500.0)
            .price("rare-earths", "oxide", "China", 60_000.0)
            .round(1)
            .offer_to_me(1, "South Korea", 1, (0.9, 0.9), 4, &cheap);
        let (_, moves) = testing::decide_all(&mut s, &obs);
        assert_eq!(moves, vec![Move::Reject { session: 1 }]);
    }
}
