//! Hostile and slow backup clients (issue 19 §1) over raw TCP sockets: uploads that announce a
//! large body and go silent hold no database connection and no lock, so logins and GraphQL
//! lists stay prompt; they are closed after the read timeout (or below the minimum rate); a
//! second upload of a customer while one is in progress answers 409 at once.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use api::backup::service;
use api::ServeConfig;
use domain::plan::RetentionPolicy;
use serde_json::json;
use tests::backup::{count_events, entry, eventually, manifest, period_plan, ping};
use tests::graphql::{bootstrap_admin, gql, register_worker, PASSWORD};
use tests::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A short read timeout (the test waits for it to pass) and the default minimum rate.
fn short_read_timeout(config: &mut ServeConfig, read_timeout_ms: u64) {
    config.backup.ingest_read_timeout_ms = read_timeout_ms;
    config.backup.ingest_min_bytes_per_sec = 1024;
}

/// A customer with a plan and an ingest token; returns the customer and the token.
async fn customer_with_token(app: &TestApp, name: &str) -> (domain::ids::CustomerId, String) {
    let customer = tests::backup::register_customer(
        &app.state,
        name,
        &format!("{}@slow.example", name.to_lowercase().replace(' ', "-")),
    )
    .await;
    let plan = period_plan(86_400, 3_600, &[], RetentionPolicy::default());
    let token = tests::backup::given_plan_and_token(&app.state, customer, plan).await;
    (customer, token)
}

/// Starts `POST /ping/<token>` announcing a 100 000-byte manifest, sends 20 bytes of it and
/// goes silent.
async fn stalled_upload(address: SocketAddr, token: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.expect("connects");
    let head = format!(
        "POST /ping/{token}?rid=stalled HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: application/x-ndjson\r\nContent-Length: 100000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head sent");
    stream
        .write_all(b"{\"path\":\"/data/a.tx")
        .await
        .expect("20 bytes sent");
    stream
}

