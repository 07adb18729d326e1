//! The one keyset engine every list reads through: the GraphQL lists (Relay connections in both
//! directions), the CSV exports and the benchmarks.
//!
//! A list is a table, an allow-listed sort key (an indexed column or expression) with the
//! row's id as tie-breaker, and the conditions of the filters *given*: the SQL has one shape
//! per combination of filters and cursors, so every condition is an index condition even under
//! a cached generic plan (a `$1 IS NULL OR …` filter is not). Each sort key has an index on
//! `(sort key, id)` (or one led by an equality filter), so a page is an index range scan.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::ReadError;

/// The type a sort key's cursor text is read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortType {
    Text,
    Time,
}

impl SortType {
    fn cast(self) -> &'static str {
        match self {
            SortType::Text => "text",
            SortType::Time => "timestamptz",
        }
    }
}

/// What a list reads: `table` ordered by `sort` (a column or expression of `t`) then
/// `id_column`.
#[derive(Clone, Copy, Debug)]
pub struct ListSpec<'a> {
    pub table: &'a str,
    pub id_column: &'a str,
    pub sort: &'a str,
    pub sort_type: SortType,
}

/// Where a row sits in a list: its sort key as text (a timestamp in its JSON form) and its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub sort: String,
    pub id: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Direction {
    /// Ascending from `after`.
    #[default]
    Forward,
    /// Descending from `before` (rows come back in that order: the caller reverses them).
    Backward,
}

/// A page asked for: `limit` rows (one more is read, so the caller knows whether another
/// page follows) after `after` and before `before`, in `direction`; the total count of the
/// rows matching the filters when `count`.
#[derive(Clone, Debug, Default)]
pub struct PageQuery {
    pub direction: Direction,
    pub limit: usize,
    pub after: Option<Key>,
    pub before: Option<Key>,
    pub count: bool,
}

impl PageQuery {
    /// The first `limit` rows, forward.
    pub fn first(limit: usize) -> Self {
        Self {
            limit,
            ..Self::default()
        }
    }

    /// The `limit` rows after `after`, forward.
    pub fn after(limit: usize, after: Option<Key>) -> Self {
        Self {
            limit,
            after,
            ..Self::default()
        }
    }
}

/// The rows read (at most `limit + 1`, in the direction asked) with their keys, and the
/// total count (0 unless asked for).
#[derive(Clone, Debug)]
pub struct Rows<R> {
    pub rows: Vec<(Key, R)>,
    pub total: i64,
}

/// A bound value of a filter condition.
#[derive(Clone, Debug)]
pub enum Param {
    Uuid(Uuid),
    Text(String),
    Time(DateTime<Utc>),
    Bool(bool),
    TextList(Vec<String>),
}

/// The conditions of the filters given, with their parameters.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    conditions: Vec<String>,
    params: Vec<Param>,
}

impl Filter {
    pub fn new() -> Self {
        Self::default()
    }

    /// A condition without parameters.
    pub fn fixed(mut self, condition: &str) -> Self {
        self.conditions.push(format!("({condition})"));
        self
    }

    /// A condition whose every `?` stands for `param`.
    pub fn with(self, condition: &str, param: Param) -> Self {
        self.with_all(&condition.replace('?', "?1"), vec![param])
    }

    /// `with` when `param` is given.
    pub fn maybe<T>(
        self,
        condition: &str,
        param: Option<T>,
        wrap: impl FnOnce(T) -> Param,
    ) -> Self {
        match param {
            Some(value) => self.with(condition, wrap(value)),
            None => self,
        }
    }

    /// A condition whose `?1`, `?2`, … stand for `params` in order.
    pub fn with_all(mut self, condition: &str, params: Vec<Param>) -> Self {
        let mut sql = condition.to_owned();
        // Highest first, so `?1` never eats `?10`; the numbered form cannot be eaten at all.
        for index in (1..=params.len()).rev() {
            let number = self.params.len() + index;
            sql = sql.replace(&format!("?{index}"), &format!("${number}\u{1}"));
        }
        self.params.extend(params);
        self.conditions.push(format!("({sql})"));
        self
    }

    fn sql(&self) -> String {
        if self.conditions.is_empty() {
            return "TRUE".to_owned();
        }
        self.conditions.join(" AND ").replace('\u{1}', "")
    }
}

type PgQuery<'q> = sqlx::query::QueryAs<
    'q,
    sqlx::Postgres,
    (serde_json::Value, serde_json::Value),
    sqlx::postgres::PgArguments,
>;
type PgCount<'q> = sqlx::query::QueryScalar<'q, sqlx::Postgres, i64, sqlx::postgres::PgArguments>;

macro_rules! bind_param {
    ($query:expr, $param:expr) => {
        match $param.clone() {
            Param::Uuid(value) => $query.bind(value),
            Param::Text(value) => $query.bind(value),
            Param::Time(value) => $query.bind(value),
            Param::Bool(value) => $query.bind(value),
            Param::TextList(value) => $query.bind(value),
        }
    };
}

