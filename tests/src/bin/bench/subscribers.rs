//! P2: commit → GraphQL `events` subscriber latency, 100 subscribers over real WebSockets to the
//! server process, at 1,000 events/s; the limit is a raw LISTEN/NOTIFY round trip at the same
//! rate.
//!
//! The appender runs in this process and appends to the server's database directly
//! (`EventStore`), like another server instance would; the server learns of each commit by the
//! log's NOTIFY. Latency = the subscriber's receive instant − the instant the appender's append
//! returned (both in this process, same monotonic clock). A message can arrive before the
//! append returns (the notify fires at commit); that counts as 0.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use domain::customer::{Customer, CustomerCommand};
use domain::ids::CustomerId;
use domain::values::{PersonName, PhoneNumber};
use futures::{SinkExt as _, StreamExt as _};
use journal::{Actor, EventStore, Metadata};
use serde_json::json;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::server::BenchServer;
use super::{latency_figures, Figure, Latencies};

const SUBSCRIBERS: usize = 100;
const EVENTS_PER_SECOND: u64 = 1_000;

type Commits = Arc<Mutex<HashMap<i64, Instant>>>;

pub async fn run(
    server: &BenchServer,
    quick: bool,
    figures: &mut Vec<Figure>,
) -> anyhow::Result<()> {
    let seconds = if quick { 5 } else { 10 };
    let raw = raw_listen_notify(&server.pool, seconds).await?;
    let ours = subscriptions(server, seconds).await?;
    latency_figures(
        figures,
        "P2",
        &format!(
            "commit -> `events` subscriber over graphql-transport-ws to the server process, \
             {SUBSCRIBERS} subscribers, {EVENTS_PER_SECOND} events/s"
        ),
        &ours,
        &raw,
        "raw commit -> NOTIFY received on one LISTEN connection, fanned out to 100 tasks",
        "p99 <= 15 ms",
    );
    Ok(())
}

/// Runs `append(n)` `EVENTS_PER_SECOND` times a second for `seconds`, each in its own task:
/// on every wake-up it starts as many as the schedule says are due (the timer's 1 ms grain
/// made a 1 ms interval that skips missed ticks fire only ~540 times a second).
async fn paced<F, Fut>(what: &str, seconds: u64, append: F) -> anyhow::Result<()>
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let started = Instant::now();
    let duration = Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    let mut n = 0;
    loop {
        let elapsed = started.elapsed();
        if elapsed >= duration {
            break;
        }
        let due = (elapsed.as_secs_f64() * EVENTS_PER_SECOND as f64) as u64 + 1;
        while n < due {
            tasks.push(tokio::spawn(append(n)));
            n += 1;
        }
        // sleep-ok: benchmark load pacing
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    for task in tasks {
        task.await??;
    }
    println!(
        "P2 {what}: {n} appends in {:.2} s ({:.0}/s, all returned)",
        started.elapsed().as_secs_f64(),
        n as f64 / seconds as f64
    );
    Ok(())
}

fn latencies(commits: &HashMap<i64, Instant>, received: &[Vec<(i64, Instant)>]) -> Latencies {
    let mut samples = Vec::new();
    for subscriber in received {
        for (key, at) in subscriber {
            if let Some(committed) = commits.get(key) {
                samples.push(at.saturating_duration_since(*committed));
            }
        }
    }
    Latencies::new(samples)
}

