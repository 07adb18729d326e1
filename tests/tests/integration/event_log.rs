//! The event log: gap-safe tailing, optimistic concurrency, metadata.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use domain::ids::WorkerId;
use domain::values::{EmailAddress, PersonName, Role};
use domain::worker::{Worker, WorkerCommand};
use journal::{
    Actor, CommandError, EventStore, LogPosition, LogReader, Metadata, NewEvent, StoreError,
};
use serde_json::json;
use sqlx::PgPool;
use tests::TestPostgres;
use uuid::Uuid;

async fn fresh_pool(max_connections: u32) -> PgPool {
    let postgres = TestPostgres::get().await;
    let database = postgres.fresh_database().await;
    postgres.pool(&database, max_connections).await
}

fn event(aggregate_id: &str, sequence: i64) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        aggregate_type: "probe".into(),
        aggregate_id: aggregate_id.into(),
        sequence,
        event_type: "ProbeHappened".into(),
        event_version: "1".into(),
        payload: json!({"n": sequence}),
    }
}

/// Reads everything currently readable after `from`.
async fn read_all(reader: &LogReader, mut from: LogPosition) -> Vec<journal::StoredEvent> {
    let mut all = Vec::new();
    loop {
        let batch = reader.read_after(from, 1000).await.expect("read");
        let Some(last) = batch.last() else {
            return all;
        };
        from = last.log_position;
        all.extend(batch);
    }
}

#[tokio::test]
async fn a_transaction_that_drew_a_lower_position_but_commits_last_is_not_skipped() {
    let pool = fresh_pool(4).await;
    let store = EventStore::new(pool.clone());
    let reader = LogReader::new(pool.clone());
    let metadata = Metadata::new(Actor::System);

    // The first transaction draws the lower position and stays open.
    let mut slow = pool.begin().await.expect("begin");
    let slow_position: (i64,) = sqlx::query_as(
        "INSERT INTO events (event_id, aggregate_type, aggregate_id, sequence, event_type, \
         event_version, payload, metadata) \
         VALUES ($1, 'probe', 'slow', 1, 'ProbeHappened', '1', '{}', $2) RETURNING position",
    )
    .bind(Uuid::now_v7())
    .bind(serde_json::to_value(&metadata).expect("metadata"))
    .fetch_one(&mut *slow)
    .await
    .expect("slow insert");

    // The second draws a higher position and commits first.
    let fast = store
        .append(&[event("fast", 1)], &metadata)
        .await
        .expect("fast append");
    assert!(fast[0].log_position.position > slow_position.0);

    // The reader advances as far as it can: it must not pass the open transaction.
    let seen_before = read_all(&reader, LogPosition::START).await;
    assert!(
        seen_before.is_empty(),
        "the reader must wait for the open transaction, saw {:?}",
        seen_before
            .iter()
            .map(|e| &e.aggregate_id)
            .collect::<Vec<_>>()
    );
    let checkpoint = seen_before
        .last()
        .map(|e| e.log_position)
        .unwrap_or(LogPosition::START);

    slow.commit().await.expect("slow commit");

    let seen_after = read_all(&reader, checkpoint).await;
    let ids: Vec<&str> = seen_after.iter().map(|e| e.aggregate_id.as_str()).collect();
    assert_eq!(
        ids,
        ["slow", "fast"],
        "both events, each once, in log order"
    );
}

