//! ARI events → telephony facts, with no I/O.
//!
//! [`Translator`] turns the raw, noisy and sometimes duplicated ARI event stream into a short list
//! of [`TelephonyFact`]s that a call-center dispatcher can act on without knowing ARI.
//!
//! # Which channels it follows
//! - An **inbound** channel is one whose `StasisStart` has `args[0] == "inbound"`
//!   (dialplan `Stasis(callcenter,inbound,…)`).
//! - An **agent leg** is one whose `StasisStart` has `args == ["agent", <inbound channel id>]`
//!   (`POST /channels/create?appArgs=agent,<id>`), or one registered with
//!   [`Translator::expect_agent_leg`]. Register legs that may never send `StasisStart` (an
//!   originate that is rejected with 486 Busy never enters Stasis) **before** the REST call that
//!   creates them, with the `channelId` you pass, so that no early event is missed.
//! - Every other channel is ignored.
//!
//! # Idempotence rule
//! A fact is emitted only when the translator's state takes a step forward, and state only moves
//! forward: per channel *known → in Stasis → ringing → answered → ended*, once each; per endpoint, a new state
//! differing from the last one emitted. Re-delivering an event that was already applied therefore
//! finds the step already taken and yields no fact. This absorbs the byte-identical duplicates an
//! `endpoint:` subscription causes and Asterisk's own repetitions (NOTES §2 item 2), and the many
//! `EndpointStateChange`s that only change `channel_ids` (NOTES §2 item 3).
//!
//! # Ending an agent leg before answer
//! A `Dial` status `BUSY`/`NOANSWER`/`CHANUNAVAIL`/`CONGESTION`/`CANCEL` ends it with that outcome.
//! Otherwise the Q.850 cause decides: `ChannelDestroyed.cause`, or at `StasisEnd` the cause of an
//! earlier non-soft `ChannelHangupRequest`. A `StasisEnd` with no cause known yet waits for the
//! `ChannelDestroyed` that Asterisk always sends for created and originated channels (NOTES §2 item 1).
//!
//! # Memory
//! A followed channel is remembered until [`Translator::forget`] is called (after the terminal
//! fact and cleanup), so late duplicates of its events are still recognised and ignored.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::{AriEvent, Channel, ChannelState, Endpoint, EndpointStateValue};

/// Why an agent leg ended before it was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum AgentLegOutcome {
    Busy,
    NoAnswer,
    Unreachable,
    Rejected,
    Congestion,
    /// We (or Asterisk on our behalf) cancelled the leg before it was answered.
    Cancelled,
    /// Anything else, described (a `Dial` status or a Q.850 cause).
    Other(String),
}

impl AgentLegOutcome {
    /// Maps a `Dial` event's `dialstatus`. `None` for statuses that are progress, not an end
    /// (`""`, `RINGING`, `PROGRESS`, `PROCEEDING`, `ANSWER`).
    pub fn from_dial_status(status: &str) -> Option<Self> {
        match status {
            "" | "RINGING" | "PROGRESS" | "PROCEEDING" | "ANSWER" => None,
            "BUSY" => Some(Self::Busy),
            "NOANSWER" => Some(Self::NoAnswer),
            "CHANUNAVAIL" => Some(Self::Unreachable),
            "CONGESTION" => Some(Self::Congestion),
            "CANCEL" => Some(Self::Cancelled),
            other => Some(Self::Other(format!("dial status {other}"))),
        }
    }

    /// Maps a Q.850 cause of a leg that ended before answer.
    pub fn from_q850_cause(cause: i64, cause_txt: &str) -> Self {
        match cause {
            17 => Self::Busy,
            18 | 19 => Self::NoAnswer,
            21 => Self::Rejected,
            34 | 42 => Self::Congestion,
            1 | 3 | 20 | 27 => Self::Unreachable,
            // Normal clearing before answer is a hang-up from our side; 26 = answered elsewhere.
            16 | 26 => Self::Cancelled,
            _ if cause_txt.is_empty() => Self::Other(format!("cause {cause}")),
            _ => Self::Other(format!("cause {cause} ({cause_txt})")),
        }
    }
}

