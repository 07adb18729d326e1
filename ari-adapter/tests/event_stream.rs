//! The events WebSocket client against a tiny axum WebSocket server on 127.0.0.1:0.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ari_adapter::events::{self, EventStreamConfig, StreamItem};
use ari_adapter::model::AriEvent;
use ari_adapter::rest::AriConfig;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::RawQuery;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[derive(Clone, Copy)]
enum Behaviour {
    /// Send a garbage frame and one event, then drop the socket.
    SendOneEventThenDrop,
    /// Send nothing and never read (so pings are never answered).
    Stall,
    /// Send `ApplicationReplaced` and keep the socket open.
    Replace,
    /// Send nothing but keep reading, so pings are answered with pongs.
    IdleButAlive,
}

#[derive(Default)]
struct Seen {
    /// (query string, authorization header) of each connection.
    connections: Vec<(String, String)>,
}

fn stasis_start(channel_id: &str) -> String {
    serde_json::json!({
        "type": "StasisStart", "timestamp": "2026-11-27T04:06:28.593+0000",
        "application": "callcenter", "args": ["inbound", "100"],
        "channel": {"id": channel_id, "name": "SIP/trunk-00000000", "state": "Ring",
                    "caller": {"name": "Customer", "number": "+15551230001"}}
    })
    .to_string()
}

