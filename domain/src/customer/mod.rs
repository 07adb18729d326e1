//! The Customer aggregate (PRODUCT §3, §6): who the customer is (name, phones, email, notes,
//! avatar), their backup plan, their ingest tokens (only ids and a hash prefix, never the
//! token) and whether their backups are overdue.
//!
//! Phone-number uniqueness across customers is not checked here (an aggregate sees only
//! itself): the api checks it against the customers read model before sending commands.
//!
//! Erasure (a privacy request) is final: the `CustomerErased` event carries no personal data,
//! the state forgets the details, the backup plan (it names recipients) and the ingest tokens
//! (erasure revokes them), and every later command is rejected with `CUSTOMER_ERASED`.

mod aggregate;
mod command;
mod error;
mod event;

#[cfg(test)]
mod tests;

pub use aggregate::{Customer, CustomerDetails, IngestToken};
pub use command::CustomerCommand;
pub use error::CustomerError;
pub use event::CustomerEvent;
