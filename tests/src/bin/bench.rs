//! The benchmark harness (issue: benchmarks measured against the raw PostgreSQL limit).
//!
//! Starts its own PostgreSQL cluster (the same settings for every figure, fsync on), measures
//! the raw limit and our figures in the same run, prints a table and writes
//! `target/bench/results.json`. Every figure is reported with its ratio to the limit measured
//! in this run, because absolute numbers drift with the machine's load.
//!
//! `cargo run --release -p tests --bin bench -- --quick` (under 2 minutes) or without `--quick`;
//! `--help` lists the options.
//!
//! P2–P4 run against the server as a separate process (`server.rs`: this executable started as
//! `bench serve`), so that P6 is the server's own peak RSS.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use domain::customer::{Customer, CustomerCommand};
use domain::ids::CustomerId;
use domain::values::{PersonName, PhoneNumber};
use journal::{Actor, EventStore, Metadata};
use serde_json::{json, Value};
use sqlx::PgPool;
use tests::TestPostgres;

#[path = "bench/api_path.rs"]
mod api_path;
#[path = "bench/growth.rs"]
mod growth;
#[path = "bench/replay.rs"]
mod replay;
#[path = "bench/server.rs"]
mod server;
#[path = "bench/subscribers.rs"]
mod subscribers;
#[path = "bench/telephony.rs"]
mod telephony;

struct Settings {
    seconds: u64,
    concurrency: Vec<usize>,
}

#[derive(serde::Serialize)]
struct Figure {
    id: String,
    description: String,
    value: f64,
    unit: String,
    limit: f64,
    ratio: f64,
    goal: String,
}

const USAGE: &str = "\
Benchmarks measured against the raw PostgreSQL limit in the same run (BENCHMARKS.md).

Usage: bench [--quick] [--skip PARTS]

Options:
  --quick        short run (100k events/calls, 5 s per figure; about 2 minutes)
  --skip PARTS   leave parts out, comma-separated: p1, p2, p3 (P3 and P4), p5, p7, p8
  -h, --help     print this help and exit

Writes target/bench/results.json. Without --quick: 1M events/calls, 10 s per figure.
P8 (history growth) compares 100k calls with 1k (--quick), 1M with 10k (full).
";

/// The parts `--skip` accepts.
const PARTS: [&str; 6] = ["p1", "p2", "p3", "p5", "p7", "p8"];

