//! Sessions over GraphQL: `me`, `login`, `refreshSession`, `logout`, `changePassword`, and the
//! first run's `setupFirstAdmin`.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::context::{request, require_worker, state};
use super::error::ApiError;
use super::workers::{worker_view, WorkerView};
use crate::auth::password::Password;
use crate::auth::sessions::{self, IssuedSession};
use crate::auth::setup::{self, FirstAdmin, SetupRefusal};
use domain::values::{EmailAddress, PersonName};

/// The most characters read from a login's email or password before refusing it.
const MAX_LOGIN_INPUT: usize = 512;

/// A session: an access token for `Authorization: Bearer`, and a single-use refresh token.
#[derive(SimpleObject)]
pub struct AuthPayload {
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
    pub worker: WorkerView,
}

async fn payload(context: &Context<'_>, issued: IssuedSession) -> Result<AuthPayload, ApiError> {
    let worker = worker_view(context, issued.worker_id).await?;
    Ok(AuthPayload {
        access_token: issued.access_token,
        access_token_expires_at: issued.access_token_expires_at,
        refresh_token: issued.refresh_token,
        refresh_token_expires_at: issued.refresh_token_expires_at,
        worker,
    })
}

#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The logged-in worker.
    async fn me(&self, context: &Context<'_>) -> Result<WorkerView, ApiError> {
        let me = require_worker(context)?;
        worker_view(context, me.id).await
    }
}

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Opens a session. Attempts are throttled per account from one client address and per
    /// address (`RATE_LIMITED`), counted before the password is checked, and a failure never
    /// says whether the email exists.
    async fn login(
        &self,
        context: &Context<'_>,
        email: String,
        password: String,
    ) -> Result<AuthPayload, ApiError> {
        if email.len() > MAX_LOGIN_INPUT || password.len() > MAX_LOGIN_INPUT {
            return Err(ApiError::Unauthenticated("invalid email or password"));
        }
        let state = state(context)?;
        let address = request(context).client_address;
        let issued = sessions::login(&state.pool, &state.auth, &email, &password, address).await?;
        payload(context, issued).await
    }

    /// Exchanges a refresh token for a new session pair. Each refresh token works once; using a
    /// spent one again ends the session.
    async fn refresh_session(
        &self,
        context: &Context<'_>,
        refresh_token: String,
    ) -> Result<AuthPayload, ApiError> {
        if refresh_token.len() > MAX_LOGIN_INPUT {
            return Err(ApiError::Unauthenticated(
                "the refresh token is invalid or expired",
            ));
        }
        let state = state(context)?;
        let issued = sessions::refresh(&state.pool, &state.auth, &refresh_token).await?;
        payload(context, issued).await
    }

    /// Ends the current session: its access and refresh tokens stop working.
    async fn logout(&self, context: &Context<'_>) -> Result<bool, ApiError> {
        let me = require_worker(context)?;
        sessions::revoke_session(&state(context)?.pool, me.session_id, "logout").await?;
        Ok(true)
    }

    /// Changes one's own password (the current one is required). Every session of the worker
    /// ends; a new one is returned. Wrong current passwords are throttled like logins
    /// (`RATE_LIMITED`).
    async fn change_password(
        &self,
        context: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> Result<AuthPayload, ApiError> {
        let me = require_worker(context)?;
        let new = Password::parse(&new_password)
            .map_err(|rule| ApiError::validation("newPassword", rule.message()))?;
        if current_password.len() > MAX_LOGIN_INPUT {
            return Err(ApiError::validation("currentPassword", "is too long"));
        }
        let state = state(context)?;
        let address = request(context).client_address;
        let issued = sessions::change_password(
            &state.pool,
            &state.auth,
            me.id,
            &current_password,
            &new,
            address,
        )
        .await?;
        payload(context, issued).await
    }

    /// First run: creates the first admin from the one-time setup link the server logged at
    /// start (`/setup#token=…`) and opens their session. Public; the link works once, before it
    /// expires, and only while no admin exists (`SETUP_TOKEN_INVALID`, `SETUP_TOKEN_USED`,
    /// `SETUP_TOKEN_EXPIRED`, `ADMIN_EXISTS`); attempts are throttled per client address like
    /// logins (`RATE_LIMITED`).
    async fn setup_first_admin(
        &self,
        context: &Context<'_>,
        token: String,
        email: String,
        name: String,
        password: String,
    ) -> Result<AuthPayload, ApiError> {
        if token.len() > MAX_LOGIN_INPUT {
            return Err(ApiError::from(crate::auth::AuthError::Setup(
                SetupRefusal::Invalid,
            )));
        }
        let admin = FirstAdmin {
            email: EmailAddress::parse(&email)?,
            name: PersonName::parse(&name)?,
            password: Password::parse(&password)
                .map_err(|rule| ApiError::validation("password", rule.message()))?,
        };
        let state = state(context)?;
        let address = request(context).client_address;
        let issued =
            setup::setup_first_admin(&state.pool, &state.auth, &token, admin, address).await?;
        payload(context, issued).await
    }
}
