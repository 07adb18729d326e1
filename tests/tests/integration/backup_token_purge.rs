//! The spent-token purge: revoked ingest tokens, expired refresh tokens and ended sessions
//! leave the lookup tables once spent for longer than the retention; live ones stay and keep
//! working. Spent rows are aged by moving their timestamps back (the purge reads the
//! database's clock).

use api::backup::service;
use api::ServeConfig;
use journal::Actor;
use serde_json::json;
use tests::backup::{eventually, ping, register_customer, token_purge_passed};
use tests::graphql::{bootstrap_admin, gql, login, ADMIN_EMAIL, PASSWORD};
use tests::TestApp;

fn purge_often(config: &mut ServeConfig) {
    config.backup.spent_token_retention_secs = 3_600;
    config.backup.token_purge_interval_ms = 100;
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let (count,): (i64,) = sqlx::query_as(sql)
        .fetch_one(&app.pool)
        .await
        .expect("count");
    count
}

#[tokio::test]
async fn spent_tokens_are_purged_after_the_retention_and_live_ones_keep_working() {
    tests::init_test_log();
    let app = TestApp::spawn_with(purge_often).await;

    // Ingest tokens: one revoked, one live.
    let customer = register_customer(&app.state, "Purge Pharmacy", "it@purge.example").await;
    let revoked = service::issue_ingest_token(&app.state.backup_state(), Actor::System, customer)
        .await
        .expect("token");
    let live = service::issue_ingest_token(&app.state.backup_state(), Actor::System, customer)
        .await
        .expect("token");
    service::revoke_ingest_token(
        &app.state.backup_state(),
        Actor::System,
        customer,
        revoked.token_id,
    )
    .await
    .expect("revoked");

    // Sessions: one rotated once (its first refresh token is used), one logged out.
    let admin = bootstrap_admin(&app).await;
    let rotated = gql(
        &app,
        None,
        "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }",
        json!({"t": admin.refresh_token}),
    )
    .await
    .data("refreshSession")
    .clone();
    let ended = login(&app, ADMIN_EMAIL, PASSWORD).await;
    let out = gql(
        &app,
        Some(&ended.access_token),
        "mutation { logout }",
        json!({}),
    )
    .await;
    assert_eq!(out.data("logout"), true);
    assert_eq!(count(&app, "SELECT count(*) FROM sessions").await, 2);
    assert_eq!(count(&app, "SELECT count(*) FROM refresh_tokens").await, 3);

    // Spent, but within the retention: kept (a whole purge pass ran meanwhile).
    token_purge_passed(&app).await;
    assert_eq!(count(&app, "SELECT count(*) FROM ingest_tokens").await, 2);
    assert_eq!(count(&app, "SELECT count(*) FROM sessions").await, 2);
    assert_eq!(count(&app, "SELECT count(*) FROM refresh_tokens").await, 3);
    // The revoked ingest token is refused while its row is kept.
    let (status, _) = ping(&app, &revoked.token, "", "").await;
    assert_eq!(status, 401);

    // Two hours later (by their timestamps): the revocation, the logout and the expiry of the
    // used refresh token are older than the retention.
    sqlx::query(
        "UPDATE ingest_tokens SET revoked_at = revoked_at - interval '2 hours' \
         WHERE revoked_at IS NOT NULL",
    )
    .execute(&app.pool)
    .await
    .expect("age the revoked token");
    sqlx::query(
        "UPDATE sessions SET revoked_at = revoked_at - interval '2 hours' \
         WHERE revoked_at IS NOT NULL",
    )
    .execute(&app.pool)
    .await
    .expect("age the logout");
    sqlx::query(
        "UPDATE refresh_tokens SET expires_at = now() - interval '2 hours' \
         WHERE used_at IS NOT NULL",
    )
    .execute(&app.pool)
    .await
    .expect("age the used refresh token");

    eventually(20, "the spent rows are purged", || async {
        count(&app, "SELECT count(*) FROM ingest_tokens").await == 1
            && count(&app, "SELECT count(*) FROM sessions").await == 1
            && count(&app, "SELECT count(*) FROM refresh_tokens").await == 1
    })
    .await;
    let (left,): (uuid::Uuid,) = sqlx::query_as("SELECT token_id FROM ingest_tokens")
        .fetch_one(&app.pool)
        .await
        .expect("the live token");
    assert_eq!(left, live.token_id.as_uuid());

    // What is live keeps working; what was purged is refused as before.
    let (status, body) = ping(&app, &live.token, "", "").await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = ping(&app, &revoked.token, "", "").await;
    assert_eq!(status, 401);
    let again = gql(
        &app,
        None,
        "mutation($t: String!) { refreshSession(refreshToken: $t) { refreshToken } }",
        json!({"t": rotated["refreshToken"]}),
    )
    .await;
    assert!(again.data("refreshSession")["refreshToken"].is_string());
    let me = gql(&app, Some(&ended.access_token), "{ me { id } }", json!({})).await;
    assert!(
        me.body["data"]["me"].is_null(),
        "the ended session stays ended: {}",
        me.body
    );
    app.stop().await;
}
