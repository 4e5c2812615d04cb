//! The C ABI between the engine and strategy plugins.
//!
//! Rust has no stable ABI, and each plugin (a `cdylib`) links its own std, allocator and
//! panic machinery. So only `#[repr(C)]` data, primitives, raw pointer + length views and
//! `extern "C"` function pointers cross the boundary; nothing here has a Rust layout.
//! The contract:
//!
//! - **Handshake first.** The host calls [`ABI_VERSION_SYMBOL`] (`extern "C" fn() -> u32`)
//!   before anything else and refuses a plugin whose version is not [`ABI_VERSION`],
//!   naming both. Only then does it call [`ENTRY_SYMBOL`] to get the [`StrategyApi`].
//! - **The engine owns the memory.** An [`Observation`] and everything it points to are
//!   borrowed for the duration of one `decide` call. Actions are pushed through the
//!   engine's [`ActionSink`] callback, which copies them. Errors are written into the
//!   engine's [`ErrorBuf`]. Nothing allocated on one side is freed on the other; a
//!   plugin's instance is freed by the plugin's own `destroy`.
//! - **No unwinding across the boundary.** A panic crossing `extern "C"` aborts the
//!   process, so plugins catch panics inside (the SDK's export macro does) and return
//!   [`Status::Panicked`].
//! - **Libraries stay loaded** for the life of the process: unloading a library that
//!   touched thread-locals is unsound.
//!
//! Ids in observations and actions are the engine's dense indices (nations and markets in
//! name order), valid for the whole run; names come with the observation.

#![no_std]

use core::ffi::c_void;

/// Bumped on every change of layout or meaning in this crate. Version 2 added
/// negotiation: the observation's negotiation views and [`ActionSink::push_neg`].
/// Version 3 added the adaptation levers (action kinds 7-11) and the pipeline's
/// `kind`, `firm` and `started_tick`.
pub const ABI_VERSION: u32 = 3;

/// `extern "C" fn() -> u32`: the plugin's ABI version.
pub const ABI_VERSION_SYMBOL: &core::ffi::CStr = c"chokepoint_abi_version";
/// `extern "C" fn() -> *const StrategyApi`: the plugin's function table.
pub const ENTRY_SYMBOL: &core::ffi::CStr = c"chokepoint_strategy";

/// A borrowed view of `len` values of `T`, valid for one call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct View<T> {
    pub ptr: *const T,
    pub len: usize,
}

impl<T> View<T> {
    pub const fn empty() -> Self {
        View {
            ptr: core::ptr::null(),
            len: 0,
        }
    }
    pub fn of(slice: &[T]) -> Self {
        View {
            ptr: slice.as_ptr(),
            len: slice.len(),
        }
    }
    /// # Safety
    /// `ptr` must point to `len` valid values that outlive `'a` (null with len 0 is fine).
    pub unsafe fn as_slice<'a>(self) -> &'a [T] {
        if self.len == 0 || self.ptr.is_null() {
            &[]
        } else {
            // SAFETY: guaranteed by the caller.
            unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
        }
    }
}

/// Borrowed UTF-8 text.
pub type Str = View<u8>;

/// What a call returned.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok = 0,
    /// The call failed; the message is in the error buffer.
    Error = 1,
    /// The strategy panicked; the panic message is in the error buffer.
    Panicked = 2,
}

/// An engine-owned buffer for an error message (UTF-8, truncated to `cap`).
#[repr(C)]
pub struct ErrorBuf {
    pub ptr: *mut u8,
    pub cap: usize,
    pub len: usize,
}

/// Functions the host lends the plugin: its only way to log (a plugin's own `tracing`
/// has no subscriber).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct HostApi {
    pub ctx: *mut c_void,
    /// level: 1 error, 2 warn, 3 info, 4 debug, 5 trace.
    pub log: extern "C" fn(ctx: *mut c_void, level: u32, message: Str),
}