/// Checks the command line: `Err(exit code)` after printing the help or an error.
fn check_arguments(args: &[String]) -> Result<(), u8> {
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Err(0);
            }
            "--quick" => {}
            "--skip" => match rest.next() {
                Some(parts) if parts.split(',').all(|part| PARTS.contains(&part)) => {}
                Some(parts) => {
                    eprintln!(
                        "error: --skip {parts}: the parts are {} (comma-separated)",
                        PARTS.join(", ")
                    );
                    return Err(2);
                }
                None => {
                    eprintln!("error: --skip needs a value: {}", PARTS.join(", "));
                    return Err(2);
                }
            },
            other => {
                eprintln!("error: unknown argument `{other}`\n\n{USAGE}");
                return Err(2);
            }
        }
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    // `bench serve`: the server under measurement (see `server.rs`).
    if std::env::args().nth(1).as_deref() == Some(server::SERVE_ARGUMENT) {
        return api::cli::main();
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(code) = check_arguments(&args) {
        return std::process::ExitCode::from(code);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn bench() -> anyhow::Result<()> {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let settings = if quick {
        Settings {
            seconds: 5,
            concurrency: vec![1, 8, 16, 64],
        }
    } else {
        Settings {
            seconds: 10,
            concurrency: vec![1, 8, 16, 32, 64],
        }
    };
    let postgres = TestPostgres::get().await;
    let mut figures = Vec::new();

    // P1-peak's limit: the practical ceiling of durable row writes (10 rows per commit, 8
    // clients), measured once in this run.
    let raw_rows = if skip("p1") {
        None
    } else {
        let database = postgres.fresh_database().await;
        let pool = postgres.pool(&database, 10).await;
        create_raw_table(&pool).await?;
        let rows = raw_rows_per_second(&pool, 8, 10, settings.seconds).await?;
        println!("P1 raw INSERT rows/s, 10 rows per commit, 8 clients {rows:>9.0}");
        pool.close().await;
        Some(rows)
    };
    let mut peak: f64 = 0.0;
    for &clients in &settings.concurrency {
        if skip("p1") {
            break;
        }
        let database = postgres.fresh_database().await;
        let pool = postgres.pool(&database, clients as u32 + 2).await;
        create_raw_table(&pool).await?;
        let raw = raw_inserts_per_second(&pool, clients, settings.seconds).await?;
        let (commands, latencies) = commands_per_second(&pool, clients, settings.seconds).await?;
        if clients >= 16 {
            peak = peak.max(commands);
        }
        if clients == 16 {
            let p99 = latencies.quantile_ms(0.99);
            println!(
                "P1-p99 command latency at 16 clients {p99:>8.3} ms  (p50 {:.3} ms, {} samples)",
                latencies.quantile_ms(0.5),
                latencies.count()
            );
            figures.push(Figure {
                id: "P1-p99".into(),
                description: "latency p99 of EventStore::execute (one registration each) at 16 \
                              clients, after the warm-up second"
                    .into(),
                value: p99,
                unit: "ms".into(),
                limit: 5.0,
                ratio: if p99 > 0.0 { 5.0 / p99 } else { 0.0 },
                goal: "<= 5 ms (limit column = the goal)".into(),
            });
        }
        println!(
            "P1 clients={clients:>3}  raw INSERT commits/s {raw:>9.0}  commands/s {commands:>9.0}  ratio {:.2}",
            commands / raw
        );
        figures.push(Figure {
            id: format!("P1@{clients}"),
            description: format!(
                "durable commands/s through the full command path, {clients} clients"
            ),
            value: commands,
            unit: "commands/s".into(),
            limit: raw,
            ratio: commands / raw,
            goal: "ratio >= 0.90 at 16 clients".into(),
        });
        pool.close().await;
    }
    if let Some(rows) = raw_rows.filter(|_| peak > 0.0) {
        println!(
            "P1-peak best commands/s at 16+ clients {peak:>9.0}  raw rows/s (10 per commit, 8 clients) {rows:>9.0}  ratio {:.3}",
            peak / rows
        );
        figures.push(Figure {
            id: "P1-peak".into(),
            description: "best commands/s at 16/32/64 clients (those measured) ÷ raw INSERT \
                          rows/s with 10 rows per commit at 8 clients, same run"
                .into(),
            value: peak,
            unit: "commands/s".into(),
            limit: rows,
            ratio: peak / rows,
            goal: "ratio >= 0.50".into(),
        });
    }

    // The server runs from P4 to the end of P2 (P3's rebuild runs in this process: see
    // `replay.rs`); P6 is its peak RSS over that whole life.
    let mut server = None;
    if !skip("p3") {
        let history = replay::run(quick, &mut figures, &mut || {
            reset_peak_rss();
        })
        .await?;
        let spawned = server::BenchServer::spawn(&history.database).await?;
        replay::p4(&spawned, quick, &history.config, &mut figures).await?;
        server = Some(spawned);
    }

    if !skip("p2") {
        let spawned = match server.take() {
            Some(spawned) => spawned,
            None => server::BenchServer::spawn(&postgres.fresh_database().await).await?,
        };
        subscribers::run(&spawned, quick, &mut figures).await?;
        server = Some(spawned);
    }
    // P6 is read with 1,000 live subscriptions (issue 17; 100, those of P2, before).
    let held = match &server {
        Some(server) if !skip("p2") => {
            subscribers::hold(server, subscribers::P6_SUBSCRIPTIONS).await?
        }
        _ => Vec::new(),
    };
    if let Some(server) = &server {
        if let Some(peak) = server.peak_rss_mb() {
            println!(
                "P6 peak RSS of the server process (pid {}) {peak:.1} MB",
                server.pid()
            );
            figures.push(Figure {
                id: "P6".into(),
                description: format!(
                    "peak RSS (VmHWM) of the server process over P4 and P2, read with {} live \
                     subscriptions (a separate `savecorp serve`; P3's rebuild runs in the bench \
                     process)",
                    held.len()
                ),
                value: peak,
                unit: "MB".into(),
                limit: 150.0,
                ratio: 150.0 / peak,
                goal: "<= 150 MB (limit column = the goal)".into(),
            });
        }
    }
    // Information: the bench process's own peak since the history generator's memory was freed
    // (P3's rebuild, P4's direct queries, the P2 clients and appender).
    if let Some(peak) = server::status_kib(std::process::id(), "VmHWM:") {
        let peak = peak as f64 / 1024.0;
        println!("P6-bench peak RSS of the bench process {peak:.1} MB (information)");
        figures.push(Figure {
            id: "P6-bench".into(),
            description: "peak RSS of the bench process itself (P3 rebuild, P4 direct queries, \
                          P2 clients), for information"
                .into(),
            value: peak,
            unit: "MB".into(),
            limit: 150.0,
            ratio: 150.0 / peak,
            goal: "(information)".into(),
        });
    }

    drop(held);
    // P7 last on the same server (after P6's reading: its 64 connections and 100k bulk
    // customers are not part of P6's definition).
    if !skip("p7") {
        let spawned = match server.take() {
            Some(spawned) => spawned,
            None => server::BenchServer::spawn(&postgres.fresh_database().await).await?,
        };
        api_path::run(&spawned, quick, settings.seconds, &mut figures).await?;
        server = Some(spawned);
    }
    if let Some(server) = server {
        server.stop().await?;
    }
    if !skip("p5") {
        telephony::run(quick, &mut figures).await?;
    }
    if !skip("p8") {
        growth::run(quick, &mut figures).await?;
    }

    print_table(&figures);
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&out)?;
    let machine = json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "quick": quick,
        "seconds_per_figure": settings.seconds,
        "at": Utc::now().to_rfc3339(),
    });
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(&json!({"machine": machine, "figures": figures}))?,
    )?;
    println!("wrote {}", out.join("results.json").display());
    Ok(())
}

