//! Rebuilding a projection from the log while the live tables keep serving (PRODUCT §9).
//!
//! 1. Shadow tables: schema `rebuild_<name>` gets `CREATE TABLE … (LIKE live.t INCLUDING ALL)`
//!    of each table the projection owns, plus its own `projection_versions`.
//! 2. The log is replayed into them in short transactions (one read batch each) whose
//!    `SET LOCAL search_path` puts the shadow schema first: the projection's code, written
//!    with unqualified table names, writes the shadow tables without knowing it. Rebuilding
//!    several projections reads the log ONCE: each batch is applied to every shadow in the
//!    same transaction, switching `search_path` between them. The idempotency guard (the last
//!    sequence per aggregate) is kept in memory during this pass and written to the shadow's
//!    `projection_versions` once at its end; the swap's catch-up uses the table as usual.
//! 3. The swap, ONE transaction: lock the live checkpoint row (the live runner waits), apply
//!    the events appended since, drop each live table and move its shadow into the live schema
//!    (renaming the indexes back to the migrations' names and copying the table comment),
//!    replace the projection's `projection_versions` rows, set the checkpoint to where the
//!    rebuild stopped. Readers see the old tables until the commit, the new ones after; the
//!    live runner then continues from the rebuilt checkpoint.
//!
//! Why runtime DDL here (the only place outside `migrations/`): shadow tables must have exactly
//! the live tables' current shape, whatever migrations ran, and must be swapped in by rename to
//! keep the switch atomic and O(1); copying rows back would hold the live tables locked for as
//! long as the copy takes. `LIKE … INCLUDING ALL` derives them from the live tables, so no
//! definition is duplicated.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use journal::{EventStore, LogPosition, LogReader, StoredEvent};
use sqlx::{Connection, PgConnection, Row};

use crate::projector::READ_AHEAD;
use crate::projector::{
    all_projections, apply_events, apply_events_tracked, lock_checkpoint, store_checkpoint,
    store_versions, Projection, ProjectionError, Versions,
};

/// First key of the rebuild advisory locks (one rebuild per projection at a time).
pub const REBUILD_LOCK_SPACE: i32 = 0x5343_5242; // "SCRB"

/// How far a rebuild is.
#[derive(Clone, Debug, PartialEq)]
pub struct RebuildProgress {
    pub projection: &'static str,
    /// Events read from the log so far.
    pub done: u64,
    /// Events in the log when the rebuild started (more may come).
    pub total: u64,
    pub elapsed: Duration,
}

impl RebuildProgress {
    /// Events per second so far.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.done as f64 / secs
        } else {
            0.0
        }
    }

    /// The time left at the current rate.
    pub fn eta(&self) -> Option<Duration> {
        let rate = self.rate();
        (rate > 0.0)
            .then(|| Duration::from_secs_f64(self.total.saturating_sub(self.done) as f64 / rate))
    }
}

/// What a finished rebuild did.
#[derive(Clone, Debug, PartialEq)]
pub struct RebuildReport {
    pub projection: &'static str,
    pub events: u64,
    pub elapsed: Duration,
    pub checkpoint: LogPosition,
}

