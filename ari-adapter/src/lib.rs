//! The Asterisk REST Interface (ARI) adapter: the only crate in the project that knows ARI JSON.
//! It decodes ARI wire types and events ([`model`]), calls the ARI REST API ([`rest`]), keeps the
//! events WebSocket connected ([`events`]) and turns raw ARI events into call-center
//! [`translate::TelephonyFact`]s with a pure, idempotent [`translate::Translator`]. [`sim`] is a
//! simulated Asterisk (REST + events WebSocket) for tests, demos and benchmarks.
//!
//! It must never know the domain crate, decide what a call center does with a fact, or hold
//! business state beyond what translation needs; it must never panic on anything Asterisk sends,
//! and never log ARI credentials. See `ari-spec/NOTES.md` for what real Asterisk does.

pub mod events;
pub mod model;
pub mod rest;
pub mod sim;
pub mod translate;

pub use events::{EventStreamConfig, StreamItem};
pub use model::{decode_event, AriEvent, DecodeError};
pub use rest::{AriClient, AriConfig, AriError};
pub use translate::{AgentLegOutcome, TelephonyFact, Translator};
