//! Settings that admins change without a restart (issue 15 §4), through the real server: the
//! queue's offer timeout and max length reach the telephony leader, a new request's due date
//! follows the new allowance, `kpis` counts the service level with the new T; a second
//! instance on the same database sees each change; bad values are refused `VALIDATION`; the
//! changes are in `history` with their actor.

use std::time::Duration;

use ari_adapter::sim::Behaviour;
use chrono::{DateTime, DurationRound as _, TimeDelta, Utc};
use domain::call::{Call, CallCommand, CallState, OfferOutcome, RejectReason};
use domain::ids::{CallId, WorkerId};
use journal::{Actor, EventStore, Metadata};
use serde_json::{json, Value};
use tests::graphql::{bootstrap_admin, gql, register_customer, Session};
use tests::telephony::{fast_queue, Telephony};
use tests::wait::until_true;
use tests::TestApp;

const WAIT: Duration = Duration::from_secs(15);

const SETTINGS: &str = "{ settings { queues { queueId offerTimeoutSecs wrapUpSecs maxWaitSecs \
    maxQueueLength rejectAnnouncement version updatedAt } requests { urgentSecs highSecs \
    normalSecs lowSecs dueSoonCapSecs version updatedAt } serviceLevel { thresholdSecs version \
    updatedAt } } }";

const UPDATE_QUEUE: &str = "mutation($input: QueueSettingsInput!, $version: Int) { \
    updateQueueSettings(input: $input, expectedVersion: $version) { queueId offerTimeoutSecs \
    wrapUpSecs maxWaitSecs maxQueueLength rejectAnnouncement version updatedAt } }";

const UPDATE_REQUESTS: &str = "mutation($input: RequestSettingsInput!, $version: Int) { \
    updateRequestSettings(input: $input, expectedVersion: $version) { urgentSecs highSecs \
    normalSecs lowSecs dueSoonCapSecs version } }";

const UPDATE_THRESHOLD: &str = "mutation($secs: Int!, $version: Int) { \
    updateServiceLevelThreshold(thresholdSecs: $secs, expectedVersion: $version) { \
    thresholdSecs version } }";

fn queue_input(offer: i64, max_length: i64) -> Value {
    json!({"offerTimeoutSecs": offer, "wrapUpSecs": 0, "maxWaitSecs": 60,
           "maxQueueLength": max_length, "rejectAnnouncement": null})
}

async fn settings(app: &TestApp, admin: &Session) -> Value {
    gql(app, Some(&admin.access_token), SETTINGS, json!({}))
        .await
        .data("settings")
        .clone()
}

/// Waits until `app`'s own settings (what its telephony session, request opening and `kpis`
/// read) satisfy `check`.
async fn wait_settings(
    app: &TestApp,
    what: &str,
    check: impl Fn(&api::settings::Snapshot) -> bool,
) {
    until_true(what, WAIT, || {
        let holds = check(&app.state.settings.snapshot());
        async move { holds }
    })
    .await;
}

