//! The CLI and a second server on the data folder of a live server on the embedded cluster
//! (issue 14 §1): nobody stops the cluster under a server that still uses it; the cluster stops
//! with its last user; a killed postmaster is started again by the server within 5 s. Every
//! test runs under write load and checks that nothing acknowledged is lost.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tests::faults::{self, Ledger, LoadStats, ServerProcess, ServerSpec};
use tests::graphql::{ADMIN_EMAIL, PASSWORD};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const BINARY: &str = env!("CARGO_BIN_EXE_savecorp-under-test");

/// A server on the embedded cluster of `data` (no `DATABASE_URL`), with a first admin.
fn spec(data: &Path) -> ServerSpec {
    let mut spec = ServerSpec::new(BINARY, String::new(), data);
    spec.env.extend([
        ("SAVECORP_ADMIN_EMAIL".to_owned(), ADMIN_EMAIL.to_owned()),
        ("SAVECORP_ADMIN_PASSWORD".to_owned(), PASSWORD.to_owned()),
    ]);
    spec
}

/// `savecorp <args>` on the data folder, run to its end: (success, stdout, stderr).
async fn savecorp(data: &Path, args: &[&str]) -> (bool, String, String) {
    let output = tokio::process::Command::new(BINARY)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .env("SAVECORP_DATA_DIR", data)
        .env("SAVECORP_ADMIN_PASSWORD", "a second admin password")
        .stdin(Stdio::null())
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), output)
        .await
        .expect("the command ends within 2 minutes")
        .expect("the command runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A superuser pool on the server's database, over the cluster's socket.
async fn superuser_pool(data: &Path) -> sqlx::PgPool {
    sqlx::PgPool::connect(&format!(
        "postgres:///savecorp?host={}&port=5432&user=postgres",
        data.join("pg").display()
    ))
    .await
    .expect("connect over the socket")
}

/// Postmasters serving the cluster in `data` (their command line names the data folder; a
/// zombie's is empty).
fn postmasters(data: &Path) -> usize {
    let needle = data.join("pg").join("data").to_string_lossy().to_string();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .map(|cmdline| String::from_utf8_lossy(&cmdline).replace('\0', " "))
        .filter(|cmdline| cmdline.contains("postgres") && cmdline.contains(&needle))
        .count()
}

fn postmaster_pid(data: &Path) -> Option<i32> {
    std::fs::read_to_string(data.join("pg/data/postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// Probes `/readyz` until `stop`: (probes, the answers that were not 200).
fn watch_ready(address: String, stop: CancellationToken) -> JoinHandle<(u64, Vec<String>)> {
    tokio::spawn(async move {
        let client = faults::http_client();
        let mut probes = 0;
        let mut failures = Vec::new();
        while !stop.is_cancelled() {
            probes += 1;
            match client.get(format!("http://{address}/readyz")).send().await {
                Ok(response) if response.status() == 200 => {}
                Ok(response) => failures.push(format!(
                    "{}: {}",
                    response.status(),
                    response.text().await.unwrap_or_default()
                )),
                Err(error) => failures.push(error.to_string()),
            }
            tokio::select! {
                _ = stop.cancelled() => {}
                // sleep-ok: probe pacing until the test stops the prober
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
        (probes, failures)
    })
}

/// Waits (bounded) until the server acknowledged `more` further commands: it still writes.
async fn wait_for_acknowledgements(ledger: &Ledger, more: usize, what: &str) {
    let target = ledger.acknowledged() + more;
    let deadline = Instant::now() + Duration::from_secs(20);
    while ledger.acknowledged() < target {
        assert!(
            Instant::now() < deadline,
            "{what}: the server acknowledged no more writes within 20 s"
        );
        // sleep-ok: poll interval of a bounded wait (more acknowledgements)
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A write load on `server`: (ledger, stop, clients).
async fn start_load(
    server: &ServerProcess,
    seed: u64,
) -> (Ledger, CancellationToken, Vec<JoinHandle<LoadStats>>) {
    let token = faults::login(&server.address, ADMIN_EMAIL, PASSWORD).await;
    let ledger = Ledger::default();
    let stop = CancellationToken::new();
    let target: faults::Target = Arc::new(Mutex::new(Some(server.address.clone())));
    let clients = faults::spawn_load(2, seed, token, target, ledger.clone(), stop.clone());
    (ledger, stop, clients)
}

fn assert_load_clean(stats: &LoadStats) {
    assert!(stats.acknowledged > 0, "{stats:?}");
    assert!(
        stats.error_codes.is_empty() && stats.statuses.is_empty() && stats.transport_errors == 0,
        "every command was answered and acknowledged: {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_commands_on_the_folder_of_a_live_server_leave_it_serving_and_lose_nothing() {
    let data = faults::data_dir();
    let mut server = ServerProcess::spawn(&spec(data.path()));
    server.wait_ready(Duration::from_secs(60)).await;
    let (ledger, stop, clients) = start_load(&server, 1401).await;
    let watch = watch_ready(server.address.clone(), stop.clone());
    wait_for_acknowledgements(&ledger, 5, "before the commands").await;

    let role_query = "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user";
    let commands: [&[&str]; 6] = [
        &["psql", "--", "-tAc", role_query],
        &["projections", "status"],
        &["projections", "rebuild"],
        &["projections", "snapshot"],
        &["migrate"],
        &["admin", "create", "--email", "second.admin@savecorp.test"],
    ];
    for args in commands {
        let (ok, stdout, stderr) = savecorp(data.path(), args).await;
        assert!(ok, "savecorp {args:?} failed:\n{stdout}\n{stderr}");
        if args[0] == "psql" {
            assert_eq!(
                stdout.trim(),
                "f",
                "the server's role is neither superuser nor createrole"
            );
        }
        if args == ["projections", "snapshot"] {
            // One line per snapshotted type; the admin (a worker) at least was written.
            assert!(
                stdout.contains("worker: ") && !stdout.contains("worker: 0 "),
                "{stdout}"
            );
        }
        assert!(
            !stderr.contains("NOTICE") && !stderr.contains("sqlx::postgres::notice"),
            "savecorp {args:?} printed PostgreSQL notices:\n{stderr}"
        );
        wait_for_acknowledgements(&ledger, 5, &format!("after savecorp {args:?}")).await;
    }

    stop.cancel();
    let stats = faults::join_load(clients).await;
    let (probes, failures) = watch.await.expect("watch");
    assert!(probes > 0);
    assert!(
        failures.is_empty(),
        "/readyz failed {} of {probes} times: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_load_clean(&stats);
    let pool = superuser_pool(data.path()).await;
    let (acknowledged, _) = faults::assert_nothing_acknowledged_is_lost(&pool, &ledger).await;
    assert!(acknowledged > 0);
    let (current_user_is_superuser,): (bool,) =
        sqlx::query_as("SELECT rolsuper FROM pg_roles WHERE rolname = 'savecorp'")
            .fetch_one(&pool)
            .await
            .expect("the application role exists");
    assert!(!current_user_is_superuser);
    pool.close().await;

    let status = server.terminate();
    assert!(status.success(), "{status}\n{}", server.log());
    assert_eq!(
        postmasters(data.path()),
        0,
        "the last user stopped the cluster"
    );
    faults::assert_no_panic(&server.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_folder_the_cluster_stops_with_the_last_one() {
    let data = faults::data_dir();
    let mut first = ServerProcess::spawn(&spec(data.path()));
    first.wait_ready(Duration::from_secs(60)).await;
    let mut second = ServerProcess::spawn(&spec(data.path()));
    second.wait_ready(Duration::from_secs(60)).await;
    let (ledger, stop, clients) = start_load(&second, 1402).await;
    let watch = watch_ready(second.address.clone(), stop.clone());
    wait_for_acknowledgements(&ledger, 5, "before the first server stops").await;

    // The first server started the cluster; it stops first.
    let status = first.terminate();
    assert!(status.success(), "{status}\n{}", first.log());
    assert_eq!(postmasters(data.path()), 1, "the cluster still runs");
    wait_for_acknowledgements(&ledger, 5, "after the first server stopped").await;

    stop.cancel();
    let stats = faults::join_load(clients).await;
    let (probes, failures) = watch.await.expect("watch");
    assert!(
        failures.is_empty(),
        "/readyz of the second server failed {} of {probes} times: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_load_clean(&stats);
    let pool = superuser_pool(data.path()).await;
    faults::assert_nothing_acknowledged_is_lost(&pool, &ledger).await;
    pool.close().await;

    let status = second.terminate();
    assert!(status.success(), "{status}\n{}", second.log());
    assert_eq!(postmasters(data.path()), 0, "the last server stopped it");
    faults::assert_no_panic(&first.log());
    faults::assert_no_panic(&second.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_postmaster_is_started_again_by_the_server_within_5_seconds() {
    let data = faults::data_dir();
    let mut server = ServerProcess::spawn(&spec(data.path()));
    server.wait_ready(Duration::from_secs(60)).await;
    let (ledger, stop, clients) = start_load(&server, 1403).await;
    wait_for_acknowledgements(&ledger, 5, "before the kill").await;

    let killed = postmaster_pid(data.path()).expect("postmaster.pid");
    kill(Pid::from_raw(killed), Signal::SIGKILL).expect("SIGKILL sent");
    let killed_at = Instant::now();
    let client = faults::http_client();
    loop {
        let restarted = postmaster_pid(data.path()).is_some_and(|pid| pid != killed);
        let ready = match client.get(server.url("/readyz")).send().await {
            Ok(response) => response.status() == 200,
            Err(_) => false,
        };
        if restarted && ready {
            break;
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(5),
            "not ready again within 5 s of the kill:\n{}",
            server.log()
        );
        // sleep-ok: poll interval of a bounded wait (restarted and ready)
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("ready again {:?} after the kill", killed_at.elapsed());
    assert!(
        server
            .log()
            .contains("embedded PostgreSQL is running again"),
        "the server says so in its log:\n{}",
        server.log()
    );
    wait_for_acknowledgements(&ledger, 5, "after the restart").await;

    stop.cancel();
    let stats = faults::join_load(clients).await;
    assert!(stats.acknowledged > 0, "{stats:?}");
    let pool = superuser_pool(data.path()).await;
    faults::assert_nothing_acknowledged_is_lost(&pool, &ledger).await;
    pool.close().await;
    let status = server.terminate();
    assert!(status.success(), "{status}\n{}", server.log());
    assert_eq!(postmasters(data.path()), 0);
    faults::assert_no_panic(&server.log());
}

/// Objects of the application's database not owned by the application role.
async fn not_owned_by_the_application_role(pool: &sqlx::PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT 'relation ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') \
           AND c.relowner <> 'savecorp'::regrole \
         UNION ALL SELECT 'function ' || p.proname FROM pg_proc p \
           JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE n.nspname = 'public' AND p.proowner <> 'savecorp'::regrole \
         UNION ALL SELECT 'schema public' FROM pg_namespace \
         WHERE nspname = 'public' AND nspowner <> 'savecorp'::regrole \
         UNION ALL SELECT 'database' FROM pg_database \
         WHERE datname = 'savecorp' AND datdba <> 'savecorp'::regrole",
    )
    .fetch_all(pool)
    .await
    .expect("owners")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_whose_database_the_superuser_owns_is_handed_to_the_application_role() {
    let data = faults::data_dir();
    let mut server = ServerProcess::spawn(&spec(data.path()));
    server.wait_ready(Duration::from_secs(60)).await;
    let pool = superuser_pool(data.path()).await;
    assert_eq!(
        not_owned_by_the_application_role(&pool).await,
        Vec::<String>::new()
    );
    // As a cluster made by a version that ran everything as `postgres`.
    sqlx::query(
        "DO $$ DECLARE item record; BEGIN \
           ALTER DATABASE savecorp OWNER TO postgres; ALTER SCHEMA public OWNER TO postgres; \
           FOR item IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP \
             EXECUTE format('ALTER TABLE public.%I OWNER TO postgres', item.tablename); END LOOP; \
           FOR item IN SELECT p.oid::regprocedure AS name FROM pg_proc p \
             JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' LOOP \
             EXECUTE format('ALTER ROUTINE %s OWNER TO postgres', item.name); END LOOP; \
         END $$",
    )
    .execute(&pool)
    .await
    .expect("ownership handed to postgres");
    assert!(!not_owned_by_the_application_role(&pool).await.is_empty());
    pool.close().await;
    server.terminate();

    let mut server = ServerProcess::spawn(&spec(data.path()));
    server.wait_ready(Duration::from_secs(60)).await;
    let pool = superuser_pool(data.path()).await;
    assert_eq!(
        not_owned_by_the_application_role(&pool).await,
        Vec::<String>::new(),
        "everything is the application role's again"
    );
    pool.close().await;
    let (ok, stdout, stderr) = savecorp(
        data.path(),
        &[
            "psql",
            "--",
            "-tAc",
            "SELECT current_user || ' ' || rolsuper FROM pg_roles WHERE rolname = current_user",
        ],
    )
    .await;
    assert!(ok, "{stdout}\n{stderr}");
    assert_eq!(stdout.trim(), "savecorp false");
    let status = server.terminate();
    assert!(status.success(), "{status}\n{}", server.log());
}
