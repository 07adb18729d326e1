//! `kpis(from, until, bucket, timeZone)` (PRODUCT §8, admins): the KPIs of any range in hour,
//! day or month buckets of an IANA time zone, from the `kpis` read model.

use std::str::FromStr as _;

use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use projections::readmodels::kpis::{self, BucketSize, KpiBucket, KpiError, KpiFilters};

use super::context::{parse_id, require_admin, state};
use super::error::ApiError;

/// The size of a KPI bucket.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KpiBucketSize {
    Hour,
    Day,
    Month,
}

impl From<KpiBucketSize> for BucketSize {
    fn from(value: KpiBucketSize) -> Self {
        match value {
            KpiBucketSize::Hour => BucketSize::Hour,
            KpiBucketSize::Day => BucketSize::Day,
            KpiBucketSize::Month => BucketSize::Month,
        }
    }
}

/// The KPIs of one bucket `[start, end)` (the first and last are clipped to the range).
/// Rates and means are `null` when they have nothing to divide by.
#[derive(SimpleObject, Clone, Debug)]
pub struct KpiBucketView {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Calls queued.
    pub offered: i64,
    /// Calls connected.
    pub answered: i64,
    pub abandoned: i64,
    /// Abandoned within 5 s (reported apart).
    pub abandoned_short: i64,
    /// Average speed of answer, seconds.
    pub asa_secs: Option<f64>,
    /// Average handle time (talk + wrap-up), seconds.
    pub aht_secs: Option<f64>,
    /// Answered within T / (answered + abandoned after T) × 100 (T: the report's
    /// `serviceLevelThresholdSecs`, 20 s by default).
    pub service_level: Option<f64>,
    /// Abandoned / offered × 100.
    pub abandonment_rate: Option<f64>,
    /// Time on call or in wrap-up / time logged in × 100.
    pub occupancy: Option<f64>,
    /// Requests opened in the bucket (with `agentId`: of those assigned to the agent now).
    pub requests_opened: i64,
    /// Requests whose last solve is in the bucket (reopened ones do not count; with `agentId`:
    /// of those assigned to the agent now).
    pub requests_solved: i64,
    /// Of `requestsSolved`, those solved at or before their current due date.
    pub requests_solved_within_due: i64,
}

fn count(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl From<KpiBucket> for KpiBucketView {
    fn from(bucket: KpiBucket) -> Self {
        let calls = bucket.calls;
        Self {
            start: bucket.start,
            end: bucket.end,
            offered: count(calls.offered),
            answered: count(calls.answered),
            abandoned: count(calls.abandoned),
            abandoned_short: count(calls.abandoned_short),
            asa_secs: calls.asa_secs(),
            aht_secs: calls.aht_secs(),
            service_level: calls.service_level_percent(),
            abandonment_rate: calls.abandonment_rate_percent(),
            occupancy: bucket.occupancy.occupancy_percent(),
            requests_opened: count(bucket.requests.opened),
            requests_solved: count(bucket.requests.solved),
            requests_solved_within_due: count(bucket.requests.solved_within_due),
        }
    }
}

/// The answer of `kpis`.
#[derive(SimpleObject, Clone, Debug)]
pub struct KpiReport {
    pub time_zone: String,
    pub bucket: KpiBucketSize,
    pub buckets: Vec<KpiBucketView>,
    /// The service level's threshold T used, in seconds (`updateServiceLevelThreshold`).
    pub service_level_threshold_secs: i64,
    /// Open or pending requests past their due date now (with `agentId`: assigned to the
    /// agent).
    pub overdue_now: i64,
}

#[derive(Default)]
pub struct KpiQuery;

#[Object]
impl KpiQuery {
    /// KPIs of `[from, until)` (admins). `timeZone` is an IANA name (`Europe/Paris`); buckets
    /// follow its calendar, DST included. Optional filters: one queue (calls only), one agent
    /// (calls answered by them, their occupancy, and the requests assigned to them now).
    #[allow(clippy::too_many_arguments)]
    async fn kpis(
        &self,
        context: &Context<'_>,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        bucket: KpiBucketSize,
        time_zone: String,
        queue: Option<String>,
        agent_id: Option<ID>,
    ) -> Result<KpiReport, ApiError> {
        require_admin(context)?;
        let zone = Tz::from_str(time_zone.trim())
            .map_err(|_| ApiError::validation("timeZone", "is not an IANA time zone"))?;
        if until <= from {
            return Err(ApiError::validation("until", "must be after from"));
        }
        let filters = KpiFilters {
            queue: queue.filter(|queue| !queue.trim().is_empty()),
            agent: agent_id
                .as_ref()
                .map(|id| parse_id(id, "agentId"))
                .transpose()?,
        };
        let app = state(context)?;
        let pool = &app.pool;
        // T in force now (admins change it): every range asked from now on uses it.
        let threshold_secs = app.settings.snapshot().service_level_threshold_secs();
        let threshold = chrono::TimeDelta::seconds(i64::from(threshold_secs));
        let mut buckets =
            kpis::kpis_with_threshold(pool, from, until, bucket.into(), zone, &filters, threshold)
                .await
                .map_err(|error| match error {
                    KpiError::TooManyBuckets(most) => ApiError::validation(
                        "bucket",
                        format!("the range holds more than {most} buckets"),
                    ),
                    KpiError::Database(error) => error.into(),
                })?;
        // With an agent, the request figures are those of the requests assigned to them now.
        let overdue_now = match filters.agent {
            Some(agent) => {
                kpis::agent_request_totals(pool, agent, &mut buckets).await?;
                kpis::overdue_now_of(pool, Utc::now(), agent).await?
            }
            None => kpis::overdue_now(pool, Utc::now()).await?,
        };
        Ok(KpiReport {
            service_level_threshold_secs: i64::from(threshold_secs),
            time_zone: zone.name().to_owned(),
            bucket,
            buckets: buckets.into_iter().map(Into::into).collect(),
            overdue_now,
        })
    }
}
