//! Agents (one strategy instance per nation) and the host that steps them.

use std::collections::BTreeMap;
use std::ffi::c_void;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use chokepoint_abi as abi;
use chokepoint_engine::components::StableId;
use chokepoint_engine::negotiation::{Channel, NegAction, ROUNDS_PER_TICK, Term};
use chokepoint_engine::{PolicyAction, RngStreams, Simulation};
use chokepoint_world::{Lever, Licence, MarketId, NationId, World};
use rand::Rng;

use crate::observe::{Names, Shared};
use crate::{HostError, Plugin, SearchPath};

/// What to do when a strategy fails during the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnPluginError {
    /// Stop the run (the default): a broken strategy makes the results meaningless.
    #[default]
    Abort,
    /// Stop stepping that nation's strategy, record the fault, go on.
    SkipAgent,
}

/// One nation's strategy instance.
pub struct Agent {
    pub nation: NationId,
    pub nation_name: String,
    pub plugin: Arc<Plugin>,
    instance: *mut c_void,
    /// False once the agent was skipped after a fault.
    pub active: bool,
}

impl Drop for Agent {
    fn drop(&mut self) {
        if !self.instance.is_null() {
            (self.plugin.api().destroy)(self.instance);
        }
    }
}

// SAFETY: an agent's instance is only touched through its owner (`&mut Host`), one call
// at a time; moving it to another thread moves that exclusive ownership with it.
unsafe impl Send for Agent {}

/// Label passed as the log callback's context: "<plugin>@<nation>".
struct LogLabel(String);

/// The label of `plugin` acting for `nation`, made once per process. A plugin may keep
/// its logger (and so the label's address) for as long as it likes, so labels are never
/// freed; interning them keeps that to one per (plugin, nation) pair instead of one per
/// agent per run, which grew a batch's memory with its number of runs.
fn log_label(plugin: &str, nation: &str) -> &'static LogLabel {
    static LABELS: Mutex<BTreeMap<String, &'static LogLabel>> = Mutex::new(BTreeMap::new());
    let text = format!("{plugin}@{nation}");
    let mut labels = LABELS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(label) = labels.get(&text) {
        return label;
    }
    let label: &'static LogLabel = Box::leak(Box::new(LogLabel(text.clone())));
    labels.insert(text, label);
    label
}

extern "C" fn host_log(ctx: *mut c_void, level: u32, message: abi::Str) {
    // SAFETY: ctx is a leaked LogLabel; the message view is valid for the call.
    let (label, text) = unsafe { (&*(ctx as *const LogLabel), message.as_slice()) };
    let text = String::from_utf8_lossy(text);
    match level {
        1 => tracing::error!(agent = %label.0, "{text}"),
        2 => tracing::warn!(agent = %label.0, "{text}"),
        3 => tracing::info!(agent = %label.0, "{text}"),
        4 => tracing::debug!(agent = %label.0, "{text}"),
        _ => tracing::trace!(agent = %label.0, "{text}"),
    }
}

/// What one `decide` call pushed, copied out of the plugin's memory.
#[derive(Default)]
struct Collected {
    actions: Vec<abi::Action>,
    neg: Vec<OwnedNeg>,
}

/// A negotiation move with its terms and invitees copied.
struct OwnedNeg {
    action: abi::NegAction,
    terms: Vec<abi::Term>,
    invitees: Vec<u32>,
}

extern "C" fn push_action(ctx: *mut c_void, action: *const abi::Action) {
    if ctx.is_null() || action.is_null() {
        return;
    }
    // SAFETY: ctx is the host's collector, valid for the decide call; the action is
    // a valid pointer for the duration of this call and is copied.
    unsafe { (*(ctx as *mut Collected)).actions.push(*action) };
}

