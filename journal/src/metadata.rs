//! Metadata recorded with every event (PRODUCT §9): who did it, and the correlation and
//! causation ids that tie a chain of commands together. Never secrets.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use domain::ids::{IngestTokenId, WorkerId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who caused an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A logged-in worker (admin or agent).
    Worker(WorkerId),
    /// A backup client, by the id of the ingest token it used (never the token itself).
    IngestToken(IngestTokenId),
    /// The telephony adapter, translating what Asterisk reported.
    Ari,
    /// The server itself: dispatcher, watchdog, timers, reconciliation.
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Worker(id) => write!(f, "worker:{id}"),
            Actor::IngestToken(id) => write!(f, "ingest_token:{id}"),
            Actor::Ari => f.write_str("ari"),
            Actor::System => f.write_str("system"),
        }
    }
}

/// The text is not an actor (`worker:<uuid>`, `ingest_token:<uuid>`, `ari` or `system`).
#[derive(Debug, thiserror::Error)]
#[error("not an actor: {0:?}")]
pub struct ActorParseError(String);

impl FromStr for Actor {
    type Err = ActorParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || ActorParseError(text.chars().take(80).collect());
        match text {
            "ari" => Ok(Actor::Ari),
            "system" => Ok(Actor::System),
            _ => match text.split_once(':') {
                Some(("worker", id)) => id.parse().map(Actor::Worker).map_err(|_| error()),
                Some(("ingest_token", id)) => {
                    id.parse().map(Actor::IngestToken).map_err(|_| error())
                }
                _ => Err(error()),
            },
        }
    }
}

impl Serialize for Actor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The metadata of one command's events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub actor: Actor,
    /// Shared by every event caused, directly or not, by one outside request.
    pub correlation_id: Uuid,
    /// The event (its `event_id`) or request that caused this command, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
}

impl Metadata {
    /// Metadata for a fresh outside request by `actor`.
    pub fn new(actor: Actor) -> Self {
        let correlation_id = Uuid::now_v7();
        Self {
            actor,
            correlation_id,
            causation_id: None,
        }
    }

    /// Metadata for a command caused by an event that carried `cause`.
    pub fn caused_by(actor: Actor, cause: &Metadata, cause_event_id: Uuid) -> Self {
        Self {
            actor,
            correlation_id: cause.correlation_id,
            causation_id: Some(cause_event_id),
        }
    }

    /// The flat string map cqrs-es carries in its envelopes.
    pub fn to_map(&self) -> HashMap<String, String> {
        let mut map = HashMap::new();
        map.insert("actor".to_owned(), self.actor.to_string());
        map.insert("correlation_id".to_owned(), self.correlation_id.to_string());
        if let Some(causation_id) = self.causation_id {
            map.insert("causation_id".to_owned(), causation_id.to_string());
        }
        map
    }

    /// Reads the flat string map back; `None` when a key is missing or malformed.
    pub fn from_map(map: &HashMap<String, String>) -> Option<Self> {
        Some(Self {
            actor: map.get("actor")?.parse().ok()?,
            correlation_id: map.get("correlation_id")?.parse().ok()?,
            causation_id: match map.get("causation_id") {
                Some(text) => Some(text.parse().ok()?),
                None => None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_round_trip_through_their_text_form() {
        for actor in [
            Actor::Worker(WorkerId::new()),
            Actor::IngestToken(IngestTokenId::new()),
            Actor::Ari,
            Actor::System,
        ] {
            let parsed: Actor = actor.to_string().parse().expect("parses");
            assert_eq!(parsed, actor);
        }
    }

    #[test]
    fn malformed_actors_are_rejected() {
        for text in ["", "worker:", "worker:xyz", "root", "ingest_token:1"] {
            assert!(text.parse::<Actor>().is_err(), "{text} should not parse");
        }
    }

    #[test]
    fn metadata_round_trips_through_json_and_the_cqrs_map() {
        let cause = Metadata::new(Actor::Worker(WorkerId::new()));
        let metadata = Metadata::caused_by(Actor::System, &cause, Uuid::now_v7());
        let json = serde_json::to_value(&metadata).expect("serialises");
        assert_eq!(json["actor"], "system");
        let back: Metadata = serde_json::from_value(json).expect("deserialises");
        assert_eq!(back, metadata);
        assert_eq!(Metadata::from_map(&metadata.to_map()), Some(metadata));
    }
}
