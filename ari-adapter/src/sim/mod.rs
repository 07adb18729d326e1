//! A simulated Asterisk: an ARI server (REST + events WebSocket) on `127.0.0.1:0` for tests,
//! demos and benchmarks, scripted from Rust (agents register, answer, are busy; customers call
//! and hang up; sockets drop or stall).
//!
//! It follows `shared/ari-spec/NOTES.md` and the recordings of a real Asterisk 22 with
//! chan_pjsip: the same REST status codes and error bodies, the same event shapes and order,
//! the same subscription quirks (no `ChannelDestroyed` for dialplan channels after `StasisEnd`,
//! byte-identical duplicates with an `endpoint:` subscription, `EndpointStateChange` on
//! `channel_ids` changes). It never talks SIP or RTP: media (playback, MOH, DTMF) is only
//! events and state.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ari_adapter::sim::SimError> {
//! use ari_adapter::sim::{Behaviour, SimAsterisk, SimConfig};
//! use std::time::Duration;
//!
//! let sim = SimAsterisk::start(SimConfig::default()).await?;
//! sim.register_endpoint("PJSIP/agent1")?;
//! sim.set_agent_behaviour("PJSIP/agent1", Behaviour::Busy { after: Duration::from_millis(50) });
//! // ... connect the ARI adapter to sim.base_url() with user/password "ari" ...
//! sim.wait_for_socket("callcenter", Duration::from_secs(1)).await?;
//! let inbound = sim.place_call("+15551230001", "Customer", "100")?;
//! sim.caller_hangs_up(&inbound)?;
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod config;
mod error;
mod handle;
mod json;
mod rest;
mod socket;
mod world;

pub use config::{Behaviour, SimConfig};
pub use error::SimError;
pub use handle::{RecordedRequest, SimAsterisk, SimBridge, SimChannel, SimHandle};
