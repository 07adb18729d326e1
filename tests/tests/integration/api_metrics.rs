//! `/metrics` carries what an operator alerts on, read through the real server: calls waiting
//! and the oldest wait, workers by state, the ARI link and its reconnections, the mail outbox
//! backlog and failures, backup customers by status, and the mutation latency histogram.

use std::time::{Duration, Instant};

use ari_adapter::sim::{Behaviour, SimAsterisk, SimConfig};
use serde_json::json;
use tests::graphql::{bootstrap_admin, gql, register_customer, register_worker, unique_phone};
use tests::postgres::TestPostgres;
use tests::telephony::{fast_queue, use_sim, WAIT};
use tests::TestApp;

async fn scrape(app: &TestApp) -> String {
    let response = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 200);
    response.text().await.expect("text")
}

/// The value of the sample `name` (with its labels, as written), if exported.
fn sample(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .map(str::to_owned)
}

/// Scrapes until every `(sample, value)` holds (bounded by [`WAIT`]); returns the last text.
async fn wait_metrics(app: &TestApp, expected: &[(&str, &str)]) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = scrape(app).await;
        let missing: Vec<_> = expected
            .iter()
            .filter(|(name, value)| sample(&text, name).as_deref() != Some(*value))
            .collect();
        if missing.is_empty() {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "never saw {missing:?} in:\n{text}"
        );
        // sleep-ok: poll interval of a bounded wait (the metrics appear)
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn has_help_and_type(text: &str, name: &str, kind: &str) {
    assert!(
        text.contains(&format!("# HELP {name} ")),
        "no HELP for {name}"
    );
    assert!(
        text.contains(&format!("# TYPE {name} {kind}\n")),
        "no TYPE {kind} for {name}"
    );
}

