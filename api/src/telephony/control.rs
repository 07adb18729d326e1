//! Call control: what Asterisk is told to do, each step triggered by a committed Call event
//! (never before the commit: from the session's own command result or from the log tail), and the Worker command that follows the
//! call's progress. Every step is idempotent: ids are ours and deterministic (a second create
//! is a 409, a second hang-up or destroy a 404, both meaning "already done").

use ari_adapter::rest::{CreateBridge, CreateChannel};
use ari_adapter::{AriClient, AriError};
use chrono::{TimeDelta, Utc};
use domain::call::{CallCommand, CallEvent, CallState, OfferFailure};
use domain::ids::{CallId, WorkerId};
use domain::worker::{MissReason, WorkerCommand};
use journal::{Actor, Metadata, StoredEvent};
use tracing::Instrument as _;

use super::media::{CallMedia, PendingDial};
use super::session::Session;

/// How long a rejection announcement may play before the caller is hung up anyway.
const ANNOUNCEMENT_LIMIT: TimeDelta = TimeDelta::seconds(30);

/// How long a created agent leg may take to enter our Stasis application before the offer is
/// given up as a system failure (real Asterisk sends the `StasisStart` within milliseconds).
pub(super) const STASIS_WAIT: TimeDelta = TimeDelta::seconds(1);

impl Session {
    /// The reaction to one committed Call event.
    pub(super) async fn react(
        &mut self,
        stored: &StoredEvent,
        call_id: CallId,
        event: CallEvent,
    ) -> anyhow::Result<()> {
        let metadata = match stored.parsed_metadata() {
            Some(cause) => Metadata::caused_by(Actor::System, &cause, stored.event_id),
            None => Metadata::new(Actor::System),
        };
        let span = tracing::info_span!("call_control", %call_id, event = %stored.event_type);
        self.react_to(call_id, event, metadata)
            .instrument(span)
            .await
    }

    pub(super) async fn react_to(
        &mut self,
        call_id: CallId,
        event: CallEvent,
        metadata: Metadata,
    ) -> anyhow::Result<()> {
        let now = crate::platform::clock::now();
        match event {
            CallEvent::Queued { channel_id, .. } => {
                self.media
                    .entry(call_id)
                    .or_insert_with(|| CallMedia::new(channel_id));
                // A call rejected on arrival is never put on hold.
                if self.view.is_live(call_id) {
                    self.hold_in_lane(call_id);
                }
            }
            CallEvent::Offered {
                agent,
                agent_channel_id,
                ..
            } => {
                let still_ringing = self
                    .view
                    .call(call_id)
                    .and_then(|call| call.state.current_offer())
                    .is_some_and(|offer| offer.agent_channel_id == agent_channel_id);
                if still_ringing {
                    self.ring_agent(call_id, agent, agent_channel_id).await?;
                }
            }
            CallEvent::Connected { attempt, agent, .. } => {
                let command = WorkerCommand::AnswerOffer { call_id, at: now };
                self.follow_call(agent, command, &metadata).await?;
                if self.view.is_live(call_id) {
                    self.connect(call_id, &super::agent_leg_id(call_id, attempt))
                        .await;
                }
            }
            CallEvent::OfferFailed {
                attempt,
                agent,
                outcome,
                ..
            } => {
                let reason = match outcome {
                    OfferFailure::NoAnswer => Some(MissReason::NoAnswer),
                    OfferFailure::Busy => Some(MissReason::Busy),
                    OfferFailure::Rejected => Some(MissReason::Rejected),
                    OfferFailure::Unreachable => Some(MissReason::Unreachable),
                    // The phone never rang: not the agent's doing, no pause.
                    OfferFailure::SystemFailure => None,
                };
                let command = match reason {
                    Some(reason) => WorkerCommand::MissOffer {
                        call_id,
                        reason,
                        at: now,
                    },
                    None => WorkerCommand::WithdrawOffer { call_id, at: now },
                };
                self.follow_call(agent, command, &metadata).await?;
                let leg = super::agent_leg_id(call_id, attempt);
                self.awaiting_stasis.remove(&leg);
                if !self.gone.contains(&leg) {
                    self.hang_up(&leg).await;
                }
                self.forget_channel(&leg);
                if let Some(media) = self.media.get_mut(&call_id) {
                    media.legs.remove(&leg);
                }
            }
            CallEvent::Abandoned {
                withdrawn_offer, ..
            } => {
                if let Some(offer) = withdrawn_offer {
                    let command = WorkerCommand::WithdrawOffer { call_id, at: now };
                    self.follow_call(offer.agent, command, &metadata).await?;
                }
                self.clean_up(call_id, false).await;
            }
            CallEvent::Rejected { .. } => self.clean_up(call_id, true).await,
            CallEvent::Ended {
                agent,
                withdrawn_offer,
                ..
            } => {
                if let Some(agent) = agent {
                    let command = WorkerCommand::EndCall {
                        call_id,
                        wrap_up_secs: self.config.queue.wrap_up_secs,
                        at: now,
                    };
                    self.follow_call(agent, command, &metadata).await?;
                }
                if let Some(offer) = withdrawn_offer {
                    let command = WorkerCommand::WithdrawOffer { call_id, at: now };
                    self.follow_call(offer.agent, command, &metadata).await?;
                }
                self.clean_up(call_id, false).await;
            }
            CallEvent::CustomerLinked { .. } => {}
        }
        Ok(())
    }

