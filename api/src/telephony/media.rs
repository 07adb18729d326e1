//! What call control keeps per call while the session runs: the media created in Asterisk
//! (`CallMedia`), agent legs waiting for their `StasisStart` (`PendingDial`), and the per-call
//! lanes of call-control requests (`Lanes`). Held by the session, used by `control.rs`.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;

use chrono::Utc;
use domain::ids::{CallId, WorkerId};

/// An agent leg created and waiting for its `StasisStart` to be dialled.
#[derive(Clone, Debug)]
pub(super) struct PendingDial {
    pub call_id: CallId,
    pub agent: WorkerId,
    pub inbound: String,
    /// When the offer is given up if the leg has not entered Stasis.
    pub until: chrono::DateTime<Utc>,
}

/// What call control created in Asterisk for one call.
#[derive(Clone, Debug)]
pub(super) struct CallMedia {
    pub inbound: String,
    /// Agent legs created (or found) for the call's offers.
    pub legs: BTreeSet<String>,
    pub holding: bool,
    pub mixing: bool,
}

impl CallMedia {
    pub fn new(inbound: impl Into<String>) -> Self {
        Self {
            inbound: inbound.into(),
            legs: BTreeSet::new(),
            holding: false,
            mixing: false,
        }
    }
}

/// Call control requests still running, per call. A call's requests run in order (each batch
/// waits for the one before it); different calls' run concurrently, so the session waits for no
/// answer it does not need (holding music, bridging, cleanup) and goes on deciding meanwhile.
/// The agent leg is created and dialled by the session itself (a refused leg fails the offer),
/// after the call's lane is done: a call's requests keep the order they were decided in.
#[derive(Default)]
pub(super) struct Lanes(HashMap<CallId, tokio::task::JoinHandle<()>>);

impl Lanes {
    /// Queues `requests` behind the call's earlier ones.
    pub fn push(&mut self, call_id: CallId, requests: impl Future<Output = ()> + Send + 'static) {
        self.0.retain(|_, lane| !lane.is_finished());
        let previous = self.0.remove(&call_id);
        let lane = tokio::spawn(async move {
            if let Some(previous) = previous {
                let _ = previous.await;
            }
            requests.await;
        });
        self.0.insert(call_id, lane);
    }

    /// Whether every request so far has been answered.
    pub fn all_done(&self) -> bool {
        self.0.values().all(|lane| lane.is_finished())
    }

    /// Waits until the call's requests so far have been answered.
    pub async fn join(&mut self, call_id: CallId) {
        if let Some(lane) = self.0.remove(&call_id) {
            let _ = lane.await;
        }
    }

    /// Waits until every request so far has been answered (before a resynchronisation compares
    /// Asterisk with the log, and before a session ends).
    pub async fn join_all(&mut self) {
        for (_, lane) in self.0.drain() {
            let _ = lane.await;
        }
    }
}
