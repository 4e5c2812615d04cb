//! The subgame-perfect strategies of Rubinstein's alternating-offers game, bargaining
//! over the price of an offtake contract: a test plugin for the host's negotiation
//! tests.
//!
//! The pie is the surplus (value - cost) per tonne. With discount factors d_me and
//! d_other per session round, the SPE proposer keeps (1 - d_other) / (1 - d_me d_other)
//! of it, and a responder accepts any offer leaving it at least
//! d_me (1 - d_other) / (1 - d_me d_other), what it would get as the next proposer,
//! discounted by one period. With no surplus (value <= cost) each side asks for its
//! reservation price and refuses anything worse, so no offer is ever acceptable.

use chokepoint_sdk::prelude::*;

pub struct Rubinstein {
    seller: bool,
    counterparty: String,
    commodity: String,
    stage: String,
    cost: f64,
    value: f64,
    quantity: f64,
    discount_seller: f64,
    discount_buyer: f64,
    deadline_rounds: u32,
    opens: bool,
}

impl Rubinstein {
    fn shares(&self) -> (f64, f64) {
        if self.seller {
            (self.discount_seller, self.discount_buyer)
        } else {
            (self.discount_buyer, self.discount_seller)
        }
    }

    /// The price that gives the seller `share` of the surplus.
    fn price(&self, seller_share: f64) -> f64 {
        self.cost + seller_share * (self.value - self.cost)
    }

    /// My proposal: the SPE split, or my reservation price when there is no surplus.
    fn proposal(&self, me: NationId, other: NationId, m: MarketId) -> Vec<Term> {
        let (d_me, d_other) = self.shares();
        let price = if self.value > self.cost {
            let keep = (1.0 - d_other) / (1.0 - d_me * d_other);
            self.price(if self.seller { keep } else { 1.0 - keep })
        } else if self.seller {
            self.cost
        } else {
            self.value
        };
        let (seller, buyer) = if self.seller {
            (me, other)
        } else {
            (other, me)
        };
        vec![Term::Offtake {
            seller,
            buyer,
            market: m,
            t_per_tick: self.quantity,
            price,
            duration_ticks: 1,
            penalty_usd: 0.0,
        }]
    }

    /// Is an offer at `price` worth accepting now?
    fn acceptable(&self, price: f64) -> bool {
        if self.seller && price < self.cost || !self.seller && price > self.value {
            return false;
        }
        if self.value <= self.cost {
            return false;
        }
        let (d_me, d_other) = self.shares();
        let my_share = if self.seller {
            (price - self.cost) / (self.value - self.cost)
        } else {
            (self.value - price) / (self.value - self.cost)
        };
        my_share >= d_me * (1.0 - d_other) / (1.0 - d_me * d_other) - 1e-12
    }
}

impl Strategy for Rubinstein {
    fn create(params: &Params, _ctx: &Context) -> Result<Self, String> {
        params.unknown_keys(&[
            "role",
            "counterparty",
            "commodity",
            "stage",
            "cost",
            "value",
            "quantity",
            "discount_seller",
            "discount_buyer",
            "deadline_rounds",
            "opens",
        ])?;
        let role = params.str_or("role", "seller")?;
        Ok(Rubinstein {
            seller: role == "seller",
            counterparty: params.str_or("counterparty", "")?,
            commodity: params.str_or("commodity", "ore")?,
            stage: params.str_or("stage", "raw")?,
            cost: params.f64_or("cost", 0.0)?,
            value: params.f64_or("value", 1.0)?,
            quantity: params.f64_or("quantity", 1.0)?,
            discount_seller: params.f64_or("discount_seller", 0.9)?,
            discount_buyer: params.f64_or("discount_buyer", 0.9)?,
            deadline_rounds: params.u64_or("deadline_rounds", 50)? as u32,
            opens: params.bool_or("opens", false)?,
        })
    }

    fn decide(&mut self, obs: &Observation, actions: &mut Actions) {
        let me = obs.me();
        let (Some(other), Some(m)) = (
            obs.nation_id(&self.counterparty),
            obs.market_id(&self.commodity, &self.stage),
        ) else {
            return;
        };
        let sessions = obs.sessions();
        if self.opens && obs.tick() == 0 && obs.round() == 0 && sessions.is_empty() {
            let (d_me, d_other) = self.shares();
            actions.open(
                other,
                &self.proposal(me, other, m),
                OpenOptions {
                    discount: (d_me, d_other),
                    deadline_rounds: self.deadline_rounds,
                    deadline_ticks: 10,
                    ..OpenOptions::default()
                },
            );
            return;
        }
        for offer in obs.offers_to_me() {
            let price = offer.terms.iter().find_map(|t| match *t {
                Term::Offtake { price, .. } => Some(price),
                _ => None,
            });
            match price {
                Some(p) if self.acceptable(p) => actions.accept(offer.session),
                _ => actions.counter(offer.session, &self.proposal(me, other, m)),
            }
        }
        for s in sessions.iter().filter(|s| {
            s.status == SessionStatus::Open && s.offer.is_none() && s.next_proposer == me
        }) {
            actions.offer(s.id, &self.proposal(me, other, m));
        }
    }
}

chokepoint_sdk::export_strategy!(Rubinstein, "test-rubinstein");