/// What happened on the telephony side, in call-center terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "fact")]
pub enum TelephonyFact {
    /// An inbound call entered the application.
    CallerArrived {
        channel_id: String,
        caller_number: String,
        caller_name: String,
        at: DateTime<Utc>,
    },
    /// The inbound call left our control (hung up, or gone).
    CallerLeft {
        channel_id: String,
        at: DateTime<Utc>,
    },
    /// The agent leg entered our Stasis application (its `StasisStart`): it may be dialled
    /// now. `POST /channels/create` answers before this, and a dial sent earlier is refused
    /// 409 (NOTES §5).
    AgentLegReady {
        channel_id: String,
        inbound_channel_id: String,
        at: DateTime<Utc>,
    },
    /// The agent's phone is ringing.
    AgentLegRinging {
        channel_id: String,
        inbound_channel_id: String,
        at: DateTime<Utc>,
    },
    /// The agent picked up.
    AgentLegAnswered {
        channel_id: String,
        inbound_channel_id: String,
        at: DateTime<Utc>,
    },
    /// The agent leg ended before it was answered.
    AgentLegFailed {
        channel_id: String,
        inbound_channel_id: String,
        outcome: AgentLegOutcome,
        at: DateTime<Utc>,
    },
    /// The agent leg ended after it was answered.
    AgentLegHungUp {
        channel_id: String,
        inbound_channel_id: String,
        at: DateTime<Utc>,
    },
    /// An endpoint (a phone) changed reachability; `Online` means registered.
    EndpointState {
        technology: String,
        resource: String,
        state: EndpointStateValue,
        at: DateTime<Utc>,
    },
    /// Another WebSocket took over our application: this instance no longer receives its events.
    ApplicationReplaced {
        application: String,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    Inbound,
    AgentLeg { inbound_channel_id: String },
}

#[derive(Debug, Clone)]
struct TrackedChannel {
    role: Role,
    in_stasis: bool,
    ringing: bool,
    answered: bool,
    ended: bool,
    /// Q.850 cause of a non-soft `ChannelHangupRequest`.
    hangup_cause: Option<i64>,
}

impl TrackedChannel {
    fn new(role: Role) -> Self {
        Self {
            role,
            in_stasis: false,
            ringing: false,
            answered: false,
            ended: false,
            hangup_cause: None,
        }
    }
}

/// Pure, synchronous ARI → [`TelephonyFact`] translator. See the module docs for the rules.
#[derive(Debug, Default)]
pub struct Translator {
    channels: HashMap<String, TrackedChannel>,
    endpoints: HashMap<(String, String), EndpointStateValue>,
}

impl Translator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Follows `channel_id` as an agent leg for `inbound_channel_id` even if it never sends
    /// `StasisStart`. Call it before the REST call that creates the leg. No effect on a channel
    /// already followed.
    pub fn expect_agent_leg(
        &mut self,
        channel_id: impl Into<String>,
        inbound_channel_id: impl Into<String>,
    ) {
        let inbound_channel_id = inbound_channel_id.into();
        self.channels
            .entry(channel_id.into())
            .or_insert_with(|| TrackedChannel::new(Role::AgentLeg { inbound_channel_id }));
    }

    /// Stops following a channel (after its terminal fact and cleanup) so memory stays bounded.
    pub fn forget(&mut self, channel_id: &str) {
        self.channels.remove(channel_id);
    }

    /// How many channels are currently followed.
    pub fn tracked_channels(&self) -> usize {
        self.channels.len()
    }

