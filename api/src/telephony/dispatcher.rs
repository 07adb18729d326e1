//! The dispatcher (a process manager): re-applies the routing policy (PRODUCT §4.2) to the
//! view whenever something changed, and runs the queue's timers.

use chrono::{DateTime, TimeDelta, Utc};
use domain::call::{CallCommand, CallState, OfferFailure, RejectReason};
use domain::ids::{CallId, WorkerId};
use domain::policy::routing::{assign, expired, next_expiry, stranded};
use domain::worker::{Presence, WorkerCommand};
use journal::{Actor, Metadata};
use tracing::Instrument as _;

use super::session::{execute_reserve_and_offer, Session};

/// One offer of a routing round: an agent reserved for a call, each at the version routing saw.
struct Offer {
    call_id: CallId,
    worker_id: WorkerId,
    call_version: i64,
    worker_version: i64,
    attempt: u32,
    reserve: WorkerCommand,
    offer: CallCommand,
    metadata: Metadata,
}

/// How long past the offer timeout an unanswered offer is failed by us if Asterisk never
/// reported the end of the agent leg.
const OFFER_GRACE: TimeDelta = TimeDelta::seconds(5);

impl Session {
    fn max_wait(&self) -> TimeDelta {
        TimeDelta::seconds(i64::from(self.config.queue.max_wait_secs))
    }

    fn offer_deadline(&self, offered_at: DateTime<Utc>) -> DateTime<Utc> {
        offered_at
            + TimeDelta::seconds(i64::from(self.config.queue.offer_timeout_secs))
            + OFFER_GRACE
    }

    /// One routing round: expired and stranded calls are rejected, then the oldest waiting
    /// calls are offered to the agents idle the longest. Whatever it commits marks the session
    /// dirty, so another round follows. With `read_log` (someone else may have appended), the
    /// view first takes in every committed event, even those the ordered tail cannot return yet.
    pub(super) async fn route(&mut self, read_log: bool) -> anyhow::Result<()> {
        if read_log {
            self.refresh_view().await?;
        }
        let now = crate::platform::clock::now();
        for call_id in expired(&self.view.waiting(), now, self.max_wait()) {
            self.reject(call_id, RejectReason::MaxWaitExceeded).await?;
        }
        let agents = self.view.agents(now.date_naive());
        for call_id in stranded(&self.view.waiting(), &agents) {
            self.reject(call_id, RejectReason::NoAgentsLoggedIn).await?;
        }
        if !self.ready {
            return Ok(());
        }
        let agents = self.view.agents(now.date_naive());
        // Each offer reserves another agent for another call: the round's offers are committed
        // together (the group commit gathers them into one write), then taken into the view
        // in the order routing chose them.
        let offers: Vec<Offer> = assign(&self.view.waiting(), &agents)
            .into_iter()
            .filter_map(|(call_id, worker_id)| self.prepare_offer(call_id, worker_id))
            .collect();
        let store = self.store.clone();
        let results = futures::future::join_all(offers.iter().map(|offer| {
            let span =
                tracing::info_span!("offer", call_id = %offer.call_id, worker_id = %offer.worker_id);
            execute_reserve_and_offer(
                &store,
                (offer.worker_id, offer.reserve.clone(), offer.worker_version),
                (offer.call_id, offer.offer.clone(), offer.call_version),
                &offer.metadata,
            )
            .instrument(span)
        }))
        .await;
        for (offer, result) in offers.into_iter().zip(results) {
            let span = tracing::info_span!("offer", call_id = %offer.call_id, worker_id = %offer.worker_id);
            let took = self
                .took_reserve_and_offer(offer.worker_id, offer.call_id, &offer.metadata, result)
                .instrument(span.clone())
                .await?;
            span.in_scope(|| match took {
                Ok(()) => tracing::info!(attempt = offer.attempt, "call offered"),
                Err(refusal) => tracing::debug!(%refusal, "call not offered; re-evaluating"),
            });
        }
        Ok(())
    }

    pub(super) async fn reject(
        &mut self,
        call_id: CallId,
        reason: RejectReason,
    ) -> anyhow::Result<()> {
        let metadata = Metadata::new(Actor::System);
        let command = CallCommand::Reject {
            reason,
            at: crate::platform::clock::now(),
        };
        match self.call_command(call_id, command, &metadata, None).await? {
            Ok(_) => tracing::info!(%call_id, ?reason, "call rejected"),
            Err(refusal) => tracing::debug!(%call_id, ?refusal, "call not rejected"),
        }
        Ok(())
    }

    /// The commands that reserve the agent (Worker `Offer`) and offer the call, each at the
    /// version the view has; committed together by [`execute_reserve_and_offer`]. Losing the
    /// race for either leaves both reloaded for the next round.
    fn prepare_offer(&self, call_id: CallId, worker_id: WorkerId) -> Option<Offer> {
        let (call, worker) = (self.view.call(call_id)?, self.view.worker(worker_id)?);
        let attempt = call.state.attempts().saturating_add(1);
        let at = crate::platform::clock::now();
        Some(Offer {
            call_id,
            worker_id,
            call_version: call.version,
            worker_version: worker.version,
            attempt,
            reserve: WorkerCommand::Offer { call_id, at },
            offer: CallCommand::Offer {
                agent: worker_id,
                agent_channel_id: super::agent_leg_id(call_id, attempt),
                at,
            },
            metadata: Metadata::new(Actor::System),
        })
    }