#[tokio::test]
async fn a_tailing_reader_sees_every_event_of_twenty_concurrent_appenders_exactly_once() {
    const APPENDERS: usize = 20;
    const EVENTS_EACH: i64 = 500;
    let pool = fresh_pool(24).await;
    let store = EventStore::new(pool.clone());
    let reader = LogReader::new(pool.clone());

    let tail = tokio::spawn(async move {
        let mut seen = Vec::new();
        let mut checkpoint = LogPosition::START;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while seen.len() < APPENDERS * EVENTS_EACH as usize {
            assert!(tokio::time::Instant::now() < deadline, "tail timed out");
            let batch = reader.read_after(checkpoint, 500).await.expect("read");
            if batch.is_empty() {
                // sleep-ok: poll interval of a bounded wait (the tail saw every event)
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
            checkpoint = batch.last().expect("non-empty").log_position;
            seen.extend(batch);
        }
        // Nothing more arrives once all appenders are done.
        let rest = reader.read_after(checkpoint, 10).await.expect("read");
        (seen, rest.len())
    });

    let mut appenders = Vec::new();
    for appender in 0..APPENDERS {
        let store = store.clone();
        appenders.push(tokio::spawn(async move {
            let metadata = Metadata::new(Actor::System);
            let aggregate = format!("appender-{appender}");
            for sequence in 1..=EVENTS_EACH {
                store
                    .append(&[event(&aggregate, sequence)], &metadata)
                    .await
                    .expect("append");
            }
        }));
    }
    for appender in appenders {
        appender.await.expect("appender");
    }
    let (seen, extra) = tail.await.expect("tail");

    assert_eq!(seen.len(), APPENDERS * EVENTS_EACH as usize);
    assert_eq!(extra, 0);
    let distinct: HashSet<Uuid> = seen.iter().map(|e| e.event_id).collect();
    assert_eq!(distinct.len(), seen.len(), "no event delivered twice");
    assert!(
        seen.windows(2)
            .all(|pair| pair[0].log_position < pair[1].log_position),
        "log positions strictly increase in read order"
    );
    // Within one aggregate, events arrive in sequence order.
    for appender in 0..APPENDERS {
        let aggregate = format!("appender-{appender}");
        let sequences: Vec<i64> = seen
            .iter()
            .filter(|e| e.aggregate_id == aggregate)
            .map(|e| e.sequence)
            .collect();
        assert_eq!(sequences, (1..=EVENTS_EACH).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn concurrent_appends_of_the_same_sequence_let_exactly_one_win() {
    let pool = fresh_pool(8).await;
    let store = EventStore::new(pool);
    let metadata = Metadata::new(Actor::System);
    for sequence in 1..=20 {
        let attempts: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                let metadata = metadata.clone();
                tokio::spawn(async move {
                    store
                        .append(&[event("contended", sequence)], &metadata)
                        .await
                })
            })
            .collect();
        let mut wins = 0;
        let mut conflicts = 0;
        for attempt in attempts {
            match attempt.await.expect("task") {
                Ok(_) => wins += 1,
                Err(StoreError::Conflict) => conflicts += 1,
                Err(other) => panic!("unexpected error: {other}"),
            }
        }
        assert_eq!((wins, conflicts), (1, 3), "sequence {sequence}");
    }
    let stored = store.load("probe", "contended").await.expect("load");
    assert_eq!(stored.len(), 20);
}

#[tokio::test]
async fn concurrent_commands_expecting_the_same_version_let_exactly_one_commit() {
    let pool = fresh_pool(8).await;
    let store = EventStore::new(pool);
    let worker = WorkerId::new().to_string();
    let at = Utc::now();
    let register = WorkerCommand::Register {
        name: PersonName::parse("Ada Agent").expect("name"),
        email: EmailAddress::parse("ada@example.com").expect("email"),
        role: Role::Agent,
        endpoint: None,
        at,
    };
    let metadata = Metadata::new(Actor::System);
    let attempts: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            let register = register.clone();
            let metadata = metadata.clone();
            let worker = worker.clone();
            tokio::spawn(async move {
                store
                    .execute::<Worker>(&worker, register, &(), &metadata, Some(0))
                    .await
                    .map(|committed| committed.version)
            })
        })
        .collect();
    let mut committed = 0;
    for attempt in attempts {
        match attempt.await.expect("task") {
            Ok(version) => {
                assert_eq!(version, 1);
                committed += 1;
            }
            Err(CommandError::Conflict { expected: 0, .. }) => {}
            Err(CommandError::Rejected(error)) => {
                panic!("expected a conflict, the domain refused: {error}")
            }
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(committed, 1);
    let (_, version) = store.load_aggregate::<Worker>(&worker).await.expect("load");
    assert_eq!(version, 1);
}

#[tokio::test]
async fn metadata_round_trips_and_recorded_at_is_utc() {
    // Whatever the session's time zone, recorded_at comes back as the same UTC instant.
    let postgres = TestPostgres::get().await;
    let database = postgres.fresh_database().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .after_connect(|connection, _| {
            Box::pin(async move {
                use sqlx::Executor;
                connection.execute("SET TIME ZONE 'Asia/Tokyo'").await?;
                Ok(())
            })
        })
        .connect_with(postgres.options(&database))
        .await
        .expect("pool");
    let (zone,): (String,) = sqlx::query_as("SHOW TimeZone")
        .fetch_one(&pool)
        .await
        .expect("zone");
    assert_eq!(zone, "Asia/Tokyo");
    let store = EventStore::new(pool.clone());
    let cause = Metadata::new(Actor::Worker(WorkerId::new()));
    let metadata = Metadata::caused_by(Actor::System, &cause, Uuid::now_v7());
    let before = Utc::now();
    let appended = store
        .append(&[event("meta", 1)], &metadata)
        .await
        .expect("append");
    let after = Utc::now();
    let stored = store.load("probe", "meta").await.expect("load");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].parsed_metadata(), Some(metadata));
    assert_eq!(stored[0].event_id, appended[0].event_id);
    assert_eq!(stored[0].recorded_at, appended[0].recorded_at);
    let slack = chrono::Duration::seconds(5);
    assert!(stored[0].recorded_at >= before - slack && stored[0].recorded_at <= after + slack);
    let (utc_text,): (String,) = sqlx::query_as(
        "SELECT to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') FROM events",
    )
    .fetch_one(&pool)
    .await
    .expect("recorded_at as UTC text");
    assert_eq!(
        utc_text,
        stored[0]
            .recorded_at
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()
    );
}

