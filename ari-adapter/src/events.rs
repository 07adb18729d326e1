//! The ARI events WebSocket, kept connected.
//!
//! [`spawn`] (or [`run`]) connects to `ws://host:port/ari/events?app=<app>` with a Basic auth
//! header, forwards every decoded event, and reconnects with jittered exponential backoff when the
//! socket drops or stalls. The consumer gets [`StreamItem::Connected`] on every (re)connection and
//! must then resynchronise from `GET /channels` and `GET /bridges`: events sent while the socket
//! was down are lost.
//!
//! After `ApplicationReplaced` (another socket took our application over) the stream forwards the
//! event, sends [`StreamItem::Disconnected`] and ends instead of reconnecting: two instances
//! fighting over one application would replace each other forever. The consumer decides.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use futures::{SinkExt as _, StreamExt as _};
use rand::Rng as _;
use reqwest::Url;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::header::AUTHORIZATION;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::model::{decode_event, AriEvent};
use crate::rest::AriConfig;

/// What the event stream yields.
// `Event` is by far the most frequent item: boxing it would cost an allocation per event to save
// space only on the rare `Connected`/`Disconnected`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    /// The socket is (again) connected: resynchronise state from the REST API now.
    Connected,
    /// One event from Asterisk.
    Event(AriEvent),
    /// The socket was lost (a reconnection follows unless the stream ends).
    Disconnected { reason: String },
}

/// How to reach the events WebSocket and how patiently to keep it up.
#[derive(Clone)]
pub struct EventStreamConfig {
    /// REST base URL, e.g. `http://127.0.0.1:8088/ari`; the WebSocket URL is derived from it.
    pub base_url: String,
    pub username: String,
    pub password: String,
    /// Stasis application name(s), comma-separated.
    pub app: String,
    /// Receive all Asterisk events, not only the application's (`subscribeAll=true`).
    pub subscribe_all: bool,
    /// First reconnection delay; doubles on each failure up to `backoff_max`.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// A connection that lasted this long resets the backoff.
    pub stable_after: Duration,
    /// How often to send a WebSocket ping.
    pub ping_interval: Duration,
    /// No frame at all (event or pong) for this long means the socket is stalled.
    pub stall_timeout: Duration,
    pub connect_timeout: Duration,
    /// Capacity of the channel to the consumer.
    pub buffer: usize,
}

impl EventStreamConfig {
    pub fn new(ari: &AriConfig, app: impl Into<String>) -> Self {
        Self {
            base_url: ari.base_url.clone(),
            username: ari.username.clone(),
            password: ari.password.clone(),
            app: app.into(),
            subscribe_all: false,
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            stable_after: Duration::from_secs(10),
            ping_interval: Duration::from_secs(10),
            stall_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            buffer: 1024,
        }
    }

    /// `ws://host:port/ari/events?app=<app>[&subscribeAll=true]` (`wss` for `https`).
    pub fn events_url(&self) -> Result<Url, String> {
        let mut url = Url::parse(self.base_url.trim_end_matches('/')).map_err(|e| e.to_string())?;
        let scheme = match url.scheme() {
            "http" | "ws" => "ws",
            "https" | "wss" => "wss",
            other => return Err(format!("unsupported scheme {other}")),
        };
        url.set_scheme(scheme)
            .map_err(|()| format!("cannot use scheme {scheme}"))?;
        url.path_segments_mut()
            .map_err(|()| "base url cannot be a base".to_owned())?
            .pop_if_empty()
            .push("events");
        url.set_query(None);
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("app", &self.app);
            if self.subscribe_all {
                pairs.append_pair("subscribeAll", "true");
            }
        }
        Ok(url)
    }

    /// The jittered delay before reconnection attempt number `attempt` (0-based): a random value
    /// between half and all of `min(backoff_initial * 2^attempt, backoff_max)`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .backoff_initial
            .saturating_mul(2u32.saturating_pow(attempt.min(20)))
            .min(self.backoff_max);
        let floor = ceiling / 2;
        if ceiling <= floor {
            return ceiling;
        }
        rand::thread_rng().gen_range(floor..=ceiling)
    }

    fn authorization(&self) -> String {
        let credentials = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        )
    }
}

impl fmt::Debug for EventStreamConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("EventStreamConfig")
            .field("base_url", &self.base_url)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("app", &self.app)
            .field("subscribe_all", &self.subscribe_all)
            .finish_non_exhaustive()
    }
}

/// Starts the stream in a task. It ends when `cancel` fires, when the receiver is dropped, or
/// after `ApplicationReplaced`.
pub fn spawn(
    config: EventStreamConfig,
    cancel: CancellationToken,
) -> (mpsc::Receiver<StreamItem>, JoinHandle<()>) {
    let (sender, receiver) = mpsc::channel(config.buffer.max(1));
    let task = tokio::spawn(run(config, sender, cancel));
    (receiver, task)
}

enum SessionEnd {
    Cancelled,
    ReceiverGone,
    Replaced,
    Lost(String),
}

