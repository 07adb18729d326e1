//! P3 (projection rebuild vs a raw ordered read of the log) and P4 (read-model queries vs a raw
//! `SELECT … ORDER BY … LIMIT 20`), both on a generated, valid history.

use std::time::Instant;

use chrono::TimeDelta;
use futures::StreamExt;
use journal::EventStore;
use projections::readmodels::calls::{self, CallFilter};
use projections::readmodels::keyset::{Key, PageQuery};
use projections::readmodels::kpis::{self, BucketSize, KpiFilters};
use projections::readmodels::requests::{self, RequestFilter, RequestSort};
use projections::rebuild::rebuild_named;
use serde_json::json;
use sqlx::PgPool;
use tests::history::{self, HistoryConfig};
use tests::TestPostgres;

use super::server::BenchServer;
use super::{latency_figures, Figure, Latencies};

/// The history: `HistoryConfig::large()` (~100k events) in quick mode, ten times its days
/// (~1M events) otherwise.
fn history_config(quick: bool) -> HistoryConfig {
    let mut config = HistoryConfig::large();
    if !quick {
        config.days *= 10;
    }
    config
}

/// The database P3 built, for P4 (and the server).
pub struct History {
    pub database: String,
    pub config: HistoryConfig,
}

/// P3, in this process (the rebuild is measured against the raw read; its memory is not the
/// serving process's: P6 measures the server started afterwards on this database, for P4).
///
/// `history_freed` is called once the generated history is appended and dropped (the bench
/// process's own peak RSS is reset there: the generator is a benchmark tool).
pub async fn run(
    quick: bool,
    figures: &mut Vec<Figure>,
    history_freed: &mut dyn FnMut(),
) -> anyhow::Result<History> {
    let postgres = TestPostgres::get().await;
    let database = postgres.fresh_database().await;
    let pool = postgres.pool(&database, 8).await;
    let store = EventStore::new(pool.clone());

    let config = history_config(quick);
    let started = Instant::now();
    let events = history::generate(&config).await?;
    let generated = started.elapsed();
    let started = Instant::now();
    history::append(&store, &events, 5_000).await?;
    println!(
        "history: {} events generated in {:.1} s, appended in {:.1} s",
        events.len(),
        generated.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    let total = events.len() as f64;
    drop(events);
    history_freed();
    sqlx::query("VACUUM ANALYZE events").execute(&pool).await?;

    // The limit: the same events, in log order, streamed to this client.
    let raw_rate = {
        let mut connection = pool.acquire().await?;
        let started = Instant::now();
        let mut stream = connection
            .copy_out_raw(
                "COPY (SELECT position, tx_id, event_id, aggregate_type, aggregate_id, sequence, \
                        event_type, event_version, payload, metadata, recorded_at \
                      FROM events ORDER BY tx_id, position) TO STDOUT",
            )
            .await?;
        let mut rows = 0u64;
        while let Some(chunk) = stream.next().await {
            rows += chunk?.iter().filter(|&&byte| byte == b'\n').count() as u64;
        }
        drop(stream);
        rows as f64 / started.elapsed().as_secs_f64()
    };

    let started = Instant::now();
    let reports = rebuild_named(&store, None, &mut |_| {}).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let rebuild_rate = total / elapsed;
    for report in &reports {
        println!(
            "P3 rebuild {:<10} {:>9.0} events/s",
            report.projection,
            report.events as f64 / report.elapsed.as_secs_f64().max(1e-9)
        );
    }
    let slowest = reports
        .iter()
        .map(|report| report.events as f64 / report.elapsed.as_secs_f64().max(1e-9))
        .fold(f64::INFINITY, f64::min);
    println!(
        "P3 events {total:.0}  raw ordered COPY {raw_rate:>9.0} events/s  rebuild of every read \
         model {rebuild_rate:>9.0} events/s  ratio {:.3}",
        rebuild_rate / raw_rate
    );
    figures.push(Figure {
        id: "P3".into(),
        description: format!(
            "rebuild of all {} read models from a {total:.0}-event log (log events / total time)",
            reports.len()
        ),
        value: rebuild_rate,
        unit: "events/s".into(),
        limit: raw_rate,
        ratio: rebuild_rate / raw_rate,
        goal: "ratio >= 0.25".into(),
    });
    figures.push(Figure {
        id: "P3-slowest".into(),
        description:
            "the slowest single projection's rebuild rate (events of the whole log / its time)"
                .into(),
        value: slowest,
        unit: "events/s".into(),
        limit: raw_rate,
        ratio: slowest / raw_rate,
        goal: "(information)".into(),
    });

    pool.close().await;
    Ok(History { database, config })
}

/// Multiplies the calls (and their KPI facts and bucket counts) up to `target` rows: copies
/// with new ids and queue times jittered by up to 10 minutes, so the shape of the data stays.
async fn scale_calls(pool: &PgPool, target: i64) -> anyhow::Result<i64> {
    let (have,): (i64,) = sqlx::query_as("SELECT count(*) FROM calls")
        .fetch_one(pool)
        .await?;
    if have == 0 {
        anyhow::bail!("the history produced no calls");
    }
    let copies = (target + have - 1) / have - 1;
    if copies > 0 {
        sqlx::query(
            "INSERT INTO calls SELECT gen_random_uuid(), caller_number, caller_name, customer_id, \
                 channel_id, queue, status, outcome, ended_by, end_reason, agent_id, attempts, \
                 queued_at + random() * interval '10 minutes', connected_at, ended_at, wait_secs, \
                 talk_secs, version \
             FROM calls, generate_series(1, $1)",
        )
        .bind(copies)
        .execute(pool)
        .await?;
        sqlx::query(
            "INSERT INTO kpi_call_facts SELECT gen_random_uuid(), queue, agent_id, \
                 queued_at + random() * interval '10 minutes', connected_at, ended_at, \
                 abandoned_at, wrap_up_secs \
             FROM kpi_call_facts, generate_series(1, $1)",
        )
        .bind(copies)
        .execute(pool)
        .await?;
        sqlx::query(
            "UPDATE kpi_call_buckets SET offered = offered * $1, answered = answered * $1, \
                 abandoned = abandoned * $1, abandoned_short = abandoned_short * $1, \
                 answered_within_threshold = answered_within_threshold * $1, \
                 abandoned_after_threshold = abandoned_after_threshold * $1, \
                 answered_wait_ms = answered_wait_ms * $1, handled = handled * $1, \
                 handle_ms = handle_ms * $1",
        )
        .bind(copies + 1)
        .execute(pool)
        .await?;
        sqlx::query(
            "UPDATE kpi_slot_totals SET offered = offered * $1, answered = answered * $1, \
                 abandoned = abandoned * $1, abandoned_short = abandoned_short * $1, \
                 answered_within_threshold = answered_within_threshold * $1, \
                 abandoned_after_threshold = abandoned_after_threshold * $1, \
                 answered_wait_ms = answered_wait_ms * $1, handled = handled * $1, \
                 handle_ms = handle_ms * $1",
        )
        .bind(copies + 1)
        .execute(pool)
        .await?;
    }
    sqlx::query(
        "VACUUM ANALYZE calls, kpi_call_facts, kpi_call_buckets, kpi_slot_totals, requests",
    )
    .execute(pool)
    .await?;
    let (now,): (i64,) = sqlx::query_as("SELECT count(*) FROM calls")
        .fetch_one(pool)
        .await?;
    Ok(now)
}

async fn time<F, Fut>(rounds: usize, mut call: F) -> anyhow::Result<Latencies>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut samples = Vec::with_capacity(rounds);
    for round in 0..rounds + rounds / 10 {
        let started = Instant::now();
        call(round).await?;
        // The first tenth warms the caches and the statement cache up.
        if round >= rounds / 10 {
            samples.push(started.elapsed());
        }
    }
    Ok(Latencies::new(samples))
}

