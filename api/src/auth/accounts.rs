//! Registering a worker who can log in: uniqueness claims (email, endpoint) and credentials
//! are written first, then the `Register` command; if the command fails, both are undone.

use domain::ids::WorkerId;
use domain::values::{EmailAddress, Endpoint, PersonName, Role};
use domain::worker::{Worker, WorkerCommand};
use journal::{Committed, EventStore, Metadata};
use sqlx::PgPool;

use super::password::{self, Password};
use super::AuthError;
use crate::claims::{with_claims, ClaimKind};

/// A worker to register.
pub struct NewWorker {
    pub name: PersonName,
    pub email: EmailAddress,
    pub role: Role,
    pub endpoint: Option<Endpoint>,
    pub password: Password,
}

/// The login key of an email: the whole address lowercased.
pub fn email_key(email: &EmailAddress) -> String {
    email.as_str().to_lowercase()
}

/// Registers the worker with credentials; returns the new id and what was committed.
pub async fn register_worker(
    pool: &PgPool,
    store: &EventStore,
    new: NewWorker,
    metadata: &Metadata,
) -> Result<(WorkerId, Committed<Worker>), AuthError> {
    let worker_id = WorkerId::new();
    let owner = worker_id.to_string();
    let key = email_key(&new.email);
    let hash = password::hash(&new.password)
        .await
        .map_err(AuthError::Internal)?;
    let mut values = vec![(ClaimKind::WorkerEmail, key.clone())];
    if let Some(endpoint) = &new.endpoint {
        values.push((ClaimKind::WorkerEndpoint, endpoint.to_string()));
    }
    let committed = with_claims::<_, AuthError, _>(pool, &owner, &values, async {
        sqlx::query(
            "INSERT INTO credentials (worker_id, email_key, password_hash, role) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(worker_id.as_uuid())
        .bind(&key)
        .bind(&hash)
        .bind(new.role.as_str())
        .execute(pool)
        .await?;
        let command = WorkerCommand::Register {
            name: new.name,
            email: new.email,
            role: new.role,
            endpoint: new.endpoint,
            at: crate::platform::clock::now(),
        };
        match store
            .execute::<Worker>(&owner, command, &(), metadata, Some(0))
            .await
        {
            Ok(committed) => Ok(committed),
            Err(error) => {
                let _ = sqlx::query("DELETE FROM credentials WHERE worker_id = $1")
                    .bind(worker_id.as_uuid())
                    .execute(pool)
                    .await;
                Err(error.into())
            }
        }
    })
    .await?;
    Ok((worker_id, committed))
}
