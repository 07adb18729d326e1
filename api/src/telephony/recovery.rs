//! Resynchronisation with Asterisk, at leadership and after every WebSocket reconnection
//! (events sent while the socket was down are lost): what the log says is live is compared
//! with `GET /channels` and `GET /bridges`.
//!
//! - A live call whose caller channel is gone is ended by the system (its worker released by
//!   the reaction to `CallEnded`); one whose connected agent leg is gone too.
//! - An offer whose agent leg is gone failed; one whose leg is still there is followed again.
//! - A waiting caller who is not in our holding bridge is put back on hold; a connected call
//!   whose legs are not bridged is bridged.
//! - Bridges and agent legs of ours that belong to no live call are destroyed / hung up, and
//!   so is the caller of a call that already ended (the end was committed while no leader
//!   reacted to it).
//! - Inbound channels we never heard of are new callers (`Translator::reconcile`).

use std::collections::HashSet;

use anyhow::Context as _;

use domain::call::{CallCommand, CallState, OfferFailure, OfferOutcome};
use journal::{Actor, Metadata};

use super::media::CallMedia;
use super::session::Session;
use super::{parse_agent_leg_id, parse_bridge_id, BridgeKind};

impl Session {
    /// Subscribes to the endpoint states of every technology the workers' phones use (needed
    /// for `EndpointStateChange`, NOTES §2), once per connection.
    pub(super) async fn subscribe_endpoints(&mut self) {
        let missing: Vec<String> = self
            .view
            .endpoint_technologies()
            .into_iter()
            .filter(|technology| !self.subscribed_technologies.contains(technology))
            .collect();
        if missing.is_empty() {
            return;
        }
        let sources: Vec<String> = missing.iter().map(|t| format!("endpoint:{t}")).collect();
        let sources: Vec<&str> = sources.iter().map(String::as_str).collect();
        match self.client.subscribe(&self.config.app, &sources).await {
            Ok(_) => self.subscribed_technologies.extend(missing),
            Err(error) => tracing::warn!(%error, "no subscription to the agents' endpoint states"),
        }
    }

