//! Telephony (PRODUCT §4.2, §4.3): the call dispatcher and call control, driven by Asterisk's
//! events and by the committed event log.
//!
//! One task per server ([`run`]) contends for leadership; only the leader runs a session
//! ([`session::Session`]), because Asterisk serves one events WebSocket per application (a
//! second one would take the first one's place). A session is one actor that owns:
//! - the ARI event stream: ARI events → [`ari_adapter::Translator`] → facts → Call commands
//!   (`facts.rs`);
//! - a view of the live calls and the workers, folded from the log from its start and then
//!   tailed (`view.rs`), on which the routing policy is re-applied whenever something changed
//!   (`dispatcher.rs`);
//! - call control: answering, holding bridges, agent legs, mixing bridges and hang-ups, each
//!   triggered by a committed Call event (`control.rs`);
//! - reconciliation with Asterisk's channels and bridges at leadership and after every
//!   WebSocket reconnection (`recovery.rs`).
//!
//! Architecture Invariant: no telephony side effect (answer, bridge, dial, hang up) happens
//! before the Call event that calls for it has been committed. The reaction to an event the
//! session committed itself runs from the command's result; the reaction to anyone else's runs
//! when the log tail returns it; either way once per event, in sequence order per call.
//! Worker presence follows the call: the Worker command that matches a committed Call event
//! (answered, missed, withdrawn, ended) is issued by the reaction to that event, so a hang-up
//! from the API is handled exactly like one from a phone.

mod config;
mod control;
mod directory;
mod dispatcher;
mod facts;
mod logins;
mod logout;
mod media;
mod recovery;
mod session;
pub mod simulate;
mod view;

use std::time::Duration;

use ari_adapter::AriConfig;
use domain::ids::CallId;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use config::QueueConfig;
pub use directory::{
    customer_of_number, CustomerDirectory, NoCustomerDirectory, SqlCustomerDirectory,
};

/// Where this server's ARI connection stands (for `/readyz`): shared by the session and the
/// HTTP handlers. Only the telephony leader connects; other instances are on standby. Also
/// counts the connections made (for `/metrics`).
#[derive(Clone, Debug, Default)]
pub struct AriLink(
    std::sync::Arc<std::sync::atomic::AtomicU8>,
    std::sync::Arc<std::sync::atomic::AtomicU64>,
    std::sync::Arc<std::sync::Mutex<SessionStep>>,
);

/// The last step this server's session finished (observable progress, so that a test waits
/// for the session to have handled everything instead of sleeping; nothing decides on it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStep {
    /// Steps finished since the server started (one per input handled: ARI events, a log
    /// notification or poll, a timer).
    pub count: u64,
    /// The log position the session's view had folded (and reacted to).
    pub position: journal::LogPosition,
    /// No call-control request of the session was still in flight.
    pub requests_done: bool,
    /// What the last restore (the start of a leadership term) read.
    pub restored: Option<Restored>,
}

/// What a session's restore read at the start of its term (observable, so that a test shows
/// that it reads what is live, not the history; nothing decides on it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// Calls folded: those not ended, and those with events the `calls` read model has not
    /// applied yet.
    pub calls: usize,
    /// Call events read to fold them.
    pub call_events: u64,
    /// Calls live after the restore.
    pub live_calls: usize,
    /// Workers loaded.
    pub workers: usize,
}

/// A state of [`AriLink`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AriLinkState {
    /// Not the leader (or telephony off): no connection expected.
    Standby,
    /// The leader's events WebSocket is connected.
    Connected,
    /// The leader has no events WebSocket (connecting, or dropped).
    Disconnected,
}

