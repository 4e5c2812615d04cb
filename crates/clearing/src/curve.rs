//! Supply and demand curves built from many small segments.
//!
//! A nation's curve is the horizontal sum of its firms' curves, so a curve
//! may hold thousands of segments while the solver evaluates it a few times
//! per arc per sweep. Summing segments on every call would make a sweep
//! O(arcs x firms); instead [`SupplyCurve::finish`] / [`DemandCurve::finish`]
//! turn the ramps into one sorted table of breakpoints with the cumulative
//! quantity and the slope at each, so evaluation is a binary search plus a
//! multiply-add (O(log k)).
//!
//! Prefix sums of slopes cancel badly when a near-vertical step (slope
//! ~1e15) is switched on and off next to ordinary ramps, leaving a bogus
//! slope in the gap that then integrates into a visible quantity error.
//! The table is therefore built with compensated summation and an
//! active-segment count: where no ramp is active the slope is exactly zero,
//! so flat stretches of the curve are exactly flat. That matters because
//! the solver's choice among equally valid prices in a flat stretch relies
//! on seeing a zero derivative there.

/// Relative width used to turn a vertical step (`p_lo == p_hi`) into a ramp.
///
/// A true step makes quantity a discontinuous function of price, so the
/// exporter subproblem might have no root at all; a ramp of width
/// `1e-6 * max(1, |p|)` keeps every curve continuous while moving prices by
/// far less than any tolerance the simulation cares about.
pub const STEP_WIDTH_REL: f64 = 1e-6;

/// Isoelastic demand is capped at `ISO_CAP_FACTOR * q0` (reached at the price
/// `p0 * ISO_CAP_FACTOR^(-1/e)`), so that quantity stays finite as p -> 0.
pub const ISO_CAP_FACTOR: f64 = 1e6;

fn step_width(p: f64) -> f64 {
    STEP_WIDTH_REL * p.abs().max(1.0)
}

/// Neumaier compensated accumulator.
#[derive(Clone, Copy, Default)]
struct Acc {
    sum: f64,
    comp: f64,
}