#[tokio::test]
async fn metrics_show_calls_workers_ari_mail_backups_and_mutation_latency() {
    tests::init_test_log();
    let sim = SimAsterisk::start(SimConfig::default())
        .await
        .expect("simulator starts");
    let postgres = TestPostgres::get().await;
    let database = postgres.fresh_database().await;
    let queue = fast_queue();
    let app = TestApp::spawn_in(postgres, database, |config| {
        use_sim(config, &sim, &queue);
        config.http.metrics_cache_ms = 1;
    })
    .await;
    sim.wait_for_socket("callcenter", WAIT)
        .await
        .expect("the server connects its events socket");

    let admin = bootstrap_admin(&app).await;
    sim.register_endpoint("PJSIP/agent1")
        .expect("phone registers");
    sim.set_agent_behaviour(
        "PJSIP/agent1",
        Behaviour::Answer {
            after: Duration::from_millis(10),
        },
    );
    let agent = register_worker(
        &app,
        &admin,
        "agent1@metrics.test",
        "AGENT",
        Some("PJSIP/agent1"),
    )
    .await;

    // A mutation: the agent is made available; the histogram counts it.
    let text = scrape(&app).await;
    let count: u64 = sample(&text, "savecorp_graphql_mutation_duration_seconds_count")
        .expect("histogram count")
        .parse()
        .expect("a number");
    assert!(
        count >= 2,
        "login and registerWorker are mutations: {count}"
    );
    gql(
        &app,
        Some(&admin.access_token),
        "mutation($id: ID!) { setAvailability(state: AVAILABLE, workerId: $id) { id } }",
        json!({"id": agent.worker_id}),
    )
    .await
    .data("setAvailability");
    let after = (count + 1).to_string();
    let text = wait_metrics(
        &app,
        &[
            ("savecorp_workers{state=\"available\"}", "1"),
            ("savecorp_workers{state=\"offline\"}", "1"),
            ("savecorp_graphql_mutation_duration_seconds_count", &after),
            (
                "savecorp_graphql_mutation_duration_seconds_bucket{le=\"+Inf\"}",
                &after,
            ),
        ],
    )
    .await;
    let sum: f64 = sample(&text, "savecorp_graphql_mutation_duration_seconds_sum")
        .expect("histogram sum")
        .parse()
        .expect("a number");
    assert!(sum > 0.0, "{sum}");

    // The agent takes a first call; a second caller waits (the queue is staffed, nobody free).
    sim.place_call("+15550000001", "Customer", "100")
        .expect("call placed");
    wait_metrics(&app, &[("savecorp_workers{state=\"on_call\"}", "1")]).await;
    let waiting = sim
        .place_call("+15550000002", "Customer", "100")
        .expect("call placed");
    let text = wait_metrics(
        &app,
        &[
            ("savecorp_calls_waiting", "1"),
            ("savecorp_workers{state=\"on_call\"}", "1"),
            ("savecorp_workers{state=\"available\"}", "0"),
            ("savecorp_workers{state=\"offline\"}", "1"),
            ("savecorp_telephony_leader", "1"),
            ("savecorp_ari_connected", "1"),
            ("savecorp_ari_reconnects_total", "0"),
        ],
    )
    .await;
    let oldest: f64 = sample(&text, "savecorp_calls_oldest_wait_seconds")
        .expect("oldest wait exported")
        .parse()
        .expect("a number");
    assert!((0.0..60.0).contains(&oldest), "{oldest}");
    for (name, kind) in [
        ("savecorp_calls_waiting", "gauge"),
        ("savecorp_calls_oldest_wait_seconds", "gauge"),
        ("savecorp_workers", "gauge"),
        ("savecorp_telephony_leader", "gauge"),
        ("savecorp_ari_connected", "gauge"),
        ("savecorp_ari_reconnects_total", "counter"),
        ("savecorp_mail_outbox_backlog", "gauge"),
        ("savecorp_mail_outbox_retrying", "gauge"),
        ("savecorp_mail_outbox_given_up", "gauge"),
        ("savecorp_backup_customers", "gauge"),
        ("savecorp_graphql_mutation_duration_seconds", "histogram"),
    ] {
        has_help_and_type(&text, name, kind);
    }

    // The waiting caller gives up; nobody waits any more.
    sim.caller_hangs_up(&waiting).expect("caller hangs up");
    wait_metrics(
        &app,
        &[
            ("savecorp_calls_waiting", "0"),
            ("savecorp_calls_oldest_wait_seconds", "0"),
        ],
    )
    .await;

    // Backups: a customer with a plan and no run yet is `new`.
    let customer =
        register_customer(&app, &admin.access_token, "Metrics Ltd", &unique_phone()).await;
    gql(
        &app,
        Some(&admin.access_token),
        "mutation($c: ID!) { setBackupPlan(customerId: $c, plan: {periodSecs: 86400, graceSecs: 3600}) { status } }",
        json!({"c": customer}),
    )
    .await
    .data("setBackupPlan");

    // The mail outbox: two waiting (one after a failed attempt), one given up, one sent (not
    // due for a day, so no sender touches them meanwhile).
    for (event, sent, gave_up, error) in [
        (1, false, false, None),
        (2, false, false, Some("421 try later")),
        (3, false, true, Some("550 no such user")),
        (4, true, false, None),
    ] {
        sqlx::query(
            "INSERT INTO mail_outbox (event_id, kind, to_addresses, subject, text_body, html_body, \
                                      message_id, next_attempt_at, last_error, sent_at, gave_up_at) \
             VALUES ($1, 'test', ARRAY['ops@metrics.test'], 'subject', 'text', 'html', $2, \
                     now() + interval '1 day', $3, \
                     CASE WHEN $4 THEN now() END, CASE WHEN $5 THEN now() END)",
        )
        .bind(uuid::Uuid::new_v4())
        .bind(format!("<{event}@metrics.test>"))
        .bind(error)
        .bind(sent)
        .bind(gave_up)
        .execute(&app.pool)
        .await
        .expect("outbox row");
    }
    wait_metrics(
        &app,
        &[
            ("savecorp_backup_customers{status=\"new\"}", "1"),
            ("savecorp_backup_customers{status=\"down\"}", "0"),
            ("savecorp_backup_customers{status=\"unmonitored\"}", "0"),
            ("savecorp_mail_outbox_backlog", "2"),
            ("savecorp_mail_outbox_retrying", "1"),
            ("savecorp_mail_outbox_given_up", "1"),
        ],
    )
    .await;

    // The ARI link drops: the server reconnects and counts it.
    sim.drop_websockets();
    wait_metrics(
        &app,
        &[
            ("savecorp_ari_reconnects_total", "1"),
            ("savecorp_ari_connected", "1"),
        ],
    )
    .await;
}