    /// The Worker command that follows a call event; a refusal means it was done already.
    async fn follow_call(
        &mut self,
        worker_id: WorkerId,
        command: WorkerCommand,
        metadata: &Metadata,
    ) -> anyhow::Result<()> {
        if let Err(refusal) = self
            .worker_command(worker_id, command, metadata, None)
            .await?
        {
            tracing::debug!(%worker_id, ?refusal, "worker already in step");
        }
        self.after_call(worker_id).await
    }

    /// Answers the caller and puts them on hold with music in our holding bridge, and waits
    /// until it is done.
    pub(super) async fn hold(&mut self, call_id: CallId) {
        self.hold_in_lane(call_id);
        self.lanes.join(call_id).await;
    }

    /// Answers the caller and puts them on hold with music in our holding bridge, in the
    /// call's lane. The bridge counts as ours from now on (destroying one that was never made
    /// is a 404, "already done").
    fn hold_in_lane(&mut self, call_id: CallId) {
        let Some(media) = self.media.get_mut(&call_id) else {
            return;
        };
        media.holding = true;
        let inbound = media.inbound.clone();
        let client = self.client.clone();
        self.lanes.push(call_id, async move {
            put_on_hold(&client, call_id, &inbound).await;
        });
    }

    /// Creates the agent leg with our id and dials it once, with the offer timeout. A phone
    /// that cannot be reached fails the offer at once.
    async fn ring_agent(
        &mut self,
        call_id: CallId,
        agent: WorkerId,
        leg: String,
    ) -> anyhow::Result<()> {
        let inbound = self.media.get(&call_id).map(|media| media.inbound.clone());
        let endpoint = self.view.endpoint_of(agent);
        let (Some(inbound), Some(endpoint)) = (inbound, endpoint) else {
            tracing::warn!(worker_id = %agent, "no phone or no caller for the offer");
            return self.fail_offer_unreachable(call_id, agent).await;
        };
        // The call's earlier requests (the hold) first.
        self.lanes.join(call_id).await;
        // Follow the leg before creating it: a refused leg may never enter Stasis.
        self.translator
            .expect_agent_leg(leg.clone(), inbound.clone());
        if let Some(media) = self.media.get_mut(&call_id) {
            media.legs.insert(leg.clone());
        }
        let request = CreateChannel {
            endpoint,
            app: self.config.app.clone(),
            app_args: vec!["agent".to_owned(), inbound.clone()],
            channel_id: Some(leg.clone()),
            ..CreateChannel::default()
        };
        match self.client.create_channel(&request).await {
            Ok(_) => {
                // Dialled once its StasisStart arrives: the 200 may come before it, and a
                // dial sent before it is refused 409 (NOTES §5).
                let pending = PendingDial {
                    call_id,
                    agent,
                    inbound,
                    until: crate::platform::clock::now() + STASIS_WAIT,
                };
                self.awaiting_stasis.insert(leg, pending);
                Ok(())
            }
            // Created before (by us, earlier): never dial twice.
            Err(AriError::Conflict(_)) => Ok(()),
            // Asterisk cannot allocate a channel to the endpoint (a phone not registered).
            Err(error @ AriError::Server { status: 500, .. }) => {
                tracing::info!(%error, worker_id = %agent, "agent phone unreachable");
                self.gone.insert(leg);
                self.fail_offer(call_id, agent, OfferFailure::Unreachable)
                    .await
            }
            Err(error) => {
                tracing::warn!(%error, worker_id = %agent, "agent leg not created");
                // It may exist all the same (a lost answer): never leave it up.
                self.hang_up(&leg).await;
                self.gone.insert(leg);
                self.fail_offer(call_id, agent, OfferFailure::SystemFailure)
                    .await
            }
        }
    }