async fn raw_listen_notify(pool: &PgPool, seconds: u64) -> anyhow::Result<Latencies> {
    sqlx::query(
        "CREATE TABLE bench_notify (id BIGINT PRIMARY KEY, payload JSONB NOT NULL, \
         at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .execute(pool)
    .await?;
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen("bench_raw_events").await?;
    let (fan_out, _) = broadcast::channel::<(i64, Instant)>(65_536);
    let sender = fan_out.clone();
    let listening = tokio::spawn(async move {
        while let Ok(notification) = listener.recv().await {
            let Ok(id) = notification.payload().parse::<i64>() else {
                continue;
            };
            if id < 0 {
                break;
            }
            let _ = sender.send((id, Instant::now()));
        }
    });
    let mut receivers = Vec::new();
    for _ in 0..SUBSCRIBERS {
        let mut receiver = fan_out.subscribe();
        receivers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Ok((id, _)) = receiver.recv().await {
                if id < 0 {
                    break;
                }
                seen.push((id, Instant::now()));
            }
            seen
        }));
    }
    let commits: Commits = Arc::default();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .connect_with(pool.connect_options().as_ref().clone())
        .await?;
    {
        let commits = commits.clone();
        paced("raw", seconds, move |n| {
            let pool = pool.clone();
            let commits = commits.clone();
            async move {
                let id = n as i64;
                sqlx::query(
                    "WITH inserted AS (INSERT INTO bench_notify (id, payload) VALUES ($1, $2) \
                     RETURNING id) SELECT pg_notify('bench_raw_events', id::text) FROM inserted",
                )
                .bind(id)
                .bind(json!({"n": n, "notes": "x".repeat(100)}))
                .execute(&pool)
                .await?;
                let returned = Instant::now();
                if let Ok(mut commits) = commits.lock() {
                    commits.insert(id, returned);
                }
                Ok(())
            }
        })
        .await?;
    }
    // sleep-ok: benchmark scenario timing
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = fan_out.send((-1, Instant::now()));
    listening.abort();
    let mut received = Vec::new();
    for receiver in receivers {
        received.push(receiver.await?);
    }
    let commits = commits
        .lock()
        .map(|commits| commits.clone())
        .unwrap_or_default();
    Ok(latencies(&commits, &received))
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A `graphql-transport-ws` connection to `server` as its admin, subscribed to `events` from
/// `head`.
async fn subscriber(server: &BenchServer, head: i64) -> anyhow::Result<Socket> {
    let mut request = format!("ws://{}/graphql", server.address).into_client_request()?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse()?);
    // A small read buffer: tungstenite zero-fills it before every read (128 KiB by default).
    let config = WebSocketConfig::default().read_buffer_size(4 * 1024);
    let (mut socket, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
    let init = json!({"type": "connection_init",
                      "payload": {"authorization": format!("Bearer {}", server.token)}});
    socket.send(Message::Text(init.to_string().into())).await?;
    let ack = tokio::time::timeout(Duration::from_secs(10), socket.next()).await;
    match ack {
        Ok(Some(Ok(Message::Text(text)))) if text.as_str().contains("connection_ack") => {}
        other => anyhow::bail!("no connection_ack: {other:?}"),
    }
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {
        "query": "subscription($from: Int!) { events(fromPosition: $from) { position } }",
        "variables": {"from": head}}});
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await?;
    Ok(socket)
}

#[derive(serde::Deserialize)]
struct Next {
    payload: NextPayload,
}

#[derive(serde::Deserialize)]
struct NextPayload {
    data: NextData,
}

#[derive(serde::Deserialize)]
struct NextData {
    events: Position,
}

#[derive(serde::Deserialize)]
struct Position {
    position: i64,
}