extern "C" fn push_neg(ctx: *mut c_void, action: *const abi::NegAction) {
    if ctx.is_null() || action.is_null() {
        return;
    }
    // SAFETY: as in `push_action`; the move's views are valid for this call and their
    // contents are copied before it returns.
    unsafe {
        let a = *action;
        let terms = a.terms.as_slice().to_vec();
        let invitees = a.invitees.as_slice().to_vec();
        (*(ctx as *mut Collected)).neg.push(OwnedNeg {
            action: abi::NegAction {
                terms: abi::View::empty(),
                invitees: abi::View::empty(),
                ..a
            },
            terms,
            invitees,
        });
    }
}

const ERROR_CAP: usize = 4096;

/// Loads every nation's strategy and steps them each tick.
pub struct Host {
    agents: Vec<Agent>,
    names: Names,
    shared: Shared,
    collected: Collected,
    error: Vec<u8>,
    policy: OnPluginError,
    n_markets: usize,
    n_nations: usize,
    market_names: Vec<String>,
}

impl Host {
    /// Find, load and create the strategy of every nation that names one. Libraries are
    /// loaded once per path and process ([`Plugin::shared`]), whatever the number of nations
    /// and runs sharing them; every nation of every host gets its own instance.
    pub fn load(
        world: &World,
        seed: u64,
        search: &SearchPath,
        policy: OnPluginError,
    ) -> Result<Host, HostError> {
        let mut agents = Vec::new();
        let streams = RngStreams { seed };
        for (i, nation) in world.nations.iter().enumerate() {
            let Some(binding) = &nation.strategy else {
                continue;
            };
            let path = search.find(&binding.name, &nation.name)?;
            let plugin = Plugin::shared(&path)?;
            let agent_seed = streams
                .stream(StableId::of("nation", &nation.name), "strategy")
                .next_u64();
            let label = log_label(&plugin.name, &nation.name);
            let host_api = abi::HostApi {
                ctx: label as *const LogLabel as *mut c_void,
                log: host_log,
            };
            let mut error = vec![0u8; ERROR_CAP];
            let mut err = abi::ErrorBuf {
                ptr: error.as_mut_ptr(),
                cap: error.len(),
                len: 0,
            };
            let mut instance: *mut c_void = std::ptr::null_mut();
            let status = (plugin.api().create)(
                abi::View::of(binding.params_toml.as_bytes()),
                agent_seed,
                host_api,
                &mut instance,
                &mut err,
            );
            if status != abi::Status::Ok || instance.is_null() {
                let message =
                    String::from_utf8_lossy(&error[..err.len.min(ERROR_CAP)]).into_owned();
                let message = if status == abi::Status::Panicked {
                    format!("panicked: {message}")
                } else {
                    message
                };
                return Err(HostError::CreateFailed {
                    plugin: plugin.name.clone(),
                    path,
                    nation: nation.name.clone(),
                    message,
                });
            }
            tracing::info!(plugin = %plugin.name, nation = %nation.name, path = %plugin.path.display(), "strategy loaded");
            agents.push(Agent {
                nation: NationId(i as u32),
                nation_name: nation.name.clone(),
                plugin,
                instance,
                active: true,
            });
        }
        Ok(Host {
            agents,
            names: Names::new(world),
            shared: Shared::default(),
            collected: Collected::default(),
            error: vec![0u8; ERROR_CAP],
            policy,
            n_markets: world.markets.len(),
            n_nations: world.nations.len(),
            market_names: (0..world.markets.len())
                .map(|m| world.market_name(MarketId(m as u32)))
                .collect(),
        })
    }

    pub fn agents(&self) -> &[Agent] {
        &self.agents
    }

    /// The distinct plugins loaded, in path order.
    pub fn plugins(&self) -> Vec<Arc<Plugin>> {
        let mut by_path: BTreeMap<PathBuf, Arc<Plugin>> = BTreeMap::new();
        for a in &self.agents {
            by_path
                .entry(a.plugin.path.clone())
                .or_insert_with(|| a.plugin.clone());
        }
        by_path.into_values().collect()
    }

