//! Sessions: login, refresh (rotation with reuse detection), logout, password change, and
//! turning a bearer token into a [`Caller`].

use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use domain::ids::WorkerId;
use domain::values::Role;
use sqlx::PgPool;
use uuid::Uuid;

use super::password::{self, Password};
use super::rate_limit;
use super::tokens::{random_token, token_hash, AccessClaims};
use super::AuthError;
use super::{AuthService, Caller};

/// A session just opened or refreshed. The tokens are shown to the client once.
#[derive(Clone)]
pub struct IssuedSession {
    pub worker_id: WorkerId,
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
}

const LOGIN_FAILED: &str = "invalid email or password";
const REFRESH_FAILED: &str = "the refresh token is invalid or expired";

fn role_text(role: Role) -> &'static str {
    role.as_str()
}

/// The caller a bearer token proves: valid signature and expiry, an active worker, the same
/// session epoch (no password change since), and a session not revoked. Anything else is
/// `Anonymous` (protected operations then answer `UNAUTHENTICATED`).
pub async fn identify(
    pool: &PgPool,
    auth: &AuthService,
    bearer: Option<&str>,
) -> Result<Caller, AuthError> {
    let Some(token) = bearer else {
        return Ok(Caller::Anonymous);
    };
    let Some(claims) = auth.keys.verify(token) else {
        return Ok(Caller::Anonymous);
    };
    standing(pool, &claims).await
}

/// The caller a token's verified `claims` prove now (as [`identify`], without the signature
/// and expiry checks already done): for a connection that authenticated once, after a change
/// to its worker's credentials.
pub async fn standing(pool: &PgPool, claims: &AccessClaims) -> Result<Caller, AuthError> {
    let row: Option<(String, bool, i32, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT c.role, c.active, c.session_epoch, s.revoked_at \
         FROM credentials c JOIN sessions s ON s.worker_id = c.worker_id \
         WHERE c.worker_id = $1 AND s.session_id = $2",
    )
    .bind(claims.sub)
    .bind(claims.sid)
    .fetch_optional(pool)
    .await?;
    match row {
        Some((role, true, epoch, None)) if epoch == claims.epoch => Ok(Caller::Worker {
            id: WorkerId(claims.sub),
            role: Role::parse(&role)
                .map_err(|_| AuthError::Internal(anyhow::anyhow!("bad role")))?,
            session_id: claims.sid,
        }),
        _ => Ok(Caller::Anonymous),
    }
}

/// Email + password → a new session. Throttled per account from this address and per
/// address, counted before the password is hashed; the answer is the same whether the email is
/// unknown or the password wrong.
pub async fn login(
    pool: &PgPool,
    auth: &AuthService,
    email: &str,
    password: &str,
    address: Option<IpAddr>,
) -> Result<IssuedSession, AuthError> {
    let account_key = email.trim().to_lowercase();
    let per_account = rate_limit::login_key(&account_key, address);
    let per_address = rate_limit::address_key(address);
    let keys = [
        (per_account.clone(), auth.config.login_failures_per_account),
        (per_address.clone(), auth.config.login_failures_per_address),
    ];
    if auth.throttle.acquire(pool, &keys).await?.is_err() {
        tracing::info!(client = ?address, "login refused: too many attempts");
        return Err(AuthError::RateLimited);
    }
    let row: Option<(Uuid, String, String, bool, i32)> = sqlx::query_as(
        "SELECT worker_id, password_hash, role, active, session_epoch FROM credentials \
         WHERE email_key = $1",
    )
    .bind(&account_key)
    .fetch_optional(pool)
    .await?;
    let stored_hash = row.as_ref().map(|(_, hash, ..)| hash.clone());
    let matches = password::verify(password, stored_hash).await;
    match row {
        Some((worker_id, _, role, true, epoch)) if matches => {
            auth.throttle.clear(pool, &per_account).await?;
            auth.throttle.release(pool, &per_address).await?;
            let session_id = Uuid::now_v7();
            sqlx::query("INSERT INTO sessions (session_id, worker_id) VALUES ($1, $2)")
                .bind(session_id)
                .bind(worker_id)
                .execute(pool)
                .await?;
            issue(pool, auth, WorkerId(worker_id), &role, epoch, session_id).await
        }
        _ => {
            tracing::info!(client = ?address, "login failed");
            Err(AuthError::Unauthenticated(LOGIN_FAILED))
        }
    }
}

/// Opens a new session for an active worker who just proved who they are another way (the
/// first admin from a setup link).
pub async fn open_session(
    pool: &PgPool,
    auth: &AuthService,
    worker_id: WorkerId,
) -> Result<IssuedSession, AuthError> {
    let (role, epoch): (String, i32) = sqlx::query_as(
        "SELECT role, session_epoch FROM credentials WHERE worker_id = $1 AND active",
    )
    .bind(worker_id.as_uuid())
    .fetch_optional(pool)
    .await?
    .ok_or(AuthError::Unauthenticated("not logged in"))?;
    let session_id = Uuid::now_v7();
    sqlx::query("INSERT INTO sessions (session_id, worker_id) VALUES ($1, $2)")
        .bind(session_id)
        .bind(worker_id.as_uuid())
        .execute(pool)
        .await?;
    issue(pool, auth, worker_id, &role, epoch, session_id).await
}