#[tokio::test]
async fn queue_settings_changed_on_another_instance_reach_the_telephony_leader() {
    let tel = Telephony::start(fast_queue()).await;
    let admin = tel.admin().await.clone();
    // A second server on the same database: it stands by for telephony and serves the API.
    let other = tel.spawn_instance().await;

    // Nothing changed yet: the environment's values, version 0.
    let before = settings(&other, &admin).await;
    assert_eq!(before["queues"][0]["queueId"], "default");
    assert_eq!(before["queues"][0]["offerTimeoutSecs"], 1);
    assert_eq!(before["queues"][0]["maxQueueLength"], 100);
    assert_eq!(before["queues"][0]["version"], 0);
    assert_eq!(before["queues"][0]["updatedAt"], Value::Null);

    // The offer timeout goes from 1 s to 2 s, changed through the instance that does not lead.
    let answer = gql(
        &other,
        Some(&admin.access_token),
        UPDATE_QUEUE,
        json!({"input": queue_input(2, 100), "version": 0}),
    )
    .await;
    let updated = answer.data("updateQueueSettings");
    assert_eq!(updated["offerTimeoutSecs"], 2);
    assert_eq!(updated["version"], 1);
    assert!(updated["updatedAt"].is_string());
    // Read-your-writes on the instance that ran it, and the leader sees it from the log.
    assert_eq!(settings(&other, &admin).await["queues"][0]["version"], 1);
    wait_settings(&tel.app, "the leader sees the new offer timeout", |s| {
        s.queue("default").offer_timeout_secs == 2
    })
    .await;
    tel.wait_session_settled().await;

    let silent = tel.add_agent(1, Behaviour::NoAnswer).await;
    let next = tel
        .add_agent(
            2,
            Behaviour::Answer {
                after: Duration::from_millis(30),
            },
        )
        .await;
    let (inbound, call_id) = tel.place_call("+15551230001");
    let call = tel
        .wait_call(call_id, "the call to connect to the second agent", |call| {
            matches!(call.state(), CallState::Connected { .. })
        })
        .await;
    assert_eq!(*call.state(), CallState::Connected { agent: next });
    let first = &call.offers()[0];
    assert_eq!(first.agent, silent);
    assert_eq!(first.outcome, Some(OfferOutcome::NoAnswer));
    let rang = first.ended_at.map(|ended| ended - first.offered_at);
    assert!(
        rang.is_some_and(|rang| rang.num_milliseconds() >= 1900),
        "the first phone rang for the new offer timeout (2 s): {rang:?}"
    );
    let leg = api::telephony::agent_leg_id(call_id, 1);
    assert!(
        tel.control_requests()
            .contains(&format!("POST /channels/{leg}/dial timeout=2")),
        "{:?}",
        tel.control_requests()
    );
    tel.sim.caller_hangs_up(&inbound).expect("caller hangs up");
    tel.wait_until_idle().await;

    // Max queue length 0 (agent 2 is Available again: the queue is staffed): a new caller is
    // rejected `queue_full`.
    let answer = gql(
        &other,
        Some(&admin.access_token),
        UPDATE_QUEUE,
        json!({"input": queue_input(2, 0), "version": 1}),
    )
    .await;
    assert_eq!(answer.data("updateQueueSettings")["version"], 2);
    wait_settings(&tel.app, "the leader sees the new max queue length", |s| {
        s.queue("default").max_queue_length == 0
    })
    .await;
    tel.wait_session_settled().await;
    let (_inbound, rejected) = tel.place_call("+15551230002");
    tel.wait_call(rejected, "the caller to be rejected queue_full", |call| {
        matches!(call.state(), CallState::Rejected { .. })
    })
    .await;
    assert_eq!(
        *tel.call(rejected).await.state(),
        CallState::Rejected {
            reason: RejectReason::QueueFull
        }
    );
    // `queueStatus` shows the settings in force.
    let status = gql(
        &tel.app,
        Some(&admin.access_token),
        "{ queueStatus { settings { offerTimeoutSecs maxQueueLength } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        status.data("queueStatus")["settings"],
        json!({"offerTimeoutSecs": 2, "maxQueueLength": 0})
    );
    tel.wait_until_idle().await;

    // A stale expectedVersion is a conflict; the changes are in the history with their actor.
    let stale = gql(
        &tel.app,
        Some(&admin.access_token),
        UPDATE_QUEUE,
        json!({"input": queue_input(3, 10), "version": 1}),
    )
    .await;
    assert_eq!(stale.code(), Some("CONFLICT"));
    let history = gql(
        &tel.app,
        Some(&admin.access_token),
        "{ history(aggregateType: \"queue_settings\", aggregateId: \"default\") { totalCount \
         nodes { eventType metadata } } }",
        json!({}),
    )
    .await;
    let history = history.data("history");
    assert_eq!(history["totalCount"], 2);
    for node in history["nodes"].as_array().expect("nodes") {
        assert_eq!(node["eventType"], "QueueSettingsUpdated");
        assert!(
            node["metadata"].to_string().contains(&admin.worker_id),
            "the actor is the admin: {node}"
        );
    }
    other.stop().await;
}