    /// Step every active agent once, in nation order, and submit their actions for the
    /// next tick. Returns the faults contained under `SkipAgent`; under `Abort` the
    /// first fault is the error.
    pub fn decide(&mut self, sim: &mut Simulation) -> Result<Vec<HostError>, HostError> {
        if self.agents.is_empty() {
            return Ok(Vec::new());
        }
        self.shared.refresh(&self.names, sim);
        let tick = sim.tick();
        let mut contained = Vec::new();
        // Negotiation rounds: everyone decides in round 0; in later rounds only agents
        // with something to answer. Each round's moves are processed before the next,
        // so an offer made in round r can be accepted in round r + 1 of the same tick.
        while sim.negotiation_round() < ROUNDS_PER_TICK {
            let round = sim.negotiation_round();
            for k in 0..self.agents.len() {
                if !self.agents[k].active
                    || round > 0
                        && !crate::observe::has_business(
                            sim.negotiation(),
                            self.agents[k].nation,
                            tick,
                        )
                {
                    continue;
                }
                match self.decide_one(sim, k, tick) {
                    Ok(actions) => {
                        let nation = self.agents[k].nation;
                        for a in actions {
                            sim.submit(nation, a);
                        }
                    }
                    Err(e) if self.policy == OnPluginError::SkipAgent && e.is_runtime() => {
                        tracing::error!("{e}; skipping this agent for the rest of the run");
                        self.agents[k].active = false;
                        contained.push(e);
                    }
                    Err(e) => return Err(e),
                }
            }
            sim.negotiate_round();
        }
        Ok(contained)
    }

    fn decide_one(
        &mut self,
        sim: &Simulation,
        k: usize,
        tick: u64,
    ) -> Result<Vec<PolicyAction>, HostError> {
        let obs = self.shared.observation(sim, self.agents[k].nation);
        let round = sim.negotiation_round();
        self.collected.actions.clear();
        self.collected.neg.clear();
        let mut sink = abi::ActionSink {
            ctx: &mut self.collected as *mut Collected as *mut c_void,
            push: push_action,
            push_neg,
        };
        let mut err = abi::ErrorBuf {
            ptr: self.error.as_mut_ptr(),
            cap: self.error.len(),
            len: 0,
        };
        let agent = &self.agents[k];
        let status = (agent.plugin.api().decide)(agent.instance, &obs, &mut sink, &mut err);
        let message =
            || String::from_utf8_lossy(&self.error[..err.len.min(ERROR_CAP)]).into_owned();
        let (plugin, nation) = (agent.plugin.name.clone(), agent.nation_name.clone());
        match status {
            abi::Status::Ok => {}
            abi::Status::Panicked => {
                return Err(HostError::Panicked {
                    plugin,
                    nation,
                    tick,
                    message: message(),
                });
            }
            abi::Status::Error => {
                return Err(HostError::DecideFailed {
                    plugin,
                    nation,
                    tick,
                    message: message(),
                });
            }
        }
        let invalid = |message| HostError::InvalidAction {
            plugin: plugin.clone(),
            nation: nation.clone(),
            tick,
            message,
        };
        let mut out = Vec::with_capacity(self.collected.actions.len());
        for a in &self.collected.actions {
            out.push(self.check(a).map_err(invalid)?);
        }
        for m in &self.collected.neg {
            out.push(PolicyAction::Negotiate {
                round,
                action: check_neg(m).map_err(invalid)?,
            });
        }
        Ok(out)
    }