/// Reads what the server sends until it closes the connection (bounded by `within`); returns
/// the status line.
async fn answer_then_close(stream: &mut TcpStream, within: Duration) -> String {
    let mut received = Vec::new();
    tokio::time::timeout(within, stream.read_to_end(&mut received))
        .await
        .expect("the server closes the stalled connection in time")
        .expect("read");
    let text = String::from_utf8_lossy(&received);
    text.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn twenty_stalled_uploads_leave_logins_and_lists_prompt_and_are_closed_after_the_read_timeout(
) {
    tests::init_test_log();
    const READ_TIMEOUT: Duration = Duration::from_secs(6);
    let app =
        TestApp::spawn_with(|config| short_read_timeout(config, READ_TIMEOUT.as_millis() as u64))
            .await;
    let admin = bootstrap_admin(&app).await;
    let mut agents = Vec::new();
    for index in 0..3 {
        let email = format!("agent{index}@slow.example");
        register_worker(&app, &admin, &email, "AGENT", None).await;
        agents.push(email);
    }
    let mut tokens = Vec::new();
    for index in 0..20 {
        tokens.push(
            customer_with_token(&app, &format!("Slow Customer {index}"))
                .await
                .1,
        );
    }

    // 20 uploads (more than the pool's 8 connections) start and go silent.
    let started = Instant::now();
    let mut stalled = Vec::new();
    for token in &tokens {
        stalled.push(stalled_upload(app.address, token).await);
    }
    eventually(20, "the server receives the 20 uploads", || async {
        app.state.backup.uploads.in_progress() == 20
    })
    .await;

    // Agents log in and list, all at once: each is answered, promptly (the pool's acquire
    // timeout is 5 s: an answer held behind the uploads would take that long and fail).
    let calls = agents.iter().map(|email| {
        let app = &app;
        async move {
            let call_started = Instant::now();
            let answer = gql(
                app,
                None,
                "mutation($email: String!, $password: String!) { \
                 login(email: $email, password: $password) { accessToken } }",
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
            let token = answer.data("login")["accessToken"]
                .as_str()
                .expect("access token")
                .to_owned();
            let login_took = call_started.elapsed();
            let mut list_took = Vec::new();
            for query in [
                "{ workers(first: 20) { totalCount nodes { id name } } }",
                "{ customers(first: 20) { nodes { id name } } }",
                "{ me { id } queueStatus { waiting { callId } } }",
            ] {
                let list_started = Instant::now();
                let answer = gql(app, Some(&token), query, json!({})).await;
                assert!(
                    answer.body.get("errors").is_none() && answer.status == 200,
                    "{query}: {} {}",
                    answer.status,
                    answer.body
                );
                list_took.push(list_started.elapsed());
            }
            (login_took, list_took)
        }
    });
    let timings = futures::future::join_all(calls).await;
    for (login_took, list_took) in &timings {
        assert!(
            *login_took < Duration::from_secs(3),
            "login took {login_took:?}"
        );
        for took in list_took {
            assert!(*took < Duration::from_secs(2), "a list took {took:?}");
        }
    }
    assert_eq!(
        app.state.backup.uploads.in_progress(),
        20,
        "the calls were answered while the 20 uploads were still stalled"
    );
    let ready = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status().as_u16(), 200);

    // Each stalled upload is answered 408 and closed, once its read timeout has passed.
    for stream in &mut stalled {
        let status = answer_then_close(stream, READ_TIMEOUT + Duration::from_secs(20)).await;
        assert!(status.starts_with("HTTP/1.1 408"), "{status}");
    }
    assert!(
        started.elapsed() >= READ_TIMEOUT,
        "closed before the read timeout"
    );
    eventually(10, "every upload slot released", || async {
        app.state.backup.uploads.in_progress() == 0
    })
    .await;
    assert_eq!(count_events(&app, "BackupRunSucceeded").await, 0);
    let (staged,): (i64,) = sqlx::query_as("SELECT count(*) FROM backup_manifests")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(staged, 0, "nothing staged in the database");
    app.stop().await;
}

#[tokio::test]
async fn a_second_upload_of_a_customer_while_one_is_in_progress_answers_409_at_once() {
    tests::init_test_log();
    const READ_TIMEOUT: Duration = Duration::from_secs(2);
    let app =
        TestApp::spawn_with(|config| short_read_timeout(config, READ_TIMEOUT.as_millis() as u64))
            .await;
    let (customer, token) = customer_with_token(&app, "Busy Customer").await;
    let (_, other_token) = customer_with_token(&app, "Other Customer").await;
    let body = manifest(&[entry("/data/a.txt", 1, 1_700_000_000, "aa")]);

    let mut first = stalled_upload(app.address, &token).await;
    eventually(10, "the first upload is being received", || async {
        app.state.backup.uploads.in_progress() == 1
    })
    .await;
    for suffix in ["?rid=second", "/fail?rid=second", "/0"] {
        let asked = Instant::now();
        let (status, answer) = ping(&app, &token, suffix, body.clone()).await;
        assert_eq!(status, 409, "{suffix}: {answer}");
        assert_eq!(answer["code"], "UPLOAD_IN_PROGRESS");
        assert!(
            asked.elapsed() < READ_TIMEOUT,
            "answered at once, not after the first upload"
        );
    }
    // Another customer is not held up.
    let (status, answer) = ping(&app, &other_token, "?rid=other", body.clone()).await;
    assert_eq!(status, 200, "{answer}");

    let status = answer_then_close(&mut first, READ_TIMEOUT + Duration::from_secs(20)).await;
    assert!(status.starts_with("HTTP/1.1 408"), "{status}");
    eventually(10, "the slot is released", || async {
        app.state.backup.uploads.in_progress() == 0
    })
    .await;
    let (status, answer) = ping(&app, &token, "?rid=second", body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["recorded"], true);
    let runs = service::backup_runs(&app.state.backup_state(), customer)
        .await
        .expect("runs");
    assert_eq!(runs.len(), 1, "the stalled upload recorded nothing");
    app.stop().await;
}

#[tokio::test]
async fn a_body_trickling_in_below_the_minimum_rate_is_refused_even_if_never_idle() {
    tests::init_test_log();
    const READ_TIMEOUT: Duration = Duration::from_secs(2);
    let app =
        TestApp::spawn_with(|config| short_read_timeout(config, READ_TIMEOUT.as_millis() as u64))
            .await;
    let (customer, token) = customer_with_token(&app, "Trickle Customer").await;
    let mut stream = TcpStream::connect(app.address).await.expect("connects");
    let head = format!(
        "POST /ping/{token}/fail HTTP/1.1\r\nHost: {}\r\nContent-Length: 100000\r\n\r\n",
        app.address
    );
    stream.write_all(head.as_bytes()).await.expect("head sent");
    // One byte every 200 ms (5 bytes/s, far below 1024 bytes/s): never idle for the read
    // timeout, yet given up once the timeout's allowance is spent.
    let started = Instant::now();
    let mut buffer = [0u8; 512];
    let answer = loop {
        assert!(
            started.elapsed() < READ_TIMEOUT + Duration::from_secs(20),
            "the trickling body is still being read"
        );
        if stream.write_all(b"x").await.is_err() {
            break String::new();
        }
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break String::new(),
            Ok(Ok(read)) => break String::from_utf8_lossy(&buffer[..read]).into_owned(),
            Err(_) => {} // nothing yet: the client's next byte
        }
    };
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    assert!(started.elapsed() >= READ_TIMEOUT);
    eventually(10, "the slot is released", || async {
        app.state.backup.uploads.in_progress() == 0
    })
    .await;
    let runs = service::backup_runs(&app.state.backup_state(), customer)
        .await
        .expect("runs");
    assert!(runs.is_empty(), "nothing recorded: {runs:?}");
    app.stop().await;
}
