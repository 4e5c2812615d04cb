//! A digest of the whole model state, for verified replay.
//!
//! Replay re-runs a logged run from its recorded actions and compares this digest tick by
//! tick, so it must cover everything a later tick depends on and nothing that varies
//! between equal runs: floats go in as their bits, entities in id order, never by
//! `Entity`. BLAKE3 is pinned, unlike `DefaultHasher`.
//!
//! Why the bytes are gathered first and hashed once: the state is thousands of 8-byte
//! fields, and a hasher update per field cost more than the hashing itself (the digest
//! is taken every tick a run is logged, and every tick replay verifies). BLAKE3 of the
//! concatenation is the digest incremental updates gave, so logs do not change.

use std::io::Write as _;

use chokepoint_world::Licence;

use crate::Simulation;
use crate::components::*;
use crate::market::MarketState;
use crate::resources::*;

struct Digest(Vec<u8>);

impl Digest {
    fn f(&mut self, x: f64) {
        self.0.extend_from_slice(&x.to_bits().to_le_bytes());
    }
    fn u(&mut self, x: u64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    /// The value's `Debug` text, as `format!("{x:?}")` gives it.
    fn debug(&mut self, x: &dyn std::fmt::Debug) {
        // Writing to a Vec cannot fail.
        let _ = write!(self.0, "{x:?}");
    }
}

impl Simulation {
    /// BLAKE3 of the model state after the last tick: clock, every nation's treasury and
    /// demand factors, every firm's plant and stocks, every market's prices and
    /// expectations, policies in force, stockpiles, capacity under construction.
    pub fn state_digest(&self) -> [u8; 32] {
        let ecs = self.ecs();
        let index = ecs.resource::<Index>();
        let mut d = Digest(Vec::with_capacity(1 << 16));
        d.u(ecs.resource::<Clock>().tick);
        for &e in &index.nations {
            let t = ecs.get::<Treasury>(e).expect("nation");
            d.f(t.budget_usd);
            for u in &ecs.get::<EndUse>(e).expect("nation").demands {
                d.f(u.factor);
                d.f(u.consumed_t);
            }
        }
        d.u(index.firms.len() as u64);
        // One query for every firm (a look-up through `World::get` finds the component
        // by type each time, which cost more than the rest of the digest).
        let firm_state = ecs
            .try_query::<(&Firm, &Plant, &Stocks)>()
            .expect("firm components are registered");
        let firm_query = firm_state.query_manual(ecs);
        for &e in &index.firms {
            let (f, p, s) = firm_query.get(e).expect("firm");
            d.u(f.id.0 as u64);
            d.u(f.nation.0 as u64);
            d.u(f.market.0 as u64);
            d.f(p.capacity_t_per_tick);
            d.f(p.mc_at_zero_usd_per_t);
            d.f(p.mc_at_capacity_usd_per_t);
            d.f(s.output_t);
            for &x in &s.inputs_t {
                d.f(x);
            }
        }
        for &e in &index.markets {
            let m = &ecs.get::<MarketState>(e).expect("market").prices;
            for n in 0..m.previous.len() {
                d.f(m.local[n].unwrap_or(f64::NAN));
                d.f(m.supply[n]);
                d.f(m.previous[n]);
                d.f(m.expected[n]);
            }
        }
        let policies = ecs.resource::<Policies>();
        for (m, i, x, r) in policies.tariffs() {
            d.u(((m.0 as u64) << 40) | ((i.0 as u64) << 20) | x.0 as u64);
            d.f(r);
        }
        for (&(m, x, dest), s) in policies.licences() {
            d.u(((m.0 as u64) << 40) | ((x.0 as u64) << 20) | dest.0 as u64);
            // Kind and parameter as numbers: as exact as the Debug text, and a new
            // kind of licence cannot compile without being covered here.
            match s.licence {
                Licence::Open => d.u(0),
                Licence::Ban => d.u(1),
                Licence::Quota { t_per_tick } => {
                    d.u(2);
                    d.f(t_per_tick);
                }
                Licence::Licensed { delay_ticks } => {
                    d.u(3);
                    d.u(u64::from(delay_ticks));
                }
            }
            d.u(s.opens_at_tick);
        }
        for (m, n, f) in policies.floors() {
            d.u(((m.0 as u64) << 20) | n.0 as u64);
            d.f(f);
        }
        for (&(m, n), &e) in &index.stockpiles {
            d.u(((m.0 as u64) << 20) | n.0 as u64);
            d.f(ecs.get::<Stockpile>(e).map_or(0.0, |s| s.holdings_t));
        }
        for p in &ecs.resource::<Pipeline>().0 {
            d.u(((p.market.0 as u64) << 40) | ((p.host.0 as u64) << 20) | p.funder.0 as u64);
            d.f(p.capacity_t_per_tick);
            d.u(p.arrives_at_tick);
        }
        // Negotiation: sessions, agreements (terms, standing, concessions to undo),
        // trust and history. Debug text is deterministic and covers every field;
        // floats print as their shortest round-trip form, one to one with their bits.
        let neg = ecs.resource::<crate::negotiation::Negotiation>();
        for s in &neg.sessions {
            d.debug(s);
        }
        for a in &neg.agreements {
            d.debug(a);
        }
        for &t in &neg.trust {
            d.f(t);
        }
        d.u(neg.history.len() as u64);
        // Adaptation: substitution, scrap, recycling plants, levers, firms' projects,
        // mandated reserves. Empty in worlds without adaptation tables.
        for st in &ecs.resource::<crate::adaptation::DemandAdaptation>().0 {
            d.f(st.share);
            d.f(st.peak);
            d.f(st.research);
        }
        for pool in &ecs.resource::<crate::recycling::Recycling>().pools {
            d.f(pool.stock_t);
            for &c in &pool.history {
                d.f(c);
            }
        }
        let recycler_state = ecs.try_query::<&crate::recycling::Recycler>();
        let recyclers = recycler_state.as_ref().map(|q| q.query_manual(ecs));
        for &e in &index.firms {
            if let Some(r) = recyclers.as_ref().and_then(|q| q.get(e).ok()) {
                d.u(r.stream as u64);
                d.f(r.capacity_t_per_tick);
            }
            let (_, _, s) = firm_query.get(e).expect("firm");
            for (slot, &x) in s.reserve_t.iter().enumerate() {
                if x != 0.0 {
                    d.u(slot as u64);
                    d.f(x);
                }
            }
        }
        let levers = ecs.resource::<crate::levers::Levers>();
        for map in [
            &levers.recycling_subsidy,
            &levers.capacity_subsidy,
            &levers.mandates,
        ] {
            d.u(map.len() as u64);
            for (&(m, n), &v) in map {
                d.u(((m.0 as u64) << 20) | n.0 as u64);
                d.f(v);
            }
        }
        for r in &levers.research {
            d.u(r.adaptation as u64);
            d.f(r.share);
            d.u(r.lands_at_tick);
        }
        for p in &levers.recycling_projects {
            d.u(((p.stream as u64) << 20) | p.nation.0 as u64);
            d.f(p.capacity_t_per_tick);
            d.u(p.arrives_at_tick);
        }
        d.u(levers.next_event as u64);
        for p in &ecs.resource::<crate::investment::FirmPipeline>().0 {
            d.u(p.firm.0 as u64);
            d.f(p.capacity_t_per_tick);
            d.u(p.arrives_at_tick);
        }
        *blake3::hash(&d.0).as_bytes()
    }

    /// The actions queued for the next tick, in the order they will be applied.
    pub fn pending_actions(&self) -> &[(chokepoint_world::NationId, PolicyAction)] {
        &self.ecs().resource::<PendingActions>().0
    }
}
