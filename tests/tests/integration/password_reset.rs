//! An admin resets a worker's password (issue 16, Admin): the answer carries a temporary
//! password shown once; the old password and every session of the worker stop working; the
//! audit has `WorkerPasswordReset` with the admin, never the password.

use serde_json::json;
use tests::graphql::{bootstrap_admin, gql, login, register_worker, PASSWORD};
use tests::TestApp;

const RESET: &str =
    "mutation($id: ID!) { resetWorkerPassword(id: $id) { temporaryPassword worker { id email } } }";
const LOGIN: &str =
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }";

#[tokio::test]
async fn an_admin_resets_a_password_the_old_one_and_the_sessions_end_and_the_audit_keeps_no_secret()
{
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let agent = register_worker(&app, &admin, "reset-me@example.com", "AGENT", None).await;
    let me = gql(&app, Some(&agent.access_token), "{ me { id } }", json!({})).await;
    let agent_id = me.data("me")["id"].as_str().expect("id").to_owned();

    let reset = gql(
        &app,
        Some(&admin.access_token),
        RESET,
        json!({"id": agent_id}),
    )
    .await;
    let temporary = reset.data("resetWorkerPassword")["temporaryPassword"]
        .as_str()
        .expect("a temporary password")
        .to_owned();
    assert!(temporary.len() >= 10, "{temporary}");
    assert_ne!(temporary, PASSWORD);

    // The agent's session ended; the old password no longer works; the temporary one does.
    let stale = gql(&app, Some(&agent.access_token), "{ me { id } }", json!({})).await;
    assert_eq!(stale.code(), Some("UNAUTHENTICATED"), "{:?}", stale.body);
    let refreshed = gql(
        &app,
        None,
        "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }",
        json!({"t": agent.refresh_token}),
    )
    .await;
    assert_eq!(
        refreshed.code(),
        Some("UNAUTHENTICATED"),
        "{:?}",
        refreshed.body
    );
    let old = gql(
        &app,
        None,
        LOGIN,
        json!({"e": "reset-me@example.com", "p": PASSWORD}),
    )
    .await;
    assert_eq!(old.code(), Some("UNAUTHENTICATED"), "{:?}", old.body);
    login(&app, "reset-me@example.com", &temporary).await;

    // The audit: who reset it, and no password anywhere in the log.
    let (event_type, payload, actor): (String, serde_json::Value, Option<String>) = sqlx::query_as(
        "SELECT event_type, payload, metadata->>'actor' FROM events \
         WHERE aggregate_id = $1 ORDER BY sequence DESC LIMIT 1",
    )
    .bind(&agent_id)
    .fetch_one(&app.pool)
    .await
    .expect("the worker's last event");
    assert_eq!(event_type, "WorkerPasswordReset");
    let admin_id = gql(&app, Some(&admin.access_token), "{ me { id } }", json!({})).await;
    let admin_id = admin_id.data("me")["id"].as_str().expect("id").to_owned();
    assert_eq!(
        payload["PasswordReset"]["by"],
        admin_id.as_str(),
        "{payload}"
    );
    assert!(actor.unwrap_or_default().contains(&admin_id));
    let leaked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE payload::text LIKE '%' || $1 || '%' \
         OR metadata::text LIKE '%' || $1 || '%'",
    )
    .bind(&temporary)
    .fetch_one(&app.pool)
    .await
    .expect("events searched");
    assert_eq!(leaked, 0);

    // A deactivated worker has no password to reset; an unknown one is not found.
    let deactivated = gql(
        &app,
        Some(&admin.access_token),
        "mutation($id: ID!) { deactivateWorker(id: $id) { active } }",
        json!({"id": agent_id}),
    )
    .await;
    assert_eq!(deactivated.data("deactivateWorker")["active"], false);
    let again = gql(
        &app,
        Some(&admin.access_token),
        RESET,
        json!({"id": agent_id}),
    )
    .await;
    assert_eq!(again.code(), Some("WORKER_DEACTIVATED"), "{:?}", again.body);
    let unknown = gql(
        &app,
        Some(&admin.access_token),
        RESET,
        json!({"id": uuid::Uuid::now_v7().to_string()}),
    )
    .await;
    assert_eq!(
        unknown.code(),
        Some("WORKER_NOT_FOUND"),
        "{:?}",
        unknown.body
    );
}
