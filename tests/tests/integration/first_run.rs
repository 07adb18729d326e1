//! First run (issue 16): with no admin yet, `savecorp serve` logs a one-time setup link; the
//! web app's setup page turns it into the first admin (`setupFirstAdmin`). The link works
//! once, before it expires, and only while no admin exists; wrong tokens are throttled per
//! client address; the token is in that one log line and nowhere else.

use std::time::Duration;

use serde_json::{json, Value};
use tests::faults::{self, ServerProcess, ServerSpec};
use tests::graphql::{gql, PASSWORD};
use tests::{TestApp, TestPostgres};

const SETUP: &str = "mutation($t: String!, $e: String!, $n: String!, $p: String!) { \
    setupFirstAdmin(token: $t, email: $e, name: $n, password: $p) { \
      accessToken refreshToken worker { id name role } } }";

const LOGIN: &str = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { \
    accessToken worker { role } } }";

fn setup_variables(token: &str, email: &str) -> Value {
    json!({"t": token, "e": email, "n": "Ada Admin", "p": PASSWORD})
}

/// The token of a setup link (`…/setup#token=<token>`).
fn token_of(link: &str) -> String {
    link.split("#token=")
        .nth(1)
        .expect("the link carries a token")
        .split_whitespace()
        .next()
        .expect("token")
        .to_owned()
}

/// A token of the test's own, stored as the server stores its tokens (hash only), expiring
/// `expires_in_secs` from now (negative: already expired).
async fn plant_token(pool: &sqlx::PgPool, token: &str, expires_in_secs: f64) {
    sqlx::query(
        "INSERT INTO setup_tokens (token_hash, expires_at) \
         VALUES (encode(sha256(convert_to($1, 'UTF8')), 'hex'), now() + make_interval(secs => $2))",
    )
    .bind(token)
    .bind(expires_in_secs)
    .execute(pool)
    .await
    .expect("token planted");
}

async fn setup(server: &ServerProcess, token: &str, email: &str) -> faults::Outcome {
    faults::graphql(
        &faults::http_client(),
        &server.address,
        None,
        SETUP,
        setup_variables(token, email),
    )
    .await
}

#[tokio::test]
async fn the_logged_setup_link_creates_the_first_admin_once_and_then_no_link_is_logged() {
    let postgres = TestPostgres::get().await;
    let database = postgres.fresh_database().await;
    let pool = postgres.pool(&database, 2).await;
    let data = faults::data_dir();
    let spec = ServerSpec::new(
        env!("CARGO_BIN_EXE_savecorp-under-test"),
        postgres.url(&database),
        data.path(),
    );
    let mut server = ServerProcess::spawn(&spec);
    server.wait_ready(Duration::from_secs(90)).await;
    let log = server.log();
    let lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("/setup#token="))
        .collect();
    assert_eq!(lines.len(), 1, "one setup link line:\n{log}");
    let link = lines[0]
        .split_whitespace()
        .find(|word| word.contains("/setup#token="))
        .expect("the link");
    assert!(
        link.starts_with(&format!("http://{}/setup#token=", server.address)),
        "the link points at the server: {link}"
    );
    let token = token_of(link);
    assert!(token.len() >= 40, "a long random token: {token}");

    // Refusals, each with its stable code, before anything is created.
    let wrong = setup(&server, "not-the-token", "ada@example.com").await;
    assert_eq!(wrong.code(), Some("SETUP_TOKEN_INVALID"), "{wrong:?}");
    plant_token(&pool, "an-expired-token", -60.0).await;
    let expired = setup(&server, "an-expired-token", "ada@example.com").await;
    assert_eq!(expired.code(), Some("SETUP_TOKEN_EXPIRED"), "{expired:?}");
    let bad_email = setup(&server, &token, "not an email").await;
    assert_eq!(bad_email.code(), Some("VALIDATION"), "{bad_email:?}");

    // The link creates the admin and opens their session.
    let created = setup(&server, &token, "ada@example.com").await;
    let payload = created.data("setupFirstAdmin").expect("admin created");
    assert_eq!(payload["worker"]["role"], "ADMIN", "{created:?}");
    assert_eq!(payload["worker"]["name"], "Ada Admin");
    let me = faults::graphql(
        &faults::http_client(),
        &server.address,
        payload["accessToken"].as_str(),
        "{ me { role } }",
        json!({}),
    )
    .await;
    assert_eq!(me.data("me").expect("me")["role"], "ADMIN", "{me:?}");
    let login = faults::graphql(
        &faults::http_client(),
        &server.address,
        None,
        LOGIN,
        json!({"e": "ada@example.com", "p": PASSWORD}),
    )
    .await;
    assert_eq!(
        login.data("login").expect("login")["worker"]["role"],
        "ADMIN"
    );

    // Single use, and no link works once an admin exists.
    let again = setup(&server, &token, "eve@example.com").await;
    assert_eq!(again.code(), Some("SETUP_TOKEN_USED"), "{again:?}");
    plant_token(&pool, "a-fresh-token", 3600.0).await;
    let late = setup(&server, "a-fresh-token", "eve@example.com").await;
    assert_eq!(late.code(), Some("ADMIN_EXISTS"), "{late:?}");

    // The token is in that one log line only: not in the events, not in the tables.
    let in_events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE payload::text LIKE '%' || $1 || '%' \
         OR metadata::text LIKE '%' || $1 || '%'",
    )
    .bind(&token)
    .fetch_one(&pool)
    .await
    .expect("events searched");
    assert_eq!(in_events, 0);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM setup_tokens WHERE token_hash = $1")
        .bind(&token)
        .fetch_one(&pool)
        .await
        .expect("tokens searched");
    assert_eq!(stored, 0, "only the token's hash is stored");
    assert_eq!(server.log().matches(token.as_str()).count(), 1);
    assert!(server.terminate().success());

    // The next start has an admin: no link.
    let mut restarted = ServerProcess::spawn(&spec);
    restarted.wait_ready(Duration::from_secs(90)).await;
    assert!(
        !restarted.log().contains("/setup#token="),
        "{}",
        restarted.log()
    );
    assert!(restarted.terminate().success());
}

#[tokio::test]
async fn wrong_setup_tokens_are_throttled_per_client_address() {
    let app = TestApp::spawn_with(|config| config.auth.login_failures_per_address = 2).await;
    let link = app.setup_link.clone().expect("no admin yet: a link");
    let attempt = |token: String| {
        let app = &app;
        async move { gql(app, None, SETUP, setup_variables(&token, "ada@example.com")).await }
    };
    for n in 0..2 {
        let wrong = attempt(format!("wrong-{n}")).await;
        assert_eq!(
            wrong.code(),
            Some("SETUP_TOKEN_INVALID"),
            "{:?}",
            wrong.body
        );
    }
    // Over the limit even the right token is refused until the window ends.
    let limited = attempt(token_of(&link)).await;
    assert_eq!(limited.code(), Some("RATE_LIMITED"), "{:?}", limited.body);
}
