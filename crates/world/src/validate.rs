//! From raw TOML to a checked [`World`]: resolve names to ids, check every number
//! and reference, and collect every problem with its place in the file.
//!
//! Why a separate pass rather than serde validation hooks: most errors are about
//! relations (a firm names a nation, a stage names its inputs, stages must not form a
//! cycle) that only make sense once the whole file is read, and a user fixing a file
//! wants all errors at once, each pointing at the value to change.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use crate::error::{SourceText, WorldError, WorldErrors};
use crate::model::*;
use crate::schema::*;

mod adapt;
pub use adapt::{DEFAULT_EXPANSION_SHARE, DEFAULT_HALF_LIFE_YEARS, DEFAULT_PAYBACK_YEARS};

/// Default time for new capacity to come online when a stage does not say.
pub const DEFAULT_BUILD_LAG_TICKS: u32 = 12;
/// Default weight of the latest price in firms' expectations.
pub const DEFAULT_EXPECTATION_WEIGHT: f64 = 0.5;
/// Rates above this are almost surely percentages written as numbers.
const MAX_TARIFF_RATE: f64 = 10.0;

/// Read and check a world file.
pub fn load(path: &Path) -> Result<World, WorldErrors> {
    let text =
        std::fs::read_to_string(path).map_err(|e| WorldErrors::single(WorldError::io(path, &e)))?;
    parse(path, &text)
}

/// Check world-file text; `path` is only used to name the file in errors.
///
/// A file with `extends = "base.toml"` is a scenario: the base (read relative to `path`)
/// is merged under it first; see docs/world-format.md, "Scenario files".
pub fn parse(path: &Path, text: &str) -> Result<World, WorldErrors> {
    let (source, record, raw) = match crate::extends::resolve(path, text)? {
        Some(r) => (r.errors_source, r.record_source, r.raw),
        None => {
            let source = SourceText::new(path, text);
            let raw: RawWorld =
                toml::from_str(text).map_err(|e| WorldErrors::single(toml_error(&source, &e)))?;
            (source.clone(), source, raw)
        }
    };
    let mut v = Validator {
        src: &source,
        record: &record,
        errors: Vec::new(),
    };
    let world = v.world(&raw);
    if v.errors.is_empty() {
        Ok(world)
    } else {
        Err(WorldErrors(v.errors))
    }
}

pub(crate) fn toml_error(source: &SourceText, e: &toml::de::Error) -> WorldError {
    let message = e.message().trim().to_string();
    let help = if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or("");
        format!("add `{field} = ...` to this table (see docs/world-format.md for what it means)")
    } else if message.starts_with("unknown field") {
        "remove the field or correct its spelling; the expected names are listed above".to_string()
    } else if message.starts_with("invalid type") {
        "give a value of the expected type: numbers unquoted (1.5), names in quotes (\"China\")"
            .to_string()
    } else if message.contains("duplicate key") {
        "each key may appear once per table".to_string()
    } else {
        "fix the TOML syntax at this place".to_string()
    };
    WorldError::at(source, e.span(), message, help)
}

struct Validator<'a> {
    /// Where errors point: every file of an `extends` chain.
    src: &'a SourceText,
    /// What the world is recorded as (and hashed): the file, or a scenario flattened.
    record: &'a SourceText,
    errors: Vec<WorldError>,
}

/// Names of nations, regions, commodities and markets, for resolving references.
#[derive(Default)]
struct Names {
    nations: BTreeMap<String, NationId>,
    regions: BTreeMap<String, Vec<NationId>>,
    commodities: BTreeMap<String, CommodityId>,
    /// (commodity, stage name) -> market
    markets: BTreeMap<(CommodityId, String), MarketId>,
    firms: BTreeMap<String, FirmId>,
    /// firm -> (nation, market)
    firm_place: Vec<(NationId, MarketId)>,
}

impl<'a> Validator<'a> {
    fn err(&mut self, span: Range<usize>, message: impl Into<String>, help: impl Into<String>) {
        self.errors
            .push(WorldError::at(self.src, Some(span), message, help));
    }

    /// A finite number meeting `ok`, else an error naming `what` and `rule`.
    fn number(&mut self, v: &S<f64>, what: &str, ok: impl Fn(f64) -> bool, rule: &str) -> f64 {
        let x = *v.get_ref();
        if !x.is_finite() || !ok(x) {
            self.err(
                v.span(),
                format!("{what} is {x}, but it must be {rule}"),
                format!("set {what} to a value that is {rule}"),
            );
            return 0.0;
        }
        x
    }