    /// The leg's `StasisStart` arrived: dials it once, with the offer timeout, if its offer
    /// still rings. A leg that cannot be dialled is hung up at once and the offer fails as a
    /// system failure (the agent is not paused).
    pub(super) async fn dial_agent_leg(&mut self, leg: &str) -> anyhow::Result<()> {
        let Some(pending) = self.awaiting_stasis.remove(leg) else {
            return Ok(());
        };
        if !self.rings_on(pending.call_id, leg) {
            return Ok(());
        }
        let timeout = Some(self.config.queue.offer_timeout_secs);
        match self.client.dial(leg, Some(&pending.inbound), timeout).await {
            Ok(()) => Ok(()),
            Err(error) => {
                tracing::warn!(%error, channel_id = %leg, "agent leg not dialled");
                self.give_up_leg(leg, pending).await
            }
        }
    }

    /// Gives up the legs whose `StasisStart` did not come in time.
    pub(super) async fn give_up_late_legs(&mut self) -> anyhow::Result<()> {
        let now = crate::platform::clock::now();
        let late: Vec<String> = self
            .awaiting_stasis
            .iter()
            .filter(|(_, pending)| pending.until <= now)
            .map(|(leg, _)| leg.clone())
            .collect();
        for leg in late {
            if let Some(pending) = self.awaiting_stasis.remove(&leg) {
                tracing::warn!(channel_id = %leg, "agent leg never entered Stasis");
                if self.rings_on(pending.call_id, &leg) {
                    self.give_up_leg(&leg, pending).await?;
                }
            }
        }
        Ok(())
    }

    /// The earliest deadline of a leg waiting for its `StasisStart`.
    pub(super) fn next_stasis_deadline(&self) -> Option<chrono::DateTime<Utc>> {
        self.awaiting_stasis
            .values()
            .map(|pending| pending.until)
            .min()
    }

    /// Whether the call's current offer rings on `leg`.
    fn rings_on(&self, call_id: CallId, leg: &str) -> bool {
        self.view
            .call(call_id)
            .and_then(|call| call.state.current_offer())
            .is_some_and(|offer| offer.agent_channel_id == leg)
    }

    async fn give_up_leg(&mut self, leg: &str, pending: PendingDial) -> anyhow::Result<()> {
        self.hang_up(leg).await;
        self.gone.insert(leg.to_owned());
        self.fail_offer(pending.call_id, pending.agent, OfferFailure::SystemFailure)
            .await
    }

    async fn fail_offer_unreachable(
        &mut self,
        call_id: CallId,
        agent: WorkerId,
    ) -> anyhow::Result<()> {
        self.fail_offer(call_id, agent, OfferFailure::Unreachable)
            .await
    }