#[tokio::test]
async fn a_store_whose_cached_aggregate_is_stale_re_runs_the_command_and_expected_versions_still_conflict(
) {
    use domain::customer::{Customer, CustomerCommand};
    use domain::values::PhoneNumber;

    let pool = fresh_pool(8).await;
    // Two stores, two caches: each only knows what it committed itself.
    let here = EventStore::new(pool.clone());
    let elsewhere = EventStore::new(pool);
    let customer = Uuid::now_v7().to_string();
    let metadata = Metadata::new(Actor::System);
    let update = |notes: &str| CustomerCommand::Update {
        name: None,
        phones: None,
        email: None,
        notes: Some(notes.to_owned()),
        avatar_url: None,
        at: Utc::now(),
    };
    let registered = here
        .execute::<Customer>(
            &customer,
            CustomerCommand::Register {
                name: PersonName::parse("Cache Customer").expect("name"),
                phones: vec![PhoneNumber::parse("+33 6 11 22 33 44", "33").expect("phone")],
                email: None,
                notes: String::new(),
                avatar_url: None,
                at: Utc::now(),
            },
            &(),
            &metadata,
            Some(0),
        )
        .await
        .expect("registered");
    assert_eq!(registered.version, 1);
    let moved = elsewhere
        .execute::<Customer>(&customer, update("from elsewhere"), &(), &metadata, None)
        .await
        .expect("updated elsewhere");
    assert_eq!(moved.version, 2);

    // `here` still holds version 1: expecting it must be a conflict, not a commit.
    match here
        .execute::<Customer>(&customer, update("stale"), &(), &metadata, Some(1))
        .await
    {
        Err(CommandError::Conflict {
            expected: 1,
            actual: 2,
        }) => {}
        other => panic!("expected a conflict at version 2, got {other:?}"),
    }
    // Without an expected version the command runs against the fresh state.
    let again = here
        .execute::<Customer>(&customer, update("again"), &(), &metadata, None)
        .await
        .expect("updated here");
    assert_eq!(again.version, 3);
    // Another store moves it again; `here` (which cached version 3) appends after it.
    elsewhere
        .execute::<Customer>(&customer, update("elsewhere again"), &(), &metadata, None)
        .await
        .expect("updated elsewhere again");
    let last = here
        .execute::<Customer>(&customer, update("last"), &(), &metadata, None)
        .await
        .expect("updated here again");
    assert_eq!(last.version, 5);
    let (_, version) = here
        .load_aggregate::<Customer>(&customer)
        .await
        .expect("load");
    assert_eq!(version, 5);
    let sequences: Vec<i64> = here
        .load("customer", &customer)
        .await
        .expect("events")
        .iter()
        .map(|event| event.sequence)
        .collect();
    assert_eq!(sequences, vec![1, 2, 3, 4, 5]);
}
