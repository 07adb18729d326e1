//! A projection rebuild started through the API (`rebuildProjection`) is a task like every other:
//! shutting the server down stops and joins it, it does not outlive the server.

use serde_json::json;
use sqlx::PgPool;
use tests::app::TestApp;
use tests::backup::eventually;
use tests::graphql::{bootstrap_admin, gql};

/// Advisory locks held in this database in the rebuild's lock space (one per rebuilding
/// projection).
async fn rebuild_locks(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks \
         WHERE locktype = 'advisory' AND granted AND objsubid = 2 \
           AND classid = $1::int8::oid \
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .bind(i64::from(::projections::rebuild::REBUILD_LOCK_SPACE))
    .fetch_one(pool)
    .await
    .expect("pg_locks")
}

#[tokio::test]
async fn a_rebuild_started_through_the_api_stops_with_the_server() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let pool = app.pool.clone();
    // Hold the rebuild at its first step: an uncommitted schema with the name its shadow takes
    // makes its `CREATE SCHEMA` wait for this transaction.
    let mut blocker = pool.begin().await.expect("begin");
    sqlx::query("CREATE SCHEMA rebuild_queue")
        .execute(&mut *blocker)
        .await
        .expect("schema");
    let answer = gql(
        &app,
        Some(&admin.access_token),
        "mutation { rebuildProjection(name: \"queue\") { projections } }",
        json!({}),
    )
    .await;
    assert_eq!(
        answer.data("rebuildProjection")["projections"],
        json!(["queue"])
    );
    eventually(30, "the rebuild holds its lock, waiting", || {
        let pool = pool.clone();
        async move { rebuild_locks(&pool).await == 1 }
    })
    .await;

    let stopped = tokio::spawn(app.stop());
    eventually(30, "the rebuild ended with the server", || {
        let pool = pool.clone();
        async move { rebuild_locks(&pool).await == 0 }
    })
    .await;
    blocker.rollback().await.expect("rollback");
    stopped.await.expect("server stopped");
}
