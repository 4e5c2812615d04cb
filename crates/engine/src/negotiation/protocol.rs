//! The protocols: alternating offers between two parties and club formation, as state
//! machines over [`Negotiation`].
//!
//! Bilateral (Rubinstein): the opener's first offer is session round 1. The party an
//! offer is addressed to may accept (an agreement, signed in that session round),
//! reject (the turn passes to it, each party pays its time cost, the next offer is the
//! next session round) or counter (reject and offer in one move). A session with no
//! agreement after `deadline_rounds` offers, or at the end of its deadline tick,
//! expires with nothing signed.
//!
//! Club: the proposer posts terms (public on the bulletin unless private), invitees
//! join or decline before the deadline. The club is an agreement from the first join;
//! later joiners become members of it. Members leave under the exit rule or renege.
//!
//! Moves are processed in submission order within a round; a move that does not fit
//! the state is refused with a [`NegError`] (told to its maker, and an event).

use chokepoint_world::{MarketId, NationId, World};

use super::*;
use crate::PolicyAction;

fn finite_nonneg(what: &'static str, value: f64) -> Result<(), NegError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(NegError::NegativeQuantity { what, value })
    }
}

/// Check terms against the world and the session's parties.
pub fn validate_terms(
    world: &World,
    terms: &[Term],
    parties: &[NationId],
    kind: SessionKind,
) -> Result<(), NegError> {
    if terms.is_empty() {
        return Err(NegError::EmptyTerms);
    }
    let nation = |n: NationId| -> Result<(), NegError> {
        if n.index() >= world.nations.len() {
            return Err(NegError::UnknownNation(n.0));
        }
        if !parties.contains(&n) {
            return Err(NegError::NotAParty(world.nations[n.index()].name.clone()));
        }
        Ok(())
    };
    let market = |m: MarketId| -> Result<(), NegError> {
        if m.index() >= world.markets.len() {
            Err(NegError::UnknownMarket(m.0))
        } else {
            Ok(())
        }
    };
    let distinct = |a: NationId, b: NationId, what: &str| {
        if a == b {
            Err(NegError::BadTerms(format!(
                "{what}: both sides are the same nation"
            )))
        } else {
            Ok(())
        }
    };
    let bilateral_only = |t: &Term| {
        if kind == SessionKind::Club {
            Err(NegError::BadTerms(format!(
                "{} terms belong in bilateral sessions",
                t.name()
            )))
        } else {
            Ok(())
        }
    };
    for t in terms {
        match *t {
            Term::Offtake {
                seller,
                buyer,
                market: m,
                t_per_tick,
                price_usd_per_t,
                penalty_usd,
                ..
            } => {
                bilateral_only(t)?;
                nation(seller)?;
                nation(buyer)?;
                distinct(seller, buyer, "offtake")?;
                market(m)?;
                finite_nonneg("quantity", t_per_tick)?;
                finite_nonneg("price", price_usd_per_t)?;
                finite_nonneg("penalty", penalty_usd)?;
            }
            Term::Tariff {
                importer,
                exporter,
                market: m,
                rate,
                ..
            } => {
                bilateral_only(t)?;
                nation(importer)?;
                nation(exporter)?;
                distinct(importer, exporter, "tariff")?;
                market(m)?;
                finite_nonneg("rate", rate)?;
                if rate > 10.0 {
                    return Err(NegError::BadTerms(format!(
                        "tariff rate {rate} is above 10; rates are fractions"
                    )));
                }
            }
            Term::LicenceHold {
                exporter,
                destination,
                market: m,
                ..
            } => {
                bilateral_only(t)?;
                nation(exporter)?;
                nation(destination)?;
                distinct(exporter, destination, "licence hold")?;
                market(m)?;
            }
            Term::Finance {
                funder,
                host,
                market: m,
                t_per_year,
                usd_per_tpy,
                offtake_share,
                offtake_price_usd_per_t,
                ..
            } => {
                bilateral_only(t)?;
                nation(funder)?;
                nation(host)?;
                market(m)?;
                finite_nonneg("capacity", t_per_year)?;
                finite_nonneg("cost per t/yr", usd_per_tpy)?;
                finite_nonneg("offtake share", offtake_share)?;
                finite_nonneg("offtake price", offtake_price_usd_per_t)?;
                if offtake_share > 1.0 {
                    return Err(NegError::BadTerms(format!(
                        "offtake share {offtake_share} is above 1"
                    )));
                }
            }
            Term::Stockpile {
                market: m,
                t_per_tick,
                buy_below_usd_per_t,
                release_above_usd_per_t,
                ..
            } => {
                market(m)?;
                finite_nonneg("quantity", t_per_tick)?;
                finite_nonneg("buy price", buy_below_usd_per_t)?;
                finite_nonneg("release price", release_above_usd_per_t)?;
                if release_above_usd_per_t <= buy_below_usd_per_t {
                    return Err(NegError::BadTerms(
                        "stockpile: release price must be above buy price".into(),
                    ));
                }
            }
            Term::Transfer { from, to, usd } => {
                nation(from)?;
                nation(to)?;
                distinct(from, to, "transfer")?;
                finite_nonneg("amount", usd)?;
            }
            Term::ClubFloor {
                market: m,
                floor_usd_per_t,
                member_tariff,
            } => {
                if kind != SessionKind::Club {
                    return Err(NegError::BadTerms(
                        "club_floor terms belong in club sessions".into(),
                    ));
                }
                market(m)?;
                finite_nonneg("floor", floor_usd_per_t)?;
                finite_nonneg("member tariff", member_tariff)?;
            }
            Term::ClubExit { penalty_usd, .. } => {
                if kind != SessionKind::Club {
                    return Err(NegError::BadTerms(
                        "club_exit terms belong in club sessions".into(),
                    ));
                }
                finite_nonneg("penalty", penalty_usd)?;
            }
        }
    }
    Ok(())
}