impl AriLink {
    pub fn set(&self, state: AriLinkState) {
        let value = match state {
            AriLinkState::Standby => 0,
            AriLinkState::Connected => 1,
            AriLinkState::Disconnected => 2,
        };
        self.0.store(value, std::sync::atomic::Ordering::Relaxed);
        if state == AriLinkState::Connected {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Records a finished session step.
    pub fn step_done(&self, position: journal::LogPosition, requests_done: bool) {
        let mut step = self.2.lock().unwrap_or_else(|poison| poison.into_inner());
        step.count += 1;
        step.position = position;
        step.requests_done = requests_done;
    }

    /// Records what a restore read (see [`Restored`]).
    pub fn restored(&self, restored: Restored) {
        let mut step = self.2.lock().unwrap_or_else(|poison| poison.into_inner());
        step.restored = Some(restored);
    }

    /// The last session step finished (see [`SessionStep`]).
    pub fn last_step(&self) -> SessionStep {
        *self.2.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// How many times this server's events WebSocket connected (every term, every reconnection).
    pub fn connections(&self) -> u64 {
        self.1.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn get(&self) -> AriLinkState {
        match self.0.load(std::sync::atomic::Ordering::Relaxed) {
            1 => AriLinkState::Connected,
            2 => AriLinkState::Disconnected,
            _ => AriLinkState::Standby,
        }
    }
}

/// How to reach Asterisk and how the queue behaves.
#[derive(Clone, Debug)]
pub struct TelephonyConfig {
    pub ari: AriConfig,
    /// The Stasis application inbound calls enter and agent legs are created in.
    pub app: String,
    pub queue: QueueConfig,
}

/// Namespace of the call ids derived from Asterisk channel ids.
const CALL_ID_NAMESPACE: Uuid = Uuid::from_u128(0x5a7e_c0a1_1d00_4c11_9a11_0000_0000_0001);

/// The call an inbound channel carries: derived from the channel id, so that Asterisk repeating
/// a `StasisStart` (or a reconnection rediscovering the channel) names the same call.
pub fn call_id_for_channel(channel_id: &str) -> CallId {
    CallId(Uuid::new_v5(&CALL_ID_NAMESPACE, channel_id.as_bytes()))
}

/// Prefix of every channel and bridge id we create in Asterisk.
const ID_PREFIX: &str = "savecorp-";

/// The id of the agent leg of offer `attempt`, chosen before the leg exists. Asterisk refuses
/// a second channel with the same id (409), so an offer can never be dialled twice.
pub fn agent_leg_id(call_id: CallId, attempt: u32) -> String {
    format!("{ID_PREFIX}{call_id}-{attempt}")
}

/// The holding bridge (music on hold) of a waiting call.
pub fn holding_bridge_id(call_id: CallId) -> String {
    format!("{ID_PREFIX}hold-{call_id}")
}

/// The mixing bridge of a connected call.
pub fn mixing_bridge_id(call_id: CallId) -> String {
    format!("{ID_PREFIX}mix-{call_id}")
}

/// Which of our bridges an id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BridgeKind {
    Holding,
    Mixing,
}

fn parse_bridge_id(bridge_id: &str) -> Option<(CallId, BridgeKind)> {
    let rest = bridge_id.strip_prefix(ID_PREFIX)?;
    let (kind, call) = if let Some(call) = rest.strip_prefix("hold-") {
        (BridgeKind::Holding, call)
    } else {
        (BridgeKind::Mixing, rest.strip_prefix("mix-")?)
    };
    Some((call.parse().ok()?, kind))
}

/// The call of one of our agent legs.
fn parse_agent_leg_id(channel_id: &str) -> Option<CallId> {
    let rest = channel_id.strip_prefix(ID_PREFIX)?;
    let (call, attempt) = rest.rsplit_once('-')?;
    attempt.parse::<u32>().ok()?;
    call.parse().ok()
}

/// What the telephony service needs (built by `app/`): the pool, the event store and log
/// reader, its settings, the default country code of the customer directory and the ARI link
/// it reports on.
#[derive(Clone)]
pub struct TelephonyContext {
    pub pool: sqlx::PgPool,
    pub store: journal::EventStore,
    pub reader: journal::LogReader,
    /// `None` without ARI settings: the service does nothing.
    pub config: Option<TelephonyConfig>,
    /// `SAVECORP_DEFAULT_COUNTRY_CODE`.
    pub default_country_code: String,
    pub ari_link: AriLink,
    /// The queue's settings in force (admins change them while the server runs).
    pub settings: crate::settings::LiveSettings,
}

/// How long a standby instance waits between attempts to become the leader.
const STANDBY_POLL: Duration = Duration::from_millis(300);
/// Pause before a new session after one failed.
const RESTART_PAUSE: Duration = Duration::from_secs(1);

/// Runs the telephony service until `shutdown`: waits for leadership, then runs sessions for as
/// long as it is held. Does nothing without ARI settings.
pub async fn run(state: TelephonyContext, shutdown: CancellationToken) {
    let Some(config) = state.config.clone() else {
        tracing::info!("no ARI_URL configured: telephony is off");
        return;
    };
    let directory: std::sync::Arc<dyn CustomerDirectory> = std::sync::Arc::new(
        SqlCustomerDirectory::new(state.pool.clone(), state.default_country_code.clone()),
    );
    loop {
        let Some(mut lease) = crate::platform::leadership::Lease::acquire(
            &state.pool,
            crate::platform::leadership::keys::TELEPHONY,
            "telephony",
            STANDBY_POLL,
            &shutdown,
        )
        .await
        else {
            return;
        };
        tracing::info!(app = %config.app, "telephony leadership acquired");
        state.ari_link.set(AriLinkState::Disconnected);
        let session_cancel = shutdown.child_token();
        let outcome = tokio::select! {
            outcome = session::Session::run(
                &state, &config, directory.clone(), session_cancel.clone()
            ) => outcome,
            () = lease.lost() => Err(anyhow::anyhow!("the leadership connection was lost")),
        };
        session_cancel.cancel();
        state.ari_link.set(AriLinkState::Standby);
        lease.release().await;
        if shutdown.is_cancelled() {
            tracing::info!("telephony stopped");
            return;
        }
        if let Err(error) = outcome {
            tracing::warn!(
                error = format!("{error:#}"),
                "telephony session ended; restarting"
            );
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(RESTART_PAUSE) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_ids_parse_back_to_their_call() {
        let call = CallId::new();
        assert_eq!(parse_agent_leg_id(&agent_leg_id(call, 12)), Some(call));
        assert_eq!(
            parse_bridge_id(&holding_bridge_id(call)),
            Some((call, BridgeKind::Holding))
        );
        assert_eq!(
            parse_bridge_id(&mixing_bridge_id(call)),
            Some((call, BridgeKind::Mixing))
        );
        assert_eq!(parse_bridge_id("3f1c-other"), None);
        assert_eq!(parse_agent_leg_id("1795752774.3"), None);
    }

    #[test]
    fn a_channel_always_names_the_same_call() {
        assert_eq!(
            call_id_for_channel("1795752774.0"),
            call_id_for_channel("1795752774.0")
        );
        assert_ne!(
            call_id_for_channel("1795752774.0"),
            call_id_for_channel("1795752774.1")
        );
    }
}
