//! Relay connections for list queries (PRODUCT §10): `first/after` or `last/before`, at most
//! [`MAX_PAGE_SIZE`] per page, `totalCount`, opaque cursors.
//!
//! A list query parses its arguments with [`PageRequest::parse`], fetches `limit + 1` rows in
//! the requested direction by keyset (`(sort value, id)` after or before the cursor's), and
//! hands them to [`page`], which trims the extra row into `hasNextPage` / `hasPreviousPage`.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{OutputType, SimpleObject};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::error::ApiError;

pub const MAX_PAGE_SIZE: usize = 100;
pub const DEFAULT_PAGE_SIZE: usize = 20;

/// Where a row sits in a list: its sort key (as text) and its id, for keyset paging.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorKey {
    #[serde(rename = "s")]
    pub sort: String,
    #[serde(rename = "i")]
    pub id: String,
}

impl CursorKey {
    /// The opaque form clients hold.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    /// Reads a cursor back (`VALIDATION` on `field` when it is not one of ours).
    pub fn decode(text: &str, field: &str) -> Result<Self, ApiError> {
        let invalid = || ApiError::validation(field, "is not a valid cursor");
        if text.len() > 1024 {
            return Err(invalid());
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| invalid())?;
        serde_json::from_slice(&bytes).map_err(|_| invalid())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `first` / `after`: ascending from the cursor.
    Forward,
    /// `last` / `before`: descending from the cursor, returned in ascending order.
    Backward,
}

/// A page asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub direction: Direction,
    pub limit: usize,
    pub after: Option<CursorKey>,
    pub before: Option<CursorKey>,
}

impl PageRequest {
    pub fn parse(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Self, ApiError> {
        let size = |value: i32, field: &str| {
            usize::try_from(value)
                .ok()
                .filter(|size| (1..=MAX_PAGE_SIZE).contains(size))
                .ok_or_else(|| ApiError::validation(field, "must be between 1 and 100"))
        };
        if first.is_some() && last.is_some() {
            return Err(ApiError::validation(
                "last",
                "cannot be combined with first",
            ));
        }
        let after = after
            .map(|text| CursorKey::decode(&text, "after"))
            .transpose()?;
        let before = before
            .map(|text| CursorKey::decode(&text, "before"))
            .transpose()?;
        let (direction, limit) = match (first, last) {
            (_, Some(last)) => (Direction::Backward, size(last, "last")?),
            (Some(first), None) => (Direction::Forward, size(first, "first")?),
            (None, None) if before.is_some() && after.is_none() => {
                (Direction::Backward, DEFAULT_PAGE_SIZE)
            }
            (None, None) => (Direction::Forward, DEFAULT_PAGE_SIZE),
        };
        Ok(Self {
            direction,
            limit,
            after,
            before,
        })
    }

    /// How many rows to fetch: one more than the page, to know whether another follows.
    pub fn fetch_limit(&self) -> i64 {
        self.limit as i64 + 1
    }
}

/// The fields every connection has beside its edges.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct ConnectionTotals {
    /// How many items match the filters, across all pages.
    pub total_count: i64,
}

/// A page of `T`.
pub type Page<T> = Connection<String, T, ConnectionTotals, EmptyFields>;

/// Builds the page from the rows fetched (in the request's direction, at most
/// `limit + 1` of them) and the total count.
pub fn page<T: OutputType>(
    request: &PageRequest,
    mut rows: Vec<(CursorKey, T)>,
    total_count: i64,
) -> Page<T> {
    let more = rows.len() > request.limit;
    rows.truncate(request.limit);
    let (has_previous, has_next) = match request.direction {
        Direction::Forward => (request.after.is_some(), more),
        Direction::Backward => {
            rows.reverse();
            (more, request.before.is_some())
        }
    };
    let mut connection = Connection::with_additional_fields(
        has_previous,
        has_next,
        ConnectionTotals { total_count },
    );
    connection.edges.extend(
        rows.into_iter()
            .map(|(cursor, node)| Edge::new(cursor.encode(), node)),
    );
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> CursorKey {
        CursorKey {
            sort: format!("{n:04}"),
            id: n.to_string(),
        }
    }

    #[test]
    fn cursors_are_opaque_and_round_trip() {
        let encoded = key(7).encode();
        assert!(!encoded.contains("0007"));
        assert_eq!(
            CursorKey::decode(&encoded, "after").expect("decodes"),
            key(7)
        );
        let error = CursorKey::decode("garbage!", "after").expect_err("not a cursor");
        assert_eq!(error.code(), "VALIDATION");
    }

    #[test]
    fn page_sizes_are_limited_to_100_and_first_excludes_last() {
        assert!(PageRequest::parse(Some(100), None, None, None).is_ok());
        for bad in [0, -1, 101] {
            assert!(PageRequest::parse(Some(bad), None, None, None).is_err());
            assert!(PageRequest::parse(None, None, Some(bad), None).is_err());
        }
        assert!(PageRequest::parse(Some(1), None, Some(1), None).is_err());
        let default = PageRequest::parse(None, None, None, None).expect("default page");
        assert_eq!(default.limit, DEFAULT_PAGE_SIZE);
    }

    #[test]
    fn an_extra_row_means_another_page_in_the_direction_asked() {
        let forward = PageRequest::parse(Some(2), None, None, None).expect("valid");
        let rows = (1..=3).map(|n| (key(n), n as i32)).collect();
        let connection = page(&forward, rows, 3);
        assert!(connection.has_next_page);
        assert!(!connection.has_previous_page);
        assert_eq!(connection.edges.len(), 2);

        let backward =
            PageRequest::parse(None, None, Some(2), Some(key(9).encode())).expect("valid");
        let rows = [8, 7, 6].into_iter().map(|n| (key(n), n as i32)).collect();
        let connection = page(&backward, rows, 9);
        assert!(connection.has_previous_page);
        assert!(connection.has_next_page);
        let nodes: Vec<i32> = connection.edges.iter().map(|edge| edge.node).collect();
        assert_eq!(nodes, vec![7, 8]);
    }
}