    /// Turn a raw action into an engine action, or say exactly what is wrong with it.
    fn check(&self, a: &abi::Action) -> Result<PolicyAction, String> {
        let kind = match a.kind {
            abi::action::SET_TARIFF => "set_tariff",
            abi::action::SET_LICENCE => "set_licence",
            abi::action::SET_FLOOR => "set_floor",
            abi::action::STOCKPILE_BUY => "stockpile_buy",
            abi::action::STOCKPILE_RELEASE => "stockpile_release",
            abi::action::INVEST => "invest",
            abi::action::RECYCLING_SUBSIDY => "recycling_subsidy",
            abi::action::FUND_RECYCLING => "fund_recycling",
            abi::action::FUND_SUBSTITUTION => "fund_substitution",
            abi::action::CAPACITY_SUBSIDY => "capacity_subsidy",
            abi::action::STOCK_MANDATE => "stock_mandate",
            other => return Err(format!("unknown action kind {other}")),
        };
        if a.market as usize >= self.n_markets {
            return Err(format!(
                "{kind}: unknown market id {} (this world has {} markets)",
                a.market, self.n_markets
            ));
        }
        let market = MarketId(a.market);
        let where_ = &self.market_names[a.market as usize];
        let nation = || {
            if (a.nation as usize) < self.n_nations {
                Ok(NationId(a.nation))
            } else {
                Err(format!(
                    "{kind} in {where_}: unknown nation id {} (this world has {} nations)",
                    a.nation, self.n_nations
                ))
            }
        };
        let non_negative = |what: &str, x: f64| {
            if x.is_finite() && x >= 0.0 {
                Ok(x)
            } else {
                Err(format!(
                    "{kind} in {where_}: {what} is {x}, must be a finite number >= 0"
                ))
            }
        };
        Ok(match a.kind {
            abi::action::SET_TARIFF => {
                let rate = non_negative("rate", a.value)?;
                if rate > 10.0 {
                    return Err(format!(
                        "{kind} in {where_}: rate {rate} is above 10 (1000%); rates are fractions, 0.25 = 25%"
                    ));
                }
                PolicyAction::SetTariff {
                    market,
                    exporter: nation()?,
                    rate,
                }
            }
            abi::action::SET_LICENCE => {
                let licence = match a.licence {
                    abi::licence::OPEN => Licence::Open,
                    abi::licence::BAN => Licence::Ban,
                    abi::licence::QUOTA => Licence::Quota {
                        t_per_tick: non_negative("quota", a.value)?,
                    },
                    abi::licence::LICENSED => Licence::Licensed {
                        delay_ticks: a.delay_ticks,
                    },
                    other => {
                        return Err(format!("{kind} in {where_}: unknown licence kind {other}"));
                    }
                };
                PolicyAction::SetLicence {
                    market,
                    destination: nation()?,
                    licence,
                }
            }
            abi::action::SET_FLOOR => PolicyAction::SetFloor {
                market,
                floor_usd_per_t: non_negative("floor", a.value)?,
            },
            abi::action::STOCKPILE_BUY => PolicyAction::StockpileBuy {
                market,
                t: non_negative("quantity", a.value)?,
                max_price: non_negative("max price", a.price)?,
            },
            abi::action::STOCKPILE_RELEASE => PolicyAction::StockpileRelease {
                market,
                t: non_negative("quantity", a.value)?,
                min_price: non_negative("min price", a.price)?,
            },
            abi::action::RECYCLING_SUBSIDY => PolicyAction::Lever(Lever::RecyclingSubsidy {
                market,
                usd_per_t: non_negative("subsidy per tonne", a.value)?,
            }),
            abi::action::FUND_RECYCLING => PolicyAction::Lever(Lever::FundRecycling {
                market,
                t_per_year: non_negative("capacity", a.value)?,
                usd_per_tpy: non_negative("cost per t/yr", a.price)?,
            }),
            abi::action::FUND_SUBSTITUTION => PolicyAction::Lever(Lever::FundSubstitution {
                market,
                usd: non_negative("research funding", a.value)?,
            }),
            abi::action::CAPACITY_SUBSIDY => {
                let share = non_negative("share", a.value)?;
                if share > 1.0 {
                    return Err(format!(
                        "{kind} in {where_}: share {share} is above 1; it is the fraction of capital cost paid"
                    ));
                }
                PolicyAction::Lever(Lever::CapacitySubsidy { market, share })
            }
            abi::action::STOCK_MANDATE => PolicyAction::Lever(Lever::StockMandate {
                market,
                cover_ticks: non_negative("cover in ticks", a.value)?,
            }),
            _ => PolicyAction::Invest {
                market,
                host: nation()?,
                t_per_year: non_negative("capacity", a.value)?,
                usd_per_tpy: non_negative("cost per t/yr", a.price)?,
            },
        })
    }
}

