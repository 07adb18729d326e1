//! Starting the simulator and scripting it from tests (and, later, `savecorp simulate`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::config::{Behaviour, SimConfig};
use super::world::{Scheduled, World};
use super::SimError;

/// One REST (or WebSocket upgrade) request the simulator received, in arrival order of
/// completion. `path` is relative to `/ari` (`/channels/1795752774.0/answer`), like the
/// recordings' `path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Query parameters in the order sent (repeated keys kept).
    pub query: Vec<(String, String)>,
    pub status: u16,
    /// When the request reached the simulator (for latency benchmarks).
    pub received_at: std::time::Instant,
}

impl RecordedRequest {
    /// The value ARI uses for a parameter: the last one given.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A channel as the simulator sees it (for leak checks and assertions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimChannel {
    pub id: String,
    pub name: String,
    pub state: String,
    pub endpoint: String,
    pub stasis_app: Option<String>,
    pub bridge_id: Option<String>,
}

/// A bridge as the simulator sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimBridge {
    pub id: String,
    pub name: String,
    pub bridge_type: String,
    pub channel_ids: Vec<String>,
}

/// What the HTTP handlers, socket tasks and timers share.
pub(crate) struct Shared {
    world: Mutex<World>,
    changed: watch::Sender<u64>,
    pub(crate) cancel: CancellationToken,
    runtime: tokio::runtime::Handle,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs one change under the lock, then schedules the timers it queued and wakes waiters.
    pub(crate) fn with_world<R>(self: &Arc<Self>, change: impl FnOnce(&mut World) -> R) -> R {
        let (result, timers) = {
            let mut world = self.lock();
            let result = change(&mut world);
            (result, std::mem::take(&mut world.timers))
        };
        for timer in timers {
            self.schedule(timer);
        }
        self.changed.send_modify(|generation| *generation += 1);
        result
    }

    fn schedule(self: &Arc<Self>, timer: Scheduled) {
        let shared = Arc::clone(self);
        let cancel = self.cancel.clone();
        self.runtime.spawn(async move {
            tokio::select! {
                () = cancel.cancelled() => {}
                () = tokio::time::sleep(timer.after) => {
                    shared.with_world(|world| world.fire(timer.action));
                }
            }
        });
    }
}

/// The simulated Asterisk: an ARI server on `127.0.0.1:0`.
pub struct SimAsterisk;

impl SimAsterisk {
    /// Binds `127.0.0.1:0` and serves until [`SimHandle::shutdown`] or the handle is dropped.
    pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
        Self::start_at(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Like [`Self::start`], on a given address (a restarted Asterisk comes back on its port).
    pub async fn start_at(config: SimConfig, addr: SocketAddr) -> Result<SimHandle, SimError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(SimError::Bind)?;
        let addr = listener.local_addr().map_err(SimError::Bind)?;
        let (changed, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            world: Mutex::new(World::new(config)),
            changed,
            cancel: CancellationToken::new(),
            runtime: tokio::runtime::Handle::current(),
        });
        let router = super::rest::router(Arc::clone(&shared));
        let cancel = shared.cancel.clone();
        let server = tokio::spawn(async move {
            // Every event frame goes out at once, as from Asterisk's own HTTP server.
            let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
                if let Err(error) = stream.set_nodelay(true) {
                    tracing::debug!(%error, "TCP_NODELAY could not be set");
                }
            });
            let serving = axum::serve(listener, router)
                .with_graceful_shutdown(cancel.cancelled_owned())
                .await;
            if let Err(error) = serving {
                tracing::warn!(%error, "simulated asterisk stopped serving");
            }
        });
        Ok(SimHandle {
            shared,
            addr,
            server: Some(server),
        })
    }
}

