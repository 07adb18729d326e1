//! ARI wire types: the JSON objects Asterisk sends on REST responses and on the events WebSocket.
//!
//! Decoding is lenient on purpose (see `ari-spec/NOTES.md`): unknown fields are ignored, fields the
//! spec marks optional are `Option`, most string fields default to `""` when absent, and an event
//! whose `type` is not one we model becomes [`AriEvent::Other`] with its raw JSON. Timestamps come in
//! Asterisk's `2026-11-27T04:06:28.593+0000` form (no colon in the offset); RFC 3339 is accepted too.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Serde helpers for Asterisk's `Date` strings.
pub mod ari_time {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// The format Asterisk writes: milliseconds and an offset without a colon.
    pub const ASTERISK_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3f%z";

    /// Parses `2026-11-27T04:06:28.593+0000` (Asterisk) or any RFC 3339 timestamp.
    pub fn parse(text: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
            .or_else(|_| DateTime::parse_from_rfc3339(text))
            .ok()
            .map(|parsed| parsed.with_timezone(&Utc))
    }

    /// Formats the way Asterisk does.
    pub fn format(at: &DateTime<Utc>) -> String {
        at.format(ASTERISK_FORMAT).to_string()
    }

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text).ok_or_else(|| serde::de::Error::custom(format!("invalid timestamp {text:?}")))
    }

    /// The same for `Option<DateTime<Utc>>` fields (absent or null is `None`).
    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            at: &Option<DateTime<Utc>>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match at {
                Some(at) => super::serialize(at, serializer),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            match Option::<String>::deserialize(deserializer)? {
                None => Ok(None),
                Some(text) => super::parse(&text)
                    .map(Some)
                    .ok_or_else(|| serde::de::Error::custom(format!("invalid timestamp {text:?}"))),
            }
        }
    }
}

/// `Channel.state`. Unknown values are kept verbatim in `Other`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ChannelState {
    Down,
    Rsrved,
    OffHook,
    Dialing,
    Ring,
    Ringing,
    Up,
    Busy,
    DialingOffhook,
    PreRing,
    #[default]
    Unknown,
    Other(String),
}

impl From<String> for ChannelState {
    fn from(text: String) -> Self {
        match text.as_str() {
            "Down" => Self::Down,
            "Rsrved" => Self::Rsrved,
            "OffHook" => Self::OffHook,
            "Dialing" => Self::Dialing,
            "Ring" => Self::Ring,
            "Ringing" => Self::Ringing,
            "Up" => Self::Up,
            "Busy" => Self::Busy,
            "Dialing Offhook" => Self::DialingOffhook,
            "Pre-ring" => Self::PreRing,
            "Unknown" => Self::Unknown,
            _ => Self::Other(text),
        }
    }
}

impl From<ChannelState> for String {
    fn from(state: ChannelState) -> Self {
        match state {
            ChannelState::Down => "Down".into(),
            ChannelState::Rsrved => "Rsrved".into(),
            ChannelState::OffHook => "OffHook".into(),
            ChannelState::Dialing => "Dialing".into(),
            ChannelState::Ring => "Ring".into(),
            ChannelState::Ringing => "Ringing".into(),
            ChannelState::Up => "Up".into(),
            ChannelState::Busy => "Busy".into(),
            ChannelState::DialingOffhook => "Dialing Offhook".into(),
            ChannelState::PreRing => "Pre-ring".into(),
            ChannelState::Unknown => "Unknown".into(),
            ChannelState::Other(text) => text,
        }
    }
}

/// `CallerID`: a name and a number, both possibly empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerId {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub number: String,
}

/// `DialplanCEP`: where a channel is in the dialplan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialplanCep {
    #[serde(default)]
    pub context: String,
    #[serde(default)]
    pub exten: String,
    #[serde(default)]
    pub priority: i64,
    #[serde(default)]
    pub app_name: String,
    #[serde(default)]
    pub app_data: String,
}

/// `Channel`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    pub id: String,
    #[serde(default)]
    pub protocol_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub state: ChannelState,
    #[serde(default)]
    pub caller: CallerId,
    #[serde(default)]
    pub connected: CallerId,
    #[serde(default)]
    pub accountcode: String,
    #[serde(default)]
    pub dialplan: DialplanCep,
    #[serde(
        default,
        with = "ari_time::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub creationtime: Option<DateTime<Utc>>,
    #[serde(default)]
    pub language: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channelvars: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_rdnis: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenantid: Option<String>,
}

