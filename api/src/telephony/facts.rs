//! ARI events → facts → Call commands (actor `ari`). The Worker side follows from the committed
//! Call events (see `control.rs`). Every handler is idempotent: a repeated fact finds the call
//! already where the fact would put it, and the domain answers "nothing to do" or a rule that
//! means "already done", which is treated as success.

use std::collections::HashSet;

use ari_adapter::model::EndpointStateValue;
use ari_adapter::{AgentLegOutcome, AriEvent, TelephonyFact};
use chrono::{DateTime, Utc};
use domain::call::RejectReason;
use domain::call::{Call, CallCommand, CallState, OfferFailure};
use domain::ids::{CallId, WorkerId};
use domain::policy::routing::{verdict_on_arrival, ArrivalRejection, ArrivalVerdict};
use domain::worker::WorkerCommand;
use journal::{Actor, Metadata};
use tracing::Instrument as _;

use super::call_id_for_channel;
use super::session::{Arrival, Session};

/// The queue every call joins (one queue for now).
const QUEUE: &str = "default";

impl Session {
    /// One event from the ARI WebSocket.
    pub(super) async fn on_event(&mut self, event: AriEvent) -> anyhow::Result<()> {
        let mut arrivals = Vec::new();
        self.on_event_gathering(event, &mut arrivals).await?;
        self.callers_arrived(arrivals).await
    }

    /// One event from the ARI WebSocket, of several received together: callers arriving are
    /// added to `arrivals` (handled together, see [`Self::callers_arrived`]); any other fact
    /// first has the arrivals gathered so far handled, so that facts keep their order.
    pub(super) async fn on_event_gathering(
        &mut self,
        event: AriEvent,
        arrivals: &mut Vec<Arrival>,
    ) -> anyhow::Result<()> {
        if let AriEvent::PlaybackFinished(finished) = &event {
            if let Some((channel_id, _)) = self.announcements.remove(&finished.playback.id) {
                self.callers_arrived(std::mem::take(arrivals)).await?;
                self.hang_up(&channel_id).await;
            }
        }
        for fact in self.translator.translate(&event) {
            match fact {
                TelephonyFact::CallerArrived {
                    channel_id,
                    caller_number,
                    caller_name,
                    ..
                } => arrivals.push(Arrival {
                    call_id: call_id_for_channel(&channel_id),
                    channel_id,
                    caller_number,
                    caller_name,
                }),
                fact => {
                    self.callers_arrived(std::mem::take(arrivals)).await?;
                    self.on_fact(fact).await?;
                }
            }
        }
        Ok(())
    }

    pub(super) async fn on_fact(&mut self, fact: TelephonyFact) -> anyhow::Result<()> {
        match fact {
            TelephonyFact::CallerArrived {
                channel_id,
                caller_number,
                caller_name,
                ..
            } => {
                let arrival = Arrival {
                    call_id: call_id_for_channel(&channel_id),
                    channel_id,
                    caller_number,
                    caller_name,
                };
                self.callers_arrived(vec![arrival]).await
            }
            TelephonyFact::CallerLeft { channel_id, at } => {
                self.gone.insert(channel_id.clone());
                let call_id = call_id_for_channel(&channel_id);
                let span = tracing::info_span!("caller_left", %call_id);
                self.ari_call_command(call_id, CallCommand::CallerHangUp { at })
                    .instrument(span)
                    .await
            }
            TelephonyFact::AgentLegReady { channel_id, .. } => {
                let span = tracing::info_span!("agent_leg_ready", %channel_id);
                self.dial_agent_leg(&channel_id).instrument(span).await
            }
            TelephonyFact::AgentLegRinging { .. } => Ok(()),
            TelephonyFact::AgentLegAnswered {
                channel_id,
                inbound_channel_id,
                at,
            } => {
                let call_id = call_id_for_channel(&inbound_channel_id);
                let span = tracing::info_span!("agent_answered", %call_id, %channel_id);
                self.agent_answered(call_id, channel_id, at)
                    .instrument(span)
                    .await
            }
            TelephonyFact::AgentLegFailed {
                channel_id,
                inbound_channel_id,
                outcome,
                at,
            } => {
                self.gone.insert(channel_id.clone());
                let call_id = call_id_for_channel(&inbound_channel_id);
                let span = tracing::info_span!("agent_leg_failed", %call_id, %channel_id);
                self.agent_leg_failed(call_id, &channel_id, outcome, at)
                    .instrument(span)
                    .await
            }
            TelephonyFact::AgentLegHungUp {
                channel_id,
                inbound_channel_id,
                at,
            } => {
                self.gone.insert(channel_id.clone());
                let call_id = call_id_for_channel(&inbound_channel_id);
                let span = tracing::info_span!("agent_hung_up", %call_id, %channel_id);
                self.agent_hung_up(call_id, &channel_id, at)
                    .instrument(span)
                    .await
            }
            TelephonyFact::EndpointState {
                technology,
                resource,
                state,
                at,
            } => {
                if state == EndpointStateValue::Offline {
                    for worker_id in self.view.workers_on_endpoint(&technology, &resource) {
                        let span = tracing::info_span!("phone_unreachable", %worker_id);
                        self.phone_unreachable(worker_id, at)
                            .instrument(span)
                            .await?;
                    }
                }
                Ok(())
            }
            TelephonyFact::ApplicationReplaced { application, .. } => Err(anyhow::anyhow!(
                "another connection took over the ARI application {application}"
            )),
        }
    }

