//! The one integration-test binary: real PostgreSQL, real server, real WebSocket.
//! One module per area; shared helpers live in the `tests` library crate.

mod api_agent_day;
mod api_authorisation;
mod api_bad_input;
mod api_hardening;
mod api_lists;
mod api_live;
mod api_schema;
mod api_subscriptions;
mod api_tokens;
mod api_tools;
mod auth_throttle;
mod backup;
mod backup_retention;
mod backup_slow_uploads;
mod backup_tls;
mod backup_token_purge;
mod bench_cli;
mod call_linking;
mod cli;
mod cli_live;
mod event_log;
mod faults_ari;
mod faults_crash;
mod faults_fuzz;
mod faults_postgres;
mod faults_racing;
mod faults_secrets;
mod projections;
mod request_deadlines;
mod schema_comments;
mod server;
mod telephony;
mod telephony_logout;
mod telephony_races;
mod telephony_soak;