/// `Bridge`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bridge {
    pub id: String,
    #[serde(default)]
    pub technology: String,
    #[serde(default)]
    pub bridge_type: String,
    #[serde(default)]
    pub bridge_class: String,
    #[serde(default)]
    pub creator: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_source_id: Option<String>,
    #[serde(
        default,
        with = "ari_time::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub creationtime: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridgevars: Option<Value>,
}

/// `Endpoint.state`; an absent state means `Unknown` (NOTES §5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointStateValue {
    Online,
    Offline,
    #[default]
    #[serde(other)]
    Unknown,
}

/// `Endpoint`: a phone or trunk as the channel driver sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    #[serde(default)]
    pub technology: String,
    #[serde(default)]
    pub resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<EndpointStateValue>,
    #[serde(default)]
    pub channel_ids: Vec<String>,
}

impl Endpoint {
    /// The state, absent meaning unknown.
    pub fn state_or_unknown(&self) -> EndpointStateValue {
        self.state.unwrap_or_default()
    }
}

/// `DeviceState`: `state` is one of `UNKNOWN`, `NOT_INUSE`, `INUSE`, `BUSY`, `INVALID`,
/// `UNAVAILABLE`, `RINGING`, `RINGINUSE`, `ONHOLD` (kept as text).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceState {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub state: String,
}

/// `Playback`: `state` is `queued`, `playing`, `continuing`, `done` or `failed` (kept as text).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Playback {
    pub id: String,
    #[serde(default)]
    pub media_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_media_uri: Option<String>,
    #[serde(default)]
    pub target_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default)]
    pub state: String,
}

/// `Peer` (in `PeerStatusChange`); values are channel-driver specific.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    #[serde(default)]
    pub peer_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

/// `ContactInfo` (in `ContactStatusChange`, PJSIP only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactInfo {
    #[serde(default)]
    pub uri: String,
    #[serde(default)]
    pub contact_status: String,
    #[serde(default)]
    pub aor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roundtrip_usec: Option<String>,
}

/// The fields every `Event` carries besides `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMeta {
    #[serde(default)]
    pub application: String,
    #[serde(with = "ari_time")]
    pub timestamp: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asterisk_id: Option<String>,
}

macro_rules! event_struct {
    ($(#[$doc:meta])* $name:ident { $($body:tt)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            #[serde(flatten)]
            pub meta: EventMeta,
            $($body)*
        }
    };
}

event_struct!(
    /// A channel entered the Stasis application; `args` are the `Stasis()` or `appArgs` arguments.
    StasisStart {
        #[serde(default)]
        pub args: Vec<String>,
        pub channel: Channel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub replace_channel: Option<Box<Channel>>,
    }
);
event_struct!(
    /// A channel left the Stasis application (the last event for a dialplan channel).
    StasisEnd {
        pub channel: Channel,
    }
);
event_struct!(
    /// A channel changed state; the new state is `channel.state`.
    ChannelStateChange {
        pub channel: Channel,
    }
);
event_struct!(
    /// A channel was created (seen with `endpoint:` subscriptions or `subscribeAll`).
    ChannelCreated {
        pub channel: Channel,
    }
);
event_struct!(
    /// A channel was destroyed; `cause` is a Q.850 cause code.
    ChannelDestroyed {
        #[serde(default)]
        pub cause: i64,
        #[serde(default)]
        pub cause_txt: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tech_cause: Option<i64>,
        pub channel: Channel,
    }
);
event_struct!(
    /// A hangup was requested. With `soft: true`, `cause` 32 is a soft-hangup flag, not Q.850.
    ChannelHangupRequest {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cause: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tech_cause: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub soft: Option<bool>,
        pub channel: Channel,
    }
);
event_struct!(
    /// A channel entered a bridge; `bridge.channels` already includes it.
    ChannelEnteredBridge {
        pub bridge: Bridge,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<Channel>,
    }
);
event_struct!(
    /// A channel left a bridge.
    ChannelLeftBridge {
        pub bridge: Bridge,
        pub channel: Channel,
    }
);
event_struct!(
    /// A DTMF digit ended on a channel.
    ChannelDtmfReceived {
        #[serde(default)]
        pub digit: String,
        #[serde(default)]
        pub duration_ms: i64,
        pub channel: Channel,
    }
);
event_struct!(
    /// Progress of an outbound leg; `peer` is the dialed channel.
    Dial {
        pub peer: Channel,
        #[serde(default)]
        pub dialstatus: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub caller: Option<Box<Channel>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub forward: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub forwarded: Option<Box<Channel>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub dialstring: Option<String>,
    }
);
event_struct!(
    /// A playback started, continued to the next media item, or finished (`done` or `failed`).
    PlaybackEvent {
        pub playback: Playback,
    }
);
event_struct!(
    /// An endpoint snapshot changed (state or only `channel_ids`).
    EndpointStateChange {
        pub endpoint: Endpoint,
    }
);
event_struct!(
    /// A device state changed.
    DeviceStateChanged {
        pub device_state: DeviceState,
    }
);
event_struct!(
    /// A peer's registration or reachability changed.
    PeerStatusChange {
        pub endpoint: Endpoint,
        pub peer: Peer,
    }
);
event_struct!(
    /// A PJSIP contact's status changed.
    ContactStatusChange {
        pub endpoint: Endpoint,
        pub contact_info: ContactInfo,
    }
);
event_struct!(
    /// A bridge was created or destroyed.
    BridgeEvent {
        pub bridge: Bridge,
    }
);
event_struct!(
    /// Another WebSocket took over this application; this socket gets no more events for it.
    ApplicationReplaced {}
);