/// Why a rebuild failed (the live tables are then untouched).
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error("no projection is called {0:?}")]
    UnknownProjection(String),
    #[error("a rebuild of {0} is already running")]
    AlreadyRunning(&'static str),
    #[error("index {index} of {table} has no counterpart in the live table")]
    IndexMismatch { table: String, index: String },
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Rebuilds `name` (every projection when `None`), all of them in one pass over the log.
pub async fn rebuild_named(
    store: &EventStore,
    name: Option<&str>,
    progress: &mut (dyn FnMut(&RebuildProgress) + Send),
) -> Result<Vec<RebuildReport>, RebuildError> {
    let projections = match name {
        Some(name) => vec![crate::projector::projection_named(name)
            .ok_or_else(|| RebuildError::UnknownProjection(name.chars().take(40).collect()))?],
        None => all_projections(),
    };
    let projections: Vec<&dyn Projection> = projections.iter().map(AsRef::as_ref).collect();
    rebuild_together(store, &projections, progress).await
}

/// Rebuilds one projection into shadow tables and swaps them in.
pub async fn rebuild(
    store: &EventStore,
    projection: &dyn Projection,
    progress: &mut (dyn FnMut(&RebuildProgress) + Send),
) -> Result<RebuildReport, RebuildError> {
    let mut reports = rebuild_together(store, &[projection], progress).await?;
    Ok(reports.remove(0))
}

/// Rebuilds `projections` into their shadow tables in ONE pass over the log (each batch read
/// once, upcast once, and applied to every shadow in one transaction), then swaps each in.
pub async fn rebuild_together(
    store: &EventStore,
    projections: &[&dyn Projection],
    progress: &mut (dyn FnMut(&RebuildProgress) + Send),
) -> Result<Vec<RebuildReport>, RebuildError> {
    let pool = store.pool();
    let started = Instant::now();
    let mut lock = PgConnection::connect_with(&pool.connect_options()).await?;
    let mut result = Ok(Vec::new());
    for projection in projections {
        let (locked,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1, hashtext($2))")
            .bind(REBUILD_LOCK_SPACE)
            .bind(projection.name())
            .fetch_one(&mut lock)
            .await?;
        if !locked {
            result = Err(RebuildError::AlreadyRunning(projection.name()));
            break;
        }
    }
    if result.is_ok() {
        result = rebuild_locked(store, projections, progress, started).await;
        if result.is_err() {
            for projection in projections {
                let _ = sqlx::query(&format!(
                    "DROP SCHEMA IF EXISTS {} CASCADE",
                    shadow(projection.name())
                ))
                .execute(pool)
                .await;
            }
        }
    }
    // Closing the connection releases every advisory lock it took.
    let _ = lock.close().await;
    result
}

fn shadow(name: &str) -> String {
    format!("rebuild_{name}")
}

async fn rebuild_locked(
    store: &EventStore,
    projections: &[&dyn Projection],
    progress: &mut (dyn FnMut(&RebuildProgress) + Send),
    started: Instant,
) -> Result<Vec<RebuildReport>, RebuildError> {
    let pool = store.pool();
    let live: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(pool)
        .await?;

    let mut transaction = pool.begin().await?;
    for projection in projections {
        let shadow = shadow(projection.name());
        let mut tables: Vec<&str> = projection.tables().to_vec();
        tables.push("projection_versions");
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {shadow} CASCADE"))
            .execute(&mut *transaction)
            .await?;
        sqlx::query(&format!("CREATE SCHEMA {shadow}"))
            .execute(&mut *transaction)
            .await?;
        for table in &tables {
            sqlx::query(&format!(
                "CREATE TABLE {shadow}.{table} (LIKE {live}.{table} INCLUDING ALL)"
            ))
            .execute(&mut *transaction)
            .await?;
        }
    }
    transaction.commit().await?;

    let reader = LogReader::new(pool.clone());
    let total = u64::try_from(reader.count_after(LogPosition::START).await?).unwrap_or(0);
    let mut position = LogPosition::START;
    let mut done = 0u64;
    // Time spent applying to each projection (the log is read once for all of them).
    let mut applying = vec![Duration::ZERO; projections.len()];
    let mut versions: Vec<Versions> = projections.iter().map(|_| Versions::default()).collect();
    let report_progress = |progress: &mut (dyn FnMut(&RebuildProgress) + Send), done| {
        for projection in projections {
            progress(&RebuildProgress {
                projection: projection.name(),
                done,
                total,
                elapsed: started.elapsed(),
            });
        }
    };
    report_progress(progress, done);
    loop {
        let events = reader.read_batch_after(position, READ_AHEAD).await?;
        let Some(last) = events.last().map(|event| event.log_position) else {
            break;
        };
        done += events.len() as u64;
        let events: Vec<StoredEvent> = events
            .into_iter()
            .map(|event| store.upcast(event))
            .collect();
        let mut transaction = pool.begin().await?;
        for ((projection, time), versions) in
            projections.iter().zip(&mut applying).zip(&mut versions)
        {
            let applied = Instant::now();
            set_shadow_path(&mut transaction, projection.name(), &live).await?;
            apply_events_tracked(&mut transaction, *projection, &events, versions).await?;
            *time += applied.elapsed();
        }
        transaction.commit().await?;
        position = last;
        report_progress(progress, done);
    }
    // The guards, kept in memory during the pass, written before the swaps read them.
    let mut transaction = pool.begin().await?;
    for ((projection, time), versions) in projections.iter().zip(&mut applying).zip(&versions) {
        let applied = Instant::now();
        set_shadow_path(&mut transaction, projection.name(), &live).await?;
        store_versions(&mut transaction, *projection, versions).await?;
        *time += applied.elapsed();
    }
    transaction.commit().await?;
    drop(versions);
    let read_once = started.elapsed().saturating_sub(applying.iter().sum());

    // The swaps, one projection after the other.
    let mut reports = Vec::new();
    for (projection, applying) in projections.iter().zip(applying) {
        let swapping = Instant::now();
        let (events, checkpoint) = swap(store, *projection, &live, position).await?;
        let report = RebuildReport {
            projection: projection.name(),
            events: done + events,
            elapsed: read_once + applying + swapping.elapsed(),
            checkpoint,
        };
        progress(&RebuildProgress {
            projection: report.projection,
            done: report.events,
            total: total.max(report.events),
            elapsed: started.elapsed(),
        });
        reports.push(report);
    }
    Ok(reports)
}

/// Catches `projection`'s shadow up from `position` with the live checkpoint row locked (the
/// live runner waits), moves its tables into the live schema and sets its checkpoint; returns
/// the events applied here and the new checkpoint.
async fn swap(
    store: &EventStore,
    projection: &dyn Projection,
    live: &str,
    mut position: LogPosition,
) -> Result<(u64, LogPosition), RebuildError> {
    let pool = store.pool();
    let name = projection.name();
    let shadow = shadow(name);
    let reader = LogReader::new(pool.clone());
    let mut done = 0u64;
    let mut transaction = pool.begin().await?;
    lock_checkpoint(&mut transaction, name).await?;
    loop {
        let events = reader.read_batch_after(position, READ_AHEAD).await?;
        let Some(last) = events.last().map(|event| event.log_position) else {
            break;
        };
        done += events.len() as u64;
        let events: Vec<StoredEvent> = events
            .into_iter()
            .map(|event| store.upcast(event))
            .collect();
        apply_into_shadow(&mut transaction, projection, live, &events).await?;
        position = last;
    }
    sqlx::query(&format!("SET LOCAL search_path TO {live}"))
        .execute(&mut *transaction)
        .await?;
    for table in projection.tables() {
        swap_table(&mut transaction, live, &shadow, table).await?;
    }
    sqlx::query(&format!(
        "DELETE FROM {live}.projection_versions WHERE projection = $1"
    ))
    .bind(name)
    .execute(&mut *transaction)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO {live}.projection_versions SELECT * FROM {shadow}.projection_versions"
    ))
    .execute(&mut *transaction)
    .await?;
    store_checkpoint(&mut transaction, name, position).await?;
    sqlx::query(&format!("DROP SCHEMA {shadow} CASCADE"))
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    Ok((done, position))
}