    /// Brings the translator in line with `GET /channels` after a (re)connection, when events may
    /// have been lost. `at` is when the list was read.
    ///
    /// - A followed channel that is no longer live has ended: `CallerLeft`, `AgentLegHungUp`, or
    ///   `AgentLegFailed(Other("gone while disconnected"))` for an unanswered agent leg.
    /// - A live agent leg in state `Ringing` or `Up` gets the `AgentLegRinging` /
    ///   `AgentLegAnswered` it may have missed.
    /// - A live channel unknown to the translator that sits in `Stasis(<app>,inbound,…)` (read from
    ///   `dialplan.app_data`) gets `CallerArrived`.
    ///
    /// Like events, it only emits facts for steps not yet taken, so calling it twice is harmless.
    pub fn reconcile(
        &mut self,
        live_channels: &[Channel],
        at: DateTime<Utc>,
    ) -> Vec<TelephonyFact> {
        let mut facts = Vec::new();
        let mut gone: Vec<String> = self
            .channels
            .iter()
            .filter(|(id, tracked)| {
                !tracked.ended && !live_channels.iter().any(|channel| &channel.id == *id)
            })
            .map(|(id, _)| id.clone())
            .collect();
        gone.sort();
        for channel_id in gone {
            let Some(tracked) = self.channels.get_mut(&channel_id) else {
                continue;
            };
            tracked.ended = true;
            facts.push(match &tracked.role {
                Role::Inbound => TelephonyFact::CallerLeft { channel_id, at },
                Role::AgentLeg { inbound_channel_id } if tracked.answered => {
                    TelephonyFact::AgentLegHungUp {
                        channel_id,
                        inbound_channel_id: inbound_channel_id.clone(),
                        at,
                    }
                }
                Role::AgentLeg { inbound_channel_id } => TelephonyFact::AgentLegFailed {
                    channel_id,
                    inbound_channel_id: inbound_channel_id.clone(),
                    outcome: AgentLegOutcome::Other("gone while disconnected".into()),
                    at,
                },
            });
        }
        for channel in live_channels {
            let dialplan = &channel.dialplan;
            let is_inbound_in_stasis = dialplan.app_name == "Stasis"
                && dialplan.app_data.split(',').nth(1).map(str::trim) == Some("inbound");
            if is_inbound_in_stasis && !self.channels.contains_key(&channel.id) {
                self.channels
                    .insert(channel.id.clone(), TrackedChannel::new(Role::Inbound));
                facts.push(TelephonyFact::CallerArrived {
                    channel_id: channel.id.clone(),
                    caller_number: channel.caller.number.clone(),
                    caller_name: channel.caller.name.clone(),
                    at,
                });
            }
            self.agent_leg_progress(channel, at, &mut facts);
        }
        facts
    }

    /// The facts this event adds; empty for noise, unknown channels and repeated events.
    pub fn translate(&mut self, event: &AriEvent) -> Vec<TelephonyFact> {
        let mut facts = Vec::new();
        match event {
            AriEvent::StasisStart(start) => {
                let at = start.meta.timestamp;
                let channel = &start.channel;
                let first = start.args.first().map(String::as_str);
                match (first, start.args.get(1)) {
                    (Some("inbound"), _) if !self.channels.contains_key(&channel.id) => {
                        self.channels
                            .insert(channel.id.clone(), TrackedChannel::new(Role::Inbound));
                        facts.push(TelephonyFact::CallerArrived {
                            channel_id: channel.id.clone(),
                            caller_number: channel.caller.number.clone(),
                            caller_name: channel.caller.name.clone(),
                            at,
                        });
                    }
                    (Some("agent"), Some(inbound)) if !inbound.is_empty() => {
                        self.expect_agent_leg(channel.id.clone(), inbound.clone());
                        // A created leg enters Stasis Down, waiting to be dialled (an
                        // originated one only once answered: nothing to dial).
                        if channel.state == ChannelState::Down {
                            self.agent_leg_ready(&channel.id, at, &mut facts);
                        }
                    }
                    _ => {}
                }
                // An originated leg enters Stasis only once answered (state Up).
                self.agent_leg_progress(channel, at, &mut facts);
            }
            AriEvent::ChannelStateChange(change) => {
                self.agent_leg_progress(&change.channel, change.meta.timestamp, &mut facts);
            }
            AriEvent::Dial(dial) => {
                self.dial(
                    &dial.peer.id,
                    &dial.dialstatus,
                    dial.meta.timestamp,
                    &mut facts,
                );
            }
            AriEvent::ChannelHangupRequest(request) => {
                if let Some(tracked) = self.channels.get_mut(&request.channel.id) {
                    // With `soft`, the cause is a soft-hangup flag (32), not a Q.850 cause.
                    if request.soft != Some(true) {
                        if let Some(cause) = request.cause {
                            tracked.hangup_cause = Some(cause);
                        }
                    }
                }
            }
            AriEvent::StasisEnd(end) => {
                self.channel_gone(&end.channel.id, None, end.meta.timestamp, &mut facts);
            }
            AriEvent::ChannelDestroyed(destroyed) => {
                let cause = Some((destroyed.cause, destroyed.cause_txt.as_str()));
                self.channel_gone(
                    &destroyed.channel.id,
                    cause,
                    destroyed.meta.timestamp,
                    &mut facts,
                );
            }
            AriEvent::EndpointStateChange(change) => {
                self.endpoint(&change.endpoint, change.meta.timestamp, &mut facts);
            }
            // These carry the same endpoint snapshot; a subscribeAll socket gets them but no
            // EndpointStateChange (NOTES §2 item 4).
            AriEvent::PeerStatusChange(change) => {
                self.endpoint(&change.endpoint, change.meta.timestamp, &mut facts);
            }
            AriEvent::ContactStatusChange(change) => {
                self.endpoint(&change.endpoint, change.meta.timestamp, &mut facts);
            }
            AriEvent::ApplicationReplaced(replaced) => {
                facts.push(TelephonyFact::ApplicationReplaced {
                    application: replaced.meta.application.clone(),
                    at: replaced.meta.timestamp,
                });
            }
            _ => {}
        }
        facts
    }