/// One message from the events WebSocket.
#[derive(Debug, Clone, PartialEq)]
pub enum AriEvent {
    StasisStart(StasisStart),
    StasisEnd(StasisEnd),
    ChannelCreated(ChannelCreated),
    ChannelStateChange(ChannelStateChange),
    ChannelDestroyed(ChannelDestroyed),
    ChannelHangupRequest(ChannelHangupRequest),
    ChannelEnteredBridge(ChannelEnteredBridge),
    ChannelLeftBridge(ChannelLeftBridge),
    ChannelDtmfReceived(ChannelDtmfReceived),
    Dial(Dial),
    PlaybackStarted(PlaybackEvent),
    PlaybackContinuing(PlaybackEvent),
    PlaybackFinished(PlaybackEvent),
    EndpointStateChange(EndpointStateChange),
    DeviceStateChanged(DeviceStateChanged),
    PeerStatusChange(PeerStatusChange),
    ContactStatusChange(ContactStatusChange),
    BridgeCreated(BridgeEvent),
    BridgeDestroyed(BridgeEvent),
    ApplicationReplaced(ApplicationReplaced),
    /// Any other `type` (`ChannelVarset`, `ChannelDialplan`, types added by later releases, …).
    Other {
        type_name: String,
        raw: Value,
    },
}

/// Why a WebSocket text frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("event is not valid json: {0}")]
    NotJson(String),
    #[error("event is not a json object with a string `type`")]
    NoType,
    #[error("malformed {type_name} event: {reason}")]
    Malformed { type_name: String, reason: String },
}

/// Decodes one WebSocket text frame. Never panics; unknown `type`s become [`AriEvent::Other`].
pub fn decode_event(text: &str) -> Result<AriEvent, DecodeError> {
    let raw: Value =
        serde_json::from_str(text).map_err(|error| DecodeError::NotJson(error.to_string()))?;
    decode_event_value(raw)
}

/// Like [`decode_event`], from already-parsed JSON.
pub fn decode_event_value(raw: Value) -> Result<AriEvent, DecodeError> {
    let type_name = raw
        .as_object()
        .and_then(|object| object.get("type"))
        .and_then(Value::as_str)
        .ok_or(DecodeError::NoType)?
        .to_owned();

    fn body<T: serde::de::DeserializeOwned>(type_name: &str, raw: Value) -> Result<T, DecodeError> {
        serde_json::from_value(raw).map_err(|error| DecodeError::Malformed {
            type_name: type_name.to_owned(),
            reason: error.to_string(),
        })
    }

    let name = type_name.as_str();
    Ok(match name {
        "StasisStart" => AriEvent::StasisStart(body(name, raw)?),
        "StasisEnd" => AriEvent::StasisEnd(body(name, raw)?),
        "ChannelCreated" => AriEvent::ChannelCreated(body(name, raw)?),
        "ChannelStateChange" => AriEvent::ChannelStateChange(body(name, raw)?),
        "ChannelDestroyed" => AriEvent::ChannelDestroyed(body(name, raw)?),
        "ChannelHangupRequest" => AriEvent::ChannelHangupRequest(body(name, raw)?),
        "ChannelEnteredBridge" => AriEvent::ChannelEnteredBridge(body(name, raw)?),
        "ChannelLeftBridge" => AriEvent::ChannelLeftBridge(body(name, raw)?),
        "ChannelDtmfReceived" => AriEvent::ChannelDtmfReceived(body(name, raw)?),
        "Dial" => AriEvent::Dial(body(name, raw)?),
        "PlaybackStarted" => AriEvent::PlaybackStarted(body(name, raw)?),
        "PlaybackContinuing" => AriEvent::PlaybackContinuing(body(name, raw)?),
        "PlaybackFinished" => AriEvent::PlaybackFinished(body(name, raw)?),
        "EndpointStateChange" => AriEvent::EndpointStateChange(body(name, raw)?),
        "DeviceStateChanged" => AriEvent::DeviceStateChanged(body(name, raw)?),
        "PeerStatusChange" => AriEvent::PeerStatusChange(body(name, raw)?),
        "ContactStatusChange" => AriEvent::ContactStatusChange(body(name, raw)?),
        "BridgeCreated" => AriEvent::BridgeCreated(body(name, raw)?),
        "BridgeDestroyed" => AriEvent::BridgeDestroyed(body(name, raw)?),
        "ApplicationReplaced" => AriEvent::ApplicationReplaced(body(name, raw)?),
        _ => AriEvent::Other { type_name, raw },
    })
}

