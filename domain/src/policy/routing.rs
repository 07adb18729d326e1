//! Routing (PRODUCT §4.2): which waiting call is offered to which agent, and when a call is
//! refused.
//!
//! Rules:
//! - Calls are served FIFO by `queued_at`; equal `queued_at` are ordered by call id so the
//!   order is total and repeatable. A call whose offer failed keeps its `queued_at`, hence its
//!   place at the head.
//! - The agent for a call is, among `Available` agents, the one idle the longest (earliest
//!   `idle_since`); ties go to the fewest calls today, then to the smallest worker id.
//! - An agent "can take calls soon" when `Available`, `Offered`, `OnCall` or `WrapUp`. With none
//!   such (only `Paused` and `Offline` agents, or no agent at all) the queue is *unstaffed*.
//! - A new call is rejected `no_agents_logged_in` when the queue is unstaffed, else
//!   `queue_full` when the queue already holds `max_len` calls, else admitted.
//! - A waiting call is rejected `max_wait_exceeded` once it has waited `max_wait` (at exactly
//!   `queued_at + max_wait` it is expired).
//! - Calls already waiting when the queue becomes unstaffed (the last agent who could take calls
//!   pauses or logs off) are rejected `no_agents_logged_in` too, at once: nobody would ever
//!   answer them, and a caller arriving a second later would be told the same. This includes an
//!   agent auto-paused after a missed offer (§2): Paused agents do not count. See [`stranded`].

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};

use crate::ids::{CallId, WorkerId};

/// A call waiting in the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitingCall {
    pub call_id: CallId,
    pub queued_at: DateTime<Utc>,
}

/// What an agent is doing, as far as routing cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Availability {
    /// Ready for a call since `idle_since` (the moment they last became Available).
    Available {
        idle_since: DateTime<Utc>,
    },
    /// Their phone is ringing with an offer.
    Offered,
    OnCall,
    WrapUp,
    Paused,
    Offline,
}

impl Availability {
    /// Whether the agent will be able to take a call soon (everything but Paused and Offline).
    pub fn can_take_calls_soon(&self) -> bool {
        matches!(
            self,
            Availability::Available { .. }
                | Availability::Offered
                | Availability::OnCall
                | Availability::WrapUp
        )
    }
}

/// An agent as routing sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgentView {
    pub worker_id: WorkerId,
    pub availability: Availability,
    pub calls_today: u32,
}

/// What happens to a call arriving in the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrivalVerdict {
    Admit,
    Reject(ArrivalRejection),
}

/// Why an arriving call is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrivalRejection {
    /// No agent is Available, Offered, OnCall or in WrapUp.
    NoAgentsLoggedIn,
    /// The queue already holds its maximum number of calls.
    QueueFull,
}

/// Pairs the oldest waiting calls with the Available agents idle the longest.
///
/// The `k`-th oldest call gets the `k`-th agent in routing order, so the calls assigned are
/// always the oldest ones. Each call and each agent appears at most once, even when the input
/// repeats an id (the first, i.e. oldest or longest idle, occurrence wins). Only Available
/// agents are ever picked.
pub fn assign(calls: &[WaitingCall], agents: &[AgentView]) -> Vec<(CallId, WorkerId)> {
    let ordered_calls = fifo(calls);
    let mut ready_agents: Vec<(DateTime<Utc>, u32, WorkerId)> = agents
        .iter()
        .filter_map(|agent| match agent.availability {
            Availability::Available { idle_since } => {
                Some((idle_since, agent.calls_today, agent.worker_id))
            }
            _ => None,
        })
        .collect();
    ready_agents.sort();
    let mut seen_agents = HashSet::new();
    ready_agents.retain(|(_, _, worker_id)| seen_agents.insert(*worker_id));

    ordered_calls
        .into_iter()
        .zip(ready_agents)
        .map(|(call, (_, _, worker_id))| (call.call_id, worker_id))
        .collect()
}

/// Whether no agent can take calls soon (none Available, Offered, OnCall or WrapUp).
pub fn unstaffed(agents: &[AgentView]) -> bool {
    !agents
        .iter()
        .any(|agent| agent.availability.can_take_calls_soon())
}

/// Decides on a call arriving when `queue_len` calls already wait and the queue holds at most
/// `max_len`.
pub fn verdict_on_arrival(
    queue_len: usize,
    max_len: usize,
    agents: &[AgentView],
) -> ArrivalVerdict {
    if unstaffed(agents) {
        ArrivalVerdict::Reject(ArrivalRejection::NoAgentsLoggedIn)
    } else if queue_len >= max_len {
        ArrivalVerdict::Reject(ArrivalRejection::QueueFull)
    } else {
        ArrivalVerdict::Admit
    }
}

/// The waiting calls to reject `no_agents_logged_in` now: all of them (FIFO) when the queue is
/// unstaffed, none otherwise.
pub fn stranded(calls: &[WaitingCall], agents: &[AgentView]) -> Vec<CallId> {
    if unstaffed(agents) {
        fifo(calls).into_iter().map(|call| call.call_id).collect()
    } else {
        Vec::new()
    }
}

/// The calls that have waited `max_wait` or longer at `now` (FIFO), to reject
/// `max_wait_exceeded`.
pub fn expired(calls: &[WaitingCall], now: DateTime<Utc>, max_wait: TimeDelta) -> Vec<CallId> {
    fifo(calls)
        .into_iter()
        .filter(|call| expiry_of(call, max_wait).is_some_and(|expires_at| expires_at <= now))
        .map(|call| call.call_id)
        .collect()
}

/// The next instant a waiting call expires, so a timer can sleep until then (None when no call
/// waits).
pub fn next_expiry(calls: &[WaitingCall], max_wait: TimeDelta) -> Option<DateTime<Utc>> {
    calls
        .iter()
        .filter_map(|call| expiry_of(call, max_wait))
        .min()
}

fn expiry_of(call: &WaitingCall, max_wait: TimeDelta) -> Option<DateTime<Utc>> {
    call.queued_at.checked_add_signed(max_wait)
}

/// The calls oldest first (ties by call id), each call id once (its oldest occurrence).
fn fifo(calls: &[WaitingCall]) -> Vec<&WaitingCall> {
    let mut ordered: Vec<&WaitingCall> = calls.iter().collect();
    ordered.sort_by_key(|call| (call.queued_at, call.call_id));
    let mut seen = HashSet::new();
    ordered.retain(|call| seen.insert(call.call_id));
    ordered
}

#[cfg(test)]
#[path = "routing_tests.rs"]
mod tests;