/// `--skip p3` (or p2, p1) leaves a part out, for working on the others.
fn skip(part: &str) -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .any(|pair| pair[0] == "--skip" && pair[1].split(',').any(|name| name == part))
}

/// Resets this process's VmHWM to its current RSS (Linux `clear_refs` 5); false if refused.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn print_table(figures: &[Figure]) {
    println!();
    println!(
        "| {:<20} | {:>12} | {:>12} | {:<12} | {:>6} | {:<28} |",
        "figure", "value", "limit", "unit", "ratio", "goal"
    );
    println!(
        "|{:-<22}|{:->14}|{:->14}|{:-<14}|{:->8}|{:-<30}|",
        "", "", "", "", "", ""
    );
    for figure in figures {
        println!(
            "| {:<20} | {:>12.2} | {:>12.2} | {:<12} | {:>6.3} | {:<28} |",
            figure.id, figure.value, figure.limit, figure.unit, figure.ratio, figure.goal
        );
    }
    println!();
}

/// Latency samples, sorted.
struct Latencies(Vec<Duration>);

impl Latencies {
    fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort();
        Self(samples)
    }

    /// The `q` quantile in milliseconds (0 when there are no samples).
    fn quantile_ms(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let index = ((self.0.len() as f64 * q).ceil() as usize).clamp(1, self.0.len()) - 1;
        self.0[index].as_secs_f64() * 1000.0
    }

    fn count(&self) -> usize {
        self.0.len()
    }
}

/// Two figures (p50, p99) of `ours` against `limit`; the ratio is limit ÷ value, so 1.0 means
/// as fast as the limit, like the throughput ratios.
fn latency_figures(
    figures: &mut Vec<Figure>,
    id: &str,
    description: &str,
    ours: &Latencies,
    limit: &Latencies,
    limit_description: &str,
    goal: &str,
) {
    for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
        let value = ours.quantile_ms(q);
        let raw = limit.quantile_ms(q);
        let ratio = if value > 0.0 { raw / value } else { 0.0 };
        println!(
            "{id} {name} {value:>8.3} ms  limit ({limit_description}) {raw:>8.3} ms  ratio {ratio:.3}  ({} samples)",
            ours.count()
        );
        figures.push(Figure {
            id: format!("{id} {name}"),
            description: format!("{description}; limit: {limit_description}"),
            value,
            unit: "ms".into(),
            limit: raw,
            ratio,
            goal: goal.into(),
        });
    }
}

/// The limit's table: shaped like `events` (same keys and indexes).
async fn create_raw_table(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query(
        "CREATE TABLE bench_raw ( \
            position BIGINT GENERATED ALWAYS AS IDENTITY, \
            tx_id XID8 NOT NULL DEFAULT pg_current_xact_id(), \
            aggregate_type TEXT NOT NULL, aggregate_id TEXT NOT NULL, sequence BIGINT NOT NULL, \
            payload JSONB NOT NULL, \
            PRIMARY KEY (aggregate_type, aggregate_id, sequence))",
    )
    .execute(pool)
    .await?;
    sqlx::query("CREATE UNIQUE INDEX ON bench_raw (tx_id, position)")
        .execute(pool)
        .await?;
    Ok(())
}

/// A payload of about 200 bytes, as in PERFORMANCE.md.
fn payload(n: u64) -> Value {
    json!({"Registered": {"name": format!("Customer {n}"), "phones": ["+33612345678"],
           "email": "someone@example.com", "notes": "x".repeat(60), "at": Utc::now()}})
}

