//! P2: commit → GraphQL `events` subscriber latency, 100 subscribers over real WebSockets, at
//! about 1,000 events/s; the limit is a raw LISTEN/NOTIFY round trip at the same rate.
//!
//! Latency = the subscriber's receive instant − the instant the appender's append returned
//! (same process, same monotonic clock). A message can arrive before the append returns (the
//! notify fires at commit); that counts as 0.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use domain::customer::{Customer, CustomerCommand};
use domain::ids::CustomerId;
use domain::values::{PersonName, PhoneNumber};
use projections::{Actor, EventStore, Metadata};
use serde_json::json;
use sqlx::postgres::PgListener;
use tests::graphql::{bootstrap_admin, WsClient};
use tests::TestApp;
use tokio::sync::broadcast;

use super::{latency_figures, Figure, Latencies};

const SUBSCRIBERS: usize = 100;
const EVENTS_PER_SECOND: u64 = 1_000;

type Commits = Arc<Mutex<HashMap<i64, Instant>>>;

pub async fn run(quick: bool, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    let seconds = if quick { 5 } else { 10 };
    let app = TestApp::spawn().await;
    let raw = raw_listen_notify(&app, seconds).await?;
    let ours = subscriptions(&app, seconds).await?;
    latency_figures(
        figures,
        "P2",
        &format!(
            "commit -> `events` subscriber over graphql-transport-ws, {SUBSCRIBERS} subscribers, \
             ~{EVENTS_PER_SECOND} events/s"
        ),
        &ours,
        &raw,
        "raw commit -> NOTIFY received on one LISTEN connection, fanned out to 100 tasks",
        "p99 <= 15 ms",
    );
    app.stop().await;
    Ok(())
}

/// Runs `append(n)` about `EVENTS_PER_SECOND` times a second for `seconds`, each in its own task.
async fn paced<F, Fut>(seconds: u64, append: F) -> anyhow::Result<()>
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / EVENTS_PER_SECOND));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    let mut n = 0;
    while Instant::now() < end {
        tick.tick().await;
        tasks.push(tokio::spawn(append(n)));
        n += 1;
    }
    for task in tasks {
        task.await??;
    }
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

async fn raw_listen_notify(app: &TestApp, seconds: u64) -> anyhow::Result<Latencies> {
    sqlx::query(
        "CREATE TABLE bench_notify (id BIGINT PRIMARY KEY, payload JSONB NOT NULL, \
         at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .execute(&app.pool)
    .await?;
    let mut listener = PgListener::connect_with(&app.pool).await?;
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
        .connect_with(app.pool.connect_options().as_ref().clone())
        .await?;
    {
        let commits = commits.clone();
        paced(seconds, move |n| {
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

async fn subscriptions(app: &TestApp, seconds: u64) -> anyhow::Result<Latencies> {
    let admin = bootstrap_admin(app).await;
    let (head,): (i64,) = sqlx::query_as("SELECT coalesce(max(position), 0) FROM events")
        .fetch_one(&app.pool)
        .await?;
    let mut clients = Vec::new();
    for _ in 0..SUBSCRIBERS {
        let mut client = WsClient::connect_as(app, Some(&admin.access_token)).await;
        client
            .subscribe(
                "1",
                "subscription($from: Int!) { events(fromPosition: $from) { position } }",
                json!({"from": head}),
            )
            .await;
        clients.push(client);
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for mut client in clients {
        let stop = stop.clone();
        readers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let Some(message) = client.next_within(Duration::from_millis(500)).await else {
                    continue;
                };
                let at = Instant::now();
                if let Some(position) = message["payload"]["data"]["events"]["position"].as_i64() {
                    seen.push((position, at));
                }
            }
            client.drop_connection().await;
            seen
        }));
    }
    // Let every subscription reach the live tail before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let store = EventStore::new(app.pool.clone());
    let name = PersonName::parse("Customer Bench")?;
    let phone = PhoneNumber::parse("+33 6 12 34 56 78", "33")?;
    let commits: Commits = Arc::default();
    {
        let commits = commits.clone();
        paced(seconds, move |_| {
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
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
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
