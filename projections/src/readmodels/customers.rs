//! Read model `customers`: customer details, their phone numbers (`customer_phones`, in the
//! customer's order, the main number at position 0; for `customerByNumber`) and how many of their requests are open or pending. An erased customer
//! keeps its row (id, dates, counts) with every personal field NULL and no phone numbers.
//!
//! ```sql
//! SELECT c.*, b.status AS backup_status FROM customer_phones p
//! JOIN customers c USING (customer_id) LEFT JOIN backup_status b USING (customer_id)
//! WHERE p.number = '+33612345678';
//! ```

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::customer::CustomerEvent;
use domain::request::RequestEvent;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::keyset::{self, Filter, ListSpec, PageQuery, Param, Rows, SortType};
use super::workers::like_pattern;
use super::{decode, get_row, load_rows, micros, unique, upsert_rows, ReadError};
use crate::projector::{Projection, ProjectionError};
use journal::StoredEvent;

/// A row of `customers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerRow {
    pub customer_id: Uuid,
    pub name: Option<String>,
    pub email: Option<String>,
    pub notes: Option<String>,
    pub avatar_url: Option<String>,
    pub erased: bool,
    pub open_requests: i32,
    pub registered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

const COLUMNS: &[&str] = &[
    "customer_id",
    "name",
    "email",
    "notes",
    "avatar_url",
    "erased",
    "open_requests",
    "registered_at",
    "updated_at",
    "version",
];

#[derive(Clone, Debug, Serialize, Deserialize)]
struct CustomerRequestRow {
    request_id: Uuid,
    customer_id: Uuid,
    active: bool,
}

#[derive(Clone, Debug, Serialize)]
struct PhoneRow {
    number: String,
    customer_id: Uuid,
    position: i32,
}

/// The `customers` projection.
pub struct CustomersProjection;

impl Projection for CustomersProjection {
    fn name(&self) -> &'static str {
        "customers"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["customers", "customer_phones", "customer_requests"]
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["customer", "request"]
    }

    fn apply_batch<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(apply(connection, events))
    }
}

