//! The `savecorp` server: configuration, startup (embedded PostgreSQL or `DATABASE_URL`,
//! migrations), the HTTP surface (GraphQL, health), and the command line.
//!
//! This crate is the composition root: the only one that wires the domain, the log and read
//! models (`projections`) and telephony (`ari-adapter`) together. It holds no business rule of
//! its own: decisions are the domain's.

pub mod app;
pub mod auth;
pub mod backup;
pub mod claims;
pub mod cli;
pub mod customers;
pub mod mail;
pub mod platform;
pub mod requests;
pub mod settings;
pub mod telephony;
pub mod transport;
pub mod webapp;

pub use app::settings::ServeConfig;
pub use app::Application;
