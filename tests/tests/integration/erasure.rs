//! Erasure reaches the audit trail (issue 15 §6): personal fields are sealed in the log with a
//! key per customer (and per call) kept in `customer_keys`; erasing a customer deletes the keys,
//! so neither a `pg_dump` of the database nor any API answer holds the erased values, and a
//! rebuild after the erasure gives the same read models. Events stored before sealing are
//! re-sealed once at start and are then erasable too. Through the real server, the simulated
//! Asterisk and real PostgreSQL.

use std::time::Duration;

use journal::{Actor, LogPosition, Metadata};
use projections::rebuild;
use serde_json::{json, Value};
use tests::app::TestApp;
use tests::graphql::{bootstrap_admin, gql, unique_phone};
use tests::postgres::TestPostgres;
use tests::telephony::{fast_queue, wait_for, Telephony};
use uuid::Uuid;

/// A text no other test uses, for values that must disappear.
fn distinctive(prefix: &str) -> String {
    format!("{prefix}{}", &Uuid::new_v4().simple().to_string()[..10])
}

/// The whole database as `pg_dump` writes it (plain SQL: every row of every table).
async fn pg_dump(database: &str) -> String {
    let postgres_url = TestPostgres::get().await.url(database);
    let binary = std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|dir| std::path::Path::new(dir).join("pg_dump"))
        .chain(
            std::fs::read_dir("/usr/lib/postgresql")
                .into_iter()
                .flatten()
                .flatten()
                .map(|version| version.path().join("bin/pg_dump")),
        )
        .find(|path| path.is_file())
        .expect("pg_dump is installed");
    let output = tokio::process::Command::new(binary)
        .arg("--no-owner")
        .arg("--dbname")
        .arg(&postgres_url)
        .output()
        .await
        .expect("pg_dump runs");
    assert!(
        output.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The erased values `text` still holds.
fn found<'a>(text: &str, values: &'a [String]) -> Vec<&'a str> {
    values
        .iter()
        .filter(|value| text.contains(value.as_str()))
        .map(String::as_str)
        .collect()
}

/// The log position of the customer's erasure.
async fn erasure_position(app: &TestApp, customer: &str) -> LogPosition {
    let (tx_id, position): (i64, i64) = sqlx::query_as(
        "SELECT tx_id::text::bigint, position FROM events \
         WHERE aggregate_type = 'customer' AND aggregate_id = $1 AND event_type = 'CustomerErased'",
    )
    .bind(customer)
    .fetch_one(&app.pool)
    .await
    .expect("the erasure is in the log");
    LogPosition { tx_id, position }
}

/// Every answer an admin can get about the customer, its calls and requests: as one text.
async fn every_answer(app: &TestApp, admin: &str, customer: &str, calls: &[String]) -> String {
    let mut answers = Vec::new();
    let queries = [
        (
            "query($id: ID!) { customer(id: $id) { id erased name phones email notes avatarUrl } }",
            json!({"id": customer}),
        ),
        (
            "query($id: String!) { history(aggregateType: \"customer\", aggregateId: $id, first: 100) \
               { edges { node { eventType eventVersion payload metadata } } } }",
            json!({"id": customer}),
        ),
        (
            "query($c: ID) { calls(customerId: $c, first: 50) { edges { node { id callerNumber \
               callerName customer { name phones email } } } } }",
            json!({"c": customer}),
        ),
        (
            "query($c: ID) { requests(customerId: $c, first: 50) { edges { node { id message \
               customer { name phones email notes } call { callerNumber callerName } } } } }",
            json!({"c": customer}),
        ),
        (
            "query { customers(first: 100) { edges { node { id name phones email notes } } } }",
            json!({}),
        ),
    ];
    for (query, variables) in queries {
        answers.push(
            gql(app, Some(admin), query, variables)
                .await
                .body
                .to_string(),
        );
    }
    let versions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_type = 'customer' AND aggregate_id = $1",
    )
    .bind(customer)
    .fetch_one(&app.pool)
    .await
    .expect("count");
    for version in 1..=versions {
        let answer = gql(
            app,
            Some(admin),
            "query($id: String!, $v: Int) { stateAt(aggregateType: \"customer\", aggregateId: $id, \
               version: $v) { version state } }",
            json!({"id": customer, "v": version}),
        )
        .await;
        answers.push(answer.body.to_string());
    }
    for call in calls {
        for query in [
            "query($id: String!) { history(aggregateType: \"call\", aggregateId: $id, first: 100) \
               { edges { node { payload } } } }",
            "query($id: String!) { stateAt(aggregateType: \"call\", aggregateId: $id, version: 1) \
               { state } }",
            "query($id: String!) { stateAt(aggregateType: \"call\", aggregateId: $id) { state } }",
        ] {
            answers.push(
                gql(app, Some(admin), query, json!({"id": call}))
                    .await
                    .body
                    .to_string(),
            );
        }
    }
    for export in ["/export/calls.csv", "/export/requests.csv"] {
        let response = app
            .http
            .get(app.url(&format!(
                "{export}?from=2000-01-01T00:00:00Z&until=2100-01-01T00:00:00Z"
            )))
            .bearer_auth(admin)
            .send()
            .await
            .expect("export answers");
        assert_eq!(response.status().as_u16(), 200, "{export}");
        answers.push(response.text().await.expect("csv"));
    }
    answers.join("\n")
}