    async fn fail_offer(
        &mut self,
        call_id: CallId,
        agent: WorkerId,
        outcome: OfferFailure,
    ) -> anyhow::Result<()> {
        let command = CallCommand::FailOffer {
            agent,
            outcome,
            at: crate::platform::clock::now(),
        };
        let metadata = Metadata::new(Actor::Ari);
        if let Err(refusal) = self.call_command(call_id, command, &metadata, None).await? {
            tracing::debug!(?refusal, "offer already closed");
        }
        Ok(())
    }

    /// Moves the caller off hold into a mixing bridge with the agent leg (in the call's lane).
    pub(super) async fn connect(&mut self, call_id: CallId, leg: &str) {
        let Some(media) = self.media.get_mut(&call_id) else {
            return;
        };
        let was_holding = media.holding;
        media.holding = false;
        media.mixing = true;
        let inbound = media.inbound.clone();
        let leg = leg.to_owned();
        let client = self.client.clone();
        self.lanes.push(call_id, async move {
            bridge_with_agent(&client, call_id, &inbound, &leg, was_holding).await;
        });
    }

    /// Hangs up whatever leg remains and destroys every bridge we made for the call. A
    /// rejected caller hears the announcement first, when one is configured.
    async fn clean_up(&mut self, call_id: CallId, rejected: bool) {
        self.awaiting_stasis
            .retain(|_, pending| pending.call_id != call_id);
        let Some(media) = self.media.remove(&call_id) else {
            return;
        };
        let mut bridges = Vec::new();
        if media.holding {
            bridges.push(super::holding_bridge_id(call_id));
        }
        if media.mixing {
            bridges.push(super::mixing_bridge_id(call_id));
        }
        let mut channels: Vec<String> = media
            .legs
            .iter()
            .filter(|leg| !self.gone.contains(*leg))
            .cloned()
            .collect();
        for leg in &media.legs {
            self.forget_channel(leg);
        }
        let announcement = self
            .config
            .queue
            .reject_announcement
            .clone()
            .filter(|_| rejected && !self.gone.contains(&media.inbound));
        if announcement.is_none() && !self.gone.contains(&media.inbound) {
            channels.push(media.inbound.clone());
        }
        self.forget_channel(&media.inbound);
        let client = self.client.clone();
        self.lanes.push(call_id, async move {
            release(&client, &bridges, &channels).await;
        });
        if let Some(announcement) = announcement {
            // The playback is followed by the session (its end hangs the caller up).
            self.lanes.join(call_id).await;
            self.announce(call_id, &media.inbound, &announcement).await;
        }
    }

    /// Plays the rejection announcement; the caller is hung up when it finishes.
    async fn announce(&mut self, call_id: CallId, inbound: &str, announcement: &str) {
        if let Err(error) = self.client.answer(inbound).await {
            self.channel_error(inbound, "answer", &error);
        }
        let playback_id = format!("{}announce-{call_id}", super::ID_PREFIX);
        match self
            .client
            .play(inbound, &[announcement], Some(&playback_id))
            .await
        {
            Ok(_) => {
                let until = crate::platform::clock::now() + ANNOUNCEMENT_LIMIT;
                self.announcements
                    .insert(playback_id, (inbound.to_owned(), until));
            }
            Err(error) => {
                self.channel_error(inbound, "play the announcement", &error);
                self.hang_up(inbound).await;
            }
        }
    }

    /// Hangs a channel up; gone already is fine.
    pub(super) async fn hang_up(&mut self, channel_id: &str) {
        match self.client.hangup(channel_id, None).await {
            Ok(()) => {}
            Err(error) if error.is_gone() => {}
            Err(error) => tracing::warn!(%error, %channel_id, "hang-up failed"),
        }
        self.gone.insert(channel_id.to_owned());
    }

    pub(super) async fn destroy_bridge(&mut self, bridge_id: &str) {
        match self.client.destroy_bridge(bridge_id).await {
            Ok(()) => {}
            Err(error) if error.is_gone() => {}
            Err(error) => tracing::warn!(%error, %bridge_id, "bridge not destroyed"),
        }
    }

