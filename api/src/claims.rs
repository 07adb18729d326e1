//! Uniqueness that spans aggregates (worker email, active worker endpoint, customer phone
//! numbers): a value is claimed for its owner in `uniqueness_claims` before the command that
//! uses it, and released if the command fails or the owner gives the value up. The primary key
//! `(kind, value)` makes two concurrent claims of one value fail for one of them.

use sqlx::PgPool;

/// What a claimed value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimKind {
    /// A worker's email, lowercased.
    WorkerEmail,
    /// An active worker's phone endpoint.
    WorkerEndpoint,
    /// A customer's phone number (E.164).
    CustomerPhone,
}

impl ClaimKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::WorkerEmail => "worker_email",
            Self::WorkerEndpoint => "worker_endpoint",
            Self::CustomerPhone => "customer_phone",
        }
    }

    /// What a refused claim says: "the email is already in use" (the value is shown, except
    /// an email's).
    pub fn taken_message(self, value: &str) -> String {
        let what = match self {
            Self::WorkerEmail => "email",
            Self::WorkerEndpoint => "endpoint",
            Self::CustomerPhone => "phone number",
        };
        let shown = match self {
            Self::WorkerEmail => String::new(),
            _ => format!(" {value}"),
        };
        format!("the {what}{shown} is already in use")
    }
}

/// Why a claim failed.
#[derive(Debug)]
pub enum ClaimError {
    /// Another owner holds the value.
    Taken { kind: ClaimKind, value: String },
    /// The database failed.
    Database(sqlx::Error),
}

impl From<sqlx::Error> for ClaimError {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(error)
    }
}

/// Values newly claimed by one operation, to release if it fails.
#[must_use = "release the claims if the operation fails"]
#[derive(Debug, Default)]
pub struct Claimed {
    owner: String,
    values: Vec<(ClaimKind, String)>,
}

impl Claimed {
    /// Gives the newly claimed values back (the operation failed).
    pub async fn release(self, pool: &PgPool) {
        for (kind, value) in &self.values {
            if let Err(error) = release(pool, *kind, &self.owner, value).await {
                tracing::error!(%error, "releasing a uniqueness claim failed");
            }
        }
    }
}

/// Claims every value for `owner`, all or nothing. Values the owner already holds stay held
/// (and are not released by [`Claimed::release`]).
pub async fn claim(
    pool: &PgPool,
    owner: &str,
    values: &[(ClaimKind, String)],
) -> Result<Claimed, ClaimError> {
    let mut claimed = Claimed {
        owner: owner.to_owned(),
        values: Vec::new(),
    };
    for (kind, value) in values {
        let inserted = sqlx::query(
            "INSERT INTO uniqueness_claims (kind, value, owner_id) VALUES ($1, $2, $3) \
             ON CONFLICT (kind, value) DO NOTHING",
        )
        .bind(kind.as_str())
        .bind(value)
        .bind(owner)
        .execute(pool)
        .await;
        let inserted = match inserted {
            Ok(result) => result.rows_affected() == 1,
            Err(error) => {
                claimed.release(pool).await;
                return Err(error.into());
            }
        };
        if inserted {
            claimed.values.push((*kind, value.clone()));
            continue;
        }
        let holder: Result<Option<(String,)>, sqlx::Error> =
            sqlx::query_as("SELECT owner_id FROM uniqueness_claims WHERE kind = $1 AND value = $2")
                .bind(kind.as_str())
                .bind(value)
                .fetch_optional(pool)
                .await;
        match holder {
            Ok(Some((holder,))) if holder == owner => {}
            Ok(_) => {
                claimed.release(pool).await;
                return Err(ClaimError::Taken {
                    kind: *kind,
                    value: value.clone(),
                });
            }
            Err(error) => {
                claimed.release(pool).await;
                return Err(error.into());
            }
        }
    }
    Ok(claimed)
}

/// Releases one value held by `owner` (no-op if it holds none).
pub async fn release(
    pool: &PgPool,
    kind: ClaimKind,
    owner: &str,
    value: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM uniqueness_claims WHERE kind = $1 AND owner_id = $2 AND value = $3")
        .bind(kind.as_str())
        .bind(owner)
        .bind(value)
        .execute(pool)
        .await?;
    Ok(())
}

/// Runs `operation` with `values` claimed for `owner`; releases them if it fails.
pub async fn with_claims<T, E, F>(
    pool: &PgPool,
    owner: &str,
    values: &[(ClaimKind, String)],
    operation: F,
) -> Result<T, E>
where
    E: From<ClaimError>,
    F: std::future::Future<Output = Result<T, E>>,
{
    let claimed = claim(pool, owner, values).await?;
    match operation.await {
        Ok(value) => Ok(value),
        Err(error) => {
            claimed.release(pool).await;
            Err(error)
        }
    }
}