impl AriEvent {
    /// The ARI `type` of this event.
    pub fn type_name(&self) -> &str {
        match self {
            Self::StasisStart(_) => "StasisStart",
            Self::StasisEnd(_) => "StasisEnd",
            Self::ChannelCreated(_) => "ChannelCreated",
            Self::ChannelStateChange(_) => "ChannelStateChange",
            Self::ChannelDestroyed(_) => "ChannelDestroyed",
            Self::ChannelHangupRequest(_) => "ChannelHangupRequest",
            Self::ChannelEnteredBridge(_) => "ChannelEnteredBridge",
            Self::ChannelLeftBridge(_) => "ChannelLeftBridge",
            Self::ChannelDtmfReceived(_) => "ChannelDtmfReceived",
            Self::Dial(_) => "Dial",
            Self::PlaybackStarted(_) => "PlaybackStarted",
            Self::PlaybackContinuing(_) => "PlaybackContinuing",
            Self::PlaybackFinished(_) => "PlaybackFinished",
            Self::EndpointStateChange(_) => "EndpointStateChange",
            Self::DeviceStateChanged(_) => "DeviceStateChanged",
            Self::PeerStatusChange(_) => "PeerStatusChange",
            Self::ContactStatusChange(_) => "ContactStatusChange",
            Self::BridgeCreated(_) => "BridgeCreated",
            Self::BridgeDestroyed(_) => "BridgeDestroyed",
            Self::ApplicationReplaced(_) => "ApplicationReplaced",
            Self::Other { type_name, .. } => type_name,
        }
    }

    /// The common event fields; `None` for [`AriEvent::Other`].
    pub fn meta(&self) -> Option<&EventMeta> {
        Some(match self {
            Self::StasisStart(event) => &event.meta,
            Self::StasisEnd(event) => &event.meta,
            Self::ChannelCreated(event) => &event.meta,
            Self::ChannelStateChange(event) => &event.meta,
            Self::ChannelDestroyed(event) => &event.meta,
            Self::ChannelHangupRequest(event) => &event.meta,
            Self::ChannelEnteredBridge(event) => &event.meta,
            Self::ChannelLeftBridge(event) => &event.meta,
            Self::ChannelDtmfReceived(event) => &event.meta,
            Self::Dial(event) => &event.meta,
            Self::PlaybackStarted(event)
            | Self::PlaybackContinuing(event)
            | Self::PlaybackFinished(event) => &event.meta,
            Self::EndpointStateChange(event) => &event.meta,
            Self::DeviceStateChanged(event) => &event.meta,
            Self::PeerStatusChange(event) => &event.meta,
            Self::ContactStatusChange(event) => &event.meta,
            Self::BridgeCreated(event) | Self::BridgeDestroyed(event) => &event.meta,
            Self::ApplicationReplaced(event) => &event.meta,
            Self::Other { .. } => return None,
        })
    }

