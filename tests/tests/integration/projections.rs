//! The projector and read models against a real PostgreSQL: exactly once, idempotent, rebuild
//! equals live, KPIs from the buckets equal a brute-force computation from the raw events.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::projections::projector::{
    self, apply_events, catch_up, Projection, ProjectionError, Projector, ProjectorConfig,
    ProjectorHandle, WaitError,
};
use ::projections::readmodels::kpis::{self, BucketSize, KpiBucket, KpiFilters};
use ::projections::rebuild;
use chrono::{DateTime, Datelike, Offset, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use domain::call::CallEvent;
use domain::policy::kpi::{
    CallFacts, KpiTotals, OccupancyTotals, RequestFacts, RequestTotals, StateInterval,
    DEFAULT_SERVICE_LEVEL_THRESHOLD,
};
use domain::request::RequestEvent;
use domain::worker::{Worker, WorkerCommand, WorkerEvent};
use futures::future::BoxFuture;
use journal::audit::{self, AsOf};
use journal::StoredEvent;
use journal::{Actor, EventStore, LogNotifier, LogPosition, LogReader, Metadata};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{PgConnection, PgPool};
use tests::history::{self, HistoryConfig};
use tests::TestPostgres;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

async fn fresh_pool(connections: u32) -> PgPool {
    let postgres = TestPostgres::get().await;
    let database = postgres.fresh_database().await;
    postgres.pool(&database, connections).await
}

fn store(pool: &PgPool) -> EventStore {
    EventStore::new(pool.clone()).with_upcasters(journal::upcast::upcasters())
}

/// Every event up to `until` (waiting for the watermark: transactions of other tests on the
/// same cluster hold it back for a moment).
async fn all_events(store: &EventStore, until: LogPosition) -> Vec<StoredEvent> {
    let reader = LogReader::new(store.pool().clone());
    let mut events = Vec::new();
    let mut after = LogPosition::START;
    let deadline = Instant::now() + Duration::from_secs(60);
    while after < until {
        let batch = reader.read_after(after, 5000).await.expect("log reads");
        let Some(last) = batch.last() else {
            assert!(
                Instant::now() < deadline,
                "the watermark never passed {until:?}"
            );
            // sleep-ok: poll interval of a bounded wait (the watermark passed)
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        after = last.log_position;
        events.extend(batch.into_iter().map(|event| store.upcast(event)));
    }
    events
}

/// Lets every projection catch up to `until`.
async fn catch_up_to(store: &EventStore, until: LogPosition) {
    let deadline = Instant::now() + Duration::from_secs(60);
    for projection in projector::all_projections() {
        loop {
            catch_up(store.pool(), store, projection.as_ref())
                .await
                .expect("projection catches up");
            if projector::checkpoint(store.pool(), projection.name())
                .await
                .expect("checkpoint")
                >= until
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the watermark never passed {until:?}"
            );
            // sleep-ok: poll interval of a bounded wait (the checkpoint passed)
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn spawn_projector(
    store: &EventStore,
    handle: &ProjectorHandle,
    projections: Vec<Arc<dyn Projection>>,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let shutdown = CancellationToken::new();
    let projector = Projector::with_projections(store.clone(), handle.clone(), projections)
        .with_config(ProjectorConfig {
            poll: Duration::from_millis(200),
            lock_retry: Duration::from_millis(100),
            ..ProjectorConfig::default()
        });
    let token = shutdown.clone();
    let pool = store.pool().clone();
    let task = tokio::spawn(async move {
        let notifier = LogNotifier::start(&pool, token.clone())
            .await
            .unwrap_or_else(|_| LogNotifier::disconnected());
        projector.run(notifier, token).await;
    });
    (shutdown, task)
}

#[tokio::test]
async fn feeding_the_same_events_twice_or_crashing_mid_batch_leaves_the_read_models_as_one_application(
) {
    let events = history::generate(&HistoryConfig::small())
        .await
        .expect("history");
    assert!(events.len() > 1000, "{} events", events.len());

    // Once, normally.
    let once = store(&fresh_pool(4).await);
    let last = history::append(&once, &events, 1000).await.expect("append");
    catch_up_to(&once, last).await;
    let expected = history::read_models(once.pool()).await.expect("snapshot");
    assert!(expected["calls"]
        .as_array()
        .is_some_and(|rows| rows.len() > 100));
    assert!(expected["kpi_call_buckets"]
        .as_array()
        .is_some_and(|rows| !rows.is_empty()));

    // The same events fed again, in other batch sizes, with the checkpoint ignored.
    let stored = all_events(&once, last).await;
    for projection in projector::all_projections() {
        for batch in stored.chunks(333) {
            let mut transaction = once.pool().begin().await.expect("begin");
            apply_events(&mut transaction, projection.as_ref(), batch)
                .await
                .expect("applies");
            transaction.commit().await.expect("commit");
        }
    }
    assert_eq!(
        history::read_models(once.pool()).await.expect("snapshot"),
        expected
    );

    // A crash between applying a batch and moving the checkpoint, then a restart.
    let crashed = store(&fresh_pool(4).await);
    let last = history::append(&crashed, &events, 1000)
        .await
        .expect("append");
    let stored = all_events(&crashed, last).await;
    for projection in projector::all_projections() {
        let mut transaction = crashed.pool().begin().await.expect("begin");
        apply_events(&mut transaction, projection.as_ref(), &stored[..700])
            .await
            .expect("applies");
        transaction.rollback().await.expect("the crash");
    }
    catch_up_to(&crashed, last).await;
    assert_eq!(
        history::read_models(crashed.pool())
            .await
            .expect("snapshot"),
        expected
    );
}

/// Counts every application of every event, unguarded, to see the runner itself apply each
/// event once.
struct Counter {
    instance: &'static str,
}

impl Projection for Counter {
    fn name(&self) -> &'static str {
        "test_counter"
    }
    fn tables(&self) -> &'static [&'static str] {
        &["test_applications"]
    }
    fn aggregate_types(&self) -> &'static [&'static str] {
        &["worker", "call", "customer", "request", "backup_run"]
    }
    fn guarded(&self) -> bool {
        false
    }
    fn apply_batch<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let ids: Vec<Uuid> = events.iter().map(|event| event.event_id).collect();
            sqlx::query(
                "INSERT INTO test_applications (event_id, instance) SELECT id, $2 FROM UNNEST($1::uuid[]) id",
            )
            .bind(&ids)
            .bind(self.instance)
            .execute(connection)
            .await?;
            Ok(())
        })
    }
}