/// Controls a running simulator. Dropping it stops the server.
pub struct SimHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: Option<JoinHandle<()>>,
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/ari`
    pub fn base_url(&self) -> String {
        format!("http://{}/ari", self.addr)
    }

    /// `ws://127.0.0.1:PORT/ari/events?app={app}` (add credentials yourself).
    pub fn events_url(&self, app: &str) -> String {
        format!("ws://{}/ari/events?app={app}", self.addr)
    }

    /// Asterisk restarts: every socket closes, every channel, bridge and registration is gone,
    /// nothing answers for `down`, then a fresh Asterisk (`config`, nothing registered, no
    /// request recorded) serves on the same port. Give `config` a later `uniqueid_epoch`, as a
    /// real Asterisk's channel ids start from its start time.
    pub async fn restart(&mut self, config: SimConfig, down: Duration) -> Result<(), SimError> {
        self.shared.cancel.cancel();
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
        }
        tokio::time::sleep(down).await;
        *self = SimAsterisk::start_at(config, self.addr).await?;
        Ok(())
    }

    /// Stops the server, the sockets and every pending timer.
    pub async fn shutdown(mut self) {
        self.shared.cancel.cancel();
        if let Some(server) = self.server.take() {
            // A connection that refuses to close must not hang the caller.
            let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
        }
    }

    /// The agent's phone registers: `online`, EndpointStateChange, PeerStatusChange,
    /// ContactStatusChange (PJSIP), DeviceStateChanged(NOT_INUSE). Unknown endpoints are added.
    pub fn register_endpoint(&self, endpoint: &str) -> Result<(), SimError> {
        self.shared
            .with_world(|world| world.set_registered(endpoint, true))
    }

    /// The phone un-registers (`Expires: 0`): `offline`, DeviceStateChanged(UNAVAILABLE).
    pub fn unregister_endpoint(&self, endpoint: &str) -> Result<(), SimError> {
        self.shared
            .with_world(|world| world.set_registered(endpoint, false))
    }

    /// How the phone on `endpoint` reacts to the next dials.
    pub fn set_agent_behaviour(&self, endpoint: &str, behaviour: Behaviour) {
        self.shared
            .with_world(|world| world.set_behaviour(endpoint, behaviour));
    }

    /// A customer calls `exten` on the trunk; the dialplan runs
    /// `Stasis({inbound_app},inbound,{exten})`. Returns the new channel id.
    pub fn place_call(
        &self,
        caller_number: &str,
        caller_name: &str,
        exten: &str,
    ) -> Result<String, SimError> {
        let app = self.shared.lock().config.inbound_app.clone();
        self.place_call_into(&app, caller_number, caller_name, exten, None)
    }

    /// Like [`Self::place_call`] into another app, with other Stasis args if given.
    pub fn place_call_into(
        &self,
        app: &str,
        caller_number: &str,
        caller_name: &str,
        exten: &str,
        args: Option<Vec<String>>,
    ) -> Result<String, SimError> {
        self.shared
            .with_world(|world| world.place_call(app, caller_number, caller_name, exten, args))
    }

    /// The customer sends BYE: ChannelHangupRequest (no cause), ChannelLeftBridge, StasisEnd.
    pub fn caller_hangs_up(&self, channel_id: &str) -> Result<(), SimError> {
        self.shared
            .with_world(|world| world.far_end_hangup(channel_id))
    }

    /// The agent hangs up every call on `endpoint` (BYE if answered, 603 if still ringing).
    /// Returns the channels that went away.
    pub fn agent_hangs_up(&self, endpoint: &str) -> Vec<String> {
        self.shared.with_world(|world| {
            let channels = world.channels_on(endpoint);
            for channel in &channels {
                // Each id was just listed under the same lock.
                let _ = world.far_end_hangup(channel);
            }
            channels
        })
    }

    /// The caller presses a key: ChannelDtmfReceived.
    pub fn send_dtmf(&self, channel_id: &str, digit: char) -> Result<(), SimError> {
        if !matches!(digit, '0'..='9' | 'A'..='D' | '*' | '#') {
            return Err(SimError::InvalidDigit(digit));
        }
        self.shared
            .with_world(|world| world.send_dtmf(channel_id, digit))
    }

    /// Every events WebSocket is cut (TCP closed, no close frame); their apps unregister.
    pub fn drop_websockets(&self) {
        self.shared.with_world(World::drop_sockets);
    }

    /// Sockets stop sending for `duration` (TCP stays open); queued events follow afterwards.
    pub fn stall_websockets(&self, duration: Duration) {
        let now = tokio::time::Instant::now();
        let until = now
            .checked_add(duration)
            .unwrap_or(now + Duration::from_secs(86_400));
        self.shared
            .with_world(|world| world.stall_until = Some(until));
    }

    /// The probability that a create answers before its leg entered Stasis (see
    /// [`SimConfig::late_stasis_probability`]), from now on.
    pub fn set_late_stasis_probability(&self, probability: f64) {
        self.shared
            .with_world(|world| world.config.late_stasis_probability = probability);
    }

    /// When on, the legs created to `endpoint` from now on never enter Stasis: each dial is
    /// refused 409 "Channel not in Stasis application" until the leg is hung up.
    pub fn hold_legs_out_of_stasis(&self, endpoint: &str, stuck: bool) {
        self.shared.with_world(|world| {
            if stuck {
                world.stuck_out_of_stasis.insert(endpoint.to_owned());
            } else {
                world.stuck_out_of_stasis.remove(endpoint);
            }
        });
    }

    /// When on, every channel event is sent twice, as with an `endpoint:` subscription.
    pub fn set_duplicate_events(&self, duplicate: bool) {
        self.shared
            .with_world(|world| world.duplicate_all = duplicate);
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    pub fn channels(&self) -> Vec<SimChannel> {
        self.shared.lock().channel_snapshots()
    }

    pub fn bridges(&self) -> Vec<SimBridge> {
        self.shared.lock().bridge_snapshots()
    }

    /// Whether a WebSocket currently serves `app`.
    pub fn is_connected(&self, app: &str) -> bool {
        self.shared.lock().is_connected(app)
    }

    /// Waits until a WebSocket serves `app`.
    pub async fn wait_for_socket(&self, app: &str, timeout: Duration) -> Result<(), SimError> {
        self.wait_until(timeout, &format!("a socket for {app}"), |sim| {
            sim.is_connected(app)
        })
        .await
    }

    /// Waits until `condition` holds, re-checking after every change of the simulator.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        condition: impl Fn(&SimHandle) -> bool,
    ) -> Result<(), SimError> {
        let mut changes = self.shared.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if condition(self) {
                return Ok(());
            }
            let changed = tokio::time::timeout_at(deadline, changes.changed()).await;
            if !matches!(changed, Ok(Ok(()))) {
                return if condition(self) {
                    Ok(())
                } else {
                    Err(SimError::Timeout(timeout, what.to_owned()))
                };
            }
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shared.cancel.cancel();
    }
}