/// The plugin's function table, returned by [`ENTRY_SYMBOL`].
#[repr(C)]
pub struct StrategyApi {
    /// Must equal [`ABI_VERSION`] (checked again after the handshake).
    pub abi_version: u32,
    /// `size_of::<StrategyApi>()` as the plugin saw it.
    pub size: u32,
    /// The strategy's name, static.
    pub name: Str,
    /// Create an instance from parameters (TOML text) and its own RNG seed.
    pub create: extern "C" fn(
        params: Str,
        seed: u64,
        host: HostApi,
        instance: *mut *mut c_void,
        err: *mut ErrorBuf,
    ) -> Status,
    /// One decision: read the observation, push actions.
    pub decide: extern "C" fn(
        instance: *mut c_void,
        obs: *const Observation,
        sink: *mut ActionSink,
        err: *mut ErrorBuf,
    ) -> Status,
    /// Free an instance made by `create`.
    pub destroy: extern "C" fn(instance: *mut c_void),
}

/// Where actions go: the engine copies each action as it is pushed.
#[repr(C)]
pub struct ActionSink {
    pub ctx: *mut c_void,
    pub push: extern "C" fn(ctx: *mut c_void, action: *const Action),
    /// A negotiation move; its `terms` and `invitees` views are copied during the call.
    pub push_neg: extern "C" fn(ctx: *mut c_void, action: *const NegAction),
}

/// What a nation knows each tick. All views are borrowed for one `decide` call.
#[repr(C)]
pub struct Observation {
    pub tick: u64,
    pub ticks_per_year: u32,
    /// The deciding nation.
    pub me: u32,
    pub budget_usd: f64,
    pub nations: View<NationInfo>,
    pub markets: View<MarketInfo>,
    /// Last tick's price in every nation and market that had one.
    pub prices: View<PriceObs>,
    /// Last tick's flows (domestic ones have `from == to`).
    pub flows: View<FlowObs>,
    /// Production by nation and market last tick.
    pub production: View<ProductionObs>,
    /// Shortages by nation and market last tick.
    pub shortages: View<ShortageObs>,
    /// Tariffs in force (non-zero only).
    pub tariffs: View<TariffObs>,
    /// Licences in force (open arcs are not listed).
    pub licences: View<LicenceObs>,
    /// Price floors in force.
    pub floors: View<FloorObs>,
    /// The deciding nation's firms.
    pub firms: View<FirmObs>,
    /// The deciding nation's stockpiles.
    pub stockpiles: View<StockpileObs>,
    /// Capacity under construction, every nation.
    pub pipeline: View<PipelineObs>,
    /// Negotiation round of this call within the tick. Round 0 is every agent's call
    /// of the tick; later rounds call only agents with something to answer (an offer
    /// to them, an invitation, their turn to offer, a refused move).
    pub round: u32,
    pub rounds_per_tick: u32,
    /// Sessions I am party to (private) and every public one (the bulletin).
    pub sessions: View<SessionObs>,
    /// Offers addressed to me, pending.
    pub offers: View<OfferObs>,
    /// Agreements I am or was party to, and every public one: the history of
    /// agreements with their standing.
    pub agreements: View<AgreementObs>,
    /// Parties of sessions and agreements, referenced by range.
    pub members: View<MemberObs>,
    /// Terms of offers, club proposals and agreements, referenced by range.
    pub terms: View<Term>,
    /// Trust between me and every other nation, both ways.
    pub trust: View<TrustObs>,
    /// Events of the agreements I can see (signed, kept to term, breach, renege, ...).
    pub history: View<HistoryObs>,
    /// My negotiation moves the engine refused, this tick and last.
    pub notices: View<NoticeObs>,
}

/// "No nation" / "no value" in u32 fields of negotiation views.
pub const NONE: u32 = u32::MAX;

/// Negotiation constants.
pub mod neg {
    /// [`super::NegAction::kind`].
    pub const OPEN: u32 = 1;
    pub const OPEN_CLUB: u32 = 2;
    pub const OFFER: u32 = 3;
    pub const ACCEPT: u32 = 4;
    pub const REJECT: u32 = 5;
    pub const COUNTER: u32 = 6;
    pub const JOIN: u32 = 7;
    pub const DECLINE: u32 = 8;
    pub const LEAVE: u32 = 9;
    pub const RENEGE: u32 = 10;
    /// Channels.
    pub const PRIVATE: u32 = 0;
    pub const PUBLIC: u32 = 1;
    /// Session kinds.
    pub const BILATERAL: u32 = 0;
    pub const CLUB: u32 = 1;
    /// Session status.
    pub const SESSION_OPEN: u32 = 0;
    pub const SESSION_AGREED: u32 = 1;
    pub const SESSION_EXPIRED: u32 = 2;
    /// Agreement status.
    pub const ACTIVE: u32 = 0;
    pub const COMPLETED: u32 = 1;
    pub const BREACHED: u32 = 2;
    pub const RENEGED: u32 = 3;
    pub const DISSOLVED: u32 = 4;
    /// Member states: sessions (invited, joined, declined), agreements (member,
    /// leaving, left, expelled).
    pub const INVITED: u32 = 0;
    pub const JOINED: u32 = 1;
    pub const DECLINED: u32 = 2;
    pub const MEMBER: u32 = 3;
    pub const LEAVING: u32 = 4;
    pub const LEFT: u32 = 5;
    pub const EXPELLED: u32 = 6;
}