async fn apply(
    connection: &mut PgConnection,
    events: &[StoredEvent],
) -> Result<(), ProjectionError> {
    let customer_events = decode::<CustomerEvent>(events, "customer")?;
    let request_events = decode::<RequestEvent>(events, "request")?;

    let ids = unique(customer_events.iter().map(|(id, _, _)| *id));
    let mut rows: HashMap<Uuid, CustomerRow> =
        load_rows::<CustomerRow>(connection, "customers", "customer_id", &ids, "")
            .await?
            .into_iter()
            .map(|row| (row.customer_id, row))
            .collect();
    // number -> owner and place in the owner's list after this batch (None: removed).
    let mut phones: HashMap<String, Option<(Uuid, i32)>> = HashMap::new();
    let mut erased = Vec::new();
    for (id, sequence, event) in customer_events {
        match event {
            CustomerEvent::Registered {
                name,
                phones: numbers,
                email,
                notes,
                avatar_url,
                at,
            } => {
                rows.insert(
                    id,
                    CustomerRow {
                        customer_id: id,
                        name: Some(name.as_str().to_owned()),
                        email: email.map(|email| email.as_str().to_owned()),
                        notes: Some(notes),
                        avatar_url,
                        erased: false,
                        open_requests: 0,
                        registered_at: micros(at),
                        updated_at: micros(at),
                        version: sequence,
                    },
                );
                for (position, number) in (0..).zip(numbers) {
                    phones.insert(number.as_str().to_owned(), Some((id, position)));
                }
            }
            other => {
                let Some(row) = rows.get_mut(&id) else {
                    tracing::warn!(customer_id = %id, "customer event before registration");
                    continue;
                };
                row.version = sequence;
                match other {
                    CustomerEvent::Updated {
                        name,
                        phones: numbers,
                        email,
                        notes,
                        avatar_url,
                        at,
                    } => {
                        row.updated_at = micros(at);
                        if let Some(name) = name {
                            row.name = Some(name.to.as_str().to_owned());
                        }
                        if let Some(email) = email {
                            row.email = email.to.map(|email| email.as_str().to_owned());
                        }
                        if let Some(notes) = notes {
                            row.notes = Some(notes.to);
                        }
                        if let Some(avatar_url) = avatar_url {
                            row.avatar_url = avatar_url.to;
                        }
                        if let Some(numbers) = numbers {
                            for number in numbers.from {
                                phones.insert(number.as_str().to_owned(), None);
                            }
                            for (position, number) in (0..).zip(numbers.to) {
                                phones.insert(number.as_str().to_owned(), Some((id, position)));
                            }
                        }
                    }
                    CustomerEvent::Erased { at } => {
                        row.name = None;
                        row.email = None;
                        row.notes = None;
                        row.avatar_url = None;
                        row.erased = true;
                        row.updated_at = micros(at);
                        erased.push(id);
                    }
                    _ => {}
                }
            }
        }
    }
    let changed: Vec<CustomerRow> = ids.iter().filter_map(|id| rows.remove(id)).collect();
    upsert_rows(connection, "customers", &["customer_id"], COLUMNS, &changed).await?;

    let removed: Vec<String> = phones
        .iter()
        .filter(|(_, owner)| owner.is_none())
        .map(|(number, _)| number.clone())
        .collect();
    if !removed.is_empty() {
        sqlx::query("DELETE FROM customer_phones WHERE number = ANY($1)")
            .bind(&removed)
            .execute(&mut *connection)
            .await?;
    }
    let mut kept: Vec<PhoneRow> = phones
        .into_iter()
        .filter_map(|(number, owner)| {
            owner.map(|(customer_id, position)| PhoneRow {
                number,
                customer_id,
                position,
            })
        })
        .collect();
    kept.sort_by(|left, right| left.number.cmp(&right.number));
    upsert_rows(
        connection,
        "customer_phones",
        &["number"],
        &["number", "customer_id", "position"],
        &kept,
    )
    .await?;
    super::delete_rows(connection, "customer_phones", "customer_id", &erased).await?;

    // Open request counts.
    let request_ids = unique(request_events.iter().map(|(id, _, _)| *id));
    let mut requests: HashMap<Uuid, CustomerRequestRow> = load_rows::<CustomerRequestRow>(
        connection,
        "customer_requests",
        "request_id",
        &request_ids,
        "",
    )
    .await?
    .into_iter()
    .map(|row| (row.request_id, row))
    .collect();
    for (id, _, event) in request_events {
        match event {
            RequestEvent::Opened { customer_id, .. } => {
                requests.insert(
                    id,
                    CustomerRequestRow {
                        request_id: id,
                        customer_id: customer_id.as_uuid(),
                        active: true,
                    },
                );
            }
            RequestEvent::MarkedPending { .. } | RequestEvent::Reopened { .. } => {
                if let Some(row) = requests.get_mut(&id) {
                    row.active = true;
                }
            }
            RequestEvent::Solved { .. } | RequestEvent::Closed { .. } => {
                if let Some(row) = requests.get_mut(&id) {
                    row.active = false;
                }
            }
            _ => {}
        }
    }
    let touched: HashSet<Uuid> = requests.values().map(|row| row.customer_id).collect();
    let request_rows: Vec<CustomerRequestRow> = request_ids
        .iter()
        .filter_map(|id| requests.remove(id))
        .collect();
    upsert_rows(
        connection,
        "customer_requests",
        &["request_id"],
        &["request_id", "customer_id", "active"],
        &request_rows,
    )
    .await?;
    let mut customers: Vec<Uuid> = touched.into_iter().chain(ids).collect();
    customers.sort();
    customers.dedup();
    sqlx::query(
        "UPDATE customers c SET open_requests = \
           (SELECT count(*) FROM customer_requests r WHERE r.customer_id = c.customer_id AND r.active) \
         WHERE c.customer_id = ANY($1)",
    )
    .bind(&customers)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// The customer owning an E.164 number (`customerByNumber`).
pub async fn by_number(pool: &PgPool, number: &str) -> Result<Option<CustomerRow>, ReadError> {
    let value: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT to_jsonb(c) FROM customer_phones p JOIN customers c USING (customer_id) \
         WHERE p.number = $1",
    )
    .bind(number)
    .fetch_optional(pool)
    .await?;
    Ok(value.map(serde_json::from_value).transpose()?)
}

/// A customer's phone numbers.
pub async fn phones(pool: &PgPool, customer_id: Uuid) -> Result<Vec<String>, ReadError> {
    Ok(sqlx::query_scalar(
        "SELECT number FROM customer_phones WHERE customer_id = $1 ORDER BY position, number",
    )
    .bind(customer_id)
    .fetch_all(pool)
    .await?)
}

/// The phone numbers of `customers`, each list in its customer's order (main number first).
pub async fn phones_of(
    pool: &PgPool,
    customers: &[Uuid],
) -> Result<HashMap<Uuid, Vec<String>>, ReadError> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT customer_id, number FROM customer_phones WHERE customer_id = ANY($1) \
         ORDER BY customer_id, position, number",
    )
    .bind(customers)
    .fetch_all(pool)
    .await?;
    let mut phones: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (customer, number) in rows {
        phones.entry(customer).or_default().push(number);
    }
    Ok(phones)
}