/// Signs an access token and stores a fresh refresh token in `session_id`.
async fn issue(
    pool: &PgPool,
    auth: &AuthService,
    worker_id: WorkerId,
    role: &str,
    epoch: i32,
    session_id: Uuid,
) -> Result<IssuedSession, AuthError> {
    let now = Utc::now();
    let access_ttl = TimeDelta::seconds(auth.config.access_token_secs.min(86_400 * 365) as i64);
    let refresh_ttl = TimeDelta::seconds(auth.config.refresh_token_secs.min(86_400 * 3650) as i64);
    let access_token_expires_at = now + access_ttl;
    let claims = AccessClaims {
        sub: worker_id.as_uuid(),
        role: role.to_owned(),
        jti: Uuid::now_v7(),
        sid: session_id,
        epoch,
        iat: now.timestamp(),
        exp: access_token_expires_at.timestamp(),
    };
    let access_token = auth.keys.sign(&claims).map_err(AuthError::Internal)?;
    let refresh_token = random_token(32);
    let refresh_token_expires_at = now + refresh_ttl;
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(token_hash(&refresh_token))
    .bind(session_id)
    .bind(refresh_token_expires_at)
    .execute(pool)
    .await?;
    Ok(IssuedSession {
        worker_id,
        access_token,
        access_token_expires_at,
        refresh_token,
        refresh_token_expires_at,
    })
}

/// Exchanges a refresh token for a new pair. A token already used revokes its whole session
/// (someone holds a copy); an expired one, or one of a revoked session, is refused.
pub async fn refresh(
    pool: &PgPool,
    auth: &AuthService,
    refresh_token: &str,
) -> Result<IssuedSession, AuthError> {
    let hash = token_hash(refresh_token);
    let mut transaction = pool.begin().await?;
    let row: Option<(Uuid, DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT session_id, expires_at, used_at FROM refresh_tokens WHERE token_hash = $1 \
         FOR UPDATE",
    )
    .bind(&hash)
    .fetch_optional(&mut *transaction)
    .await?;
    let Some((session_id, expires_at, used_at)) = row else {
        return Err(AuthError::Unauthenticated(REFRESH_FAILED));
    };
    if used_at.is_some() {
        sqlx::query(
            "UPDATE sessions SET revoked_at = now(), revoked_reason = 'refresh_token_reused' \
             WHERE session_id = $1 AND revoked_at IS NULL",
        )
        .bind(session_id)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        tracing::warn!(%session_id, "a spent refresh token was presented again: session revoked");
        return Err(AuthError::Unauthenticated(REFRESH_FAILED));
    }
    let session: Option<(Uuid, String, i32)> = sqlx::query_as(
        "SELECT c.worker_id, c.role, c.session_epoch FROM sessions s \
         JOIN credentials c ON c.worker_id = s.worker_id \
         WHERE s.session_id = $1 AND s.revoked_at IS NULL AND c.active",
    )
    .bind(session_id)
    .fetch_optional(&mut *transaction)
    .await?;
    let Some((worker_id, role, epoch)) = session else {
        return Err(AuthError::Unauthenticated(REFRESH_FAILED));
    };
    if expires_at <= Utc::now() {
        return Err(AuthError::Unauthenticated(REFRESH_FAILED));
    }
    sqlx::query("UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1")
        .bind(&hash)
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    issue(pool, auth, WorkerId(worker_id), &role, epoch, session_id).await
}

/// Ends a session: its access tokens and refresh tokens stop working.
pub async fn revoke_session(
    pool: &PgPool,
    session_id: Uuid,
    reason: &str,
) -> Result<(), AuthError> {
    sqlx::query(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $2 \
         WHERE session_id = $1 AND revoked_at IS NULL",
    )
    .bind(session_id)
    .bind(reason)
    .execute(pool)
    .await?;
    Ok(())
}

/// Ends every session of a worker (password change, deactivation).
pub async fn revoke_all_sessions(
    pool: &PgPool,
    worker_id: WorkerId,
    reason: &str,
) -> Result<(), AuthError> {
    sqlx::query(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $2 \
         WHERE worker_id = $1 AND revoked_at IS NULL",
    )
    .bind(worker_id.as_uuid())
    .bind(reason)
    .execute(pool)
    .await?;
    Ok(())
}

