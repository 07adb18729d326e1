//! `savecorp simulate --demo` (issue 16): the demo fills a fresh server through its API —
//! agents on the simulated phones, logged in and Available; customers with backup plans and
//! pings (up, failing, running, new) — and a second run reuses what exists.

use std::time::Duration;

use api::cli::demo::{self, DemoTarget};
use serde_json::json;
use tests::graphql::{bootstrap_admin, gql, ADMIN_EMAIL, PASSWORD};
use tests::{wait, TestApp};

#[tokio::test]
async fn the_demo_fills_a_fresh_server_with_agents_customers_and_backups() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let target = DemoTarget {
        server: app.url(""),
        admin_email: ADMIN_EMAIL.into(),
        admin_password: PASSWORD.into(),
    };
    let endpoints = vec!["PJSIP/agent1".to_owned(), "PJSIP/agent2".to_owned()];
    let filled = demo::fill(&target, &endpoints).await.expect("demo filled");
    assert_eq!(filled.agents.len(), 2);
    assert_eq!(filled.customers.len(), demo::customer_numbers().len());

    // The agents, on their phones, Available.
    wait::until_true(
        "the demo agents available",
        Duration::from_secs(20),
        || async {
            let answer = gql(
                &app,
                Some(&admin.access_token),
                "{ workers(state: AVAILABLE) { nodes { email endpoint } } }",
                json!({}),
            )
            .await;
            let nodes = answer.data("workers")["nodes"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            endpoints.iter().all(|endpoint| {
                nodes.iter().any(|node| {
                    node["endpoint"] == endpoint.as_str()
                        && node["email"] == demo::agent_email(endpoint).as_str()
                })
            })
        },
    )
    .await;

    // The customers, each with the backup state its pings gave.
    let expected = [
        ("+15550000001", "up"),
        ("+15550000002", "down"),
        ("+15550000003", "up"),
        ("+15550000004", "running"),
        ("+15550000005", "new"),
    ];
    for (phone, status) in expected {
        wait::until_true(
            &format!("{phone}'s backups {status}"),
            Duration::from_secs(20),
            || async {
                let customer = gql(
                    &app,
                    Some(&admin.access_token),
                    "query($n: String!) { customerByNumber(number: $n) { id } }",
                    json!({"n": phone}),
                )
                .await;
                let Some(id) = customer.data("customerByNumber")["id"].as_str() else {
                    return false;
                };
                let backup = gql(
                    &app,
                    Some(&admin.access_token),
                    "query($c: ID!) { backupStatus(customerId: $c) { status } }",
                    json!({"c": id}),
                )
                .await;
                backup.data("backupStatus")["status"] == status
            },
        )
        .await;
    }

    // A second run (the simulator restarted) reuses them.
    let again = demo::fill(&target, &endpoints).await.expect("second run");
    assert_eq!(again.agents.len(), 2);
    assert!(again.customers.is_empty(), "{:?}", again.customers);
    let customers = gql(
        &app,
        Some(&admin.access_token),
        "{ customers { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(
        customers.data("customers")["totalCount"],
        demo::customer_numbers().len()
    );
}