    pub(super) async fn resync(&mut self) -> anyhow::Result<()> {
        self.ready = false;
        self.dirty = true;
        self.catch_up().await?;
        self.subscribed_technologies.clear();
        self.subscribe_endpoints().await;
        let channels = self
            .client
            .list_channels()
            .await
            .context("cannot list Asterisk's channels")?;
        let bridges = self
            .client
            .list_bridges()
            .await
            .context("cannot list Asterisk's bridges")?;
        // Judge what Asterisk has against every call committed until now, including those the
        // log tail cannot return yet; after the listing, so that a caller in it is judged with
        // the agents committed before they called.
        self.refresh_view().await?;
        let at = crate::platform::clock::now();
        let live: HashSet<&str> = channels.iter().map(|c| c.id.as_str()).collect();
        let bridge_members = |bridge_id: &str| -> Option<Vec<String>> {
            bridges
                .iter()
                .find(|bridge| bridge.id == bridge_id)
                .map(|bridge| bridge.channels.clone())
        };
        let metadata = Metadata::new(Actor::System);

        // Strays: our bridges and legs that belong to no live call.
        for bridge in &bridges {
            if let Some((call_id, _)) = parse_bridge_id(&bridge.id) {
                if !self.view.is_live(call_id) {
                    tracing::info!(bridge_id = %bridge.id, %call_id, "stray bridge destroyed");
                    self.destroy_bridge(&bridge.id).await;
                }
            }
        }
        // Callers of calls that ended while no leader reacted (say, hung up from the API just
        // before a leader died: the next one takes that event as done): nothing else would
        // ever hang them up. A rejected caller hearing the announcement is left to it.
        let announced: HashSet<&str> = self
            .announcements
            .values()
            .map(|(channel_id, _)| channel_id.as_str())
            .collect();
        // Whether a caller's call ended is looked up in the log (the view holds live calls).
        let candidates: Vec<(String, domain::ids::CallId)> = channels
            .iter()
            .filter(|channel| is_inbound(channel) && !announced.contains(channel.id.as_str()))
            .map(|channel| (channel.id.clone(), super::call_id_for_channel(&channel.id)))
            .filter(|(_, call_id)| !self.view.is_live(*call_id))
            .collect();
        let ended = self
            .ended_calls(&candidates.iter().map(|(_, id)| *id).collect::<Vec<_>>())
            .await?;
        let finished_callers: Vec<String> = candidates
            .into_iter()
            .filter(|(_, call_id)| ended.contains(call_id))
            .map(|(channel_id, _)| channel_id)
            .collect();
        for channel_id in finished_callers {
            tracing::info!(%channel_id, "caller of an ended call hung up");
            self.hang_up(&channel_id).await;
        }
        for channel in &channels {
            if let Some(call_id) = parse_agent_leg_id(&channel.id) {
                let current = self.view.call(call_id).is_some_and(|call| {
                    call.state
                        .offers()
                        .last()
                        .is_some_and(|offer| offer.agent_channel_id == channel.id)
                });
                if !current {
                    tracing::info!(channel_id = %channel.id, %call_id, "stray agent leg hung up");
                    self.hang_up(&channel.id).await;
                }
            }
        }

        for (call_id, call) in self.view.live_calls() {
            let inbound = call.channel_id().to_owned();
            let media = self
                .media
                .entry(call_id)
                .or_insert_with(|| CallMedia::new(inbound.clone()));
            media.holding = bridge_members(&super::holding_bridge_id(call_id)).is_some();
            media.mixing = bridge_members(&super::mixing_bridge_id(call_id)).is_some();
            for offer in call.offers() {
                if offer.outcome.is_none() || offer.outcome == Some(OfferOutcome::Answered) {
                    media.legs.insert(offer.agent_channel_id.clone());
                }
            }
            let known: Vec<String> = std::iter::once(inbound.clone())
                .chain(media.legs.iter().cloned())
                .collect();
            for channel_id in known {
                if !live.contains(channel_id.as_str()) {
                    self.gone.insert(channel_id);
                }
            }
            if !live.contains(inbound.as_str()) {
                tracing::info!(%call_id, "caller channel gone while we were away");
                let command = CallCommand::EndBySystem {
                    reason: "caller channel gone from asterisk".to_owned(),
                    at,
                };
                let _ = self.call_command(call_id, command, &metadata, None).await?;
                continue;
            }
            let on_hold = bridge_members(&super::holding_bridge_id(call_id))
                .is_some_and(|members| members.contains(&inbound));
            match *call.state() {
                CallState::Queued if !on_hold => self.hold(call_id).await,
                CallState::Offered { agent, .. } => {
                    let leg = call
                        .current_offer()
                        .map(|offer| offer.agent_channel_id.clone())
                        .unwrap_or_default();
                    let never_dialled = channels.iter().any(|channel| {
                        channel.id == leg && channel.state == ari_adapter::model::ChannelState::Down
                    });
                    if never_dialled && !self.awaiting_stasis.contains_key(&leg) {
                        // Created but never dialled (a leader stopped in between, or its
                        // StasisStart was lost): its phone never rang.
                        tracing::info!(%call_id, "agent leg never dialled; giving it up");
                        self.hang_up(&leg).await;
                        self.gone.insert(leg);
                        let command = CallCommand::FailOffer {
                            agent,
                            outcome: OfferFailure::SystemFailure,
                            at,
                        };
                        let _ = self.call_command(call_id, command, &metadata, None).await?;
                    } else if live.contains(leg.as_str()) {
                        self.translator.expect_agent_leg(leg, inbound.clone());
                        if !on_hold {
                            self.hold(call_id).await;
                        }
                    } else {
                        tracing::info!(%call_id, "agent leg gone while we were away");
                        let command = CallCommand::FailOffer {
                            agent,
                            outcome: OfferFailure::NoAnswer,
                            at,
                        };
                        let _ = self.call_command(call_id, command, &metadata, None).await?;
                    }
                }
                CallState::Connected { agent } => {
                    let leg = call
                        .offers()
                        .iter()
                        .rev()
                        .find(|offer| offer.agent == agent)
                        .map(|offer| offer.agent_channel_id.clone())
                        .unwrap_or_default();
                    if live.contains(leg.as_str()) {
                        self.translator
                            .expect_agent_leg(leg.clone(), inbound.clone());
                        let bridged = bridge_members(&super::mixing_bridge_id(call_id))
                            .is_some_and(|members| {
                                members.contains(&inbound) && members.contains(&leg)
                            });
                        if !bridged {
                            self.connect(call_id, &leg).await;
                        }
                    } else {
                        tracing::info!(%call_id, "agent leg gone while we were away");
                        let command = CallCommand::EndBySystem {
                            reason: "agent channel gone from asterisk".to_owned(),
                            at,
                        };
                        let _ = self.call_command(call_id, command, &metadata, None).await?;
                    }
                }
                _ => {}
            }
        }
        // The mixing bridge of a call that is no longer connected, or the holding bridge of
        // one that is, has no use.
        for bridge in &bridges {
            if let Some((call_id, kind)) = parse_bridge_id(&bridge.id) {
                let useful = match (self.call_state(call_id), kind) {
                    (Some(CallState::Queued | CallState::Offered { .. }), BridgeKind::Holding) => {
                        true
                    }
                    (Some(CallState::Connected { .. }), BridgeKind::Mixing) => true,
                    (None, _) => true, // not live: destroyed above, or by its clean-up
                    _ => false,
                };
                if !useful {
                    self.destroy_bridge(&bridge.id).await;
                    if let Some(media) = self.media.get_mut(&call_id) {
                        match kind {
                            BridgeKind::Holding => media.holding = false,
                            BridgeKind::Mixing => media.mixing = false,
                        }
                    }
                }
            }
        }
        // New callers, and progress of the legs we follow, from the channels themselves.
        for fact in self.translator.reconcile(&channels, at) {
            self.on_fact(fact).await?;
        }
        self.react_to_own_events().await?;
        self.catch_up().await?;
        self.sweep_workers().await?;
        self.ready = true;
        tracing::info!(
            channels = channels.len(),
            bridges = bridges.len(),
            "resynchronised with asterisk"
        );
        Ok(())
    }
}

/// Whether a channel is an inbound call in our application (`Stasis(<app>,inbound,…)`).
fn is_inbound(channel: &ari_adapter::model::Channel) -> bool {
    channel.dialplan.app_name == "Stasis"
        && channel.dialplan.app_data.split(',').nth(1).map(str::trim) == Some("inbound")
}
