//! Spatial price equilibrium for one market (one commodity at one production
//! stage) across nations, solved every tick.
//!
//! # The problem
//!
//! Takayama-Judge, one hop: every nation has a supply curve and a demand
//! curve; open routes `j -> i` carry goods at a transport cost, an ad valorem
//! tariff on the CIF value, an optional price floor (variable levy) and an
//! optional quota; a nation may cap its total exports. At equilibrium nobody
//! can profit from shipping more or less: the buyer price `p_i` never exceeds
//! the landed price of an open route that could carry more, and equals it on
//! every route actually used below its quota. Ad valorem tariffs make the
//! landed price a *product* of the exporter's price, so this is a variational
//! inequality rather than a welfare maximisation.
//!
//! # Why primal Gauss-Seidel with an active set
//!
//! The simulator solves the same market every tick with small changes, on
//! worlds of up to ~200 nations and ~40,000 routes, of which only a few
//! hundred carry goods. That favours a method that restarts from last tick's
//! flows and finishes in a few cheap passes, touches only routes in use,
//! and needs no matrices. Each sweep solves one block per importer (one buyer
//! price at which every source's landed offer clears its demand) and one per
//! exporter (one supply price at which its output equals what all its
//! destinations take), each a monotone equation in one variable solved by
//! safeguarded Newton on a bracket (`root`). Exporter blocks run last so
//! supply prices match production when sweeps stop. When sweeps settle, a
//! pricing pass checks every open route and activates those that would carry
//! goods; unused unprofitable routes leave the set.
//!
//! # Routes by rule
//!
//! Listing every route costs O(n^2) per market and tick before a single
//! sweep: 40,000 arcs per market at 200 nations, nearly all of them plain
//! free trade priced by distance. A [`Market`] may instead give a
//! [`Routes`] rule (a cost per pair of regions) and list only the pairs that
//! differ (tariffs, floors, quotas, closures, odd costs). The pricing pass
//! then opens unlisted routes per importer and region, exporters cheapest
//! first, stopping at the first that would not pay, so it costs what it opens
//! plus one look per region; local prices and the final check take the
//! cheapest unlisted route per region the same way. [`Solver::arcs`] lists
//! the arcs a solution is indexed by, and [`Solver::solve_from`] warm-starts
//! across ticks by (exporter, importer) pair. Equilibria are the same as with
//! every route listed (tested on random markets).
//!
//! # Steps, floors and honesty about convergence
//!
//! Inventory offered at one price, stockpile orders and price floors are
//! vertical steps; they are stored as ramps of relative width
//! [`STEP_WIDTH_REL`] (1e-6) so every block equation stays continuous. The
//! flow tolerance ([`Solver::tolerance`], 1e-8 of volume) sits above what one
//! ulp of price resolves on such a ramp; a tighter one made sweeps cycle at
//! the resolution limit until `max_sweeps`.
//!
//! Such markets are nearly non-smooth, and block coordinate methods can stop
//! at non-stationary points of non-smooth problems: where supply and demand
//! are both flat, no one-node block can move, yet the prices the blocks
//! picked are inconsistent (a producer at capacity keeps the bottom of its
//! flat price range while its buyers pay more; a used route lands above its
//! buyer's price; a nation imports at one price while exporting at a lower
//! one). In generated worlds this left markets "settled" with gaps up to 13%
//! of the price scale. So when sweeps settle and the pricing pass adds
//! nothing, the solution is checked against every equilibrium condition
//! (`equilibrium_gap`, to 1e-5 of the price scale); if it fails, a
//! *price-space polish* solves the pattern the sweeps found exactly, and
//! sweeps and pricing go on from there (at most 16 polishes per solve).
//! Used routes strictly inside their quota and above their floor's ramp,
//! from exporters whose cap does not bind, tie the buyer's price to the
//! seller's (`p_i = (s_j + t)(1 + tau)`), and domestic sales tie
//! `p_i = s_i`; every other route keeps its flow. A cycle of such links
//! whose trade costs do not add up cannot all carry goods at any prices
//! (cross-hauling): goods are first pushed around it, the cheaper way, until
//! a link empties (a network-simplex pivot; an unused active route that
//! lands cheaper than the path it closes enters the same way). Then, in
//! each connected component, all prices are increasing affine functions of
//! one root price, so one monotone root-find clears the component, and
//! flows follow from the balances along a spanning tree (links off the tree
//! keep their flows, exact on the consistent cycles region-priced routes
//! make). A component whose tree flows would be negative or break a quota
//! or cap is left alone.
//!
//! Sweeps that creep instead of settling (zigzagging between blocks, or
//! cycling at the resolution of a steep ramp) are polished and checked the
//! same way after 50, 100, 200, ... sweeps without settling; one that
//! passes the check is converged whatever its last flow change. Rounds
//! that settle in one sweep while the pricing pass keeps adding arcs the
//! sweeps give nothing are checked every 50 such rounds: a route from a
//! producer at capacity, priced at the bottom of its flat range, undercuts
//! its buyer's marginal source while inactive and is that source while
//! active, so the pass added and dropped it in turn and never reached the
//! check. A failed check is redone once with local prices read anew, after
//! producers at capacity selling at home only were raised to their buyers'
//! price (read before, a buyer kept the cheap route of such a producer at
//! its old price). Every
//! solution returned or checked comes from a sweep (exporters last, so
//! producers sit on their curves), never straight from a polish. What is
//! left unconverged is reported with [`Solution::converged`] false and its
//! `residual`, and is still balanced, finite and non-negative: flat
//! patterns where a producer at capacity, priced at the bottom of its range
//! in a separate component, would be outbid by a buyer elsewhere (a pattern
//! change between components that neither blocks nor the polish make), and
//! markets that hit `max_sweeps`. (Local prices are read off the sources
//! that could sell more; exports below the flow tolerance are rounding dust
//! and do not make a producer at capacity such a source.) [`Case`] writes a
//! solve's input to text for regression tests (the crate feature `capture`
//! dumps unconverged ones).
//! Bad numbers give a [`ClearingError`] naming the node or arc; the solver
//! never panics and never loops forever.

mod case;
mod curve;
mod error;
mod market;
mod polish;
mod root;
mod solver;

pub use case::Case;
pub use curve::{DemandCurve, ISO_CAP_FACTOR, STEP_WIDTH_REL, SupplyCurve, effective_ramp};
pub use error::ClearingError;
pub use market::{Arc, Market, Node, Routes};
pub use solver::{Solution, Solver};
