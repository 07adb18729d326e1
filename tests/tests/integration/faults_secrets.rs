//! Fault class 5 (RELIABILITY.md): secrets never leak. A server child process, logging at
//! `trace`, goes through login, refresh, a failed login, a password change, worker
//! registration, logout, ingest-token issue, use (ping and GraphQL), revocation and refused
//! use. Then the passwords, password hashes, JWTs (and their signatures), refresh tokens and
//! ingest tokens are searched for in the whole event log (payload and metadata), in every table
//! of the database, in the mail files and in everything the server wrote to stdout/stderr.
//! The credential and token lookup tables may hold hashes, never a secret itself.

use std::time::Duration;

use serde_json::{json, Value};
use sqlx::PgPool;
use tests::faults::{self, ServerProcess, ServerSpec};
use tests::TestPostgres;

/// Tables that are lookups by hash: hashes allowed, plain secrets not.
const CREDENTIAL_TABLES: &[&str] = &["credentials", "refresh_tokens", "ingest_tokens", "sessions"];

const ADMIN_EMAIL: &str = "secrets-admin@savecorp.test";
const ADMIN_PASSWORD: &str = "admin pass phrase 7Qx!vR2m";
const AGENT_PASSWORD: &str = "agent first phrase K9#pLw4z";
const AGENT_NEW_PASSWORD: &str = "agent second phrase Zt5$eYq8";
const WRONG_PASSWORD: &str = "a wrong guess phrase Hn3&uJ6c";

async fn call(server: &ServerProcess, token: Option<&str>, query: &str, variables: Value) -> Value {
    let outcome = faults::graphql(
        &faults::http_client(),
        &server.address,
        token,
        query,
        variables,
    )
    .await;
    match outcome {
        faults::Outcome::Answered { status: 200, body } if body.get("errors").is_none() => {
            body["data"].clone()
        }
        other => panic!("{query}: {other:?}"),
    }
}

