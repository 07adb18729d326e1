-- Every table and column of the public schema carries a COMMENT (`\d+ name` in psql), written
-- for analysts: units, allowed values, what NULL means, how to join. The integration test
-- `schema_comments` fails when a table or column has none, so a new column needs its comment in
-- the migration that adds it. Comments set by earlier migrations are kept as they are.
-- Rebuilds keep them: shadow tables are created `LIKE ... INCLUDING ALL` (column comments) and the
-- swap copies the table comment.

-- ---- the event log ----
COMMENT ON COLUMN events.tx_id IS 'Id of the appending transaction (xid8); log order is (tx_id, position)';
COMMENT ON COLUMN events.event_id IS 'Unique id of the event; mail_outbox.event_id, and metadata->>''causation_id'' of the events it caused, refer to it';
COMMENT ON COLUMN events.aggregate_type IS 'worker | customer | call | request | backup_run';
COMMENT ON COLUMN events.aggregate_id IS 'UUID text of the aggregate: join e.g. calls ON calls.call_id::text = events.aggregate_id AND aggregate_type = ''call''';
COMMENT ON COLUMN events.sequence IS 'Number of the event within its aggregate, from 1 (the read models'' version columns hold the last one applied)';
COMMENT ON COLUMN events.event_type IS 'Event name, aggregate prefix included (CallQueued, RequestSolved, BackupRunSucceeded, ...)';
COMMENT ON COLUMN events.event_version IS 'Version of the payload shape of event_type (''1'', ''2''); older versions are upcast when read by the server';
COMMENT ON COLUMN events.payload IS 'Event fields, tagged by variant: {"<Variant>": {...}}, e.g. payload #>> ''{Queued,caller_number}''; times are RFC 3339 UTC';
COMMENT ON COLUMN events.metadata IS 'actor (worker:<uuid> | ingest_token:<uuid> | ari | system), correlation_id (shared by one outside request), causation_id (causing event or request id, optional)';
COMMENT ON COLUMN events.recorded_at IS 'Database clock when the row was inserted; the business time is the payload''s "at"';

COMMENT ON TABLE checkpoints IS 'How far each projection or process manager has read the log: the last event applied, (tx_id, position); lag = events after it';
COMMENT ON COLUMN checkpoints.name IS 'Projection (workers | customers | calls | queue | requests | backups | kpis) or process manager (mail_outbox)';
COMMENT ON COLUMN checkpoints.tx_id IS 'events.tx_id of the last event applied (0: nothing yet)';
COMMENT ON COLUMN checkpoints.position IS 'events.position of the last event applied (0: nothing yet); reading resumes after (tx_id, position)';
COMMENT ON COLUMN checkpoints.updated_at IS 'When the checkpoint last moved';

COMMENT ON COLUMN projection_versions.projection IS 'Projection name (workers | customers | calls | queue | requests | backups | kpis)';
COMMENT ON COLUMN projection_versions.aggregate_type IS 'events.aggregate_type';
COMMENT ON COLUMN projection_versions.aggregate_id IS 'events.aggregate_id';
COMMENT ON COLUMN projection_versions.sequence IS 'Last events.sequence of the aggregate the projection applied; events at or below it are skipped';

-- ---- workers ----
COMMENT ON COLUMN workers.worker_id IS 'Worker id (events.aggregate_id of aggregate_type ''worker''); calls.agent_id, call_offers.agent_id, requests.assignee and opened_by refer to it';
COMMENT ON COLUMN workers.name IS 'Display name';
COMMENT ON COLUMN workers.email IS 'Email (domain part lowercased); unique among workers';
COMMENT ON COLUMN workers.role IS 'admin | agent';
COMMENT ON COLUMN workers.endpoint IS 'Phone endpoint calls are offered to, TECH/resource (e.g. PJSIP/2001); NULL: none, cannot take calls';
COMMENT ON COLUMN workers.active IS 'false once deactivated (final: offline, cannot log in)';
COMMENT ON COLUMN workers.pause_reason IS 'Why paused: the agent''s text, or missed_offer | phone_unreachable set by routing; NULL unless state = paused';
COMMENT ON COLUMN workers.call_id IS 'The call offered to or connected with the worker (calls.call_id); NULL unless state is offered or on_call';
COMMENT ON COLUMN workers.wrap_up_until IS 'When the wrap-up time ends; NULL unless state = wrap_up';
COMMENT ON COLUMN workers.state_since IS 'When the worker entered the current state';
COMMENT ON COLUMN workers.calls_day IS 'UTC date that calls_today counts; NULL before the first answered call';
COMMENT ON COLUMN workers.registered_at IS 'When the worker was registered';

