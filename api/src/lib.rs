//! The `savecorp` server: configuration, startup (embedded PostgreSQL or `DATABASE_URL`,
//! migrations), the HTTP surface (GraphQL, health), and the command line.
//!
//! This crate is the composition root: the only one that wires the domain, the log and read
//! models (`projections`) and telephony (`ari-adapter`) together. It holds no business rule of
//! its own: decisions are the domain's.

pub mod admin_cli;
pub mod app;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod config;
pub mod customers;
pub mod db;
pub mod embedded_pg;
pub mod export;
pub mod graphiql;
pub mod graphql;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod projections_cli;
pub mod requests;
pub mod services;
pub mod state;
pub mod telephony;
pub mod webapp;

pub use app::Application;
pub use config::ServeConfig;