#[tokio::test]
async fn two_projector_instances_apply_each_event_once_and_the_survivor_takes_over() {
    let pool = fresh_pool(12).await;
    sqlx::query("CREATE TABLE test_applications (event_id UUID NOT NULL, instance TEXT NOT NULL)")
        .execute(&pool)
        .await
        .expect("test table");
    let store = store(&pool);
    let events = history::generate(&HistoryConfig::small())
        .await
        .expect("history");
    let handle = ProjectorHandle::new(pool.clone());
    let with_counter = |instance: &'static str| {
        let mut projections = projector::all_projections();
        projections.push(Arc::new(Counter { instance }));
        projections
    };
    let (stop_first, first) = spawn_projector(&store, &handle, with_counter("first"));
    let (stop_second, second) = spawn_projector(&store, &handle, with_counter("second"));
    let half = events.len() / 2;
    let mut head = LogPosition::START;
    for part in events[..half].chunks(200) {
        head = history::append(&store, part, 200).await.expect("append");
    }
    // The instance holding the counter's lock has applied the first half; it dies, and the
    // other takes over.
    handle
        .wait_for(&["test_counter"], head, Duration::from_secs(60))
        .await
        .expect("the first half is applied");
    let (holder,): (String,) = sqlx::query_as(
        "SELECT instance FROM test_applications GROUP BY instance ORDER BY count(*) DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("the lock holder");
    let ((stop_holder, holder_task), (stop_survivor, survivor_task), survivor) =
        if holder == "first" {
            ((stop_first, first), (stop_second, second), "second")
        } else {
            ((stop_second, second), (stop_first, first), "first")
        };
    stop_holder.cancel();
    holder_task.await.expect("the lock holder stops");
    for part in events[half..].chunks(200) {
        head = history::append(&store, part, 200).await.expect("append");
    }
    handle
        .wait_for(&["test_counter"], head, Duration::from_secs(60))
        .await
        .expect("the survivor catches up");
    handle
        .wait_for(&[], head, Duration::from_secs(60))
        .await
        .expect("every projection catches up");
    stop_survivor.cancel();
    survivor_task.await.expect("the survivor stops");

    let (applications, distinct, instances): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT event_id), count(DISTINCT instance) FROM test_applications",
    )
    .fetch_one(&pool)
    .await
    .expect("counts");
    assert_eq!(distinct, events.len() as i64);
    assert_eq!(applications, events.len() as i64, "no event applied twice");
    assert!(instances >= 1);
    let (survivor_count,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM test_applications WHERE instance = $1")
            .bind(survivor)
            .fetch_one(&pool)
            .await
            .expect("count");
    assert!(survivor_count > 0, "the {survivor} instance took over");

    // The live read models equal a single application.
    let single = store_with_history(&events).await;
    assert_eq!(
        history::read_models(&pool).await.expect("snapshot"),
        history::read_models(single.pool()).await.expect("snapshot")
    );
}