-- ---- customers ----
COMMENT ON COLUMN customers.customer_id IS 'Customer id (events.aggregate_id of aggregate_type ''customer''); the customer_id columns of other tables refer to it';
COMMENT ON COLUMN customers.name IS 'Name; NULL once erased';
COMMENT ON COLUMN customers.email IS 'Email; NULL when none or once erased';
COMMENT ON COLUMN customers.notes IS 'Free-text notes (may be empty); NULL once erased';
COMMENT ON COLUMN customers.avatar_url IS 'Avatar image URL; NULL when none or once erased';
COMMENT ON COLUMN customers.erased IS 'true once erased (GDPR): personal fields NULL, phone numbers gone, call numbers blanked';
COMMENT ON COLUMN customers.registered_at IS 'When the customer was registered';
COMMENT ON COLUMN customers.updated_at IS 'Last registration, profile update or erasure (backup plan and token events do not change it)';
COMMENT ON COLUMN customers.version IS 'Sequence of the last customer event applied';

COMMENT ON COLUMN customer_phones.number IS 'Phone number in E.164 (+33612345678); unique across customers';
COMMENT ON COLUMN customer_phones.customer_id IS 'customers.customer_id owning the number';

COMMENT ON COLUMN customer_requests.request_id IS 'requests.request_id';
COMMENT ON COLUMN customer_requests.customer_id IS 'customers.customer_id of the request';
COMMENT ON COLUMN customer_requests.active IS 'true while the request is open or pending, false once solved or closed';

-- ---- calls ----
COMMENT ON COLUMN calls.call_id IS 'Call id (events.aggregate_id of aggregate_type ''call''); call_offers, queue_calls, kpi_call_facts, requests and workers refer to it';
COMMENT ON COLUMN calls.caller_number IS 'Caller ID number as Asterisk reported it (not normalised); empty string once the customer is erased';
COMMENT ON COLUMN calls.caller_name IS 'Caller ID name; NULL when none or once the customer is erased';
COMMENT ON COLUMN calls.customer_id IS 'customers.customer_id matched by the caller''s number on arrival or linked later; NULL: unknown caller';
COMMENT ON COLUMN calls.channel_id IS 'Asterisk (ARI) channel id of the caller''s leg';
COMMENT ON COLUMN calls.queue IS 'Queue name (today always ''default'')';
COMMENT ON COLUMN calls.ended_by IS 'caller | agent | system; NULL unless status = ended';
COMMENT ON COLUMN calls.end_reason IS 'Why the system ended the call (ended_by = system only, free text); NULL otherwise';
COMMENT ON COLUMN calls.agent_id IS 'Agent who answered (workers.worker_id); NULL if never connected';
COMMENT ON COLUMN calls.attempts IS 'Offers made to agents (the highest call_offers.attempt); 0 if never offered';
COMMENT ON COLUMN calls.queued_at IS 'When the call entered the queue (the server''s clock)';
COMMENT ON COLUMN calls.connected_at IS 'When an agent answered; NULL if never connected';
COMMENT ON COLUMN calls.version IS 'Sequence of the last call event applied';

COMMENT ON COLUMN call_offers.call_id IS 'calls.call_id';
COMMENT ON COLUMN call_offers.attempt IS 'Offer number within the call, from 1';
COMMENT ON COLUMN call_offers.agent_id IS 'Agent whose phone rang (workers.worker_id)';
COMMENT ON COLUMN call_offers.agent_channel_id IS 'Asterisk (ARI) channel id of the leg that rang the agent';
COMMENT ON COLUMN call_offers.offered_at IS 'When the agent''s phone started ringing';
COMMENT ON COLUMN call_offers.ended_at IS 'When the offer ended (answered, failed or withdrawn); NULL while ringing';
COMMENT ON COLUMN call_offers.outcome IS 'answered | no_answer | busy | rejected | unreachable | system_failure (the agent leg could not be dialled; the agent is not paused) | withdrawn (caller left or system ended the call); NULL while ringing';

