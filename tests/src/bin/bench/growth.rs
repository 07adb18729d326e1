//! P8: what a start, a telephony takeover and the first command on a long-lived aggregate cost
//! as history grows (issue 20). The same measurements at two sizes of history in the same run
//! (`--quick`: 1k and 100k calls; full: 10k and 1M), reported as big ÷ small (goal ≤ 1.5: flat);
//! the first command on a worker with as many events as calls (100k in `--quick`) after a
//! restart (goal ≤ 10 ms); the server's peak RSS at the big size (goal ≤ 150 MB).
//!
//! History: the small generated history of `tests::history` (every event made by the domain's
//! own `handle`), whose calls are then copied with new ids by SQL up to the size (as the issue's
//! table was measured: it takes seconds instead of simulating a million calls), plus one worker
//! with as many presence events (Available / Paused) as calls. Every read model is then rebuilt
//! in this process (one pass over the log), as on a server whose read models are current (P8
//! measures the telephony and the command path, not a catch-up). Setting the checkpoints to the
//! head without the rows would not do: the telephony restore starts from the `calls` and
//! `workers` read models and reads the log only after their checkpoints.
//!
//! Per size: a server process (this executable as `bench serve`, telephony on the simulated
//! Asterisk) is started: *ready* = spawn → `/readyz` 200; *restore* = its "telephony leadership
//! acquired" → "telephony view restored from the log" log lines (seen by polling its log every
//! 2 ms). A second server stands by; the leader is SIGKILLed: *failover* = the kill → a call
//! placed as soon as the standby's events socket is connected is connected to the agent
//! (`CallConnected` in the log). *RSS* = the larger VmHWM of the two processes.

use std::time::{Duration, Instant};

use ari_adapter::sim::{Behaviour, SimAsterisk, SimConfig, SimHandle};
use cqrs_es::{Aggregate, DomainEvent};
use domain::worker::{Worker, WorkerCommand};
use journal::{Actor, EventStore, Metadata, SnapshotPolicy};
use sqlx::PgPool;
use tests::faults::{ServerProcess, ServerSpec};
use tests::history::{self, HistoryConfig};
use tests::TestPostgres;

use super::server::{status_kib, SERVE_ARGUMENT};
use super::Figure;

/// What one size measured.
struct Measured {
    calls: i64,
    ready: Duration,
    restore: Duration,
    failover: Duration,
    takeover_restore: Duration,
    peak_rss_mb: f64,
    first_fold: Duration,
    first_command: Duration,
    first_command_events: u64,
}