/// Term kinds, in [`Term::kind`]. Field use per kind:
/// - OFFTAKE: a seller, b buyer, quantity t/tick, price USD/t, duration, penalty_usd.
/// - TARIFF: a importer, b exporter, rate, duration.
/// - LICENCE_HOLD: a exporter, b destination, duration.
/// - FINANCE: a funder, b host, quantity t/yr, price USD per t/yr, rate offtake share,
///   aux offtake price USD/t, duration of the offtake.
/// - STOCKPILE: quantity t/tick, price buy below, aux release above, duration.
/// - TRANSFER: a from, b to, quantity USD.
/// - CLUB_FLOOR: price floor USD/t, rate member tariff.
/// - CLUB_EXIT: duration = notice ticks, penalty_usd.
pub mod term {
    pub const OFFTAKE: u32 = 1;
    pub const TARIFF: u32 = 2;
    pub const LICENCE_HOLD: u32 = 3;
    pub const FINANCE: u32 = 4;
    pub const STOCKPILE: u32 = 5;
    pub const TRANSFER: u32 = 6;
    pub const CLUB_FLOOR: u32 = 7;
    pub const CLUB_EXIT: u32 = 8;
}

/// One term of an offer or agreement (see [`term`] for the fields each kind uses).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Term {
    pub kind: u32,
    pub market: u32,
    pub a: u32,
    pub b: u32,
    pub quantity: f64,
    pub price: f64,
    pub rate: f64,
    pub aux: f64,
    pub penalty_usd: f64,
    pub duration_ticks: u32,
}