-- ---- queue ----
COMMENT ON COLUMN queue_calls.call_id IS 'calls.call_id';
COMMENT ON COLUMN queue_calls.queue IS 'Queue name (today always ''default'')';
COMMENT ON COLUMN queue_calls.caller_number IS 'Caller ID number as Asterisk reported it';
COMMENT ON COLUMN queue_calls.customer_id IS 'customers.customer_id of the caller; NULL: unknown caller';
COMMENT ON COLUMN queue_calls.queued_at IS 'When the call entered the queue; wait so far = now() - queued_at';
COMMENT ON COLUMN queue_calls.ringing_agent IS 'Agent whose phone rings for it now (workers.worker_id); NULL while waiting unoffered';
COMMENT ON COLUMN queue_calls.attempts IS 'Offers made so far (the latest attempt number); 0 if never offered';

-- ---- requests ----
COMMENT ON COLUMN requests.request_id IS 'Request id (events.aggregate_id of aggregate_type ''request''); request_changes and customer_requests refer to it';
COMMENT ON COLUMN requests.customer_id IS 'customers.customer_id the request is for';
COMMENT ON COLUMN requests.call_id IS 'calls.call_id it was opened from; NULL when not from a call';
COMMENT ON COLUMN requests.message IS 'Description, 10 to 10 000 characters';
COMMENT ON COLUMN requests.priority IS 'low | normal | high | urgent (sets the default due date)';
COMMENT ON COLUMN requests.request_type IS 'question | incident | problem | task';
COMMENT ON COLUMN requests.status IS 'open | pending | solved | closed (closed is final)';
COMMENT ON COLUMN requests.assignee IS 'Assigned worker (workers.worker_id); NULL: unassigned';
COMMENT ON COLUMN requests.due_at IS 'When the request is due; overdue when still open or pending after it';
COMMENT ON COLUMN requests.due_at_explicit IS 'true: due date set by a person; false: computed from the priority''s allowance';
COMMENT ON COLUMN requests.opened_by IS 'Worker who opened it (workers.worker_id); NULL: not opened by a worker (system)';
COMMENT ON COLUMN requests.opened_at IS 'When the request was opened';
COMMENT ON COLUMN requests.closed_at IS 'When closed; NULL unless status = closed';
COMMENT ON COLUMN requests.updated_at IS 'Last change of a field or of the status (alerts do not change it)';
COMMENT ON COLUMN requests.version IS 'Sequence of the last request event applied';

COMMENT ON COLUMN request_changes.request_id IS 'requests.request_id';
COMMENT ON COLUMN request_changes.sequence IS 'events.sequence of the request event that made the change (one event may change several fields)';
COMMENT ON COLUMN request_changes.field IS 'message | priority | request_type | assignee | due_at | status';
COMMENT ON COLUMN request_changes.old_value IS 'Previous value as JSON (string, UUID string or null; due_at as RFC 3339)';
COMMENT ON COLUMN request_changes.new_value IS 'New value as JSON (string, UUID string or null; due_at as RFC 3339)';
COMMENT ON COLUMN request_changes.changed_by IS 'Worker who made the change (workers.worker_id); NULL: the system';
COMMENT ON COLUMN request_changes.changed_at IS 'When the change was made';