pub async fn run(quick: bool, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    let (small, big) = if quick {
        (1_000, 100_000)
    } else {
        (10_000, 1_000_000)
    };
    // `BENCH_P8_CALLS=SMALL,BIG`: other sizes, for a smoke run of this part (not a figure).
    let (small, big) = match std::env::var("BENCH_P8_CALLS") {
        Ok(sizes) => {
            let sizes: Vec<i64> = sizes
                .split(',')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map_err(|error| anyhow::anyhow!("BENCH_P8_CALLS={sizes}: {error}"))?;
            anyhow::ensure!(
                sizes.len() == 2 && sizes[0] >= 1 && sizes[1] >= 1,
                "BENCH_P8_CALLS: two sizes, SMALL,BIG"
            );
            (sizes[0], sizes[1])
        }
        Err(_) => (small, big),
    };
    let small = measure(small).await?;
    let big = measure(big).await?;
    let (small_label, big_label) = (label(small.calls), label(big.calls));
    let ratio = |id: &str, what: &str, small: Duration, big: Duration, figures: &mut Vec<_>| {
        let (small_s, big_s) = (small.as_secs_f64(), big.as_secs_f64());
        let ratio = if small_s > 0.0 { big_s / small_s } else { 0.0 };
        println!(
            "{id} {what}: {big_s:.3} s at {big_label} calls, {small_s:.3} s at {small_label} \
             calls, ratio {ratio:.2} (goal <= 1.5)"
        );
        let figure: Figure = Figure {
            id: id.into(),
            description: format!(
                "{what} at {big_label} calls ÷ the same at {small_label} calls (value = big, \
                 limit = small, in s; ratio = value ÷ limit)"
            ),
            value: big_s,
            unit: "s".into(),
            limit: small_s,
            ratio,
            goal: "ratio <= 1.5".into(),
        };
        figures.push(figure);
    };
    ratio(
        "P8-ready",
        "ready after start (spawn -> /readyz 200)",
        small.ready,
        big.ready,
        figures,
    );
    ratio(
        "P8-restore",
        "telephony restore at start (leadership acquired -> view restored)",
        small.restore,
        big.restore,
        figures,
    );
    ratio(
        "P8-failover",
        "failover (SIGKILL of the leader -> next call connected to the agent)",
        small.failover,
        big.failover,
        figures,
    );
    println!(
        "P8 takeover restore (information): {:.3} s at {} calls, {:.3} s at {} calls",
        big.takeover_restore.as_secs_f64(),
        big.calls,
        small.takeover_restore.as_secs_f64(),
        small.calls
    );
    let first_ms = big.first_command.as_secs_f64() * 1000.0;
    println!(
        "P8-first-command {first_ms:.2} ms on a worker with {} events after a restart ({} events \
         folded after its snapshot; the very first load, without a snapshot, took {:.0} ms)",
        big.calls,
        big.first_command_events,
        big.first_fold.as_secs_f64() * 1000.0
    );
    figures.push(Figure {
        id: "P8-first-command".into(),
        description: format!(
            "first command on a worker with {} events in a new store (no cache: a restart), \
             loaded from its snapshot; limit column = the goal",
            big.calls
        ),
        value: first_ms,
        unit: "ms".into(),
        limit: 10.0,
        ratio: if first_ms > 0.0 { 10.0 / first_ms } else { 0.0 },
        goal: "<= 10 ms".into(),
    });
    println!(
        "P8-rss peak RSS of the servers at {} calls {:.1} MB (at {} calls {:.1} MB)",
        big.calls, big.peak_rss_mb, small.calls, small.peak_rss_mb
    );
    figures.push(Figure {
        id: "P8-rss".into(),
        description: format!(
            "peak RSS (VmHWM) of the leader and of the standby that took over, at {} calls; \
             limit column = the goal",
            big.calls
        ),
        value: big.peak_rss_mb,
        unit: "MB".into(),
        limit: 150.0,
        ratio: 150.0 / big.peak_rss_mb.max(1e-9),
        goal: "<= 150 MB".into(),
    });
    Ok(())
}

