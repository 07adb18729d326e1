//! Throttling of guesses (PRODUCT §1, issue 19 §2): logins, password changes and wrong ingest
//! tokens, counted in the `auth_throttle` table so every instance sees the same counts and a
//! restart does not clear them.
//!
//! - A login or a password change is counted *before* its password is hashed, atomically (one
//!   upsert per key that refuses to go past the limit, every key of the attempt in one
//!   transaction): so concurrent attempts on one key never get more than its limit evaluated,
//!   and the attempts in flight per key are capped by the limit too. A success gives its slot
//!   back; a failure keeps it until the window ends.
//! - Keys are an account *from one client address* (`login:<email>|<address>`,
//!   `password:<worker>|<address>`) and the address itself (`address:<address>`): wrong
//!   guesses from one address cannot lock the account out for everyone else.
//! - Wrong ingest tokens are counted after the lookup (a valid token costs no extra query); an
//!   address over its limit is remembered in memory until its window ends, so its next pings
//!   are refused (429) without a database lookup.
//!
//! Windows are fixed: they start at the first attempt counted and the first attempt after
//! `window` starts a new one. The database's clock decides, so instances agree.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::PgPool;

/// Counted attempts before the table is swept of windows that ended.
const SWEEP_EVERY: u64 = 512;
/// Addresses remembered as blocked at most, before expired ones are dropped.
const BLOCKED_SWEEP_ABOVE: usize = 10_000;

/// The key's limit is used up in its window: the attempt was not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited;

/// The throttle counters, in PostgreSQL, with one window for every key.
pub struct Throttle {
    window: Duration,
    counted: AtomicU64,
    /// Addresses whose wrong ingest tokens reached the limit, until their window ends.
    blocked_ingest: Mutex<HashMap<IpAddr, Instant>>,
}

impl Throttle {
    pub fn new(window: Duration) -> Self {
        Self {
            window: window.max(Duration::from_secs(1)),
            counted: AtomicU64::new(0),
            blocked_ingest: Mutex::new(HashMap::new()),
        }
    }

    fn window_secs(&self) -> f64 {
        self.window.as_secs_f64()
    }

    /// Counts one attempt against every `(key, limit)`, all or nothing: if any key has used
    /// up its limit in its window, nothing is counted and the answer is [`Limited`].
    pub async fn acquire(
        &self,
        pool: &PgPool,
        keys: &[(String, u32)],
    ) -> Result<Result<(), Limited>, sqlx::Error> {
        // One lock order for every transaction: no deadlock between two attempts.
        let mut keys = keys.to_vec();
        keys.sort();
        let mut transaction = pool.begin().await?;
        for (key, limit) in &keys {
            let counted: Option<(i32,)> = sqlx::query_as(
                "INSERT INTO auth_throttle AS t (key, window_started_at, attempts) \
                 VALUES ($1, now(), 1) \
                 ON CONFLICT (key) DO UPDATE SET \
                   window_started_at = CASE WHEN t.window_started_at <= now() - make_interval(secs => $2) \
                                            THEN now() ELSE t.window_started_at END, \
                   attempts = CASE WHEN t.window_started_at <= now() - make_interval(secs => $2) \
                                   THEN 1 ELSE t.attempts + 1 END \
                 WHERE t.window_started_at <= now() - make_interval(secs => $2) \
                    OR t.attempts < $3 \
                 RETURNING attempts",
            )
            .bind(key)
            .bind(self.window_secs())
            .bind(i32::try_from(*limit).unwrap_or(i32::MAX))
            .fetch_optional(&mut *transaction)
            .await?;
            // A limit of 0 refuses everything, a first attempt included.
            if counted.is_none() || *limit == 0 {
                transaction.rollback().await?;
                return Ok(Err(Limited));
            }
        }
        transaction.commit().await?;
        self.sweep_now_and_then(pool).await;
        Ok(Ok(()))
    }