-- ---- backups ----
COMMENT ON COLUMN backup_runs.run_id IS 'Run id (events.aggregate_id of aggregate_type ''backup_run'')';
COMMENT ON COLUMN backup_runs.customer_id IS 'customers.customer_id whose backup ran';
COMMENT ON COLUMN backup_runs.client_run_id IS 'The backup client''s own run id (rid, at most 200 bytes) tying its start, log and end reports; NULL when not given';
COMMENT ON COLUMN backup_runs.status IS 'running | succeeded | failed | timed_out';
COMMENT ON COLUMN backup_runs.started_at IS 'When the client reported the start; NULL when it only reported the end';
COMMENT ON COLUMN backup_runs.finished_at IS 'When it succeeded, failed or timed out; NULL while running';
COMMENT ON COLUMN backup_runs.duration_secs IS 'Whole seconds from started_at to the reported success or failure; NULL without a start, while running, or timed out';
COMMENT ON COLUMN backup_runs.exit_status IS 'Exit status the client reported with a failure; NULL otherwise or when not given';
COMMENT ON COLUMN backup_runs.message IS 'Failure text the client sent (at most 10 000 characters); NULL otherwise';
COMMENT ON COLUMN backup_runs.result_kind IS 'manifest | tool_stats | plain: what the success reported; NULL unless succeeded';
COMMENT ON COLUMN backup_runs.result IS 'The success report as JSON tagged by "kind" (manifest: digest, entries, bytes, changes; tool_stats: restic summary); NULL unless succeeded';
COMMENT ON COLUMN backup_runs.files_created IS 'Files new since the previous successful manifest, or restic files_new; NULL when unknown (plain, first manifest, not succeeded)';
COMMENT ON COLUMN backup_runs.files_modified IS 'Files modified since the previous successful manifest, or restic files_changed; NULL when unknown';
COMMENT ON COLUMN backup_runs.files_deleted IS 'Files deleted since the previous successful manifest (manifest runs only); NULL otherwise';
COMMENT ON COLUMN backup_runs.bytes IS 'Bytes: total size of the manifest''s files, or restic total_bytes_processed; NULL for plain or unsucceeded runs';
COMMENT ON COLUMN backup_runs.log_entries IS 'Log texts appended to the run (each a BackupRunLogAppended event, where the text is)';
COMMENT ON COLUMN backup_runs.expired IS 'true once retention let the run go (the storage side may delete it)';
COMMENT ON COLUMN backup_runs.expired_at IS 'When retention expired the run; NULL unless expired';
COMMENT ON COLUMN backup_runs.expire_reason IS 'no retention rule keeps it | failed before a later success; NULL unless expired';
COMMENT ON COLUMN backup_runs.reported_at IS 'When the first report of the run arrived (its start, or its end when never started); list order';
COMMENT ON COLUMN backup_runs.version IS 'Sequence of the last backup_run event applied';

COMMENT ON COLUMN backup_status.customer_id IS 'customers.customer_id; a row exists once the customer had a plan, a run, a backup alert or an erasure';
COMMENT ON COLUMN backup_status.plan IS 'Backup plan JSON: schedule, retention, report_recipients, paused; NULL when none set or the customer was erased';
COMMENT ON COLUMN backup_status.plan_set_at IS 'When the plan was last set; NULL when never';
COMMENT ON COLUMN backup_status.paused IS 'The plan is paused (status paused, not monitored); false without a plan';
COMMENT ON COLUMN backup_status.running_run_id IS 'The run in progress (backup_runs.run_id); NULL when none';
COMMENT ON COLUMN backup_status.running_since IS 'When the run in progress started; NULL when none';
COMMENT ON COLUMN backup_status.last_success_at IS 'When the last successful run finished; NULL when never';
COMMENT ON COLUMN backup_status.last_failure_at IS 'When the last run failed or timed out; NULL when never';
COMMENT ON COLUMN backup_status.overdue_since IS 'When the watchdog declared the backup overdue; NULL when not overdue (cleared on recovery)';
COMMENT ON COLUMN backup_status.status IS 'new | up | down | paused | running, from the events alone (grace needs the clock: the API computes it)';
COMMENT ON COLUMN backup_status.updated_at IS 'Time of the last event that changed this row';

COMMENT ON TABLE backup_manifests IS 'Manifests kept per customer (not derived from events): the newest successful run''s (state current, what the next run is diffed against) and uploads in progress (staging)';
COMMENT ON COLUMN backup_manifests.manifest_id IS 'Manifest id; backup_manifest_entries.manifest_id refers to it';
COMMENT ON COLUMN backup_manifests.customer_id IS 'customers.customer_id';
COMMENT ON COLUMN backup_manifests.run_id IS 'backup_runs.run_id that uploaded it';
COMMENT ON COLUMN backup_manifests.state IS 'staging (upload in progress) | current (at most one per customer)';
COMMENT ON COLUMN backup_manifests.entries IS 'Number of files (backup_manifest_entries rows)';
COMMENT ON COLUMN backup_manifests.created_at IS 'When the upload started';