/// Runs the connect / read / reconnect loop until `cancel` fires, `sender` is closed, or the
/// application is replaced.
pub async fn run(
    config: EventStreamConfig,
    sender: mpsc::Sender<StreamItem>,
    cancel: CancellationToken,
) {
    let url = match config.events_url() {
        Ok(url) => url,
        Err(reason) => {
            tracing::error!(%reason, "invalid ari events url; event stream not started");
            let reason = format!("invalid events url: {reason}");
            let _ = sender.send(StreamItem::Disconnected { reason }).await;
            return;
        }
    };
    let mut attempt: u32 = 0;
    loop {
        let connected_at = Instant::now();
        let connection = tokio::select! {
            () = cancel.cancelled() => return,
            result = tokio::time::timeout(config.connect_timeout, connect(&config, &url)) => {
                result.unwrap_or_else(|_| Err("connect timed out".to_owned()))
            }
        };
        match connection {
            Ok(socket) => {
                tracing::info!(url = %url, "ari events websocket connected");
                if sender.send(StreamItem::Connected).await.is_err() {
                    return;
                }
                match session(socket, &config, &sender, &cancel).await {
                    SessionEnd::Cancelled | SessionEnd::ReceiverGone => return,
                    SessionEnd::Replaced => {
                        tracing::warn!(app = %config.app, "ari application replaced by another websocket; event stream stops");
                        let reason = "application replaced by another websocket".to_owned();
                        let _ = sender.send(StreamItem::Disconnected { reason }).await;
                        return;
                    }
                    SessionEnd::Lost(reason) => {
                        tracing::warn!(%reason, "ari events websocket lost");
                        if sender
                            .send(StreamItem::Disconnected { reason })
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                }
                if connected_at.elapsed() >= config.stable_after {
                    attempt = 0;
                }
            }
            Err(reason) => {
                tracing::warn!(%reason, attempt, "ari events websocket connection failed");
            }
        }
        let delay = config.backoff(attempt);
        attempt = attempt.saturating_add(1);
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(config: &EventStreamConfig, url: &Url) -> Result<Socket, String> {
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|error| error.to_string())?;
    let authorization = HeaderValue::from_str(&config.authorization())
        .map_err(|_| "credentials cannot form a header".to_owned())?;
    request.headers_mut().insert(AUTHORIZATION, authorization);
    // Nagle off: a pong must not wait for Asterisk's delayed ACK.
    let (socket, _response) = tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .map_err(|error| error.to_string())?;
    Ok(socket)
}

async fn session(
    socket: Socket,
    config: &EventStreamConfig,
    sender: &mpsc::Sender<StreamItem>,
    cancel: &CancellationToken,
) -> SessionEnd {
    let (mut write, mut read) = socket.split();
    // `interval_at` panics on a zero period.
    let ping_interval = config.ping_interval.max(Duration::from_millis(1));
    let mut ping = tokio::time::interval_at(Instant::now() + ping_interval, ping_interval);
    let mut last_frame = Instant::now();
    loop {
        tokio::select! {
            () = cancel.cancelled() => {
                let _ = write.send(Message::Close(None)).await;
                return SessionEnd::Cancelled;
            }
            _ = ping.tick() => {
                if last_frame.elapsed() >= config.stall_timeout {
                    return SessionEnd::Lost(format!(
                        "stalled: no frame for {} ms",
                        last_frame.elapsed().as_millis()
                    ));
                }
                if let Err(error) = write.send(Message::Ping(Vec::new().into())).await {
                    return SessionEnd::Lost(format!("ping failed: {error}"));
                }
            }
            frame = read.next() => {
                let frame = match frame {
                    None => return SessionEnd::Lost("connection closed".to_owned()),
                    Some(Err(error)) => return SessionEnd::Lost(error.to_string()),
                    Some(Ok(frame)) => frame,
                };
                last_frame = Instant::now();
                let text = match frame {
                    Message::Text(text) => text,
                    Message::Close(close) => {
                        let reason = close
                            .map(|close| format!("closed by asterisk: {} {}", close.code, close.reason))
                            .unwrap_or_else(|| "closed by asterisk".to_owned());
                        return SessionEnd::Lost(reason);
                    }
                    _ => continue,
                };
                let event = match decode_event(text.as_str()) {
                    Ok(event) => event,
                    Err(error) => {
                        tracing::warn!(%error, "undecodable ari event skipped");
                        continue;
                    }
                };
                let replaced = matches!(event, AriEvent::ApplicationReplaced(_));
                tokio::select! {
                    () = cancel.cancelled() => return SessionEnd::Cancelled,
                    sent = sender.send(StreamItem::Event(event)) => {
                        if sent.is_err() {
                            return SessionEnd::ReceiverGone;
                        }
                    }
                }
                if replaced {
                    let _ = write.send(Message::Close(None)).await;
                    return SessionEnd::Replaced;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(base_url: &str) -> EventStreamConfig {
        EventStreamConfig::new(&AriConfig::new(base_url, "ari", "secret"), "callcenter")
    }

    #[test]
    fn the_events_url_is_derived_from_the_rest_base_url() {
        let url = config("http://127.0.0.1:8088/ari/").events_url();
        assert_eq!(
            url.map(String::from).as_deref(),
            Ok("ws://127.0.0.1:8088/ari/events?app=callcenter")
        );
        let mut all = config("https://pbx.example:8089/ari");
        all.subscribe_all = true;
        assert_eq!(
            all.events_url().map(String::from).as_deref(),
            Ok("wss://pbx.example:8089/ari/events?app=callcenter&subscribeAll=true")
        );
    }

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_is_capped() {
        let config = config("http://127.0.0.1:8088/ari");
        for _ in 0..50 {
            let first = config.backoff(0);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let fourth = config.backoff(3);
            assert!(fourth >= Duration::from_millis(400) && fourth <= Duration::from_millis(800));
            let late = config.backoff(1000);
            assert!(late >= Duration::from_secs(5) && late <= Duration::from_secs(10));
        }
    }

    #[test]
    fn the_authorization_header_is_basic_and_debug_hides_the_password() {
        let config = config("http://127.0.0.1:8088/ari");
        assert_eq!(config.authorization(), "Basic YXJpOnNlY3JldA==");
        assert!(!format!("{config:?}").contains("secret"));
    }
}
