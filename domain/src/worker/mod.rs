//! The Worker aggregate (PRODUCT §2): a worker's profile, role and active flag, and the
//! presence state machine the dispatcher routes calls with.
//!
//! `Offer` is the atomic reservation of an agent for a call: it is accepted only while the
//! worker is Available, and the event store's optimistic concurrency on this aggregate makes
//! sure two dispatchers never reserve the same agent.
//!
//! Uniqueness of emails and endpoints across workers is not checked here (an aggregate sees
//! only itself): the api checks it against the workers read model before sending commands.

mod aggregate;
mod command;
mod error;
mod event;

#[cfg(test)]
mod tests;

pub use aggregate::{Presence, PresenceKind, UnknownPresence, Worker, WorkerProfile};
pub use command::{MissReason, WorkerCommand};
pub use error::WorkerError;
pub use event::WorkerEvent;
