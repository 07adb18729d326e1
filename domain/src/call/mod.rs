//! The Call aggregate (PRODUCT §4.1): one inbound call from the moment Asterisk hands it over
//! until it reaches exactly one terminal state (`Ended`, `Abandoned` or `Rejected`).
//!
//! Lifecycle: `Queued` → `Offered { agent, attempt }` → `Connected { agent }` →
//! `Ended { by }`. A failed offer puts the call back to `Queued` with its original `queued_at`
//! (its place at the head of the FIFO). Every offer attempt is recorded with its start, end and
//! outcome. The events carry the timestamps a projection needs for ASA, AHT, service level and
//! abandonment (PRODUCT §8) without looking anything else up.
//!
//! Asterisk repeats events, so the commands it triggers are idempotent: repeating the command
//! that put the call where it is emits nothing (see each [`CallCommand`] variant).

mod aggregate;
mod command;
mod error;
mod event;
#[cfg(test)]
mod tests;

pub use aggregate::{Call, CallState, OfferAttempt};
pub use command::CallCommand;
pub use error::CallError;
pub use event::{
    AbandonedDuring, CallEvent, EndedBy, OfferFailure, OfferOutcome, OfferRef, RejectReason,
};