    fn count(&mut self, v: &S<i64>, what: &str, min: i64) -> u32 {
        let x = *v.get_ref();
        if x < min || x > u32::MAX as i64 {
            self.err(
                v.span(),
                format!("{what} is {x}, but it must be a whole number >= {min}"),
                format!("set {what} to {min} or more"),
            );
            return min.max(0) as u32;
        }
        x as u32
    }

    fn unique_names<'n>(
        &mut self,
        kind: &str,
        names: impl Iterator<Item = &'n S<String>>,
    ) -> Vec<&'n S<String>> {
        let mut seen: BTreeMap<&str, Range<usize>> = BTreeMap::new();
        let mut out = Vec::new();
        for n in names {
            let s = n.get_ref().as_str();
            if s.trim().is_empty() || s == "*" {
                self.err(
                    n.span(),
                    format!("{kind} name `{s}` is not allowed"),
                    format!("give the {kind} a non-empty name other than `*`"),
                );
                continue;
            }
            if let Some(first) = seen.get(s) {
                let place = self.src.place(first.start, n.span().start);
                self.err(
                    n.span(),
                    format!("duplicate {kind} name `{s}` (first defined {place})"),
                    format!(
                        "rename one of the two {}; names must be unique",
                        plural(kind)
                    ),
                );
                continue;
            }
            seen.insert(s, n.span());
            out.push(n);
        }
        out
    }

    fn unknown(
        &mut self,
        span: Range<usize>,
        kind: &str,
        name: &str,
        known: impl Iterator<Item = String>,
    ) {
        let known: Vec<String> = known.collect();
        let help = match closest(name, &known) {
            Some(c) => format!(
                "did you mean `{c}`? known {}: {}",
                plural(kind),
                list(&known)
            ),
            None => format!("known {}: {}", plural(kind), list(&known)),
        };
        self.err(span, format!("unknown {kind} `{name}`"), help);
    }

    fn world(&mut self, raw: &RawWorld) -> World {
        let meta = raw.world.get_ref();
        let ticks_per_year = meta
            .ticks_per_year
            .as_ref()
            .map(|t| self.count(t, "ticks_per_year", 1))
            .unwrap_or(12)
            .max(1);
        let per_tick = 1.0 / ticks_per_year as f64;
        let expectation_weight = meta
            .expectation_weight
            .as_ref()
            .map(|w| self.number(w, "expectation_weight", |x| x > 0.0 && x <= 1.0, "in (0, 1] (0.2: expectations move a fifth of the way to the latest price each tick)"))
            .unwrap_or(DEFAULT_EXPECTATION_WEIGHT);
        let mut names = Names::default();

        // Commodities and their stage graphs.
        let comm_names = self.unique_names("commodity", raw.commodities.iter().map(|c| &c.name));
        let mut comm_order: Vec<&RawCommodity> = raw
            .commodities
            .iter()
            .filter(|c| comm_names.iter().any(|n| std::ptr::eq(*n, &c.name)))
            .collect();
        comm_order.sort_by(|a, b| a.name.get_ref().cmp(b.name.get_ref()));
        let mut commodities = Vec::new();
        let mut markets: Vec<MarketDef> = Vec::new();
        for (ci, c) in comm_order.iter().enumerate() {
            let cid = CommodityId(ci as u32);
            names.commodities.insert(c.name.get_ref().clone(), cid);
            let order = self.stage_order(c);
            let first = markets.len();
            let mut ids = Vec::new();
            for (k, &si) in order.iter().enumerate() {
                let st = &c.stages.get_ref()[si];
                let mid = MarketId((first + k) as u32);
                names.markets.insert((cid, st.name.get_ref().clone()), mid);
                ids.push(mid);
                let reference_price_usd_per_t = self.number(
                    &st.reference_price_usd_per_t,
                    "reference_price_usd_per_t",
                    |x| x > 0.0,
                    "> 0",
                );
                let build_lag_ticks = st
                    .build_lag_ticks
                    .as_ref()
                    .map(|b| self.count(b, "build_lag_ticks", 0))
                    .unwrap_or(DEFAULT_BUILD_LAG_TICKS);
                markets.push(MarketDef {
                    commodity: cid,
                    stage: st.name.get_ref().clone(),
                    reference_price_usd_per_t,
                    inputs: Vec::new(),
                    build_lag_ticks,
                });
            }
            // Inputs, now that every stage of this commodity has a market id.
            for &si in &order {
                let st = &c.stages.get_ref()[si];
                let mid = names.markets[&(cid, st.name.get_ref().clone())];
                if st.inputs.len() > MAX_INPUTS_PER_STAGE {
                    self.err(st.name.span(), format!("stage `{}` has {} inputs; at most {MAX_INPUTS_PER_STAGE} are supported", st.name.get_ref(), st.inputs.len()), "merge inputs or split the stage in two");
                }
                for input in &st.inputs {
                    let ratio = self.number(
                        &input.ratio,
                        "ratio",
                        |x| x > 0.0,
                        "> 0 (tonnes of input per tonne of output)",
                    );
                    if let Some(&im) = names.markets.get(&(cid, input.stage.get_ref().clone())) {
                        markets[mid.index()].inputs.push((im, ratio));
                    }
                }
            }
            commodities.push(Commodity {
                name: c.name.get_ref().clone(),
                unit: c.unit.clone().unwrap_or_else(|| "t".into()),
                markets: ids,
            });
        }
        if raw.commodities.is_empty() {
            self.err(
                raw.world.span(),
                "the world has no commodities",
                "add at least one [[commodity]] with its [[commodity.stage]] tables",
            );
        }

        // Nations and regions.
        let nation_names = self.unique_names("nation", raw.nations.iter().map(|n| &n.name));
        let mut nation_order: Vec<&RawNation> = raw
            .nations
            .iter()
            .filter(|n| nation_names.iter().any(|x| std::ptr::eq(*x, &n.name)))
            .collect();
        nation_order.sort_by(|a, b| a.name.get_ref().cmp(b.name.get_ref()));
        let mut regions: Vec<String> = nation_order
            .iter()
            .map(|n| n.region.get_ref().clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        regions.retain(|r| !r.is_empty());
        for (i, n) in nation_order.iter().enumerate() {
            names
                .nations
                .insert(n.name.get_ref().clone(), NationId(i as u32));
            names
                .regions
                .entry(n.region.get_ref().clone())
                .or_default()
                .push(NationId(i as u32));
        }
        for n in &nation_order {
            let r = n.region.get_ref();
            if r.trim().is_empty() || r == "*" {
                self.err(
                    n.region.span(),
                    format!("region `{r}` is not allowed"),
                    "give the nation a region name such as \"east-asia\"",
                );
            } else if names.nations.contains_key(r) && r != n.name.get_ref() {
                self.err(n.region.span(), format!("region `{r}` has the same name as a nation"), "rename the region: selectors accept nation or region names and must not be ambiguous");
            }
        }
        if raw.nations.is_empty() {
            self.err(
                raw.world.span(),
                "the world has no nations",
                "add at least one [[nation]]",
            );
        }
        let mut nations = Vec::new();
        let mut demand_adaptation = Vec::new();
        for n in &nation_order {
            let budget_usd = n
                .budget_usd
                .as_ref()
                .map(|b| self.number(b, "budget_usd", |x| x >= 0.0, ">= 0"))
                .unwrap_or(0.0);
            let mut demand = Vec::new();
            for d in &n.demand {
                let Some(market) = self.market_ref(&names, &d.commodity, Some(&d.stage)) else {
                    continue;
                };
                let reference_price_usd_per_t = self.number(
                    &d.reference_price_usd_per_t,
                    "reference_price_usd_per_t",
                    |x| x > 0.0,
                    "> 0",
                );
                let q = self.number(
                    &d.reference_quantity_tpy,
                    "reference_quantity_tpy",
                    |x| x >= 0.0,
                    ">= 0 (tonnes per year)",
                );
                let elasticity = *d.elasticity.get_ref();
                if !elasticity.is_finite() || elasticity <= 0.0 {
                    self.err(
                        d.elasticity.span(),
                        format!("elasticity is {elasticity}, but it must be > 0"),
                        "give the magnitude of the price elasticity of demand (0.3: a 1% price rise cuts demand by 0.3%); use a small value like 0.05 for nearly fixed demand, so the market can still clear when supply falls short",
                    );
                }
                let form = match d.form.as_ref().map(|f| f.get_ref().as_str()) {
                    None | Some("linear") => DemandForm::Linear,
                    Some("isoelastic") => DemandForm::Isoelastic,
                    Some(other) => {
                        self.err(
                            d.form.as_ref().unwrap().span(),
                            format!("unknown demand form `{other}`"),
                            "use form = \"linear\" or form = \"isoelastic\"",
                        );
                        DemandForm::Linear
                    }
                };
                demand.push(EndUseDemand {
                    market,
                    end_use: d.end_use.clone().unwrap_or_else(|| "all".into()),
                    reference_price_usd_per_t,
                    reference_quantity_t_per_tick: q * per_tick,
                    elasticity,
                    form,
                });
                demand_adaptation.extend(self.demand_adaptation(
                    d,
                    NationId(nations.len() as u32),
                    demand.len() - 1,
                    ticks_per_year as f64,
                ));
            }
            let strategy = n.strategy.as_ref().map(|s| StrategyBinding {
                name: s.get_ref().clone(),
                params_toml: n
                    .params
                    .as_ref()
                    .map(|p| toml::to_string(p.get_ref()).unwrap_or_default())
                    .unwrap_or_default(),
            });
            if let (None, Some(p)) = (&n.strategy, &n.params) {
                self.err(
                    p.span(),
                    "params given without a strategy",
                    "add strategy = \"NAME\" to this nation, or remove params",
                );
            }
            nations.push(Nation {
                name: n.name.get_ref().clone(),
                region: regions
                    .iter()
                    .position(|r| r == n.region.get_ref())
                    .unwrap_or(0),
                budget_usd,
                demand,
                strategy,
            });
        }

        // Firms.
        let firm_names = self.unique_names("firm", raw.firms.iter().map(|f| &f.name));
        let mut firm_order: Vec<&RawFirm> = raw
            .firms
            .iter()
            .filter(|f| firm_names.iter().any(|x| std::ptr::eq(*x, &f.name)))
            .collect();
        firm_order.sort_by(|a, b| a.name.get_ref().cmp(b.name.get_ref()));
        let mut firms = Vec::new();
        for f in &firm_order {
            let nation = self.nation_ref(&names, &f.nation);
            let market = self.market_ref(&names, &f.commodity, Some(&f.stage));
            let capacity = self.number(
                &f.capacity_tpy,
                "capacity_tpy",
                |x| x >= 0.0,
                ">= 0 (tonnes per year)",
            );
            let cost = f.marginal_cost.get_ref();
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
            let inventory_t = f
                .inventory_t
                .as_ref()
                .map(|i| self.number(i, "inventory_t", |x| x >= 0.0, ">= 0"))
                .unwrap_or(0.0);
            let id = FirmId(firms.len() as u32);
            names.firms.insert(f.name.get_ref().clone(), id);
            let (nation, market) = (nation.unwrap_or(NationId(0)), market.unwrap_or(MarketId(0)));
            names.firm_place.push((nation, market));
            firms.push(Firm {
                name: f.name.get_ref().clone(),
                nation,
                market,
                capacity_t_per_tick: capacity * per_tick,
                mc_at_zero_usd_per_t: mc0,
                mc_at_capacity_usd_per_t: mc1,
                inventory_t,
            });
        }

        // Trade costs.
        let default_usd_per_t = raw
            .trade
            .default_usd_per_t
            .as_ref()
            .map(|d| self.number(d, "default_usd_per_t", |x| x >= 0.0, ">= 0"))
            .unwrap_or(0.0);
        let mut overrides = Vec::new();
        for c in &raw.trade.costs {
            let from = self.nation_sel(&names, &c.from);
            let to = self.nation_sel(&names, &c.to);
            let usd = self.number(&c.usd_per_t, "usd_per_t", |x| x >= 0.0, ">= 0");
            let commodity = match &c.commodity {
                None => None,
                Some(s) if s.get_ref() == "*" => None,
                Some(s) => match names.commodities.get(s.get_ref()) {
                    Some(&id) => Some(id),
                    None => {
                        self.unknown(
                            s.span(),
                            "commodity",
                            s.get_ref(),
                            names.commodities.keys().cloned(),
                        );
                        None
                    }
                },
            };
            if let (Some(from), Some(to)) = (from, to) {
                if c.symmetric.unwrap_or(true) {
                    overrides.push(TradeCostRule {
                        from: to.clone(),
                        to: from.clone(),
                        commodity,
                        usd_per_t: usd,
                    });
                }
                overrides.push(TradeCostRule {
                    from,
                    to,
                    commodity,
                    usd_per_t: usd,
                });
            }
        }

        let tariffs = raw
            .tariffs
            .iter()
            .filter_map(|t| {
                self.tariff(
                    &names,
                    &t.importer,
                    &t.exporter,
                    &t.commodity,
                    t.stage.as_ref(),
                    &t.rate,
                )
            })
            .collect();
        let licences = raw
            .licences
            .iter()
            .filter_map(|l| {
                self.licence(
                    &names,
                    &l.exporter,
                    &l.destination,
                    &l.commodity,
                    l.stage.as_ref(),
                    &l.kind,
                    l.quota_tpy.as_ref(),
                    l.delay_ticks.as_ref(),
                    per_tick,
                )
            })
            .collect();

        let is_lever = |e: &&RawEvent| adapt::LEVER_KINDS.contains(&e.kind.get_ref().as_str());
        let mut events: Vec<Event> = raw
            .events
            .iter()
            .filter(|e| !is_lever(e))
            .filter_map(|e| self.event(&names, e, per_tick))
            .collect();
        events.sort_by_key(|e| e.tick); // stable: same-tick events keep file order
        let mut levers: Vec<LeverEvent> = raw
            .events
            .iter()
            .filter(is_lever)
            .filter_map(|e| self.lever_event(&names, e, ticks_per_year as f64))
            .collect();
        levers.sort_by_key(|e| e.tick);
        let investment = self.stage_investment(raw, &names);
        let (recycling, recyclers) = self.recycling(raw, &names, ticks_per_year as f64);

        World {
            name: meta.name.get_ref().clone(),
            description: meta.description.clone().unwrap_or_default(),
            ticks_per_year,
            expectation_weight,
            hash: blake3::hash(self.record.text.as_bytes())
                .to_hex()
                .to_string(),
            source: self.record.clone(),
            commodities,
            markets,
            regions,
            nations,
            firms,
            trade: TradeCosts {
                default_usd_per_t,
                overrides,
            },
            tariffs,
            licences,
            events,
            adaptation: AdaptationDef {
                demand: demand_adaptation,
                recycling,
                recyclers,
                investment,
                levers,
            },
        }
    }

    /// Stages in an upstream-first order; reports unknown inputs and cycles.
    fn stage_order(&mut self, c: &RawCommodity) -> Vec<usize> {
        let stages = c.stages.get_ref();
        if stages.is_empty() {
            self.err(
                c.stages.span(),
                format!("commodity `{}` has no stages", c.name.get_ref()),
                "add at least one [[commodity.stage]]",
            );
        }
        let kept = self.unique_names("stage", stages.iter().map(|s| &s.name));
        let index: BTreeMap<&str, usize> = stages
            .iter()
            .enumerate()
            .filter(|(_, s)| kept.iter().any(|k| std::ptr::eq(*k, &s.name)))
            .map(|(i, s)| (s.name.get_ref().as_str(), i))
            .collect();
        let mut deps: Vec<Vec<usize>> = vec![Vec::new(); stages.len()];
        for (i, s) in stages.iter().enumerate() {
            for input in &s.inputs {
                match index.get(input.stage.get_ref().as_str()) {
                    Some(&j) if j == i => self.err(
                        input.stage.span(),
                        format!("stage `{}` lists itself as an input", s.name.get_ref()),
                        "an input must be an upstream stage of the same commodity",
                    ),
                    Some(&j) => deps[i].push(j),
                    None => self.unknown(
                        input.stage.span(),
                        &format!("stage of `{}`", c.name.get_ref()),
                        input.stage.get_ref(),
                        stages.iter().map(|s| s.name.get_ref().clone()),
                    ),
                }
            }
        }
        // Kahn's algorithm, file order among ready stages: deterministic.
        let mut indeg: Vec<usize> = deps.iter().map(Vec::len).collect();
        let mut order = Vec::new();
        let mut done = vec![false; stages.len()];
        while let Some(i) = (0..stages.len())
            .find(|&i| !done[i] && indeg[i] == 0 && index.values().any(|&x| x == i))
        {
            done[i] = true;
            order.push(i);
            for (k, d) in deps.iter().enumerate() {
                indeg[k] -= d.iter().filter(|&&x| x == i).count();
            }
        }
        let stuck: Vec<usize> = (0..stages.len())
            .filter(|&i| !done[i] && index.values().any(|&x| x == i))
            .collect();
        if let Some(&first) = stuck.first() {
            let cycle: Vec<String> = stuck
                .iter()
                .map(|&i| stages[i].name.get_ref().clone())
                .collect();
            self.err(
                stages[first].name.span(),
                format!("the stages of `{}` form a cycle: {}", c.name.get_ref(), cycle.join(" -> ")),
                "production stages must run one way (e.g. mined -> oxide -> magnet): remove the input that points back upstream",
            );
        }
        order
    }

    fn nation_ref(&mut self, names: &Names, s: &S<String>) -> Option<NationId> {
        match names.nations.get(s.get_ref()) {
            Some(&id) => Some(id),
            None => {
                self.unknown(
                    s.span(),
                    "nation",
                    s.get_ref(),
                    names.nations.keys().cloned(),
                );
                None
            }
        }
    }

    /// A nation, a region (all its nations) or `*` (every nation).
    fn nation_sel(&mut self, names: &Names, s: &S<String>) -> Option<Vec<NationId>> {
        let name = s.get_ref();
        if name == "*" {
            return Some(names.nations.values().copied().collect());
        }
        if let Some(&id) = names.nations.get(name) {
            return Some(vec![id]);
        }
        if let Some(ids) = names.regions.get(name) {
            return Some(ids.clone());
        }
        self.unknown(
            s.span(),
            "nation or region",
            name,
            names.nations.keys().chain(names.regions.keys()).cloned(),
        );
        None
    }

    fn market_ref(
        &mut self,
        names: &Names,
        commodity: &S<String>,
        stage: Option<&S<String>>,
    ) -> Option<MarketId> {
        let markets = self.market_sel(names, commodity, stage)?;
        if markets.len() != 1
            || commodity.get_ref() == "*"
            || stage.is_none_or(|s| s.get_ref() == "*")
        {
            let span = stage.map(|s| s.span()).unwrap_or(commodity.span());
            self.err(
                span,
                "this needs one market: name one commodity and one of its stages",
                "write commodity = \"NAME\" and stage = \"STAGE\" (no `*`)",
            );
            return None;
        }
        Some(markets[0])
    }

    /// Markets by commodity (or `*`) and stage (or `*`/absent for every stage).
    fn market_sel(
        &mut self,
        names: &Names,
        commodity: &S<String>,
        stage: Option<&S<String>>,
    ) -> Option<Vec<MarketId>> {
        let cname = commodity.get_ref();
        let comms: Vec<CommodityId> = if cname == "*" {
            names.commodities.values().copied().collect()
        } else {
            match names.commodities.get(cname) {
                Some(&c) => vec![c],
                None => {
                    self.unknown(
                        commodity.span(),
                        "commodity",
                        cname,
                        names.commodities.keys().cloned(),
                    );
                    return None;
                }
            }
        };
        let out: Vec<MarketId> = names
            .markets
            .iter()
            .filter(|((c, st), _)| {
                comms.contains(c) && stage.is_none_or(|s| s.get_ref() == "*" || s.get_ref() == st)
            })
            .map(|(_, &m)| m)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if out.is_empty() {
            // No stage filter: the commodity has no usable stages (none, or all in a
            // cycle), which is reported where its stages are defined.
            let s = stage?;
            let known = names
                .markets
                .keys()
                .filter(|(c, _)| comms.contains(c))
                .map(|(_, st)| st.clone());
            self.unknown(s.span(), &format!("stage of `{cname}`"), s.get_ref(), known);
            return None;
        }
        Some(out)
    }

    fn tariff(
        &mut self,
        names: &Names,
        importer: &S<String>,
        exporter: &S<String>,
        commodity: &S<String>,
        stage: Option<&S<String>>,
        rate: &S<f64>,
    ) -> Option<TariffRule> {
        let importers = self.nation_sel(names, importer);
        let exporters = self.nation_sel(names, exporter);
        let markets = self.market_sel(names, commodity, stage);
        let r = *rate.get_ref();
        if !r.is_finite() || !(0.0..=MAX_TARIFF_RATE).contains(&r) {
            self.err(
                rate.span(),
                format!("tariff rate {r} is out of range"),
                format!("rates are fractions between 0 and {MAX_TARIFF_RATE}: 0.25 means 25%"),
            );
            return None;
        }
        Some(TariffRule {
            importers: importers?,
            exporters: exporters?,
            markets: markets?,
            rate: r,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn licence(
        &mut self,
        names: &Names,
        exporter: &S<String>,
        destination: &S<String>,
        commodity: &S<String>,
        stage: Option<&S<String>>,
        kind: &S<String>,
        quota: Option<&S<f64>>,
        delay: Option<&S<i64>>,
        per_tick: f64,
    ) -> Option<LicenceRule> {
        let exporters = self.nation_sel(names, exporter);
        let destinations = self.nation_sel(names, destination);
        let markets = self.market_sel(names, commodity, stage);
        let k = kind.get_ref().as_str();
        if k != "quota"
            && let Some(q) = quota
        {
            self.err(
                q.span(),
                format!(
                    "quota_tpy is only read when the licence kind is \"quota\" (here: \"{k}\")"
                ),
                "remove quota_tpy or set kind = \"quota\"",
            );
        }
        if k != "licence"
            && let Some(d) = delay
        {
            self.err(
                d.span(),
                format!(
                    "delay_ticks is only read when the licence kind is \"licence\" (here: \"{k}\")"
                ),
                "remove delay_ticks or set kind = \"licence\"",
            );
        }
        let licence = match k {
            "open" => Licence::Open,
            "ban" => Licence::Ban,
            "quota" => match quota {
                Some(q) => Licence::Quota {
                    t_per_tick: self.number(q, "quota_tpy", |x| x >= 0.0, ">= 0 (tonnes per year)")
                        * per_tick,
                },
                None => {
                    self.err(
                        kind.span(),
                        "a quota licence needs quota_tpy",
                        "add quota_tpy = TONNES_PER_YEAR",
                    );
                    return None;
                }
            },
            "licence" => Licence::Licensed {
                delay_ticks: delay.map(|d| self.count(d, "delay_ticks", 0)).unwrap_or(2),
            },
            other => {
                self.err(kind.span(), format!("unknown licence kind `{other}`"), "use \"open\", \"ban\", \"quota\" (with quota_tpy) or \"licence\" (with delay_ticks)");
                return None;
            }
        };
        Some(LicenceRule {
            exporters: exporters?,
            destinations: destinations?,
            markets: markets?,
            licence,
        })
    }

    fn event(&mut self, names: &Names, e: &RawEvent, per_tick: f64) -> Option<Event> {
        let tick = self.count(&e.tick, "tick", 0) as u64;
        let kind = e.kind.get_ref().as_str();
        let allowed: &[&str] = match kind {
            "tariff" => &["importer", "exporter", "commodity", "stage", "rate"],
            "licence" => &[
                "exporter",
                "destination",
                "commodity",
                "stage",
                "licence",
                "quota_tpy",
                "delay_ticks",
            ],
            "capacity_shock" => &["firm", "nation", "commodity", "stage", "factor"],
            "demand_shock" => &["nation", "commodity", "stage", "factor"],
            other => {
                self.err(
                    e.kind.span(),
                    format!("unknown event kind `{other}`"),
                    "use one of: tariff, licence, capacity_shock, demand_shock, recycling_subsidy, fund_recycling, substitution_research, capacity_subsidy, stock_mandate",
                );
                return None;
            }
        };
        let present: [(&str, Option<Range<usize>>); 18] = [
            ("usd_per_t", e.usd_per_t.as_ref().map(|x| x.span())),
            ("usd", e.usd.as_ref().map(|x| x.span())),
            ("capacity_tpy", e.capacity_tpy.as_ref().map(|x| x.span())),
            ("usd_per_tpy", e.usd_per_tpy.as_ref().map(|x| x.span())),
            ("share", e.share.as_ref().map(|x| x.span())),
            ("cover_ticks", e.cover_ticks.as_ref().map(|x| x.span())),
            ("importer", e.importer.as_ref().map(|x| x.span())),
            ("exporter", e.exporter.as_ref().map(|x| x.span())),
            ("destination", e.destination.as_ref().map(|x| x.span())),
            ("nation", e.nation.as_ref().map(|x| x.span())),
            ("firm", e.firm.as_ref().map(|x| x.span())),
            ("commodity", e.commodity.as_ref().map(|x| x.span())),
            ("stage", e.stage.as_ref().map(|x| x.span())),
            ("rate", e.rate.as_ref().map(|x| x.span())),
            ("licence", e.licence.as_ref().map(|x| x.span())),
            ("quota_tpy", e.quota_tpy.as_ref().map(|x| x.span())),
            ("delay_ticks", e.delay_ticks.as_ref().map(|x| x.span())),
            ("factor", e.factor.as_ref().map(|x| x.span())),
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
        let need = |v: &mut Self, field: &str| {
            v.err(
                e.kind.span(),
                format!("a `{kind}` event needs `{field}`"),
                format!("add {field} = ... to this [[event]]"),
            );
        };
        let action = match kind {
            "tariff" => {
                let (Some(i), Some(x), Some(c), Some(r)) =
                    (&e.importer, &e.exporter, &e.commodity, &e.rate)
                else {
                    for (f, p) in [
                        ("importer", e.importer.is_some()),
                        ("exporter", e.exporter.is_some()),
                        ("commodity", e.commodity.is_some()),
                        ("rate", e.rate.is_some()),
                    ] {
                        if !p {
                            need(self, f);
                        }
                    }
                    return None;
                };
                EventAction::SetTariff(self.tariff(names, i, x, c, e.stage.as_ref(), r)?)
            }
            "licence" => {
                let (Some(x), Some(d), Some(c), Some(l)) =
                    (&e.exporter, &e.destination, &e.commodity, &e.licence)
                else {
                    for (f, p) in [
                        ("exporter", e.exporter.is_some()),
                        ("destination", e.destination.is_some()),
                        ("commodity", e.commodity.is_some()),
                        ("licence", e.licence.is_some()),
                    ] {
                        if !p {
                            need(self, f);
                        }
                    }
                    return None;
                };
                EventAction::SetLicence(self.licence(
                    names,
                    x,
                    d,
                    c,
                    e.stage.as_ref(),
                    l,
                    e.quota_tpy.as_ref(),
                    e.delay_ticks.as_ref(),
                    per_tick,
                )?)
            }
            "capacity_shock" => {
                let Some(f) = &e.factor else {
                    need(self, "factor");
                    return None;
                };
                let factor = self.number(f, "factor", |x| x >= 0.0, ">= 0 (0.5 halves capacity)");
                let firms: Vec<FirmId> = if let Some(firm) = &e.firm {
                    match names.firms.get(firm.get_ref()) {
                        Some(&id) => vec![id],
                        None => {
                            self.unknown(
                                firm.span(),
                                "firm",
                                firm.get_ref(),
                                names.firms.keys().cloned(),
                            );
                            return None;
                        }
                    }
                } else {
                    let (Some(n), Some(c)) = (&e.nation, &e.commodity) else {
                        self.err(e.kind.span(), "a capacity_shock needs `firm`, or `nation` and `commodity` (and optionally `stage`)", "name the firm, or the nation and commodity whose firms are hit");
                        return None;
                    };
                    let nations = self.nation_sel(names, n)?;
                    let markets = self.market_sel(names, c, e.stage.as_ref())?;
                    (0..names.firm_place.len())
                        .filter(|&i| {
                            nations.contains(&names.firm_place[i].0)
                                && markets.contains(&names.firm_place[i].1)
                        })
                        .map(|i| FirmId(i as u32))
                        .collect()
                };
                EventAction::CapacityShock { firms, factor }
            }
            "demand_shock" => {
                let (Some(n), Some(c), Some(f)) = (&e.nation, &e.commodity, &e.factor) else {
                    for (f, p) in [
                        ("nation", e.nation.is_some()),
                        ("commodity", e.commodity.is_some()),
                        ("factor", e.factor.is_some()),
                    ] {
                        if !p {
                            need(self, f);
                        }
                    }
                    return None;
                };
                let factor =
                    self.number(f, "factor", |x| x >= 0.0, ">= 0 (1.2 raises demand by 20%)");
                EventAction::DemandShock {
                    nations: self.nation_sel(names, n)?,
                    markets: self.market_sel(names, c, e.stage.as_ref())?,
                    factor,
                }
            }
            _ => unreachable!("kinds are matched above"),
        };
        if bad {
            return None;
        }
        Some(Event {
            tick,
            note: e.note.clone().unwrap_or_default(),
            action,
        })
    }
}

/// "commodity" -> "commodities", "nation" -> "nations" (also for "stage of `x`").
fn plural(kind: &str) -> String {
    let (head, tail) = kind.split_once(' ').map_or((kind, ""), |(h, t)| (h, t));
    let head = match head.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{head}s"),
    };
    if tail.is_empty() {
        head
    } else {
        format!("{head} {tail}")
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "(none defined)".into();
    }
    let shown: Vec<&str> = names.iter().take(12).map(String::as_str).collect();
    let more = names.len().saturating_sub(12);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// The known name nearest to `name` by edit distance, if it is plausibly a typo.
fn closest<'n>(name: &str, known: &'n [String]) -> Option<&'n str> {
    let lower = name.to_lowercase();
    known
        .iter()
        .map(|k| (levenshtein(&lower, &k.to_lowercase()), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.as_str())
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