#[tokio::test]
async fn new_requests_take_the_due_allowance_in_force_on_every_instance() {
    tests::init_test_log();
    let app = TestApp::spawn().await;
    let other = TestApp::spawn_on(app.database.clone(), |_| {}).await;
    let admin = bootstrap_admin(&app).await;
    let customer = register_customer(&app, &admin.access_token, "Due Ltd", "+33622222301").await;
    let open = |on: &'static str| {
        let customer = customer.clone();
        let token = admin.access_token.clone();
        let app = if on == "app" { &app } else { &other };
        async move {
            let answer = gql(
                app,
                Some(&token),
                "mutation($input: OpenRequestInput!) { openRequest(input: $input) { openedAt dueAt } }",
                json!({"input": {"customerId": customer, "message": "The backup of Monday failed",
                                 "priority": "URGENT", "type": "INCIDENT"}}),
            )
            .await;
            let request = answer.data("openRequest");
            let at = |field: &str| {
                request[field]
                    .as_str()
                    .expect(field)
                    .parse::<DateTime<Utc>>()
                    .expect("instant")
            };
            at("dueAt") - at("openedAt")
        }
    };
    // The product default: urgent requests get 4 h.
    assert_eq!(open("other").await, TimeDelta::hours(4));

    let answer = gql(
        &app,
        Some(&admin.access_token),
        UPDATE_REQUESTS,
        json!({"input": {"urgentSecs": 3600, "highSecs": 7200, "normalSecs": 86400,
                         "lowSecs": 172800, "dueSoonCapSecs": 600}, "version": 0}),
    )
    .await;
    assert_eq!(
        answer.data("updateRequestSettings"),
        &json!({"urgentSecs": 3600, "highSecs": 7200, "normalSecs": 86400, "lowSecs": 172800,
                "dueSoonCapSecs": 600, "version": 1})
    );
    assert_eq!(open("app").await, TimeDelta::hours(1));
    wait_settings(&other, "the other instance sees the new allowances", |s| {
        s.request_policy().urgent_secs == 3600
    })
    .await;
    assert_eq!(open("other").await, TimeDelta::hours(1));
    let seen = settings(&other, &admin).await;
    assert_eq!(seen["requests"]["dueSoonCapSecs"], 600);
    assert_eq!(seen["requests"]["version"], 1);
    // The threshold T shares the aggregate, not the values: untouched.
    assert_eq!(
        seen["serviceLevel"],
        json!({"thresholdSecs": 20, "version": 1, "updatedAt": null})
    );

    // Bad values: VALIDATION on the field, nothing recorded.
    for (input, field) in [
        (
            json!({"urgentSecs": 59, "highSecs": 7200, "normalSecs": 86400, "lowSecs": 172800,
                "dueSoonCapSecs": 600}),
            "urgentSecs",
        ),
        (
            json!({"urgentSecs": 3600, "highSecs": -1, "normalSecs": 86400, "lowSecs": 172800,
                "dueSoonCapSecs": 600}),
            "highSecs",
        ),
    ] {
        let refused = gql(
            &app,
            Some(&admin.access_token),
            UPDATE_REQUESTS,
            json!({"input": input}),
        )
        .await;
        assert_eq!(refused.code(), Some("VALIDATION"), "{}", refused.body);
        assert_eq!(refused.body["errors"][0]["extensions"]["field"], field);
    }
    for (input, field) in [
        (queue_input(0, 10), "offerTimeoutSecs"),
        (queue_input(601, 10), "offerTimeoutSecs"),
        (queue_input(20, -3), "maxQueueLength"),
        (
            json!({"offerTimeoutSecs": 20, "wrapUpSecs": 0, "maxWaitSecs": 60,
                   "maxQueueLength": 10, "rejectAnnouncement": "http://evil.example/x"}),
            "rejectAnnouncement",
        ),
        (
            json!({"queueId": "sales", "offerTimeoutSecs": 20, "wrapUpSecs": 0,
                   "maxWaitSecs": 60, "maxQueueLength": 10}),
            "queueId",
        ),
    ] {
        let refused = gql(
            &app,
            Some(&admin.access_token),
            UPDATE_QUEUE,
            json!({"input": input}),
        )
        .await;
        assert_eq!(refused.code(), Some("VALIDATION"), "{}", refused.body);
        assert_eq!(refused.body["errors"][0]["extensions"]["field"], field);
    }
    let refused = gql(
        &app,
        Some(&admin.access_token),
        UPDATE_THRESHOLD,
        json!({"secs": 0}),
    )
    .await;
    assert_eq!(refused.code(), Some("VALIDATION"));
    assert_eq!(
        refused.body["errors"][0]["extensions"]["field"],
        "thresholdSecs"
    );
    let history = gql(
        &app,
        Some(&admin.access_token),
        "{ history(aggregateType: \"center_settings\", aggregateId: \"default\") { totalCount \
         nodes { eventType metadata } } }",
        json!({}),
    )
    .await;
    let history = history.data("history");
    assert_eq!(history["totalCount"], 1);
    assert_eq!(history["nodes"][0]["eventType"], "RequestSettingsUpdated");
    assert!(history["nodes"][0]["metadata"]
        .to_string()
        .contains(&admin.worker_id));
    other.stop().await;
    app.stop().await;
}

