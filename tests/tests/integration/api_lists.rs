//! The list, KPI, audit and backup operations through GraphQL against a real server: the
//! agent's day end to end, Relay paging in both directions, phone lookup, and backup reports
//! with an ingest token.

use chrono::{Duration, Utc};
use serde_json::{json, Value};
use tests::backup::eventually;
use tests::graphql::{bootstrap_admin, gql, register_customer, register_worker, unique_phone};
use tests::TestApp;

const CUSTOMER_PAGE: &str =
    "query($search: String, $first: Int, $after: String, $last: Int, $before: String) {
  customers(search: $search, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name } }
  }
}";

fn names(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"]["name"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn an_agent_day_shows_in_the_request_list_the_kpis_and_the_history() {
    tests::init_test_log();
    let app = TestApp::spawn().await;
    let start = Utc::now() - Duration::minutes(1);
    let admin = bootstrap_admin(&app).await;
    let agent = register_worker(&app, &admin, "day@lists.test", "AGENT", Some("PJSIP/7001")).await;
    let customer = register_customer(&app, &admin.access_token, "Day Ltd", &unique_phone()).await;

    let available = gql(
        &app,
        Some(&agent.access_token),
        "mutation { setAvailability(state: AVAILABLE) { presence { state } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        available.data("setAvailability")["presence"]["state"],
        "AVAILABLE"
    );
    let opened = gql(
        &app,
        Some(&agent.access_token),
        "mutation($input: OpenRequestInput!) { openRequest(input: $input) { id } }",
        json!({"input": {"customerId": customer, "message": "The nightly backup failed twice",
                         "priority": "HIGH", "type": "INCIDENT"}}),
    )
    .await;
    let request_id = opened.data("openRequest")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let solved = gql(
        &app,
        Some(&agent.access_token),
        "mutation($id: ID!) { solveRequest(id: $id) { status } }",
        json!({"id": request_id}),
    )
    .await;
    assert_eq!(solved.data("solveRequest")["status"], "SOLVED");

    // The mutation waited for the read models: the list shows the solved request at once.
    let list = gql(
        &app,
        Some(&admin.access_token),
        "query($c: ID) { requests(customerId: $c, status: SOLVED, first: 10) { totalCount edges { node { id status } } } }",
        json!({"c": customer}),
    )
    .await;
    let list = list.data("requests");
    assert_eq!(list["totalCount"], 1);
    assert_eq!(list["edges"][0]["node"]["id"], request_id.as_str());

    let kpis = gql(
        &app,
        Some(&admin.access_token),
        "query($from: DateTime!, $until: DateTime!) { kpis(from: $from, until: $until, bucket: DAY, timeZone: \"Europe/Paris\") { overdueNow buckets { start requestsOpened requestsSolved requestsSolvedWithinDue offered } } }",
        json!({"from": start.to_rfc3339(), "until": (Utc::now() + Duration::minutes(1)).to_rfc3339()}),
    )
    .await;
    let buckets = kpis.data("kpis")["buckets"]
        .as_array()
        .expect("buckets")
        .clone();
    let opened: i64 = buckets
        .iter()
        .map(|b| b["requestsOpened"].as_i64().unwrap_or(0))
        .sum();
    let solved: i64 = buckets
        .iter()
        .map(|b| b["requestsSolved"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!((opened, solved), (1, 1), "{buckets:?}");

    let history = gql(
        &app,
        Some(&admin.access_token),
        "query($id: String!) { history(aggregateType: \"request\", aggregateId: $id) { totalCount nodes { sequence eventType metadata recordedAt } } }",
        json!({"id": request_id}),
    )
    .await;
    assert_eq!(history.data("history")["totalCount"], 2);
    let events = history.data("history")["nodes"]
        .as_array()
        .expect("events")
        .clone();
    assert_eq!(events.len(), 2, "{events:?}");
    let actor = format!("worker:{}", agent.worker_id);
    for event in &events {
        assert_eq!(event["metadata"]["actor"], actor.as_str());
        assert!(event["recordedAt"].is_string());
    }
    assert!(events[1]["eventType"]
        .as_str()
        .unwrap_or("")
        .contains("Solved"));

    // Paged both ways: one event a page.
    const HISTORY_PAGE: &str = "query($id: String!, $first: Int, $after: String, $last: Int, $before: String) { \
        history(aggregateType: \"request\", aggregateId: $id, first: $first, after: $after, last: $last, before: $before) { \
          pageInfo { hasNextPage hasPreviousPage endCursor startCursor } nodes { sequence } } }";
    let page = |variables: Value| {
        let app = &app;
        let token = &admin.access_token;
        async move {
            gql(app, Some(token), HISTORY_PAGE, variables)
                .await
                .data("history")
                .clone()
        }
    };
    let first = page(json!({"id": request_id, "first": 1})).await;
    assert_eq!(first["nodes"], json!([{"sequence": 1}]));
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let second =
        page(json!({"id": request_id, "first": 1, "after": first["pageInfo"]["endCursor"]})).await;
    assert_eq!(second["nodes"], json!([{"sequence": 2}]));
    assert_eq!(second["pageInfo"]["hasNextPage"], false);
    assert_eq!(second["pageInfo"]["hasPreviousPage"], true);
    let back =
        page(json!({"id": request_id, "last": 1, "before": second["pageInfo"]["startCursor"]}))
            .await;
    assert_eq!(back["nodes"], json!([{"sequence": 1}]));
    assert_eq!(back["pageInfo"]["hasPreviousPage"], false);

    // What the agent did, between two times, as a connection in time order.
    const ACTIVITY: &str = "query($actor: String!, $from: DateTime!, $until: DateTime!, $first: Int, $after: String) { \
        actorActivity(actor: $actor, from: $from, until: $until, first: $first, after: $after) { \
          totalCount pageInfo { hasNextPage endCursor } nodes { aggregateId eventType metadata recordedAt } } }";
    let window =
        json!({"actor": actor, "from": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"});
    let activity = gql(&app, Some(&admin.access_token), ACTIVITY, window.clone()).await;
    let done = activity.data("actorActivity")["nodes"]
        .as_array()
        .expect("activity")
        .clone();
    assert_eq!(activity.data("actorActivity")["totalCount"], done.len());
    assert!(done
        .iter()
        .all(|event| event["metadata"]["actor"] == actor.as_str()));
    let on_request: Vec<&Value> = done
        .iter()
        .filter(|event| event["aggregateId"] == request_id.as_str())
        .collect();
    assert_eq!(on_request.len(), 2, "{done:?}");
    let mut one = window.clone();
    one["first"] = json!(1);
    let one_page = gql(&app, Some(&admin.access_token), ACTIVITY, one.clone()).await;
    let one_page = one_page.data("actorActivity").clone();
    assert_eq!(one_page["nodes"][0], done[0]);
    one["after"] = one_page["pageInfo"]["endCursor"].clone();
    let next = gql(&app, Some(&admin.access_token), ACTIVITY, one).await;
    assert_eq!(next.data("actorActivity")["nodes"][0], done[1]);
    // A window that ends before the work: nothing.
    let mut early = window.clone();
    early["until"] = json!("2000-01-02T00:00:00Z");
    let none_done = gql(&app, Some(&admin.access_token), ACTIVITY, early).await;
    assert_eq!(none_done.data("actorActivity")["totalCount"], 0);
    for (field, value) in [
        ("actor", json!("nobody")),
        ("until", json!("1999-01-01T00:00:00Z")),
    ] {
        let mut bad = window.clone();
        bad[field] = value;
        let answer = gql(&app, Some(&admin.access_token), ACTIVITY, bad).await;
        assert_eq!(
            answer.code(),
            Some("VALIDATION"),
            "{field}: {:?}",
            answer.body
        );
    }

    let state = gql(
        &app,
        Some(&admin.access_token),
        "query($id: String!) { stateAt(aggregateType: \"request\", aggregateId: $id, version: 1) { version state } }",
        json!({"id": request_id}),
    )
    .await;
    assert_eq!(state.data("stateAt")["version"], 1);

    let bad_zone = gql(
        &app,
        Some(&admin.access_token),
        "{ kpis(from: \"2026-01-01T00:00:00Z\", until: \"2026-01-02T00:00:00Z\", bucket: HOUR, timeZone: \"Mars/Olympus\") { overdueNow } }",
        json!({}),
    )
    .await;
    assert_eq!(bad_zone.code(), Some("VALIDATION"));
    app.stop().await;
}

#[tokio::test]
async fn pages_of_ten_in_either_direction_give_every_item_once_in_order() {
    tests::init_test_log();
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let token = admin.access_token.as_str();
    let expected: Vec<String> = (0..25).map(|n| format!("Paged_{n:02} Ltd")).collect();
    for name in &expected {
        register_customer(&app, token, name, &unique_phone()).await;
    }
    // `_` is escaped in the search: it does not match any character.
    let search = json!("paged_");
    eventually(10, "25 customers projected", || async {
        let answer = gql(
            &app,
            Some(token),
            CUSTOMER_PAGE,
            json!({"search": search, "first": 1}),
        )
        .await;
        answer.data("customers")["totalCount"] == 25
    })
    .await;

    let mut forward = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..5 {
        let answer = gql(
            &app,
            Some(token),
            CUSTOMER_PAGE,
            json!({"search": search, "first": 10, "after": after}),
        )
        .await;
        let page = answer.data("customers").clone();
        assert_eq!(page["totalCount"], 25);
        forward.extend(names(&page));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(forward, expected);

    let mut backward: Vec<String> = Vec::new();
    let mut before: Option<String> = None;
    for _ in 0..5 {
        let answer = gql(
            &app,
            Some(token),
            CUSTOMER_PAGE,
            json!({"search": search, "last": 10, "before": before}),
        )
        .await;
        let page = answer.data("customers").clone();
        let mut names = names(&page);
        names.extend(backward);
        backward = names;
        if page["pageInfo"]["hasPreviousPage"] != true {
            break;
        }
        before = page["pageInfo"]["startCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(backward, expected);

    let too_big = gql(&app, Some(token), CUSTOMER_PAGE, json!({"first": 101})).await;
    assert_eq!(too_big.code(), Some("VALIDATION"));
    let bad_cursor = gql(
        &app,
        Some(token),
        CUSTOMER_PAGE,
        json!({"first": 10, "after": "not-a-cursor"}),
    )
    .await;
    assert_eq!(bad_cursor.code(), Some("VALIDATION"));
    app.stop().await;
}

#[tokio::test]
async fn a_number_typed_the_french_way_finds_its_customer() {
    tests::init_test_log();
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let token = admin.access_token.as_str();
    let customer = register_customer(&app, token, "Dupont SARL", "+33612345678").await;
    let query = "query($n: String!) { customerByNumber(number: $n) { id phones } }";
    eventually(10, "the customer found by number", || async {
        let answer = gql(&app, Some(token), query, json!({"n": "06 12 34 56 78"})).await;
        answer.data("customerByNumber")["id"] == customer.as_str()
    })
    .await;
    let unknown = gql(&app, Some(token), query, json!({"n": "06 00 00 00 01"})).await;
    assert!(unknown.data("customerByNumber").is_null());
    let garbage = gql(&app, Some(token), query, json!({"n": "call me"})).await;
    assert_eq!(garbage.code(), Some("VALIDATION"));
    app.stop().await;
}

#[tokio::test]
async fn a_backup_reported_with_an_ingest_token_is_listed_and_hidden_from_other_customers() {
    tests::init_test_log();
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let token = admin.access_token.as_str();
    let mine = register_customer(&app, token, "Mine Ltd", &unique_phone()).await;
    let theirs = register_customer(&app, token, "Theirs Ltd", &unique_phone()).await;
    let issue = "mutation($c: ID!) { issueIngestToken(customerId: $c) { tokenId token } }";
    let my_token = gql(&app, Some(token), issue, json!({"c": mine}))
        .await
        .data("issueIngestToken")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let their_token = gql(&app, Some(token), issue, json!({"c": theirs}))
        .await
        .data("issueIngestToken")["token"]
        .as_str()
        .expect("token")
        .to_owned();

    let plan = gql(&app, Some(token),
        "mutation($c: ID!) { setBackupPlan(customerId: $c, plan: {periodSecs: 86400, graceSecs: 3600, keepLast: 3}) { status } }",
        json!({"c": mine})).await;
    assert!(plan.data("setBackupPlan")["status"].is_string());

    let report = "mutation($kind: BackupReportKind!, $body: String) { reportBackupRun(kind: $kind, runId: \"night-1\", body: $body) { runId recorded status stats { files bytes } } }";
    let started = gql(&app, Some(&my_token), report, json!({"kind": "START"})).await;
    assert_eq!(started.data("reportBackupRun")["status"], "RUNNING");
    let manifest = [
        json!({"path": "/etc/hosts", "size": 120, "mtime": 1_700_000_000, "hash": "a".repeat(64)}),
        json!({"path": "/home/report.pdf", "size": 4096, "mtime": 1_700_000_100, "hash": "b".repeat(64)}),
    ]
    .iter()
    .map(Value::to_string)
    .collect::<Vec<_>>()
    .join("\n");
    let succeeded = gql(
        &app,
        Some(&my_token),
        report,
        json!({"kind": "SUCCESS", "body": manifest}),
    )
    .await;
    let succeeded = succeeded.data("reportBackupRun");
    assert_eq!(succeeded["status"], "SUCCEEDED", "{succeeded}");
    assert_eq!(succeeded["stats"]["files"], 2);

    let runs = "query($c: ID!) { backupRuns(customerId: $c) { totalCount edges { node { id clientRunId status durationSecs stats { files bytes created } } } } }";
    let listed = gql(&app, Some(&my_token), runs, json!({"c": mine})).await;
    let listed = listed.data("backupRuns")["edges"]
        .as_array()
        .expect("runs")
        .clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["node"]["clientRunId"], "night-1");
    assert_eq!(listed[0]["node"]["stats"]["bytes"], 4216);
    let as_admin = gql(&app, Some(token), runs, json!({"c": mine})).await;
    assert_eq!(
        as_admin.data("backupRuns")["edges"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    let other = gql(&app, Some(&their_token), runs, json!({"c": mine})).await;
    assert!(
        matches!(other.code(), Some("FORBIDDEN" | "NOT_FOUND")),
        "{:?}",
        other.body
    );
    let status = gql(
        &app,
        Some(&their_token),
        "query($c: ID!) { backupStatus(customerId: $c) { status } }",
        json!({"c": mine}),
    )
    .await;
    assert_eq!(status.code(), Some("FORBIDDEN"));
    let worker_report = gql(&app, Some(token), report, json!({"kind": "START"})).await;
    assert_eq!(worker_report.code(), Some("FORBIDDEN"));
    let forged = gql(&app, Some("sci_0000"), report, json!({"kind": "START"})).await;
    assert_eq!(forged.code(), Some("UNAUTHENTICATED"));
    app.stop().await;
}

const CUSTOMERS_BY: &str =
    "query($search: String, $sort: CustomerSort!, $first: Int, $after: String, $last: Int,
        $before: String) {
  customers(search: $search, sortBy: $sort, first: $first, after: $after, last: $last,
      before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { name phones } }
  }
}";

/// Every name of `customers(sortBy: NAME)` (with `search`), walked two at a time forward and
/// backward.
async fn by_name(app: &TestApp, token: &str, search: &str) -> (Vec<String>, Vec<String>, Value) {
    let mut forward = Vec::new();
    let mut after: Option<String> = None;
    let mut total = Value::Null;
    for _ in 0..10 {
        let answer = gql(
            app,
            Some(token),
            CUSTOMERS_BY,
            json!({"search": search, "sort": "NAME", "first": 2, "after": after}),
        )
        .await;
        let page = answer.data("customers").clone();
        total = page["totalCount"].clone();
        forward.extend(names(&page));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    let mut backward: Vec<String> = Vec::new();
    let mut before: Option<String> = None;
    for _ in 0..10 {
        let answer = gql(
            app,
            Some(token),
            CUSTOMERS_BY,
            json!({"search": search, "sort": "NAME", "last": 2, "before": before}),
        )
        .await;
        let page = answer.data("customers").clone();
        let mut names = names(&page);
        names.extend(backward);
        backward = names;
        if page["pageInfo"]["hasPreviousPage"] != true {
            break;
        }
        before = page["pageInfo"]["startCursor"].as_str().map(str::to_owned);
    }
    (forward, backward, total)
}

#[tokio::test]
async fn customers_sort_by_name_ignoring_case_and_a_search_written_like_a_number_finds_phones() {
    tests::init_test_log();
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let token = admin.access_token.as_str();
    // Registered out of order, in mixed case: byte order would give Bravo, Delta, alpha,
    // charlie.
    for (name, phone) in [
        ("charlie Inc", "+15550100003"),
        ("Delta GmbH", "+4930123456"),
        ("alpha SA", "+33712345002"),
        ("Bravo Ltd", "+33612340001"),
    ] {
        register_customer(&app, token, name, phone).await;
    }
    let expected = ["alpha SA", "Bravo Ltd", "charlie Inc", "Delta GmbH"].map(String::from);
    let (forward, backward, total) = by_name(&app, token, "").await;
    assert_eq!(forward, expected);
    assert_eq!(backward, expected);
    assert_eq!(total, 4);

    // Every customer has the email it@customer.test: a text search still matches it.
    let (all, _, _) = by_name(&app, token, "CUSTOMER.test").await;
    assert_eq!(all, expected);

    // A number as people type it: international, national (trunk 0), with punctuation, or
    // some of its digits.
    for (search, found) in [
        ("+33 6 12 34", vec!["Bravo Ltd"]),
        ("06.12.34.00.01", vec!["Bravo Ltd"]),
        ("0033 7 12", vec!["alpha SA"]),
        ("+1 (555) 0100", vec!["charlie Inc"]),
        ("30 123", vec!["Delta GmbH"]),
        ("345", vec!["alpha SA", "Delta GmbH"]),
    ] {
        let (forward, backward, total) = by_name(&app, token, search).await;
        assert_eq!(forward, found, "search {search:?}");
        assert_eq!(backward, found, "search {search:?} backward");
        assert_eq!(total, found.len(), "search {search:?} totalCount");
    }
    // Fewer than three digits is not a number search (nobody's name or email holds "12"), and
    // a number nobody has finds nobody.
    for search in ["12", "+49 89 999"] {
        let (forward, _, total) = by_name(&app, token, search).await;
        assert!(forward.is_empty(), "search {search:?}: {forward:?}");
        assert_eq!(total, 0);
    }
    // The phone numbers come with the customers found.
    let answer = gql(
        &app,
        Some(token),
        CUSTOMERS_BY,
        json!({"search": "0612340001", "sort": "REGISTERED_AT"}),
    )
    .await;
    assert_eq!(
        answer.data("customers")["edges"][0]["node"]["phones"],
        json!(["+33612340001"])
    );

    // A cursor of a text sort key is no cursor of a time sort key: refused, not an internal
    // error.
    let by_name_page = gql(
        &app,
        Some(token),
        CUSTOMERS_BY,
        json!({"sort": "NAME", "first": 1}),
    )
    .await;
    let name_cursor = by_name_page.data("customers")["pageInfo"]["endCursor"].clone();
    let mixed = gql(
        &app,
        Some(token),
        CUSTOMERS_BY,
        json!({"sort": "REGISTERED_AT", "first": 1, "after": name_cursor}),
    )
    .await;
    assert_eq!(mixed.code(), Some("VALIDATION"));
    app.stop().await;
}