impl Acc {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.comp += (self.sum - t) + x;
        } else {
            self.comp += (x - t) + self.sum;
        }
        self.sum = t;
    }
    fn value(&self) -> f64 {
        self.sum + self.comp
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Ramp {
    lo: f64,
    hi: f64,
    q: f64,
}

/// Sum of ramps `r_k(p)`, each rising linearly from 0 at `lo` to `q` at
/// `hi`, tabulated at the sorted breakpoints.
#[derive(Clone, Debug, Default)]
struct RampTable {
    ramps: Vec<Ramp>,
    /// Sorted, distinct breakpoints.
    bp: Vec<f64>,
    /// For supply: cumulative quantity R(bp[k]). For demand: the remaining
    /// quantity T - R(bp[k]), accumulated from the right so that demand is
    /// exactly zero past the choke price.
    val: Vec<f64>,
    /// |dR/dp| on [bp[k], bp[k+1]); exactly 0 on the last interval and
    /// wherever no ramp is active.
    slope: Vec<f64>,
    total: f64,
    /// (price, change of slope, change of active ramps, insertion order).
    events: Vec<(f64, f64, i32, u32)>,
    /// Events in insertion order, before sorting.
    unsorted: Vec<(f64, f64, i32, u32)>,
    /// The insertion order of the last build's sorted events (kept by `clear`).
    order: Vec<u32>,
    /// The interval the last evaluation found (see `interval`).
    hint: Hint,
}

/// A remembered interval: a relaxed atomic rather than a `Cell` so that curves stay
/// `Sync` (a market is solved by one thread at a time; the hint only saves a search,
/// whatever it holds the answer is the same).
#[derive(Debug, Default)]
struct Hint(std::sync::atomic::AtomicUsize);

impl Hint {
    #[inline]
    fn get(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
    #[inline]
    fn set(&self, k: usize) {
        self.0.store(k, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Clone for Hint {
    fn clone(&self) -> Self {
        Hint(self.get().into())
    }
}

impl RampTable {
    fn clear(&mut self) {
        self.ramps.clear();
        self.bp.clear();
        self.val.clear();
        self.slope.clear();
        self.events.clear();
        self.total = 0.0;
        // `order` stays: the next build of the same curve starts from it.
    }

    fn build(&mut self, descending: bool) {
        self.bp.clear();
        self.val.clear();
        self.slope.clear();
        self.events.clear();
        self.unsorted.clear();
        let mut total = Acc::default();
        for (k, r) in self.ramps.iter().enumerate() {
            let s = r.q / (r.hi - r.lo);
            let k = 2 * k as u32;
            self.unsorted.push((r.lo, s, 1, k));
            self.unsorted.push((r.hi, -s, -1, k + 1));
            total.add(r.q);
        }
        self.total = total.value();
        // Sorted on price, ties in insertion order: ties are merged below, so their
        // order only affects rounding, and is fixed (deterministic). A total order,
        // so any sort gives the same sequence. A curve is rebuilt every tick from
        // ramps that mostly keep their order, so the last build's order is tried
        // first and the sort runs only when it no longer holds.
        let before = |a: &(f64, f64, i32, u32), b: &(f64, f64, i32, u32)| {
            a.0.total_cmp(&b.0).then(a.3.cmp(&b.3))
        };
        if self.order.len() == self.unsorted.len() {
            let unsorted = &self.unsorted;
            self.events
                .extend(self.order.iter().map(|&k| unsorted[k as usize]));
            if !self.events.is_sorted_by(|a, b| before(a, b).is_le()) {
                self.events.sort_unstable_by(before);
            }
        } else {
            self.events.extend_from_slice(&self.unsorted);
            self.events.sort_unstable_by(before);
        }
        self.order.clear();
        self.order.extend(self.events.iter().map(|e| e.3));
        let mut slope = Acc::default();
        let mut count: i32 = 0;
        let mut i = 0;
        while i < self.events.len() {
            let p = self.events[i].0;
            while i < self.events.len() && self.events[i].0 == p {
                slope.add(self.events[i].1);
                count += self.events[i].2;
                i += 1;
            }
            self.bp.push(p);
            self.slope.push(if count == 0 {
                0.0
            } else {
                slope.value().max(0.0)
            });
            if count == 0 {
                slope = Acc::default();
            }
        }
        let n = self.bp.len();
        self.val.resize(n, 0.0);
        if n == 0 {
            return;
        }
        if !descending {
            let mut acc = Acc::default();
            self.val[0] = 0.0;
            for k in 0..n - 1 {
                acc.add(self.slope[k] * (self.bp[k + 1] - self.bp[k]));
                self.val[k + 1] = acc.value().clamp(self.val[k], self.total);
            }
            self.val[n - 1] = self.total;
        } else {
            let mut acc = Acc::default();
            self.val[n - 1] = 0.0;
            for k in (0..n - 1).rev() {
                acc.add(self.slope[k] * (self.bp[k + 1] - self.bp[k]));
                self.val[k] = acc.value().clamp(self.val[k + 1], self.total);
            }
        }
    }

    /// Index of the interval containing `p`, or None left of all breakpoints.
    #[inline]
    fn interval(&self, p: f64) -> Option<usize> {
        // The solver evaluates a curve at prices close together (a root-find, then
        // the checks at the root), so the last interval found is tried first.
        let (bp, h) = (&self.bp[..], self.hint.get());
        if let Some(&lo) = bp.get(h)
            && lo <= p
            && bp.get(h + 1).is_none_or(|&hi| p < hi)
        {
            return Some(h);
        }
        let k = bp.partition_point(|&b| b <= p);
        if k == 0 {
            None
        } else {
            self.hint.set(k - 1);
            Some(k - 1)
        }
    }

    /// Ascending table: (R(p), R'(p)).
    #[inline]
    fn eval_up(&self, p: f64) -> (f64, f64) {
        match self.interval(p) {
            None => (0.0, 0.0),
            Some(i) => {
                let s = self.slope[i];
                if s == 0.0 {
                    return (self.val[i], 0.0);
                }
                let v = self.val[i] + s * (p - self.bp[i]);
                let cap = self.val.get(i + 1).copied().unwrap_or(self.total);
                (v.min(cap), s)
            }
        }
    }

    /// Descending table: (T - R(p), R'(p)).
    #[inline]
    fn eval_down(&self, p: f64) -> (f64, f64) {
        match self.interval(p) {
            None => (self.val.first().copied().unwrap_or(0.0), 0.0),
            Some(i) => {
                let s = self.slope[i];
                if s == 0.0 {
                    return (self.val[i], 0.0);
                }
                let v = self.val[i] - s * (p - self.bp[i]);
                let floor = self.val.get(i + 1).copied().unwrap_or(0.0);
                (v.max(floor), s)
            }
        }
    }

    /// Direct summation (unfinished curves): `sum q_k r_k(p)`, or for
    /// demand (`descending`) `sum q_k (1 - r_k(p))`, summed term by term
    /// rather than as `total - sum`, which cancels badly near the choke price.
    fn eval_slow(&self, p: f64, descending: bool) -> f64 {
        let mut acc = Acc::default();
        for r in &self.ramps {
            let frac = if p >= r.hi {
                1.0
            } else if p > r.lo {
                (p - r.lo) / (r.hi - r.lo)
            } else {
                0.0
            };
            acc.add(r.q * if descending { 1.0 - frac } else { frac });
        }
        acc.value()
    }
}

fn ramp_issue(p_lo: f64, p_hi: f64, q_max: f64) -> Option<&'static str> {
    if !(p_lo.is_finite() && p_hi.is_finite() && q_max.is_finite()) {
        return Some("ramp with a NaN or infinite parameter");
    }
    if p_lo < 0.0 {
        return Some("ramp with a negative price");
    }
    if p_hi < p_lo {
        return Some("ramp with p_hi < p_lo");
    }
    if q_max < 0.0 {
        return Some("ramp with a negative quantity");
    }
    None
}

fn make_ramp(p_lo: f64, p_hi: f64, q_max: f64) -> Ramp {
    let (lo, hi) = effective_ramp(p_lo, p_hi);
    Ramp { lo, hi, q: q_max }
}

/// The price interval over which a ramp added as `(p_lo, p_hi)` actually
/// moves: a step (`p_hi <= p_lo`) becomes `[p_lo, p_lo + STEP_WIDTH_REL *
/// max(1, |p_lo|)]`. Callers that share a solved quantity among the ramps
/// that made a curve must evaluate each ramp on this interval, or their
/// parts will not add up to the curve's total.
pub fn effective_ramp(p_lo: f64, p_hi: f64) -> (f64, f64) {
    let hi = if p_hi > p_lo {
        p_hi
    } else {
        p_lo + step_width(p_lo)
    };
    (p_lo, hi)
}

/// Supply of one nation: quantity offered (tonnes per tick) as a
/// non-decreasing function of the producer price (USD per tonne).
#[derive(Clone, Debug, Default)]
pub struct SupplyCurve {
    table: RampTable,
    dirty: bool,
    issue: Option<&'static str>,
}

impl SupplyCurve {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a firm (or inventory lot): nothing offered at or below `p_lo`,
    /// `q_max` offered at or above `p_hi`, linear in between — i.e. marginal
    /// cost rising linearly from `p_lo` at zero output to `p_hi` at
    /// capacity. `p_lo == p_hi` is a reservation-price step, stored as a ramp
    /// of width [`STEP_WIDTH_REL`]` * max(1, p_lo)`.
    ///
    /// Invalid parameters (NaN/infinite, negative price or quantity,
    /// `p_hi < p_lo`) are remembered and reported by the solver as
    /// [`crate::ClearingError::InvalidSupply`]; zero quantities are ignored.
    pub fn add_ramp(&mut self, p_lo: f64, p_hi: f64, q_max: f64) {
        if let Some(issue) = ramp_issue(p_lo, p_hi, q_max) {
            self.issue.get_or_insert(issue);
            return;
        }
        if q_max > 0.0 {
            self.table.ramps.push(make_ramp(p_lo, p_hi, q_max));
            self.dirty = true;
        }
    }

    /// Builds the breakpoint table; required before the curve is handed to
    /// the solver. Evaluating an unfinished curve is correct but O(k).
    pub fn finish(&mut self) {
        self.table.build(false);
        self.dirty = false;
    }

    pub fn quantity(&self, p: f64) -> f64 {
        if self.dirty {
            self.table.eval_slow(p, false)
        } else {
            self.table.eval_up(p).0
        }
    }

    /// Right derivative dq/dp at `p` (finished curves; 0 otherwise).
    pub fn slope(&self, p: f64) -> f64 {
        self.table.eval_up(p).1
    }

    /// Quantity and right derivative in one lookup.
    #[inline]
    pub fn quantity_and_slope(&self, p: f64) -> (f64, f64) {
        self.table.eval_up(p)
    }

    /// Lowest price at which anything is offered (the marginal cost of the
    /// first tonne); None for an empty curve.
    pub fn min_price(&self) -> Option<f64> {
        self.table.bp.first().copied()
    }

    /// Price at which every segment is at capacity; None for an empty curve.
    pub fn max_price(&self) -> Option<f64> {
        self.table.bp.last().copied()
    }

    /// Total capacity (quantity at any price above [`Self::max_price`]).
    pub fn capacity(&self) -> f64 {
        self.table.total
    }

    pub fn is_empty(&self) -> bool {
        self.table.ramps.is_empty()
    }

    /// The ramps added so far, in order, as `(p_lo, p_hi, q_max)` with steps
    /// already widened (see [`effective_ramp`]): adding them to an empty
    /// curve rebuilds this one exactly.
    pub fn ramps(&self) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        self.table.ramps.iter().map(|r| (r.lo, r.hi, r.q))
    }

    pub fn clear(&mut self) {
        self.table.clear();
        self.dirty = false;
        self.issue = None;
    }

    pub(crate) fn issue(&self) -> Option<&'static str> {
        self.issue
    }

    pub(crate) fn is_dirty(&self) -> bool {
        self.dirty
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Iso {
    q0: f64,
    p0: f64,
    e: f64,
    p_cap: f64,
    q_cap: f64,
}

impl Iso {
    #[inline]
    fn eval(&self, p: f64) -> (f64, f64) {
        if p <= self.p_cap {
            (self.q_cap, 0.0)
        } else {
            let q = self.q0 * (p / self.p0).powf(-self.e);
            (q, self.e * q / p)
        }
    }
}

/// Demand of one nation: quantity bought (tonnes per tick) as a
/// non-increasing function of the local price (USD per tonne).
#[derive(Clone, Debug, Default)]
pub struct DemandCurve {
    table: RampTable,
    iso: Vec<Iso>,
    dirty: bool,
    issue: Option<&'static str>,
}

impl DemandCurve {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a buyer taking `q_max` at or below `p_lo`, nothing at or above
    /// `p_hi`, linear in between (a downstream firm's derived demand, or a
    /// linear end-use demand). `p_lo == p_hi` is a reservation-price step,
    /// stored as a ramp of width [`STEP_WIDTH_REL`]` * max(1, p_lo)`
    /// starting at `p_lo`.
    pub fn add_ramp(&mut self, p_lo: f64, p_hi: f64, q_max: f64) {
        if let Some(issue) = ramp_issue(p_lo, p_hi, q_max) {
            self.issue.get_or_insert(issue);
            return;
        }
        if q_max > 0.0 {
            self.table.ramps.push(make_ramp(p_lo, p_hi, q_max));
            self.dirty = true;
        }
    }

    /// Adds `D(p) = max(0, intercept_q - slope_q_per_price * p)`, i.e. a ramp
    /// from `intercept_q` at p = 0 to zero at the choke price
    /// `intercept_q / slope_q_per_price`. A non-positive slope with positive
    /// intercept (demand that never falls) is rejected: the equilibrium price
    /// would be unbounded whenever supply falls short; use
    /// [`Self::add_isoelastic`] for very inelastic demand instead.
    pub fn add_linear(&mut self, intercept_q: f64, slope_q_per_price: f64) {
        if !(intercept_q.is_finite() && slope_q_per_price.is_finite()) {
            self.issue
                .get_or_insert("linear demand with a NaN or infinite parameter");
            return;
        }
        if intercept_q < 0.0 {
            self.issue
                .get_or_insert("linear demand with a negative intercept");
            return;
        }
        if intercept_q == 0.0 {
            return;
        }
        if slope_q_per_price <= 0.0 {
            self.issue
                .get_or_insert("linear demand with a non-positive slope");
            return;
        }
        let choke = intercept_q / slope_q_per_price;
        if !choke.is_finite() {
            self.issue
                .get_or_insert("linear demand with an infinite choke price");
            return;
        }
        self.add_ramp(0.0, choke, intercept_q);
    }

    /// Adds `q0 * (p / p0)^(-elasticity)` (elasticity > 0). It has no choke
    /// price; as p -> 0 it is capped at [`ISO_CAP_FACTOR`]` * q0` so that
    /// quantities stay finite. Evaluation cost is linear in the number of
    /// isoelastic segments (meant for a few end-use aggregates, not firms).
    pub fn add_isoelastic(&mut self, q0: f64, p0: f64, elasticity: f64) {
        if !(q0.is_finite() && p0.is_finite() && elasticity.is_finite()) {
            self.issue
                .get_or_insert("isoelastic demand with a NaN or infinite parameter");
            return;
        }
        if q0 < 0.0 || p0 <= 0.0 || elasticity <= 0.0 {
            self.issue
                .get_or_insert("isoelastic demand needs q0 >= 0, p0 > 0, elasticity > 0");
            return;
        }
        if q0 == 0.0 {
            return;
        }
        let q_cap = q0 * ISO_CAP_FACTOR;
        let p_cap = p0 * ISO_CAP_FACTOR.powf(-1.0 / elasticity);
        self.iso.push(Iso {
            q0,
            p0,
            e: elasticity,
            p_cap,
            q_cap,
        });
        self.dirty = true;
    }

    pub fn finish(&mut self) {
        self.table.build(true);
        self.dirty = false;
    }

    pub fn quantity(&self, p: f64) -> f64 {
        if self.dirty {
            let mut q = self.table.eval_slow(p, true);
            for s in &self.iso {
                q += s.eval(p).0;
            }
            q.max(0.0)
        } else {
            self.quantity_and_slope(p).0
        }
    }

    /// Quantity and |dq/dp| (right derivative, reported as a magnitude).
    #[inline]
    pub fn quantity_and_slope(&self, p: f64) -> (f64, f64) {
        let (mut q, mut s) = self.table.eval_down(p);
        for seg in &self.iso {
            let (qi, si) = seg.eval(p);
            q += qi;
            s += si;
        }
        (q, s)
    }

    /// dq/dp (non-positive).
    pub fn slope(&self, p: f64) -> f64 {
        -self.quantity_and_slope(p).1
    }

    /// Demand at price zero (the most that can ever be bought).
    pub fn max_quantity(&self) -> f64 {
        self.quantity_and_slope(0.0).0
    }

    /// Highest price at which at least `q` is demanded (the marginal buyer's
    /// willingness to pay), i.e. `sup { p >= 0 : D(p) >= q }`. Taking the
    /// supremum makes the answer unique where the curve is flat.
    /// `q <= 0` gives the choke price (None if there is none); `q` above
    /// [`Self::max_quantity`] gives None. Requires a finished curve.
    pub fn inverse(&self, q: f64) -> Option<f64> {
        if q.is_nan() {
            return None;
        }
        if q <= 0.0 {
            return self.choke_price();
        }
        if q > self.max_quantity() {
            return None;
        }
        if self.iso.is_empty() {
            return Some(self.inverse_ramps(q));
        }
        Some(self.inverse_numeric(q))
    }

    fn inverse_ramps(&self, q: f64) -> f64 {
        let t = &self.table;
        let k = t.val.partition_point(|&d| d >= q);
        if k == 0 {
            return 0.0;
        }
        if k == t.val.len() {
            return t.bp.last().copied().unwrap_or(0.0);
        }
        let i = k - 1;
        let s = t.slope[i];
        if s <= 0.0 {
            return t.bp[i];
        }
        (t.bp[i] + (t.val[i] - q) / s).clamp(t.bp[i], t.bp[k])
    }

    fn inverse_numeric(&self, q: f64) -> f64 {
        // D is continuous and non-increasing; find sup{p : D(p) >= q} by
        // bracketing, then safeguarded Newton.
        let mut lo = 0.0_f64;
        let mut hi = self.table.bp.last().copied().unwrap_or(0.0).max(1.0);
        for iso in &self.iso {
            hi = hi.max(iso.p0);
        }
        let mut guard = 0;
        while self.quantity_and_slope(hi).0 >= q && guard < 2100 {
            lo = hi;
            hi *= 2.0;
            guard += 1;
            if !hi.is_finite() {
                return f64::MAX;
            }
        }
        // Invariant: D(lo) >= q > D(hi).
        let mut x = 0.5 * (lo + hi);
        for _ in 0..200 {
            let (d, s) = self.quantity_and_slope(x);
            if d >= q {
                lo = x;
            } else {
                hi = x;
            }
            if hi - lo <= 1e-14 * hi.abs().max(1.0) {
                break;
            }
            let newton = if s > 0.0 { x + (d - q) / s } else { f64::NAN };
            x = if newton > lo && newton < hi && (d - q).abs() > 1e-15 * q {
                newton
            } else if (d - q).abs() <= 1e-15 * q && s > 0.0 {
                break;
            } else if hi > 4.0 * lo.max(1e-300) && lo > 0.0 {
                (lo * hi).sqrt()
            } else {
                0.5 * (lo + hi)
            };
        }
        x.clamp(lo, hi)
    }

    /// Price above which nothing is demanded; None for an empty curve or
    /// one with an isoelastic segment.
    pub fn choke_price(&self) -> Option<f64> {
        if !self.iso.is_empty() {
            return None;
        }
        self.table.bp.last().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.table.ramps.is_empty() && self.iso.is_empty()
    }

    /// The ramps added so far, in order, as `(p_lo, p_hi, q_max)` with steps
    /// already widened (see [`effective_ramp`]); with [`Self::isoelastic`],
    /// enough to rebuild this curve exactly.
    pub fn ramps(&self) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        self.table.ramps.iter().map(|r| (r.lo, r.hi, r.q))
    }

    /// The isoelastic segments added so far, in order, as `(q0, p0, elasticity)`.
    pub fn isoelastic(&self) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        self.iso.iter().map(|s| (s.q0, s.p0, s.e))
    }

    pub fn clear(&mut self) {
        self.table.clear();
        self.iso.clear();
        self.dirty = false;
        self.issue = None;
    }

    pub(crate) fn issue(&self) -> Option<&'static str> {
        self.issue
    }

    pub(crate) fn is_dirty(&self) -> bool {
        self.dirty
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supply_table_matches_direct_sum() {
        let mut s = SupplyCurve::new();
        let mut lcg = 12345u64;
        let mut next = || {
            lcg = lcg
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (lcg >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..500 {
            let lo = next() * 100.0;
            let w = if next() < 0.2 { 0.0 } else { next() * 50.0 };
            s.add_ramp(lo, lo + w, next() * 10.0);
        }
        let slow: Vec<f64> = (0..300).map(|k| s.quantity(k as f64 * 0.6)).collect();
        s.finish();
        for (k, &q_slow) in slow.iter().enumerate() {
            let q = s.quantity(k as f64 * 0.6);
            assert!(
                (q - q_slow).abs() <= 1e-9 * (1.0 + q_slow),
                "{k}: {q} vs {q_slow}"
            );
        }
    }

    #[test]
    fn demand_inverse_round_trips() {
        let mut d = DemandCurve::new();
        d.add_linear(100.0, 2.0);
        d.add_ramp(10.0, 30.0, 20.0);
        d.finish();
        for k in 1..100 {
            let q = k as f64 * 1.2;
            let p = d.inverse(q).unwrap();
            assert!((d.quantity(p) - q).abs() < 1e-9, "{q} {p}");
        }
        assert_eq!(d.choke_price(), Some(50.0));
        assert_eq!(d.inverse(0.0), Some(50.0));
        assert_eq!(d.inverse(121.0), None);
    }

    #[test]
    fn isoelastic_inverse_round_trips() {
        let mut d = DemandCurve::new();
        d.add_isoelastic(10.0, 100.0, 0.5);
        d.add_ramp(0.0, 50.0, 5.0);
        d.finish();
        for k in 1..60 {
            let q = k as f64 * 0.7;
            let p = d.inverse(q).unwrap();
            assert!(
                (d.quantity(p) - q).abs() < 1e-9 * q,
                "{q} {p} {}",
                d.quantity(p)
            );
        }
        assert_eq!(d.choke_price(), None);
    }
}
