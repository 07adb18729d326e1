//! Requests (PRODUCT §5) beyond the GraphQL mutations: the process manager that raises
//! `due_soon` and `overdue` alerts when a request's deadlines pass ([`deadlines`]).

mod config;
pub mod deadlines;

pub use config::RequestConfig;
