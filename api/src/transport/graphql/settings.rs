//! The settings admins change without a restart (issue 15 §4; PRODUCT §1, §4.2, §5, §8):
//! `settings` (admins) and `updateQueueSettings`, `updateRequestSettings`,
//! `updateServiceLevelThreshold` (admins). Each mutation is a command on the domain's
//! `QueueSettings` / `CenterSettings` aggregate (events, audited like every change); the
//! answer folds the committed aggregate, and this instance takes the new values at once
//! (the others from the log, `crate::settings::follow`).

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use domain::settings::{
    CenterSettings, CenterSettingsCommand, QueueSettings, QueueSettingsCommand, QueueValues,
    SettingsError, CENTER_SETTINGS_ID, DEFAULT_QUEUE,
};
use domain::sla::SlaPolicy;
use journal::CommandError;

use super::context::{metadata, require_admin, state};
use super::error::ApiError;
use crate::settings::Snapshot;

/// A refused settings command: a refused value is `VALIDATION` on its input field.
fn settings_error(error: CommandError<SettingsError>) -> ApiError {
    match error {
        CommandError::Rejected(rule) => ApiError::validation(rule.field(), rule.reason()),
        CommandError::Conflict { expected, actual } => ApiError::Conflict(format!(
            "expected version {expected}, the settings are at version {actual}"
        )),
        CommandError::Store(store) => store.into(),
    }
}

/// A whole number of the input, in the range of its setting's type (never negative).
fn non_negative<T: TryFrom<i64>>(value: i64, field: &str) -> Result<T, ApiError> {
    T::try_from(value).map_err(|_| ApiError::validation(field, "is out of range"))
}

fn int(value: impl TryInto<i64>) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

/// One queue's settings in force.
#[derive(SimpleObject, Clone, Debug)]
pub struct QueueConfiguration {
    /// The queue (`default`: the one queue there is today).
    pub queue_id: String,
    /// How long an agent's phone rings before the offer counts as missed.
    pub offer_timeout_secs: i64,
    /// Wrap-up after each call before the agent is Available again (0 = none).
    pub wrap_up_secs: i64,
    /// How long a caller waits at most before being rejected `max_wait_exceeded`.
    pub max_wait_secs: i64,
    /// Calls waiting above which new callers are rejected `queue_full`.
    pub max_queue_length: i64,
    /// ARI media played to a rejected caller (`sound:…`); `null`: hung up at once.
    pub reject_announcement: Option<String>,
    /// The version to send as `expectedVersion` (0: never changed, the environment's values).
    pub version: i64,
    /// When an admin last changed them (`null`: the environment's values).
    pub updated_at: Option<DateTime<Utc>>,
}

/// The due allowance per priority and the due-soon cap given to requests opened from now on
/// (a request keeps the policy it was opened with).
#[derive(SimpleObject, Clone, Debug)]
pub struct RequestSettings {
    pub urgent_secs: i64,
    pub high_secs: i64,
    pub normal_secs: i64,
    pub low_secs: i64,
    /// `dueSoon` is raised when a quarter of the allowance remains, at most this long before
    /// the due date (0: never).
    pub due_soon_cap_secs: i64,
    /// The call center settings' version (shared with `serviceLevel`), for `expectedVersion`.
    pub version: i64,
    /// When an admin last changed them (`null`: the environment's values).
    pub updated_at: Option<DateTime<Utc>>,
}

/// The KPIs' service-level threshold T.
#[derive(SimpleObject, Clone, Debug)]
pub struct ServiceLevelSettings {
    /// A call counts as answered in time when answered within this many seconds.
    pub threshold_secs: i64,
    /// The call center settings' version (shared with `requests`), for `expectedVersion`.
    pub version: i64,
    /// When an admin last changed it (`null`: the environment's value).
    pub updated_at: Option<DateTime<Utc>>,
}

