//! Manifests in PostgreSQL: a run's manifest is streamed into `backup_manifest_entries` in small
//! `COPY` batches (each its own short transaction, so log readers are never held back), then
//! read back sorted by path, a page at a time, on both sides of the domain's streaming
//! [`ManifestDiff`]. Memory stays bounded by the batch and page sizes, whatever the manifest's
//! size.
//!
//! Per customer only the manifest of the newest successful run is kept (`current`); an upload
//! is `staging` until its run's success is committed, then replaces it.

use std::collections::VecDeque;

use domain::backup_run::{ChangeKind, ChangeStats, ChangedFile, MAX_LARGEST_CHANGES};
use domain::ids::{BackupRunId, CustomerId};
use domain::policy::manifest::{self, DiffSummary, ManifestDiff, ManifestEntry};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// Bytes of CSV buffered before a `COPY` batch is sent.
const COPY_BATCH_BYTES: usize = 1024 * 1024;
/// Rows read per page while diffing.
const PAGE_ROWS: i64 = 5_000;

/// A manifest being uploaded (state `staging`).
pub struct Upload {
    pool: PgPool,
    pub manifest_id: Uuid,
    buffer: Vec<u8>,
    entries: u64,
}

impl Upload {
    /// Starts an upload for `run_id`. The caller holds the customer's ingest lock, so any other
    /// staging manifest of the customer is left over from an interrupted upload: it is removed.
    pub async fn begin(
        pool: &PgPool,
        customer_id: CustomerId,
        run_id: BackupRunId,
    ) -> Result<Self, sqlx::Error> {
        sqlx::query("DELETE FROM backup_manifests WHERE customer_id = $1 AND state = 'staging'")
            .bind(customer_id.as_uuid())
            .execute(pool)
            .await?;
        let manifest_id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO backup_manifests (manifest_id, customer_id, run_id, state) \
             VALUES ($1, $2, $3, 'staging')",
        )
        .bind(manifest_id)
        .bind(customer_id.as_uuid())
        .bind(run_id.as_uuid())
        .execute(pool)
        .await?;
        Ok(Self {
            pool: pool.clone(),
            manifest_id,
            buffer: Vec::with_capacity(COPY_BATCH_BYTES + 64 * 1024),
            entries: 0,
        })
    }

    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Adds one entry (already validated: no NUL character, size fits in a BIGINT).
    pub async fn push(&mut self, entry: &ManifestEntry) -> Result<(), sqlx::Error> {
        self.buffer
            .extend_from_slice(self.manifest_id.to_string().as_bytes());
        self.buffer.push(b',');
        push_csv_text(&mut self.buffer, &entry.path);
        self.buffer
            .extend_from_slice(format!(",{},{},", entry.size, entry.mtime).as_bytes());
        if let Some(hash) = &entry.hash {
            push_csv_text(&mut self.buffer, hash);
        }
        self.buffer.push(b'\n');
        self.entries += 1;
        if self.buffer.len() >= COPY_BATCH_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    /// Sends what is buffered.
    pub async fn flush(&mut self) -> Result<(), sqlx::Error> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let mut connection = self.pool.acquire().await?;
        let mut copy = connection
            .copy_in_raw(
                "COPY backup_manifest_entries (manifest_id, path, size, mtime, hash) \
                 FROM STDIN (FORMAT csv)",
            )
            .await?;
        copy.send(self.buffer.as_slice()).await?;
        copy.finish().await?;
        self.buffer.clear();
        Ok(())
    }

    /// Flushes and records the entry count; the manifest stays `staging`.
    pub async fn finish(mut self) -> Result<Uuid, sqlx::Error> {
        self.flush().await?;
        sqlx::query("UPDATE backup_manifests SET entries = $2 WHERE manifest_id = $1")
            .bind(self.manifest_id)
            .bind(i64::try_from(self.entries).unwrap_or(i64::MAX))
            .execute(&self.pool)
            .await?;
        Ok(self.manifest_id)
    }
}

fn push_csv_text(buffer: &mut Vec<u8>, text: &str) {
    buffer.push(b'"');
    for byte in text.bytes() {
        if byte == b'"' {
            buffer.push(b'"');
        }
        buffer.push(byte);
    }
    buffer.push(b'"');
}