/// Run round `round` of tick `tick`: every `Negotiate` action tagged with it, in order.
pub fn run_round(
    neg: &mut Negotiation,
    world: &World,
    tick: u64,
    round: u32,
    pending: &[(NationId, PolicyAction)],
) {
    for (nation, action) in pending {
        if let PolicyAction::Negotiate { round: r, action } = action
            && *r == round
        {
            apply(neg, world, tick, round, *nation, action);
        }
    }
}

/// After the last round of a tick: sessions past their deadline tick expire.
pub fn end_of_rounds(neg: &mut Negotiation, world: &World, tick: u64) {
    for k in 0..neg.sessions.len() {
        let s = &neg.sessions[k];
        if s.status == SessionStatus::Open && s.deadline_tick <= tick {
            let id = s.id;
            // A club that formed closes its invitations; it is not a failed session.
            if let Some(a) = neg.agreements.iter().find(|a| a.session == id) {
                let aid = a.id;
                let s = &mut neg.sessions[k];
                s.status = SessionStatus::Agreed(aid);
                for st in s.state.iter_mut().filter(|st| **st == PartyState::Invited) {
                    *st = PartyState::Declined;
                }
                neg.events.push((
                    "club_invitations_closed".into(),
                    format!("session {id}: invitations to club agreement {aid} closed"),
                ));
                continue;
            }
            expire(
                neg,
                world,
                k,
                tick,
                ROUNDS_PER_TICK - 1,
                "deadline tick reached",
            );
            neg.rounds.push(RoundRow {
                tick,
                round: ROUNDS_PER_TICK - 1,
                nation: neg.sessions[k].opener,
                action: "deadline",
                session: id,
                session_round: neg.sessions[k].session_round,
                outcome: "expired",
                detail: String::new(),
            });
        }
    }
    // Refusals are shown for the tick they happened in and the next one.
    neg.notices.retain(|n| n.tick >= tick);
}