    fn agent_leg_progress(
        &mut self,
        channel: &Channel,
        at: DateTime<Utc>,
        facts: &mut Vec<TelephonyFact>,
    ) {
        match channel.state {
            ChannelState::Ringing => self.agent_leg_ringing(&channel.id, at, facts),
            ChannelState::Up => self.agent_leg_answered(&channel.id, at, facts),
            _ => {}
        }
    }

    fn dial(
        &mut self,
        peer_id: &str,
        status: &str,
        at: DateTime<Utc>,
        facts: &mut Vec<TelephonyFact>,
    ) {
        match status {
            "RINGING" => self.agent_leg_ringing(peer_id, at, facts),
            "ANSWER" => self.agent_leg_answered(peer_id, at, facts),
            _ => {
                if let Some(outcome) = AgentLegOutcome::from_dial_status(status) {
                    let cause = self
                        .channels
                        .get(peer_id)
                        .and_then(|tracked| tracked.hangup_cause);
                    let outcome = match (outcome, cause) {
                        // CHANUNAVAIL is Asterisk's catch-all: a phone that declined (603,
                        // cause 21), was busy or did not answer says so in the cause of the
                        // `ChannelHangupRequest` just before.
                        (AgentLegOutcome::Unreachable, Some(cause @ (17 | 18 | 19 | 21))) => {
                            AgentLegOutcome::from_q850_cause(cause, "")
                        }
                        (outcome, _) => outcome,
                    };
                    self.agent_leg_failed(peer_id, outcome, at, facts);
                }
            }
        }
    }

    fn live_agent_leg(&mut self, channel_id: &str) -> Option<(&mut TrackedChannel, String)> {
        let tracked = self.channels.get_mut(channel_id)?;
        match &tracked.role {
            Role::AgentLeg { inbound_channel_id } if !tracked.ended => {
                let inbound_channel_id = inbound_channel_id.clone();
                Some((tracked, inbound_channel_id))
            }
            _ => None,
        }
    }

    fn agent_leg_ready(
        &mut self,
        channel_id: &str,
        at: DateTime<Utc>,
        facts: &mut Vec<TelephonyFact>,
    ) {
        if let Some((tracked, inbound_channel_id)) = self.live_agent_leg(channel_id) {
            if !tracked.in_stasis {
                tracked.in_stasis = true;
                facts.push(TelephonyFact::AgentLegReady {
                    channel_id: channel_id.to_owned(),
                    inbound_channel_id,
                    at,
                });
            }
        }
    }

    fn agent_leg_ringing(
        &mut self,
        channel_id: &str,
        at: DateTime<Utc>,
        facts: &mut Vec<TelephonyFact>,
    ) {
        if let Some((tracked, inbound_channel_id)) = self.live_agent_leg(channel_id) {
            if !tracked.ringing && !tracked.answered {
                tracked.ringing = true;
                facts.push(TelephonyFact::AgentLegRinging {
                    channel_id: channel_id.to_owned(),
                    inbound_channel_id,
                    at,
                });
            }
        }
    }

    fn agent_leg_answered(
        &mut self,
        channel_id: &str,
        at: DateTime<Utc>,
        facts: &mut Vec<TelephonyFact>,
    ) {
        if let Some((tracked, inbound_channel_id)) = self.live_agent_leg(channel_id) {
            if !tracked.answered {
                tracked.answered = true;
                facts.push(TelephonyFact::AgentLegAnswered {
                    channel_id: channel_id.to_owned(),
                    inbound_channel_id,
                    at,
                });
            }
        }
    }