/// Every setting admins change while the server runs.
#[derive(SimpleObject, Clone, Debug)]
pub struct Settings {
    /// Per queue (today the one `default` queue).
    pub queues: Vec<QueueConfiguration>,
    pub requests: RequestSettings,
    pub service_level: ServiceLevelSettings,
}

fn queue_view(snapshot: &Snapshot, queue_id: &str) -> QueueConfiguration {
    let values = snapshot.queue(queue_id);
    let stored = snapshot.queues.get(queue_id);
    QueueConfiguration {
        queue_id: queue_id.to_owned(),
        offer_timeout_secs: int(values.offer_timeout_secs),
        wrap_up_secs: int(values.wrap_up_secs),
        max_wait_secs: int(values.max_wait_secs),
        max_queue_length: int(values.max_queue_length),
        reject_announcement: values.reject_announcement,
        version: stored.map_or(0, |stored| stored.version),
        updated_at: stored.and_then(|stored| stored.aggregate.updated_at()),
    }
}

fn requests_view(snapshot: &Snapshot) -> RequestSettings {
    let policy = snapshot.request_policy();
    RequestSettings {
        urgent_secs: int(policy.urgent_secs),
        high_secs: int(policy.high_secs),
        normal_secs: int(policy.normal_secs),
        low_secs: int(policy.low_secs),
        due_soon_cap_secs: int(policy.due_soon_threshold_secs),
        version: snapshot.center.version,
        updated_at: snapshot.center.aggregate.requests_updated_at(),
    }
}

fn service_level_view(snapshot: &Snapshot) -> ServiceLevelSettings {
    ServiceLevelSettings {
        threshold_secs: int(snapshot.service_level_threshold_secs()),
        version: snapshot.center.version,
        updated_at: snapshot.center.aggregate.service_level_updated_at(),
    }
}

/// A queue's new settings (all of them; `queueId` absent: `default`).
#[derive(InputObject)]
pub struct QueueSettingsInput {
    pub queue_id: Option<String>,
    /// 1 to 600.
    pub offer_timeout_secs: i64,
    /// 0 to 3600.
    pub wrap_up_secs: i64,
    /// 1 to 86400.
    pub max_wait_secs: i64,
    /// 0 to 100000.
    pub max_queue_length: i64,
    /// An ARI media URI (`sound:vm-nobodyavail`); `null`: hang up rejected callers at once.
    pub reject_announcement: Option<String>,
}

/// The new request policy (all of it), in seconds.
#[derive(InputObject)]
pub struct RequestSettingsInput {
    /// Each allowance: 60 s to a year.
    pub urgent_secs: i64,
    pub high_secs: i64,
    pub normal_secs: i64,
    pub low_secs: i64,
    /// 0 to a year.
    pub due_soon_cap_secs: i64,
}

#[derive(Default)]
pub struct SettingsQuery;

#[Object]
impl SettingsQuery {
    /// The settings in force (admins): per queue, the request allowances, the KPIs'
    /// threshold T. Values nobody changed are the server's environment's (version 0).
    async fn settings(&self, context: &Context<'_>) -> Result<Settings, ApiError> {
        require_admin(context)?;
        let app = state(context)?;
        app.settings.refresh(&app.store).await?;
        let snapshot = app.settings.snapshot();
        Ok(Settings {
            queues: snapshot
                .queue_ids()
                .iter()
                .map(|id| queue_view(&snapshot, id))
                .collect(),
            requests: requests_view(&snapshot),
            service_level: service_level_view(&snapshot),
        })
    }
}

#[derive(Default)]
pub struct SettingsMutation;