/// Applies `events` (already upcast) to `projection`'s shadow tables inside the caller's
/// transaction: `SET LOCAL search_path` points its unqualified table names at them.
async fn apply_into_shadow(
    connection: &mut PgConnection,
    projection: &dyn Projection,
    live: &str,
    events: &[StoredEvent],
) -> Result<(), RebuildError> {
    set_shadow_path(connection, projection.name(), live).await?;
    apply_events(connection, projection, events).await?;
    Ok(())
}

/// Points the transaction's unqualified table names at `name`'s shadow tables.
async fn set_shadow_path(
    connection: &mut PgConnection,
    name: &str,
    live: &str,
) -> Result<(), sqlx::Error> {
    let shadow = shadow(name);
    sqlx::query(&format!("SET LOCAL search_path TO {shadow}, {live}"))
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// `(unique, method and columns)` → name of each index of `schema.table`.
async fn indexes(
    connection: &mut PgConnection,
    schema: &str,
    table: &str,
) -> Result<HashMap<String, String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = $1 AND t.relname = $2",
    )
    .bind(schema)
    .bind(table)
    .fetch_all(&mut *connection)
    .await?;
    let mut map = HashMap::new();
    for row in rows {
        let name: String = row.try_get("name")?;
        let definition: String = row.try_get("definition")?;
        let unique = definition.starts_with("CREATE UNIQUE");
        let shape = definition
            .split_once(" USING ")
            .map_or(definition.clone(), |(_, shape)| shape.to_owned());
        map.insert(format!("{unique}:{shape}"), name);
    }
    Ok(map)
}

async fn swap_table(
    connection: &mut PgConnection,
    live: &str,
    shadow: &str,
    table: &str,
) -> Result<(), RebuildError> {
    let live_indexes = indexes(connection, live, table).await?;
    let shadow_indexes = indexes(connection, shadow, table).await?;
    let comment: Option<String> = sqlx::query_scalar(
        "SELECT format('COMMENT ON TABLE %I.%I IS %L', $1::text, $2::text, \
                obj_description(format('%I.%I', $1::text, $2::text)::regclass, 'pg_class'))",
    )
    .bind(live)
    .bind(table)
    .fetch_one(&mut *connection)
    .await?;
    sqlx::query(&format!("DROP TABLE {live}.{table}"))
        .execute(&mut *connection)
        .await?;
    sqlx::query(&format!("ALTER TABLE {shadow}.{table} SET SCHEMA {live}"))
        .execute(&mut *connection)
        .await?;
    for (shape, shadow_name) in shadow_indexes {
        let Some(live_name) = live_indexes.get(&shape) else {
            return Err(RebuildError::IndexMismatch {
                table: table.to_owned(),
                index: shadow_name,
            });
        };
        if *live_name != shadow_name {
            sqlx::query(&format!(
                "ALTER INDEX {live}.\"{shadow_name}\" RENAME TO \"{live_name}\""
            ))
            .execute(&mut *connection)
            .await?;
        }
    }
    if let Some(comment) = comment {
        sqlx::query(&comment).execute(&mut *connection).await?;
    }
    Ok(())
}
