//! Safeguarded Newton on a bracket for one-dimensional monotone equations.
//!
//! Every subproblem in the solver reduces to finding a zero of a
//! continuous, non-decreasing, piecewise-smooth function (mostly piecewise
//! linear). Newton is exact inside one linear piece, so with a warm guess
//! from the previous sweep it usually finishes in one or two evaluations;
//! kinks can make Newton overshoot, which the bracket catches, falling back
//! to false position and, when that stalls (one end never moves), to
//! bisection. The iteration count is capped so the caller can never hang.

/// Relative tolerance on the residual, measured against the quantities
/// being balanced (supply vs. shipments).
pub(crate) const REL_QTOL: f64 = 1e-13;
/// Relative bracket width at which we stop regardless of the residual.
const REL_XTOL: f64 = 1e-15;
const MAX_ITER: usize = 200;

/// One evaluation: value g(x), derivative g'(x) >= 0, and the quantity scale
/// against which |g| is judged.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Eval {
    pub g: f64,
    pub dg: f64,
    pub scale: f64,
}

/// Finds x in [a, b] with g(x) ~= 0, given g(a) < 0 <= g(b).
/// `guess` (if strictly inside) is tried first.
pub(crate) fn solve_increasing(
    mut f: impl FnMut(f64) -> Eval,
    mut a: f64,
    mut fa: Eval,
    mut b: f64,
    mut fb: Eval,
    guess: Option<f64>,
) -> f64 {
    debug_assert!(fa.g < 0.0 && fb.g >= 0.0);
    let mut x = match guess {
        Some(x) if x > a && x < b => x,
        _ => first_point(a, &fa, b, &fb),
    };
    let mut width_prev = f64::INFINITY;
    let mut width_prev2 = f64::INFINITY;
    for _ in 0..MAX_IT_GUARD {
        let e = f(x);
        if e.g.abs() <= REL_QTOL * e.scale {
            return x;
        }
        if e.g < 0.0 {
            a = x;
            fa = e;
        } else {
            b = x;
            fb = e;
        }
        let width = b - a;
        if width <= REL_XTOL * a.abs().max(b.abs()).max(1.0) {
            return if fa.g.abs() < fb.g.abs() { a } else { b };
        }
        let stalled = width > 0.5 * width_prev2;
        width_prev2 = width_prev;
        width_prev = width;
        let newton = if e.dg > 0.0 { x - e.g / e.dg } else { f64::NAN };
        let cand = if !stalled && newton > a && newton < b {
            newton
        } else if !stalled {
            false_position(a, &fa, b, &fb)
        } else {
            midpoint(a, b)
        };
        x = if cand > a && cand < b {
            cand
        } else {
            midpoint(a, b)
        };
    }
    if fa.g.abs() < fb.g.abs() { a } else { b }
}

const MAX_IT_GUARD: usize = MAX_ITER;

fn first_point(a: f64, fa: &Eval, b: f64, fb: &Eval) -> f64 {
    if fa.dg > 0.0 {
        let n = a - fa.g / fa.dg;
        if n > a && n < b {
            return n;
        }
    }
    false_position(a, fa, b, fb)
}

fn false_position(a: f64, fa: &Eval, b: f64, fb: &Eval) -> f64 {
    let d = fb.g - fa.g;
    if d > 0.0 && d.is_finite() {
        a - fa.g * ((b - a) / d)
    } else {
        midpoint(a, b)
    }
}

/// Geometric midpoint when the bracket spans orders of magnitude (after an
/// outward search), arithmetic otherwise.
fn midpoint(a: f64, b: f64) -> f64 {
    if a > 0.0 && b > 4.0 * a {
        (a * b).sqrt()
    } else {
        a + 0.5 * (b - a)
    }
}