#[tokio::test]
async fn an_erased_customer_is_in_no_dump_and_no_answer_and_a_rebuild_agrees() {
    let tel = Telephony::start(fast_queue()).await;
    let app = &tel.app;
    let admin = tel.admin().await.access_token.clone();
    let name = distinctive("Zebulon Quorridge ");
    let new_name = distinctive("Zebulon Q. Renamed ");
    let email = format!("{}@erasure.example", distinctive("zq."));
    let notes = distinctive("Allergic to ");
    let avatar = format!("https://cdn.example/{}.png", distinctive("face"));
    let (main_phone, second_phone) = (unique_phone(), unique_phone());

    // A call from the second number before the customer exists: linked later by the linker.
    let (_, early_call) = tel.place_call(&second_phone);
    // No agent is logged in: each call is queued and refused at once, so nothing moves later.
    tel.wait_call(early_call, "the early call recorded and ended", |call| {
        call.state().is_terminal()
    })
    .await;

    let answer = gql(
        app,
        Some(&admin),
        "mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) { id } }",
        json!({"input": {"name": name, "phones": [main_phone, second_phone], "email": email,
                         "notes": notes, "avatarUrl": avatar}}),
    )
    .await;
    let customer = answer.data("registerCustomer")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let answer = gql(
        app,
        Some(&admin),
        "mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { id } }",
        json!({"id": customer, "input": {"name": new_name}}),
    )
    .await;
    answer.data("updateCustomer");

    let (_, call) = tel.place_call(&main_phone);
    let queued = tel
        .wait_call(call, "the call recorded and ended", |call| {
            call.state().is_terminal()
        })
        .await;
    assert_eq!(
        queued.customer_id().map(|id| id.to_string()),
        Some(customer.clone())
    );
    let calls = vec![early_call.to_string(), call.to_string()];
    wait_for("both calls listed under the customer", || async {
        let answer = gql(
            app,
            Some(&admin),
            "query($c: ID) { calls(customerId: $c, first: 10) { totalCount } }",
            json!({"c": customer}),
        )
        .await;
        (answer.data("calls")["totalCount"] == json!(2)).then_some(())
    })
    .await;
    let answer = gql(
        app,
        Some(&admin),
        "mutation($input: OpenRequestInput!) { openRequest(input: $input) { id } }",
        json!({"input": {"customerId": customer, "callId": call.to_string(),
                         "message": "The nightly backup did not run.", "priority": "NORMAL",
                         "type": "INCIDENT"}}),
    )
    .await;
    answer.data("openRequest");

    // The values as the API and the database show them, digits of the numbers included.
    let values = vec![
        name.clone(),
        new_name.clone(),
        email.clone(),
        notes.clone(),
        avatar.clone(),
        main_phone.clone(),
        second_phone.clone(),
        main_phone[1..].to_owned(),
        second_phone[1..].to_owned(),
    ];
    // Before the erasure they are there (the checks below can fail): in the read models, and
    // opened from the sealed log by `history`; the log itself holds none of them.
    let before = every_answer(app, &admin, &customer, &calls).await;
    for value in [
        &name,
        &new_name,
        &email,
        &notes,
        &avatar,
        &main_phone,
        &second_phone,
    ] {
        assert!(
            before.contains(value.as_str()),
            "{value} shown before the erasure"
        );
    }
    let dump = pg_dump(&app.database).await;
    assert!(dump.contains(&new_name), "the read models hold the name");
    let log: Vec<String> = sqlx::query_scalar("SELECT payload::text FROM events")
        .fetch_all(&app.pool)
        .await
        .expect("log");
    assert_eq!(
        found(&log.join("\n"), &values),
        Vec::<&str>::new(),
        "sealed in the log"
    );

    let answer = gql(
        app,
        Some(&admin),
        "mutation($id: ID!) { eraseCustomer(id: $id) { erased name } }",
        json!({"id": customer}),
    )
    .await;
    assert_eq!(answer.data("eraseCustomer")["erased"], json!(true));
    let erased_at = erasure_position(app, &customer).await;
    app.state
        .projector
        .wait_for(&[], erased_at, Duration::from_secs(30))
        .await
        .expect("every read model reaches the erasure");
    // The mail outbox's directory (customers' names and emails) forgets them when its feeder
    // reads the erasure: wait for it too.
    tests::wait::until_true(
        "the mail outbox reads the erasure",
        Duration::from_secs(30),
        || async {
            projections::projector::checkpoint(&app.pool, "mail_outbox")
                .await
                .expect("checkpoint")
                >= erased_at
        },
    )
    .await;
    let keys: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM customer_keys WHERE customer_id = $1::uuid OR subject_id = $1",
    )
    .bind(&customer)
    .fetch_one(&app.pool)
    .await
    .expect("keys");
    assert_eq!(keys, 0, "every key of the customer and their calls is gone");

    // (a) Nowhere in the database.
    let dump = pg_dump(&app.database).await;
    assert!(
        dump.contains("customer_keys"),
        "the dump is the whole database"
    );
    assert_eq!(
        found(&dump, &values),
        Vec::<&str>::new(),
        "erased values in pg_dump"
    );

    // (b) In no answer; the history shows the fields as erased and never fails on them.
    let after = every_answer(app, &admin, &customer, &calls).await;
    assert_eq!(
        found(&after, &values),
        Vec::<&str>::new(),
        "erased values in an answer"
    );
    assert!(
        after.contains("[erased]"),
        "history shows erased fields as erased"
    );
    assert!(!after.contains("\"errors\""), "no answer failed: {after}");

    // Commands on an erased customer behave as before.
    let answer = gql(
        app,
        Some(&admin),
        "mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { id } }",
        json!({"id": customer, "input": {"name": "Someone Else"}}),
    )
    .await;
    assert!(
        answer.code().is_some(),
        "an erased customer refuses updates"
    );

    // (c) A rebuild of every read model gives the same read models.
    let live = tests::history::read_models(&app.pool)
        .await
        .expect("read models");
    rebuild::rebuild_named(&app.state.store, None, &mut |_| {})
        .await
        .expect("rebuild");
    let rebuilt = tests::history::read_models(&app.pool)
        .await
        .expect("read models");
    for (table, rows) in &live {
        assert_eq!(
            rows, &rebuilt[table],
            "table {table} differs after the rebuild"
        );
    }
}

