//! Manifest diff (PRODUCT §6): what changed between the previous successful run's manifest and
//! this one: files created, modified, deleted and unchanged, with byte totals and the largest
//! changes.
//!
//! Rules:
//! - A manifest is one JSON object per line: `{"path":..,"size":..,"mtime":..,"hash":..}`
//!   (`mtime` in unix seconds, `hash` optional; unknown fields are ignored, the path must not be
//!   empty).
//! - Entries are matched by exact path. A path in both manifests is *modified* when its size,
//!   its mtime or its hash differs; hashes are compared only when both entries carry one (a
//!   missing hash means "not computed", not "changed").
//! - Byte totals: created, modified and unchanged count the new size, deleted the old size.
//! - The largest changes rank created, modified and deleted files by that same size (ties: path
//!   in ascending order); only the `top_n` largest are kept, in a bounded heap.
//! - Streaming: [`diff_sorted`] merge-joins two iterators sorted by path in byte order (what
//!   `LC_ALL=C sort` produces), in constant memory apart from the top-N heap; an unsorted input
//!   or a path listed twice is an error. [`diff_unsorted`] sorts in-memory manifests first.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fmt;

use serde::Deserialize;
use thiserror::Error;

/// One file of a manifest.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ManifestEntry {
    pub path: String,
    pub size: u64,
    /// Modification time, unix seconds.
    pub mtime: i64,
    pub hash: Option<String>,
}

impl ManifestEntry {
    /// Parses one manifest line. The caller adds the line number to the error.
    pub fn parse_json_line(line: &str) -> Result<Self, ManifestError> {
        let entry: ManifestEntry = serde_json::from_str(line).map_err(describe_json_error)?;
        if entry.path.is_empty() {
            return Err(ManifestError::EmptyPath);
        }
        Ok(entry)
    }

    fn differs_from(&self, old: &ManifestEntry) -> bool {
        let hashes_differ = match (&self.hash, &old.hash) {
            (Some(new_hash), Some(old_hash)) => new_hash != old_hash,
            _ => false,
        };
        self.size != old.size || self.mtime != old.mtime || hashes_differ
    }
}

/// serde_json says "at line 1 column 7"; a manifest line is always line 1 of its own text and
/// the caller adds the real line number, so only the column is kept.
fn describe_json_error(error: serde_json::Error) -> ManifestError {
    let full = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    let message = match full.strip_suffix(&position) {
        Some(message) => format!("{message} at column {}", error.column()),
        None => full,
    };
    ManifestError::InvalidLine(message)
}

/// Which of the two manifests an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Old,
    New,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Old => "previous",
            Side::New => "new",
        })
    }
}

/// A manifest that cannot be read or diffed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ManifestError {
    #[error("invalid manifest line: {0}")]
    InvalidLine(String),
    #[error("manifest entry has an empty path")]
    EmptyPath,
    #[error("{side} manifest is not sorted by path: {path:?} comes after {previous:?}")]
    NotSorted {
        side: Side,
        previous: String,
        path: String,
    },
    #[error("{side} manifest lists {path:?} twice")]
    DuplicatePath { side: Side, path: String },
}

/// An error while streaming a diff: from one of the sources (e.g. a line that did not parse, the
/// caller's type), or from the manifests' order.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DiffError<E> {
    #[error("{0} manifest: {1}")]
    Source(Side, E),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// How a file changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    Created,
    Modified,
    Deleted,
}

/// One changed file, ranked by `size` (the new size, or the old one for a deletion).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    pub path: String,
    pub size: u64,
}

/// A number of files and their total bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub files: u64,
    pub bytes: u64,
}

impl Tally {
    fn count(&mut self, size: u64) {
        self.files = self.files.saturating_add(1);
        self.bytes = self.bytes.saturating_add(size);
    }
}

/// The result of a diff.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiffSummary {
    pub created: Tally,
    pub modified: Tally,
    pub deleted: Tally,
    pub unchanged: Tally,
    /// The largest changes, largest first.
    pub largest_changes: Vec<Change>,
}

/// Heap key: larger size ranks higher, then smaller path.
#[derive(PartialEq, Eq)]
struct Ranked(Change);

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .size
            .cmp(&other.0.size)
            .then_with(|| other.0.path.cmp(&self.0.path))
            .then_with(|| other.0.kind.cmp(&self.0.kind))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The diff accumulator: counts entries and keeps the `top_n` largest changes. Feed it pairs
/// with [`ManifestDiff::record`], or let [`diff_sorted`] drive it.
pub struct ManifestDiff {
    top_n: usize,
    summary: DiffSummary,
    largest: BinaryHeap<Reverse<Ranked>>,
}

impl ManifestDiff {
    pub fn new(top_n: usize) -> Self {
        Self {
            top_n,
            summary: DiffSummary::default(),
            largest: BinaryHeap::new(),
        }
    }

    /// Records one path: only in the old manifest (deleted), only in the new (created), or in
    /// both (modified or unchanged). A call with neither does nothing.
    pub fn record(&mut self, old: Option<ManifestEntry>, new: Option<ManifestEntry>) {
        match (old, new) {
            (None, None) => {}
            (None, Some(created)) => {
                self.summary.created.count(created.size);
                self.rank(ChangeKind::Created, created);
            }
            (Some(deleted), None) => {
                self.summary.deleted.count(deleted.size);
                self.rank(ChangeKind::Deleted, deleted);
            }
            (Some(old), Some(new)) if new.differs_from(&old) => {
                self.summary.modified.count(new.size);
                self.rank(ChangeKind::Modified, new);
            }
            (Some(_), Some(unchanged)) => self.summary.unchanged.count(unchanged.size),
        }
    }

