//! What the dispatcher knows: the live calls and every worker, folded from the log (and from
//! the results of its own commands, so it never waits for the log to see its own decisions).
//!
//! Ended calls are not kept: a call that reaches its terminal state is remembered only until
//! the session's ordered tail has passed its last event (so that a re-read of its events finds
//! it ended, see [`View::prune_finished`]); after that, whether a call ended is a lookup in the
//! log by the session (`Session::ended_calls`).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::Aggregate;
use domain::call::{Call, CallEvent, CallState};
use domain::ids::{CallId, WorkerId};
use domain::policy::routing::{AgentView, Availability, WaitingCall};
use domain::worker::{Presence, Worker, WorkerEvent};
use journal::LogPosition;

/// An aggregate and the sequence of its last applied event.
#[derive(Clone, Debug, Default)]
pub(super) struct Tracked<A> {
    pub state: A,
    pub version: i64,
}

/// What folding one event did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Folded {
    Applied,
    /// Seen before (e.g. applied from a command's result).
    AlreadyApplied,
    /// An earlier event of the aggregate is missing: reload it from the store.
    Gap,
}

#[derive(Debug, Default)]
pub(super) struct View {
    workers: HashMap<WorkerId, Tracked<Worker>>,
    /// Calls not yet in a terminal state.
    calls: HashMap<CallId, Tracked<Call>>,
    /// Calls that reached their terminal state while their last event may still be read again
    /// (it is after the tail's position): the log position of that event (`None`: not known
    /// yet, kept until the session learns it).
    finished: HashMap<CallId, Option<LogPosition>>,
    /// Calls answered per worker on one (UTC) day.
    calls_today: HashMap<WorkerId, (NaiveDate, u32)>,
    /// When each worker last chose (or was made by an admin) to go Available: a worker made
    /// Available after their last session ended is not logged out (`logout.rs`), one who
    /// became Available again by the end of a call is.
    went_available: HashMap<WorkerId, DateTime<Utc>>,
}

impl View {
    /// Folds event `sequence` of a call, logged at `at` (when known).
    pub fn apply_call(
        &mut self,
        call_id: CallId,
        sequence: i64,
        event: CallEvent,
        at: Option<LogPosition>,
    ) -> Folded {
        if let Some(known) = self.finished.get_mut(&call_id) {
            if known.is_none() {
                *known = at;
            }
            return Folded::AlreadyApplied;
        }
        let tracked = self.calls.entry(call_id).or_default();
        if sequence <= tracked.version {
            return Folded::AlreadyApplied;
        }
        if sequence != tracked.version + 1 {
            return Folded::Gap;
        }
        tracked.state.apply(event);
        tracked.version = sequence;
        if tracked.state.is_terminal() {
            self.calls.remove(&call_id);
            self.finished.insert(call_id, at);
        }
        Folded::Applied
    }

    /// Forgets the ended calls whose last event is at or before `tail` (the session's ordered
    /// tail has passed it: no read returns their events again) and returns them. An ended call
    /// is then looked up in the log when needed, never held for every call ever made.
    pub fn prune_finished(&mut self, tail: LogPosition) -> Vec<CallId> {
        let pruned: Vec<CallId> = self
            .finished
            .iter()
            .filter(|(_, at)| at.is_some_and(|at| at <= tail))
            .map(|(id, _)| *id)
            .collect();
        for call_id in &pruned {
            self.finished.remove(call_id);
        }
        pruned
    }

    /// Whether the view still remembers that the call ended.
    pub fn remembers_ended(&self, call_id: CallId) -> bool {
        self.finished.contains_key(&call_id)
    }

    /// Sets what restore looked up for a worker: their answered calls on `day`, and when they
    /// last went Available by choice.
    pub fn set_worker_history(
        &mut self,
        worker_id: WorkerId,
        day: NaiveDate,
        calls_today: u32,
        went_available: Option<DateTime<Utc>>,
    ) {
        self.calls_today.insert(worker_id, (day, calls_today));
        match went_available {
            Some(at) => self.went_available.insert(worker_id, at),
            None => self.went_available.remove(&worker_id),
        };
    }