    /// The next moment a timer is due: a call's max wait, a wrap-up's end, an offer overdue,
    /// an announcement to cut.
    pub(super) fn next_deadline(&self) -> Option<DateTime<Utc>> {
        let expiry = next_expiry(&self.view.waiting(), self.max_wait());
        let wrap_up = self
            .view
            .wrap_ups()
            .into_iter()
            .map(|(_, until)| until)
            .min();
        let offers = self
            .view
            .live_calls()
            .into_iter()
            .filter_map(|(_, call)| call.current_offer().map(|offer| offer.offered_at))
            .map(|offered_at| self.offer_deadline(offered_at))
            .min();
        let announcements = self.announcements.values().map(|(_, until)| *until).min();
        let stasis = self.next_stasis_deadline();
        let logins = self.logins.next_deadline();
        [expiry, wrap_up, offers, announcements, stasis, logins]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs the timers that are due (max wait is handled by [`Self::route`]).
    pub(super) async fn on_timers(&mut self) -> anyhow::Result<()> {
        self.give_up_late_legs().await?;
        self.on_login_timers().await?;
        let now = crate::platform::clock::now();
        for (worker_id, until) in self.view.wrap_ups() {
            if until <= now {
                let metadata = Metadata::new(Actor::System);
                let command = WorkerCommand::FinishWrapUp { at: now };
                if let Err(refusal) = self
                    .worker_command(worker_id, command, &metadata, None)
                    .await?
                {
                    tracing::debug!(%worker_id, ?refusal, "wrap-up not finished");
                }
            }
        }
        let overdue: Vec<(CallId, WorkerId, String)> = self
            .view
            .live_calls()
            .into_iter()
            .filter_map(|(call_id, call)| {
                let offer = call.current_offer()?;
                (self.offer_deadline(offer.offered_at) <= now)
                    .then(|| (call_id, offer.agent, offer.agent_channel_id.clone()))
            })
            .collect();
        for (call_id, agent, leg) in overdue {
            tracing::warn!(%call_id, worker_id = %agent, "no news of the agent leg; failing the offer");
            self.hang_up(&leg).await;
            let metadata = Metadata::new(Actor::System);
            let command = CallCommand::FailOffer {
                agent,
                outcome: OfferFailure::NoAnswer,
                at: now,
            };
            if let Err(refusal) = self.call_command(call_id, command, &metadata, None).await? {
                tracing::debug!(%call_id, ?refusal, "overdue offer not failed");
            }
        }
        let due: Vec<String> = self
            .announcements
            .iter()
            .filter(|(_, (_, until))| *until <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for playback_id in due {
            if let Some((channel_id, _)) = self.announcements.remove(&playback_id) {
                self.hang_up(&channel_id).await;
            }
        }
        Ok(())
    }

    /// Brings each worker in line with their call after a restart: a reservation for a call
    /// that moved on is released, a call that ended ends the worker's call too.
    pub(super) async fn sweep_workers(&mut self) -> anyhow::Result<()> {
        let now = crate::platform::clock::now();
        for (worker_id, worker) in self.view.workers() {
            let command = match worker.presence() {
                Presence::Offered { call_id } => {
                    let call_id = *call_id;
                    match self.view.call(call_id).map(|call| call.state.clone()) {
                        Some(call)
                            if *call.state()
                                == (CallState::Offered {
                                    agent: worker_id,
                                    attempt: call.attempts(),
                                }) =>
                        {
                            None
                        }
                        Some(call)
                            if *call.state() == (CallState::Connected { agent: worker_id }) =>
                        {
                            Some(WorkerCommand::AnswerOffer { call_id, at: now })
                        }
                        _ => Some(WorkerCommand::WithdrawOffer { call_id, at: now }),
                    }
                }
                Presence::OnCall { call_id } => {
                    let call_id = *call_id;
                    match self.view.call(call_id).map(|call| *call.state.state()) {
                        Some(CallState::Connected { agent }) if agent == worker_id => None,
                        _ => Some(WorkerCommand::EndCall {
                            call_id,
                            wrap_up_secs: self.config.queue.wrap_up_secs,
                            at: now,
                        }),
                    }
                }
                _ => None,
            };
            if let Some(command) = command {
                tracing::info!(%worker_id, ?command, "worker out of step with their call; fixing");
                let metadata = Metadata::new(Actor::System);
                if let Err(refusal) = self
                    .worker_command(worker_id, command, &metadata, None)
                    .await?
                {
                    tracing::warn!(%worker_id, ?refusal, "worker could not be fixed");
                }
            }
        }
        Ok(())
    }
}
