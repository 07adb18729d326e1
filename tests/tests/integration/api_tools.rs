//! What tools need of the API (issue 15 §1-2): the standard introspection query passes whole
//! while deep ordinary queries are refused, page sizes count in the node limit, GraphiQL is
//! served by the binary itself (and can be turned off, as introspection can), and
//! `savecorp schema` prints the SDL.

use serde_json::json;
use tests::graphql::{bootstrap_admin, gql, post};
use tests::TestApp;

/// `getIntrospectionQuery()` of graphql-js 16.15 with its default options, as GraphiQL and
/// code generators send it (9 nested `ofType`).
const INTROSPECTION_QUERY: &str =
    include_str!("fixtures/graphql-js-16.15-introspection-query.graphql");

#[tokio::test]
async fn the_standard_introspection_query_passes_whole_and_deep_queries_are_still_refused() {
    assert!(INTROSPECTION_QUERY.matches("ofType").count() >= 7);
    let app = TestApp::spawn().await;
    let answer = gql(&app, None, INTROSPECTION_QUERY, json!({})).await;
    assert!(answer.body["errors"].is_null(), "{}", answer.body);
    let types = answer.body["data"]["__schema"]["types"]
        .as_array()
        .expect("types");
    assert!(
        types.iter().any(|t| t["name"] == "Worker"),
        "the schema's own types are listed"
    );
    assert_eq!(
        answer.body["data"]["__schema"]["queryType"]["name"],
        "Query"
    );

    // An ordinary query 11 levels deep is refused.
    let deep = format!(
        "{{ {}id{} }}",
        "me { presence { ".repeat(5),
        " } }".repeat(5)
    );
    let answer = gql(&app, None, &deep, json!({})).await;
    assert_eq!(answer.code(), Some("QUERY_TOO_DEEP"), "{}", answer.body);

    // Introspection that multiplies (fields of the types of fields of …) is refused too.
    let fan_out =
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    let answer = gql(&app, None, fan_out, json!({})).await;
    assert_eq!(answer.code(), Some("QUERY_TOO_DEEP"), "{}", answer.body);
}

#[tokio::test]
async fn page_sizes_count_in_the_node_limit() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let aliases = (0..50)
        .map(|n| format!("c{n}: customers(first: 100) {{ edges {{ node {{ id }} }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let answer = gql(
        &app,
        Some(&admin.access_token),
        &format!("{{ {aliases} }}"),
        json!({}),
    )
    .await;
    assert_eq!(
        answer.code(),
        Some("MAX_NODE_LIMIT_EXCEEDED"),
        "{}",
        answer.body
    );
    assert!(answer.body["data"].is_null(), "{}", answer.body);

    // Variables count as literals do.
    let by_variable = "query($n: Int) { a: customers(first: $n) { nodes { id } } \
                       b: customers(last: $n) { nodes { id } } }";
    let answer = gql(
        &app,
        Some(&admin.access_token),
        by_variable,
        json!({"n": 100}),
    )
    .await;
    assert!(
        answer.body["errors"].is_null(),
        "two pages of 100 pass: {}",
        answer.body
    );
    let many = (0..11)
        .map(|n| format!("c{n}: customers(first: $n) {{ nodes {{ id }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let answer = gql(
        &app,
        Some(&admin.access_token),
        &format!("query($n: Int) {{ {many} }}"),
        json!({"n": 100}),
    )
    .await;
    assert_eq!(
        answer.code(),
        Some("MAX_NODE_LIMIT_EXCEEDED"),
        "{}",
        answer.body
    );

    // Nested connections multiply: 20 workers (the default page) × … stay within; a full
    // page of customers and one of requests inside a page of workers would not.
    let answer = gql(
        &app,
        Some(&admin.access_token),
        "{ customers(first: 100) { totalCount edges { cursor node { id name } } } }",
        json!({}),
    )
    .await;
    assert!(answer.body["errors"].is_null(), "{}", answer.body);

    // Many plain fields are refused with their own code.
    let wide = format!(
        "{{ {} }}",
        (0..600)
            .map(|n| format!("a{n}: version"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let answer = gql(&app, None, &wide, json!({})).await;
    assert_eq!(answer.code(), Some("QUERY_TOO_COMPLEX"), "{}", answer.body);
}

#[tokio::test]
async fn graphiql_is_served_from_the_binary_under_the_strict_policy() {
    let app = TestApp::spawn().await;
    let page = app
        .http
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("answered");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("page");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from elsewhere"
    );
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "no inline code"
    );
    for asset in ["/graphiql/explorer.js", "/graphiql/explorer.css"] {
        assert!(html.contains(asset), "{asset} linked");
        let response = app.http.get(app.url(asset)).send().await.expect("answered");
        assert_eq!(response.status().as_u16(), 200, "{asset}");
        let text = response.text().await.expect("asset");
        assert!(
            !text.contains("https://"),
            "{asset} loads nothing from elsewhere"
        );
    }
}

#[tokio::test]
async fn graphiql_and_introspection_follow_their_settings() {
    let app = TestApp::spawn_with(|config| {
        config.http.graphiql = false;
        config.http.introspection = api::transport::IntrospectionAccess::Authenticated;
    })
    .await;
    let page = app
        .http
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("answered");
    assert_eq!(page.status().as_u16(), 404);

    let admin = bootstrap_admin(&app).await;
    let anonymous = gql(&app, None, "{ __schema { queryType { name } } }", json!({})).await;
    assert!(anonymous.body["data"].is_null(), "{}", anonymous.body);
    assert_eq!(
        anonymous.code(),
        Some("INTROSPECTION_DISABLED"),
        "{}",
        anonymous.body
    );
    let logged_in = gql(
        &app,
        Some(&admin.access_token),
        "{ __schema { queryType { name } } }",
        json!({}),
    )
    .await;
    assert_eq!(logged_in.data("__schema")["queryType"]["name"], "Query");
    // Ordinary queries are unaffected.
    assert_eq!(gql(&app, None, "{ version }", json!({})).await.status, 200);

    let off = TestApp::spawn_with(|config| {
        config.http.introspection = api::transport::IntrospectionAccess::Off;
    })
    .await;
    let admin = bootstrap_admin(&off).await;
    let refused = post(
        &off,
        Some(&admin.access_token),
        &[],
        "{ __type(name: \"Query\") { name } }",
        json!({}),
    )
    .await;
    assert!(refused.body["data"].is_null(), "{}", refused.body);
    assert_eq!(
        refused.code(),
        Some("INTROSPECTION_DISABLED"),
        "{}",
        refused.body
    );
}

#[test]
fn savecorp_schema_prints_the_sdl() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_savecorp-under-test"))
        .arg("schema")
        .env_remove("DATABASE_URL")
        .output()
        .expect("savecorp runs");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        api::transport::graphql::sdl()
    );
}