/// A call queued at `queued_at` and answered `wait` later, written straight to the log.
async fn answered_call(store: &EventStore, queued_at: DateTime<Utc>, wait: TimeDelta) {
    let call = CallId::new().to_string();
    let agent = WorkerId::new();
    let metadata = Metadata::new(Actor::Ari);
    for command in [
        CallCommand::Queue {
            caller_number: "+33612345678".into(),
            caller_name: None,
            customer_id: None,
            channel_id: format!("chan-{call}"),
            queue: "default".into(),
            at: queued_at,
        },
        CallCommand::Offer {
            agent,
            agent_channel_id: format!("agent-{call}"),
            at: queued_at + wait - TimeDelta::seconds(1),
        },
        CallCommand::AnswerOffer {
            agent,
            at: queued_at + wait,
        },
    ] {
        store
            .execute::<Call>(&call, command, &(), &metadata, None)
            .await
            .expect("call command");
    }
}

const KPIS: &str = "query($from: DateTime!, $until: DateTime!) { kpis(from: $from, \
    until: $until, bucket: HOUR, timeZone: \"UTC\") { serviceLevelThresholdSecs \
    buckets { answered serviceLevel } } }";

/// (T, answered, answered within T) over the range.
async fn service_level(
    app: &TestApp,
    admin: &Session,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> (i64, i64, i64) {
    let answer = gql(
        app,
        Some(&admin.access_token),
        KPIS,
        json!({"from": from.to_rfc3339(), "until": until.to_rfc3339()}),
    )
    .await;
    let kpis = answer.data("kpis");
    let (mut answered, mut within) = (0, 0.0);
    for bucket in kpis["buckets"].as_array().expect("buckets") {
        let count = bucket["answered"].as_i64().expect("answered");
        answered += count;
        if let Some(level) = bucket["serviceLevel"].as_f64() {
            within += level * count as f64 / 100.0;
        }
    }
    (
        kpis["serviceLevelThresholdSecs"].as_i64().expect("T"),
        answered,
        within.round() as i64,
    )
}

#[tokio::test]
async fn the_kpis_count_the_service_level_with_the_threshold_in_force() {
    tests::init_test_log();
    let app = TestApp::spawn().await;
    let other = TestApp::spawn_on(app.database.clone(), |_| {}).await;
    let admin = bootstrap_admin(&app).await;
    let store = EventStore::new(app.pool.clone());
    // A range with an unaligned first edge (7 minutes into a 15-minute slot) and whole slots.
    let slot = TimeDelta::minutes(15);
    let from = (Utc::now() - TimeDelta::hours(3))
        .duration_trunc(slot)
        .expect("slot")
        + TimeDelta::minutes(7);
    let until = Utc::now() + TimeDelta::minutes(5);
    // Answered after 10 s and 30 s (whole slots), and after 25 s (the edge).
    answered_call(
        &store,
        from + TimeDelta::minutes(60),
        TimeDelta::seconds(10),
    )
    .await;
    answered_call(
        &store,
        from + TimeDelta::minutes(90),
        TimeDelta::seconds(30),
    )
    .await;
    answered_call(&store, from + TimeDelta::seconds(1), TimeDelta::seconds(25)).await;
    until_true("the KPIs count the three calls", WAIT, || async {
        service_level(&app, &admin, from, until).await.1 == 3
    })
    .await;
    assert_eq!(service_level(&app, &admin, from, until).await, (20, 3, 1));

    // T = 40 s, set on the other instance: every call was answered in time.
    let answer = gql(
        &other,
        Some(&admin.access_token),
        UPDATE_THRESHOLD,
        json!({"secs": 40, "version": 0}),
    )
    .await;
    assert_eq!(
        answer.data("updateServiceLevelThreshold"),
        &json!({"thresholdSecs": 40, "version": 1})
    );
    assert_eq!(service_level(&other, &admin, from, until).await, (40, 3, 3));
    wait_settings(&app, "the first instance sees T = 40 s", |s| {
        s.service_level_threshold_secs() == 40
    })
    .await;
    assert_eq!(service_level(&app, &admin, from, until).await, (40, 3, 3));
    // T = 26 s: the call answered after 25 s (the edge) and the one after 10 s.
    let answer = gql(
        &app,
        Some(&admin.access_token),
        UPDATE_THRESHOLD,
        json!({"secs": 26, "version": 1}),
    )
    .await;
    assert_eq!(answer.data("updateServiceLevelThreshold")["version"], 2);
    assert_eq!(service_level(&app, &admin, from, until).await, (26, 3, 2));
    // Back to 20 s: the projected counts again.
    gql(
        &app,
        Some(&admin.access_token),
        UPDATE_THRESHOLD,
        json!({"secs": 20, "version": 2}),
    )
    .await
    .data("updateServiceLevelThreshold");
    assert_eq!(service_level(&app, &admin, from, until).await, (20, 3, 1));
    other.stop().await;
    app.stop().await;
}