    /// Gives back one attempt's slot of `key` (the attempt succeeded: it was no failure).
    pub async fn release(&self, pool: &PgPool, key: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE auth_throttle SET attempts = attempts - 1 WHERE key = $1 AND attempts > 0",
        )
        .bind(key)
        .execute(pool)
        .await?;
        Ok(())
    }

    /// Forgets `key`'s failures (a successful login clears its account and address).
    pub async fn clear(&self, pool: &PgPool, key: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM auth_throttle WHERE key = $1")
            .bind(key)
            .execute(pool)
            .await?;
        Ok(())
    }

    /// Whether `address` is remembered as over its limit of wrong ingest tokens (no query).
    pub fn ingest_blocked(&self, address: IpAddr) -> bool {
        let blocked = self
            .blocked_ingest
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        blocked
            .get(&address)
            .is_some_and(|until| *until > Instant::now())
    }

    /// Counts a wrong ingest token from `address`; `Err(Limited)` when this one is past
    /// `limit` in the window. Once the limit is reached the address is remembered as blocked
    /// until its window ends.
    pub async fn ingest_failure(
        &self,
        pool: &PgPool,
        address: IpAddr,
        limit: u32,
    ) -> Result<Result<(), Limited>, sqlx::Error> {
        let (attempts, remaining_secs): (i32, f64) = sqlx::query_as(
            "INSERT INTO auth_throttle AS t (key, window_started_at, attempts) \
             VALUES ($1, now(), 1) \
             ON CONFLICT (key) DO UPDATE SET \
               window_started_at = CASE WHEN t.window_started_at <= now() - make_interval(secs => $2) \
                                        THEN now() ELSE t.window_started_at END, \
               attempts = CASE WHEN t.window_started_at <= now() - make_interval(secs => $2) \
                               THEN 1 ELSE t.attempts + 1 END \
             RETURNING attempts, \
               extract(epoch FROM window_started_at + make_interval(secs => $2) - now())::float8",
        )
        .bind(ingest_key(address))
        .bind(self.window_secs())
        .fetch_one(pool)
        .await?;
        self.sweep_now_and_then(pool).await;
        let attempts = u32::try_from(attempts).unwrap_or(0);
        if attempts >= limit {
            let until = Instant::now() + Duration::from_secs_f64(remaining_secs.max(0.0));
            let mut blocked = self
                .blocked_ingest
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            if blocked.len() > BLOCKED_SWEEP_ABOVE {
                let now = Instant::now();
                blocked.retain(|_, until| *until > now);
            }
            blocked.insert(address, until);
        }
        Ok(if attempts > limit {
            Err(Limited)
        } else {
            Ok(())
        })
    }

    /// Deletes the rows whose window ended, every [`SWEEP_EVERY`] counted attempts (errors
    /// ignored: the next sweep does it).
    async fn sweep_now_and_then(&self, pool: &PgPool) {
        if self.counted.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY != SWEEP_EVERY - 1 {
            return;
        }
        let swept = sqlx::query(
            "DELETE FROM auth_throttle WHERE window_started_at <= now() - make_interval(secs => $1)",
        )
        .bind(self.window_secs())
        .execute(pool)
        .await;
        if let Err(error) = swept {
            tracing::debug!(%error, "throttle sweep failed");
        }
    }
}

/// The text of a client address in keys (`unknown` when none is known).
fn address_text(address: Option<IpAddr>) -> String {
    address.map_or_else(|| "unknown".to_owned(), |address| address.to_string())
}

/// Every login and password attempt of a client address.
pub fn address_key(address: Option<IpAddr>) -> String {
    format!("address:{}", address_text(address))
}

/// Logins to one account (its login key) from one client address.
pub fn login_key(account: &str, address: Option<IpAddr>) -> String {
    format!("login:{account}|{}", address_text(address))
}

/// Password changes of one worker from one client address.
pub fn password_change_key(worker: uuid::Uuid, address: Option<IpAddr>) -> String {
    format!("password:{worker}|{}", address_text(address))
}

/// First-admin setup attempts (`setupFirstAdmin`) of one client address.
pub fn setup_key(address: Option<IpAddr>) -> String {
    format!("setup:{}", address_text(address))
}

/// Wrong ingest tokens of one client address.
pub fn ingest_key(address: IpAddr) -> String {
    format!("ingest:{address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_the_account_and_the_address_they_throttle() {
        let address: IpAddr = "192.0.2.7".parse().expect("address");
        assert_eq!(
            login_key("jane@example.com", Some(address)),
            "login:jane@example.com|192.0.2.7"
        );
        assert_eq!(address_key(None), "address:unknown");
        assert_eq!(ingest_key(address), "ingest:192.0.2.7");
    }

    #[test]
    fn no_address_is_blocked_before_its_failures_are_counted() {
        let throttle = Throttle::new(Duration::from_secs(60));
        assert!(!throttle.ingest_blocked("192.0.2.7".parse().expect("address")));
    }
}