/// `1M`, `100k`, `1k` or the number.
fn label(calls: i64) -> String {
    match calls {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

async fn measure(calls: i64) -> anyhow::Result<Measured> {
    let postgres = TestPostgres::get().await;
    let database = postgres.fresh_database().await;
    let pool = postgres.pool(&database, 8).await;
    let sim = SimAsterisk::start(SimConfig::default()).await?;
    let started = Instant::now();
    let heavy = grow(&pool, calls).await?;
    let agent = tests::telephony::add_agent(
        &sim,
        &server_store(&pool),
        1,
        Behaviour::Answer {
            after: Duration::from_millis(20),
        },
    )
    .await;
    let rebuilding = Instant::now();
    projections::rebuild::rebuild_named(&server_store(&pool), None, &mut |_| {}).await?;
    let rebuilt = rebuilding.elapsed();
    let (events,): (i64,) = sqlx::query_as("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await?;
    println!(
        "P8 history: {calls} calls, {events} events, grown in {:.1} s (of which the read models' \
         rebuild {:.1} s)",
        started.elapsed().as_secs_f64(),
        rebuilt.as_secs_f64()
    );

    // The first command on the heavy worker: the first load ever folds it all (and writes its
    // snapshot); after a restart (a new store) the first command reads the snapshot.
    let first = server_store(&pool);
    let started = Instant::now();
    first.load_aggregate::<Worker>(&heavy).await?;
    let first_fold = started.elapsed();
    let restarted = server_store(&pool);
    let started = Instant::now();
    restarted
        .execute::<Worker>(
            &heavy,
            WorkerCommand::Pause {
                reason: domain::values::PauseReason::parse("lunch")?,
                forced_by: None,
                at: chrono::Utc::now(),
            },
            &(),
            &Metadata::new(Actor::System),
            None,
        )
        .await?;
    let first_command = started.elapsed();
    let first_command_events = restarted.load_counters().events_folded();

    // A restart is measured, not a first start: a server runs once until its process managers
    // (whose checkpoints a rebuild does not set) have read the grown log, and stops.
    let url = postgres.url(&database);
    let warming = Instant::now();
    let warm_dir = tests::faults::data_dir();
    let mut warm = spawn(&url, warm_dir.path(), &sim).await?;
    wait_ready(&warm, Duration::from_secs(300)).await?;
    process_managers_at_head(&pool, Duration::from_secs(120)).await?;
    warm.terminate();
    println!(
        "P8 {calls} calls: a first server ran until its process managers had read the log ({:.1} s)",
        warming.elapsed().as_secs_f64()
    );

    // The leader: ready and restore.
    let data_dirs = (tests::faults::data_dir(), tests::faults::data_dir());
    let started = Instant::now();
    let mut leader = spawn(&url, data_dirs.0.path(), &sim).await?;
    wait_ready(&leader, Duration::from_secs(300)).await?;
    let ready = started.elapsed();
    let restore = restore_time(&leader).await?;
    sim.wait_for_socket("callcenter", Duration::from_secs(300))
        .await?;

    // The standby, then the failover.
    let standby = spawn(&url, data_dirs.1.path(), &sim).await?;
    wait_ready(&standby, Duration::from_secs(300)).await?;
    let leader_peak = status_kib(leader.pid(), "VmHWM:").unwrap_or(0);
    let killed = Instant::now();
    leader.kill9();
    let takeover_restore = restore_time(&standby).await?;
    wait_until(Duration::from_secs(300), || {
        sim.requests()
            .iter()
            .filter(|request| request.path == "/events")
            .count()
            >= 2
            && sim.is_connected("callcenter")
    })
    .await?;
    let channel = sim.place_call("+33612340000", "Failover Caller", "100")?;
    let call_id = api::telephony::call_id_for_channel(&channel).to_string();
    if let Err(error) = wait_connected(&pool, &call_id, Duration::from_secs(300)).await {
        let events: Vec<String> = sqlx::query_scalar(
            "SELECT event_type FROM events WHERE aggregate_id = $1 ORDER BY sequence",
        )
        .bind(&call_id)
        .fetch_all(&pool)
        .await
        .unwrap_or_default();
        let log = standby.log();
        let tail: Vec<&str> = log.lines().rev().take(60).collect();
        anyhow::bail!(
            "{error}; its events: {events:?}; the standby's log ends with:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    let failover = killed.elapsed();
    let standby_peak = status_kib(standby.pid(), "VmHWM:").unwrap_or(0);
    let _ = sim.caller_hangs_up(&channel);
    let mut standby = standby;
    standby.terminate();
    sim.shutdown().await;
    pool.close().await;
    println!(
        "P8 {calls} calls: ready {:.3} s, restore {:.3} s, failover {:.3} s (takeover restore \
         {:.3} s), first command {:.2} ms ({first_command_events} events folded; first fold \
         {:.0} ms), peak RSS leader {:.1} MB / standby {:.1} MB, agent {agent}",
        ready.as_secs_f64(),
        restore.as_secs_f64(),
        failover.as_secs_f64(),
        takeover_restore.as_secs_f64(),
        first_command.as_secs_f64() * 1000.0,
        first_fold.as_secs_f64() * 1000.0,
        leader_peak as f64 / 1024.0,
        standby_peak as f64 / 1024.0,
    );
    Ok(Measured {
        calls,
        ready,
        restore,
        failover,
        takeover_restore,
        peak_rss_mb: leader_peak.max(standby_peak) as f64 / 1024.0,
        first_fold,
        first_command,
        first_command_events,
    })
}

/// A store as the server builds it (upcasters, snapshots every 100 events).
fn server_store(pool: &PgPool) -> EventStore {
    EventStore::new(pool.clone())
        .with_upcasters(journal::upcast::upcasters())
        .with_snapshots(SnapshotPolicy::every(100))
}

/// The small generated history, its calls copied up to `calls`, its workers Offline (the
/// bench's agent takes the calls), and a worker with `calls` events: its id.
async fn grow(pool: &PgPool, calls: i64) -> anyhow::Result<String> {
    let store = server_store(pool);
    let events = history::generate(&HistoryConfig::small()).await?;
    history::append(&store, &events, 5_000).await?;
    drop(events);
    let metadata = Metadata::new(Actor::System);
    let workers: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT aggregate_id FROM events WHERE aggregate_type = 'worker'",
    )
    .fetch_all(pool)
    .await?;
    for worker in workers {
        let command = WorkerCommand::GoOffline {
            forced_by: None,
            at: chrono::Utc::now(),
        };
        // A worker the history left on a call stays so (it cannot be offered a call anyway).
        let _ = store
            .execute::<Worker>(&worker, command, &(), &metadata, None)
            .await;
    }
    let base: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT aggregate_id FROM events WHERE aggregate_type = 'call' \
         ORDER BY aggregate_id",
    )
    .fetch_all(pool)
    .await?;
    anyhow::ensure!(!base.is_empty(), "the generated history has no call");
    let have = base.len() as i64;
    let missing = (calls - have).max(0);
    // Copy `k` of every base call (or of the first `take`), about 20k calls a statement.
    let per_statement = (20_000 / have).max(1);
    let (full_copies, rest) = (missing / have, missing % have);
    let mut copy = 1;
    while copy <= full_copies {
        let last = (copy + per_statement - 1).min(full_copies);
        copy_calls(pool, &base, copy, last).await?;
        copy = last + 1;
    }
    if rest > 0 {
        copy_calls(
            pool,
            &base[..rest as usize],
            full_copies + 1,
            full_copies + 1,
        )
        .await?;
    }

    // The heavy worker: registered by a command, then `calls - 1` presence events.
    let heavy = domain::ids::WorkerId::new().to_string();
    store
        .execute::<Worker>(
            &heavy,
            WorkerCommand::Register {
                name: domain::values::PersonName::parse("Heavy History")?,
                email: domain::values::EmailAddress::parse("heavy@example.com")?,
                role: domain::values::Role::Agent,
                endpoint: Some(domain::values::Endpoint::parse("PJSIP/heavy")?),
                at: chrono::Utc::now(),
            },
            &(),
            &metadata,
            None,
        )
        .await?;
    let (available, paused) = {
        let mut state = store.load_aggregate::<Worker>(&heavy).await?.0;
        let sink = cqrs_es::event_sink::EventSink::default();
        let at = chrono::Utc::now();
        state
            .handle(
                WorkerCommand::GoAvailable {
                    forced_by: None,
                    at,
                },
                &(),
                &sink,
            )
            .await?;
        state
            .handle(
                WorkerCommand::Pause {
                    reason: domain::values::PauseReason::parse("training")?,
                    forced_by: None,
                    at,
                },
                &(),
                &sink,
            )
            .await?;
        let events = sink.collect().await;
        anyhow::ensure!(events.len() == 2, "two presence events");
        (events[0].clone(), events[1].clone())
    };
    // Sequence 2, 4, …: WentAvailable; 3, 5, …: Paused; the last (even) one Available.
    let last = if calls % 2 == 0 { calls } else { calls + 1 };
    sqlx::query(
        "INSERT INTO events (event_id, aggregate_type, aggregate_id, sequence, event_type, \
           event_version, payload, metadata) \
         SELECT gen_random_uuid(), 'worker', $1, g, \
           CASE WHEN g % 2 = 0 THEN $2 ELSE $3 END, \
           CASE WHEN g % 2 = 0 THEN $4 ELSE $5 END, \
           CASE WHEN g % 2 = 0 THEN $6::jsonb ELSE $7::jsonb END, $8 \
         FROM generate_series(2::bigint, $9::bigint) g",
    )
    .bind(&heavy)
    .bind(available.event_type())
    .bind(paused.event_type())
    .bind(available.event_version())
    .bind(paused.event_version())
    .bind(serde_json::to_value(&available)?)
    .bind(serde_json::to_value(&paused)?)
    .bind(serde_json::to_value(&metadata)?)
    .bind(last)
    .execute(pool)
    .await?;
    sqlx::query("VACUUM ANALYZE events").execute(pool).await?;
    Ok(heavy)
}

/// Copies the events of `calls` as copies `first..=last`, each with a new aggregate id.
async fn copy_calls(pool: &PgPool, calls: &[String], first: i64, last: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO events (event_id, aggregate_type, aggregate_id, sequence, event_type, \
           event_version, payload, metadata) \
         SELECT gen_random_uuid(), 'call', md5(e.aggregate_id || ':' || k)::uuid::text, \
           e.sequence, e.event_type, e.event_version, e.payload, e.metadata \
         FROM generate_series($1::bigint, $2::bigint) k \
         JOIN events e ON e.aggregate_type = 'call' AND e.aggregate_id = ANY($3) \
         ORDER BY k, e.aggregate_id, e.sequence",
    )
    .bind(first)
    .bind(last)
    .bind(calls)
    .execute(pool)
    .await?;
    Ok(())
}

/// Waits until the process managers' checkpoints (those a server keeps besides the
/// projections': watchdog, deadlines, outbox, call linker) are at the head of the log.
async fn process_managers_at_head(pool: &PgPool, within: Duration) -> anyhow::Result<()> {
    let names = [
        api::backup::watchdog::CHECKPOINT,
        api::requests::deadlines::CHECKPOINT,
        "mail_outbox",
        "call_linker",
    ];
    let deadline = Instant::now() + within;
    loop {
        let behind: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM unnest($1::text[]) AS name \
             LEFT JOIN checkpoints checkpoint USING (name) \
             WHERE checkpoint.position IS NULL \
                OR checkpoint.position < (SELECT max(position) FROM events)",
        )
        .bind(&names[..])
        .fetch_one(pool)
        .await?;
        if behind == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{behind} process managers did not reach the head of the log"
        );
        // sleep-ok: poll interval of a bounded wait (checkpoints in the database)
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn spawn(
    database_url: &str,
    data_dir: &std::path::Path,
    sim: &SimHandle,
) -> anyhow::Result<ServerProcess> {
    let mut spec = ServerSpec::new(
        std::env::current_exe()?
            .to_str()
            .ok_or_else(|| anyhow::anyhow!("the bench's path is not UTF-8"))?,
        database_url.to_owned(),
        data_dir,
    );
    debug_assert_eq!(SERVE_ARGUMENT, "serve");
    spec.log_filter = "warn,api::app=info,api::telephony=info".into();
    spec.env.extend([
        ("ARI_URL".to_owned(), sim.base_url()),
        ("ARI_USER".to_owned(), "ari".to_owned()),
        ("ARI_PASSWORD".to_owned(), "ari".to_owned()),
        ("ARI_APP".to_owned(), "callcenter".to_owned()),
        ("SAVECORP_OFFER_TIMEOUT_SECS".to_owned(), "5".to_owned()),
        ("SAVECORP_WRAP_UP_SECS".to_owned(), "0".to_owned()),
    ]);
    Ok(tokio::task::spawn_blocking(move || ServerProcess::spawn(&spec)).await?)
}

/// Polls `/readyz` every 5 ms until it answers 200.
async fn wait_ready(server: &ServerProcess, within: Duration) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    let deadline = Instant::now() + within;
    loop {
        if let Ok(response) = client.get(server.url("/readyz")).send().await {
            if response.status() == 200 {
                return Ok(());
            }
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "/readyz never turned 200:\n{}",
            server.log()
        );
        // sleep-ok: poll interval of a bounded wait (/readyz is 200)
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// "telephony leadership acquired" → "telephony view restored" by the timestamps of the
/// server's log lines (the default format's first field, RFC 3339 in µs); by the instants the
/// lines were first seen if they carry none.
async fn restore_time(server: &ServerProcess) -> anyhow::Result<Duration> {
    const ACQUIRED: &str = "telephony leadership acquired";
    const RESTORED: &str = "telephony view restored";
    let acquired = wait_line(server, ACQUIRED, 0).await?;
    let restored = wait_line(server, RESTORED, 0).await?;
    let log = server.log();
    let stamp = |needle: &str| {
        let line = log.lines().find(|line| line.contains(needle))?;
        let first = line.split_whitespace().next()?;
        chrono::DateTime::parse_from_rfc3339(first).ok()
    };
    Ok(match (stamp(ACQUIRED), stamp(RESTORED)) {
        (Some(acquired), Some(restored)) => (restored - acquired).to_std().unwrap_or_default(),
        _ => restored.saturating_duration_since(acquired),
    })
}

/// The instant the server's log is first seen holding more than `seen` lines with `needle`
/// (polled every 2 ms).
async fn wait_line(server: &ServerProcess, needle: &str, seen: usize) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if server.log().matches(needle).count() > seen {
            return Ok(Instant::now());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the server never logged `{needle}`:\n{}",
            server.log()
        );
        // sleep-ok: poll interval of a bounded wait (a log line)
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn wait_until(within: Duration, mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    while !done() {
        anyhow::ensure!(Instant::now() < deadline, "timed out");
        // sleep-ok: poll interval of a bounded wait (the simulator's state)
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(())
}

/// Polls the log every 2 ms until the call is connected.
async fn wait_connected(pool: &PgPool, call_id: &str, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    loop {
        let connected: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM events WHERE aggregate_type = 'call' \
             AND aggregate_id = $1 AND event_type = 'CallConnected')",
        )
        .bind(call_id)
        .fetch_one(pool)
        .await?;
        if connected {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "call {call_id} never connected");
        // sleep-ok: poll interval of a bounded wait (CallConnected in the log)
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
