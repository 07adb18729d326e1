//! `GET /ari/events`: one task per WebSocket that forwards the world's frames, honours stalls
//! and unregisters its apps when the socket ends.

use std::collections::VecDeque;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::handle::Shared;
use super::world::{Failure, SocketCommand};

pub(crate) async fn events(
    State(sim): State<Arc<Shared>>,
    Query(query): Query<Vec<(String, String)>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let last = |name: &str| {
        query
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let apps: Vec<String> = last("app")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|app| !app.is_empty())
        .map(str::to_owned)
        .collect();
    if apps.is_empty() {
        return Failure::new(400, "Missing param app").into_response();
    }
    let subscribe_all = last("subscribeAll").is_some_and(|v| v == "true" || v == "1");
    upgrade
        .protocols(["ari"])
        .on_upgrade(move |socket| serve_socket(sim, socket, apps, subscribe_all))
}

async fn serve_socket(sim: Arc<Shared>, mut socket: WebSocket, apps: Vec<String>, all: bool) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let id = sim.with_world(|world| world.register_socket(&apps, all, tx));
    let mut queue: VecDeque<String> = VecDeque::new();
    'serving: loop {
        let stalled_until = sim
            .lock()
            .stall_until
            .filter(|until| *until > Instant::now());
        if stalled_until.is_none() {
            while let Some(frame) = queue.pop_front() {
                if socket.send(Message::Text(frame.into())).await.is_err() {
                    break 'serving;
                }
            }
        }
        tokio::select! {
            () = sim.cancel.cancelled() => break,
            () = tokio::time::sleep_until(stalled_until.unwrap_or_else(Instant::now)),
                if stalled_until.is_some() => {}
            command = rx.recv() => match command {
                Some(SocketCommand::Frame(frame)) => queue.push_back(frame),
                Some(SocketCommand::Close) | None => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    sim.with_world(|world| world.unregister_socket(id));
}
