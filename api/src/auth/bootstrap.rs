//! The first admin: `savecorp admin create --email E`, or `SAVECORP_ADMIN_EMAIL` /
//! `SAVECORP_ADMIN_PASSWORD` on a start where no admin exists yet.

use domain::ids::WorkerId;
use domain::values::{EmailAddress, PersonName, Role};
use journal::{Actor, EventStore, Metadata};
use sqlx::PgPool;

use super::accounts::{register_worker, NewWorker};
use super::password::Password;

/// What [`create_admin`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bootstrapped {
    Created(WorkerId),
    /// `only_if_none` was set and an active admin exists.
    AdminExists,
}

/// Whether any active admin exists.
pub async fn admin_exists(pool: &PgPool) -> anyhow::Result<bool> {
    let (exists,): (bool,) =
        sqlx::query_as("SELECT EXISTS (SELECT 1 FROM credentials WHERE role = 'admin' AND active)")
            .fetch_one(pool)
            .await?;
    Ok(exists)
}

/// Creates an admin named after the email's local part. With `only_if_none`, does nothing
/// when an active admin exists. The event's actor is `system`.
pub async fn create_admin(
    pool: &PgPool,
    email: &str,
    password: &str,
    only_if_none: bool,
) -> anyhow::Result<Bootstrapped> {
    if only_if_none && admin_exists(pool).await? {
        return Ok(Bootstrapped::AdminExists);
    }
    let email = EmailAddress::parse(email).map_err(|error| anyhow::anyhow!("{error}"))?;
    let password = Password::parse(password)
        .map_err(|rule| anyhow::anyhow!("password: {}", rule.message()))?;
    let local = email.as_str().split('@').next().unwrap_or("admin");
    let name = PersonName::parse(local)
        .or_else(|_| PersonName::parse("Administrator"))
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let store = EventStore::new(pool.clone());
    let new = NewWorker {
        name,
        email,
        role: Role::Admin,
        endpoint: None,
        password,
    };
    let (worker_id, _) = register_worker(pool, &store, new, &Metadata::new(Actor::System))
        .await
        .map_err(|error| anyhow::anyhow!("{}", error.describe()))?;
    tracing::info!(%worker_id, "admin created");
    Ok(Bootstrapped::Created(worker_id))
}

/// On start: creates the admin from the configuration when both values are set and no admin
/// exists yet.
pub async fn from_config(
    pool: &PgPool,
    email: Option<&str>,
    password: Option<&str>,
) -> anyhow::Result<()> {
    match (email, password) {
        (Some(email), Some(password)) if !email.is_empty() => {
            match create_admin(pool, email, password, true).await? {
                Bootstrapped::Created(_) => {
                    tracing::info!("first admin created from the environment")
                }
                Bootstrapped::AdminExists => {}
            }
            Ok(())
        }
        (Some(_), None) => {
            anyhow::bail!("SAVECORP_ADMIN_EMAIL is set without SAVECORP_ADMIN_PASSWORD")
        }
        _ => Ok(()),
    }
}