    pub fn apply_worker(
        &mut self,
        worker_id: WorkerId,
        sequence: i64,
        event: WorkerEvent,
    ) -> Folded {
        let tracked = self.workers.entry(worker_id).or_default();
        if sequence <= tracked.version {
            return Folded::AlreadyApplied;
        }
        if sequence != tracked.version + 1 {
            return Folded::Gap;
        }
        if let WorkerEvent::OfferAnswered { at, .. } = &event {
            let day = at.date_naive();
            let count = self.calls_today.entry(worker_id).or_insert((day, 0));
            if count.0 != day {
                *count = (day, 0);
            }
            count.1 += 1;
        }
        if let WorkerEvent::WentAvailable { at, .. } = &event {
            self.went_available.insert(worker_id, *at);
        }
        tracked.state.apply(event);
        tracked.version = sequence;
        Folded::Applied
    }

    /// When the worker last went Available by choice (theirs or an admin's).
    pub fn went_available_at(&self, worker_id: WorkerId) -> Option<DateTime<Utc>> {
        self.went_available.get(&worker_id).copied()
    }

    /// Replaces a call with its state loaded from the store (its last event logged at `at`,
    /// when known).
    pub fn set_call(&mut self, call_id: CallId, call: Call, version: i64, at: Option<LogPosition>) {
        if call.is_terminal() {
            self.calls.remove(&call_id);
            self.finished.insert(call_id, at);
        } else if version > 0 {
            self.calls.insert(
                call_id,
                Tracked {
                    state: call,
                    version,
                },
            );
        }
    }

    /// Replaces a worker with their state loaded from the store.
    pub fn set_worker(&mut self, worker_id: WorkerId, worker: Worker, version: i64) {
        if version > 0 {
            self.workers.insert(
                worker_id,
                Tracked {
                    state: worker,
                    version,
                },
            );
        }
    }

    pub fn call(&self, call_id: CallId) -> Option<&Tracked<Call>> {
        self.calls.get(&call_id)
    }

    pub fn worker(&self, worker_id: WorkerId) -> Option<&Tracked<Worker>> {
        self.workers.get(&worker_id)
    }

    pub fn is_live(&self, call_id: CallId) -> bool {
        self.calls.contains_key(&call_id)
    }

    /// The live calls, oldest first.
    pub fn live_calls(&self) -> Vec<(CallId, Call)> {
        let mut calls: Vec<(CallId, Call)> = self
            .calls
            .iter()
            .map(|(id, tracked)| (*id, tracked.state.clone()))
            .collect();
        calls.sort_by_key(|(id, call)| (call.queued_at(), *id));
        calls
    }

    /// The calls waiting for an agent (Queued, not ringing).
    pub fn waiting(&self) -> Vec<WaitingCall> {
        self.calls
            .iter()
            .filter(|(_, tracked)| *tracked.state.state() == CallState::Queued)
            .filter_map(|(id, tracked)| {
                Some(WaitingCall {
                    call_id: *id,
                    queued_at: tracked.state.queued_at()?,
                })
            })
            .collect()
    }

    /// Calls in the queue, waiting or ringing an agent (what `max_queue_length` limits).
    pub fn queue_length(&self) -> usize {
        self.calls
            .values()
            .filter(|tracked| {
                matches!(
                    tracked.state.state(),
                    CallState::Queued | CallState::Offered { .. }
                )
            })
            .count()
    }

    /// Every active worker with a phone, as routing sees them.
    pub fn agents(&self, today: NaiveDate) -> Vec<AgentView> {
        self.workers
            .iter()
            .filter(|(_, tracked)| {
                tracked.state.is_active()
                    && tracked
                        .state
                        .profile()
                        .is_some_and(|profile| profile.endpoint.is_some())
            })
            .map(|(worker_id, tracked)| {
                let availability = match tracked.state.presence() {
                    Presence::Available => Availability::Available {
                        idle_since: tracked.state.idle_since().unwrap_or_default(),
                    },
                    Presence::Offered { .. } => Availability::Offered,
                    Presence::OnCall { .. } => Availability::OnCall,
                    Presence::WrapUp { .. } => Availability::WrapUp,
                    Presence::Paused { .. } => Availability::Paused,
                    Presence::Offline => Availability::Offline,
                };
                let calls_today = match self.calls_today.get(worker_id) {
                    Some((day, count)) if *day == today => *count,
                    _ => 0,
                };
                AgentView {
                    worker_id: *worker_id,
                    availability,
                    calls_today,
                }
            })
            .collect()
    }