impl Term {
    pub const fn new(kind: u32, market: u32) -> Self {
        Term {
            kind,
            market,
            a: 0,
            b: 0,
            quantity: 0.0,
            price: 0.0,
            rate: 0.0,
            aux: 0.0,
            penalty_usd: 0.0,
            duration_ticks: 0,
        }
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionObs {
    pub id: u32,
    pub kind: u32,
    pub channel: u32,
    pub opener: u32,
    pub status: u32,
    /// Offers made so far (the bargaining period), and the most allowed.
    pub session_round: u32,
    pub deadline_rounds: u32,
    pub deadline_tick: u64,
    /// Bilateral: the opener's and the counterparty's discount factors per session
    /// round, and their time costs (USD per round without agreement).
    pub discount_opener: f64,
    pub discount_other: f64,
    pub time_cost_opener: f64,
    pub time_cost_other: f64,
    /// The pending offer's maker and addressee, or NONE.
    pub offer_from: u32,
    pub offer_to: u32,
    /// Bilateral: who makes the next offer when none is pending.
    pub next_proposer: u32,
    pub members_start: u32,
    pub members_len: u32,
    /// The pending offer's terms (bilateral) or the proposal (club).
    pub terms_start: u32,
    pub terms_len: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OfferObs {
    pub session: u32,
    pub from: u32,
    pub session_round: u32,
    pub round: u32,
    pub tick: u64,
    pub terms_start: u32,
    pub terms_len: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgreementObs {
    pub id: u32,
    pub session: u32,
    pub kind: u32,
    pub channel: u32,
    pub status: u32,
    /// Who breached or reneged (BREACHED, RENEGED), else NONE.
    pub broken_by: u32,
    pub signed_tick: u64,
    pub signed_round: u32,
    pub session_round: u32,
    /// First tick no longer in force, or u64::MAX (open-ended club).
    pub ends_tick: u64,
    pub shortfalls: u32,
    pub members_start: u32,
    pub members_len: u32,
    pub terms_start: u32,
    pub terms_len: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemberObs {
    pub nation: u32,
    pub state: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrustObs {
    /// How far `from` trusts `to`, in [0, 1].
    pub from: u32,
    pub to: u32,
    pub trust: f64,
}

/// History kinds, in [`HistoryObs::kind`].
pub mod history {
    pub const SIGNED: u32 = 1;
    pub const JOINED: u32 = 2;
    pub const COMPLETED: u32 = 3;
    pub const BREACH: u32 = 4;
    pub const RENEGE: u32 = 5;
    pub const LEAVE: u32 = 6;
    pub const LEFT: u32 = 7;
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryObs {
    pub tick: u64,
    pub round: u32,
    pub agreement: u32,
    pub nation: u32,
    pub kind: u32,
    pub penalty_usd: f64,
}

/// A refused negotiation move. `code` numbers the errors: 1 unknown_session,
/// 2 unknown_agreement, 3 unknown_party, 4 unknown_market, 5 not_a_party,
/// 6 negative_quantity, 7 bad_terms, 8 empty_terms, 9 not_your_turn, 10 no_offer,
/// 11 session_closed, 12 not_invited, 13 not_a_member, 14 not_active.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NoticeObs {
    pub tick: u64,
    pub round: u32,
    pub session: u32,
    pub code: u32,
    pub message: Str,
}

/// A negotiation move (see [`neg`] for kinds). Fields by kind:
/// - OPEN: `nation` counterparty, channel, discounts and time costs (mine, theirs),
///   deadline_rounds, deadline_ticks, terms (the first offer).
/// - OPEN_CLUB: invitees, channel, deadline_ticks, terms (the proposal).
/// - OFFER, COUNTER: session, terms. ACCEPT, REJECT, JOIN, DECLINE: session.
/// - LEAVE, RENEGE: agreement.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NegAction {
    pub kind: u32,
    pub session: u32,
    pub agreement: u32,
    pub nation: u32,
    pub channel: u32,
    pub deadline_rounds: u32,
    pub deadline_ticks: u32,
    pub discount_me: f64,
    pub discount_other: f64,
    pub time_cost_me: f64,
    pub time_cost_other: f64,
    pub terms: View<Term>,
    pub invitees: View<u32>,
}

impl NegAction {
    pub const fn new(kind: u32) -> Self {
        NegAction {
            kind,
            session: 0,
            agreement: 0,
            nation: NONE,
            channel: neg::PRIVATE,
            deadline_rounds: 0,
            deadline_ticks: 0,
            discount_me: 1.0,
            discount_other: 1.0,
            time_cost_me: 0.0,
            time_cost_other: 0.0,
            terms: View::empty(),
            invitees: View::empty(),
        }
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NationInfo {
    pub name: Str,
    pub region: Str,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MarketInfo {
    pub commodity: Str,
    pub stage: Str,
    pub reference_price_usd_per_t: f64,
    pub build_lag_ticks: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriceObs {
    pub market: u32,
    pub nation: u32,
    pub price_usd_per_t: f64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlowObs {
    pub market: u32,
    pub from: u32,
    pub to: u32,
    pub quantity_t: f64,
    pub landed_usd_per_t: f64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProductionObs {
    pub market: u32,
    pub nation: u32,
    pub produced_t: f64,
    pub capacity_t: f64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShortageObs {
    pub market: u32,
    pub nation: u32,
    pub shortage_t: f64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TariffObs {
    pub market: u32,
    pub importer: u32,
    pub exporter: u32,
    pub rate: f64,
}

/// Licence kinds, in [`LicenceObs::kind`] and [`Action::licence`].
pub mod licence {
    pub const OPEN: u32 = 0;
    pub const BAN: u32 = 1;
    pub const QUOTA: u32 = 2;
    pub const LICENSED: u32 = 3;
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LicenceObs {
    pub market: u32,
    pub exporter: u32,
    pub destination: u32,
    pub kind: u32,
    /// Quota in t per tick (QUOTA).
    pub quota_t: f64,
    /// Delay in ticks (LICENSED).
    pub delay_ticks: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloorObs {
    pub market: u32,
    pub importer: u32,
    pub floor_usd_per_t: f64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FirmObs {
    pub firm: u32,
    pub market: u32,
    pub capacity_t: f64,
    pub produced_t: f64,
    pub stock_t: f64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StockpileObs {
    pub market: u32,
    pub holdings_t: f64,
    /// Money the nation can still spend on it.
    pub budget_usd: f64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PipelineObs {
    pub market: u32,
    pub nation: u32,
    /// Funded by this nation (may differ from the host `nation`).
    pub funder: u32,
    pub capacity_t: f64,
    pub arrives_at_tick: u64,
    /// Who builds it: [`pipeline::FINANCED`], [`pipeline::FIRM`] or [`pipeline::RECYCLING`].
    pub kind: u32,
    /// The expanding firm for [`pipeline::FIRM`], else [`pipeline::NO_FIRM`].
    pub firm: u32,
    pub started_tick: u64,
}

/// Kinds of capacity under construction, in [`PipelineObs::kind`].
pub mod pipeline {
    /// Financed by a nation (an `INVEST` action): a new plant in the host nation.
    pub const FINANCED: u32 = 0;
    /// A firm's own expansion under the engine's investment rule.
    pub const FIRM: u32 = 1;
    /// A recycling plant financed by a nation (`FUND_RECYCLING`).
    pub const RECYCLING: u32 = 2;
    /// [`super::PipelineObs::firm`] when no firm builds it.
    pub const NO_FIRM: u32 = u32::MAX;
}

/// Action kinds, in [`Action::kind`].
pub mod action {
    /// My tariff on imports from `nation` in `market`: `value` = rate (0.25 = 25%).
    pub const SET_TARIFF: u32 = 1;
    /// My export licence towards `nation` in `market`: `licence` kind, `value` = quota in
    /// t per tick (QUOTA), `delay_ticks` (LICENSED).
    pub const SET_LICENCE: u32 = 2;
    /// A floor on the landed price of imports into me in `market`, held by a variable
    /// levy: `value` = floor USD/t (0 removes it).
    pub const SET_FLOOR: u32 = 3;
    /// Stockpile buys up to `value` t this tick at prices up to `price`.
    pub const STOCKPILE_BUY: u32 = 4;
    /// Stockpile sells up to `value` t this tick at prices from `price` up.
    pub const STOCKPILE_RELEASE: u32 = 5;
    /// Finance `value` t/yr of new capacity in `market` hosted by `nation` (me or
    /// abroad); it arrives after the stage's build lag and costs `price` USD per t/yr.
    pub const INVEST: u32 = 6;
    /// Pay `value` USD per tonne recycled into `market` in me (0 ends the subsidy).
    pub const RECYCLING_SUBSIDY: u32 = 7;
    /// Finance `value` t/yr of recycling capacity into `market` in me at `price` USD
    /// per t/yr; online after the recycling stream's build lag.
    pub const FUND_RECYCLING: u32 = 8;
    /// Fund `value` USD of research substituting my end uses of `market`; it lands
    /// after the world file's research lag.
    pub const FUND_SUBSTITUTION: u32 = 9;
    /// Pay the share `value` (0..=1) of my firms' capital cost of new capacity in
    /// `market` (0 ends the subsidy).
    pub const CAPACITY_SUBSIDY: u32 = 10;
    /// My firms using `market` as an input must hold `value` ticks of their
    /// full-capacity use of it (0 ends the mandate).
    pub const STOCK_MANDATE: u32 = 11;
}

/// One action. A flat struct rather than a Rust enum: its layout is fixed by `repr(C)`
/// and readable from any language.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Action {
    pub kind: u32,
    pub market: u32,
    pub nation: u32,
    pub licence: u32,
    pub value: f64,
    pub price: f64,
    pub delay_ticks: u32,
}

impl Action {
    pub const fn new(kind: u32, market: u32) -> Self {
        Action {
            kind,
            market,
            nation: 0,
            licence: 0,
            value: 0.0,
            price: 0.0,
            delay_ticks: 0,
        }
    }
}

/// The signature of [`ABI_VERSION_SYMBOL`].
pub type AbiVersionFn = unsafe extern "C" fn() -> u32;
/// The signature of [`ENTRY_SYMBOL`].
pub type EntryFn = unsafe extern "C" fn() -> *const StrategyApi;

// SAFETY: a StrategyApi is an immutable table of function pointers and a pointer to
// static text; sharing it between threads is sound.
unsafe impl Sync for StrategyApi {}
unsafe impl Send for StrategyApi {}