    fn agent_leg_failed(
        &mut self,
        channel_id: &str,
        outcome: AgentLegOutcome,
        at: DateTime<Utc>,
        facts: &mut Vec<TelephonyFact>,
    ) {
        if let Some((tracked, inbound_channel_id)) = self.live_agent_leg(channel_id) {
            if !tracked.answered {
                tracked.ended = true;
                facts.push(TelephonyFact::AgentLegFailed {
                    channel_id: channel_id.to_owned(),
                    inbound_channel_id,
                    outcome,
                    at,
                });
            }
        }
    }

    /// `StasisEnd` (`cause` = None) or `ChannelDestroyed` (`cause` = its Q.850 cause).
    fn channel_gone(
        &mut self,
        channel_id: &str,
        cause: Option<(i64, &str)>,
        at: DateTime<Utc>,
        facts: &mut Vec<TelephonyFact>,
    ) {
        let Some(tracked) = self.channels.get_mut(channel_id) else {
            return;
        };
        if tracked.ended {
            return;
        }
        match &tracked.role {
            Role::Inbound => {
                tracked.ended = true;
                facts.push(TelephonyFact::CallerLeft {
                    channel_id: channel_id.to_owned(),
                    at,
                });
            }
            Role::AgentLeg { inbound_channel_id } if tracked.answered => {
                let inbound_channel_id = inbound_channel_id.clone();
                tracked.ended = true;
                facts.push(TelephonyFact::AgentLegHungUp {
                    channel_id: channel_id.to_owned(),
                    inbound_channel_id,
                    at,
                });
            }
            Role::AgentLeg { inbound_channel_id } => {
                let outcome = match (cause, tracked.hangup_cause) {
                    (Some((cause, cause_txt)), _) => {
                        AgentLegOutcome::from_q850_cause(cause, cause_txt)
                    }
                    (None, Some(cause)) => AgentLegOutcome::from_q850_cause(cause, ""),
                    // StasisEnd without a known cause: wait for ChannelDestroyed.
                    (None, None) => return,
                };
                let inbound_channel_id = inbound_channel_id.clone();
                tracked.ended = true;
                facts.push(TelephonyFact::AgentLegFailed {
                    channel_id: channel_id.to_owned(),
                    inbound_channel_id,
                    outcome,
                    at,
                });
            }
        }
    }