fn expire(neg: &mut Negotiation, world: &World, k: usize, _tick: u64, _round: u32, why: &str) {
    let s = &mut neg.sessions[k];
    s.status = SessionStatus::Expired;
    s.offer = None;
    let names: Vec<&str> = s
        .parties
        .iter()
        .map(|p| world.nations[p.index()].name.as_str())
        .collect();
    neg.events.push((
        "negotiation_expired".into(),
        format!(
            "session {} ({}) ended without agreement: {why}",
            s.id,
            names.join(", ")
        ),
    ));
}

fn apply(
    neg: &mut Negotiation,
    world: &World,
    tick: u64,
    round: u32,
    nation: NationId,
    action: &NegAction,
) {
    let result = step(neg, world, tick, round, nation, action);
    let (session, session_round) = match action {
        NegAction::Open { .. } | NegAction::OpenClub { .. } => match &result {
            Ok(_) => (neg.sessions.len() as u32, 1),
            Err(_) => (0, 0),
        },
        NegAction::Offer { session, .. }
        | NegAction::Accept { session }
        | NegAction::Reject { session }
        | NegAction::Counter { session, .. }
        | NegAction::Join { session }
        | NegAction::Decline { session } => (
            *session,
            neg.session(*session).map_or(0, |s| s.session_round),
        ),
        NegAction::Leave { agreement } | NegAction::Renege { agreement } => (
            neg.agreement(*agreement).map_or(0, |a| a.session),
            neg.agreement(*agreement).map_or(0, |a| a.session_round),
        ),
    };
    let who = world
        .nations
        .get(nation.index())
        .map_or("?", |n| n.name.as_str());
    match result {
        Ok(outcome) => neg.rounds.push(RoundRow {
            tick,
            round,
            nation,
            action: action.name(),
            session,
            session_round,
            outcome,
            detail: String::new(),
        }),
        Err(error) => {
            neg.events.push((
                "negotiation_rejected".into(),
                format!(
                    "{who}: {} refused ({}): {error}",
                    action.name(),
                    error.code()
                ),
            ));
            neg.rounds.push(RoundRow {
                tick,
                round,
                nation,
                action: action.name(),
                session,
                session_round,
                outcome: error.code(),
                detail: error.to_string(),
            });
            neg.notices.push(Notice {
                tick,
                round,
                nation,
                session,
                error,
            });
        }
    }
}

fn open_session(neg: &mut Negotiation, k: usize) -> Result<&mut Session, NegError> {
    let s = &mut neg.sessions[k];
    match s.status {
        SessionStatus::Open => Ok(s),
        SessionStatus::Agreed(_) => Err(NegError::SessionClosed("agreed")),
        SessionStatus::Expired => Err(NegError::SessionClosed("expired")),
    }
}

fn session_index(neg: &Negotiation, id: u32) -> Result<usize, NegError> {
    neg.session(id)
        .map(|_| id as usize - 1)
        .ok_or(NegError::UnknownSession(id))
}