async fn table_texts(pool: &PgPool) -> Vec<(String, String)> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut texts = Vec::new();
    for (table,) in tables {
        let text: String = sqlx::query_scalar(&format!(
            "SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM \"{table}\" t"
        ))
        .fetch_one(pool)
        .await
        .expect("table text");
        texts.push((table, text));
    }
    texts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_hashes_jwts_and_ingest_tokens_never_reach_events_read_models_mails_or_logs() {
    let postgres = TestPostgres::get().await;
    let database = postgres.fresh_database().await;
    let pool = postgres.pool(&database, 2).await;
    let data = faults::data_dir();
    let mut spec = ServerSpec::new(
        env!("CARGO_BIN_EXE_savecorp-under-test"),
        postgres.url(&database),
        data.path(),
    );
    spec.log_filter = "trace".into();
    spec.env = vec![
        ("SAVECORP_ADMIN_EMAIL".into(), ADMIN_EMAIL.into()),
        ("SAVECORP_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
    ];
    let mut server = ServerProcess::spawn(&spec);
    server.wait_ready(Duration::from_secs(90)).await;

    let login = "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken refreshToken } }";
    let mut jwts = Vec::new();
    let mut refresh_tokens = Vec::new();
    let remember = |payload: &Value, jwts: &mut Vec<String>, refresh: &mut Vec<String>| {
        jwts.push(payload["accessToken"].as_str().expect("jwt").to_owned());
        refresh.push(
            payload["refreshToken"]
                .as_str()
                .expect("refresh")
                .to_owned(),
        );
    };
    let admin = call(
        &server,
        None,
        login,
        json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
    )
    .await;
    remember(&admin["login"], &mut jwts, &mut refresh_tokens);
    let admin_jwt = jwts[0].clone();

    call(&server, Some(&admin_jwt),
        "mutation($input: RegisterWorkerInput!) { registerWorker(input: $input) { id } }",
        json!({"input": {"name": "Agent Secret", "email": "agent@secrets.test", "role": "AGENT", "password": AGENT_PASSWORD}})).await;
    let agent = call(
        &server,
        None,
        login,
        json!({"email": "agent@secrets.test", "password": AGENT_PASSWORD}),
    )
    .await;
    remember(&agent["login"], &mut jwts, &mut refresh_tokens);
    let refreshed = call(&server, None,
        "mutation($token: String!) { refreshSession(refreshToken: $token) { accessToken refreshToken } }",
        json!({"token": refresh_tokens[1]})).await;
    remember(&refreshed["refreshSession"], &mut jwts, &mut refresh_tokens);
    let failed = faults::graphql(
        &faults::http_client(),
        &server.address,
        None,
        login,
        json!({"email": "agent@secrets.test", "password": WRONG_PASSWORD}),
    )
    .await;
    assert_eq!(failed.code(), Some("UNAUTHENTICATED"));
    let changed = call(&server, Some(&jwts[2]),
        "mutation($old: String!, $new: String!) { changePassword(currentPassword: $old, newPassword: $new) { accessToken refreshToken } }",
        json!({"old": AGENT_PASSWORD, "new": AGENT_NEW_PASSWORD})).await;
    remember(&changed["changePassword"], &mut jwts, &mut refresh_tokens);
    let agent_jwt = jwts[3].clone();
    call(&server, Some(&agent_jwt), "{ me { id } }", json!({})).await;

    // Ingest tokens: issue, use by ping and by GraphQL, revoke, refused use, issue another.
    let customer = call(&server, Some(&agent_jwt),
        "mutation { registerCustomer(input: {name: \"Secret Keeper\", phones: [\"+33633333333\"], email: \"keeper@secrets.test\"}) { id } }",
        json!({})).await["registerCustomer"]["id"].clone();
    call(&server, Some(&admin_jwt),
        "mutation($id: ID!) { setBackupPlan(customerId: $id, plan: {periodSecs: 86400, graceSecs: 3600, reportRecipients: [\"ops@secrets.test\"]}) { status } }",
        json!({"id": customer})).await;
    let issue = "mutation($id: ID!) { issueIngestToken(customerId: $id) { token tokenId } }";
    let issued = call(&server, Some(&admin_jwt), issue, json!({"id": customer})).await;
    let ingest_token = issued["issueIngestToken"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let token_id = issued["issueIngestToken"]["tokenId"].clone();
    let http = faults::http_client();
    let ping = |path: String, body: &'static str| {
        let http = http.clone();
        let url = server.url(&path);
        async move {
            http.post(url)
                .body(body)
                .send()
                .await
                .expect("ping")
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        ping(format!("/ping/{ingest_token}/start?rid=r1"), "").await,
        200
    );
    assert_eq!(
        ping(
            format!("/ping/{ingest_token}?rid=r1"),
            "{\"path\":\"a.txt\",\"size\":1,\"mtime\":1732680000,\"hash\":\"h\"}\n"
        )
        .await,
        200
    );
    call(
        &server,
        Some(&ingest_token),
        "mutation { reportBackupRun(kind: START, runId: \"r2\") { runId } }",
        json!({}),
    )
    .await;
    call(
        &server,
        Some(&admin_jwt),
        "mutation($c: ID!, $t: ID!) { revokeIngestToken(customerId: $c, tokenId: $t) }",
        json!({"c": customer, "t": token_id}),
    )
    .await;
    assert_eq!(
        ping(format!("/ping/{ingest_token}/fail?rid=r2"), "").await,
        401
    );
    let second = call(&server, Some(&admin_jwt), issue, json!({"id": customer})).await;
    let second_token = second["issueIngestToken"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    call(&server, Some(&admin_jwt), "mutation { logout }", json!({})).await;
    // The welcome mails are rendered and written (to mail files: no SMTP server here).
    tests::backup::outbox_settled(&pool).await;
    faults::wait_for_projections(&pool, Duration::from_secs(30)).await;
    let status = server.terminate();
    assert!(status.success(), "clean exit: {status}");

    // What must never appear outside the lookup tables.
    let password_hashes: Vec<String> = sqlx::query_scalar("SELECT password_hash FROM credentials")
        .fetch_all(&pool)
        .await
        .expect("hashes");
    assert!(password_hashes.len() >= 2);
    let mut secrets: Vec<(String, String)> = Vec::new();
    for password in [
        ADMIN_PASSWORD,
        AGENT_PASSWORD,
        AGENT_NEW_PASSWORD,
        WRONG_PASSWORD,
    ] {
        secrets.push(("password".into(), password.into()));
    }
    for jwt in &jwts {
        secrets.push(("JWT".into(), jwt.clone()));
        secrets.push((
            "JWT signature".into(),
            jwt.rsplit('.').next().expect("signature").to_owned(),
        ));
    }
    for token in &refresh_tokens {
        secrets.push(("refresh token".into(), token.clone()));
    }
    for token in [&ingest_token, &second_token] {
        secrets.push(("ingest token".into(), token.clone()));
        // The secret part: the 64 hex digits after `sci_` and the 32-digit id.
        secrets.push((
            "ingest token secret".into(),
            token[token.len() - 32..].to_owned(),
        ));
    }
    secrets.push(("JWT secret".into(), faults::JWT_SECRET.into()));
    let mut hashes: Vec<(String, String)> = password_hashes
        .iter()
        .map(|hash| ("password hash".to_owned(), hash.clone()))
        .collect();
    for hash in &password_hashes {
        // The digest part of the PHC string alone.
        hashes.push((
            "password hash digest".into(),
            hash.rsplit('$').next().expect("digest").to_owned(),
        ));
    }

    let mut places: Vec<(String, String)> = Vec::new();
    let events: String = sqlx::query_scalar(
        "SELECT coalesce(string_agg(payload::text || ' ' || metadata::text, E'\\n'), '') FROM events",
    )
    .fetch_one(&pool)
    .await
    .expect("events");
    assert!(events.contains("CustomerIngestTokenIssued") || !events.is_empty());
    places.push(("event log".into(), events));
    let mut lookup_tables = Vec::new();
    for (table, text) in table_texts(&pool).await {
        if CREDENTIAL_TABLES.contains(&table.as_str()) {
            lookup_tables.push((format!("table {table}"), text));
        } else {
            places.push((format!("table {table}"), text));
        }
    }
    let log = server.log();
    assert!(
        log.lines().count() > 50,
        "the trace log was captured ({} lines)",
        log.lines().count()
    );
    places.push(("server log".into(), log));
    for entry in walk(data.path()) {
        if let Ok(text) = std::fs::read_to_string(&entry) {
            places.push((format!("file {}", entry.display()), text));
        }
    }
    let mut leaks = Vec::new();
    for (place, text) in &places {
        for (what, secret) in secrets.iter().chain(hashes.iter()) {
            if text.contains(secret.as_str()) {
                leaks.push(format!("{what} in {place}"));
            }
        }
    }
    for (place, text) in &lookup_tables {
        for (what, secret) in &secrets {
            if text.contains(secret.as_str()) {
                leaks.push(format!("{what} in {place}"));
            }
        }
    }
    println!(
        "secrets: {} secrets and {} hashes searched in {} places (event log, {} tables, server \
         log, mail files) and {} lookup tables: {} found",
        secrets.len(),
        hashes.len(),
        places.len(),
        places
            .iter()
            .filter(|(place, _)| place.starts_with("table"))
            .count(),
        lookup_tables.len(),
        leaks.len()
    );
    assert!(leaks.is_empty(), "secrets leaked: {leaks:#?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
