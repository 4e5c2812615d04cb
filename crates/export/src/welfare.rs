//! Consumer surplus of end-use demand.
//!
//! End users of a nation in a market have demand through the reference point (P0, Q0)
//! with elasticity e, scaled by the demand-shock factor f (Q = f Q0):
//! linear `D(p) = max(0, Q (1 + e - e p / P0))` or isoelastic `D(p) = Q (p / P0)^-e`.
//! Their surplus on the quantity q they obtained at price p is the area under the inverse
//! demand P(x) above the price, `CS = integral_0^q (P(x) - p) dx`. When q = D(p) (every
//! tick the market clears without rationing) this is the textbook
//! `integral_p^inf D(s) ds`; when users obtained less than they wanted, it assumes the
//! units went to the users who value them most.
//!
//! - Linear, e > 0: `P(x) = P0 (1 + e) / e - P0 x / (e Q)`, so
//!   `CS = q (P0 (1 + e) / e - p) - P0 q^2 / (2 e Q)`. At the reference point
//!   (p = P0, q = Q) this is `Q P0 / (2 e)`.
//! - Linear, e = 0: demand is vertical, the area is unbounded: undefined.
//! - Isoelastic, e > 1: `P(x) = P0 (x / Q)^(-1/e)`, so
//!   `CS = P0 Q^(1/e) q^(1 - 1/e) e / (e - 1) - p q`.
//! - Isoelastic, e <= 1: the integral diverges at x -> 0 (the first units are worth
//!   unboundedly much): undefined.
//!
//! Undefined surplus is `None`, exported as null, never as infinity or a made-up number.

use chokepoint_world::{DemandForm, EndUseDemand};

/// Surplus of end users who obtained `obtained_t` at `price` (USD per tonne), with demand
/// `def` scaled by `factor`. `None` where the surplus is unbounded (see the module docs).
pub fn end_use_surplus_usd(
    def: &EndUseDemand,
    factor: f64,
    price: f64,
    obtained_t: f64,
) -> Option<f64> {
    let (p0, e) = (def.reference_price_usd_per_t, def.elasticity);
    let q_ref = def.reference_quantity_t_per_tick * factor;
    let q = obtained_t;
    match def.form {
        DemandForm::Linear if e > 0.0 => {
            if q <= 0.0 {
                return Some(0.0);
            }
            if q_ref <= 0.0 {
                // No demand at any price, yet something was obtained: it is worth nothing.
                return Some(-price * q);
            }
            Some(q * (p0 * (1.0 + e) / e - price) - p0 * q * q / (2.0 * e * q_ref))
        }
        DemandForm::Isoelastic if e > 1.0 => {
            if q <= 0.0 {
                return Some(0.0);
            }
            if q_ref <= 0.0 {
                return Some(-price * q);
            }
            let inv = 1.0 / e;
            Some(p0 * q_ref.powf(inv) * q.powf(1.0 - inv) * e / (e - 1.0) - price * q)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chokepoint_world::MarketId;

    fn demand(form: DemandForm, e: f64) -> EndUseDemand {
        EndUseDemand {
            market: MarketId(0),
            end_use: "test".into(),
            reference_price_usd_per_t: 100.0,
            reference_quantity_t_per_tick: 10.0,
            elasticity: e,
            form,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn linear_surplus_at_the_reference_point_is_q0_p0_over_twice_e() {
        // Choke price P0 (1 + e) / e = 600; triangle 0.5 * 10 * (600 - 100) = 2500.
        let cs = end_use_surplus_usd(&demand(DemandForm::Linear, 0.2), 1.0, 100.0, 10.0);
        assert!(close(cs.unwrap(), 10.0 * 100.0 / (2.0 * 0.2)), "{cs:?}");
    }

    #[test]
    fn linear_surplus_is_the_triangle_above_any_price_on_the_demand_curve() {
        let d = demand(DemandForm::Linear, 0.5);
        // Q = 20 after a demand shock of 2; at p = 200, D = 20 (1.5 - 0.5 * 2) = 10;
        // choke price 300: triangle 0.5 * 10 * 100 = 500.
        let cs = end_use_surplus_usd(&d, 2.0, 200.0, 10.0).unwrap();
        assert!(close(cs, 500.0), "{cs}");
    }

    #[test]
    fn rationed_users_keep_the_surplus_of_the_most_valued_units() {
        let d = demand(DemandForm::Linear, 0.2);
        // Half the reference quantity at the reference price: P(x) = 600 - 50 x,
        // integral_0^5 (600 - 50 x - 100) dx = 2500 - 625 = 1875.
        let cs = end_use_surplus_usd(&d, 1.0, 100.0, 5.0).unwrap();
        assert!(close(cs, 1875.0), "{cs}");
    }

    #[test]
    fn isoelastic_surplus_is_finite_only_when_demand_is_elastic() {
        assert_eq!(
            end_use_surplus_usd(&demand(DemandForm::Isoelastic, 1.0), 1.0, 100.0, 10.0),
            None
        );
        assert_eq!(
            end_use_surplus_usd(&demand(DemandForm::Isoelastic, 0.3), 1.0, 100.0, 10.0),
            None
        );
        // e = 2 at the reference point: integral_p0^inf Q (s/P0)^-2 ds = Q P0 = 1000.
        let cs = end_use_surplus_usd(&demand(DemandForm::Isoelastic, 2.0), 1.0, 100.0, 10.0);
        assert!(close(cs.unwrap(), 1000.0), "{cs:?}");
    }

    #[test]
    fn vertical_linear_demand_has_no_finite_surplus() {
        assert_eq!(
            end_use_surplus_usd(&demand(DemandForm::Linear, 0.0), 1.0, 100.0, 10.0),
            None
        );
    }

    #[test]
    fn nothing_obtained_is_no_surplus() {
        let cs = end_use_surplus_usd(&demand(DemandForm::Linear, 0.2), 1.0, 100.0, 0.0);
        assert_eq!(cs, Some(0.0));
    }
}