/// A payload of version 1 (before sealing), written raw as the old code stored it.
async fn insert_legacy(
    pool: &sqlx::PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
    sequence: i64,
    event_type: &str,
    payload: Value,
) {
    let metadata = serde_json::to_value(Metadata::new(Actor::System)).expect("metadata");
    sqlx::query(
        "INSERT INTO events (event_id, aggregate_type, aggregate_id, sequence, event_type, \
                             event_version, payload, metadata) \
         VALUES ($1, $2, $3, $4, $5, '1', $6, $7)",
    )
    .bind(Uuid::now_v7())
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(sequence)
    .bind(event_type)
    .bind(payload)
    .bind(metadata)
    .execute(pool)
    .await
    .expect("legacy event inserted");
}

#[tokio::test]
async fn events_stored_in_clear_before_sealing_are_sealed_at_start_and_then_erasable() {
    let app = TestApp::spawn().await;
    let database = app.database.clone();
    let pool = app.pool.clone();
    app.stop().await;

    let (kept, erased) = (Uuid::new_v4().to_string(), Uuid::new_v4().to_string());
    let (kept_name, erased_name) = (distinctive("Legacy Person "), distinctive("Gone Person "));
    let (kept_phone, erased_phone) = (unique_phone(), unique_phone());
    let kept_email = format!("{}@legacy.example", distinctive("lp."));
    let call = Uuid::new_v4().to_string();
    let at = "2026-01-05T10:00:00Z";
    for (id, name, phone) in [
        (&kept, &kept_name, &kept_phone),
        (&erased, &erased_name, &erased_phone),
    ] {
        insert_legacy(
            &pool,
            "customer",
            id,
            1,
            "CustomerRegistered",
            json!({"Registered": {"name": name, "phones": [phone], "email": kept_email,
                                  "notes": "", "avatar_url": null, "at": at}}),
        )
        .await;
    }
    insert_legacy(
        &pool,
        "customer",
        &erased,
        2,
        "CustomerErased",
        json!({"Erased": {"at": at}}),
    )
    .await;
    insert_legacy(
        &pool,
        "call",
        &call,
        1,
        "CallQueued",
        json!({"Queued": {"caller_number": kept_phone, "caller_name": kept_name,
                          "customer_id": kept, "channel_id": "legacy-1", "queue": "support",
                          "at": at}}),
    )
    .await;
    // The call is over (a call still waiting keeps its number in `queue_calls` until it leaves).
    insert_legacy(
        &pool,
        "call",
        &call,
        2,
        "CallRejected",
        json!({"Rejected": {"reason": "no_agents_logged_in", "queued_at": at, "at": at}}),
    )
    .await;
    let values = vec![
        kept_name.clone(),
        erased_name.clone(),
        kept_phone.clone(),
        erased_phone.clone(),
        kept_email.clone(),
    ];

    // The start re-seals them: version 2, no value in clear, keys for the live subjects only.
    let app = TestApp::spawn_on(database, |_| {}).await;
    let log: Vec<(String, String)> = sqlx::query_as(
        "SELECT event_version, payload::text FROM events WHERE aggregate_id = ANY($1)",
    )
    .bind(vec![kept.clone(), erased.clone(), call.clone()])
    .fetch_all(&app.pool)
    .await
    .expect("log");
    assert_eq!(log.len(), 5);
    let texts: Vec<&str> = log.iter().map(|(_, payload)| payload.as_str()).collect();
    assert_eq!(found(&texts.join("\n"), &values), Vec::<&str>::new());
    let versions: Vec<&str> = log.iter().map(|(version, _)| version.as_str()).collect();
    assert_eq!(
        versions.iter().filter(|version| **version == "2").count(),
        3
    );
    let mut subjects: Vec<String> =
        sqlx::query_scalar("SELECT subject_id FROM customer_keys ORDER BY subject_id")
            .fetch_all(&app.pool)
            .await
            .expect("keys");
    subjects.sort();
    let mut expected = vec![kept.clone(), call.clone()];
    expected.sort();
    assert_eq!(subjects, expected, "no key for the customer erased before");
    // Once only: nothing left to re-seal.
    assert_eq!(
        journal::shred::reseal_legacy(&app.pool)
            .await
            .expect("reseal"),
        0
    );

    let admin = bootstrap_admin(&app).await.access_token;
    let history = gql(
        &app,
        Some(&admin),
        "query($id: String!) { history(aggregateType: \"customer\", aggregateId: $id, first: 10) \
           { edges { node { eventVersion payload } } } }",
        json!({"id": kept}),
    )
    .await;
    let text = history.body.to_string();
    assert!(text.contains(&kept_name), "re-sealed events open: {text}");
    let call_state = gql(
        &app,
        Some(&admin),
        "query($id: String!) { stateAt(aggregateType: \"call\", aggregateId: $id) { state } }",
        json!({"id": call}),
    )
    .await;
    assert!(call_state.body.to_string().contains(&kept_phone));
    let gone = gql(
        &app,
        Some(&admin),
        "query($id: String!) { history(aggregateType: \"customer\", aggregateId: $id, first: 10) \
           { edges { node { payload } } } }",
        json!({"id": erased}),
    )
    .await;
    assert!(gone.body.to_string().contains("[erased]"));

    let answer = gql(
        &app,
        Some(&admin),
        "mutation($id: ID!) { eraseCustomer(id: $id) { erased } }",
        json!({"id": kept}),
    )
    .await;
    assert_eq!(answer.data("eraseCustomer")["erased"], json!(true));
    let erased_at = erasure_position(&app, &kept).await;
    app.state
        .projector
        .wait_for(&[], erased_at, Duration::from_secs(30))
        .await
        .expect("every read model reaches the erasure");
    let dump = pg_dump(&app.database).await;
    assert_eq!(
        found(&dump, &values),
        Vec::<&str>::new(),
        "erased values in pg_dump"
    );
    let call_state = gql(
        &app,
        Some(&admin),
        "query($id: String!) { stateAt(aggregateType: \"call\", aggregateId: $id) { state } }",
        json!({"id": call}),
    )
    .await;
    assert_eq!(
        found(&call_state.body.to_string(), &values),
        Vec::<&str>::new()
    );
    assert!(call_state.body.get("errors").is_none());
}