#[Object]
impl SettingsMutation {
    /// Sets a queue's settings (admins), in force at once on every instance: new offers ring
    /// for the new timeout, arrivals meet the new max length, waiting calls the new max wait.
    /// The same values again: no event, the same version.
    async fn update_queue_settings(
        &self,
        context: &Context<'_>,
        input: QueueSettingsInput,
        expected_version: Option<i64>,
    ) -> Result<QueueConfiguration, ApiError> {
        let me = require_admin(context)?;
        let queue_id = input
            .queue_id
            .as_deref()
            .map(str::trim)
            .unwrap_or(DEFAULT_QUEUE)
            .to_owned();
        if queue_id != DEFAULT_QUEUE {
            return Err(ApiError::validation(
                "queueId",
                format!("unknown queue (there is one queue: {DEFAULT_QUEUE})"),
            ));
        }
        let values = QueueValues {
            offer_timeout_secs: non_negative(input.offer_timeout_secs, "offerTimeoutSecs")?,
            wrap_up_secs: non_negative(input.wrap_up_secs, "wrapUpSecs")?,
            max_wait_secs: non_negative(input.max_wait_secs, "maxWaitSecs")?,
            max_queue_length: non_negative(input.max_queue_length, "maxQueueLength")?,
            reject_announcement: input
                .reject_announcement
                .map(|media| media.trim().to_owned())
                .filter(|media| !media.is_empty()),
        };
        let app = state(context)?;
        let committed = app
            .store
            .execute::<QueueSettings>(
                &queue_id,
                QueueSettingsCommand::Update {
                    values,
                    at: crate::platform::clock::now(),
                },
                &(),
                &metadata(context, &me),
                expected_version,
            )
            .await
            .map_err(settings_error)?;
        app.settings
            .record_queue(&queue_id, committed.aggregate, committed.version);
        Ok(queue_view(&app.settings.snapshot(), &queue_id))
    }

    /// Sets the due allowances per priority and the due-soon cap (admins) given to requests
    /// opened from now on; open requests keep theirs. The same values again: no event.
    async fn update_request_settings(
        &self,
        context: &Context<'_>,
        input: RequestSettingsInput,
        expected_version: Option<i64>,
    ) -> Result<RequestSettings, ApiError> {
        let me = require_admin(context)?;
        let policy = SlaPolicy {
            urgent_secs: non_negative(input.urgent_secs, "urgentSecs")?,
            high_secs: non_negative(input.high_secs, "highSecs")?,
            normal_secs: non_negative(input.normal_secs, "normalSecs")?,
            low_secs: non_negative(input.low_secs, "lowSecs")?,
            due_soon_threshold_secs: non_negative(input.due_soon_cap_secs, "dueSoonCapSecs")?,
        };
        let app = state(context)?;
        let committed = app
            .store
            .execute::<CenterSettings>(
                CENTER_SETTINGS_ID,
                CenterSettingsCommand::UpdateRequestSettings {
                    policy,
                    at: crate::platform::clock::now(),
                },
                &(),
                &metadata(context, &me),
                expected_version,
            )
            .await
            .map_err(settings_error)?;
        app.settings
            .record_center(committed.aggregate, committed.version);
        Ok(requests_view(&app.settings.snapshot()))
    }

    /// Sets the KPIs' service-level threshold T, in seconds (admins; 1 to 3600): `kpis`
    /// answers with it from now on, for any range. The same value again: no event.
    async fn update_service_level_threshold(
        &self,
        context: &Context<'_>,
        threshold_secs: i64,
        expected_version: Option<i64>,
    ) -> Result<ServiceLevelSettings, ApiError> {
        let me = require_admin(context)?;
        let threshold_secs = non_negative(threshold_secs, "thresholdSecs")?;
        let app = state(context)?;
        let committed = app
            .store
            .execute::<CenterSettings>(
                CENTER_SETTINGS_ID,
                CenterSettingsCommand::UpdateServiceLevelThreshold {
                    threshold_secs,
                    at: crate::platform::clock::now(),
                },
                &(),
                &metadata(context, &me),
                expected_version,
            )
            .await
            .map_err(settings_error)?;
        app.settings
            .record_center(committed.aggregate, committed.version);
        Ok(service_level_view(&app.settings.snapshot()))
    }
}