    /// Every worker with their state.
    pub fn workers(&self) -> Vec<(WorkerId, Worker)> {
        let mut workers: Vec<(WorkerId, Worker)> = self
            .workers
            .iter()
            .map(|(id, tracked)| (*id, tracked.state.clone()))
            .collect();
        workers.sort_by_key(|(id, _)| *id);
        workers
    }

    /// The phone endpoint of a worker (`PJSIP/agent1`).
    pub fn endpoint_of(&self, worker_id: WorkerId) -> Option<String> {
        let profile = self.workers.get(&worker_id)?.state.profile()?;
        profile
            .endpoint
            .as_ref()
            .map(|endpoint| endpoint.to_string())
    }

    /// Active workers whose phone is `technology/resource`.
    pub fn workers_on_endpoint(&self, technology: &str, resource: &str) -> Vec<WorkerId> {
        let mut workers: Vec<WorkerId> = self
            .workers
            .iter()
            .filter(|(_, tracked)| {
                tracked.state.is_active()
                    && tracked
                        .state
                        .profile()
                        .and_then(|profile| profile.endpoint.as_ref())
                        .is_some_and(|endpoint| {
                            endpoint.technology() == technology && endpoint.resource() == resource
                        })
            })
            .map(|(id, _)| *id)
            .collect();
        workers.sort();
        workers
    }

    /// The channel technologies of the workers' phones (`PJSIP`), to subscribe to their
    /// endpoint states.
    pub fn endpoint_technologies(&self) -> BTreeSet<String> {
        self.workers
            .values()
            .filter_map(|tracked| tracked.state.profile()?.endpoint.as_ref())
            .map(|endpoint| endpoint.technology().to_owned())
            .collect()
    }

    /// Workers in wrap-up and when it ends.
    pub fn wrap_ups(&self) -> Vec<(WorkerId, DateTime<Utc>)> {
        self.workers
            .iter()
            .filter_map(|(id, tracked)| match tracked.state.presence() {
                Presence::WrapUp { until } => Some((*id, *until)),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use domain::call::RejectReason;
    use uuid::Uuid;

    use super::*;

    fn at(position: i64) -> LogPosition {
        LogPosition {
            tx_id: 100 + position,
            position,
        }
    }

    fn queued() -> CallEvent {
        CallEvent::Queued {
            caller_number: "+15551230001".into(),
            caller_name: None,
            customer_id: None,
            channel_id: "inbound-1".into(),
            queue: "support".into(),
            at: Utc::now(),
        }
    }

    fn rejected() -> CallEvent {
        CallEvent::Rejected {
            reason: RejectReason::QueueFull,
            queued_at: Utc::now(),
            at: Utc::now(),
        }
    }

    #[test]
    fn an_ended_call_is_remembered_until_the_tail_has_passed_its_last_event() {
        let call_id = CallId(Uuid::from_u128(1));
        let mut view = View::default();
        assert_eq!(
            view.apply_call(call_id, 1, queued(), Some(at(1))),
            Folded::Applied
        );
        assert!(view.is_live(call_id));
        assert_eq!(
            view.apply_call(call_id, 2, rejected(), Some(at(5))),
            Folded::Applied
        );
        assert!(!view.is_live(call_id));
        assert!(view.remembers_ended(call_id));

        // The tail is before the end: a re-read of the call's events finds it ended.
        assert!(view.prune_finished(at(4)).is_empty());
        assert_eq!(
            view.apply_call(call_id, 1, queued(), Some(at(1))),
            Folded::AlreadyApplied
        );
        assert!(!view.is_live(call_id));

        // Past it: nothing will return its events again, so it is forgotten.
        assert_eq!(view.prune_finished(at(5)), vec![call_id]);
        assert!(!view.remembers_ended(call_id));
        assert!(view.live_calls().is_empty());
    }

    #[test]
    fn an_ended_call_of_unknown_position_is_kept_until_its_position_is_read() {
        let call_id = CallId(Uuid::from_u128(2));
        let mut view = View::default();
        view.apply_call(call_id, 1, queued(), None);
        view.apply_call(call_id, 2, rejected(), None);
        assert!(view.prune_finished(at(1_000)).is_empty());
        // The tail returns its last event: now its position is known.
        assert_eq!(
            view.apply_call(call_id, 2, rejected(), Some(at(7))),
            Folded::AlreadyApplied
        );
        assert_eq!(view.prune_finished(at(7)), vec![call_id]);
    }
}