fn nation(n: u32) -> NationId {
    NationId(n)
}

/// A raw term as the engine's term. Ids and quantities are the engine's to judge (a
/// malformed offer is refused with a named error the plugin sees next round); only a
/// kind this ABI does not define is the plugin's bug.
fn term_from_abi(t: &abi::Term) -> Result<Term, String> {
    use abi::term as k;
    let m = MarketId(t.market);
    Ok(match t.kind {
        k::OFFTAKE => Term::Offtake {
            seller: nation(t.a),
            buyer: nation(t.b),
            market: m,
            t_per_tick: t.quantity,
            price_usd_per_t: t.price,
            duration_ticks: t.duration_ticks,
            penalty_usd: t.penalty_usd,
        },
        k::TARIFF => Term::Tariff {
            importer: nation(t.a),
            exporter: nation(t.b),
            market: m,
            rate: t.rate,
            duration_ticks: t.duration_ticks,
        },
        k::LICENCE_HOLD => Term::LicenceHold {
            exporter: nation(t.a),
            destination: nation(t.b),
            market: m,
            duration_ticks: t.duration_ticks,
        },
        k::FINANCE => Term::Finance {
            funder: nation(t.a),
            host: nation(t.b),
            market: m,
            t_per_year: t.quantity,
            usd_per_tpy: t.price,
            offtake_share: t.rate,
            offtake_price_usd_per_t: t.aux,
            duration_ticks: t.duration_ticks,
        },
        k::STOCKPILE => Term::Stockpile {
            market: m,
            t_per_tick: t.quantity,
            buy_below_usd_per_t: t.price,
            release_above_usd_per_t: t.aux,
            duration_ticks: t.duration_ticks,
        },
        k::TRANSFER => Term::Transfer {
            from: nation(t.a),
            to: nation(t.b),
            usd: t.quantity,
        },
        k::CLUB_FLOOR => Term::ClubFloor {
            market: m,
            floor_usd_per_t: t.price,
            member_tariff: t.rate,
        },
        k::CLUB_EXIT => Term::ClubExit {
            notice_ticks: t.duration_ticks,
            penalty_usd: t.penalty_usd,
        },
        other => return Err(format!("negotiation term of unknown kind {other}")),
    })
}

fn check_neg(m: &OwnedNeg) -> Result<NegAction, String> {
    use abi::neg as k;
    let a = &m.action;
    let terms = || {
        m.terms
            .iter()
            .map(term_from_abi)
            .collect::<Result<Vec<_>, _>>()
    };
    let channel = match a.channel {
        k::PRIVATE => Channel::Private,
        k::PUBLIC => Channel::Public,
        other => return Err(format!("negotiation move: unknown channel {other}")),
    };
    Ok(match a.kind {
        k::OPEN => NegAction::Open {
            counterparty: nation(a.nation),
            channel,
            discount: [a.discount_me, a.discount_other],
            time_cost_usd: [a.time_cost_me, a.time_cost_other],
            deadline_rounds: a.deadline_rounds,
            deadline_ticks: a.deadline_ticks,
            terms: terms()?,
        },
        k::OPEN_CLUB => NegAction::OpenClub {
            invitees: m.invitees.iter().map(|&n| nation(n)).collect(),
            channel,
            deadline_ticks: a.deadline_ticks,
            terms: terms()?,
        },
        k::OFFER => NegAction::Offer {
            session: a.session,
            terms: terms()?,
        },
        k::COUNTER => NegAction::Counter {
            session: a.session,
            terms: terms()?,
        },
        k::ACCEPT => NegAction::Accept { session: a.session },
        k::REJECT => NegAction::Reject { session: a.session },
        k::JOIN => NegAction::Join { session: a.session },
        k::DECLINE => NegAction::Decline { session: a.session },
        k::LEAVE => NegAction::Leave {
            agreement: a.agreement,
        },
        k::RENEGE => NegAction::Renege {
            agreement: a.agreement,
        },
        other => return Err(format!("negotiation move of unknown kind {other}")),
    })
}
