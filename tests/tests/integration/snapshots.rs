//! Aggregate snapshots (issue 20): a long-lived aggregate loads from its snapshot plus the
//! events after it, to the same state as a full fold; a snapshot of another version is ignored
//! and rewritten.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use cqrs_es::{Aggregate, DomainEvent};
use domain::ids::WorkerId;
use domain::values::{EmailAddress, Endpoint, PauseReason, PersonName, Role};
use domain::worker::{Worker, WorkerCommand};
use journal::{Actor, EventStore, Metadata, NewEvent, SnapshotPolicy};
use sqlx::PgPool;
use tests::TestPostgres;
use uuid::Uuid;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0)
        .single()
        .expect("valid date")
        + TimeDelta::seconds(seconds)
}

/// A store of the server's kind: upcasters, snapshots every `every` events.
fn store(pool: &PgPool, every: u32) -> EventStore {
    EventStore::new(pool.clone())
        .with_upcasters(journal::upcast::upcasters())
        .with_snapshots(SnapshotPolicy::every(every))
}

/// The `n`th presence command of a worker that alternates Available / Paused.
fn presence(n: i64) -> WorkerCommand {
    if n % 2 == 0 {
        WorkerCommand::GoAvailable {
            forced_by: None,
            at: at(n),
        }
    } else {
        WorkerCommand::Pause {
            reason: PauseReason::parse(if n % 3 == 0 { "lunch" } else { "training" })
                .expect("reason"),
            forced_by: None,
            at: at(n),
        }
    }
}

/// Appends a registered worker's `count` events (decided by the domain, one event each)
/// directly, in 500-event statements: no command path, so no snapshot is written.
async fn worker_with_events(store: &EventStore, worker: &str, count: i64) {
    let mut state = Worker::default();
    let mut events = Vec::new();
    let sink = cqrs_es::event_sink::EventSink::default();
    state
        .handle(
            WorkerCommand::Register {
                name: PersonName::parse("Sam Snapshot").expect("name"),
                email: EmailAddress::parse("sam@example.com").expect("email"),
                role: Role::Agent,
                endpoint: Some(Endpoint::parse("PJSIP/snapshot").expect("endpoint")),
                at: at(0),
            },
            &(),
            &sink,
        )
        .await
        .expect("registers");
    events.extend(sink.collect().await);
    let mut n = 1;
    while (events.len() as i64) < count {
        let sink = cqrs_es::event_sink::EventSink::default();
        state
            .handle(presence(n), &(), &sink)
            .await
            .expect("presence");
        events.extend(sink.collect().await);
        n += 1;
    }
    let new_events: Vec<NewEvent> = events
        .iter()
        .zip(1..)
        .map(|(event, sequence)| NewEvent {
            event_id: Uuid::now_v7(),
            aggregate_type: Worker::TYPE.into(),
            aggregate_id: worker.into(),
            sequence,
            event_type: event.event_type(),
            event_version: event.event_version(),
            payload: serde_json::to_value(event).expect("encodes"),
        })
        .collect();
    let metadata = Metadata::new(Actor::System);
    for chunk in new_events.chunks(500) {
        store.append(chunk, &metadata).await.expect("append");
    }
}

/// The upcaster version the server's store writes into its snapshots.
fn upcasters() -> i32 {
    i32::try_from(journal::upcast::upcasters().len()).expect("a few upcasters")
}

async fn snapshot_row(pool: &PgPool, worker: &str) -> Option<(i64, i32)> {
    sqlx::query_as(
        "SELECT sequence, upcaster_version FROM snapshots \
         WHERE aggregate_type = 'worker' AND aggregate_id = $1",
    )
    .bind(worker)
    .fetch_optional(pool)
    .await
    .expect("snapshot row")
}

async fn full_fold(pool: &PgPool, worker: &str) -> (serde_json::Value, i64) {
    let (state, version) = EventStore::new(pool.clone())
        .with_upcasters(journal::upcast::upcasters())
        .load_aggregate::<Worker>(worker)
        .await
        .expect("full fold");
    (serde_json::to_value(state).expect("encodes"), version)
}

