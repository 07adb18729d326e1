-- kpis: one row of totals per 15-minute UTC slot, so a range's whole slots are summed from
-- ~96 rows a day whatever the number of calls, queues, agents or state intervals (BENCHMARKS.md,
-- P4). Maintained by the `kpis` projection; the backfill below derives it from the tables the
-- projection already filled (the same numbers it would have added).
CREATE TABLE kpi_slot_totals (
    slot_start                 TIMESTAMPTZ PRIMARY KEY,
    offered                    BIGINT NOT NULL,
    answered                   BIGINT NOT NULL,
    abandoned                  BIGINT NOT NULL,
    abandoned_short            BIGINT NOT NULL,
    answered_within_threshold  BIGINT NOT NULL,
    abandoned_after_threshold  BIGINT NOT NULL,
    answered_wait_ms           BIGINT NOT NULL,
    handled                    BIGINT NOT NULL,
    handle_ms                  BIGINT NOT NULL,
    requests_opened            BIGINT NOT NULL,
    requests_solved            BIGINT NOT NULL,
    requests_solved_within_due BIGINT NOT NULL,
    busy_ms                    BIGINT NOT NULL,
    logged_in_ms               BIGINT NOT NULL
);
COMMENT ON TABLE kpi_slot_totals IS 'Everything of one 15-minute UTC slot [slot_start, slot_start + 15 min): the kpi_call_buckets columns summed over queues and agents, the kpi_request_buckets columns (requests_*), and the occupancy of the CLOSED agent_state_intervals clipped to the slot, summed over workers (busy_ms: on_call|wrap_up, logged_in_ms: not offline; the current state of each worker is not in it). Sum any set of slots: occupancy = 100*busy_ms/logged_in_ms';
COMMENT ON COLUMN kpi_slot_totals.busy_ms IS 'Per closed interval and slot, whole milliseconds (truncated) in on_call or wrap_up';

-- kpis: the closed state intervals overlapping a range's unaligned edges (a range index: an
-- interval may start long before the edge).
CREATE INDEX agent_state_intervals_span ON agent_state_intervals
    USING gist (tstzrange(started_at, ended_at));

-- Backfill.
WITH pieces AS (
    SELECT slot AS slot_start,
           floor(extract(epoch FROM least(i.ended_at, slot + interval '15 minutes')
                                    - greatest(i.started_at, slot)) * 1000)::bigint AS ms,
           i.activity IN ('on_call', 'wrap_up') AS busy
    FROM agent_state_intervals i,
         generate_series(date_bin('15 minutes', i.started_at, timestamptz '2000-01-01 00:00:00+00'),
                         i.ended_at - interval '1 microsecond', interval '15 minutes') AS slot
    WHERE i.ended_at IS NOT NULL AND i.ended_at > i.started_at
      AND i.activity IN ('available', 'offered', 'on_call', 'wrap_up', 'paused')
),
occupancy AS (
    SELECT slot_start, sum(CASE WHEN busy THEN ms ELSE 0 END) AS busy_ms, sum(ms) AS logged_in_ms
    FROM pieces WHERE ms > 0 GROUP BY slot_start
),
calls AS (
    SELECT bucket_start AS slot_start, sum(offered) AS offered, sum(answered) AS answered,
           sum(abandoned) AS abandoned, sum(abandoned_short) AS abandoned_short,
           sum(answered_within_threshold) AS answered_within_threshold,
           sum(abandoned_after_threshold) AS abandoned_after_threshold,
           sum(answered_wait_ms) AS answered_wait_ms, sum(handled) AS handled,
           sum(handle_ms) AS handle_ms
    FROM kpi_call_buckets GROUP BY bucket_start
)
INSERT INTO kpi_slot_totals
SELECT slot_start,
       coalesce(c.offered, 0), coalesce(c.answered, 0), coalesce(c.abandoned, 0),
       coalesce(c.abandoned_short, 0), coalesce(c.answered_within_threshold, 0),
       coalesce(c.abandoned_after_threshold, 0), coalesce(c.answered_wait_ms, 0),
       coalesce(c.handled, 0), coalesce(c.handle_ms, 0),
       coalesce(r.opened, 0), coalesce(r.solved, 0), coalesce(r.solved_within_due, 0),
       coalesce(o.busy_ms, 0), coalesce(o.logged_in_ms, 0)
FROM calls c
FULL JOIN (SELECT bucket_start AS slot_start, opened, solved, solved_within_due
           FROM kpi_request_buckets) r USING (slot_start)
FULL JOIN occupancy o USING (slot_start);
DELETE FROM kpi_slot_totals
WHERE offered = 0 AND answered = 0 AND abandoned = 0 AND abandoned_short = 0
  AND answered_within_threshold = 0 AND abandoned_after_threshold = 0 AND answered_wait_ms = 0
  AND handled = 0 AND handle_ms = 0 AND requests_opened = 0 AND requests_solved = 0
  AND requests_solved_within_due = 0 AND busy_ms = 0 AND logged_in_ms = 0;