fn step(
    neg: &mut Negotiation,
    world: &World,
    tick: u64,
    round: u32,
    nation: NationId,
    action: &NegAction,
) -> Result<&'static str, NegError> {
    let n_nations = world.nations.len();
    match action {
        NegAction::Open {
            counterparty,
            channel,
            discount,
            time_cost_usd,
            deadline_rounds,
            deadline_ticks,
            terms,
        } => {
            if counterparty.index() >= n_nations {
                return Err(NegError::UnknownNation(counterparty.0));
            }
            if *counterparty == nation {
                return Err(NegError::BadTerms("cannot negotiate with oneself".into()));
            }
            for &d in discount {
                if !(d.is_finite() && d > 0.0 && d <= 1.0) {
                    return Err(NegError::BadTerms(format!(
                        "discount factor {d} must be in (0, 1]"
                    )));
                }
            }
            for &c in time_cost_usd {
                finite_nonneg("time cost", c)?;
            }
            let parties = vec![nation, *counterparty];
            validate_terms(world, terms, &parties, SessionKind::Bilateral)?;
            let id = neg.sessions.len() as u32 + 1;
            neg.sessions.push(Session {
                id,
                kind: SessionKind::Bilateral,
                channel: *channel,
                opener: nation,
                parties,
                state: vec![PartyState::Joined; 2],
                discount: discount.to_vec(),
                time_cost_usd: time_cost_usd.to_vec(),
                deadline_rounds: (*deadline_rounds).max(1),
                deadline_tick: tick + *deadline_ticks as u64,
                session_round: 1,
                offer: Some(Offer {
                    from: nation,
                    to: *counterparty,
                    terms: terms.clone(),
                    session_round: 1,
                    tick,
                    round,
                }),
                next_proposer: *counterparty,
                terms: Vec::new(),
                status: SessionStatus::Open,
                opened_tick: tick,
            });
            Ok("ok")
        }
        NegAction::OpenClub {
            invitees,
            channel,
            deadline_ticks,
            terms,
        } => {
            let mut parties = vec![nation];
            for &i in invitees {
                if i.index() >= n_nations {
                    return Err(NegError::UnknownNation(i.0));
                }
                if !parties.contains(&i) {
                    parties.push(i);
                }
            }
            if parties.len() < 2 {
                return Err(NegError::BadTerms(
                    "a club needs at least one invitee".into(),
                ));
            }
            validate_terms(world, terms, &parties, SessionKind::Club)?;
            let id = neg.sessions.len() as u32 + 1;
            let mut state = vec![PartyState::Invited; parties.len()];
            state[0] = PartyState::Joined;
            let n = parties.len();
            neg.sessions.push(Session {
                id,
                kind: SessionKind::Club,
                channel: *channel,
                opener: nation,
                parties,
                state,
                discount: vec![1.0; n],
                time_cost_usd: vec![0.0; n],
                deadline_rounds: u32::MAX,
                deadline_tick: tick + *deadline_ticks as u64,
                session_round: 1,
                offer: None,
                next_proposer: nation,
                terms: terms.clone(),
                status: SessionStatus::Open,
                opened_tick: tick,
            });
            neg.events.push((
                "club_proposed".into(),
                format!(
                    "{} proposes club (session {id}) to {} nation(s)",
                    world.nations[nation.index()].name,
                    n - 1
                ),
            ));
            Ok("ok")
        }
        NegAction::Offer { session, terms } | NegAction::Counter { session, terms } => {
            let k = session_index(neg, *session)?;
            let counter = matches!(action, NegAction::Counter { .. });
            let s = open_session(neg, k)?;
            if s.kind != SessionKind::Bilateral {
                return Err(NegError::BadTerms(
                    "offers are made in bilateral sessions; clubs are joined".into(),
                ));
            }
            if s.party_index(nation).is_none() {
                return Err(NegError::NotAParty(
                    world.nations[nation.index()].name.clone(),
                ));
            }
            match (&s.offer, counter) {
                (Some(o), true) if o.to == nation => {}
                (Some(_), true) => return Err(NegError::NoOffer),
                (Some(o), false) if o.from == nation => {
                    return Err(NegError::NotYourTurn(
                        "your offer is pending; wait for an answer".into(),
                    ));
                }
                (Some(_), false) => {
                    return Err(NegError::NotYourTurn(
                        "an offer to you is pending: accept, reject or counter it".into(),
                    ));
                }
                (None, _) if s.next_proposer != nation => {
                    return Err(NegError::NotYourTurn(
                        "the other party makes the next offer".into(),
                    ));
                }
                (None, _) => {}
            }
            validate_terms(world, terms, &s.parties.clone(), SessionKind::Bilateral)?;
            let s = &mut neg.sessions[k];
            if counter {
                charge_round(s, &mut neg.time_costs);
                s.offer = None;
            }
            if s.session_round >= s.deadline_rounds {
                expire(neg, world, k, tick, round, "deadline round reached");
                return Ok("expired");
            }
            let s = &mut neg.sessions[k];
            s.session_round += 1;
            let other = s.parties[1 - s.party_index(nation).expect("party")];
            s.offer = Some(Offer {
                from: nation,
                to: other,
                terms: terms.clone(),
                session_round: s.session_round,
                tick,
                round,
            });
            s.next_proposer = other;
            Ok("ok")
        }
        NegAction::Reject { session } => {
            let k = session_index(neg, *session)?;
            let s = open_session(neg, k)?;
            match &s.offer {
                Some(o) if o.to == nation => {}
                _ => return Err(NegError::NoOffer),
            }
            let s = &mut neg.sessions[k];
            charge_round(s, &mut neg.time_costs);
            s.offer = None;
            s.next_proposer = nation;
            if s.session_round >= s.deadline_rounds {
                expire(neg, world, k, tick, round, "deadline round reached");
                return Ok("expired");
            }
            Ok("ok")
        }
        NegAction::Accept { session } => {
            let k = session_index(neg, *session)?;
            let s = open_session(neg, k)?;
            let offer = match &s.offer {
                Some(o) if o.to == nation => o.clone(),
                _ => return Err(NegError::NoOffer),
            };
            let id = neg.agreements.len() as u32 + 1;
            let s = &mut neg.sessions[k];
            s.status = SessionStatus::Agreed(id);
            s.offer = None;
            let ends = offer
                .terms
                .iter()
                .map(|t| t.duration_ticks() as u64)
                .max()
                .unwrap_or(0);
            let agreement = Agreement {
                id,
                session: s.id,
                kind: SessionKind::Bilateral,
                channel: s.channel,
                parties: s.parties.clone(),
                membership: vec![Membership::Member; 2],
                terms: offer.terms,
                signed_tick: tick,
                signed_round: round,
                session_round: offer.session_round,
                ends_tick: Some(tick + ends.max(1)),
                status: AgreementStatus::Active,
                executed: false,
                tariff_before: Vec::new(),
                offtake_from: Vec::new(),
                shortfalls: 0,
                renege: Vec::new(),
            };
            signed(neg, world, &agreement, tick, round);
            neg.agreements.push(agreement);
            Ok("agreed")
        }
        NegAction::Join { session } | NegAction::Decline { session } => {
            let k = session_index(neg, *session)?;
            let s = open_session(neg, k)?;
            if s.kind != SessionKind::Club {
                return Err(NegError::BadTerms(
                    "join and decline answer club proposals".into(),
                ));
            }
            let p = s.party_index(nation).ok_or(NegError::NotInvited)?;
            if s.state[p] != PartyState::Invited {
                return Err(NegError::NotInvited);
            }
            if matches!(action, NegAction::Decline { .. }) {
                s.state[p] = PartyState::Declined;
                if s.state.iter().all(|st| *st != PartyState::Invited) {
                    // Everyone answered and nobody joined: nothing to form.
                    let joined = s
                        .state
                        .iter()
                        .filter(|st| **st == PartyState::Joined)
                        .count();
                    if joined < 2 {
                        expire(neg, world, k, tick, round, "every invitee declined");
                        return Ok("expired");
                    }
                }
                return Ok("ok");
            }
            s.state[p] = PartyState::Joined;
            // The club is an agreement from the first join; later joiners join it.
            let existing = neg
                .agreements
                .iter()
                .position(|a| a.session == *session && a.status == AgreementStatus::Active);
            match existing {
                Some(a) => {
                    let ag = &mut neg.agreements[a];
                    let slot = ag.parties.iter().position(|&x| x == nation).expect("party");
                    ag.membership[slot] = Membership::Member;
                    let id = ag.id;
                    neg.history.push(HistoryRow {
                        tick,
                        round,
                        agreement: id,
                        nation,
                        kind: "joined",
                        penalty_usd: 0.0,
                    });
                    neg.events.push((
                        "club_joined".into(),
                        format!(
                            "{} joins club agreement {id}",
                            world.nations[nation.index()].name
                        ),
                    ));
                    Ok("ok")
                }
                None => {
                    let id = neg.agreements.len() as u32 + 1;
                    let s = &neg.sessions[k];
                    let membership = s
                        .state
                        .iter()
                        .map(|st| match st {
                            PartyState::Joined => Membership::Member,
                            _ => Membership::Left,
                        })
                        .collect();
                    let ends = s
                        .terms
                        .iter()
                        .map(|t| t.duration_ticks() as u64)
                        .max()
                        .unwrap_or(0);
                    let agreement = Agreement {
                        id,
                        session: s.id,
                        kind: SessionKind::Club,
                        channel: s.channel,
                        parties: s.parties.clone(),
                        membership,
                        terms: s.terms.clone(),
                        signed_tick: tick,
                        signed_round: round,
                        session_round: 1,
                        ends_tick: (ends > 0).then(|| tick + ends),
                        status: AgreementStatus::Active,
                        executed: false,
                        tariff_before: Vec::new(),
                        offtake_from: Vec::new(),
                        shortfalls: 0,
                        renege: Vec::new(),
                    };
                    signed(neg, world, &agreement, tick, round);
                    neg.agreements.push(agreement);
                    Ok("agreed")
                }
            }
        }
        NegAction::Leave { agreement } | NegAction::Renege { agreement } => {
            let a = agreement
                .checked_sub(1)
                .map(|i| i as usize)
                .filter(|&i| i < neg.agreements.len())
                .ok_or(NegError::UnknownAgreement(*agreement))?;
            let ag = &mut neg.agreements[a];
            if ag.status != AgreementStatus::Active {
                return Err(NegError::NotActive);
            }
            if !ag.is_member(nation) {
                return Err(NegError::NotAMember);
            }
            if matches!(action, NegAction::Renege { .. }) {
                if !ag.renege.contains(&nation) {
                    ag.renege.push(nation);
                }
                return Ok("ok");
            }
            if ag.kind != SessionKind::Club {
                return Err(NegError::BadTerms(
                    "only clubs have an exit rule; a bilateral agreement ends at its term or by reneging"
                        .into(),
                ));
            }
            let notice = ag
                .terms
                .iter()
                .find_map(|t| match *t {
                    Term::ClubExit { notice_ticks, .. } => Some(notice_ticks),
                    _ => None,
                })
                .unwrap_or(0);
            let slot = ag
                .parties
                .iter()
                .position(|&x| x == nation)
                .expect("member");
            if ag.membership[slot] == Membership::Member {
                ag.membership[slot] = Membership::Leaving(tick + notice as u64);
            }
            let id = ag.id;
            neg.history.push(HistoryRow {
                tick,
                round,
                agreement: id,
                nation,
                kind: "leave",
                penalty_usd: 0.0,
            });
            Ok("ok")
        }
    }
}

/// Each party pays its time cost for a bargaining round that ended without agreement.
fn charge_round(s: &Session, costs: &mut Vec<(NationId, f64)>) {
    for (p, &c) in s.parties.iter().zip(&s.time_cost_usd) {
        if c > 0.0 {
            costs.push((*p, c));
        }
    }
}

fn signed(neg: &mut Negotiation, world: &World, a: &Agreement, tick: u64, round: u32) {
    let names: Vec<&str> = a
        .members()
        .map(|p| world.nations[p.index()].name.as_str())
        .collect();
    let terms: Vec<&str> = a.terms.iter().map(|t| t.name()).collect();
    neg.events.push((
        "agreement_signed".into(),
        format!(
            "agreement {} (session {}, round {} of tick {tick}, bargaining round {}) between {}: {}",
            a.id,
            a.session,
            round,
            a.session_round,
            names.join(", "),
            terms.join(" + ")
        ),
    ));
    for p in a.members() {
        neg.history.push(HistoryRow {
            tick,
            round,
            agreement: a.id,
            nation: p,
            kind: "signed",
            penalty_usd: 0.0,
        });
    }
}