async fn store_with_history(events: &[journal::NewEvent]) -> EventStore {
    let single = store(&fresh_pool(4).await);
    let last = history::append(&single, events, 1000)
        .await
        .expect("append");
    catch_up_to(&single, last).await;
    single
}

/// Regression (issue 17, the API path): a runner woken by a notification that finds the new
/// events still above the watermark (an older transaction is open) used to sleep until the next
/// notification or its poll (1 s), and with one client sending mutations back to back no next
/// notification comes. It must look again by itself: here the poll is an hour and nothing else
/// appends, so only that re-look can move the read models after the blocker ends.
#[tokio::test]
async fn a_runner_held_by_the_watermark_looks_again_without_a_notification_or_its_poll() {
    tests::init_test_log();
    let pool = fresh_pool(12).await;
    let store = store(&pool);
    let events = history::generate(&HistoryConfig::small())
        .await
        .expect("history");
    let handle = ProjectorHandle::new(pool.clone());
    let shutdown = CancellationToken::new();
    let projector = Projector::new(store.clone(), handle.clone()).with_config(ProjectorConfig {
        poll: Duration::from_secs(3600),
        lock_retry: Duration::from_millis(100),
        ..ProjectorConfig::default()
    });
    let notifier = LogNotifier::start(&pool, shutdown.clone())
        .await
        .expect("LISTEN");
    let task = tokio::spawn(projector.run(notifier, shutdown.clone()));

    // An open transaction with an id older than the appends below holds the watermark.
    let mut blocker = pool.begin().await.expect("blocker");
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *blocker)
        .await
        .expect("the blocker takes a transaction id");
    let head = history::append(&store, &events[..20], 20)
        .await
        .expect("append");
    // The runners were woken by the appends' notification and found them held.
    let deadline = Instant::now() + Duration::from_secs(60);
    while handle.held_looks() == 0 {
        assert!(
            Instant::now() < deadline,
            "no runner found the appends held"
        );
        // sleep-ok: poll interval of a bounded wait (a runner saw the appends held)
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The blocker ends without appending: no notification, and the poll is an hour away.
    blocker.commit().await.expect("the blocker commits");
    if let Err(error) = handle.wait_for(&[], head, Duration::from_secs(60)).await {
        panic!(
            "the read models did not apply the appends once the blocker ended ({error}): \
             head {head:?}, {} held looks, {:?}",
            handle.held_looks(),
            projector::status(&pool).await
        );
    }
    shutdown.cancel();
    task.await.expect("projector stops");
}

