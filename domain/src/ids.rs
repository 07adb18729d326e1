//! Identifier newtypes. Every aggregate id is a UUID; the aggregate id string stored in the
//! event log is its hyphenated lowercase form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random id (v7: time-ordered, so ids sort by creation).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self(Uuid::nil())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// A worker (admin or agent).
    WorkerId
);
id_type!(
    /// A customer of the backup business.
    CustomerId
);
id_type!(
    /// One inbound call, from the moment Asterisk hands it over.
    CallId
);
id_type!(
    /// A request (ticket).
    RequestId
);
id_type!(
    /// One backup run of a customer.
    BackupRunId
);
id_type!(
    /// A customer's ingest token (only its id ever appears in events).
    IngestTokenId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_string_form() {
        let id = CallId::new();
        let parsed: CallId = id.to_string().parse().expect("parses");
        assert_eq!(id, parsed);
    }

    #[test]
    fn ids_serialise_as_plain_strings() {
        let id = WorkerId(Uuid::nil());
        assert_eq!(
            serde_json::to_string(&id).expect("serialises"),
            "\"00000000-0000-0000-0000-000000000000\""
        );
    }
}
