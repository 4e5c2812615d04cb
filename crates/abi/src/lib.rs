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

/// Bumped on every change of layout or meaning in this crate.
pub const ABI_VERSION: u32 = 2;

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