COMMENT ON TABLE backup_manifest_entries IS 'The files of each kept manifest, one row per path';
COMMENT ON COLUMN backup_manifest_entries.manifest_id IS 'backup_manifests.manifest_id';
COMMENT ON COLUMN backup_manifest_entries.path IS 'File path as the client sent it (collation "C": byte order)';
COMMENT ON COLUMN backup_manifest_entries.size IS 'File size in bytes';
COMMENT ON COLUMN backup_manifest_entries.mtime IS 'Modification time in unix seconds (to_timestamp(mtime) for a timestamptz)';
COMMENT ON COLUMN backup_manifest_entries.hash IS 'Content hash the client computed (opaque text); NULL: not computed';

COMMENT ON COLUMN mail_outbox.id IS 'Row id, increasing in queueing order';
COMMENT ON COLUMN mail_outbox.event_id IS 'events.event_id of the event that called for the mail (one mail per event)';
COMMENT ON COLUMN mail_outbox.kind IS 'welcome | run_report | overdue | recovered';
COMMENT ON COLUMN mail_outbox.customer_id IS 'customers.customer_id the mail is about';
COMMENT ON COLUMN mail_outbox.to_addresses IS 'To recipients (customer email and report recipients, or admins when no recipient)';
COMMENT ON COLUMN mail_outbox.bcc_addresses IS 'Bcc recipients (active admins on overdue and recovered alerts); empty when none';
COMMENT ON COLUMN mail_outbox.subject IS 'Subject line';
COMMENT ON COLUMN mail_outbox.text_body IS 'Plain-text body';
COMMENT ON COLUMN mail_outbox.html_body IS 'HTML body';
COMMENT ON COLUMN mail_outbox.message_id IS 'Message-ID header: <event_id@savecorp.mail>';
COMMENT ON COLUMN mail_outbox.created_at IS 'When the mail was queued';
COMMENT ON COLUMN mail_outbox.next_attempt_at IS 'Not before: the next delivery attempt, or the end of the lease of the sender holding it';
COMMENT ON COLUMN mail_outbox.attempts IS 'Delivery attempts made (successful one included)';
COMMENT ON COLUMN mail_outbox.last_error IS 'Error of the last failed attempt; NULL before any failure and after success';
COMMENT ON COLUMN mail_outbox.sent_at IS 'When the SMTP server accepted it; NULL until then';
COMMENT ON COLUMN mail_outbox.gave_up_at IS 'When delivery was given up after the configured maximum attempts; NULL otherwise';

-- ---- KPIs ----
COMMENT ON COLUMN kpi_call_facts.call_id IS 'calls.call_id';
COMMENT ON COLUMN kpi_call_facts.queue IS 'Queue of the call (calls.queue)';
COMMENT ON COLUMN kpi_call_facts.agent_id IS 'Agent who answered (workers.worker_id); NULL if never connected';
COMMENT ON COLUMN kpi_call_facts.queued_at IS 'When the call entered the queue; picks its 15-minute bucket';
COMMENT ON COLUMN kpi_call_facts.connected_at IS 'When answered; NULL if never (then not answered)';
COMMENT ON COLUMN kpi_call_facts.ended_at IS 'When the call ended (CallEnded); NULL while live, and for abandoned or rejected calls';
COMMENT ON COLUMN kpi_call_facts.abandoned_at IS 'When the caller left before being connected; NULL unless abandoned';
COMMENT ON COLUMN kpi_call_facts.wrap_up_secs IS 'Wrap-up granted after the call, whole seconds (0: none); added to the handle time';

