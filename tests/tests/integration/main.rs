//! The one integration-test binary: real PostgreSQL, real server, real WebSocket.
//! One module per area; shared helpers live in the `tests` library crate.

mod api_agent_day;
mod api_authorisation;
mod api_bad_input;
mod api_lists;
mod api_live;
mod api_schema;
mod api_subscriptions;
mod api_tokens;
mod backup;
mod backup_retention;
mod backup_tls;
mod backup_token_purge;
mod cli;
mod event_log;
mod faults_ari;
mod faults_crash;
mod faults_fuzz;
mod faults_postgres;
mod faults_racing;
mod faults_secrets;
mod projections;
mod request_deadlines;
mod server;
mod telephony;
mod telephony_logout;
mod telephony_races;
mod telephony_soak;