    /// Stops following a channel that call control is done with.
    fn forget_channel(&mut self, channel_id: &str) {
        self.translator.forget(channel_id);
        self.gone.remove(channel_id);
    }

    fn channel_error(&mut self, channel_id: &str, what: &str, error: &AriError) {
        if error.is_gone() {
            tracing::debug!(%channel_id, "channel gone before we could {what}");
            self.gone.insert(channel_id.to_owned());
        } else {
            tracing::warn!(%error, %channel_id, "could not {what}");
        }
    }

    /// Whether a live call is in this state (for recovery).
    pub(super) fn call_state(&self, call_id: CallId) -> Option<CallState> {
        self.view.call(call_id).map(|call| *call.state.state())
    }
}

/// Answers the caller, makes our holding bridge, puts the caller in it and starts the music.
async fn put_on_hold(client: &AriClient, call_id: CallId, inbound: &str) {
    if let Err(error) = client.answer(inbound).await {
        lane_error(inbound, "answer", &error);
        return;
    }
    let bridge_id = super::holding_bridge_id(call_id);
    let request = CreateBridge {
        bridge_type: vec!["holding".to_owned()],
        bridge_id: Some(bridge_id.clone()),
        name: Some(format!("hold {call_id}")),
    };
    match client.create_bridge(&request).await {
        Ok(_) | Err(AriError::Conflict(_)) => {}
        Err(error) => {
            tracing::warn!(%error, %call_id, "holding bridge not created");
            return;
        }
    }
    if let Err(error) = client.add_channels(&bridge_id, &[inbound]).await {
        lane_error(inbound, "add to the holding bridge", &error);
        return;
    }
    if let Err(error) = client.start_moh(inbound, None).await {
        lane_error(inbound, "start music on hold", &error);
    }
}

/// Stops the music, destroys the holding bridge and bridges the caller with the agent leg.
async fn bridge_with_agent(
    client: &AriClient,
    call_id: CallId,
    inbound: &str,
    leg: &str,
    was_holding: bool,
) {
    if let Err(error) = client.stop_moh(inbound).await {
        lane_error(inbound, "stop music on hold", &error);
    }
    if was_holding {
        destroy(client, &super::holding_bridge_id(call_id)).await;
    }
    let bridge_id = super::mixing_bridge_id(call_id);
    let request = CreateBridge {
        bridge_type: vec!["mixing".to_owned()],
        bridge_id: Some(bridge_id.clone()),
        name: Some(format!("call {call_id}")),
    };
    match client.create_bridge(&request).await {
        Ok(_) | Err(AriError::Conflict(_)) => {}
        Err(error) => {
            tracing::warn!(%error, %call_id, "mixing bridge not created");
            return;
        }
    }
    if let Err(error) = client.add_channels(&bridge_id, &[inbound, leg]).await {
        // A leg that went away meanwhile ends the call through its own fact.
        tracing::warn!(%error, %call_id, "legs not bridged");
    }
}

/// Destroys bridges, then hangs channels up; gone already is fine.
async fn release(client: &AriClient, bridges: &[String], channels: &[String]) {
    for bridge_id in bridges {
        destroy(client, bridge_id).await;
    }
    for channel_id in channels {
        match client.hangup(channel_id, None).await {
            Ok(()) => {}
            Err(error) if error.is_gone() => {}
            Err(error) => tracing::warn!(%error, %channel_id, "hang-up failed"),
        }
    }
}

async fn destroy(client: &AriClient, bridge_id: &str) {
    match client.destroy_bridge(bridge_id).await {
        Ok(()) => {}
        Err(error) if error.is_gone() => {}
        Err(error) => tracing::warn!(%error, %bridge_id, "bridge not destroyed"),
    }
}

/// A failed request in a lane: a channel that is gone is no news (its end is reported by
/// its own event), anything else is logged.
fn lane_error(channel_id: &str, what: &str, error: &AriError) {
    if error.is_gone() {
        tracing::debug!(%channel_id, "channel gone before we could {what}");
    } else {
        tracing::warn!(%error, %channel_id, "could not {what}");
    }
}