COMMENT ON COLUMN kpi_call_buckets.bucket_start IS 'Start of the 15-minute UTC bucket holding the calls'' queued_at';
COMMENT ON COLUMN kpi_call_buckets.queue IS 'Queue name (calls.queue)';
COMMENT ON COLUMN kpi_call_buckets.agent_id IS 'Agent who answered (workers.worker_id); nil UUID 00000000-0000-0000-0000-000000000000: not answered';
COMMENT ON COLUMN kpi_call_buckets.offered IS 'Calls that reached the queue (rejected ones included)';
COMMENT ON COLUMN kpi_call_buckets.answered IS 'Calls connected to an agent';
COMMENT ON COLUMN kpi_call_buckets.abandoned IS 'Calls whose caller left before being connected';
COMMENT ON COLUMN kpi_call_buckets.abandoned_short IS 'Abandoned less than 5 s after queued_at (counted in abandoned too)';
COMMENT ON COLUMN kpi_call_buckets.answered_within_threshold IS 'Answered with a queue wait <= T (T = 20 s)';
COMMENT ON COLUMN kpi_call_buckets.abandoned_after_threshold IS 'Abandoned with a queue wait > T (T = 20 s)';
COMMENT ON COLUMN kpi_call_buckets.answered_wait_ms IS 'Sum of the queue waits of the answered calls, milliseconds';
COMMENT ON COLUMN kpi_call_buckets.handled IS 'Answered calls that have ended';
COMMENT ON COLUMN kpi_call_buckets.handle_ms IS 'Sum of talk + wrap-up of the handled calls, milliseconds';

COMMENT ON COLUMN kpi_request_facts.request_id IS 'requests.request_id';
COMMENT ON COLUMN kpi_request_facts.opened_at IS 'When opened; picks the bucket of opened';
COMMENT ON COLUMN kpi_request_facts.due_at IS 'Current due date; solved within due means solved_at <= due_at';
COMMENT ON COLUMN kpi_request_facts.solved_at IS 'When last solved, picks the bucket of solved; NULL if never solved or reopened since';

COMMENT ON COLUMN kpi_request_buckets.bucket_start IS 'Start of the 15-minute UTC bucket';
COMMENT ON COLUMN kpi_request_buckets.opened IS 'Requests opened in the bucket';
COMMENT ON COLUMN kpi_request_buckets.solved IS 'Requests whose last solve is in the bucket';
COMMENT ON COLUMN kpi_request_buckets.solved_within_due IS 'Of solved, those with solved_at <= due_at';

COMMENT ON COLUMN kpi_slot_totals.slot_start IS 'Start of the 15-minute UTC slot';
COMMENT ON COLUMN kpi_slot_totals.offered IS 'sum(kpi_call_buckets.offered) of the slot: calls that reached a queue';
COMMENT ON COLUMN kpi_slot_totals.answered IS 'sum(kpi_call_buckets.answered) of the slot';
COMMENT ON COLUMN kpi_slot_totals.abandoned IS 'sum(kpi_call_buckets.abandoned) of the slot';
COMMENT ON COLUMN kpi_slot_totals.abandoned_short IS 'sum(kpi_call_buckets.abandoned_short) of the slot: abandoned within 5 s';
COMMENT ON COLUMN kpi_slot_totals.answered_within_threshold IS 'sum(kpi_call_buckets.answered_within_threshold) of the slot (T = 20 s)';
COMMENT ON COLUMN kpi_slot_totals.abandoned_after_threshold IS 'sum(kpi_call_buckets.abandoned_after_threshold) of the slot (T = 20 s)';
COMMENT ON COLUMN kpi_slot_totals.answered_wait_ms IS 'sum(kpi_call_buckets.answered_wait_ms) of the slot, milliseconds';
COMMENT ON COLUMN kpi_slot_totals.handled IS 'sum(kpi_call_buckets.handled) of the slot';
COMMENT ON COLUMN kpi_slot_totals.handle_ms IS 'sum(kpi_call_buckets.handle_ms) of the slot, milliseconds';
COMMENT ON COLUMN kpi_slot_totals.requests_opened IS 'kpi_request_buckets.opened of the slot';
COMMENT ON COLUMN kpi_slot_totals.requests_solved IS 'kpi_request_buckets.solved of the slot';
COMMENT ON COLUMN kpi_slot_totals.requests_solved_within_due IS 'kpi_request_buckets.solved_within_due of the slot';
COMMENT ON COLUMN kpi_slot_totals.logged_in_ms IS 'Per closed interval and slot, whole milliseconds (truncated) not offline, summed over workers';

COMMENT ON COLUMN agent_state_intervals.worker_id IS 'workers.worker_id';
COMMENT ON COLUMN agent_state_intervals.sequence IS 'events.sequence of the worker event that started the interval';
COMMENT ON COLUMN agent_state_intervals.started_at IS 'Start of the interval (inclusive)';
COMMENT ON COLUMN agent_state_intervals.ended_at IS 'End of the interval (exclusive); NULL for the worker''s current state';