    /// Callers whose `StasisStart`s came together (one or more). Each call is queued and, if
    /// the verdict says so, rejected, as one caller at a time would be; their `Queue` commits
    /// run together (the group commit gathers them into one write), so that callers arriving
    /// while the session was busy do not wait for each other's commits.
    pub(super) async fn callers_arrived(&mut self, arrivals: Vec<Arrival>) -> anyhow::Result<()> {
        if arrivals.is_empty() {
            return Ok(());
        }
        // The verdicts need the agents and the queue as committed now (once per batch of ARI
        // events; the session's own commands keep the view current within it).
        // Meanwhile the callers' numbers are looked up, and whether the calls were already
        // committed (a repeated StasisStart: only this session commits a call's first event,
        // so the answer does not depend on when it is asked; it wastes one lookup).
        let directory = self.directory.clone();
        let pool = self.store.pool().clone();
        let ids: Vec<String> = arrivals.iter().map(|a| a.call_id.to_string()).collect();
        let (refreshed, customers, committed) = tokio::join!(
            async {
                if self.view_fresh {
                    Ok(())
                } else {
                    self.refresh_view().await
                }
            },
            futures::future::join_all(
                arrivals
                    .iter()
                    .map(|arrival| directory.find_by_number(&arrival.caller_number))
            ),
            super::session::committed_calls(&pool, &ids)
        );
        refreshed?;
        let committed = committed?;
        let agents = self.view.agents(crate::platform::clock::now().date_naive());
        let mut queue_length = self.view.queue_length();
        let mut taken = HashSet::new();
        let mut queued = Vec::with_capacity(arrivals.len());
        for (arrival, customer_id) in arrivals.into_iter().zip(customers) {
            let call_id = arrival.call_id;
            // Live, or ended (remembered by the view, or committed and not live).
            if !taken.insert(call_id)
                || self.view.is_live(call_id)
                || self.view.remembers_ended(call_id)
                || committed.contains(&call_id)
            {
                continue;
            }
            let verdict =
                verdict_on_arrival(queue_length, self.config.queue.max_queue_length, &agents);
            if verdict == ArrivalVerdict::Admit {
                queue_length += 1;
            }
            let span =
                tracing::info_span!("caller_arrived", %call_id, channel_id = %arrival.channel_id);
            let command = CallCommand::Queue {
                caller_number: arrival.caller_number,
                caller_name: Some(arrival.caller_name).filter(|name| !name.trim().is_empty()),
                customer_id,
                channel_id: arrival.channel_id,
                queue: QUEUE.to_owned(),
                // Our clock, not Asterisk's millisecond timestamp: two callers arriving within
                // a millisecond keep their order (FIFO), and max wait is measured on the same
                // clock.
                at: crate::platform::clock::now(),
            };
            queued.push((call_id, verdict, command, span));
        }
        let metadata = Metadata::new(Actor::Ari);
        let store = self.store.clone();
        let results =
            futures::future::join_all(queued.iter().map(|(call_id, _, command, span)| {
                let (store, metadata) = (&store, &metadata);
                async move {
                    store
                        .execute::<Call>(&call_id.to_string(), command.clone(), &(), metadata, None)
                        .await
                }
                .instrument(span.clone())
            }))
            .await;
        for ((call_id, verdict, _, span), result) in queued.into_iter().zip(results) {
            let took = self
                .took_call_command(call_id, &metadata, result)
                .instrument(span.clone())
                .await?;
            if let Err(refusal) = took {
                span.in_scope(|| tracing::warn!(?refusal, "call not queued"));
                continue;
            }
            span.in_scope(|| tracing::info!(?verdict, "call queued"));
            if let ArrivalVerdict::Reject(rejection) = verdict {
                let reason = match rejection {
                    ArrivalRejection::NoAgentsLoggedIn => RejectReason::NoAgentsLoggedIn,
                    ArrivalRejection::QueueFull => RejectReason::QueueFull,
                };
                self.reject(call_id, reason).instrument(span).await?;
            }
        }
        Ok(())
    }