    /// The event's timestamp (for `Other`, read from the raw JSON when it parses).
    pub fn timestamp(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::Other { raw, .. } => raw
                .get("timestamp")
                .and_then(Value::as_str)
                .and_then(ari_time::parse),
            known => known.meta().map(|meta| meta.timestamp),
        }
    }

    /// The event as ARI JSON (what Asterisk would send), e.g. for a simulated Asterisk.
    pub fn to_json(&self) -> Value {
        fn with_type<T: Serialize>(type_name: &str, body: &T) -> Value {
            let mut value = serde_json::to_value(body).unwrap_or(Value::Null);
            if let Some(object) = value.as_object_mut() {
                object.insert("type".into(), Value::String(type_name.to_owned()));
            }
            value
        }
        let name = self.type_name();
        match self {
            Self::StasisStart(event) => with_type(name, event),
            Self::StasisEnd(event) => with_type(name, event),
            Self::ChannelCreated(event) => with_type(name, event),
            Self::ChannelStateChange(event) => with_type(name, event),
            Self::ChannelDestroyed(event) => with_type(name, event),
            Self::ChannelHangupRequest(event) => with_type(name, event),
            Self::ChannelEnteredBridge(event) => with_type(name, event),
            Self::ChannelLeftBridge(event) => with_type(name, event),
            Self::ChannelDtmfReceived(event) => with_type(name, event),
            Self::Dial(event) => with_type(name, event),
            Self::PlaybackStarted(event)
            | Self::PlaybackContinuing(event)
            | Self::PlaybackFinished(event) => with_type(name, event),
            Self::EndpointStateChange(event) => with_type(name, event),
            Self::DeviceStateChanged(event) => with_type(name, event),
            Self::PeerStatusChange(event) => with_type(name, event),
            Self::ContactStatusChange(event) => with_type(name, event),
            Self::BridgeCreated(event) | Self::BridgeDestroyed(event) => with_type(name, event),
            Self::ApplicationReplaced(event) => with_type(name, event),
            Self::Other { raw, .. } => raw.clone(),
        }
    }
}

/// `GET /asterisk/ping` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsteriskPing {
    #[serde(default)]
    pub ping: String,
    #[serde(
        default,
        with = "ari_time::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<DateTime<Utc>>,
    #[serde(default)]
    pub asterisk_id: String,
}

/// `Application` (subscribe response).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub channel_ids: Vec<String>,
    #[serde(default)]
    pub bridge_ids: Vec<String>,
    #[serde(default)]
    pub endpoint_ids: Vec<String>,
    #[serde(default)]
    pub device_names: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asterisk_timestamps_without_a_colon_in_the_offset_parse_to_utc() {
        let parsed = ari_time::parse("2026-11-27T04:06:28.593+0100").map(|at| at.to_rfc3339());
        assert_eq!(parsed.as_deref(), Some("2026-11-27T03:06:28.593+00:00"));
    }

    #[test]
    fn rfc3339_timestamps_are_accepted_too() {
        let parsed = ari_time::parse("2026-11-27T04:06:28.593Z").map(|at| ari_time::format(&at));
        assert_eq!(parsed.as_deref(), Some("2026-11-27T04:06:28.593+0000"));
    }

    #[test]
    fn garbage_is_an_error_and_never_a_panic() {
        for text in [
            "",
            "null",
            "[]",
            "{}",
            "{\"type\":5}",
            "{\"type\":\"StasisStart\"}",
            "\u{0}",
            "{\"type\":\"Dial\",\"timestamp\":\"yesterday\"}",
        ] {
            assert!(decode_event(text).is_err(), "{text:?} decoded");
        }
    }

    #[test]
    fn unknown_event_types_are_kept_raw() {
        let decoded = decode_event(
            r#"{"type":"ChannelToneDetected","timestamp":"2026-11-27T04:06:28.593+0000","x":1}"#,
        );
        match decoded {
            Ok(AriEvent::Other { type_name, raw }) => {
                assert_eq!(type_name, "ChannelToneDetected");
                assert_eq!(raw["x"], 1);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_channel_states_and_missing_endpoint_states_are_tolerated() {
        let channel: Channel =
            serde_json::from_str(r#"{"id":"1.1","state":"Sideways","extra":true}"#)
                .expect("lenient channel");
        assert_eq!(channel.state, ChannelState::Other("Sideways".into()));
        let endpoint: Endpoint = serde_json::from_str(r#"{"technology":"SIP","resource":"a"}"#)
            .expect("endpoint without state");
        assert_eq!(endpoint.state_or_unknown(), EndpointStateValue::Unknown);
        let weird: Endpoint = serde_json::from_str(r#"{"state":"sleepy"}"#).expect("odd state");
        assert_eq!(weird.state, Some(EndpointStateValue::Unknown));
    }
}