#[tokio::test]
async fn a_worker_with_two_thousand_events_loads_from_its_snapshot_to_the_state_of_a_full_fold() {
    let postgres = TestPostgres::get().await;
    let database = postgres.fresh_database().await;
    let pool = postgres.pool(&database, 4).await;
    let worker = WorkerId(Uuid::now_v7()).to_string();
    let metadata = Metadata::new(Actor::System);
    worker_with_events(&store(&pool, 100), &worker, 1_990).await;
    assert_eq!(
        snapshot_row(&pool, &worker).await,
        None,
        "appends alone take none"
    );

    // The first load after a restart folds the whole history once and snapshots it.
    let writer = store(&pool, 100);
    let (_, version) = writer
        .load_aggregate::<Worker>(&worker)
        .await
        .expect("load");
    assert_eq!(version, 1_990);
    assert_eq!(writer.load_counters().events_folded(), 1_990);
    assert_eq!(
        snapshot_row(&pool, &worker).await,
        Some((1_990, upcasters()))
    );

    // Commands take one at each multiple of 100 (here 2,000).
    for n in 0..20 {
        writer
            .execute::<Worker>(&worker, presence(1_000_000 + n), &(), &metadata, None)
            .await
            .expect("command");
    }
    assert_eq!(
        snapshot_row(&pool, &worker).await,
        Some((2_000, upcasters()))
    );

    // After a restart (a new store: no cache), the first command reads the snapshot and the
    // ten events after it, not 2,010.
    let restarted = store(&pool, 100);
    let committed = restarted
        .execute::<Worker>(&worker, presence(2_000_001), &(), &metadata, None)
        .await
        .expect("first command after the restart");
    assert_eq!(committed.version, 2_011);
    assert_eq!(restarted.load_counters().snapshots_used(), 1);
    assert_eq!(restarted.load_counters().events_folded(), 10);

    // The same state as folding all 2,011 events.
    let fresh = store(&pool, 100);
    let (from_snapshot, version) = fresh
        .load_aggregate::<Worker>(&worker)
        .await
        .expect("load from the snapshot");
    assert_eq!(fresh.load_counters().events_folded(), 11);
    assert_eq!(
        (
            serde_json::to_value(from_snapshot).expect("encodes"),
            version
        ),
        full_fold(&pool, &worker).await
    );
    assert_eq!(
        serde_json::to_value(&committed.aggregate).expect("encodes"),
        full_fold(&pool, &worker).await.0
    );
}

#[tokio::test]
async fn a_snapshot_of_another_version_or_that_does_not_decode_is_ignored_and_rewritten() {
    let postgres = TestPostgres::get().await;
    let database = postgres.fresh_database().await;
    let pool = postgres.pool(&database, 4).await;
    let worker = WorkerId(Uuid::now_v7()).to_string();
    worker_with_events(&store(&pool, 100), &worker, 300).await;
    let expected = full_fold(&pool, &worker).await;
    store(&pool, 100)
        .load_aggregate::<Worker>(&worker)
        .await
        .expect("load");
    assert_eq!(snapshot_row(&pool, &worker).await, Some((300, upcasters())));

    // Another upcaster version (a store with none registered) ignores it and writes its own.
    let other = EventStore::new(pool.clone()).with_snapshots(SnapshotPolicy::every(100));
    other.load_aggregate::<Worker>(&worker).await.expect("load");
    assert_eq!(
        (
            other.load_counters().snapshots_used(),
            other.load_counters().events_folded()
        ),
        (0, 300)
    );
    assert_eq!(snapshot_row(&pool, &worker).await, Some((300, 0)));

    // Back under the server's versions: rewritten again, then used.
    let again = store(&pool, 100);
    again.load_aggregate::<Worker>(&worker).await.expect("load");
    assert_eq!(again.load_counters().events_folded(), 300);
    assert_eq!(snapshot_row(&pool, &worker).await, Some((300, upcasters())));
    let used = store(&pool, 100);
    let (state, version) = used.load_aggregate::<Worker>(&worker).await.expect("load");
    assert_eq!(
        (
            used.load_counters().snapshots_used(),
            used.load_counters().events_folded()
        ),
        (1, 0)
    );
    assert_eq!(
        (serde_json::to_value(state).expect("encodes"), version),
        expected
    );

    // Another state version: ignored.
    sqlx::query("UPDATE snapshots SET state_version = state_version + 1")
        .execute(&pool)
        .await
        .expect("bump");
    let bumped = store(&pool, 100);
    let (state, _) = bumped
        .load_aggregate::<Worker>(&worker)
        .await
        .expect("load");
    assert_eq!(
        (
            bumped.load_counters().snapshots_used(),
            bumped.load_counters().events_folded()
        ),
        (0, 300)
    );
    assert_eq!(serde_json::to_value(state).expect("encodes"), expected.0);

    // A state that no longer decodes: ignored, folded from the log.
    sqlx::query("UPDATE snapshots SET state = '\"not a worker\"'")
        .execute(&pool)
        .await
        .expect("garble");
    let garbled = store(&pool, 100);
    let (state, _) = garbled
        .load_aggregate::<Worker>(&worker)
        .await
        .expect("load");
    assert_eq!(garbled.load_counters().events_folded(), 300);
    assert_eq!(serde_json::to_value(state).expect("encodes"), expected.0);

    // Deleted: nothing lost.
    store(&pool, 100)
        .forget_snapshot("worker", &worker)
        .await
        .expect("forget");
    assert_eq!(snapshot_row(&pool, &worker).await, None);
    assert_eq!(full_fold(&pool, &worker).await, expected);
}