    fn endpoint(&mut self, endpoint: &Endpoint, at: DateTime<Utc>, facts: &mut Vec<TelephonyFact>) {
        let state = endpoint.state_or_unknown();
        let key = (endpoint.technology.clone(), endpoint.resource.clone());
        if self.endpoints.insert(key, state) != Some(state) {
            facts.push(TelephonyFact::EndpointState {
                technology: endpoint.technology.clone(),
                resource: endpoint.resource.clone(),
                state,
                at,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::decode_event;
    use serde_json::json;

    const AT: &str = "2026-11-27T04:06:28.593+0000";

    fn channel(id: &str, state: &str) -> serde_json::Value {
        json!({"id": id, "name": "PJSIP/x", "state": state,
               "caller": {"name": "Ann", "number": "+15550001"}})
    }

    fn event(type_name: &str, fields: serde_json::Value) -> AriEvent {
        let mut raw = json!({"type": type_name, "timestamp": AT, "application": "callcenter"});
        if let (Some(raw), Some(fields)) = (raw.as_object_mut(), fields.as_object()) {
            raw.extend(fields.clone());
        }
        decode_event(&raw.to_string()).expect("test event decodes")
    }

    fn feed(translator: &mut Translator, events: &[AriEvent]) -> Vec<TelephonyFact> {
        events
            .iter()
            .flat_map(|e| translator.translate(e))
            .collect()
    }

    fn outcomes(facts: &[TelephonyFact]) -> Vec<AgentLegOutcome> {
        facts
            .iter()
            .filter_map(|fact| match fact {
                TelephonyFact::AgentLegFailed { outcome, .. } => Some(outcome.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn q850_causes_map_to_agent_leg_outcomes() {
        let cases = [
            (17, AgentLegOutcome::Busy),
            (18, AgentLegOutcome::NoAnswer),
            (19, AgentLegOutcome::NoAnswer),
            (21, AgentLegOutcome::Rejected),
            (34, AgentLegOutcome::Congestion),
            (20, AgentLegOutcome::Unreachable),
            (16, AgentLegOutcome::Cancelled),
            (
                58,
                AgentLegOutcome::Other("cause 58 (Bearer capability not available)".into()),
            ),
        ];
        for (cause, expected) in cases {
            let text = if cause == 58 {
                "Bearer capability not available"
            } else {
                ""
            };
            assert_eq!(
                AgentLegOutcome::from_q850_cause(cause, text),
                expected,
                "cause {cause}"
            );
        }
    }

    #[test]
    fn dial_statuses_map_to_outcomes_and_progress_is_not_an_end() {
        for progress in ["", "RINGING", "PROGRESS", "PROCEEDING", "ANSWER"] {
            assert_eq!(AgentLegOutcome::from_dial_status(progress), None);
        }
        assert_eq!(
            AgentLegOutcome::from_dial_status("NOANSWER"),
            Some(AgentLegOutcome::NoAnswer)
        );
        assert_eq!(
            AgentLegOutcome::from_dial_status("CHANUNAVAIL"),
            Some(AgentLegOutcome::Unreachable)
        );
        assert_eq!(
            AgentLegOutcome::from_dial_status("CANCEL"),
            Some(AgentLegOutcome::Cancelled)
        );
    }

    #[test]
    fn a_declined_leg_is_rejected_not_unreachable() {
        let mut translator = Translator::new();
        translator.expect_agent_leg("leg", "in");
        let declined = [
            event(
                "ChannelHangupRequest",
                json!({"cause": 21, "channel": channel("leg", "Ringing")}),
            ),
            event(
                "Dial",
                json!({"dialstatus": "CHANUNAVAIL", "peer": channel("leg", "Ringing")}),
            ),
        ];
        assert_eq!(
            outcomes(&feed(&mut translator, &declined)),
            [AgentLegOutcome::Rejected]
        );
        // Without a cause, CHANUNAVAIL stays "unreachable".
        let mut translator = Translator::new();
        translator.expect_agent_leg("leg", "in");
        let unavailable = event(
            "Dial",
            json!({"dialstatus": "CHANUNAVAIL", "peer": channel("leg", "Down")}),
        );
        assert_eq!(
            outcomes(&feed(&mut translator, &[unavailable])),
            [AgentLegOutcome::Unreachable]
        );
    }

    #[test]
    fn a_stasis_end_without_a_cause_waits_for_channel_destroyed() {
        let mut translator = Translator::new();
        translator.expect_agent_leg("leg", "in");
        let stasis_end = event("StasisEnd", json!({"channel": channel("leg", "Ringing")}));
        assert_eq!(outcomes(&feed(&mut translator, &[stasis_end])), []);
        let destroyed = event(
            "ChannelDestroyed",
            json!({"cause": 19, "cause_txt": "No user responding", "channel": channel("leg", "Ringing")}),
        );
        assert_eq!(
            outcomes(&feed(&mut translator, &[destroyed.clone(), destroyed])),
            [AgentLegOutcome::NoAnswer]
        );
    }

    #[test]
    fn a_hard_hangup_cause_decides_at_stasis_end_but_a_soft_one_is_only_a_flag() {
        let mut translator = Translator::new();
        translator.expect_agent_leg("soft", "in");
        translator.expect_agent_leg("hard", "in");
        let facts = feed(
            &mut translator,
            &[
                event(
                    "ChannelHangupRequest",
                    json!({"cause": 32, "soft": true, "channel": channel("soft", "Ringing")}),
                ),
                event("StasisEnd", json!({"channel": channel("soft", "Ringing")})),
                event(
                    "ChannelHangupRequest",
                    json!({"cause": 21, "channel": channel("hard", "Ringing")}),
                ),
                event("StasisEnd", json!({"channel": channel("hard", "Ringing")})),
            ],
        );
        assert_eq!(facts.len(), 1, "{facts:?}");
        assert!(
            matches!(&facts[0], TelephonyFact::AgentLegFailed { channel_id, outcome: AgentLegOutcome::Rejected, .. } if channel_id == "hard")
        );
    }

    #[test]
    fn an_originated_leg_entering_stasis_answered_is_reported_answered_once() {
        let mut translator = Translator::new();
        translator.expect_agent_leg("leg", "in");
        let start = event(
            "StasisStart",
            json!({"args": ["agent", "in"], "channel": channel("leg", "Up")}),
        );
        let dial = event(
            "Dial",
            json!({"dialstatus": "ANSWER", "peer": channel("leg", "Up")}),
        );
        let facts = feed(&mut translator, &[start, dial]);
        assert_eq!(facts.len(), 1);
        assert!(
            matches!(&facts[0], TelephonyFact::AgentLegAnswered { inbound_channel_id, .. } if inbound_channel_id == "in")
        );
    }

    #[test]
    fn unknown_channels_and_noise_yield_nothing() {
        let mut translator = Translator::new();
        let facts = feed(
            &mut translator,
            &[
                event(
                    "StasisStart",
                    json!({"args": ["other"], "channel": channel("x", "Ring")}),
                ),
                event(
                    "StasisStart",
                    json!({"args": ["agent"], "channel": channel("y", "Down")}),
                ),
                event(
                    "Dial",
                    json!({"dialstatus": "BUSY", "peer": channel("z", "Ringing")}),
                ),
                event(
                    "ChannelDestroyed",
                    json!({"cause": 17, "cause_txt": "User busy", "channel": channel("z", "Ringing")}),
                ),
                event("ChannelVarset", json!({"variable": "A", "value": "b"})),
            ],
        );
        assert_eq!(facts, []);
        assert_eq!(translator.tracked_channels(), 0);
    }

    #[test]
    fn a_caller_leaves_once_whether_stasis_end_or_channel_destroyed_comes_first() {
        let mut translator = Translator::new();
        let facts = feed(
            &mut translator,
            &[
                event(
                    "StasisStart",
                    json!({"args": ["inbound", "100"], "channel": channel("in", "Ring")}),
                ),
                event(
                    "ChannelDestroyed",
                    json!({"cause": 16, "cause_txt": "Normal Clearing", "channel": channel("in", "Up")}),
                ),
                event("StasisEnd", json!({"channel": channel("in", "Up")})),
            ],
        );
        let left = facts
            .iter()
            .filter(|f| matches!(f, TelephonyFact::CallerLeft { .. }))
            .count();
        assert_eq!(left, 1);
    }

    #[test]
    fn reconciling_with_the_live_channels_closes_what_is_gone_and_adds_what_was_missed() {
        let mut translator = Translator::new();
        translator.expect_agent_leg("ringing-leg", "gone-caller");
        translator.expect_agent_leg("answered-leg", "live-caller");
        feed(
            &mut translator,
            &[
                event(
                    "StasisStart",
                    json!({"args": ["inbound"], "channel": channel("gone-caller", "Ring")}),
                ),
                event(
                    "StasisStart",
                    json!({"args": ["inbound"], "channel": channel("live-caller", "Up")}),
                ),
            ],
        );
        let at = crate::model::ari_time::parse(AT).expect("timestamp");
        let mut new_caller: Channel =
            serde_json::from_value(channel("new-caller", "Ring")).expect("channel");
        new_caller.dialplan.app_name = "Stasis".into();
        new_caller.dialplan.app_data = "callcenter,inbound,100".into();
        let live = [
            new_caller,
            serde_json::from_value(channel("live-caller", "Up")).expect("channel"),
            serde_json::from_value(channel("answered-leg", "Up")).expect("channel"),
        ];
        let facts = translator.reconcile(&live, at);
        let summary: Vec<String> = facts
            .iter()
            .map(|fact| match fact {
                TelephonyFact::CallerArrived { channel_id, .. } => format!("arrived {channel_id}"),
                TelephonyFact::CallerLeft { channel_id, .. } => format!("left {channel_id}"),
                TelephonyFact::AgentLegAnswered { channel_id, .. } => {
                    format!("answered {channel_id}")
                }
                TelephonyFact::AgentLegFailed { channel_id, .. } => format!("failed {channel_id}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            summary,
            [
                "left gone-caller",
                "failed ringing-leg",
                "arrived new-caller",
                "answered answered-leg"
            ]
        );
        assert_eq!(translator.reconcile(&live, at), []);
    }

    #[test]
    fn application_replaced_is_a_fact() {
        let mut translator = Translator::new();
        let facts = feed(&mut translator, &[event("ApplicationReplaced", json!({}))]);
        assert!(
            matches!(&facts[..], [TelephonyFact::ApplicationReplaced { application, .. }] if application == "callcenter")
        );
    }
}