/// P4 on the database P3 built, served by `server` (a separate process): the calls are scaled
/// there, each query is timed called directly (the server-side latency, as before) and then sent
/// to the server as GraphQL over HTTP (information: the whole request, and the server's memory
/// during P4 is real).
pub async fn p4(
    server: &BenchServer,
    quick: bool,
    config: &HistoryConfig,
    figures: &mut Vec<Figure>,
) -> anyhow::Result<()> {
    let pool = &server.pool;
    let target = if quick { 100_000 } else { 1_000_000 };
    let started = Instant::now();
    let calls_count = scale_calls(pool, target).await?;
    println!(
        "P4 calls table scaled to {calls_count} rows in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let rounds = if quick { 300 } else { 1_000 };

    let raw = time(rounds, |_| async {
        sqlx::query("SELECT * FROM calls ORDER BY queued_at, call_id LIMIT 20")
            .fetch_all(pool)
            .await?;
        Ok(())
    })
    .await?;

    // Walks ten pages from the start, then starts again.
    let mut cursor: Option<Key> = None;
    let mut calls_pages = Vec::new();
    for round in 0..rounds + rounds / 10 {
        if round % 10 == 0 {
            cursor = None;
        }
        let started = Instant::now();
        let page = calls::list(
            pool,
            &CallFilter::default(),
            &PageQuery::after(20, cursor.clone()),
        )
        .await?;
        if round >= rounds / 10 {
            calls_pages.push(started.elapsed());
        }
        cursor = page.rows.get(19).map(|(key, _)| key.clone());
    }
    let calls_pages = Latencies::new(calls_pages);

    let answered = CallFilter {
        status: Some("ended".into()),
        ..CallFilter::default()
    };
    let calls_filtered = time(rounds, |_| {
        let answered = answered.clone();
        async move {
            calls::list(pool, &answered, &PageQuery::first(20)).await?;
            Ok(())
        }
    })
    .await?;

    let requests_page = time(rounds, |round| async move {
        let sort = [
            RequestSort::OpenedAt,
            RequestSort::DueAt,
            RequestSort::UpdatedAt,
        ][round % 3];
        requests::list(pool, &RequestFilter::default(), sort, &PageQuery::first(20)).await?;
        Ok(())
    })
    .await?;

    let from = config.first_day;
    let until = from + TimeDelta::days(30);
    let zone = chrono_tz::Europe::Paris;
    let kpi_rounds = if quick { 60 } else { 200 };
    let kpi = time(kpi_rounds, |round| async move {
        // An unaligned start exercises the facts tables at the edges too.
        let from = from + TimeDelta::minutes((round % 7) as i64 * 5);
        kpis::kpis(
            pool,
            from,
            until,
            BucketSize::Day,
            zone,
            &KpiFilters::default(),
        )
        .await?;
        Ok(())
    })
    .await?;

    let goal = "p99 <= 5 ms";
    for (id, description, latencies) in [
        (
            "P4-calls",
            "calls::list, 20 per page, walking 10 pages",
            &calls_pages,
        ),
        (
            "P4-calls-status",
            "calls::list filtered by status, first page",
            &calls_filtered,
        ),
        (
            "P4-requests",
            "requests::list, 20 per page, each sort key",
            &requests_page,
        ),
        (
            "P4-kpis",
            "kpis::kpis, 30 days in day buckets, Europe/Paris",
            &kpi,
        ),
    ] {
        latency_figures(
            figures,
            id,
            &format!("{description} on {calls_count} calls"),
            latencies,
            &raw,
            "raw SELECT * FROM calls ORDER BY queued_at LIMIT 20",
            goal,
        );
    }

    p4_http(
        server,
        rounds,
        kpi_rounds,
        config,
        calls_count,
        &raw,
        figures,
    )
    .await
}

const CALLS_PAGE: &str = "query($after: String, $state: CallState) { \
    calls(first: 20, after: $after, state: $state) { \
        edges { node { id state callerNumber customerId agentId queuedAt connectedAt endedAt \
                       attempts waitSecs talkSecs } } \
        pageInfo { endCursor hasNextPage } } }";
const REQUESTS_PAGE: &str = "query($sort: RequestSort!) { \
    requests(first: 20, sortBy: $sort) { edges { node { id status priority openedAt dueAt } } \
        pageInfo { endCursor hasNextPage } } }";
const KPIS: &str = "query($from: DateTime!, $until: DateTime!) { \
    kpis(from: $from, until: $until, bucket: DAY, timeZone: \"Europe/Paris\") { overdueNow \
        buckets { start end offered answered abandoned abandonedShort asaSecs ahtSecs \
                  serviceLevel abandonmentRate occupancy requestsOpened requestsSolved \
                  requestsSolvedWithinDue } } }";

/// The same four P4 queries as GraphQL over HTTP to the server, as its admin: the whole request
/// (client, HTTP, auth, GraphQL, the server's SQL, JSON). Information beside the direct figures.
async fn p4_http(
    server: &BenchServer,
    rounds: usize,
    kpi_rounds: usize,
    config: &HistoryConfig,
    calls_count: i64,
    raw: &Latencies,
    figures: &mut Vec<Figure>,
) -> anyhow::Result<()> {
    let mut cursor = serde_json::Value::Null;
    let mut calls_pages = Vec::new();
    for round in 0..rounds + rounds / 10 {
        if round % 10 == 0 {
            cursor = serde_json::Value::Null;
        }
        let started = Instant::now();
        let data = server
            .graphql(CALLS_PAGE, json!({"after": cursor, "state": null}))
            .await?;
        if round >= rounds / 10 {
            calls_pages.push(started.elapsed());
        }
        cursor = data["calls"]["pageInfo"]["endCursor"].clone();
    }
    let calls_pages = Latencies::new(calls_pages);
    let calls_filtered = time(rounds, |_| async {
        server
            .graphql(CALLS_PAGE, json!({"after": null, "state": "ENDED"}))
            .await?;
        Ok(())
    })
    .await?;
    let requests_page = time(rounds, |round| async move {
        let sort = ["OPENED_AT", "DUE_AT", "UPDATED_AT"][round % 3];
        server.graphql(REQUESTS_PAGE, json!({"sort": sort})).await?;
        Ok(())
    })
    .await?;
    let until = config.first_day + TimeDelta::days(30);
    let kpi = time(kpi_rounds, |round| async move {
        let from = config.first_day + TimeDelta::minutes((round % 7) as i64 * 5);
        server
            .graphql(KPIS, json!({"from": from, "until": until}))
            .await?;
        Ok(())
    })
    .await?;
    for (id, description, latencies) in [
        (
            "P4-http-calls",
            "GraphQL calls(first: 20) over HTTP, walking 10 pages",
            &calls_pages,
        ),
        (
            "P4-http-calls-status",
            "GraphQL calls(first: 20, state: ENDED) over HTTP",
            &calls_filtered,
        ),
        (
            "P4-http-requests",
            "GraphQL requests(first: 20) over HTTP, each sort key",
            &requests_page,
        ),
        (
            "P4-http-kpis",
            "GraphQL kpis, 30 days in day buckets, Europe/Paris, over HTTP",
            &kpi,
        ),
    ] {
        latency_figures(
            figures,
            id,
            &format!("{description} on {calls_count} calls (the whole request, client side)"),
            latencies,
            raw,
            "raw SELECT * FROM calls ORDER BY queued_at LIMIT 20",
            "p99 <= 10 ms",
        );
    }
    Ok(())
}