#[tokio::test]
async fn lag_is_visible_and_returns_to_zero_after_a_burst() {
    let pool = fresh_pool(12).await;
    let store = store(&pool);
    let events = history::generate(&HistoryConfig::small())
        .await
        .expect("history");
    let head = history::append(&store, &events, 500).await.expect("burst");
    // Once the watermark has passed the burst, every projection is the whole burst behind.
    let deadline = Instant::now() + Duration::from_secs(30);
    while LogReader::new(pool.clone()).head().await.expect("head") < head {
        assert!(
            Instant::now() < deadline,
            "the watermark never passed the burst"
        );
        // sleep-ok: poll interval of a bounded wait (the watermark passed the burst)
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let statuses = projector::status(&pool).await.expect("status");
    assert_eq!(statuses.len(), projector::all_projections().len());
    for status in &statuses {
        assert_eq!(status.lag, events.len() as i64, "{}", status.name);
    }
    let handle = ProjectorHandle::new(pool.clone());
    let beyond = LogPosition {
        tx_id: head.tx_id + 1_000_000,
        position: head.position + 1,
    };
    assert!(matches!(
        handle
            .wait_for(&["calls"], beyond, Duration::from_millis(200))
            .await,
        Err(WaitError::Timeout)
    ));
    let (stop, task) = spawn_projector(&store, &handle, projector::all_projections());
    handle
        .wait_for(&[], head, Duration::from_secs(60))
        .await
        .expect("caught up");
    for status in projector::status(&pool).await.expect("status") {
        assert_eq!(status.lag, 0, "{}", status.name);
        assert_eq!(status.checkpoint, head, "{}", status.name);
    }
    stop.cancel();
    task.await.expect("projector stops");
}

#[tokio::test]
async fn audit_reads_list_history_fold_state_as_of_a_version_or_time_and_find_an_actor() {
    let pool = fresh_pool(4).await;
    let store = store(&pool);
    let admin = Actor::Worker(domain::ids::WorkerId::new());
    let worker_id = Uuid::new_v4().to_string();
    let at = Utc.with_ymd_and_hms(2024, 10, 1, 8, 0, 0).unwrap();
    let commands = [
        WorkerCommand::Register {
            name: domain::values::PersonName::parse("Zoé").unwrap(),
            email: domain::values::EmailAddress::parse("zoe@savecorp.test").unwrap(),
            role: domain::values::Role::Agent,
            endpoint: Some(domain::values::Endpoint::parse("PJSIP/2001").unwrap()),
            at,
        },
        WorkerCommand::GoAvailable {
            forced_by: None,
            at: at + TimeDelta::minutes(1),
        },
        WorkerCommand::GoOffline {
            forced_by: None,
            at: at + TimeDelta::minutes(2),
        },
    ];
    let mut recorded = Vec::new();
    for command in commands {
        let committed = store
            .execute::<Worker>(&worker_id, command, &(), &Metadata::new(admin), None)
            .await
            .expect("command commits");
        recorded.push(committed.appended[0].recorded_at);
    }
    store
        .execute::<Worker>(
            &worker_id,
            WorkerCommand::GoAvailable {
                forced_by: None,
                at: at + TimeDelta::minutes(3),
            },
            &(),
            &Metadata::new(Actor::System),
            None,
        )
        .await
        .expect("command commits");

    let events = audit::history(&store, "worker", &worker_id)
        .await
        .expect("history");
    let sequences: Vec<i64> = events.iter().map(|event| event.sequence).collect();
    assert_eq!(sequences, [1, 2, 3, 4]);

    let at_two = audit::state_at(&store, "worker", &worker_id, AsOf::Version(2))
        .await
        .expect("state");
    assert_eq!(at_two.version, 2);
    assert_eq!(at_two.state["presence"]["state"], "available");
    let at_time = audit::state_at(&store, "worker", &worker_id, AsOf::Time(recorded[2]))
        .await
        .expect("state");
    assert_eq!(at_time.version, 3);
    assert_eq!(at_time.state["presence"]["state"], "offline");
    let before = audit::state_at(&store, "worker", &worker_id, AsOf::Version(0))
        .await
        .expect("state");
    assert_eq!(before.version, 0);
    assert!(matches!(
        audit::state_at(&store, "spaceship", &worker_id, AsOf::Latest).await,
        Err(audit::AuditError::UnknownAggregateType(_))
    ));

    let by_admin = audit::actor_events(
        &store,
        &admin,
        recorded[0] - TimeDelta::seconds(1),
        Utc::now() + TimeDelta::seconds(1),
        None,
        2,
    )
    .await
    .expect("actor events");
    assert_eq!(by_admin.len(), 2);
    let last = by_admin.last().expect("two events");
    let rest = audit::actor_events(
        &store,
        &admin,
        recorded[0] - TimeDelta::seconds(1),
        Utc::now() + TimeDelta::seconds(1),
        Some((last.recorded_at, last.position())),
        10,
    )
    .await
    .expect("actor events");
    assert_eq!(rest.len(), 1, "the system's event is not the admin's");
    assert_eq!(rest[0].sequence, 3);
}

#[tokio::test]
async fn a_stored_version_one_log_event_is_upcast_for_the_store_and_the_projector() {
    let pool = fresh_pool(4).await;
    let customer_id = domain::ids::CustomerId::new();
    let run_id = Uuid::new_v4().to_string();
    let raw = |sequence: i64, event_type: &str, version: &str, payload: serde_json::Value| {
        journal::NewEvent {
            event_id: Uuid::now_v7(),
            aggregate_type: "backup_run".to_owned(),
            aggregate_id: run_id.clone(),
            sequence,
            event_type: event_type.to_owned(),
            event_version: version.to_owned(),
            payload,
        }
    };
    let plain = EventStore::new(pool.clone());
    let appended = plain
        .append(
            &[
                raw(
                    1,
                    "BackupRunStarted",
                    "1",
                    serde_json::json!({"Started": {"customer_id": customer_id, "client_run_id": null, "at": "2025-06-15T15:00:00Z"}}),
                ),
                // The version-1 shape, as stored before `truncated` existed.
                raw(
                    2,
                    "BackupRunLogAppended",
                    "1",
                    serde_json::json!({"LogAppended": {"at": "2025-06-15T15:07:11Z", "text": "processed 1204 files"}}),
                ),
            ],
            &Metadata::new(Actor::System),
        )
        .await
        .expect("append");
    assert!(
        plain
            .load_aggregate::<domain::backup_run::BackupRun>(&run_id)
            .await
            .is_err(),
        "without the upcaster the v1 payload does not decode"
    );
    let upcasting = store(&pool);
    let loaded = upcasting.load("backup_run", &run_id).await.expect("loads");
    assert_eq!(loaded[1].event_version, "2");
    upcasting
        .load_aggregate::<domain::backup_run::BackupRun>(&run_id)
        .await
        .expect("decodes once upcast");
    let last = appended.last().expect("appended").log_position;
    let backups = ::projections::readmodels::backups::BackupsProjection;
    let deadline = Instant::now() + Duration::from_secs(30);
    while projector::checkpoint(&pool, "backups")
        .await
        .expect("checkpoint")
        < last
    {
        assert!(
            Instant::now() < deadline,
            "the watermark never passed the events"
        );
        catch_up(&pool, &upcasting, &backups)
            .await
            .expect("projects");
        // sleep-ok: poll interval of a bounded wait (the checkpoint passed)
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (entries, truncated): (i32, bool) = sqlx::query_as(
        "SELECT log_entries, log_truncated FROM backup_runs WHERE run_id = $1::uuid",
    )
    .bind(&run_id)
    .fetch_one(&pool)
    .await
    .expect("row");
    assert_eq!((entries, truncated), (1, false));
}

// ---- the large history ----

#[derive(Default)]
struct RawFacts {
    calls: HashMap<String, (String, Option<Uuid>, CallFacts)>,
    requests: HashMap<String, RequestFacts>,
    intervals: HashMap<String, Vec<StateInterval>>,
}

/// The KPI inputs folded straight from the raw events, independently of the projection.
fn raw_facts(events: &[StoredEvent]) -> RawFacts {
    use domain::policy::kpi::AgentActivity;
    let mut facts = RawFacts::default();
    let mut wrap_ups: HashMap<String, u64> = HashMap::new();
    let far = Utc::now() + TimeDelta::days(3650);
    for event in events {
        match event.aggregate_type.as_str() {
            "call" => {
                let decoded: CallEvent = event.decode().expect("call event");
                let entry = facts.calls.entry(event.aggregate_id.clone());
                match decoded {
                    CallEvent::Queued { queue, at, .. } => {
                        entry.or_insert((
                            queue,
                            None,
                            CallFacts {
                                queued_at: at,
                                connected_at: None,
                                ended_at: None,
                                abandoned_at: None,
                                wrap_up_secs: 0,
                            },
                        ));
                    }
                    CallEvent::Connected { agent, at, .. } => {
                        entry.and_modify(|(_, who, call)| {
                            *who = Some(agent.as_uuid());
                            call.connected_at = Some(at);
                        });
                    }
                    CallEvent::Abandoned { at, .. } => {
                        entry.and_modify(|(_, _, call)| call.abandoned_at = Some(at));
                    }
                    CallEvent::Ended { at, .. } => {
                        entry.and_modify(|(_, _, call)| call.ended_at = Some(at));
                    }
                    _ => {}
                }
            }
            "worker" => {
                let decoded: WorkerEvent = event.decode().expect("worker event");
                if let WorkerEvent::CallEnded {
                    call_id,
                    wrap_up_until,
                    at,
                } = &decoded
                {
                    wrap_ups.insert(
                        call_id.to_string(),
                        wrap_up_until.map_or(0, |until| (until - *at).num_seconds() as u64),
                    );
                }
                let activity = match &decoded {
                    WorkerEvent::Registered { at, .. }
                    | WorkerEvent::Deactivated { at }
                    | WorkerEvent::WentOffline { at, .. }
                    | WorkerEvent::LoggedOut { at } => Some((AgentActivity::Offline, *at)),
                    WorkerEvent::WentAvailable { at, .. }
                    | WorkerEvent::OfferWithdrawn { at, .. }
                    | WorkerEvent::WrapUpFinished { at } => Some((AgentActivity::Available, *at)),
                    WorkerEvent::CallEnded {
                        wrap_up_until, at, ..
                    } => Some(if wrap_up_until.is_some() {
                        (AgentActivity::WrapUp, *at)
                    } else {
                        (AgentActivity::Available, *at)
                    }),
                    WorkerEvent::Paused { at, .. } | WorkerEvent::OfferMissed { at, .. } => {
                        Some((AgentActivity::Paused, *at))
                    }
                    WorkerEvent::Offered { at, .. } => Some((AgentActivity::Offered, *at)),
                    WorkerEvent::OfferAnswered { at, .. } => Some((AgentActivity::OnCall, *at)),
                    _ => None,
                };
                if let Some((activity, at)) = activity {
                    let intervals = facts
                        .intervals
                        .entry(event.aggregate_id.clone())
                        .or_default();
                    if let Some(last) = intervals.last_mut() {
                        last.end = at;
                    }
                    intervals.push(StateInterval {
                        activity,
                        start: at,
                        end: far,
                    });
                }
            }
            "request" => {
                let decoded: RequestEvent = event.decode().expect("request event");
                let entry = facts.requests.entry(event.aggregate_id.clone());
                match decoded {
                    RequestEvent::Opened { due_at, at, .. } => {
                        entry.or_insert(RequestFacts {
                            opened_at: at,
                            due_at: Some(due_at),
                            solved_at: None,
                            open_or_pending: true,
                        });
                    }
                    RequestEvent::Updated {
                        due_at: Some(due), ..
                    } => {
                        entry.and_modify(|request| request.due_at = Some(due.to));
                    }
                    RequestEvent::Solved { at, .. } => {
                        entry.and_modify(|request| request.solved_at = Some(at));
                    }
                    RequestEvent::Reopened { .. } => {
                        entry.and_modify(|request| request.solved_at = None);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    for (call_id, secs) in wrap_ups {
        if let Some((_, _, call)) = facts.calls.get_mut(&call_id) {
            call.wrap_up_secs = secs;
        }
    }
    facts
}

/// Bucket boundaries found by walking the range slot by slot and noticing when the local
/// hour, day or month changes (independent of the library's bucket arithmetic).
fn expected_bounds(
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    bucket: BucketSize,
    zone: Tz,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let key = |instant: DateTime<Utc>| {
        let local = instant.with_timezone(&zone);
        match bucket {
            BucketSize::Hour => (
                local.year(),
                local.ordinal(),
                local.hour(),
                local.offset().fix().local_minus_utc(),
            ),
            BucketSize::Day => (local.year(), local.ordinal(), 0, 0),
            BucketSize::Month => (local.year(), local.month(), 0, 0),
        }
    };
    let mut bounds = Vec::new();
    let slot = TimeDelta::minutes(15);
    let mut start = from;
    let mut cursor = kpis::slot_of(from) + slot;
    let current = key(from);
    let mut current = current;
    while cursor < until {
        let here = key(cursor);
        if here != current {
            bounds.push((start, cursor));
            start = cursor;
            current = here;
        }
        cursor += slot;
    }
    bounds.push((start, until));
    bounds
}

fn brute_force(
    facts: &RawFacts,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    bucket: BucketSize,
    zone: Tz,
    filters: &KpiFilters,
) -> Vec<KpiBucket> {
    let calls: Vec<CallFacts> = facts
        .calls
        .values()
        .filter(|(queue, agent, _)| {
            filters.queue.as_ref().is_none_or(|wanted| wanted == queue)
                && filters.agent.is_none_or(|wanted| *agent == Some(wanted))
        })
        .map(|(_, _, call)| *call)
        .collect();
    let requests: Vec<RequestFacts> = facts.requests.values().copied().collect();
    let intervals: Vec<StateInterval> = facts
        .intervals
        .iter()
        .filter(|(worker, _)| {
            filters
                .agent
                .is_none_or(|wanted| worker.as_str() == wanted.to_string())
        })
        .flat_map(|(_, intervals)| intervals.iter().copied())
        .collect();
    expected_bounds(from, until, bucket, zone)
        .into_iter()
        .map(|(start, end)| KpiBucket {
            start,
            end,
            calls: KpiTotals::in_range(&calls, start, end, DEFAULT_SERVICE_LEVEL_THRESHOLD),
            requests: RequestTotals::in_range(&requests, start, end),
            occupancy: OccupancyTotals::in_range(&intervals, start, end),
        })
        .collect()
}

#[tokio::test]
async fn a_hundred_thousand_event_history_rebuilds_equal_to_live_and_its_kpis_match_brute_force() {
    let pool = fresh_pool(16).await;
    let store = store(&pool);
    let config = HistoryConfig::large();

    let started = Instant::now();
    let events = history::generate(&config).await.expect("history");
    let generated = started.elapsed();
    assert!(events.len() >= 100_000, "only {} events", events.len());
    let started = Instant::now();
    let head = history::append(&store, &events, 2000)
        .await
        .expect("append");
    let appended = started.elapsed();

    // Live: the projector tails the log.
    let handle = ProjectorHandle::new(pool.clone());
    let started = Instant::now();
    let (stop, task) = spawn_projector(&store, &handle, projector::all_projections());
    handle
        .wait_for(&[], head, Duration::from_secs(900))
        .await
        .expect("live projections catch up");
    let projected = started.elapsed();
    let live = history::read_models(&pool).await.expect("snapshot");

    // Rebuilt while the projector keeps running.
    let started = Instant::now();
    let mut updates = 0u32;
    let reports = rebuild::rebuild_named(&store, None, &mut |_progress| updates += 1)
        .await
        .expect("rebuild");
    let rebuilt_in = started.elapsed();
    assert!(updates as usize > reports.len());
    let rebuilt = history::read_models(&pool).await.expect("snapshot");
    for (table, rows) in &live {
        assert!(
            rows == &rebuilt[table],
            "table {table} differs after rebuild"
        );
    }
    let comment: Option<String> =
        sqlx::query_scalar("SELECT obj_description('kpi_call_buckets'::regclass, 'pg_class')")
            .fetch_one(&pool)
            .await
            .expect("comment");
    assert!(comment.is_some_and(|text| text.contains("15 min")));
    let (index_name,): (String,) =
        sqlx::query_as("SELECT indexname::text FROM pg_indexes WHERE indexname = 'workers_state'")
            .fetch_one(&pool)
            .await
            .expect("the index keeps its migration name");
    assert_eq!(index_name, "workers_state");

    // The projector continues from the rebuilt checkpoint.
    let extra = history::generate(&HistoryConfig {
        seed: 99,
        ..HistoryConfig::small()
    })
    .await
    .expect("history");
    let head = history::append(&store, &extra, 1000).await.expect("append");
    handle
        .wait_for(&[], head, Duration::from_secs(300))
        .await
        .expect("tailing resumes after the swap");
    stop.cancel();
    task.await.expect("projector stops");

    // KPIs: buckets versus brute force over the raw events.
    let started = Instant::now();
    let raw = raw_facts(&all_events(&store, head).await);
    let agent = raw
        .calls
        .values()
        .find_map(|(_, agent, _)| *agent)
        .expect("an answered call");
    let zones: [Tz; 3] = [
        chrono_tz::Europe::Paris,
        chrono_tz::UTC,
        chrono_tz::Asia::Kolkata,
    ];
    let mut rng = StdRng::seed_from_u64(5);
    let first = config.first_day;
    let mut cases = vec![(
        // The Paris DST day, hour by hour (25 local hours).
        Utc.with_ymd_and_hms(2024, 10, 26, 22, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2024, 10, 27, 23, 0, 0).unwrap(),
        BucketSize::Hour,
        chrono_tz::Europe::Paris,
        KpiFilters::default(),
    )];
    for case in 0..18 {
        let bucket = [BucketSize::Hour, BucketSize::Day, BucketSize::Month][case % 3];
        let zone = zones[(case / 3) % 3];
        let from = first + TimeDelta::seconds(rng.gen_range(0..30 * 86_400));
        let length = match bucket {
            BucketSize::Hour => rng.gen_range(3_600..3 * 86_400),
            _ => rng.gen_range(86_400..40 * 86_400),
        };
        let filters = match case % 4 {
            1 => KpiFilters {
                queue: Some("vip".to_owned()),
                agent: None,
            },
            2 => KpiFilters {
                queue: None,
                agent: Some(agent),
            },
            _ => KpiFilters::default(),
        };
        cases.push((
            from,
            from + TimeDelta::seconds(length),
            bucket,
            zone,
            filters,
        ));
    }
    let mut checked_calls = 0u64;
    for (from, until, bucket, zone, filters) in cases {
        let actual = kpis::kpis(&pool, from, until, bucket, zone, &filters)
            .await
            .expect("kpis");
        let expected = brute_force(&raw, from, until, bucket, zone, &filters);
        checked_calls += actual
            .iter()
            .map(|bucket| bucket.calls.offered)
            .sum::<u64>();
        assert_eq!(
            actual, expected,
            "{bucket:?} in {zone} from {from} until {until} with {filters:?}"
        );
    }
    assert!(checked_calls > 10_000, "{checked_calls} calls checked");
    let kpi_checks = started.elapsed();

    let rebuilt_events: u64 = reports.iter().map(|report| report.events).sum();
    let table: BTreeMap<&str, String> = BTreeMap::from([
        ("events", events.len().to_string()),
        ("generate", format!("{generated:.1?}")),
        (
            "append",
            format!(
                "{appended:.1?} ({:.0} events/s)",
                events.len() as f64 / appended.as_secs_f64()
            ),
        ),
        ("project live (7 projections)", format!("{projected:.1?}")),
        (
            "rebuild all",
            format!(
                "{rebuilt_in:.1?} ({:.0} projection-events/s)",
                rebuilt_events as f64 / rebuilt_in.as_secs_f64()
            ),
        ),
        ("kpi checks", format!("{kpi_checks:.1?}")),
    ]);
    println!("{table:#?}");
    for report in &reports {
        println!(
            "rebuilt {:<10} {:>7} events in {:.1?}",
            report.projection, report.events, report.elapsed
        );
    }
}
