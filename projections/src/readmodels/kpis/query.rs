//! The query side of the `kpis` read model: KPIs of any range in buckets of any time zone,
//! read from the tables the write side (`kpis.rs`) keeps.

use super::*;

/// The size of a KPI bucket, read in a time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BucketSize {
    Hour,
    Day,
    Month,
}

/// What [`kpis`] counts.
#[derive(Clone, Debug, Default)]
pub struct KpiFilters {
    /// Only calls of this queue (requests and occupancy have no queue).
    pub queue: Option<String>,
    /// Only calls answered by this agent, and this agent's occupancy (the request totals stay
    /// global: [`agent_request_totals`] gives the agent's).
    pub agent: Option<Uuid>,
}

/// The KPIs of one bucket `[start, end)` (the first and last are clipped to the range).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KpiBucket {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Calls queued in the bucket (threshold of the service level: the one asked, 20 s by
    /// default).
    pub calls: KpiTotals,
    pub requests: RequestTotals,
    /// Summed over the agents (one agent with [`KpiFilters::agent`]).
    pub occupancy: OccupancyTotals,
}

/// Why [`kpis`] failed.
#[derive(Debug, thiserror::Error)]
pub enum KpiError {
    #[error("the range holds more than {0} buckets")]
    TooManyBuckets(usize),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// The most buckets one [`kpis`] call returns.
pub const MAX_BUCKETS: usize = 20_000;

/// The start of the `size` bucket of `zone` holding `instant`.
pub fn bucket_floor(instant: DateTime<Utc>, size: BucketSize, zone: Tz) -> DateTime<Utc> {
    let local = instant.with_timezone(&zone);
    match size {
        BucketSize::Hour => {
            let into_hour = i64::from(local.minute()) * 60 + i64::from(local.second());
            let whole = instant
                .duration_trunc(TimeDelta::seconds(1))
                .unwrap_or(instant);
            whole - TimeDelta::seconds(into_hour)
        }
        BucketSize::Day => local_midnight(zone, local.date_naive()),
        BucketSize::Month => local_midnight(
            zone,
            local.date_naive().with_day(1).unwrap_or(local.date_naive()),
        ),
    }
}

/// The start of the bucket after the one starting at `start`.
pub fn next_bucket(start: DateTime<Utc>, size: BucketSize, zone: Tz) -> DateTime<Utc> {
    let local = start.with_timezone(&zone).date_naive();
    match size {
        BucketSize::Hour => bucket_floor(start + TimeDelta::hours(1), size, zone).max(start + SLOT),
        BucketSize::Day => local_midnight(zone, local.succ_opt().unwrap_or(local)),
        BucketSize::Month => {
            let (year, month) = if local.month() == 12 {
                (local.year() + 1, 1)
            } else {
                (local.year(), local.month() + 1)
            };
            local_midnight(
                zone,
                NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(local),
            )
        }
    }
}

/// The first instant of `date` in `zone` (midnight, or the end of a DST gap at midnight).
fn local_midnight(zone: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    let mut wall = midnight;
    for _ in 0..(4 * 24) {
        if let Some(instant) = zone.from_local_datetime(&wall).earliest() {
            return instant.with_timezone(&Utc);
        }
        wall += SLOT;
    }
    Utc.from_utc_datetime(&midnight)
}

/// A bucket's summed `kpi_slot_totals` columns (in table order); first the 1-based bucket
/// number.
type SummedBucket = (
    i32,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
);

/// The sums of [`SummedBucket`], per bucket (`width_bucket` over the sorted bucket starts in
/// `$3` gives the 1-based bucket holding a slot).
const SUM_SLOT_TOTALS: &str = "SELECT width_bucket(slot_start, $3::timestamptz[]) AS i, \
        sum(offered)::bigint, sum(answered)::bigint, sum(abandoned)::bigint, \
        sum(abandoned_short)::bigint, sum(answered_within_threshold)::bigint, \
        sum(abandoned_after_threshold)::bigint, sum(answered_wait_ms)::bigint, \
        sum(handled)::bigint, sum(handle_ms)::bigint, sum(requests_opened)::bigint, \
        sum(requests_solved)::bigint, sum(requests_solved_within_due)::bigint, \
        sum(busy_ms)::bigint, sum(logged_in_ms)::bigint \
    FROM kpi_slot_totals WHERE slot_start >= $1 AND slot_start < $2 GROUP BY 1";

/// Like [`SUM_SLOT_TOTALS`], with the call columns from `kpi_call_buckets` filtered by queue
/// (`$4`) and answering agent (`$5`).
const SUM_FILTERED: &str = "WITH c AS ( \
         SELECT width_bucket(bucket_start, $3::timestamptz[]) AS i, \
                sum(offered)::bigint AS offered, sum(answered)::bigint AS answered, \
                sum(abandoned)::bigint AS abandoned, \
                sum(abandoned_short)::bigint AS abandoned_short, \
                sum(answered_within_threshold)::bigint AS within, \
                sum(abandoned_after_threshold)::bigint AS after_threshold, \
                sum(answered_wait_ms)::bigint AS wait_ms, sum(handled)::bigint AS handled, \
                sum(handle_ms)::bigint AS handle_ms \
         FROM kpi_call_buckets \
         WHERE bucket_start >= $1 AND bucket_start < $2 \
           AND ($4::text IS NULL OR queue = $4) AND ($5::uuid IS NULL OR agent_id = $5) \
         GROUP BY 1), \
     s AS ( \
         SELECT width_bucket(slot_start, $3::timestamptz[]) AS i, \
                sum(requests_opened)::bigint AS opened, sum(requests_solved)::bigint AS solved, \
                sum(requests_solved_within_due)::bigint AS solved_within_due, \
                sum(busy_ms)::bigint AS busy_ms, sum(logged_in_ms)::bigint AS logged_in_ms \
         FROM kpi_slot_totals WHERE slot_start >= $1 AND slot_start < $2 \
         GROUP BY 1) \
     SELECT i, coalesce(offered, 0), coalesce(answered, 0), coalesce(abandoned, 0), \
            coalesce(abandoned_short, 0), coalesce(within, 0), \
            coalesce(after_threshold, 0), coalesce(wait_ms, 0), coalesce(handled, 0), \
            coalesce(handle_ms, 0), coalesce(opened, 0), coalesce(solved, 0), \
            coalesce(solved_within_due, 0), coalesce(busy_ms, 0), coalesce(logged_in_ms, 0) \
     FROM c FULL JOIN s USING (i)";

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// The service level's two counts per bucket for a threshold T other than the one the buckets
/// were projected with (`$4`, in seconds), from `kpi_call_facts` (index on `queued_at`),
/// filtered by queue (`$5`) and answering agent (`$6`) as the edges are.
const COUNT_WITHIN_THRESHOLD: &str = "SELECT width_bucket(queued_at, $3::timestamptz[]) AS i, \
        (count(*) FILTER (WHERE connected_at IS NOT NULL \
            AND extract(epoch FROM connected_at - queued_at)::float8 <= $4::float8))::bigint, \
        (count(*) FILTER (WHERE connected_at IS NULL AND abandoned_at IS NOT NULL \
            AND extract(epoch FROM abandoned_at - queued_at)::float8 > $4::float8))::bigint \
    FROM kpi_call_facts \
    WHERE queued_at >= $1 AND queued_at < $2 \
      AND ($5::text IS NULL OR queue = $5) \
      AND ($6::uuid IS NULL OR coalesce(agent_id, '00000000-0000-0000-0000-000000000000') = $6) \
    GROUP BY 1";

/// KPIs of `[from, until)` in `bucket`s of `zone` (PRODUCT §8), with the default service-level
/// threshold T (20 s). See [`kpis_with_threshold`].
pub async fn kpis(
    pool: &PgPool,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    bucket: BucketSize,
    zone: Tz,
    filters: &KpiFilters,
) -> Result<Vec<KpiBucket>, KpiError> {
    kpis_with_threshold(
        pool,
        from,
        until,
        bucket,
        zone,
        filters,
        DEFAULT_SERVICE_LEVEL_THRESHOLD,
    )
    .await
}

/// KPIs of `[from, until)` in `bucket`s of `zone` (PRODUCT §8), the service level with
/// threshold `threshold` (T, admin-configurable). Exact for any range: whole 15-minute slots
/// come from the buckets, the unaligned edges from the facts tables. The buckets hold the
/// service level's counts for the default T (20 s); with another T those two counts of the
/// whole slots are counted from `kpi_call_facts` instead (one more indexed query).
pub async fn kpis_with_threshold(
    pool: &PgPool,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    bucket: BucketSize,
    zone: Tz,
    filters: &KpiFilters,
    threshold: TimeDelta,
) -> Result<Vec<KpiBucket>, KpiError> {
    let projected_threshold = threshold == DEFAULT_SERVICE_LEVEL_THRESHOLD;
    let mut buckets: Vec<KpiBucket> = Vec::new();
    let mut start = bucket_floor(from, bucket, zone);
    while start < until {
        if buckets.len() >= MAX_BUCKETS {
            return Err(KpiError::TooManyBuckets(MAX_BUCKETS));
        }
        let end = next_bucket(start, bucket, zone);
        buckets.push(KpiBucket {
            start: start.max(from),
            end: end.min(until),
            calls: KpiTotals::default(),
            requests: RequestTotals::default(),
            occupancy: OccupancyTotals::default(),
        });
        start = end;
    }
    if buckets.is_empty() {
        return Ok(buckets);
    }
    let index_of = |buckets: &[KpiBucket], instant: DateTime<Utc>| {
        buckets
            .partition_point(|bucket| bucket.start <= instant)
            .checked_sub(1)
    };
    let aligned_from = slot_ceil(from);
    let aligned_until = slot_of(until);
    let mut edges = Vec::new();
    if from < aligned_from.min(until) {
        edges.push((from, aligned_from.min(until)));
    }
    let tail_start = aligned_until.max(aligned_from);
    if tail_start < until {
        edges.push((tail_start, until));
    }

    // The buckets as arrays, so SQL assigns rows to them (`width_bucket` over the sorted
    // starts gives the 1-based bucket holding an instant) and returns one row per bucket.
    let starts: Vec<DateTime<Utc>> = buckets.iter().map(|bucket| bucket.start).collect();
    let count = buckets.len();
    let bucket_at = |number: i32| {
        usize::try_from(number)
            .ok()
            .and_then(|number| number.checked_sub(1))
            .filter(|index| *index < count)
    };

    // Whole slots, summed per bucket in one statement: calls, requests and the closed
    // intervals' occupancy from `kpi_slot_totals` (the calls from `kpi_call_buckets` when
    // filtered; an agent's occupancy is taken from the intervals below).
    let filtered = filters.queue.is_some() || filters.agent.is_some();
    if aligned_from < aligned_until {
        let statement = if filtered {
            sqlx::query_as(SUM_FILTERED)
        } else {
            sqlx::query_as(SUM_SLOT_TOTALS)
        }
        .bind(aligned_from)
        .bind(aligned_until)
        .bind(&starts);
        let statement = if filtered {
            statement.bind(filters.queue.clone()).bind(filters.agent)
        } else {
            statement
        };
        let rows: Vec<SummedBucket> = statement.fetch_all(pool).await?;
        for row in rows {
            if let Some(index) = bucket_at(row.0) {
                let bucket = &mut buckets[index];
                bucket.calls += KpiTotals {
                    offered: to_u64(row.1),
                    answered: to_u64(row.2),
                    abandoned: to_u64(row.3),
                    abandoned_short: to_u64(row.4),
                    // Counted below from the facts when T is not the projected one.
                    answered_within_threshold: if projected_threshold {
                        to_u64(row.5)
                    } else {
                        0
                    },
                    abandoned_after_threshold: if projected_threshold {
                        to_u64(row.6)
                    } else {
                        0
                    },
                    answered_wait_ms: to_u64(row.7),
                    handled: to_u64(row.8),
                    handle_ms: to_u64(row.9),
                };
                bucket.requests = bucket.requests
                    + RequestTotals {
                        opened: to_u64(row.10),
                        solved: to_u64(row.11),
                        solved_within_due: to_u64(row.12),
                    };
                if filters.agent.is_none() {
                    bucket.occupancy = bucket.occupancy
                        + OccupancyTotals {
                            busy_ms: to_u64(row.13),
                            logged_in_ms: to_u64(row.14),
                        };
                }
            }
        }
    }

    if aligned_from < aligned_until && !projected_threshold {
        let seconds = threshold.num_milliseconds() as f64 / 1000.0;
        let rows: Vec<(i32, i64, i64)> = sqlx::query_as(COUNT_WITHIN_THRESHOLD)
            .bind(aligned_from)
            .bind(aligned_until)
            .bind(&starts)
            .bind(seconds)
            .bind(filters.queue.clone())
            .bind(filters.agent)
            .fetch_all(pool)
            .await?;
        for (number, within, after) in rows {
            if let Some(index) = bucket_at(number) {
                let calls = &mut buckets[index].calls;
                calls.answered_within_threshold += to_u64(within);
                calls.abandoned_after_threshold += to_u64(after);
            }
        }
    }

    // Calls and requests of the unaligned edges (at most two), from the facts.
    if !edges.is_empty() {
        let (first, second) = (edges[0], *edges.last().unwrap_or(&edges[0]));
        let facts: Vec<serde_json::Value> = sqlx::query_scalar(
            "SELECT to_jsonb(f) FROM kpi_call_facts f \
             WHERE ((queued_at >= $1 AND queued_at < $2) OR (queued_at >= $3 AND queued_at < $4)) \
               AND ($5::text IS NULL OR queue = $5) \
               AND ($6::uuid IS NULL OR coalesce(agent_id, '00000000-0000-0000-0000-000000000000') = $6)",
        )
        .bind(first.0)
        .bind(first.1)
        .bind(second.0)
        .bind(second.1)
        .bind(filters.queue.clone())
        .bind(filters.agent)
        .fetch_all(pool)
        .await?;
        for value in facts {
            let Ok(row) = serde_json::from_value::<CallFactsRow>(value) else {
                continue;
            };
            if let (Some(facts), Some(queued_at)) = (row.facts(), row.queued_at) {
                if let Some(index) = index_of(&buckets, queued_at) {
                    buckets[index].calls += KpiTotals::of_call(&facts, threshold);
                }
            }
        }
        let facts: Vec<serde_json::Value> = sqlx::query_scalar(
            "SELECT to_jsonb(f) FROM kpi_request_facts f \
             WHERE (opened_at >= $1 AND opened_at < $2) OR (solved_at >= $1 AND solved_at < $2) \
                OR (opened_at >= $3 AND opened_at < $4) OR (solved_at >= $3 AND solved_at < $4)",
        )
        .bind(first.0)
        .bind(first.1)
        .bind(second.0)
        .bind(second.1)
        .fetch_all(pool)
        .await?;
        let facts: Vec<RequestFacts> = facts
            .into_iter()
            .filter_map(|value| serde_json::from_value::<RequestFactsRow>(value).ok())
            .filter_map(|row| row.facts())
            .collect();
        for &(edge_from, edge_until) in &edges {
            if let Some(index) = index_of(&buckets, edge_from) {
                buckets[index].requests = buckets[index].requests
                    + RequestTotals::in_range(&facts, edge_from, edge_until);
            }
        }
    }

    // Occupancy: with an agent, every interval of that agent in the range; else the current
    // (open) intervals, which are in no slot yet, and the closed ones overlapping the edges.
    let intervals: Vec<(String, DateTime<Utc>, Option<DateTime<Utc>>)> = match filters.agent {
        Some(agent) => {
            sqlx::query_as(
                "SELECT activity, started_at, ended_at FROM agent_state_intervals \
                 WHERE worker_id = $3 AND started_at < $2 AND (ended_at IS NULL OR ended_at > $1)",
            )
            .bind(from)
            .bind(until)
            .bind(agent)
            .fetch_all(pool)
            .await?
        }
        None => {
            let (first, second) = match edges.as_slice() {
                [] => ((from, from), (from, from)),
                [only] => (*only, *only),
                [first, .., last] => (*first, *last),
            };
            sqlx::query_as(
                "SELECT activity, started_at, ended_at FROM agent_state_intervals \
                 WHERE ended_at IS NULL AND started_at < $1 \
                 UNION ALL \
                 SELECT activity, started_at, ended_at FROM agent_state_intervals \
                 WHERE ended_at IS NOT NULL AND activity <> 'offline' \
                   AND (tstzrange(started_at, ended_at) && tstzrange($2, $3) \
                        OR tstzrange(started_at, ended_at) && tstzrange($4, $5))",
            )
            .bind(until)
            .bind(first.0)
            .bind(first.1)
            .bind(second.0)
            .bind(second.1)
            .fetch_all(pool)
            .await?
        }
    };
    let now = Utc::now();
    let whole_range = [(from, until)];
    for (activity, started_at, ended_at) in intervals {
        let interval = StateInterval {
            activity: activity_from(&activity),
            start: started_at,
            end: ended_at.unwrap_or(now.max(started_at)),
        };
        // The windows this interval is counted in: all of the range, or only its edges.
        let windows: &[(DateTime<Utc>, DateTime<Utc>)] =
            if filters.agent.is_some() || ended_at.is_none() {
                &whole_range
            } else {
                &edges
            };
        for (window_from, window_until) in windows {
            let (window_from, window_until) = (*window_from, *window_until);
            let mut index = index_of(&buckets, interval.start.max(window_from)).unwrap_or(0);
            while index < buckets.len() && buckets[index].start < interval.end.min(window_until) {
                let bucket = &mut buckets[index];
                bucket.occupancy = bucket.occupancy
                    + OccupancyTotals::in_range(
                        [&interval],
                        bucket.start.max(window_from),
                        bucket.end.min(window_until),
                    );
                index += 1;
            }
        }
    }
    Ok(buckets)
}

/// Replaces the request totals of `buckets` (as returned by [`kpis`]) by those of the requests
/// assigned to `agent`. The KPI tables do not key requests by agent (a request's assignee
/// changes after it is counted), so these come from the `requests` read model, with the
/// definitions of [`RequestTotals::in_range`] (`domain::policy::kpi`): a request counts for the
/// agent who is its assignee now; `opened` when its `opened_at` is in the bucket, `solved` when
/// its last solve (`solved_at`, cleared by a reopen) is, and `solved within due` when that solve
/// is at or before its current due date. Index: `requests_assignee`.
pub async fn agent_request_totals(
    pool: &PgPool,
    agent: Uuid,
    buckets: &mut [KpiBucket],
) -> Result<(), sqlx::Error> {
    let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
        return Ok(());
    };
    let (from, until) = (first.start, last.end);
    // (opened_at, due_at, solved_at)
    type Dates = (DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>);
    let rows: Vec<Dates> = sqlx::query_as(
        "SELECT opened_at, due_at, solved_at FROM requests \
         WHERE assignee = $1 \
           AND ((opened_at >= $2 AND opened_at < $3) OR (solved_at >= $2 AND solved_at < $3))",
    )
    .bind(agent)
    .bind(from)
    .bind(until)
    .fetch_all(pool)
    .await?;
    for bucket in buckets.iter_mut() {
        bucket.requests = RequestTotals::default();
    }
    let index_of = |buckets: &[KpiBucket], instant: DateTime<Utc>| {
        (from <= instant && instant < until)
            .then(|| buckets.partition_point(|bucket| bucket.start <= instant))
            .and_then(|after| after.checked_sub(1))
    };
    for (opened_at, due_at, solved_at) in rows {
        let facts = RequestFacts {
            opened_at,
            due_at: Some(due_at),
            solved_at,
            open_or_pending: false,
        };
        let mut indexes = vec![index_of(buckets, opened_at)];
        if let Some(solved_at) = solved_at {
            indexes.push(index_of(buckets, solved_at));
        }
        indexes.dedup();
        for index in indexes.into_iter().flatten() {
            let bucket = &mut buckets[index];
            bucket.requests =
                bucket.requests + RequestTotals::in_range([&facts], bucket.start, bucket.end);
        }
    }
    Ok(())
}

/// Requests open or pending whose due date passed before `now` (PRODUCT §8 "overdue now").
pub async fn overdue_now(pool: &PgPool, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM requests WHERE status IN ('open', 'pending') AND due_at < $1",
    )
    .bind(now)
    .fetch_one(pool)
    .await
}

/// Like [`overdue_now`], of the requests assigned to `agent`.
pub async fn overdue_now_of(
    pool: &PgPool,
    now: DateTime<Utc>,
    agent: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM requests \
         WHERE status IN ('open', 'pending') AND due_at < $1 AND assignee = $2",
    )
    .bind(now)
    .bind(agent)
    .fetch_one(pool)
    .await
}