/// A cursor's sort value and id, checked against the type of the sort key (`field` names the
/// argument in the error).
fn bound(key: &Key, sort_type: SortType, field: &'static str) -> Result<(Param, Uuid), ReadError> {
    let invalid = || ReadError::InvalidCursor(field);
    let id = Uuid::parse_str(&key.id).map_err(|_| invalid())?;
    let sort = match sort_type {
        SortType::Text => Param::Text(key.sort.clone()),
        SortType::Time => Param::Time(
            DateTime::parse_from_rfc3339(&key.sort)
                .map_err(|_| invalid())?
                .with_timezone(&Utc),
        ),
    };
    Ok((sort, id))
}

fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// One page of `spec` under `filter`: rows decoded into `R` (their JSON form, whose fields are
/// the columns) with their keys.
pub async fn read<R: DeserializeOwned>(
    pool: &sqlx::PgPool,
    spec: ListSpec<'_>,
    filter: &Filter,
    page: &PageQuery,
) -> Result<Rows<R>, ReadError> {
    let ListSpec {
        table,
        id_column,
        sort,
        sort_type,
    } = spec;
    let after = page
        .after
        .as_ref()
        .map(|key| bound(key, sort_type, "after"))
        .transpose()?;
    let before = page
        .before
        .as_ref()
        .map(|key| bound(key, sort_type, "before"))
        .transpose()?;
    let order = match page.direction {
        Direction::Forward => "ASC",
        Direction::Backward => "DESC",
    };
    let cast = sort_type.cast();
    let mut bounds = String::new();
    let mut next = filter.params.len();
    for (given, comparison) in [(after.is_some(), ">"), (before.is_some(), "<")] {
        if given {
            bounds.push_str(&format!(
                " AND ({sort}, {id_column}) {comparison} (${}::{cast}, ${}::uuid)",
                next + 1,
                next + 2
            ));
            next += 2;
        }
    }
    let conditions = filter.sql();
    let sql = format!(
        "SELECT to_jsonb(t), to_jsonb({sort}) FROM {table} t WHERE {conditions}{bounds} \
         ORDER BY {sort} {order}, {id_column} {order} LIMIT {limit}",
        limit = page.limit.saturating_add(1),
    );
    let mut query: PgQuery<'_> = sqlx::query_as(&sql);
    for param in &filter.params {
        query = bind_param!(query, param);
    }
    for (sort_value, id) in [after, before].into_iter().flatten() {
        query = bind_param!(query, sort_value).bind(id);
    }
    let values = query.fetch_all(pool).await?;
    let rows = values
        .into_iter()
        .map(|(value, sort_value)| {
            let key = Key {
                sort: json_text(&sort_value),
                id: json_text(&value[id_column]),
            };
            Ok((key, serde_json::from_value(value)?))
        })
        .collect::<Result<Vec<_>, ReadError>>()?;

    let total = if page.count {
        let count_sql = format!("SELECT count(*) FROM {table} t WHERE {conditions}");
        let mut count: PgCount<'_> = sqlx::query_scalar(&count_sql);
        for param in &filter.params {
            count = bind_param!(count, param);
        }
        count.fetch_one(pool).await?
    } else {
        0
    };
    Ok(Rows { rows, total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order_without_clashing() {
        let mut filter = Filter::new().fixed("NOT erased");
        for index in 0..10 {
            filter = filter.with(&format!("c{index} = ?"), Param::Bool(true));
        }
        let sql = filter.sql();
        assert!(sql.starts_with("(NOT erased) AND (c0 = $1) AND (c1 = $2)"));
        assert!(sql.ends_with("(c9 = $10)"), "{sql}");
        let repeated = Filter::new()
            .with("a = ? OR b = ?", Param::Bool(true))
            .sql();
        assert_eq!(repeated, "(a = $1 OR b = $1)");
        let mut many = Filter::new();
        for _ in 0..10 {
            many = many.with("x = ?", Param::Bool(true));
        }
        let many = many
            .with_all(
                "a = ?1 OR b = ?2",
                vec![Param::Bool(true), Param::Bool(false)],
            )
            .sql();
        assert!(
            many.ends_with("(x = $10) AND (a = $11 OR b = $12)"),
            "{many}"
        );
        assert_eq!(Filter::new().sql(), "TRUE");
    }

    #[test]
    fn a_cursor_must_hold_a_uuid_and_a_value_of_the_sort_type() {
        let good = Key {
            sort: "2026-11-27T06:42:08.123456+00:00".into(),
            id: Uuid::nil().to_string(),
        };
        assert!(bound(&good, SortType::Time, "after").is_ok());
        let bad_time = Key {
            sort: "yesterday".into(),
            ..good.clone()
        };
        assert!(matches!(
            bound(&bad_time, SortType::Time, "after"),
            Err(ReadError::InvalidCursor("after"))
        ));
        let bad_id = Key {
            id: "42".into(),
            ..good
        };
        assert!(matches!(
            bound(&bad_id, SortType::Text, "before"),
            Err(ReadError::InvalidCursor("before"))
        ));
    }
}
