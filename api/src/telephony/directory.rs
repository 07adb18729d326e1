//! Who is calling: caller number → customer.

use std::time::Duration;

use domain::ids::CustomerId;
use domain::values::PhoneNumber;
use futures::future::BoxFuture;
use sqlx::PgPool;
use uuid::Uuid;

/// Finds the customer a caller number belongs to. Lookups must be quick: the dispatcher waits
/// for the answer before queueing the call. A failed lookup is "no customer" (the call is
/// linked later when the customer is registered, PRODUCT §3).
pub trait CustomerDirectory: Send + Sync {
    fn find_by_number<'a>(&'a self, caller_number: &'a str) -> BoxFuture<'a, Option<CustomerId>>;
}

/// A directory that knows no customer: every call is queued unlinked.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCustomerDirectory;

impl CustomerDirectory for NoCustomerDirectory {
    fn find_by_number<'a>(&'a self, _caller_number: &'a str) -> BoxFuture<'a, Option<CustomerId>> {
        Box::pin(async { None })
    }
}

/// How long a lookup may take before the call is queued unlinked.
const LOOKUP_TIMEOUT: Duration = Duration::from_millis(500);

/// The customers read model: the caller number, normalised to E.164 with the default country
/// code, looked up in `customer_phones`.
#[derive(Clone, Debug)]
pub struct SqlCustomerDirectory {
    pool: PgPool,
    default_country_code: String,
}

impl SqlCustomerDirectory {
    pub fn new(pool: PgPool, default_country_code: impl Into<String>) -> Self {
        Self {
            pool,
            default_country_code: default_country_code.into(),
        }
    }
}

/// The customer a number belongs to, if any (`None` also when the number does not parse).
pub async fn customer_of_number(
    pool: &PgPool,
    caller_number: &str,
    default_country_code: &str,
) -> Result<Option<CustomerId>, sqlx::Error> {
    let Ok(number) = PhoneNumber::parse(caller_number, default_country_code) else {
        return Ok(None);
    };
    let row: Option<(Uuid,)> =
        sqlx::query_as("SELECT customer_id FROM customer_phones WHERE number = $1")
            .bind(number.as_str())
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(id,)| CustomerId::from(id)))
}

impl CustomerDirectory for SqlCustomerDirectory {
    fn find_by_number<'a>(&'a self, caller_number: &'a str) -> BoxFuture<'a, Option<CustomerId>> {
        Box::pin(async move {
            let lookup = customer_of_number(&self.pool, caller_number, &self.default_country_code);
            match tokio::time::timeout(LOOKUP_TIMEOUT, lookup).await {
                Ok(Ok(found)) => found,
                Ok(Err(error)) => {
                    tracing::warn!(%error, "customer lookup failed; the call is queued unlinked");
                    None
                }
                Err(_) => {
                    tracing::warn!("customer lookup timed out; the call is queued unlinked");
                    None
                }
            }
        })
    }
}