async fn run_clients<F, Fut>(clients: usize, seconds: u64, work: F) -> anyhow::Result<f64>
where
    F: Fn(u64, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let work = Arc::new(work);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for client in 0..clients as u64 {
        let work = work.clone();
        let stop = stop.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                work(client, n).await?;
                n += 1;
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    // Warm up for a second, then measure.
    // sleep-ok: benchmark scenario timing (measures over a duration)
    tokio::time::sleep(Duration::from_secs(1)).await;
    let start_count = done.load(Ordering::Relaxed);
    let start = Instant::now();
    // sleep-ok: benchmark scenario timing (measures over a duration)
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let count = done.load(Ordering::Relaxed) - start_count;
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await??;
    }
    Ok(count as f64 / elapsed)
}

async fn raw_inserts_per_second(
    pool: &PgPool,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<f64> {
    let pool = pool.clone();
    run_clients(clients, seconds, move |client, n| {
        let pool = pool.clone();
        async move {
            sqlx::query(
                "INSERT INTO bench_raw (aggregate_type, aggregate_id, sequence, payload) \
                 VALUES ('customer', $1, 1, $2)",
            )
            .bind(format!("raw-{client}-{n}"))
            .bind(payload(n))
            .execute(&pool)
            .await?;
            Ok(())
        }
    })
    .await
}

/// Raw INSERT rows/s with `rows` rows per autocommit statement (one commit each).
async fn raw_rows_per_second(
    pool: &PgPool,
    clients: usize,
    rows: usize,
    seconds: u64,
) -> anyhow::Result<f64> {
    let pool = pool.clone();
    let commits = run_clients(clients, seconds, move |client, n| {
        let pool = pool.clone();
        async move {
            let ids: Vec<String> = (0..rows).map(|row| format!("raw-{client}-{n}-{row}")).collect();
            let payloads: Vec<Value> = (0..rows as u64).map(|row| payload(n * 100 + row)).collect();
            sqlx::query(
                "INSERT INTO bench_raw (aggregate_type, aggregate_id, sequence, payload) \
                 SELECT 'customer', id, 1, payload FROM UNNEST($1::text[], $2::jsonb[]) AS t(id, payload)",
            )
            .bind(&ids)
            .bind(&payloads)
            .execute(&pool)
            .await?;
            Ok(())
        }
    })
    .await?;
    Ok(commits * rows as f64)
}

/// Commands/s, and the latency of each command completed after the warm-up second.
async fn commands_per_second(
    pool: &PgPool,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<(f64, Latencies)> {
    let store = EventStore::new(pool.clone());
    let name = PersonName::parse("Customer Bench")?;
    let phone = PhoneNumber::parse("+33 6 12 34 56 78", "33")?;
    let measured_from = Instant::now() + Duration::from_secs(1);
    let samples = Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = samples.clone();
    let rate = run_clients(clients, seconds, move |_client, _n| {
        let store = store.clone();
        let recorded = recorded.clone();
        let command = CustomerCommand::Register {
            name: name.clone(),
            phones: vec![phone.clone()],
            email: None,
            notes: "x".repeat(60),
            avatar_url: None,
            at: Utc::now(),
        };
        async move {
            let metadata = Metadata::new(Actor::System);
            let started = Instant::now();
            store
                .execute::<Customer>(
                    &CustomerId::new().to_string(),
                    command,
                    &(),
                    &metadata,
                    None,
                )
                .await?;
            if started >= measured_from {
                recorded
                    .lock()
                    .map_err(|_| anyhow::anyhow!("latency samples poisoned"))?
                    .push(started.elapsed());
            }
            Ok(())
        }
    })
    .await?;
    let samples = std::mem::take(
        &mut *samples
            .lock()
            .map_err(|_| anyhow::anyhow!("latency samples poisoned"))?,
    );
    Ok((rate, Latencies::new(samples)))
}

#[cfg(test)]
mod argument_tests {
    use super::check_arguments;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn help_and_bad_arguments_stop_before_any_measurement() {
        assert_eq!(check_arguments(&args("--help")), Err(0));
        assert_eq!(check_arguments(&args("--quick -h")), Err(0));
        assert_eq!(check_arguments(&args("--quik")), Err(2));
        assert_eq!(check_arguments(&args("--skip")), Err(2));
        assert_eq!(check_arguments(&args("--skip p4")), Err(2));
        assert_eq!(check_arguments(&args("")), Ok(()));
        assert_eq!(check_arguments(&args("--quick --skip p1,p3")), Ok(()));
        assert_eq!(check_arguments(&args("--quick --skip p1,p2,p3,p5")), Ok(()));
        assert_eq!(check_arguments(&args("--skip p8")), Ok(()));
    }
}
