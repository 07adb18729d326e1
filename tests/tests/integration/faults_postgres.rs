//! Fault class 2 (RELIABILITY.md): PostgreSQL is stopped mid-load (`pg_ctl stop -m fast`, then
//! `-m immediate`, i.e. a crash) and started again, on a cluster of this test's own (the shared
//! test cluster is never touched). While it is down the server answers every GraphQL request
//! within bounded time with `extensions.code = "UNAVAILABLE"`, `/readyz` says not ready and
//! `/healthz` alive; once it is back the server reconnects by itself (pool, projector, the
//! advisory-lock leaders), nothing acknowledged is lost, and the read models catch up and equal
//! a rebuild.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::PgPool;
use tests::faults::{self, Ledger, Outcome, ServerProcess, ServerSpec};
use tests::TestPostgres;
use tokio_util::sync::CancellationToken;

/// Advisory locks granted in `database` (the leaders: projector, watchdog, mail outbox…), as
/// `(classid, objid, objsubid)`: for a one-bigint key, its high and low halves and 1.
async fn advisory_locks(pool: &PgPool, database: &str) -> Vec<(i64, i64, i16)> {
    sqlx::query_as(
        "SELECT classid::bigint, objid::bigint, objsubid::smallint FROM pg_locks \
         WHERE locktype = 'advisory' AND granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = $1) ORDER BY 1, 2, 3",
    )
    .bind(database)
    .fetch_all(pool)
    .await
    .expect("pg_locks")
}

/// Sessions of `database` whose last statement was a LISTEN (the log notifiers).
async fn listeners(pool: &PgPool, database: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query ILIKE 'listen%'",
    )
    .bind(database)
    .fetch_one(pool)
    .await
    .expect("pg_stat_activity")
}