async fn serve_socket(mut socket: WebSocket, behaviour: Behaviour, connection: usize) {
    match behaviour {
        Behaviour::SendOneEventThenDrop => {
            let _ = socket.send(Message::Text("not json".into())).await;
            let event = stasis_start(&format!("call-{connection}"));
            let _ = socket.send(Message::Text(event.into())).await;
        }
        Behaviour::Stall => tokio::time::sleep(Duration::from_secs(10)).await,
        Behaviour::IdleButAlive => while let Some(Ok(_)) = socket.recv().await {},
        Behaviour::Replace => {
            let replaced = r#"{"type":"ApplicationReplaced","timestamp":"2026-11-27T04:06:28.593+0000","application":"callcenter"}"#;
            let _ = socket.send(Message::Text(replaced.into())).await;
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
    }
}

struct FakeEvents {
    base_url: String,
    seen: Arc<Mutex<Seen>>,
}

impl FakeEvents {
    async fn start(behaviour: Behaviour) -> Self {
        let seen: Arc<Mutex<Seen>> = Arc::default();
        let handler_seen = seen.clone();
        let app = Router::new().route(
            "/ari/events",
            get(
                move |upgrade: WebSocketUpgrade, RawQuery(query): RawQuery, headers: HeaderMap| {
                    let seen = handler_seen.clone();
                    async move {
                        let authorization = headers
                            .get("authorization")
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or_default()
                            .to_owned();
                        let connection = match seen.lock() {
                            Ok(mut seen) => {
                                seen.connections
                                    .push((query.unwrap_or_default(), authorization));
                                seen.connections.len()
                            }
                            Err(_) => 0,
                        };
                        let response: Response = upgrade
                            .on_upgrade(move |socket| serve_socket(socket, behaviour, connection));
                        response
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let address = listener.local_addr().expect("local address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base_url: format!("http://{address}/ari"),
            seen,
        }
    }

    fn config(&self) -> EventStreamConfig {
        let mut config = EventStreamConfig::new(
            &AriConfig::new(&self.base_url, "ari", "secret"),
            "callcenter",
        );
        config.backoff_initial = Duration::from_millis(10);
        config.backoff_max = Duration::from_millis(50);
        config.ping_interval = Duration::from_millis(50);
        config.stall_timeout = Duration::from_millis(150);
        config
    }

    fn connections(&self) -> Vec<(String, String)> {
        self.seen
            .lock()
            .map(|seen| seen.connections.clone())
            .unwrap_or_default()
    }
}

async fn next(receiver: &mut mpsc::Receiver<StreamItem>) -> Option<StreamItem> {
    tokio::time::timeout(Duration::from_secs(5), receiver.recv())
        .await
        .expect("an item within 5 s")
}

fn channel_id(item: Option<StreamItem>) -> String {
    match item {
        Some(StreamItem::Event(AriEvent::StasisStart(start))) => start.channel.id,
        other => panic!("expected a StasisStart, got {other:?}"),
    }
}

#[tokio::test]
async fn events_arrive_and_the_stream_reconnects_after_the_server_drops_the_socket() {
    let server = FakeEvents::start(Behaviour::SendOneEventThenDrop).await;
    let cancel = CancellationToken::new();
    let (mut receiver, task) = events::spawn(server.config(), cancel.clone());

    assert_eq!(next(&mut receiver).await, Some(StreamItem::Connected));
    assert_eq!(channel_id(next(&mut receiver).await), "call-1");
    assert!(matches!(
        next(&mut receiver).await,
        Some(StreamItem::Disconnected { .. })
    ));
    assert_eq!(next(&mut receiver).await, Some(StreamItem::Connected));
    assert_eq!(channel_id(next(&mut receiver).await), "call-2");

    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the task stops when cancelled")
        .expect("the task does not panic");

    let connections = server.connections();
    assert!(connections.len() >= 2);
    assert_eq!(connections[0].0, "app=callcenter");
    assert_eq!(connections[0].1, "Basic YXJpOnNlY3JldA==");
}

#[tokio::test]
async fn a_stalled_socket_is_detected_and_replaced() {
    let server = FakeEvents::start(Behaviour::Stall).await;
    let cancel = CancellationToken::new();
    let (mut receiver, _task) = events::spawn(server.config(), cancel.clone());

    assert_eq!(next(&mut receiver).await, Some(StreamItem::Connected));
    match next(&mut receiver).await {
        Some(StreamItem::Disconnected { reason }) => {
            assert!(reason.contains("stalled"), "{reason}")
        }
        other => panic!("expected a disconnection, got {other:?}"),
    }
    assert_eq!(next(&mut receiver).await, Some(StreamItem::Connected));
    cancel.cancel();
}

#[tokio::test]
async fn application_replaced_is_surfaced_and_ends_the_stream_without_reconnecting() {
    let server = FakeEvents::start(Behaviour::Replace).await;
    let (mut receiver, task) = events::spawn(server.config(), CancellationToken::new());

    assert_eq!(next(&mut receiver).await, Some(StreamItem::Connected));
    assert!(matches!(
        next(&mut receiver).await,
        Some(StreamItem::Event(AriEvent::ApplicationReplaced(_)))
    ));
    assert!(matches!(
        next(&mut receiver).await,
        Some(StreamItem::Disconnected { .. })
    ));
    assert_eq!(next(&mut receiver).await, None);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the task ends by itself")
        .expect("the task does not panic");
    assert_eq!(server.connections().len(), 1);
}

#[tokio::test]
async fn cancelling_while_disconnected_stops_the_stream() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let address = listener.local_addr().expect("local address");
    drop(listener);
    let mut config = EventStreamConfig::new(
        &AriConfig::new(format!("http://{address}/ari"), "ari", "secret"),
        "callcenter",
    );
    config.backoff_initial = Duration::from_millis(10);
    let cancel = CancellationToken::new();
    let (mut receiver, task) = events::spawn(config, cancel.clone());
    tokio::time::sleep(Duration::from_millis(100)).await;
    cancel.cancel();
    assert_eq!(next(&mut receiver).await, None);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the task stops when cancelled")
        .expect("the task does not panic");
}

#[tokio::test]
async fn an_idle_socket_that_answers_pings_is_not_taken_for_stalled() {
    let server = FakeEvents::start(Behaviour::IdleButAlive).await;
    let cancel = CancellationToken::new();
    let (mut receiver, _task) = events::spawn(server.config(), cancel.clone());

    assert_eq!(next(&mut receiver).await, Some(StreamItem::Connected));
    // Ten times the stall timeout of 150 ms without a single event.
    let quiet = tokio::time::timeout(Duration::from_millis(1500), receiver.recv()).await;
    assert!(quiet.is_err(), "unexpected item {quiet:?}");
    assert_eq!(server.connections().len(), 1);
    cancel.cancel();
}