/// The names of `customers` (the CSV exports; an erased customer has none).
pub async fn names(pool: &PgPool, customers: &[Uuid]) -> Result<HashMap<Uuid, String>, ReadError> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT customer_id, name FROM customers \
         WHERE customer_id = ANY($1) AND name IS NOT NULL",
    )
    .bind(customers)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Sort keys of [`list`] (indexes `customers_by_registered_at`, `customers_by_updated_at`,
/// `customers_name`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CustomerSort {
    #[default]
    RegisteredAt,
    UpdatedAt,
    /// Case-insensitive (`lower(name)`), then id.
    Name,
}

/// The fewest digits a search term needs to be looked up among phone numbers.
pub const PHONE_SEARCH_MIN_DIGITS: usize = 3;

/// The `LIKE` patterns of the phone numbers a search term matches, when the term is written
/// like a (part of a) phone number: digits, spaces and `+ ( ) . - /`, at least
/// [`PHONE_SEARCH_MIN_DIGITS`] digits. Numbers are stored in E.164 (`+33612345678`), so the
/// term matches the numbers holding its digits (after `+` or `00`); a national form (`06 12 34`) also matches
/// without its trunk `0` (`612 34` is in `+33612345678`).
pub fn phone_patterns(term: &str) -> Option<Vec<String>> {
    let term = term.trim();
    let phone_like = term
        .chars()
        .all(|c| c.is_ascii_digit() || c.is_whitespace() || "+().-/".contains(c));
    let mut digits: String = term.chars().filter(char::is_ascii_digit).collect();
    if term.starts_with("00") {
        // `00` is the international prefix, as `+`.
        digits.replace_range(..2, "");
    }
    if !phone_like || digits.len() < PHONE_SEARCH_MIN_DIGITS {
        return None;
    }
    let mut patterns = vec![format!("%{digits}%")];
    let international = term.starts_with('+') || term.starts_with("00");
    if let (false, Some(national)) = (international, digits.strip_prefix('0')) {
        if national.len() >= PHONE_SEARCH_MIN_DIGITS {
            patterns.push(format!("%{national}%"));
        }
    }
    Some(patterns)
}

/// The customer `id` (`customer(id)`); `None` when the read model has no such customer.
pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<CustomerRow>, ReadError> {
    get_row(pool, "customers", "customer_id", id).await
}

/// A page of live (not erased) customers; `search` matches the name or email (case-insensitive
/// substring) or, written like a phone number ([`phone_patterns`]), a phone number.
pub async fn list(
    pool: &PgPool,
    search: Option<&str>,
    sort: CustomerSort,
    page: &PageQuery,
) -> Result<Rows<CustomerRow>, ReadError> {
    let (sort, sort_type) = match sort {
        CustomerSort::RegisteredAt => ("registered_at", SortType::Time),
        CustomerSort::UpdatedAt => ("updated_at", SortType::Time),
        CustomerSort::Name => ("lower(name)", SortType::Text),
    };
    let mut conditions = Filter::new().fixed("NOT erased");
    if let Some(term) = search {
        let text = Param::Text(like_pattern(term));
        conditions = match phone_patterns(term) {
            None => conditions.with("name ILIKE ?::text OR email ILIKE ?::text", text),
            Some(patterns) => conditions.with_all(
                "name ILIKE ?1::text OR email ILIKE ?1::text OR customer_id IN \
                 (SELECT p.customer_id FROM customer_phones p WHERE p.number LIKE ANY(?2::text[]))",
                vec![text, Param::TextList(patterns)],
            ),
        };
    }
    keyset::read(
        pool,
        ListSpec {
            table: "customers",
            id_column: "customer_id",
            sort,
            sort_type,
        },
        &conditions,
        page,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_term_written_like_a_phone_number_matches_the_numbers_holding_its_digits() {
        assert_eq!(phone_patterns("+33 6 12"), Some(vec!["%33612%".to_owned()]));
        assert_eq!(
            phone_patterns("06.12.34"),
            Some(vec!["%061234%".to_owned(), "%61234%".to_owned()])
        );
        assert_eq!(phone_patterns("0033 612"), Some(vec!["%33612%".to_owned()]));
        assert_eq!(
            phone_patterns("(555) 0100"),
            Some(vec!["%5550100%".to_owned()])
        );
        assert_eq!(phone_patterns("12"), None, "too few digits");
        assert_eq!(phone_patterns("Dupont 12345"), None, "not a number");
        assert_eq!(phone_patterns("alice@example.com"), None);
    }
}
