//! Validation of the adaptation tables: demand adjustment fields, recycling streams and
//! plants, the firms' investment rule on stages, and lever events.
//!
//! A child of `validate` so it shares the validator's error reporting, but kept in its
//! own file because these tables are optional and independent of the static model.

use std::collections::BTreeMap;

use super::*;

/// Event kinds that are levers (handled here) rather than policy changes.
pub(super) const LEVER_KINDS: &[&str] = &[
    "recycling_subsidy",
    "fund_recycling",
    "substitution_research",
    "capacity_subsidy",
    "stock_mandate",
];

/// Default payback period of the investment rule.
pub const DEFAULT_PAYBACK_YEARS: f64 = 5.0;
/// Default size of one firm investment, as a share of its capacity.
pub const DEFAULT_EXPANSION_SHARE: f64 = 0.1;
/// Default half-life of demand adjustment when only the long-run elasticity is given.
pub const DEFAULT_HALF_LIFE_YEARS: f64 = 2.0;
/// Weibull lifetimes are cut where this much of the distribution is covered.
const WEIBULL_COVER: f64 = 0.999;
/// Longest lifetime accepted, in years (scrap history is kept for this long).
const MAX_LIFETIME_YEARS: f64 = 100.0;

impl Validator<'_> {
    /// Adjustment fields of one demand entry, if it has any.
    pub(super) fn demand_adaptation(
        &mut self,
        d: &RawDemand,
        nation: NationId,
        index: usize,
        ticks_per_year: f64,
    ) -> Option<DemandAdaptation> {
        let Some(lr) = &d.long_run_elasticity else {
            for (field, span) in [
                (
                    "adjustment_half_life_years",
                    d.adjustment_half_life_years.as_ref().map(|x| x.span()),
                ),
                ("hysteresis", d.hysteresis.as_ref().map(|x| x.span())),
                (
                    "research_lag_years",
                    d.research_lag_years.as_ref().map(|x| x.span()),
                ),
            ] {
                if let Some(span) = span {
                    self.err(
                        span,
                        format!("{field} is only read with long_run_elasticity"),
                        "add long_run_elasticity = ... (>= elasticity) to this demand entry, or remove the field",
                    );
                }
            }
            if let Some(r) = &d.research_usd_per_pct {
                self.err(
                    r.span(),
                    "research_usd_per_pct needs long_run_elasticity",
                    "substitution research works through the demand's adjustment: add long_run_elasticity = ... (>= elasticity)",
                );
            }
            return None;
        };
        let short = *d.elasticity.get_ref();
        let long_run_elasticity = self.number(
            lr,
            "long_run_elasticity",
            |x| x >= short,
            &format!(
                ">= the short-run elasticity ({short}): users substitute more given time, not less"
            ),
        );
        let half_life_years = d
            .adjustment_half_life_years
            .as_ref()
            .map(|h| {
                self.number(
                    h,
                    "adjustment_half_life_years",
                    |x| x > 0.0,
                    "> 0 (years for half the gap to the long-run demand to close; use a small value like 0.1 for nearly immediate adjustment)",
                )
            })
            .unwrap_or(DEFAULT_HALF_LIFE_YEARS);
        let hysteresis = d
            .hysteresis
            .as_ref()
            .map(|h| {
                self.number(
                    h,
                    "hysteresis",
                    |x| (0.0..=1.0).contains(&x),
                    "in [0, 1] (0.4: 40% of the substitution adopted in a spike stays)",
                )
            })
            .unwrap_or(0.0);
        let research_usd_per_pct = d.research_usd_per_pct.as_ref().map(|r| {
            self.number(
                r,
                "research_usd_per_pct",
                |x| x > 0.0,
                "> 0 (USD that substitutes away 1% of this end use's reference demand)",
            )
        });
        let research_lag_ticks = d
            .research_lag_years
            .as_ref()
            .map(|r| self.number(r, "research_lag_years", |x| x >= 0.0, ">= 0") * ticks_per_year)
            .unwrap_or(0.0)
            .round() as u32;
        Some(DemandAdaptation {
            nation,
            index,
            long_run_elasticity,
            half_life_ticks: (half_life_years * ticks_per_year).max(f64::MIN_POSITIVE),
            hysteresis,
            research_usd_per_pct,
            research_lag_ticks,
        })
    }

    /// The investment rule of every stage that sets `capex_usd_per_tpy`.
    pub(super) fn stage_investment(
        &mut self,
        raw: &RawWorld,
        names: &Names,
    ) -> Vec<StageInvestment> {
        let mut out = Vec::new();
        for c in &raw.commodities {
            let Some(&cid) = names.commodities.get(c.name.get_ref()) else {
                continue;
            };
            for st in c.stages.get_ref() {
                let Some(&market) = names.markets.get(&(cid, st.name.get_ref().clone())) else {
                    continue;
                };
                let Some(capex) = &st.capex_usd_per_tpy else {
                    for (field, span) in [
                        ("payback_years", st.payback_years.as_ref().map(|x| x.span())),
                        (
                            "expansion_share",
                            st.expansion_share.as_ref().map(|x| x.span()),
                        ),
                    ] {
                        if let Some(span) = span {
                            self.err(
                                span,
                                format!("{field} is only read with capex_usd_per_tpy"),
                                "add capex_usd_per_tpy = ... to turn on firms' investment in this stage, or remove the field",
                            );
                        }
                    }
                    continue;
                };
                let capex_usd_per_tpy = self.number(
                    capex,
                    "capex_usd_per_tpy",
                    |x| x >= 0.0,
                    ">= 0 (capital cost per tonne per year of new capacity)",
                );
                let payback_years = st
                    .payback_years
                    .as_ref()
                    .map(|p| self.number(p, "payback_years", |x| x > 0.0, "> 0"))
                    .unwrap_or(DEFAULT_PAYBACK_YEARS);
                let expansion_share = st
                    .expansion_share
                    .as_ref()
                    .map(|p| {
                        self.number(
                            p,
                            "expansion_share",
                            |x| x > 0.0 && x <= 10.0,
                            "in (0, 10] (0.1: each project adds 10% to the firm's capacity)",
                        )
                    })
                    .unwrap_or(DEFAULT_EXPANSION_SHARE);
                out.push(StageInvestment {
                    market,
                    capex_usd_per_tpy,
                    payback_years,
                    expansion_share,
                });
            }
        }
        out.sort_by_key(|s| s.market);
        out
    }

    fn cost(&mut self, cost: &RawCost) -> (f64, f64) {
        let mc0 = self.number(
            &cost.at_zero_usd_per_t,
            "at_zero_usd_per_t",
            |x| x >= 0.0,
            ">= 0",
        );
        let mc1 = self.number(
            &cost.at_capacity_usd_per_t,
            "at_capacity_usd_per_t",
            |x| x >= 0.0,
            ">= 0",
        );
        if mc1 < mc0 {
            self.err(
                cost.at_capacity_usd_per_t.span(),
                format!("marginal cost falls from {mc0} at zero output to {mc1} at capacity"),
                "marginal cost must not fall with output: set at_capacity_usd_per_t >= at_zero_usd_per_t",
            );
        }
        (mc0, mc1)
    }

    /// Lifetime distribution as shares per tick of age (index k: k + 1 ticks).
    fn lifetime(&mut self, l: &S<RawLifetime>, ticks_per_year: f64) -> Vec<f64> {
        let raw = l.get_ref();
        let max_years = MAX_LIFETIME_YEARS;
        match raw.family.get_ref().as_str() {
            "discrete" => {
                let (Some(years), Some(shares)) = (&raw.years, &raw.shares) else {
                    self.err(
                        raw.family.span(),
                        "a discrete lifetime needs `years` and `shares`",
                        "write lifetime = { family = \"discrete\", years = [5, 10], shares = [0.4, 0.6] }",
                    );
                    return vec![1.0];
                };
                if let Some(s) = &raw.shape {
                    self.err(
                        s.span(),
                        "`shape` does not apply to a discrete lifetime",
                        "remove shape, or use family = \"weibull\"",
                    );
                }
                if let Some(s) = &raw.scale_years {
                    self.err(
                        s.span(),
                        "`scale_years` does not apply to a discrete lifetime",
                        "remove scale_years, or use family = \"weibull\"",
                    );
                }
                if years.get_ref().len() != shares.get_ref().len() || years.get_ref().is_empty() {
                    self.err(
                        shares.span(),
                        format!(
                            "lifetime has {} years but {} shares",
                            years.get_ref().len(),
                            shares.get_ref().len()
                        ),
                        "give one share per lifetime in years, at least one of each",
                    );
                    return vec![1.0];
                }
                let mut pmf: BTreeMap<usize, f64> = BTreeMap::new();
                let mut total = 0.0;
                let mut bad = false;
                for (y, s) in years.get_ref().iter().zip(shares.get_ref()) {
                    let before = self.errors.len();
                    let years = self.number(
                        y,
                        "lifetime in years",
                        |x| x >= 0.0 && x <= max_years,
                        &format!("between 0 and {max_years} (years a product is in use before it becomes scrap)"),
                    );
                    let share = self.number(s, "lifetime share", |x| x >= 0.0, ">= 0");
                    bad |= self.errors.len() > before;
                    let ticks = ((years * ticks_per_year).round() as usize).max(1);
                    *pmf.entry(ticks).or_default() += share;
                    total += share;
                }
                if bad {
                    return vec![1.0];
                }
                if (total - 1.0).abs() > 1e-6 {
                    self.err(
                        shares.span(),
                        format!("lifetime shares add up to {total}, not 1"),
                        "make the shares of the lifetimes add up to 1",
                    );
                    return vec![1.0];
                }
                let last = *pmf.keys().last().expect("at least one lifetime");
                let mut out = vec![0.0; last];
                for (t, s) in pmf {
                    out[t - 1] += s / total;
                }
                out
            }
            "weibull" => {
                let (Some(shape), Some(scale)) = (&raw.shape, &raw.scale_years) else {
                    self.err(
                        raw.family.span(),
                        "a weibull lifetime needs `shape` and `scale_years`",
                        "write lifetime = { family = \"weibull\", shape = 2.0, scale_years = 12.0 }",
                    );
                    return vec![1.0];
                };
                for (f, v) in [
                    ("years", raw.years.as_ref().map(|x| x.span())),
                    ("shares", raw.shares.as_ref().map(|x| x.span())),
                ] {
                    if let Some(span) = v {
                        self.err(
                            span,
                            format!("`{f}` does not apply to a weibull lifetime"),
                            "remove it, or use family = \"discrete\"",
                        );
                    }
                }
                let k = self.number(
                    shape,
                    "shape",
                    |x| x > 0.0 && x <= 50.0,
                    "in (0, 50] (1: exponential lifetimes; 2-4: wear-out)",
                );
                let lambda = self.number(
                    scale,
                    "scale_years",
                    |x| x > 0.0 && x <= max_years,
                    &format!("in (0, {max_years}] (the lifetime 63% of products reach)"),
                );
                if k <= 0.0 || lambda <= 0.0 {
                    return vec![1.0];
                }
                let cdf = |years: f64| 1.0 - (-(years / lambda).powf(k)).exp();
                // Shares per tick of age, cut where the distribution is nearly covered.
                let horizon = (lambda * (-(1.0 - WEIBULL_COVER).ln()).powf(1.0 / k)).min(max_years);
                let ticks = ((horizon * ticks_per_year).ceil() as usize).max(1);
                let mut out: Vec<f64> = (0..ticks)
                    .map(|t| cdf((t + 1) as f64 / ticks_per_year) - cdf(t as f64 / ticks_per_year))
                    .collect();
                let total: f64 = out.iter().sum();
                for x in &mut out {
                    *x /= total;
                }
                out
            }
            other => {
                self.err(
                    raw.family.span(),
                    format!("unknown lifetime family `{other}`"),
                    "use family = \"discrete\" (years, shares) or family = \"weibull\" (shape, scale_years)",
                );
                vec![1.0]
            }
        }
    }

    pub(super) fn recycling(
        &mut self,
        raw: &RawWorld,
        names: &Names,
        ticks_per_year: f64,
    ) -> (Vec<RecyclingStream>, Vec<RecyclerDef>) {
        let per_tick = 1.0 / ticks_per_year;
        let mut streams = Vec::new();
        // Streams by target market, for the plants.
        let mut by_target: BTreeMap<MarketId, usize> = BTreeMap::new();
        for r in &raw.recycling {
            let from = self.market_ref(names, &r.commodity, Some(&r.from_stage));
            let to = self.market_ref(names, &r.commodity, Some(&r.to_stage));
            let collection_rate = self.number(
                &r.collection_rate,
                "collection_rate",
                |x| (0.0..=1.0).contains(&x),
                "in [0, 1] (0.3: 30% of end-of-life products are collected)",
            );
            let yield_ = self.number(
                &r.yield_,
                "yield",
                |x| x > 0.0 && x <= 1.0,
                "in (0, 1] (tonnes of recycled output per tonne of collected scrap)",
            );
            let lifetime = self.lifetime(&r.lifetime, ticks_per_year);
            let build_lag_ticks = r
                .build_lag_ticks
                .as_ref()
                .map(|b| self.count(b, "build_lag_ticks", 0))
                .unwrap_or(DEFAULT_BUILD_LAG_TICKS);
            let new_cost = r
                .new_plant_marginal_cost
                .as_ref()
                .map(|c| self.cost(c.get_ref()));
            let (Some(from), Some(to)) = (from, to) else {
                continue;
            };
            if by_target.contains_key(&to) {
                self.err(
                    r.to_stage.span(),
                    format!("a second [[recycling]] stream into `{}/{}`", r.commodity.get_ref(), r.to_stage.get_ref()),
                    "merge the two streams: one stream per target stage (its plants are named by commodity and stage)",
                );
                continue;
            }
            by_target.insert(to, streams.len());
            let reference = 0.0; // filled below from the plants when not given
            streams.push(RecyclingStream {
                from,
                to,
                collection_rate,
                yield_,
                lifetime,
                build_lag_ticks,
                new_plant_mc_at_zero_usd_per_t: new_cost.map_or(reference, |c| c.0),
                new_plant_mc_at_capacity_usd_per_t: new_cost.map_or(reference, |c| c.1),
            });
        }
        let mut seen: BTreeMap<&str, ()> = BTreeMap::new();
        let mut plants: Vec<(&RawRecycler, RecyclerDef)> = Vec::new();
        for p in &raw.recyclers {
            let name = p.name.get_ref().as_str();
            if names.firms.contains_key(name) || seen.contains_key(name) || name.trim().is_empty() {
                self.err(
                    p.name.span(),
                    format!(
                        "recycler name `{name}` is empty or already used by a firm or recycler"
                    ),
                    "give every firm and recycler its own non-empty name",
                );
                continue;
            }
            seen.insert(name, ());
            let nation = self.nation_ref(names, &p.nation);
            let market = self.market_ref(names, &p.commodity, Some(&p.stage));
            let capacity = self.number(
                &p.capacity_tpy,
                "capacity_tpy",
                |x| x >= 0.0,
                ">= 0 (tonnes of output per year)",
            );
            let (mc0, mc1) = self.cost(p.marginal_cost.get_ref());
            let (Some(nation), Some(market)) = (nation, market) else {
                continue;
            };
            let Some(&stream) = by_target.get(&market) else {
                self.err(
                    p.stage.span(),
                    format!("no [[recycling]] stream supplies `{}/{}`", p.commodity.get_ref(), p.stage.get_ref()),
                    "add a [[recycling]] table with this commodity and to_stage, or name the stage a stream recycles into",
                );
                continue;
            };
            plants.push((
                p,
                RecyclerDef {
                    name: name.to_string(),
                    nation,
                    stream,
                    capacity_t_per_tick: capacity * per_tick,
                    mc_at_zero_usd_per_t: mc0,
                    mc_at_capacity_usd_per_t: mc1,
                },
            ));
        }
        plants.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        let recyclers: Vec<RecyclerDef> = plants.into_iter().map(|(_, d)| d).collect();
        // New plants cost what existing ones do (capacity-weighted) unless the stream says.
        for (s, r) in raw.recycling.iter().zip(0..) {
            if r >= streams.len() || s.new_plant_marginal_cost.is_some() {
                continue;
            }
            let (mut k, mut a, mut b) = (0.0, 0.0, 0.0);
            for p in recyclers.iter().filter(|p| p.stream == r) {
                k += p.capacity_t_per_tick;
                a += p.capacity_t_per_tick * p.mc_at_zero_usd_per_t;
                b += p.capacity_t_per_tick * p.mc_at_capacity_usd_per_t;
            }
            if k > 0.0 {
                streams[r].new_plant_mc_at_zero_usd_per_t = a / k;
                streams[r].new_plant_mc_at_capacity_usd_per_t = b / k;
            } else {
                self.err(
                    s.to_stage.span(),
                    "recycling stream without plants and without new_plant_marginal_cost",
                    "add [[recycler]] plants for this stream, or new_plant_marginal_cost = { at_zero_usd_per_t = ..., at_capacity_usd_per_t = ... } for plants financed during the run",
                );
            }
        }
        (streams, recyclers)
    }

    pub(super) fn lever_event(
        &mut self,
        names: &Names,
        e: &RawEvent,
        ticks_per_year: f64,
    ) -> Option<LeverEvent> {
        let tick = self.count(&e.tick, "tick", 0) as u64;
        let kind = e.kind.get_ref().as_str();
        let (value_field, value): (&str, Option<&S<f64>>) = match kind {
            "recycling_subsidy" => ("usd_per_t", e.usd_per_t.as_ref()),
            "fund_recycling" => ("capacity_tpy", e.capacity_tpy.as_ref()),
            "substitution_research" => ("usd", e.usd.as_ref()),
            "capacity_subsidy" => ("share", e.share.as_ref()),
            "stock_mandate" => ("cover_ticks", e.cover_ticks.as_ref()),
            _ => unreachable!("only lever kinds come here"),
        };
        let mut allowed = vec!["nation", "commodity", "stage", value_field];
        if kind == "fund_recycling" {
            allowed.push("usd_per_tpy");
        }
        let present: [(&str, Option<Range<usize>>); 17] = [
            ("importer", e.importer.as_ref().map(|x| x.span())),
            ("exporter", e.exporter.as_ref().map(|x| x.span())),
            ("destination", e.destination.as_ref().map(|x| x.span())),
            ("firm", e.firm.as_ref().map(|x| x.span())),
            ("rate", e.rate.as_ref().map(|x| x.span())),
            ("licence", e.licence.as_ref().map(|x| x.span())),
            ("quota_tpy", e.quota_tpy.as_ref().map(|x| x.span())),
            ("delay_ticks", e.delay_ticks.as_ref().map(|x| x.span())),
            ("factor", e.factor.as_ref().map(|x| x.span())),
            ("usd_per_t", e.usd_per_t.as_ref().map(|x| x.span())),
            ("usd", e.usd.as_ref().map(|x| x.span())),
            ("capacity_tpy", e.capacity_tpy.as_ref().map(|x| x.span())),
            ("usd_per_tpy", e.usd_per_tpy.as_ref().map(|x| x.span())),
            ("share", e.share.as_ref().map(|x| x.span())),
            ("cover_ticks", e.cover_ticks.as_ref().map(|x| x.span())),
            ("nation", None),
            ("commodity", None),
        ];
        let mut bad = false;
        for (field, span) in present {
            if let Some(span) = span
                && !allowed.contains(&field)
            {
                self.err(
                    span,
                    format!("`{field}` does not apply to a `{kind}` event"),
                    format!("a `{kind}` event takes: {}", allowed.join(", ")),
                );
                bad = true;
            }
        }
        let mut missing = Vec::new();
        if e.nation.is_none() {
            missing.push("nation");
        }
        if e.commodity.is_none() {
            missing.push("commodity");
        }
        if e.stage.is_none() {
            missing.push("stage");
        }
        if value.is_none() {
            missing.push(value_field);
        }
        if kind == "fund_recycling" && e.usd_per_tpy.is_none() {
            missing.push("usd_per_tpy");
        }
        for f in &missing {
            self.err(
                e.kind.span(),
                format!("a `{kind}` event needs `{f}`"),
                format!("add {f} = ... to this [[event]]"),
            );
        }
        let (Some(n), Some(c), Some(s), Some(v)) = (&e.nation, &e.commodity, &e.stage, value)
        else {
            return None;
        };
        let nations = self.nation_sel(names, n);
        let market = self.market_ref(names, c, Some(s));
        let lever = match kind {
            "recycling_subsidy" => Lever::RecyclingSubsidy {
                market: market?,
                usd_per_t: self.number(v, "usd_per_t", |x| x >= 0.0, ">= 0 (USD per tonne recycled; 0 ends the subsidy)"),
            },
            "fund_recycling" => Lever::FundRecycling {
                market: market?,
                t_per_year: self.number(v, "capacity_tpy", |x| x > 0.0, "> 0 (tonnes per year)"),
                usd_per_tpy: self.number(e.usd_per_tpy.as_ref()?, "usd_per_tpy", |x| x >= 0.0, ">= 0"),
            },
            "substitution_research" => Lever::FundSubstitution {
                market: market?,
                usd: self.number(v, "usd", |x| x > 0.0, "> 0"),
            },
            "capacity_subsidy" => Lever::CapacitySubsidy {
                market: market?,
                share: self.number(v, "share", |x| (0.0..=1.0).contains(&x), "in [0, 1] (share of the capital cost the nation pays; 0 ends the subsidy)"),
            },
            "stock_mandate" => Lever::StockMandate {
                market: market?,
                cover_ticks: self.number(v, "cover_ticks", |x| (0.0..=10.0 * ticks_per_year).contains(&x), "between 0 and ten years of ticks (ticks of full-capacity input use firms must hold; 0 ends the mandate)"),
            },
            _ => unreachable!("only lever kinds come here"),
        };
        if bad {
            return None;
        }
        Some(LeverEvent {
            tick,
            note: e.note.clone().unwrap_or_default(),
            nations: nations?,
            lever,
        })
    }
}