    /// The call as the store has it (facts must not act on a view that lags).
    async fn load_call(&self, call_id: CallId) -> anyhow::Result<Call> {
        let (call, _) = self
            .store
            .load_aggregate::<Call>(&call_id.to_string())
            .await?;
        Ok(call)
    }

    async fn agent_answered(
        &mut self,
        call_id: CallId,
        channel_id: String,
        at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let call = self.load_call(call_id).await?;
        let agent = call
            .offers()
            .iter()
            .find(|offer| offer.agent_channel_id == channel_id)
            .map(|offer| offer.agent);
        let current = matches!(
            call.state(),
            CallState::Offered { .. } | CallState::Connected { .. }
        ) && call.agent() == agent
            && call.offers().last().map(|o| o.agent_channel_id.as_str())
                == Some(channel_id.as_str());
        match agent {
            Some(agent) if current => {
                self.ari_call_command(call_id, CallCommand::AnswerOffer { agent, at })
                    .await
            }
            _ => {
                // The offer was withdrawn or failed before the answer reached us.
                tracing::info!("answer on a leg the call no longer rings; hanging it up");
                self.hang_up(&channel_id).await;
                Ok(())
            }
        }
    }

    async fn agent_leg_failed(
        &mut self,
        call_id: CallId,
        channel_id: &str,
        outcome: AgentLegOutcome,
        at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let call = self.load_call(call_id).await?;
        let Some(offer) = call.current_offer() else {
            return Ok(());
        };
        if offer.agent_channel_id != channel_id {
            return Ok(());
        }
        let outcome = match outcome {
            AgentLegOutcome::Busy => OfferFailure::Busy,
            AgentLegOutcome::Rejected | AgentLegOutcome::Cancelled => OfferFailure::Rejected,
            AgentLegOutcome::Unreachable | AgentLegOutcome::Congestion => OfferFailure::Unreachable,
            AgentLegOutcome::NoAnswer | AgentLegOutcome::Other(_) => OfferFailure::NoAnswer,
        };
        self.awaiting_stasis.remove(channel_id);
        let agent = offer.agent;
        self.ari_call_command(call_id, CallCommand::FailOffer { agent, outcome, at })
            .await
    }

    async fn agent_hung_up(
        &mut self,
        call_id: CallId,
        channel_id: &str,
        at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let call = self.load_call(call_id).await?;
        let CallState::Connected { agent } = *call.state() else {
            return Ok(());
        };
        let connected_leg = call
            .offers()
            .iter()
            .rev()
            .find(|offer| offer.agent == agent)
            .map(|offer| offer.agent_channel_id.as_str());
        if connected_leg != Some(channel_id) {
            return Ok(());
        }
        self.ari_call_command(call_id, CallCommand::AgentHangUp { agent, at })
            .await
    }

    async fn phone_unreachable(
        &mut self,
        worker_id: WorkerId,
        at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let metadata = Metadata::new(Actor::Ari);
        let command = WorkerCommand::PhoneUnreachable { at };
        if let Err(refusal) = self
            .worker_command(worker_id, command, &metadata, None)
            .await?
        {
            tracing::debug!(?refusal, "phone state not recorded");
        }
        Ok(())
    }

    /// A Call command on Asterisk's word; a refusal means the call is already past that point.
    async fn ari_call_command(
        &mut self,
        call_id: CallId,
        command: CallCommand,
    ) -> anyhow::Result<()> {
        let metadata = Metadata::new(Actor::Ari);
        if let Err(refusal) = self.call_command(call_id, command, &metadata, None).await? {
            tracing::debug!(?refusal, "nothing to do");
        }
        Ok(())
    }
}