#[tokio::test]
async fn snapshot_all_takes_the_missing_snapshots_on_demand() {
    let postgres = TestPostgres::get().await;
    let database = postgres.fresh_database().await;
    let pool = postgres.pool(&database, 4).await;
    let (first, second) = (
        WorkerId(Uuid::now_v7()).to_string(),
        WorkerId(Uuid::now_v7()).to_string(),
    );
    let plain = EventStore::new(pool.clone());
    worker_with_events(&plain, &first, 7).await;
    worker_with_events(&plain, &second, 12).await;
    let on_demand = store(&pool, 100);
    assert_eq!(on_demand.snapshot_all::<Worker>().await.expect("all"), 2);
    assert_eq!(snapshot_row(&pool, &first).await, Some((7, upcasters())));
    assert_eq!(snapshot_row(&pool, &second).await, Some((12, upcasters())));
    // Nothing new since: nothing to take.
    assert_eq!(on_demand.snapshot_all::<Worker>().await.expect("all"), 0);
}

#[tokio::test]
async fn a_customers_erasure_rewrites_their_snapshot_at_once() {
    use domain::customer::{Customer, CustomerCommand};
    use domain::values::PhoneNumber;
    let postgres = TestPostgres::get().await;
    let database = postgres.fresh_database().await;
    let pool = postgres.pool(&database, 4).await;
    let store = store(&pool, 100);
    let customer = domain::ids::CustomerId::new().to_string();
    let metadata = Metadata::new(Actor::System);
    store
        .execute::<Customer>(
            &customer,
            CustomerCommand::Register {
                name: PersonName::parse("Erin Erasable").expect("name"),
                phones: vec![PhoneNumber::parse("+33 6 11 22 33 44", "33").expect("phone")],
                email: None,
                notes: "private notes".into(),
                avatar_url: None,
                at: at(0),
            },
            &(),
            &metadata,
            None,
        )
        .await
        .expect("registers");
    assert_eq!(store.snapshot_all::<Customer>().await.expect("all"), 1);
    let state: String =
        sqlx::query_scalar("SELECT state::text FROM snapshots WHERE aggregate_id = $1")
            .bind(&customer)
            .fetch_one(&pool)
            .await
            .expect("snapshot");
    assert!(state.contains("Erin Erasable"), "{state}");

    // One event, far from a multiple of 100: the snapshot is rewritten all the same.
    store
        .execute::<Customer>(
            &customer,
            CustomerCommand::Erase { at: at(1) },
            &(),
            &metadata,
            None,
        )
        .await
        .expect("erases");
    let (sequence, state): (i64, String) =
        sqlx::query_as("SELECT sequence, state::text FROM snapshots WHERE aggregate_id = $1")
            .bind(&customer)
            .fetch_one(&pool)
            .await
            .expect("snapshot");
    assert_eq!(sequence, 2);
    for personal in ["Erin Erasable", "+33611223344", "private notes"] {
        assert!(!state.contains(personal), "{personal} in {state}");
    }
}