/// Checks the current password, stores the new one, raises the session epoch (every access
/// token issued before is refused), revokes every session, and opens a new one.
///
/// Throttled like a login (per worker from this address, and per address), counted before
/// the current password is hashed: a stolen access token cannot be used to guess it.
pub async fn change_password(
    pool: &PgPool,
    auth: &AuthService,
    worker_id: WorkerId,
    current: &str,
    new: &Password,
    address: Option<IpAddr>,
) -> Result<IssuedSession, AuthError> {
    let per_worker = rate_limit::password_change_key(worker_id.as_uuid(), address);
    let per_address = rate_limit::address_key(address);
    let keys = [
        (per_worker.clone(), auth.config.login_failures_per_account),
        (per_address.clone(), auth.config.login_failures_per_address),
    ];
    if auth.throttle.acquire(pool, &keys).await?.is_err() {
        tracing::info!(client = ?address, %worker_id, "password change refused: too many attempts");
        return Err(AuthError::RateLimited);
    }
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT password_hash, role FROM credentials WHERE worker_id = $1 AND active",
    )
    .bind(worker_id.as_uuid())
    .fetch_optional(pool)
    .await?;
    let Some((stored_hash, role)) = row else {
        return Err(AuthError::Unauthenticated("not logged in"));
    };
    if !password::verify(current, Some(stored_hash)).await {
        tracing::info!(client = ?address, %worker_id, "password change: wrong current password");
        return Err(AuthError::WrongPassword);
    }
    auth.throttle.clear(pool, &per_worker).await?;
    auth.throttle.release(pool, &per_address).await?;
    let hash = password::hash(new).await.map_err(AuthError::Internal)?;
    let (epoch,): (i32,) = sqlx::query_as(
        "UPDATE credentials SET password_hash = $2, session_epoch = session_epoch + 1, \
         updated_at = now() WHERE worker_id = $1 RETURNING session_epoch",
    )
    .bind(worker_id.as_uuid())
    .bind(hash)
    .fetch_one(pool)
    .await?;
    revoke_all_sessions(pool, worker_id, "password_changed").await?;
    let session_id = Uuid::now_v7();
    sqlx::query("INSERT INTO sessions (session_id, worker_id) VALUES ($1, $2)")
        .bind(session_id)
        .bind(worker_id.as_uuid())
        .execute(pool)
        .await?;
    issue(pool, auth, worker_id, &role, epoch, session_id).await
}

/// An admin's reset of a worker's password: a temporary password (shown to the admin once,
/// never stored in clear), the session epoch raised (every access token issued before is
/// refused) and every session of the worker ended. `None`: no active worker with these
/// credentials.
pub async fn reset_password(
    pool: &PgPool,
    worker_id: WorkerId,
) -> Result<Option<String>, AuthError> {
    // 16 characters of base64url: 96 random bits, within the password rules.
    let temporary = random_token(12);
    let parsed = Password::parse(&temporary).map_err(|rule| {
        AuthError::Internal(anyhow::anyhow!("temporary password: {}", rule.message()))
    })?;
    let hash = password::hash(&parsed).await.map_err(AuthError::Internal)?;
    let updated = sqlx::query(
        "UPDATE credentials SET password_hash = $2, session_epoch = session_epoch + 1, \
         updated_at = now() WHERE worker_id = $1 AND active",
    )
    .bind(worker_id.as_uuid())
    .bind(hash)
    .execute(pool)
    .await?;
    if updated.rows_affected() != 1 {
        return Ok(None);
    }
    revoke_all_sessions(pool, worker_id, "password_reset").await?;
    Ok(Some(temporary))
}

/// Active admins other than `worker_id` (the fact the last-admin rule needs).
pub async fn other_active_admins(pool: &PgPool, worker_id: WorkerId) -> Result<u32, AuthError> {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM credentials WHERE role = 'admin' AND active AND worker_id <> $1",
    )
    .bind(worker_id.as_uuid())
    .fetch_one(pool)
    .await?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

/// Mirrors a committed role change.
pub async fn set_role(pool: &PgPool, worker_id: WorkerId, role: Role) -> Result<(), AuthError> {
    sqlx::query("UPDATE credentials SET role = $2, updated_at = now() WHERE worker_id = $1")
        .bind(worker_id.as_uuid())
        .bind(role_text(role))
        .execute(pool)
        .await?;
    Ok(())
}

/// Mirrors a committed deactivation and ends the worker's sessions.
pub async fn deactivate(pool: &PgPool, worker_id: WorkerId) -> Result<(), AuthError> {
    sqlx::query("UPDATE credentials SET active = FALSE, updated_at = now() WHERE worker_id = $1")
        .bind(worker_id.as_uuid())
        .execute(pool)
        .await?;
    revoke_all_sessions(pool, worker_id, "deactivated").await
}

/// Mirrors a committed email change (the login key).
pub async fn set_email(
    pool: &PgPool,
    worker_id: WorkerId,
    email_key: &str,
) -> Result<(), AuthError> {
    sqlx::query("UPDATE credentials SET email_key = $2, updated_at = now() WHERE worker_id = $1")
        .bind(worker_id.as_uuid())
        .bind(email_key)
        .execute(pool)
        .await?;
    Ok(())
}