-- ---- the api's own tables: credentials, sessions, tokens, uniqueness (not for analysis) ----
COMMENT ON TABLE credentials IS 'Login credentials of workers, kept by the api outside the log (not for analysis, never export): role and active mirror workers';
COMMENT ON COLUMN credentials.worker_id IS 'workers.worker_id';
COMMENT ON COLUMN credentials.email_key IS 'Login key: the worker''s email lowercased';
COMMENT ON COLUMN credentials.password_hash IS 'Argon2id hash in PHC string form: not the password, but it allows offline guessing; never export it';
COMMENT ON COLUMN credentials.role IS 'admin | agent (mirrors workers.role)';
COMMENT ON COLUMN credentials.active IS 'false once deactivated: login refused (mirrors workers.active)';
COMMENT ON COLUMN credentials.session_epoch IS 'Raised by each password change; access tokens carrying an older epoch are rejected';
COMMENT ON COLUMN credentials.created_at IS 'When the account was created';
COMMENT ON COLUMN credentials.updated_at IS 'Last change of the password, role, active flag or email';

COMMENT ON TABLE sessions IS 'Login sessions (not for analysis): one family of rotating refresh tokens; revoking it ends its access tokens. Purged after the retention once spent';
COMMENT ON COLUMN sessions.session_id IS 'Session id (the sid claim of access tokens)';
COMMENT ON COLUMN sessions.worker_id IS 'credentials.worker_id (workers.worker_id) logged in';
COMMENT ON COLUMN sessions.created_at IS 'When the worker logged in';
COMMENT ON COLUMN sessions.revoked_at IS 'When revoked; NULL while the session lives';
COMMENT ON COLUMN sessions.revoked_reason IS 'logout | password_changed | deactivated | refresh_token_reused; NULL unless revoked';

COMMENT ON TABLE refresh_tokens IS 'Refresh tokens by hash (not for analysis, never export): single use, the token itself is never stored';
COMMENT ON COLUMN refresh_tokens.token_hash IS 'SHA-256 of the token, hex: not the token itself, but never export it';
COMMENT ON COLUMN refresh_tokens.session_id IS 'sessions.session_id the token belongs to';
COMMENT ON COLUMN refresh_tokens.issued_at IS 'When the token was issued';
COMMENT ON COLUMN refresh_tokens.expires_at IS 'When the token expires; purged after the retention past it';
COMMENT ON COLUMN refresh_tokens.used_at IS 'When exchanged for new tokens; NULL if not yet. Presenting a used token revokes its session';

COMMENT ON TABLE ingest_tokens IS 'Backup clients'' ingest tokens by hash (not for analysis, never export): shown once, never stored; validity is decided by the Customer aggregate';
COMMENT ON COLUMN ingest_tokens.token_id IS 'Token id (the 32 hex characters after sci_ in the token; events.metadata actor ingest_token:<id>)';
COMMENT ON COLUMN ingest_tokens.customer_id IS 'customers.customer_id the token reports for';
COMMENT ON COLUMN ingest_tokens.token_hash IS 'SHA-256 of the whole token (32 bytes): not the token itself, but never export it';
COMMENT ON COLUMN ingest_tokens.issued_at IS 'When the token was issued';
COMMENT ON COLUMN ingest_tokens.revoked_at IS 'When revoked; NULL while valid. Purged after the retention past it';

COMMENT ON TABLE uniqueness_claims IS 'Values unique across aggregates, claimed before the command that uses them (not for analysis)';
COMMENT ON COLUMN uniqueness_claims.kind IS 'worker_email (lowercased) | worker_endpoint (active workers) | customer_phone (E.164)';
COMMENT ON COLUMN uniqueness_claims.value IS 'The claimed value';
COMMENT ON COLUMN uniqueness_claims.owner_id IS 'UUID text of the owning worker or customer (events.aggregate_id)';
COMMENT ON COLUMN uniqueness_claims.claimed_at IS 'When the value was claimed';
COMMENT ON TABLE call_offers IS 'Each offer of a call to an agent; outcome answered | no_answer | busy | rejected | unreachable | system_failure | withdrawn (NULL while ringing)';