/// Probes the server while the database is down: GraphQL (anonymous and authenticated, query
/// and mutation), `/readyz`, `/healthz`. Returns the number of probes.
async fn probe_while_down(
    server: &mut ServerProcess,
    token: &str,
    ingest_token: &str,
    during: Duration,
) -> u64 {
    let http = faults::http_client();
    let until = Instant::now() + during;
    let mut probes = 0;
    while Instant::now() < until {
        for (token, query, variables) in [
            (None, "{ logHead }", json!({})),
            (Some(token), "{ me { id } }", json!({})),
            (
                Some(ingest_token),
                "mutation { reportBackupRun(kind: START) { runId } }",
                json!({}),
            ),
            (
                Some(token),
                "mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) { id } }",
                json!({"input": {"name": "Down Customer", "phones": ["+33799999999"]}}),
            ),
        ] {
            let started = Instant::now();
            let outcome = faults::graphql(&http, &server.address, token, query, variables).await;
            probes += 1;
            match &outcome {
                Outcome::Answered { status, body } => {
                    assert!(
                        *status == 200 || *status == 503,
                        "{query}: HTTP {status} {body}"
                    );
                    assert_eq!(
                        outcome.code(),
                        Some("UNAVAILABLE"),
                        "{query} while the database is down: HTTP {status} {body}"
                    );
                }
                Outcome::Transport(error) => panic!(
                    "{query}: no answer within bounds while the database is down ({:?}): {error}",
                    started.elapsed()
                ),
            }
        }
        let ping = http
            .post(server.url(&format!("/ping/{ingest_token}/start")))
            .send()
            .await
            .expect("/ping answers");
        assert_eq!(ping.status(), 503, "/ping while the database is down");
        let readyz = http
            .get(server.url("/readyz"))
            .send()
            .await
            .expect("/readyz answers");
        assert_eq!(readyz.status(), 503, "/readyz while the database is down");
        let healthz = http
            .get(server.url("/healthz"))
            .send()
            .await
            .expect("/healthz answers");
        assert_eq!(healthz.status(), 200, "/healthz: the process is alive");
        probes += 3;
        assert!(server.is_alive(), "the server died:\n{}", server.log());
        // sleep-ok: probe pacing while the database is down (bounded by its duration)
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    probes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_fast_or_immediate_mid_load_is_unavailable_then_recovered_without_loss() {
    let seed = faults::seed("postgres restart", 0xDB_0FF);
    let postgres = TestPostgres::private().await;
    let database = postgres.fresh_database().await;
    let pool = postgres.pool(&database, 2).await;
    let (email, password) = faults::bootstrap_admin(&pool).await;
    let data = faults::data_dir();
    let spec = ServerSpec::new(
        env!("CARGO_BIN_EXE_savecorp-under-test"),
        postgres.url(&database),
        data.path(),
    );
    let mut server = ServerProcess::spawn(&spec);
    server.wait_ready(Duration::from_secs(90)).await;
    let token = faults::login(&server.address, email, password).await;
    let customer = faults::graphql(
        &faults::http_client(),
        &server.address,
        Some(&token),
        "mutation { registerCustomer(input: {name: \"Pinging Customer\", phones: [\"+33611111111\"]}) { id } }",
        json!({}),
    )
    .await;
    let customer = customer.data("registerCustomer").expect("customer")["id"].clone();
    let issued = faults::graphql(
        &faults::http_client(),
        &server.address,
        Some(&token),
        "mutation($id: ID!) { issueIngestToken(customerId: $id) { token } }",
        json!({"id": customer}),
    )
    .await;
    let ingest_token = issued.data("issueIngestToken").expect("ingest token")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let leaders = advisory_locks(&pool, &database).await;
    assert!(
        !leaders.is_empty(),
        "the server's leaders hold advisory locks"
    );
    let listening = listeners(&pool, &database).await;
    assert!(listening > 0, "the server LISTENs for appends");

    let target = Arc::new(Mutex::new(Some(server.address.clone())));
    let ledger = Ledger::default();
    let stop = CancellationToken::new();
    let load = faults::spawn_load(
        2,
        seed,
        token.clone(),
        target.clone(),
        ledger.clone(),
        stop.clone(),
    );
    let mut probes = 0;
    let mut acknowledged_after = Vec::new();
    for mode in ["fast", "immediate"] {
        let before = ledger.acknowledged();
        let deadline = Instant::now() + Duration::from_secs(30);
        while ledger.acknowledged() < before + 10 && Instant::now() < deadline {
            // sleep-ok: poll interval of a bounded wait (more acknowledgements)
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let cluster = &postgres;
        tokio::task::block_in_place(|| cluster.stop_cluster(mode));
        probes +=
            probe_while_down(&mut server, &token, &ingest_token, Duration::from_secs(3)).await;
        tokio::task::block_in_place(|| cluster.start_cluster());
        server.wait_ready(Duration::from_secs(60)).await;
        let before = ledger.acknowledged();
        let deadline = Instant::now() + Duration::from_secs(30);
        while ledger.acknowledged() < before + 10 && Instant::now() < deadline {
            // sleep-ok: poll interval of a bounded wait (more acknowledgements)
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        acknowledged_after.push((mode, ledger.acknowledged() - before));
        // The leaders (projector, watchdog, mail outbox…) took their locks again, and the
        // notifiers LISTEN again.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let held = advisory_locks(&pool, &database).await;
            let listening_now = listeners(&pool, &database).await;
            if held == leaders && listening_now == listening {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "after the {mode} restart the leaders' advisory locks are {held:?}, before \
                 {leaders:?}; {listening_now} LISTEN sessions, before {listening}"
            );
            // sleep-ok: poll interval of a bounded wait (leaders' locks and LISTEN back)
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    stop.cancel();
    let stats = faults::join_load(load).await;
    assert!(
        acknowledged_after.iter().all(|(_, count)| *count >= 10),
        "the server served again after each restart: {acknowledged_after:?}"
    );
    faults::wait_for_projections(&pool, Duration::from_secs(60)).await;
    let status = server.terminate();
    assert!(status.success(), "clean exit after SIGTERM: {status}");
    faults::assert_no_panic(&server.log());
    let (acknowledged, present) = faults::assert_nothing_acknowledged_is_lost(&pool, &ledger).await;
    println!(
        "postgres restart: 2 outages (fast, immediate), {probes} probes while down, {} commands \
         sent, {acknowledged} acknowledged, {present} in the log, errors {:?}, HTTP statuses {:?}, \
         transport errors {}, slowest request {:?}, losses 0, duplicates 0",
        stats.sent, stats.error_codes, stats.statuses, stats.transport_errors, stats.slowest
    );
    assert_eq!(
        stats.transport_errors, 0,
        "every request got an answer in bounded time"
    );
    for code in stats.error_codes.keys() {
        assert_eq!(
            code, "UNAVAILABLE",
            "errors under load: {:?}",
            stats.error_samples
        );
    }
    faults::assert_read_models_equal_rebuild(&pool).await;
    pool.close().await;
    // The private cluster is not needed by anyone else: stop it now rather than at exit.
    tokio::task::block_in_place(|| postgres.stop_cluster("fast"));
}
