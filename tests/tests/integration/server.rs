//! The server as a whole: health, GraphQL, startup and shutdown.

use serde_json::json;
use tests::TestApp;

#[tokio::test]
async fn a_fresh_server_is_alive_and_ready_and_answers_graphql() {
    tests::init_test_log();
    let app = TestApp::spawn().await;
    let health = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let ready = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    let (status, body) = app.graphql("{ version logHead }", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["logHead"], 0, "{body}");
    let graphiql = app
        .http
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("graphiql");
    assert_eq!(graphiql.status(), 200);
    assert!(graphiql.text().await.expect("body").contains("graphiql"));
    app.stop().await;
}