async fn subscriptions(server: &BenchServer, seconds: u64) -> anyhow::Result<Latencies> {
    let (head,): (i64,) = sqlx::query_as("SELECT coalesce(max(position), 0) FROM events")
        .fetch_one(&server.pool)
        .await?;
    let mut sockets = Vec::new();
    for _ in 0..SUBSCRIBERS {
        sockets.push(subscriber(server, head).await?);
    }
    let stop = CancellationToken::new();
    let mut readers = Vec::new();
    for mut socket in sockets {
        let stop = stop.clone();
        readers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let message = tokio::select! {
                    message = socket.next() => message,
                    _ = stop.cancelled() => break,
                };
                let at = Instant::now();
                match message {
                    Some(Ok(Message::Text(text))) => {
                        if let Ok(next) = serde_json::from_str::<Next>(text.as_str()) {
                            seen.push((next.payload.data.events.position, at));
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                }
            }
            let _ = socket.close(None).await;
            seen
        }));
    }
    // Let every subscription reach the live tail before measuring.
    // sleep-ok: benchmark scenario timing
    tokio::time::sleep(Duration::from_millis(500)).await;

    let store = EventStore::new(server.pool.clone());
    let name = PersonName::parse("Customer Bench")?;
    let phone = PhoneNumber::parse("+33 6 12 34 56 78", "33")?;
    let commits: Commits = Arc::default();
    {
        let commits = commits.clone();
        paced("appender", seconds, move |_| {
            let store = store.clone();
            let commits = commits.clone();
            let command = CustomerCommand::Register {
                name: name.clone(),
                phones: vec![phone.clone()],
                email: None,
                notes: "x".repeat(60),
                avatar_url: None,
                at: Utc::now(),
            };
            async move {
                let committed = store
                    .execute::<Customer>(
                        &CustomerId::new().to_string(),
                        command,
                        &(),
                        &Metadata::new(Actor::System),
                        None,
                    )
                    .await?;
                let returned = Instant::now();
                if let (Some(position), Ok(mut commits)) =
                    (committed.last_position(), commits.lock())
                {
                    commits.insert(position.position, returned);
                }
                Ok(())
            }
        })
        .await?;
    }
    // Give the subscribers time to drain, then stop them.
    // sleep-ok: benchmark scenario timing
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.cancel();
    let mut received = Vec::new();
    for reader in readers {
        received.push(reader.await?);
    }
    let delivered: usize = received.iter().map(Vec::len).sum();
    let commits = commits
        .lock()
        .map(|commits| commits.clone())
        .unwrap_or_default();
    println!(
        "P2 appended {} events, {} deliveries to {SUBSCRIBERS} subscribers (expected {})",
        commits.len(),
        delivered,
        commits.len() * SUBSCRIBERS
    );
    Ok(latencies(&commits, &received))
}

/// Subscriptions P6 is read with (issue 17; 100 before).
pub const P6_SUBSCRIPTIONS: usize = 1_000;

/// Opens `count` `events` subscriptions (one WebSocket each) and makes each live: one event is
/// appended and every subscription must deliver it (within 60 s). The caller keeps the sockets
/// open while it reads the server's peak RSS, then drops them.
pub async fn hold(server: &BenchServer, count: usize) -> anyhow::Result<Vec<Socket>> {
    let (head,): (i64,) = sqlx::query_as("SELECT coalesce(max(position), 0) FROM events")
        .fetch_one(&server.pool)
        .await?;
    let mut sockets = Vec::with_capacity(count);
    for _ in 0..count {
        sockets.push(subscriber(server, head).await?);
    }
    let store = EventStore::new(server.pool.clone());
    store
        .execute::<Customer>(
            &CustomerId::new().to_string(),
            CustomerCommand::Register {
                name: PersonName::parse("Customer Held")?,
                phones: vec![PhoneNumber::parse("+33 6 12 34 56 79", "33")?],
                email: None,
                notes: String::new(),
                avatar_url: None,
                at: Utc::now(),
            },
            &(),
            &Metadata::new(Actor::System),
            None,
        )
        .await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    for socket in &mut sockets {
        loop {
            match tokio::time::timeout_at(deadline, socket.next()).await {
                Ok(Some(Ok(Message::Text(text))))
                    if serde_json::from_str::<Next>(text.as_str()).is_ok() =>
                {
                    break
                }
                Ok(Some(Ok(_))) => {}
                Ok(other) => anyhow::bail!("a held subscription ended: {other:?}"),
                Err(_) => anyhow::bail!("a held subscription delivered nothing within 60 s"),
            }
        }
    }
    println!("P6: {count} subscriptions live");
    Ok(sockets)
}
