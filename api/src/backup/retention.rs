//! Retention (PRODUCT §6): the customer's retention policy applied to their finished runs
//! (the domain's restic `forget` semantics, calendar periods in the plan's time zone or UTC);
//! each run the policy lets go gets a BackupRun `Expire`. Runs already expired are gone for
//! the policy, as forgotten snapshots are for restic. The newest success is always kept.

use chrono_tz::Tz;
use domain::backup_run::{BackupRun, BackupRunCommand, RunStatus};
use domain::ids::{BackupRunId, CustomerId};
use domain::plan::Schedule;
use domain::policy::retention::{self, ExpireReason, RunFacts, Verdict};
use journal::{Actor, Metadata};

use super::service::{backup_runs, load_customer, BackupError};
use super::BackupState;

/// Applies the customer's retention policy now; returns the runs newly expired.
pub async fn apply_retention(
    state: &BackupState,
    customer_id: CustomerId,
) -> Result<Vec<BackupRunId>, BackupError> {
    apply_retention_with(state, customer_id, Metadata::new(Actor::System)).await
}

/// [`apply_retention`] with the metadata of the cause (the watchdog passes the success's).
pub async fn apply_retention_with(
    state: &BackupState,
    customer_id: CustomerId,
    metadata: Metadata,
) -> Result<Vec<BackupRunId>, BackupError> {
    let (customer, _) = load_customer(state, customer_id).await?;
    let Some(plan) = customer.backup_plan() else {
        return Ok(Vec::new());
    };
    let zone = match &plan.schedule {
        Schedule::Cron { time_zone, .. } => time_zone.parse::<Tz>().unwrap_or(Tz::UTC),
        Schedule::Period { .. } => Tz::UTC,
    };
    let runs = backup_runs(state, customer_id).await?;
    let facts: Vec<RunFacts> = runs
        .iter()
        .filter(|run| !run.expired && run.status != RunStatus::Running)
        .filter_map(|run| {
            Some(RunFacts {
                id: run.run_id,
                finished_at: run.finished_at?,
                successful: run.status == RunStatus::Succeeded,
            })
        })
        .collect();
    let at = state.backup.now();
    let mut expired = Vec::new();
    for verdict in retention::apply(&plan.retention, &facts, zone) {
        let Verdict::Expire(reason) = verdict.verdict else {
            continue;
        };
        let reason = match reason {
            ExpireReason::NoRuleKeepsIt => "no retention rule keeps it",
            ExpireReason::FailedBeforeLaterSuccess => "failed before a later success",
        };
        let committed = state
            .store
            .execute::<BackupRun>(
                &verdict.id.to_string(),
                BackupRunCommand::Expire {
                    at,
                    reason: reason.to_owned(),
                },
                &(),
                &metadata,
                None,
            )
            .await?;
        if !committed.events.is_empty() {
            expired.push(verdict.id);
        }
    }
    Ok(expired)
}
