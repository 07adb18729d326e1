//! Ingest tokens (PRODUCT §1): opaque, shown once, stored as a SHA-256 hash, revocable.
//!
//! A token reads `sci_<token id, 32 hex><secret, 64 hex>`. The id finds the stored hash; the
//! hash of the whole token is then compared in constant time. Whether the token is accepted is
//! the Customer aggregate's decision (issued, not revoked, customer not erased).

use domain::customer::Customer;
use domain::ids::{CustomerId, IngestTokenId};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use journal::EventStore;

const PREFIX: &str = "sci_";
const ID_HEX: usize = 32;
const SECRET_HEX: usize = 64;

/// A freshly generated token, before it is stored.
pub struct NewToken {
    pub token_id: IngestTokenId,
    /// The token itself: give it to the customer once, never store or log it.
    pub token: String,
    pub hash: [u8; 32],
}

impl NewToken {
    pub fn generate() -> Self {
        let token_id = IngestTokenId::new();
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let token = format!(
            "{PREFIX}{}{}",
            token_id.as_uuid().simple(),
            hex::encode(secret)
        );
        let hash = hash_token(&token);
        Self {
            token_id,
            token,
            hash,
        }
    }

    /// The first 8 hex characters of the hash (what the Customer aggregate records).
    pub fn hash_prefix(&self) -> String {
        hex::encode(&self.hash[..4])
    }
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("token_id", &self.token_id)
            .finish_non_exhaustive()
    }
}

pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The token id a well-formed token names; `None` for anything else.
fn token_id_of(token: &str) -> Option<IngestTokenId> {
    let rest = token.strip_prefix(PREFIX)?;
    if rest.len() != ID_HEX + SECRET_HEX || !rest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Uuid::try_parse(&rest[..ID_HEX]).ok().map(IngestTokenId)
}

/// Equal in time independent of where the bytes differ.
fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    left.iter()
        .zip(right)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

pub async fn store(
    pool: &PgPool,
    customer_id: CustomerId,
    token: &NewToken,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ingest_tokens (token_id, customer_id, token_hash) VALUES ($1, $2, $3)",
    )
    .bind(token.token_id.as_uuid())
    .bind(customer_id.as_uuid())
    .bind(&token.hash[..])
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn forget(pool: &PgPool, token_id: IngestTokenId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM ingest_tokens WHERE token_id = $1")
        .bind(token_id.as_uuid())
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn mark_revoked(pool: &PgPool, token_id: IngestTokenId) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE ingest_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE token_id = $1",
    )
    .bind(token_id.as_uuid())
    .execute(pool)
    .await?;
    Ok(())
}

/// Who a presented token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IngestIdentity {
    pub token_id: IngestTokenId,
    pub customer_id: CustomerId,
}

/// Why a token was refused or could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum AuthenticateError {
    #[error("the ingest token is not valid")]
    Unauthenticated,
    #[error(transparent)]
    Store(#[from] journal::StoreError),
}

/// The token's id and customer, if the token is one we issued and the customer still accepts.
pub async fn authenticate(
    store: &EventStore,
    token: &str,
) -> Result<IngestIdentity, AuthenticateError> {
    let Some(token_id) = token_id_of(token) else {
        return Err(AuthenticateError::Unauthenticated);
    };
    let row: Option<(Vec<u8>, Uuid)> = sqlx::query_as(
        "SELECT token_hash, customer_id FROM ingest_tokens \
         WHERE token_id = $1 AND revoked_at IS NULL",
    )
    .bind(token_id.as_uuid())
    .fetch_optional(store.pool())
    .await
    .map_err(journal::StoreError::Database)?;
    let Some((stored_hash, customer_uuid)) = row else {
        return Err(AuthenticateError::Unauthenticated);
    };
    if !constant_time_eq(&stored_hash, &hash_token(token)) {
        return Err(AuthenticateError::Unauthenticated);
    }
    let customer_id = CustomerId(customer_uuid);
    let (customer, _) = store
        .load_aggregate::<Customer>(&customer_id.to_string())
        .await?;
    if !customer.accepts_ingest_token(token_id) {
        return Err(AuthenticateError::Unauthenticated);
    }
    Ok(IngestIdentity {
        token_id,
        customer_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_names_its_id_and_hashes_to_its_hash() {
        let token = NewToken::generate();
        assert_eq!(token_id_of(&token.token), Some(token.token_id));
        assert_eq!(hash_token(&token.token), token.hash);
        assert_eq!(token.hash_prefix().len(), 8);
        assert!(!format!("{token:?}").contains(&token.token));
    }

    #[test]
    fn malformed_tokens_name_no_id() {
        let token = NewToken::generate().token;
        for bad in [
            "",
            "sci_",
            &token[1..],
            &token[..token.len() - 1],
            &token.replace("sci_", "scx_"),
            &format!("{}g", &token[..token.len() - 1]),
        ] {
            assert_eq!(token_id_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn constant_time_comparison_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