/// Removes a staging manifest (a failed or repeated upload).
pub async fn discard(pool: &PgPool, manifest_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM backup_manifests WHERE manifest_id = $1")
        .bind(manifest_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The manifest the customer's next run is diffed against.
pub async fn current(pool: &PgPool, customer_id: CustomerId) -> Result<Option<Uuid>, sqlx::Error> {
    let row: Option<(Uuid,)> = sqlx::query_as(
        "SELECT manifest_id FROM backup_manifests WHERE customer_id = $1 AND state = 'current'",
    )
    .bind(customer_id.as_uuid())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// Makes `manifest_id` the customer's current manifest (`None`: the newest success had no
/// manifest, so there is nothing to diff the next one against).
pub async fn promote(
    pool: &PgPool,
    customer_id: CustomerId,
    manifest_id: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    let mut transaction = pool.begin().await?;
    sqlx::query(
        "DELETE FROM backup_manifests WHERE customer_id = $1 AND state = 'current' \
         AND manifest_id IS DISTINCT FROM $2",
    )
    .bind(customer_id.as_uuid())
    .bind(manifest_id)
    .execute(&mut *transaction)
    .await?;
    if let Some(manifest_id) = manifest_id {
        sqlx::query("UPDATE backup_manifests SET state = 'current' WHERE manifest_id = $1")
            .bind(manifest_id)
            .execute(&mut *transaction)
            .await?;
    }
    transaction.commit().await
}

/// What a stored manifest adds up to, and how it differs from the previous one.
#[derive(Clone, Debug, PartialEq)]
pub struct ManifestSummary {
    /// SHA-256 of the normalised lines in path order (independent of the upload's order).
    pub digest: String,
    pub entries: u64,
    pub bytes: u64,
    pub diff: DiffSummary,
}

/// One side of the diff, read a page at a time in path order.
struct PagedSide<'a> {
    pool: &'a PgPool,
    manifest_id: Option<Uuid>,
    page: VecDeque<ManifestEntry>,
    last_path: Option<String>,
    exhausted: bool,
}

impl<'a> PagedSide<'a> {
    fn new(pool: &'a PgPool, manifest_id: Option<Uuid>) -> Self {
        Self {
            pool,
            manifest_id,
            page: VecDeque::new(),
            last_path: None,
            exhausted: manifest_id.is_none(),
        }
    }

    async fn next(&mut self) -> Result<Option<ManifestEntry>, sqlx::Error> {
        if self.page.is_empty() && !self.exhausted {
            let rows = sqlx::query(
                "SELECT path, size, mtime, hash FROM backup_manifest_entries \
                 WHERE manifest_id = $1 AND ($2::text IS NULL OR path > $2) \
                 ORDER BY path LIMIT $3",
            )
            .bind(self.manifest_id)
            .bind(self.last_path.as_deref())
            .bind(PAGE_ROWS)
            .fetch_all(self.pool)
            .await?;
            if (rows.len() as i64) < PAGE_ROWS {
                self.exhausted = true;
            }
            for row in rows {
                let size: i64 = row.try_get("size")?;
                self.page.push_back(ManifestEntry {
                    path: row.try_get("path")?,
                    size: u64::try_from(size).unwrap_or(0),
                    mtime: row.try_get("mtime")?,
                    hash: row.try_get("hash")?,
                });
            }
            self.last_path = self.page.back().map(|entry| entry.path.clone());
        }
        Ok(self.page.pop_front())
    }
}

#[derive(Serialize)]
struct NormalisedLine<'a> {
    path: &'a str,
    size: u64,
    mtime: i64,
    hash: Option<&'a str>,
}

/// Diffs the stored manifest `new` against `old` (merge-join of two sorted paged reads), and
/// sums up `new` on the way.
pub async fn summarise(
    pool: &PgPool,
    old: Option<Uuid>,
    new: Uuid,
) -> Result<ManifestSummary, sqlx::Error> {
    let mut old_side = PagedSide::new(pool, old);
    let mut new_side = PagedSide::new(pool, Some(new));
    let mut diff = ManifestDiff::new(MAX_LARGEST_CHANGES);
    let mut digest = Sha256::new();
    let mut entries = 0u64;
    let mut bytes = 0u64;
    let mut count_new = |entry: &ManifestEntry| {
        entries += 1;
        bytes = bytes.saturating_add(entry.size);
        let line = NormalisedLine {
            path: &entry.path,
            size: entry.size,
            mtime: entry.mtime,
            hash: entry.hash.as_deref(),
        };
        if let Ok(text) = serde_json::to_string(&line) {
            digest.update(text.as_bytes());
        }
        digest.update(b"\n");
    };
    let mut old_head = old_side.next().await?;
    let mut new_head = new_side.next().await?;
    loop {
        match (old_head.take(), new_head.take()) {
            (None, None) => break,
            (Some(old_entry), None) => {
                diff.record(Some(old_entry), None);
                old_head = old_side.next().await?;
            }
            (None, Some(new_entry)) => {
                count_new(&new_entry);
                diff.record(None, Some(new_entry));
                new_head = new_side.next().await?;
            }
            (Some(old_entry), Some(new_entry)) => match old_entry.path.cmp(&new_entry.path) {
                std::cmp::Ordering::Less => {
                    diff.record(Some(old_entry), None);
                    old_head = old_side.next().await?;
                    new_head = Some(new_entry);
                }
                std::cmp::Ordering::Greater => {
                    count_new(&new_entry);
                    diff.record(None, Some(new_entry));
                    new_head = new_side.next().await?;
                    old_head = Some(old_entry);
                }
                std::cmp::Ordering::Equal => {
                    count_new(&new_entry);
                    diff.record(Some(old_entry), Some(new_entry));
                    old_head = old_side.next().await?;
                    new_head = new_side.next().await?;
                }
            },
        }
    }
    let digest = hex::encode(digest.finalize());
    Ok(ManifestSummary {
        digest,
        entries,
        bytes,
        diff: diff.finish(),
    })
}

/// The domain's event shape for a diff.
pub fn change_stats(diff: &DiffSummary) -> ChangeStats {
    ChangeStats {
        created: diff.created.files,
        modified: diff.modified.files,
        deleted: diff.deleted.files,
        unchanged: diff.unchanged.files,
        created_bytes: diff.created.bytes,
        modified_bytes: diff.modified.bytes,
        deleted_bytes: diff.deleted.bytes,
        unchanged_bytes: diff.unchanged.bytes,
        largest: diff
            .largest_changes
            .iter()
            .map(|change| ChangedFile {
                path: change.path.clone(),
                kind: match change.kind {
                    manifest::ChangeKind::Created => ChangeKind::Created,
                    manifest::ChangeKind::Modified => ChangeKind::Modified,
                    manifest::ChangeKind::Deleted => ChangeKind::Deleted,
                },
                bytes: change.size,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_text_is_quoted_with_inner_quotes_doubled() {
        let mut buffer = Vec::new();
        push_csv_text(&mut buffer, "a \"b\",\nc");
        assert_eq!(buffer, b"\"a \"\"b\"\",\nc\"");
    }
}