    fn rank(&mut self, kind: ChangeKind, entry: ManifestEntry) {
        if self.top_n == 0 {
            return;
        }
        let candidate = Ranked(Change {
            kind,
            path: entry.path,
            size: entry.size,
        });
        if self.largest.len() < self.top_n {
            self.largest.push(Reverse(candidate));
        } else if let Some(mut smallest) = self.largest.peek_mut() {
            if candidate > smallest.0 {
                *smallest = Reverse(candidate);
            }
        }
    }

    /// The counts, totals and the largest changes (largest first).
    pub fn finish(self) -> DiffSummary {
        let mut summary = self.summary;
        summary.largest_changes = self
            .largest
            .into_sorted_vec()
            .into_iter()
            .map(|Reverse(Ranked(change))| change)
            .collect();
        summary
    }
}

/// Diffs two manifests given as iterators sorted by path (see the module rules).
pub fn diff_sorted<O, N>(old: O, new: N, top_n: usize) -> Result<DiffSummary, ManifestError>
where
    O: IntoIterator<Item = ManifestEntry>,
    N: IntoIterator<Item = ManifestEntry>,
{
    try_diff_sorted::<_, _, std::convert::Infallible>(
        old.into_iter().map(Ok),
        new.into_iter().map(Ok),
        top_n,
    )
    .map_err(|error| match error {
        DiffError::Manifest(manifest_error) => manifest_error,
        DiffError::Source(_, never) => match never {},
    })
}

/// Like [`diff_sorted`] for fallible sources (e.g. lines parsed on the fly); the first source
/// error stops the diff.
pub fn try_diff_sorted<O, N, E>(old: O, new: N, top_n: usize) -> Result<DiffSummary, DiffError<E>>
where
    O: IntoIterator<Item = Result<ManifestEntry, E>>,
    N: IntoIterator<Item = Result<ManifestEntry, E>>,
{
    let mut old = SortedSource::new(Side::Old, old.into_iter());
    let mut new = SortedSource::new(Side::New, new.into_iter());
    let mut diff = ManifestDiff::new(top_n);
    let mut old_head = old.next()?;
    let mut new_head = new.next()?;
    loop {
        match (old_head.take(), new_head.take()) {
            (None, None) => break,
            (Some(old_entry), None) => {
                diff.record(Some(old_entry), None);
                old_head = old.next()?;
            }
            (None, Some(new_entry)) => {
                diff.record(None, Some(new_entry));
                new_head = new.next()?;
            }
            (Some(old_entry), Some(new_entry)) => match old_entry.path.cmp(&new_entry.path) {
                Ordering::Less => {
                    diff.record(Some(old_entry), None);
                    old_head = old.next()?;
                    new_head = Some(new_entry);
                }
                Ordering::Greater => {
                    diff.record(None, Some(new_entry));
                    new_head = new.next()?;
                    old_head = Some(old_entry);
                }
                Ordering::Equal => {
                    diff.record(Some(old_entry), Some(new_entry));
                    old_head = old.next()?;
                    new_head = new.next()?;
                }
            },
        }
    }
    Ok(diff.finish())
}

/// Diffs two in-memory manifests in any order: sorts them by path, then [`diff_sorted`].
pub fn diff_unsorted(
    mut old: Vec<ManifestEntry>,
    mut new: Vec<ManifestEntry>,
    top_n: usize,
) -> Result<DiffSummary, ManifestError> {
    old.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    new.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    diff_sorted(old, new, top_n)
}

/// An iterator checked to be strictly increasing by path.
struct SortedSource<I> {
    side: Side,
    entries: I,
    previous_path: Option<String>,
}

impl<I, E> SortedSource<I>
where
    I: Iterator<Item = Result<ManifestEntry, E>>,
{
    fn new(side: Side, entries: I) -> Self {
        Self {
            side,
            entries,
            previous_path: None,
        }
    }

    fn next(&mut self) -> Result<Option<ManifestEntry>, DiffError<E>> {
        let Some(item) = self.entries.next() else {
            return Ok(None);
        };
        let entry = item.map_err(|error| DiffError::Source(self.side, error))?;
        if entry.path.is_empty() {
            return Err(ManifestError::EmptyPath.into());
        }
        if let Some(previous) = &self.previous_path {
            match previous.as_str().cmp(entry.path.as_str()) {
                Ordering::Less => {}
                Ordering::Equal => {
                    return Err(ManifestError::DuplicatePath {
                        side: self.side,
                        path: entry.path,
                    }
                    .into())
                }
                Ordering::Greater => {
                    return Err(ManifestError::NotSorted {
                        side: self.side,
                        previous: previous.clone(),
                        path: entry.path,
                    }
                    .into())
                }
            }
        }
        // Reuse the buffer: a million entries should not mean a million allocations.
        let previous = self.previous_path.get_or_insert_with(String::new);
        previous.clear();
        previous.push_str(&entry.path);
        Ok(Some(entry))
    }
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
