/* eslint-disable */
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /**
   * Implement the DateTime<Utc> scalar
   *
   * The input/output is a string in RFC3339 format.
   */
  DateTime: { input: string; output: string; }
  /** A scalar that can represent any JSON value. */
  JSON: { input: unknown; output: unknown; }
};

/** How many active agents are in one presence state. */
export type AgentsInState = {
  __typename?: 'AgentsInState';
  count: Scalars['Int']['output'];
  state: PresenceState;
};

/** An aggregate's state at a point of its history. */
export type AggregateStateView = {
  __typename?: 'AggregateStateView';
  recordedAt?: Maybe<Scalars['DateTime']['output']>;
  /** The domain aggregate, serialised. */
  state: Scalars['JSON']['output'];
  /** The sequence of the last event folded (0: the aggregate did not exist yet). */
  version: Scalars['Int']['output'];
};

/** A request or backup alert. */
export type Alert = {
  __typename?: 'Alert';
  /** When the alert was raised. */
  at: Scalars['DateTime']['output'];
  customerId?: Maybe<Scalars['ID']['output']>;
  /** The request's due date, for request alerts. */
  dueAt?: Maybe<Scalars['DateTime']['output']>;
  kind: AlertKind;
  /** The request, for request alerts. */
  request?: Maybe<Request>;
  requestId?: Maybe<Scalars['ID']['output']>;
};

export type AlertKind =
  /** A customer's backup run failed (or timed out): backups down until the next success. */
  | 'BACKUP_FAILED'
  /** A customer's backup is overdue. */
  | 'BACKUP_OVERDUE'
  /** A customer's overdue or failed backup succeeded again. */
  | 'BACKUP_RECOVERED'
  /** Less than the configured time remains before a request's due date. */
  | 'DUE_SOON'
  /** A request's due date passed while it was open or pending. */
  | 'OVERDUE';

/** A message of `alerts`: the first has no alert and names the log position followed from. */
export type AlertMessage = {
  __typename?: 'AlertMessage';
  alert?: Maybe<Alert>;
  /** The log position of this message: resume with `alerts(fromPosition: <this>)`. */
  position: Scalars['Int']['output'];
};

/** A session: an access token for `Authorization: Bearer`, and a single-use refresh token. */
export type AuthPayload = {
  __typename?: 'AuthPayload';
  accessToken: Scalars['String']['output'];
  accessTokenExpiresAt: Scalars['DateTime']['output'];
  refreshToken: Scalars['String']['output'];
  refreshTokenExpiresAt: Scalars['DateTime']['output'];
  worker: Worker;
};

/** The presence a worker asks for. */
export type AvailabilityState =
  | 'AVAILABLE'
  | 'OFFLINE'
  | 'PAUSED';

/**
 * A backup plan: a period (`periodSecs`) or a cron expression with its time zone, the grace,
 * retention rules, mail recipients, and whether monitoring is paused.
 */
export type BackupPlanInput = {
  /** 5 fields, read in `timeZone`. */
  cron?: InputMaybe<Scalars['String']['input']>;
  graceSecs: Scalars['Int']['input'];
  keepDaily?: InputMaybe<Scalars['Int']['input']>;
  keepHourly?: InputMaybe<Scalars['Int']['input']>;
  keepLast?: InputMaybe<Scalars['Int']['input']>;
  keepMonthly?: InputMaybe<Scalars['Int']['input']>;
  keepWeekly?: InputMaybe<Scalars['Int']['input']>;
  keepWithinSecs?: InputMaybe<Scalars['Int']['input']>;
  keepYearly?: InputMaybe<Scalars['Int']['input']>;
  paused?: Scalars['Boolean']['input'];
  periodSecs?: InputMaybe<Scalars['Int']['input']>;
  reportRecipients?: Array<Scalars['String']['input']>;
  /** IANA name, with `cron`. */
  timeZone?: InputMaybe<Scalars['String']['input']>;
};

/** The answer to `reportBackupRun`. */
export type BackupReport = {
  __typename?: 'BackupReport';
  /** False when the report repeated one already recorded. */
  recorded: Scalars['Boolean']['output'];
  runId: Scalars['ID']['output'];
  stats?: Maybe<BackupRunStats>;
  status?: Maybe<BackupRunStatus>;
};

/** What a backup client reports. */
export type BackupReportKind =
  | 'FAIL'
  | 'LOG'
  | 'START'
  | 'SUCCESS';

/**
 * What a successful run backed up, and its changes against the previous success (from a
 * manifest), or the backup tool's own counts (restic).
 */
export type BackupRunStats = {
  __typename?: 'BackupRunStats';
  bytes?: Maybe<Scalars['Int']['output']>;
  created?: Maybe<Scalars['Int']['output']>;
  createdBytes?: Maybe<Scalars['Int']['output']>;
  deleted?: Maybe<Scalars['Int']['output']>;
  deletedBytes?: Maybe<Scalars['Int']['output']>;
  files?: Maybe<Scalars['Int']['output']>;
  modified?: Maybe<Scalars['Int']['output']>;
  modifiedBytes?: Maybe<Scalars['Int']['output']>;
  unchanged?: Maybe<Scalars['Int']['output']>;
  unchangedBytes?: Maybe<Scalars['Int']['output']>;
};

/** Where a run is. */
export type BackupRunStatus =
  | 'FAILED'
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'TIMED_OUT';

/** One backup run. */
export type BackupRunView = {
  __typename?: 'BackupRunView';
  /** The client's run id (`rid`), if it gave one. */
  clientRunId?: Maybe<Scalars['String']['output']>;
  durationSecs?: Maybe<Scalars['Int']['output']>;
  exitStatus?: Maybe<Scalars['Int']['output']>;
  /** Marked by the retention policy: the storage side may delete it. */
  expired: Scalars['Boolean']['output'];
  finishedAt?: Maybe<Scalars['DateTime']['output']>;
  id: Scalars['ID']['output'];
  /**
   * What a failed run reported: the last 10 KiB of its body (`/fail`, a non-zero exit
   * status), or why the system failed it (timed out).
   */
  message?: Maybe<Scalars['String']['output']>;
  /**
   * When the run's first report arrived (its start, or its end when never started): the
   * order of `backupRuns`.
   */
  reportedAt?: Maybe<Scalars['DateTime']['output']>;
  /** The recorded result in full (manifest summary or tool statistics). */
  result?: Maybe<Scalars['JSON']['output']>;
  startedAt?: Maybe<Scalars['DateTime']['output']>;
  stats?: Maybe<BackupRunStats>;
  status: BackupRunStatus;
};

export type BackupRunViewConnection = {
  __typename?: 'BackupRunViewConnection';
  /** A list of edges. */
  edges: Array<BackupRunViewEdge>;
  /** A list of nodes. */
  nodes: Array<BackupRunView>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** How many items match the filters, across all pages. */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type BackupRunViewEdge = {
  __typename?: 'BackupRunViewEdge';
  /** A cursor for use in pagination */
  cursor: Scalars['String']['output'];
  /** The item at the end of the edge */
  node: BackupRunView;
};

/** A customer's backup monitoring status. */
export type BackupStatusView = {
  __typename?: 'BackupStatusView';
  customerId: Scalars['ID']['output'];
  /**
   * Why the status is `down`: `failed` (the latest run failed or timed out, until the next
   * success) or `overdue` (no success within the schedule and its grace).
   */
  downReason?: Maybe<Scalars['String']['output']>;
  expectedAt?: Maybe<Scalars['DateTime']['output']>;
  /** While down for reason `failed`: when the first failed run after the last success ended. */
  failingSince?: Maybe<Scalars['DateTime']['output']>;
  /** The latest run (by its first report) with its statistics; none before any report. */
  lastRun?: Maybe<BackupRunView>;
  lastSuccessAt?: Maybe<Scalars['DateTime']['output']>;
  lateAt?: Maybe<Scalars['DateTime']['output']>;
  overdueSince?: Maybe<Scalars['DateTime']['output']>;
  /** The plan (schedule, retention, recipients, paused), as stored. */
  plan?: Maybe<Scalars['JSON']['output']>;
  runningSince?: Maybe<Scalars['DateTime']['output']>;
  /** `new`, `up`, `grace`, `down`, `paused`, `running`, or `unmonitored` without a plan. */
  status: Scalars['String']['output'];
};

/** One inbound call. */
export type Call = {
  __typename?: 'Call';
  /** The agent offered, connected, or who took the call. */
  agentId?: Maybe<Scalars['ID']['output']>;
  /** How many offers were made. */
  attempts: Scalars['Int']['output'];
  callerName?: Maybe<Scalars['String']['output']>;
  callerNumber: Scalars['String']['output'];
  connectedAt?: Maybe<Scalars['DateTime']['output']>;
  /** The customer the call belongs to, as `customer(id)` shows them. */
  customer?: Maybe<Customer>;
  customerId?: Maybe<Scalars['ID']['output']>;
  /** Why the system ended it (`endedBy: SYSTEM` only), e.g. after a restart. */
  endReason?: Maybe<Scalars['String']['output']>;
  endedAt?: Maybe<Scalars['DateTime']['output']>;
  /** Who ended it (`ENDED` calls only). */
  endedBy?: Maybe<CallEndedBy>;
  id: Scalars['ID']['output'];
  /** Every offer of the call to an agent, in attempt order. */
  offers: Array<CallOffer>;
  /** How it ended; `null` while live. */
  outcome?: Maybe<CallOutcome>;
  queuedAt?: Maybe<Scalars['DateTime']['output']>;
  /** Why the queue refused it (`REJECTED` calls only). */
  rejectReason?: Maybe<CallRejectReason>;
  state: CallState;
  talkSecs?: Maybe<Scalars['Int']['output']>;
  version: Scalars['Int']['output'];
  waitSecs?: Maybe<Scalars['Int']['output']>;
};

export type CallConnection = {
  __typename?: 'CallConnection';
  /** A list of edges. */
  edges: Array<CallEdge>;
  /** A list of nodes. */
  nodes: Array<Call>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** How many items match the filters, across all pages. */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type CallEdge = {
  __typename?: 'CallEdge';
  /** A cursor for use in pagination */
  cursor: Scalars['String']['output'];
  /** The item at the end of the edge */
  node: Call;
};

/** Who ended a call that reached `ENDED`. */
export type CallEndedBy =
  | 'AGENT'
  | 'CALLER'
  | 'SYSTEM';

/** One offer of a call to an agent. */
export type CallOffer = {
  __typename?: 'CallOffer';
  /** The agent offered (email and endpoint `null` unless the caller is an admin or them). */
  agent?: Maybe<Worker>;
  agentId: Scalars['ID']['output'];
  /** 1 for the first offer. */
  attempt: Scalars['Int']['output'];
  /** `null` while ringing. */
  endedAt?: Maybe<Scalars['DateTime']['output']>;
  offeredAt: Scalars['DateTime']['output'];
  outcome?: Maybe<OfferOutcome>;
};

/** How a call ended (`null` while it is live). */
export type CallOutcome =
  /** The caller hung up while waiting in the queue. */
  | 'ABANDONED_QUEUED'
  /** The caller hung up while an agent's phone rang. */
  | 'ABANDONED_RINGING'
  /** Connected to an agent, then ended. */
  | 'ANSWERED'
  /** Ended by the system before any agent answered. */
  | 'ENDED_UNANSWERED'
  /** Refused by the queue (see `rejectReason`). */
  | 'REJECTED';

/** Why the queue refused a call (PRODUCT §4.2). */
export type CallRejectReason =
  | 'MAX_WAIT_EXCEEDED'
  | 'NO_AGENTS_LOGGED_IN'
  | 'QUEUE_FULL';

/** Where a call is in its lifecycle. */
export type CallState =
  | 'ABANDONED'
  | 'CONNECTED'
  | 'ENDED'
  | 'OFFERED'
  | 'QUEUED'
  | 'REJECTED';

/** A call's state after one of its events. */
export type CallUpdate = {
  __typename?: 'CallUpdate';
  call: Call;
  /** The event (`CallOffered`, `CallConnected`, …); null in the first message. */
  eventType?: Maybe<Scalars['String']['output']>;
  /** The log position of the event (the start position for the first message). */
  position: Scalars['Int']['output'];
};

/** A customer. After erasure only `id`, `version` and `erased` remain. */
export type Customer = {
  __typename?: 'Customer';
  avatarUrl?: Maybe<Scalars['String']['output']>;
  email?: Maybe<Scalars['String']['output']>;
  erased: Scalars['Boolean']['output'];
  id: Scalars['ID']['output'];
  name?: Maybe<Scalars['String']['output']>;
  notes?: Maybe<Scalars['String']['output']>;
  /** E.164, the first is the main number. */
  phones: Array<Scalars['String']['output']>;
  version: Scalars['Int']['output'];
};

export type CustomerConnection = {
  __typename?: 'CustomerConnection';
  /** A list of edges. */
  edges: Array<CustomerEdge>;
  /** A list of nodes. */
  nodes: Array<Customer>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** How many items match the filters, across all pages. */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type CustomerEdge = {
  __typename?: 'CustomerEdge';
  /** A cursor for use in pagination */
  cursor: Scalars['String']['output'];
  /** The item at the end of the edge */
  node: Customer;
};

/** Sort keys of `customers`. */
export type CustomerSort =
  /** Case-insensitive. */
  | 'NAME'
  | 'REGISTERED_AT'
  | 'UPDATED_AT';

/** A new ingest token: `token` is shown this once and never again. */
export type IssuedIngestToken = {
  __typename?: 'IssuedIngestToken';
  hashPrefix: Scalars['String']['output'];
  token: Scalars['String']['output'];
  tokenId: Scalars['ID']['output'];
};

/** The size of a KPI bucket. */
export type KpiBucketSize =
  | 'DAY'
  | 'HOUR'
  | 'MONTH';

/**
 * The KPIs of one bucket `[start, end)` (the first and last are clipped to the range).
 * Rates and means are `null` when they have nothing to divide by.
 */
export type KpiBucketView = {
  __typename?: 'KpiBucketView';
  abandoned: Scalars['Int']['output'];
  /** Abandoned within 5 s (reported apart). */
  abandonedShort: Scalars['Int']['output'];
  /** Abandoned / offered × 100. */
  abandonmentRate?: Maybe<Scalars['Float']['output']>;
  /** Average handle time (talk + wrap-up), seconds. */
  ahtSecs?: Maybe<Scalars['Float']['output']>;
  /** Calls connected. */
  answered: Scalars['Int']['output'];
  /** Average speed of answer, seconds. */
  asaSecs?: Maybe<Scalars['Float']['output']>;
  end: Scalars['DateTime']['output'];
  /** Time on call or in wrap-up / time logged in × 100. */
  occupancy?: Maybe<Scalars['Float']['output']>;
  /** Calls queued. */
  offered: Scalars['Int']['output'];
  /** Requests opened in the bucket (with `agentId`: of those assigned to the agent now). */
  requestsOpened: Scalars['Int']['output'];
  /**
   * Requests whose last solve is in the bucket (reopened ones do not count; with `agentId`:
   * of those assigned to the agent now).
   */
  requestsSolved: Scalars['Int']['output'];
  /** Of `requestsSolved`, those solved at or before their current due date. */
  requestsSolvedWithinDue: Scalars['Int']['output'];
  /**
   * Answered within T / (answered + abandoned after T) × 100 (T: the report's
   * `serviceLevelThresholdSecs`, 20 s by default).
   */
  serviceLevel?: Maybe<Scalars['Float']['output']>;
  start: Scalars['DateTime']['output'];
};

/** The answer of `kpis`. */
export type KpiReport = {
  __typename?: 'KpiReport';
  bucket: KpiBucketSize;
  buckets: Array<KpiBucketView>;
  /**
   * Open or pending requests past their due date now (with `agentId`: assigned to the
   * agent).
   */
  overdueNow: Scalars['Int']['output'];
  /** The service level's threshold T used, in seconds (`updateServiceLevelThreshold`). */
  serviceLevelThresholdSecs: Scalars['Int']['output'];
  timeZone: Scalars['String']['output'];
};

/** One event of the log. */
export type LogEvent = {
  __typename?: 'LogEvent';
  aggregateId: Scalars['ID']['output'];
  aggregateType: Scalars['String']['output'];
  eventId: Scalars['ID']['output'];
  eventType: Scalars['String']['output'];
  eventVersion: Scalars['String']['output'];
  /** Actor, correlation id, causation id. */
  metadata: Scalars['JSON']['output'];
  payload: Scalars['JSON']['output'];
  /** The global position: resume with `events(fromPosition: <this>)`. */
  position: Scalars['Int']['output'];
  recordedAt: Scalars['DateTime']['output'];
  sequence: Scalars['Int']['output'];
};

export type LogEventConnection = {
  __typename?: 'LogEventConnection';
  /** A list of edges. */
  edges: Array<LogEventEdge>;
  /** A list of nodes. */
  nodes: Array<LogEvent>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** How many items match the filters, across all pages. */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type LogEventEdge = {
  __typename?: 'LogEventEdge';
  /** A cursor for use in pagination */
  cursor: Scalars['String']['output'];
  /** The item at the end of the edge */
  node: LogEvent;
};

export type Mutation = {
  __typename?: 'Mutation';
  /**
   * Changes one's own password (the current one is required). Every session of the worker
   * ends; a new one is returned. Wrong current passwords are throttled like logins
   * (`RATE_LIMITED`).
   */
  changePassword: AuthPayload;
  /** Any status → closed, for good. */
  closeRequest: Request;
  /**
   * Deactivates a worker (admin): they can no longer log in, their tokens stop working and
   * their endpoint is freed. The last active admin cannot be deactivated.
   */
  deactivateWorker: Worker;
  /**
   * Erases a customer's personal data (admin); the anonymised history stays and the phone
   * numbers are freed.
   */
  eraseCustomer: Customer;
  /** Hangs up the caller's own connected call (`NOT_YOUR_CALL` for anyone else). */
  hangUpCall: Call;
  /** Issues a new ingest token for a customer (admins). The token is in this answer only. */
  issueIngestToken: IssuedIngestToken;
  /**
   * Opens a session. Attempts are throttled per account from one client address and per
   * address (`RATE_LIMITED`), counted before the password is checked, and a failure never
   * says whether the email exists.
   */
  login: AuthPayload;
  /** Ends the current session: its access and refresh tokens stop working. */
  logout: Scalars['Boolean']['output'];
  /** Opens a request for a customer (any worker). */
  openRequest: Request;
  /**
   * Rebuilds a read model (every one when `name` is absent) from the log, in the
   * background, without stopping the service (admins). Answers at once; unknown names are
   * `VALIDATION`.
   */
  rebuildProjection: RebuildStarted;
  /**
   * Exchanges a refresh token for a new session pair. Each refresh token works once; using a
   * spent one again ends the session.
   */
  refreshSession: AuthPayload;
  /** Registers a customer (any worker). Phone numbers are unique across customers. */
  registerCustomer: Customer;
  /** Registers a worker who can log in with the given password (admin). */
  registerWorker: Worker;
  /** Solved → open. */
  reopenRequest: Request;
  /**
   * Reports a run (the customer's ingest token only): `START`, `SUCCESS` (body: optional
   * manifest, JSON lines of path/size/mtime/hash, or restic `backup --json` output), `FAIL`
   * (body: optional message), `LOG` (body: text). `runId` pairs a start with its end.
   */
  reportBackupRun: BackupReport;
  /**
   * Resets a worker's password (admin): the answer carries a temporary password, shown this
   * once (never stored or logged in clear; give it to the worker, who changes it with
   * `changePassword`). Every session of the worker ends. The audit records
   * `WorkerPasswordReset` with the admin, never the password.
   */
  resetWorkerPassword: PasswordResetView;
  /** Revokes an ingest token (admins; idempotent). */
  revokeIngestToken: Scalars['Boolean']['output'];
  /**
   * Goes Available, Paused (with a reason) or Offline: one's own presence, or anyone's for
   * an admin (`workerId`).
   */
  setAvailability: Worker;
  /** Sets a customer's backup plan (admins); answers the status under the new plan. */
  setBackupPlan: BackupStatusView;
  /** Open → pending (waiting on the customer or a third party; the due date still runs). */
  setRequestPending: Request;
  /** Makes a worker an admin or an agent (admin). The last active admin cannot be demoted. */
  setWorkerRole: Worker;
  /**
   * First run: creates the first admin from the one-time setup link the server logged at
   * start (`/setup#token=…`) and opens their session. Public; the link works once, before it
   * expires, and only while no admin exists (`SETUP_TOKEN_INVALID`, `SETUP_TOKEN_USED`,
   * `SETUP_TOKEN_EXPIRED`, `ADMIN_EXISTS`); attempts are throttled per client address like
   * logins (`RATE_LIMITED`).
   */
  setupFirstAdmin: AuthPayload;
  /** Open or pending → solved. */
  solveRequest: Request;
  /** Changes a customer's details (any worker). `phones` replaces the whole list. */
  updateCustomer: Customer;
  /**
   * Changes one's own name and avatar (any logged-in worker, on themself only; role, email,
   * endpoint and active stay with the admins' `updateWorker`, `setWorkerRole`,
   * `deactivateWorker`). Nothing to change: no event, the same version.
   */
  updateMyProfile: Worker;
  /**
   * Sets a queue's settings (admins), in force at once on every instance: new offers ring
   * for the new timeout, arrivals meet the new max length, waiting calls the new max wait.
   * The same values again: no event, the same version.
   */
  updateQueueSettings: QueueConfiguration;
  /** Changes a request's message, priority, type, assignee or due date (any worker). */
  updateRequest: Request;
  /**
   * Sets the due allowances per priority and the due-soon cap (admins) given to requests
   * opened from now on; open requests keep theirs. The same values again: no event.
   */
  updateRequestSettings: RequestSettings;
  /**
   * Sets the KPIs' service-level threshold T, in seconds (admins; 1 to 3600): `kpis`
   * answers with it from now on, for any range. The same value again: no event.
   */
  updateServiceLevelThreshold: ServiceLevelSettings;
  /** Changes a worker's name, email or endpoint (admin). */
  updateWorker: Worker;
};


export type MutationChangePasswordArgs = {
  currentPassword: Scalars['String']['input'];
  newPassword: Scalars['String']['input'];
};


export type MutationCloseRequestArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  id: Scalars['ID']['input'];
};


export type MutationDeactivateWorkerArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  id: Scalars['ID']['input'];
};


export type MutationEraseCustomerArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  id: Scalars['ID']['input'];
};


export type MutationHangUpCallArgs = {
  callId: Scalars['ID']['input'];
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
};


export type MutationIssueIngestTokenArgs = {
  customerId: Scalars['ID']['input'];
};


export type MutationLoginArgs = {
  email: Scalars['String']['input'];
  password: Scalars['String']['input'];
};


export type MutationOpenRequestArgs = {
  input: OpenRequestInput;
};


export type MutationRebuildProjectionArgs = {
  name?: InputMaybe<Scalars['String']['input']>;
};


export type MutationRefreshSessionArgs = {
  refreshToken: Scalars['String']['input'];
};


export type MutationRegisterCustomerArgs = {
  input: RegisterCustomerInput;
};


export type MutationRegisterWorkerArgs = {
  input: RegisterWorkerInput;
};


export type MutationReopenRequestArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  id: Scalars['ID']['input'];
};


export type MutationReportBackupRunArgs = {
  body?: InputMaybe<Scalars['String']['input']>;
  exitStatus?: InputMaybe<Scalars['Int']['input']>;
  kind: BackupReportKind;
  runId?: InputMaybe<Scalars['String']['input']>;
};


export type MutationResetWorkerPasswordArgs = {
  id: Scalars['ID']['input'];
};


export type MutationRevokeIngestTokenArgs = {
  customerId: Scalars['ID']['input'];
  tokenId: Scalars['ID']['input'];
};


export type MutationSetAvailabilityArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  reason?: InputMaybe<Scalars['String']['input']>;
  state: AvailabilityState;
  workerId?: InputMaybe<Scalars['ID']['input']>;
};


export type MutationSetBackupPlanArgs = {
  customerId: Scalars['ID']['input'];
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  plan: BackupPlanInput;
};


export type MutationSetRequestPendingArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  id: Scalars['ID']['input'];
};


export type MutationSetWorkerRoleArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  id: Scalars['ID']['input'];
  role: Role;
};


export type MutationSetupFirstAdminArgs = {
  email: Scalars['String']['input'];
  name: Scalars['String']['input'];
  password: Scalars['String']['input'];
  token: Scalars['String']['input'];
};


export type MutationSolveRequestArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  id: Scalars['ID']['input'];
};


export type MutationUpdateCustomerArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  id: Scalars['ID']['input'];
  input: UpdateCustomerInput;
};


export type MutationUpdateMyProfileArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  input: UpdateMyProfileInput;
};


export type MutationUpdateQueueSettingsArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  input: QueueSettingsInput;
};


export type MutationUpdateRequestArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  id: Scalars['ID']['input'];
  input: UpdateRequestInput;
};


export type MutationUpdateRequestSettingsArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  input: RequestSettingsInput;
};


export type MutationUpdateServiceLevelThresholdArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  thresholdSecs: Scalars['Int']['input'];
};


export type MutationUpdateWorkerArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  id: Scalars['ID']['input'];
  input: UpdateWorkerInput;
};

/** What an agent sees when their phone rings (PRODUCT §4.4). */
export type Offer = {
  __typename?: 'Offer';
  /**
   * The customer's backup health (as `backupStatus(customerId:)`: status, last success, the
   * last run with its statistics, overdue/failing since, next expected run), when they have
   * backup facts.
   */
  backup?: Maybe<BackupStatusView>;
  /**
   * The customer's backup status (`new`, `up`, `grace`, `down`, `paused`, `running`), when
   * they have backup facts.
   * @deprecated use `backup { status }`
   */
  backupStatus?: Maybe<Scalars['String']['output']>;
  callId: Scalars['ID']['output'];
  callerName?: Maybe<Scalars['String']['output']>;
  /** As Asterisk gave it. */
  callerNumber: Scalars['String']['output'];
  /** The customer the number belongs to, if any. */
  customer?: Maybe<Customer>;
  offeredAt: Scalars['DateTime']['output'];
  /** The customer's open and pending requests, oldest due first (at most 20). */
  openRequests: Array<Request>;
};

/** A message of `offers`: the first has no offer and names the log position followed from. */
export type OfferMessage = {
  __typename?: 'OfferMessage';
  offer?: Maybe<Offer>;
  /** The log position of this message: resume with `offers(fromPosition: <this>)`. */
  position: Scalars['Int']['output'];
};

/** How one offer of a call ended (`null` while the agent's phone rings). */
export type OfferOutcome =
  | 'ANSWERED'
  | 'BUSY'
  | 'NO_ANSWER'
  /** The agent declined. */
  | 'REJECTED'
  /** The system could not ring the agent's phone. */
  | 'SYSTEM_FAILURE'
  | 'UNREACHABLE'
  /** The call went away while the phone rang. */
  | 'WITHDRAWN';

export type OpenRequestInput = {
  assigneeId?: InputMaybe<Scalars['ID']['input']>;
  callId?: InputMaybe<Scalars['ID']['input']>;
  customerId: Scalars['ID']['input'];
  /** RFC 3339; in the future. Absent: from the priority. */
  dueAt?: InputMaybe<Scalars['String']['input']>;
  /** 10 to 10 000 characters. */
  message: Scalars['String']['input'];
  priority: Priority;
  type: RequestType;
};

/** Information about pagination in a connection */
export type PageInfo = {
  __typename?: 'PageInfo';
  /** When paginating forwards, the cursor to continue. */
  endCursor?: Maybe<Scalars['String']['output']>;
  /** When paginating forwards, are there more items? */
  hasNextPage: Scalars['Boolean']['output'];
  /** When paginating backwards, are there more items? */
  hasPreviousPage: Scalars['Boolean']['output'];
  /** When paginating backwards, the cursor to continue. */
  startCursor?: Maybe<Scalars['String']['output']>;
};

/** A password reset: the temporary password, shown once. */
export type PasswordResetView = {
  __typename?: 'PasswordResetView';
  /** Give it to the worker; they should change it (`changePassword`). */
  temporaryPassword: Scalars['String']['output'];
  worker: Worker;
};

/** Where a worker is in the call-handling cycle. */
export type PresenceState =
  | 'AVAILABLE'
  | 'OFFERED'
  | 'OFFLINE'
  | 'ON_CALL'
  | 'PAUSED'
  | 'WRAP_UP';

export type Priority =
  | 'HIGH'
  | 'LOW'
  | 'NORMAL'
  | 'URGENT';

/** Where one projection stands. */
export type ProjectionStatusView = {
  __typename?: 'ProjectionStatusView';
  /** Readable events not applied yet. */
  lag: Scalars['Int']['output'];
  name: Scalars['String']['output'];
  /** The global position of the last event applied. */
  position: Scalars['Int']['output'];
  /**
   * The latest rebuild of this read model (`rebuildProjection`), from whichever instance
   * runs it: progress while it runs, its end after; none before the first rebuild.
   */
  rebuild?: Maybe<RebuildStatusView>;
};

export type Query = {
  __typename?: 'Query';
  /**
   * What one actor did in `[from, until)` (admins), oldest first: `actor` is
   * `worker:<id>`, `ingest_token:<id>`, `ari` or `system` (as `metadata.actor` holds it).
   * A Relay connection in `(recordedAt, position)` order over the `events_actor` index.
   */
  actorActivity: LogEventConnection;
  /**
   * A customer's runs, newest first (workers, or the customer's ingest token): a Relay
   * connection (`first`/`after` walk towards older runs, `last`/`before` towards newer).
   */
  backupRuns: BackupRunViewConnection;
  /** A customer's backup status (workers, or the customer's ingest token). */
  backupStatus: BackupStatusView;
  /** A call: admins see every call, agents the calls offered to or taken by them. */
  call: Call;
  /**
   * Calls by queue time (admins: all; agents: the calls they were connected to, i.e.
   * `agentId` is always themselves). `callerNumber` is normalised to E.164 with the default
   * country code (as `customerByNumber`); `queuedFrom` is inclusive, `queuedUntil`
   * exclusive.
   */
  calls: CallConnection;
  /** A customer (any worker). */
  customer: Customer;
  /**
   * The customer owning a phone number (any worker), written in any usual form: it is
   * normalised to E.164 with the default country code. `null` when nobody owns it.
   */
  customerByNumber?: Maybe<Customer>;
  /**
   * Live customers (any worker), by registration (default), last update or name
   * (case-insensitive). `search` matches the name or email (case-insensitive substring)
   * or, when written like a phone number (digits, spaces and `+ ( ) . - /`, at least 3
   * digits), the customers with a number holding those digits (`+33 6 12`, `06 12 34`).
   */
  customers: CustomerConnection;
  /**
   * The runs retention marked expired: what the storage side may delete, newest first; a
   * Relay connection like `backupRuns`.
   */
  expiredBackupRuns: BackupRunViewConnection;
  /**
   * Every event of one aggregate, oldest first (admins): who (metadata.actor) changed what
   * (payload), when (recordedAt). `aggregateType`: worker, customer, call, request,
   * backup_run. A Relay connection in sequence order (`first`/`after` forward in time,
   * `last`/`before` back), at most 100 a page.
   */
  history: LogEventConnection;
  /**
   * KPIs of `[from, until)` (admins). `timeZone` is an IANA name (`Europe/Paris`); buckets
   * follow its calendar, DST included. Optional filters: one queue (calls only), one agent
   * (calls answered by them, their occupancy, and the requests assigned to them now).
   */
  kpis: KpiReport;
  /**
   * The global position of the newest event readers can see (0 on an empty log; public:
   * it tells nothing but how far the log is).
   */
  logHead: Scalars['Int']['output'];
  /** The logged-in worker. */
  me: Worker;
  /** The checkpoint and lag of every read model (admins). */
  projections: Array<ProjectionStatusView>;
  /**
   * The calls waiting now, the active agents by state, and the queue's settings (any
   * worker).
   */
  queueStatus: QueueStatus;
  /** A request (any worker). */
  request: Request;
  /** Open or pending requests with an alert raised (due soon or overdue), by due date. */
  requestAlerts: RequestAlertConnection;
  /** Requests (any worker); `search` matches the message. */
  requests: RequestConnection;
  /**
   * The settings in force (admins): per queue, the request allowances, the KPIs'
   * threshold T. Values nobody changed are the server's environment's (version 0).
   */
  settings: Settings;
  /** An aggregate's state after event `version`, or as of instant `at`, or now (admins). */
  stateAt: AggregateStateView;
  /** The server's version (public). */
  version: Scalars['String']['output'];
  /**
   * A worker (any worker): as in `workers`, contact details are `null` unless the caller
   * is an admin or that worker.
   */
  worker: Worker;
  /** Workers (any worker), sorted by name or time in state; `search` matches name or email. */
  workers: WorkerConnection;
};


export type QueryActorActivityArgs = {
  actor: Scalars['String']['input'];
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  from: Scalars['DateTime']['input'];
  last?: InputMaybe<Scalars['Int']['input']>;
  until: Scalars['DateTime']['input'];
};


export type QueryBackupRunsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  customerId: Scalars['ID']['input'];
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryBackupStatusArgs = {
  customerId: Scalars['ID']['input'];
};


export type QueryCallArgs = {
  id: Scalars['ID']['input'];
};


export type QueryCallsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  agentId?: InputMaybe<Scalars['ID']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  callerNumber?: InputMaybe<Scalars['String']['input']>;
  customerId?: InputMaybe<Scalars['ID']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  outcome?: InputMaybe<CallOutcome>;
  queuedFrom?: InputMaybe<Scalars['DateTime']['input']>;
  queuedUntil?: InputMaybe<Scalars['DateTime']['input']>;
  state?: InputMaybe<CallState>;
};


export type QueryCustomerArgs = {
  id: Scalars['ID']['input'];
};


export type QueryCustomerByNumberArgs = {
  number: Scalars['String']['input'];
};


export type QueryCustomersArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  search?: InputMaybe<Scalars['String']['input']>;
  sortBy?: CustomerSort;
};


export type QueryExpiredBackupRunsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  customerId: Scalars['ID']['input'];
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryHistoryArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  aggregateId: Scalars['String']['input'];
  aggregateType: Scalars['String']['input'];
  before?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryKpisArgs = {
  agentId?: InputMaybe<Scalars['ID']['input']>;
  bucket: KpiBucketSize;
  from: Scalars['DateTime']['input'];
  queue?: InputMaybe<Scalars['String']['input']>;
  timeZone: Scalars['String']['input'];
  until: Scalars['DateTime']['input'];
};


export type QueryRequestArgs = {
  id: Scalars['ID']['input'];
};


export type QueryRequestAlertsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryRequestsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  assigneeId?: InputMaybe<Scalars['ID']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  customerId?: InputMaybe<Scalars['ID']['input']>;
  dueFrom?: InputMaybe<Scalars['DateTime']['input']>;
  dueUntil?: InputMaybe<Scalars['DateTime']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  openedFrom?: InputMaybe<Scalars['DateTime']['input']>;
  openedUntil?: InputMaybe<Scalars['DateTime']['input']>;
  priority?: InputMaybe<Priority>;
  search?: InputMaybe<Scalars['String']['input']>;
  sortBy?: RequestSort;
  status?: InputMaybe<RequestStatus>;
};


export type QueryStateAtArgs = {
  aggregateId: Scalars['String']['input'];
  aggregateType: Scalars['String']['input'];
  at?: InputMaybe<Scalars['DateTime']['input']>;
  version?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryWorkerArgs = {
  id: Scalars['ID']['input'];
};


export type QueryWorkersArgs = {
  active?: InputMaybe<Scalars['Boolean']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  search?: InputMaybe<Scalars['String']['input']>;
  sortBy?: WorkerSort;
  state?: InputMaybe<PresenceState>;
};

/** One queue's settings in force. */
export type QueueConfiguration = {
  __typename?: 'QueueConfiguration';
  /** Calls waiting above which new callers are rejected `queue_full`. */
  maxQueueLength: Scalars['Int']['output'];
  /** How long a caller waits at most before being rejected `max_wait_exceeded`. */
  maxWaitSecs: Scalars['Int']['output'];
  /** How long an agent's phone rings before the offer counts as missed. */
  offerTimeoutSecs: Scalars['Int']['output'];
  /** The queue (`default`: the one queue there is today). */
  queueId: Scalars['String']['output'];
  /** ARI media played to a rejected caller (`sound:…`); `null`: hung up at once. */
  rejectAnnouncement?: Maybe<Scalars['String']['output']>;
  /** When an admin last changed them (`null`: the environment's values). */
  updatedAt?: Maybe<Scalars['DateTime']['output']>;
  /** The version to send as `expectedVersion` (0: never changed, the environment's values). */
  version: Scalars['Int']['output'];
  /** Wrap-up after each call before the agent is Available again (0 = none). */
  wrapUpSecs: Scalars['Int']['output'];
};

/** The queue's settings. */
export type QueueSettings = {
  __typename?: 'QueueSettings';
  maxQueueLength: Scalars['Int']['output'];
  maxWaitSecs: Scalars['Int']['output'];
  offerTimeoutSecs: Scalars['Int']['output'];
  wrapUpSecs: Scalars['Int']['output'];
};

/** A queue's new settings (all of them; `queueId` absent: `default`). */
export type QueueSettingsInput = {
  /** 0 to 100000. */
  maxQueueLength: Scalars['Int']['input'];
  /** 1 to 86400. */
  maxWaitSecs: Scalars['Int']['input'];
  /** 1 to 600. */
  offerTimeoutSecs: Scalars['Int']['input'];
  queueId?: InputMaybe<Scalars['String']['input']>;
  /** An ARI media URI (`sound:vm-nobodyavail`); `null`: hang up rejected callers at once. */
  rejectAnnouncement?: InputMaybe<Scalars['String']['input']>;
  /** 0 to 3600. */
  wrapUpSecs: Scalars['Int']['input'];
};

/** The queue now (`queueStatus`). */
export type QueueStatus = {
  __typename?: 'QueueStatus';
  agents: Array<AgentsInState>;
  /** The longest current wait, in seconds (0 when nobody waits). */
  oldestWaitSecs: Scalars['Int']['output'];
  settings: QueueSettings;
  waiting: Array<WaitingCall>;
};

/** The answer of `rebuildProjection`. */
export type RebuildStarted = {
  __typename?: 'RebuildStarted';
  /** The projections being rebuilt, in order. */
  projections: Array<Scalars['String']['output']>;
};

/** A rebuild's progress: a progress bar is `done / total`. */
export type RebuildStatusView = {
  __typename?: 'RebuildStatusView';
  /** Events read from the log and applied so far. */
  done: Scalars['Int']['output'];
  /** Why it failed (the live tables are then untouched). */
  error?: Maybe<Scalars['String']['output']>;
  /** Seconds left at the current rate, while running. */
  etaSecs?: Maybe<Scalars['Float']['output']>;
  finishedAt?: Maybe<Scalars['DateTime']['output']>;
  /** `done / total` between 0 and 1; 1 once finished without error. */
  fraction?: Maybe<Scalars['Float']['output']>;
  /** Events per second so far. */
  rate?: Maybe<Scalars['Float']['output']>;
  requestedAt: Scalars['DateTime']['output'];
  /** True from the request until it ends (queued behind another rebuild included). */
  running: Scalars['Boolean']['output'];
  /** When reading the log began; none while queued. */
  startedAt?: Maybe<Scalars['DateTime']['output']>;
  /** Events in the log when the rebuild began (more may come: `done` may pass it). */
  total?: Maybe<Scalars['Int']['output']>;
};

export type RegisterCustomerInput = {
  avatarUrl?: InputMaybe<Scalars['String']['input']>;
  email?: InputMaybe<Scalars['String']['input']>;
  name: Scalars['String']['input'];
  notes?: Scalars['String']['input'];
  /** At least one; national numbers take the server's default country code. */
  phones: Array<Scalars['String']['input']>;
};

export type RegisterWorkerInput = {
  email: Scalars['String']['input'];
  /** `PJSIP/2001` style; unique among active workers. */
  endpoint?: InputMaybe<Scalars['String']['input']>;
  name: Scalars['String']['input'];
  /** The initial password (10 to 128 printable characters). */
  password: Scalars['String']['input'];
  role: Role;
};

/** A request (ticket). */
export type Request = {
  __typename?: 'Request';
  /** The assigned worker (email and endpoint `null` unless the caller is an admin or them). */
  assignee?: Maybe<Worker>;
  assigneeId?: Maybe<Scalars['ID']['output']>;
  /**
   * The call it was opened from, as `call(id)` shows it: `null` when there is none or when
   * the caller may not see it (an agent sees the calls offered to or taken by them).
   */
  call?: Maybe<Call>;
  callId?: Maybe<Scalars['ID']['output']>;
  /** The customer (as `customer(id)` shows them; erased ones say so). */
  customer?: Maybe<Customer>;
  customerId: Scalars['ID']['output'];
  dueAt: Scalars['DateTime']['output'];
  id: Scalars['ID']['output'];
  message: Scalars['String']['output'];
  openedAt: Scalars['DateTime']['output'];
  /**
   * The worker who opened it (email and endpoint `null` unless the caller is an admin or
   * them).
   */
  openedBy?: Maybe<Worker>;
  openedById?: Maybe<Scalars['ID']['output']>;
  priority: Priority;
  status: RequestStatus;
  type: RequestType;
  version: Scalars['Int']['output'];
};

/** A request with an alert raised (due soon or overdue) that is still open or pending. */
export type RequestAlert = {
  __typename?: 'RequestAlert';
  /** `DUE_SOON` or `OVERDUE`. */
  alert: RequestAlertKind;
  request: Request;
};

export type RequestAlertConnection = {
  __typename?: 'RequestAlertConnection';
  /** A list of edges. */
  edges: Array<RequestAlertEdge>;
  /** A list of nodes. */
  nodes: Array<RequestAlert>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** How many items match the filters, across all pages. */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type RequestAlertEdge = {
  __typename?: 'RequestAlertEdge';
  /** A cursor for use in pagination */
  cursor: Scalars['String']['output'];
  /** The item at the end of the edge */
  node: RequestAlert;
};

export type RequestAlertKind =
  | 'DUE_SOON'
  | 'OVERDUE';

export type RequestConnection = {
  __typename?: 'RequestConnection';
  /** A list of edges. */
  edges: Array<RequestEdge>;
  /** A list of nodes. */
  nodes: Array<Request>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** How many items match the filters, across all pages. */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type RequestEdge = {
  __typename?: 'RequestEdge';
  /** A cursor for use in pagination */
  cursor: Scalars['String']['output'];
  /** The item at the end of the edge */
  node: Request;
};

/**
 * The due allowance per priority and the due-soon cap given to requests opened from now on
 * (a request keeps the policy it was opened with).
 */
export type RequestSettings = {
  __typename?: 'RequestSettings';
  /**
   * `dueSoon` is raised when a quarter of the allowance remains, at most this long before
   * the due date (0: never).
   */
  dueSoonCapSecs: Scalars['Int']['output'];
  highSecs: Scalars['Int']['output'];
  lowSecs: Scalars['Int']['output'];
  normalSecs: Scalars['Int']['output'];
  /** When an admin last changed them (`null`: the environment's values). */
  updatedAt?: Maybe<Scalars['DateTime']['output']>;
  urgentSecs: Scalars['Int']['output'];
  /** The call center settings' version (shared with `serviceLevel`), for `expectedVersion`. */
  version: Scalars['Int']['output'];
};

/** The new request policy (all of it), in seconds. */
export type RequestSettingsInput = {
  /** 0 to a year. */
  dueSoonCapSecs: Scalars['Int']['input'];
  highSecs: Scalars['Int']['input'];
  lowSecs: Scalars['Int']['input'];
  normalSecs: Scalars['Int']['input'];
  /** Each allowance: 60 s to a year. */
  urgentSecs: Scalars['Int']['input'];
};

/** Sort keys of `requests`. */
export type RequestSort =
  | 'DUE_AT'
  | 'OPENED_AT'
  | 'UPDATED_AT';

export type RequestStatus =
  | 'CLOSED'
  | 'OPEN'
  | 'PENDING'
  | 'SOLVED';

export type RequestType =
  | 'INCIDENT'
  | 'PROBLEM'
  | 'QUESTION'
  | 'TASK';

/** What a worker may do. */
export type Role =
  | 'ADMIN'
  | 'AGENT';

/** The KPIs' service-level threshold T. */
export type ServiceLevelSettings = {
  __typename?: 'ServiceLevelSettings';
  /** A call counts as answered in time when answered within this many seconds. */
  thresholdSecs: Scalars['Int']['output'];
  /** When an admin last changed it (`null`: the environment's value). */
  updatedAt?: Maybe<Scalars['DateTime']['output']>;
  /** The call center settings' version (shared with `requests`), for `expectedVersion`. */
  version: Scalars['Int']['output'];
};

/** Every setting admins change while the server runs. */
export type Settings = {
  __typename?: 'Settings';
  /** Per queue (today the one `default` queue). */
  queues: Array<QueueConfiguration>;
  requests: RequestSettings;
  serviceLevel: ServiceLevelSettings;
};

/** How many workers are in one state. */
export type StateCount = {
  __typename?: 'StateCount';
  count: Scalars['Int']['output'];
  state: PresenceState;
};

export type Subscription = {
  __typename?: 'Subscription';
  /**
   * Request alerts (`DUE_SOON`, `OVERDUE`) and backup alerts (`BACKUP_OVERDUE`,
   * `BACKUP_FAILED`, `BACKUP_RECOVERED`), for every worker. The first message has no alert and names the log
   * position followed from; `fromPosition` resumes after a position (default: from now).
   */
  alerts: AlertMessage;
  /**
   * One call's progress: its state now, then after each of its events (admins: any call;
   * agents: calls offered to or taken by them).
   */
  callUpdates: CallUpdate;
  /**
   * Every event of the log in log order, starting right after `fromPosition` (0: from the
   * beginning), then live (admin).
   */
  events: LogEvent;
  /** The caller's own worker: now, then after each change of their presence. */
  myState: Worker;
  /**
   * The calls offered to the caller (screen pop: caller number, customer, open requests,
   * backup status). The first message has no offer and names the log position followed
   * from; `fromPosition` resumes after a position (default: from now).
   */
  offers: OfferMessage;
  /**
   * The supervisor's wallboard (admin): a snapshot now, then a new one after changes (at
   * most about three per second).
   */
  wallboard: Wallboard;
};


export type SubscriptionAlertsArgs = {
  fromPosition?: InputMaybe<Scalars['Int']['input']>;
};


export type SubscriptionCallUpdatesArgs = {
  callId: Scalars['ID']['input'];
};


export type SubscriptionEventsArgs = {
  fromPosition?: Scalars['Int']['input'];
};


export type SubscriptionOffersArgs = {
  fromPosition?: InputMaybe<Scalars['Int']['input']>;
};

export type UpdateCustomerInput = {
  avatarUrl?: InputMaybe<Scalars['String']['input']>;
  clearAvatarUrl?: Scalars['Boolean']['input'];
  clearEmail?: Scalars['Boolean']['input'];
  email?: InputMaybe<Scalars['String']['input']>;
  name?: InputMaybe<Scalars['String']['input']>;
  notes?: InputMaybe<Scalars['String']['input']>;
  /** Replaces the whole list. */
  phones?: InputMaybe<Array<Scalars['String']['input']>>;
};

/**
 * What a worker may change about themself (`updateMyProfile`): each absent field is left
 * unchanged.
 */
export type UpdateMyProfileInput = {
  /**
   * An https URL (http only for localhost), at most 2000 characters; `null` removes the
   * avatar.
   */
  avatarUrl?: InputMaybe<Scalars['String']['input']>;
  name?: InputMaybe<Scalars['String']['input']>;
};

export type UpdateRequestInput = {
  assigneeId?: InputMaybe<Scalars['ID']['input']>;
  /** RFC 3339; in the future. */
  dueAt?: InputMaybe<Scalars['String']['input']>;
  message?: InputMaybe<Scalars['String']['input']>;
  priority?: InputMaybe<Priority>;
  type?: InputMaybe<RequestType>;
  unassign?: Scalars['Boolean']['input'];
};

export type UpdateWorkerInput = {
  /** Removes the endpoint (`endpoint` must then be absent). */
  clearEndpoint?: Scalars['Boolean']['input'];
  email?: InputMaybe<Scalars['String']['input']>;
  endpoint?: InputMaybe<Scalars['String']['input']>;
  name?: InputMaybe<Scalars['String']['input']>;
};

/** A call waiting in the queue now. */
export type WaitingCall = {
  __typename?: 'WaitingCall';
  attempts: Scalars['Int']['output'];
  callId: Scalars['ID']['output'];
  /**
   * The caller's number: `null` unless the caller of `queueStatus` is an admin or the agent
   * the call is ringing (agents not involved see that someone waits, not who).
   */
  callerNumber?: Maybe<Scalars['String']['output']>;
  customerId?: Maybe<Scalars['ID']['output']>;
  queue: Scalars['String']['output'];
  queuedAt: Scalars['DateTime']['output'];
  /** The agent being offered the call, if one is. */
  ringingAgentId?: Maybe<Scalars['ID']['output']>;
  /** Seconds waited so far. */
  waitSecs: Scalars['Int']['output'];
};

/** The supervisor's view of the call center. */
export type Wallboard = {
  __typename?: 'Wallboard';
  /** Active workers, by name. */
  agents: Array<WallboardAgent>;
  agentsByState: Array<StateCount>;
  /** When the snapshot was taken. */
  at: Scalars['DateTime']['output'];
  /** Calls in the queue whose offer is ringing. */
  callsRinging: Scalars['Int']['output'];
  /** Calls in the queue (ringing ones included). */
  callsWaiting: Scalars['Int']['output'];
  oldestQueuedAt?: Maybe<Scalars['DateTime']['output']>;
  oldestWaitSecs?: Maybe<Scalars['Int']['output']>;
  today: WallboardKpis;
};

/** One worker on the wallboard. */
export type WallboardAgent = {
  __typename?: 'WallboardAgent';
  callId?: Maybe<Scalars['ID']['output']>;
  id: Scalars['ID']['output'];
  name: Scalars['String']['output'];
  pauseReason?: Maybe<Scalars['String']['output']>;
  /** Seconds in the current state when the snapshot was taken. */
  secondsInState: Scalars['Int']['output'];
  since: Scalars['DateTime']['output'];
  state: PresenceState;
};

/** Today's numbers (UTC day, PRODUCT §8 definitions). */
export type WallboardKpis = {
  __typename?: 'WallboardKpis';
  /** Calls abandoned today. */
  abandoned: Scalars['Int']['output'];
  /** Calls connected today. */
  answered: Scalars['Int']['output'];
  /** Mean queue wait of today's answered calls. */
  asaSecs?: Maybe<Scalars['Float']['output']>;
  /** Calls queued today. */
  offered: Scalars['Int']['output'];
  /** Open or pending requests past their due date now. */
  requestsOverdue: Scalars['Int']['output'];
};

/**
 * A worker (admin or agent). Every worker sees every worker's name, role and presence;
 * contact details (`email`, `endpoint`) are `null` unless the caller is an admin or that
 * worker: the same in `workers`, `worker(id)` and everywhere a worker appears.
 */
export type Worker = {
  __typename?: 'Worker';
  active: Scalars['Boolean']['output'];
  /**
   * The avatar picture the worker chose (`updateMyProfile`): an https URL (http only for
   * localhost); `null`: none.
   */
  avatarUrl?: Maybe<Scalars['String']['output']>;
  /** The worker's email: `null` unless the caller is an admin or this worker. */
  email?: Maybe<Scalars['String']['output']>;
  /**
   * `PJSIP/2001` style: `null` when the worker has none, or unless the caller is an admin
   * or this worker.
   */
  endpoint?: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  /** When the worker last became Available. */
  idleSince?: Maybe<Scalars['DateTime']['output']>;
  name: Scalars['String']['output'];
  presence: WorkerPresence;
  role: Role;
  /** The aggregate's version, for `expectedVersion`. */
  version: Scalars['Int']['output'];
};

export type WorkerConnection = {
  __typename?: 'WorkerConnection';
  /** A list of edges. */
  edges: Array<WorkerEdge>;
  /** A list of nodes. */
  nodes: Array<Worker>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** How many items match the filters, across all pages. */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type WorkerEdge = {
  __typename?: 'WorkerEdge';
  /** A cursor for use in pagination */
  cursor: Scalars['String']['output'];
  /** The item at the end of the edge */
  node: Worker;
};

/** A worker's presence. */
export type WorkerPresence = {
  __typename?: 'WorkerPresence';
  /** The call ringing or in progress. */
  callId?: Maybe<Scalars['ID']['output']>;
  /** Why paused. */
  reason?: Maybe<Scalars['String']['output']>;
  /** Since when the worker is in this state. */
  since?: Maybe<Scalars['DateTime']['output']>;
  state: PresenceState;
  /** When the wrap-up ends. */
  wrapUpUntil?: Maybe<Scalars['DateTime']['output']>;
};

/** Sort keys of `workers`. */
export type WorkerSort =
  | 'NAME'
  | 'STATE_SINCE';

export type LoginMutationVariables = Exact<{
  email: Scalars['String']['input'];
  password: Scalars['String']['input'];
}>;


export type LoginMutation = { __typename?: 'Mutation', login: { __typename?: 'AuthPayload', accessToken: string, accessTokenExpiresAt: string, refreshToken: string, refreshTokenExpiresAt: string, worker: { __typename?: 'Worker', id: string, name: string, role: Role } } };

export type SetupFirstAdminMutationVariables = Exact<{
  token: Scalars['String']['input'];
  email: Scalars['String']['input'];
  name: Scalars['String']['input'];
  password: Scalars['String']['input'];
}>;


export type SetupFirstAdminMutation = { __typename?: 'Mutation', setupFirstAdmin: { __typename?: 'AuthPayload', accessToken: string, accessTokenExpiresAt: string, refreshToken: string, refreshTokenExpiresAt: string, worker: { __typename?: 'Worker', id: string, name: string, role: Role } } };

export type RefreshMutationVariables = Exact<{
  refreshToken: Scalars['String']['input'];
}>;


export type RefreshMutation = { __typename?: 'Mutation', refreshSession: { __typename?: 'AuthPayload', accessToken: string, accessTokenExpiresAt: string, refreshToken: string, refreshTokenExpiresAt: string, worker: { __typename?: 'Worker', id: string, name: string, role: Role } } };

export type LogoutMutationVariables = Exact<{ [key: string]: never; }>;


export type LogoutMutation = { __typename?: 'Mutation', logout: boolean };

export type MyStateSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type MyStateSubscription = { __typename?: 'Subscription', myState: { __typename?: 'Worker', id: string, version: number, name: string, role: Role, presence: { __typename?: 'WorkerPresence', state: PresenceState, reason?: string | null, callId?: string | null, wrapUpUntil?: string | null, since?: string | null } } };

export type SetAvailabilityMutationVariables = Exact<{
  state: AvailabilityState;
  reason?: InputMaybe<Scalars['String']['input']>;
}>;


export type SetAvailabilityMutation = { __typename?: 'Mutation', setAvailability: { __typename?: 'Worker', id: string, presence: { __typename?: 'WorkerPresence', state: PresenceState, reason?: string | null, since?: string | null } } };

export type QueueSettingsQueryVariables = Exact<{ [key: string]: never; }>;


export type QueueSettingsQuery = { __typename?: 'Query', queueStatus: { __typename?: 'QueueStatus', settings: { __typename?: 'QueueSettings', offerTimeoutSecs: number, wrapUpSecs: number } } };

export type OffersSubscriptionVariables = Exact<{
  fromPosition?: InputMaybe<Scalars['Int']['input']>;
}>;


export type OffersSubscription = { __typename?: 'Subscription', offers: { __typename?: 'OfferMessage', position: number, offer?: { __typename?: 'Offer', callId: string, offeredAt: string, callerNumber: string, callerName?: string | null, backup?: { __typename?: 'BackupStatusView', status: string, lastSuccessAt?: string | null, overdueSince?: string | null, failingSince?: string | null, downReason?: string | null, expectedAt?: string | null } | null, customer?: { __typename?: 'Customer', id: string, name?: string | null, phones: Array<string>, email?: string | null, erased: boolean } | null, openRequests: Array<{ __typename?: 'Request', id: string, message: string, status: RequestStatus, priority: Priority, dueAt: string }> } | null } };

export type RecentCallsQueryVariables = Exact<{
  customerId: Scalars['ID']['input'];
}>;


export type RecentCallsQuery = { __typename?: 'Query', calls: { __typename?: 'CallConnection', nodes: Array<{ __typename?: 'Call', id: string, state: CallState, queuedAt?: string | null, talkSecs?: number | null, outcome?: CallOutcome | null }> } };

export type HangUpMutationVariables = Exact<{
  callId: Scalars['ID']['input'];
}>;


export type HangUpMutation = { __typename?: 'Mutation', hangUpCall: { __typename?: 'Call', id: string, state: CallState } };

export type OpenRequestMutationVariables = Exact<{
  input: OpenRequestInput;
}>;


export type OpenRequestMutation = { __typename?: 'Mutation', openRequest: { __typename?: 'Request', id: string, status: RequestStatus, dueAt: string } };

export type MyRequestsQueryVariables = Exact<{
  assigneeId: Scalars['ID']['input'];
}>;


export type MyRequestsQuery = { __typename?: 'Query', requests: { __typename?: 'RequestConnection', nodes: Array<{ __typename?: 'Request', id: string, version: number, message: string, status: RequestStatus, priority: Priority, type: RequestType, dueAt: string, customer?: { __typename?: 'Customer', id: string, name?: string | null } | null }> } };

export type SolveRequestMutationVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type SolveRequestMutation = { __typename?: 'Mutation', solveRequest: { __typename?: 'Request', id: string, status: RequestStatus } };

export type SetRequestPendingMutationVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type SetRequestPendingMutation = { __typename?: 'Mutation', setRequestPending: { __typename?: 'Request', id: string, status: RequestStatus } };

export type ReopenRequestMutationVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type ReopenRequestMutation = { __typename?: 'Mutation', reopenRequest: { __typename?: 'Request', id: string, status: RequestStatus } };

export type CloseRequestMutationVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type CloseRequestMutation = { __typename?: 'Mutation', closeRequest: { __typename?: 'Request', id: string, status: RequestStatus } };

export type WallboardSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type WallboardSubscription = { __typename?: 'Subscription', wallboard: { __typename?: 'Wallboard', at: string, callsWaiting: number, callsRinging: number, oldestQueuedAt?: string | null, agents: Array<{ __typename?: 'WallboardAgent', id: string, name: string, state: PresenceState, pauseReason?: string | null, since: string }>, agentsByState: Array<{ __typename?: 'StateCount', state: PresenceState, count: number }>, today: { __typename?: 'WallboardKpis', offered: number, answered: number, abandoned: number, asaSecs?: number | null, requestsOverdue: number } } };

export type WaitingCallsQueryVariables = Exact<{ [key: string]: never; }>;


export type WaitingCallsQuery = { __typename?: 'Query', queueStatus: { __typename?: 'QueueStatus', waiting: Array<{ __typename?: 'WaitingCall', callId: string, callerNumber?: string | null, queuedAt: string, ringingAgentId?: string | null, attempts: number }> } };

export type BackupCustomersQueryVariables = Exact<{ [key: string]: never; }>;


export type BackupCustomersQuery = { __typename?: 'Query', customers: { __typename?: 'CustomerConnection', nodes: Array<{ __typename?: 'Customer', id: string, name?: string | null }> } };

export type BackupStatusQueryVariables = Exact<{
  customerId: Scalars['ID']['input'];
}>;


export type BackupStatusQuery = { __typename?: 'Query', backupStatus: { __typename?: 'BackupStatusView', customerId: string, status: string, plan?: unknown | null, expectedAt?: string | null, lastSuccessAt?: string | null, overdueSince?: string | null, downReason?: string | null, lastRun?: { __typename?: 'BackupRunView', id: string, status: BackupRunStatus, reportedAt?: string | null, finishedAt?: string | null, durationSecs?: number | null } | null }, backupRuns: { __typename?: 'BackupRunViewConnection', nodes: Array<{ __typename?: 'BackupRunView', id: string, status: BackupRunStatus, startedAt?: string | null, finishedAt?: string | null, reportedAt?: string | null, durationSecs?: number | null }> } };

export type AdminWorkersQueryVariables = Exact<{ [key: string]: never; }>;


export type AdminWorkersQuery = { __typename?: 'Query', workers: { __typename?: 'WorkerConnection', nodes: Array<{ __typename?: 'Worker', id: string, version: number, name: string, email?: string | null, role: Role, endpoint?: string | null, active: boolean }> } };

export type RegisterWorkerMutationVariables = Exact<{
  input: RegisterWorkerInput;
}>;


export type RegisterWorkerMutation = { __typename?: 'Mutation', registerWorker: { __typename?: 'Worker', id: string } };

export type UpdateWorkerMutationVariables = Exact<{
  id: Scalars['ID']['input'];
  input: UpdateWorkerInput;
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
}>;


export type UpdateWorkerMutation = { __typename?: 'Mutation', updateWorker: { __typename?: 'Worker', id: string, version: number } };

export type SetWorkerRoleMutationVariables = Exact<{
  id: Scalars['ID']['input'];
  role: Role;
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
}>;


export type SetWorkerRoleMutation = { __typename?: 'Mutation', setWorkerRole: { __typename?: 'Worker', id: string, version: number, role: Role } };

export type DeactivateWorkerMutationVariables = Exact<{
  id: Scalars['ID']['input'];
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
}>;


export type DeactivateWorkerMutation = { __typename?: 'Mutation', deactivateWorker: { __typename?: 'Worker', id: string, version: number, active: boolean } };

export type ResetWorkerPasswordMutationVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type ResetWorkerPasswordMutation = { __typename?: 'Mutation', resetWorkerPassword: { __typename?: 'PasswordResetView', temporaryPassword: string, worker: { __typename?: 'Worker', id: string, version: number } } };

export type AdminCustomersQueryVariables = Exact<{
  search?: InputMaybe<Scalars['String']['input']>;
}>;


export type AdminCustomersQuery = { __typename?: 'Query', customers: { __typename?: 'CustomerConnection', nodes: Array<{ __typename?: 'Customer', id: string, version: number, name?: string | null, phones: Array<string>, email?: string | null, notes?: string | null }> } };

export type RegisterCustomerMutationVariables = Exact<{
  input: RegisterCustomerInput;
}>;


export type RegisterCustomerMutation = { __typename?: 'Mutation', registerCustomer: { __typename?: 'Customer', id: string, version: number } };

export type UpdateCustomerMutationVariables = Exact<{
  id: Scalars['ID']['input'];
  input: UpdateCustomerInput;
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
}>;


export type UpdateCustomerMutation = { __typename?: 'Mutation', updateCustomer: { __typename?: 'Customer', id: string, version: number } };

export type EraseCustomerMutationVariables = Exact<{
  id: Scalars['ID']['input'];
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
}>;


export type EraseCustomerMutation = { __typename?: 'Mutation', eraseCustomer: { __typename?: 'Customer', id: string, erased: boolean } };

export type SetBackupPlanMutationVariables = Exact<{
  customerId: Scalars['ID']['input'];
  plan: BackupPlanInput;
}>;


export type SetBackupPlanMutation = { __typename?: 'Mutation', setBackupPlan: { __typename?: 'BackupStatusView', customerId: string, status: string, expectedAt?: string | null } };

export type IssueIngestTokenMutationVariables = Exact<{
  customerId: Scalars['ID']['input'];
}>;


export type IssueIngestTokenMutation = { __typename?: 'Mutation', issueIngestToken: { __typename?: 'IssuedIngestToken', tokenId: string, token: string, hashPrefix: string } };

export type AuditEventFragment = { __typename?: 'LogEvent', position: number, eventId: string, eventType: string, aggregateType: string, aggregateId: string, sequence: number, payload: unknown, metadata: unknown, recordedAt: string };

export type HistoryQueryVariables = Exact<{
  aggregateType: Scalars['String']['input'];
  aggregateId: Scalars['String']['input'];
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type HistoryQuery = { __typename?: 'Query', history: { __typename?: 'LogEventConnection', nodes: Array<{ __typename?: 'LogEvent', position: number, eventId: string, eventType: string, aggregateType: string, aggregateId: string, sequence: number, payload: unknown, metadata: unknown, recordedAt: string }>, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor?: string | null } } };

export type StateAtQueryVariables = Exact<{
  aggregateType: Scalars['String']['input'];
  aggregateId: Scalars['String']['input'];
  version?: InputMaybe<Scalars['Int']['input']>;
  at?: InputMaybe<Scalars['DateTime']['input']>;
}>;


export type StateAtQuery = { __typename?: 'Query', stateAt: { __typename?: 'AggregateStateView', version: number, recordedAt?: string | null, state: unknown } };

export type ActorActivityQueryVariables = Exact<{
  actor: Scalars['String']['input'];
  from: Scalars['DateTime']['input'];
  until: Scalars['DateTime']['input'];
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type ActorActivityQuery = { __typename?: 'Query', actorActivity: { __typename?: 'LogEventConnection', totalCount: number, nodes: Array<{ __typename?: 'LogEvent', position: number, eventId: string, eventType: string, aggregateType: string, aggregateId: string, sequence: number, payload: unknown, metadata: unknown, recordedAt: string }>, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor?: string | null } } };

export type ProjectionsQueryVariables = Exact<{ [key: string]: never; }>;


export type ProjectionsQuery = { __typename?: 'Query', logHead: number, projections: Array<{ __typename?: 'ProjectionStatusView', name: string, position: number, lag: number, rebuild?: { __typename?: 'RebuildStatusView', running: boolean, requestedAt: string, startedAt?: string | null, done: number, total?: number | null, fraction?: number | null, rate?: number | null, etaSecs?: number | null, finishedAt?: string | null, error?: string | null } | null }> };

export type RebuildProjectionMutationVariables = Exact<{
  name?: InputMaybe<Scalars['String']['input']>;
}>;


export type RebuildProjectionMutation = { __typename?: 'Mutation', rebuildProjection: { __typename?: 'RebuildStarted', projections: Array<string> } };

export type BackupRunRowFragment = { __typename?: 'BackupRunView', id: string, clientRunId?: string | null, status: BackupRunStatus, startedAt?: string | null, finishedAt?: string | null, durationSecs?: number | null, exitStatus?: number | null, message?: string | null, expired: boolean, reportedAt?: string | null, stats?: { __typename?: 'BackupRunStats', files?: number | null, bytes?: number | null, created?: number | null, modified?: number | null, deleted?: number | null, unchanged?: number | null, createdBytes?: number | null, modifiedBytes?: number | null, deletedBytes?: number | null, unchangedBytes?: number | null } | null };

export type BackupCustomerQueryVariables = Exact<{
  customerId: Scalars['ID']['input'];
}>;


export type BackupCustomerQuery = { __typename?: 'Query', customer: { __typename?: 'Customer', id: string, name?: string | null, erased: boolean }, backupStatus: { __typename?: 'BackupStatusView', customerId: string, status: string, plan?: unknown | null, expectedAt?: string | null, lateAt?: string | null, lastSuccessAt?: string | null, runningSince?: string | null, overdueSince?: string | null, failingSince?: string | null, downReason?: string | null } };

export type BackupRunsQueryVariables = Exact<{
  customerId: Scalars['ID']['input'];
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type BackupRunsQuery = { __typename?: 'Query', backupRuns: { __typename?: 'BackupRunViewConnection', totalCount: number, nodes: Array<{ __typename?: 'BackupRunView', id: string, clientRunId?: string | null, status: BackupRunStatus, startedAt?: string | null, finishedAt?: string | null, durationSecs?: number | null, exitStatus?: number | null, message?: string | null, expired: boolean, reportedAt?: string | null, stats?: { __typename?: 'BackupRunStats', files?: number | null, bytes?: number | null, created?: number | null, modified?: number | null, deleted?: number | null, unchanged?: number | null, createdBytes?: number | null, modifiedBytes?: number | null, deletedBytes?: number | null, unchangedBytes?: number | null } | null }>, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor?: string | null } } };

export type ExpiredBackupRunsQueryVariables = Exact<{
  customerId: Scalars['ID']['input'];
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type ExpiredBackupRunsQuery = { __typename?: 'Query', expiredBackupRuns: { __typename?: 'BackupRunViewConnection', totalCount: number, nodes: Array<{ __typename?: 'BackupRunView', id: string, clientRunId?: string | null, status: BackupRunStatus, startedAt?: string | null, finishedAt?: string | null, durationSecs?: number | null, exitStatus?: number | null, message?: string | null, expired: boolean, reportedAt?: string | null, stats?: { __typename?: 'BackupRunStats', files?: number | null, bytes?: number | null, created?: number | null, modified?: number | null, deleted?: number | null, unchanged?: number | null, createdBytes?: number | null, modifiedBytes?: number | null, deletedBytes?: number | null, unchangedBytes?: number | null } | null }>, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor?: string | null } } };

export type LogHeadQueryVariables = Exact<{ [key: string]: never; }>;


export type LogHeadQuery = { __typename?: 'Query', logHead: number };

export type AlertsSubscriptionVariables = Exact<{
  fromPosition?: InputMaybe<Scalars['Int']['input']>;
}>;


export type AlertsSubscription = { __typename?: 'Subscription', alerts: { __typename?: 'AlertMessage', position: number, alert?: { __typename?: 'Alert', kind: AlertKind, customerId?: string | null, requestId?: string | null, dueAt?: string | null, at: string, request?: { __typename?: 'Request', id: string, message: string, customer?: { __typename?: 'Customer', id: string, name?: string | null } | null } | null } | null } };

export type CustomerNameQueryVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type CustomerNameQuery = { __typename?: 'Query', customer: { __typename?: 'Customer', id: string, name?: string | null } };

export type KpisQueryVariables = Exact<{
  from: Scalars['DateTime']['input'];
  until: Scalars['DateTime']['input'];
  bucket: KpiBucketSize;
  timeZone: Scalars['String']['input'];
}>;


export type KpisQuery = { __typename?: 'Query', kpis: { __typename?: 'KpiReport', timeZone: string, bucket: KpiBucketSize, overdueNow: number, buckets: Array<{ __typename?: 'KpiBucketView', start: string, end: string, offered: number, answered: number, abandoned: number, abandonedShort: number, asaSecs?: number | null, ahtSecs?: number | null, serviceLevel?: number | null, abandonmentRate?: number | null, occupancy?: number | null, requestsOpened: number, requestsSolved: number, requestsSolvedWithinDue: number }> } };

export type MyProfileQueryVariables = Exact<{ [key: string]: never; }>;


export type MyProfileQuery = { __typename?: 'Query', me: { __typename?: 'Worker', id: string, version: number, name: string, email?: string | null, role: Role, avatarUrl?: string | null } };

export type UpdateMyProfileMutationVariables = Exact<{
  input: UpdateMyProfileInput;
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
}>;


export type UpdateMyProfileMutation = { __typename?: 'Mutation', updateMyProfile: { __typename?: 'Worker', id: string, version: number, name: string, avatarUrl?: string | null } };

export type ChangePasswordMutationVariables = Exact<{
  currentPassword: Scalars['String']['input'];
  newPassword: Scalars['String']['input'];
}>;


export type ChangePasswordMutation = { __typename?: 'Mutation', changePassword: { __typename?: 'AuthPayload', accessToken: string, accessTokenExpiresAt: string, refreshToken: string, refreshTokenExpiresAt: string, worker: { __typename?: 'Worker', id: string, name: string, role: Role } } };

export type CallPopQueryVariables = Exact<{
  callId: Scalars['ID']['input'];
}>;


export type CallPopQuery = { __typename?: 'Query', call: { __typename?: 'Call', id: string, callerNumber: string, callerName?: string | null, queuedAt?: string | null, offers: Array<{ __typename?: 'CallOffer', agentId: string, offeredAt: string }>, customer?: { __typename?: 'Customer', id: string, name?: string | null, phones: Array<string>, email?: string | null, erased: boolean } | null } };

export type CustomerPopQueryVariables = Exact<{
  customerId: Scalars['ID']['input'];
}>;


export type CustomerPopQuery = { __typename?: 'Query', backupStatus: { __typename?: 'BackupStatusView', status: string, lastSuccessAt?: string | null, overdueSince?: string | null, failingSince?: string | null, downReason?: string | null, expectedAt?: string | null }, open: { __typename?: 'RequestConnection', nodes: Array<{ __typename?: 'Request', id: string, message: string, status: RequestStatus, priority: Priority, dueAt: string }> }, pending: { __typename?: 'RequestConnection', nodes: Array<{ __typename?: 'Request', id: string, message: string, status: RequestStatus, priority: Priority, dueAt: string }> } };

export type SettingsQueryVariables = Exact<{ [key: string]: never; }>;


export type SettingsQuery = { __typename?: 'Query', settings: { __typename?: 'Settings', queues: Array<{ __typename?: 'QueueConfiguration', queueId: string, offerTimeoutSecs: number, wrapUpSecs: number, maxWaitSecs: number, maxQueueLength: number, rejectAnnouncement?: string | null, version: number, updatedAt?: string | null }>, requests: { __typename?: 'RequestSettings', urgentSecs: number, highSecs: number, normalSecs: number, lowSecs: number, dueSoonCapSecs: number, version: number, updatedAt?: string | null }, serviceLevel: { __typename?: 'ServiceLevelSettings', thresholdSecs: number, version: number, updatedAt?: string | null } } };

export type UpdateQueueSettingsMutationVariables = Exact<{
  input: QueueSettingsInput;
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
}>;


export type UpdateQueueSettingsMutation = { __typename?: 'Mutation', updateQueueSettings: { __typename?: 'QueueConfiguration', queueId: string, version: number } };

export type UpdateRequestSettingsMutationVariables = Exact<{
  input: RequestSettingsInput;
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
}>;


export type UpdateRequestSettingsMutation = { __typename?: 'Mutation', updateRequestSettings: { __typename?: 'RequestSettings', version: number } };

export type UpdateServiceLevelThresholdMutationVariables = Exact<{
  thresholdSecs: Scalars['Int']['input'];
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
}>;


export type UpdateServiceLevelThresholdMutation = { __typename?: 'Mutation', updateServiceLevelThreshold: { __typename?: 'ServiceLevelSettings', version: number } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const AuditEventFragmentDoc = new TypedDocumentString(`
    fragment AuditEvent on LogEvent {
  position
  eventId
  eventType
  aggregateType
  aggregateId
  sequence
  payload
  metadata
  recordedAt
}
    `, {"fragmentName":"AuditEvent"}) as unknown as TypedDocumentString<AuditEventFragment, unknown>;
export const BackupRunRowFragmentDoc = new TypedDocumentString(`
    fragment BackupRunRow on BackupRunView {
  id
  clientRunId
  status
  startedAt
  finishedAt
  durationSecs
  exitStatus
  message
  expired
  reportedAt
  stats {
    files
    bytes
    created
    modified
    deleted
    unchanged
    createdBytes
    modifiedBytes
    deletedBytes
    unchangedBytes
  }
}
    `, {"fragmentName":"BackupRunRow"}) as unknown as TypedDocumentString<BackupRunRowFragment, unknown>;
export const LoginDocument = new TypedDocumentString(`
    mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    accessToken
    accessTokenExpiresAt
    refreshToken
    refreshTokenExpiresAt
    worker {
      id
      name
      role
    }
  }
}
    `) as unknown as TypedDocumentString<LoginMutation, LoginMutationVariables>;
export const SetupFirstAdminDocument = new TypedDocumentString(`
    mutation SetupFirstAdmin($token: String!, $email: String!, $name: String!, $password: String!) {
  setupFirstAdmin(token: $token, email: $email, name: $name, password: $password) {
    accessToken
    accessTokenExpiresAt
    refreshToken
    refreshTokenExpiresAt
    worker {
      id
      name
      role
    }
  }
}
    `) as unknown as TypedDocumentString<SetupFirstAdminMutation, SetupFirstAdminMutationVariables>;
export const RefreshDocument = new TypedDocumentString(`
    mutation Refresh($refreshToken: String!) {
  refreshSession(refreshToken: $refreshToken) {
    accessToken
    accessTokenExpiresAt
    refreshToken
    refreshTokenExpiresAt
    worker {
      id
      name
      role
    }
  }
}
    `) as unknown as TypedDocumentString<RefreshMutation, RefreshMutationVariables>;
export const LogoutDocument = new TypedDocumentString(`
    mutation Logout {
  logout
}
    `) as unknown as TypedDocumentString<LogoutMutation, LogoutMutationVariables>;
export const MyStateDocument = new TypedDocumentString(`
    subscription MyState {
  myState {
    id
    version
    name
    role
    presence {
      state
      reason
      callId
      wrapUpUntil
      since
    }
  }
}
    `) as unknown as TypedDocumentString<MyStateSubscription, MyStateSubscriptionVariables>;
export const SetAvailabilityDocument = new TypedDocumentString(`
    mutation SetAvailability($state: AvailabilityState!, $reason: String) {
  setAvailability(state: $state, reason: $reason) {
    id
    presence {
      state
      reason
      since
    }
  }
}
    `) as unknown as TypedDocumentString<SetAvailabilityMutation, SetAvailabilityMutationVariables>;
export const QueueSettingsDocument = new TypedDocumentString(`
    query QueueSettings {
  queueStatus {
    settings {
      offerTimeoutSecs
      wrapUpSecs
    }
  }
}
    `) as unknown as TypedDocumentString<QueueSettingsQuery, QueueSettingsQueryVariables>;
export const OffersDocument = new TypedDocumentString(`
    subscription Offers($fromPosition: Int) {
  offers(fromPosition: $fromPosition) {
    position
    offer {
      callId
      offeredAt
      callerNumber
      callerName
      backup {
        status
        lastSuccessAt
        overdueSince
        failingSince
        downReason
        expectedAt
      }
      customer {
        id
        name
        phones
        email
        erased
      }
      openRequests {
        id
        message
        status
        priority
        dueAt
      }
    }
  }
}
    `) as unknown as TypedDocumentString<OffersSubscription, OffersSubscriptionVariables>;
export const RecentCallsDocument = new TypedDocumentString(`
    query RecentCalls($customerId: ID!) {
  calls(customerId: $customerId, last: 5) {
    nodes {
      id
      state
      queuedAt
      talkSecs
      outcome
    }
  }
}
    `) as unknown as TypedDocumentString<RecentCallsQuery, RecentCallsQueryVariables>;
export const HangUpDocument = new TypedDocumentString(`
    mutation HangUp($callId: ID!) {
  hangUpCall(callId: $callId) {
    id
    state
  }
}
    `) as unknown as TypedDocumentString<HangUpMutation, HangUpMutationVariables>;
export const OpenRequestDocument = new TypedDocumentString(`
    mutation OpenRequest($input: OpenRequestInput!) {
  openRequest(input: $input) {
    id
    status
    dueAt
  }
}
    `) as unknown as TypedDocumentString<OpenRequestMutation, OpenRequestMutationVariables>;
export const MyRequestsDocument = new TypedDocumentString(`
    query MyRequests($assigneeId: ID!) {
  requests(assigneeId: $assigneeId, sortBy: DUE_AT, first: 50) {
    nodes {
      id
      version
      message
      status
      priority
      type
      dueAt
      customer {
        id
        name
      }
    }
  }
}
    `) as unknown as TypedDocumentString<MyRequestsQuery, MyRequestsQueryVariables>;
export const SolveRequestDocument = new TypedDocumentString(`
    mutation SolveRequest($id: ID!) {
  solveRequest(id: $id) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<SolveRequestMutation, SolveRequestMutationVariables>;
export const SetRequestPendingDocument = new TypedDocumentString(`
    mutation SetRequestPending($id: ID!) {
  setRequestPending(id: $id) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<SetRequestPendingMutation, SetRequestPendingMutationVariables>;
export const ReopenRequestDocument = new TypedDocumentString(`
    mutation ReopenRequest($id: ID!) {
  reopenRequest(id: $id) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<ReopenRequestMutation, ReopenRequestMutationVariables>;
export const CloseRequestDocument = new TypedDocumentString(`
    mutation CloseRequest($id: ID!) {
  closeRequest(id: $id) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<CloseRequestMutation, CloseRequestMutationVariables>;
export const WallboardDocument = new TypedDocumentString(`
    subscription Wallboard {
  wallboard {
    at
    callsWaiting
    callsRinging
    oldestQueuedAt
    agents {
      id
      name
      state
      pauseReason
      since
    }
    agentsByState {
      state
      count
    }
    today {
      offered
      answered
      abandoned
      asaSecs
      requestsOverdue
    }
  }
}
    `) as unknown as TypedDocumentString<WallboardSubscription, WallboardSubscriptionVariables>;
export const WaitingCallsDocument = new TypedDocumentString(`
    query WaitingCalls {
  queueStatus {
    waiting {
      callId
      callerNumber
      queuedAt
      ringingAgentId
      attempts
    }
  }
}
    `) as unknown as TypedDocumentString<WaitingCallsQuery, WaitingCallsQueryVariables>;
export const BackupCustomersDocument = new TypedDocumentString(`
    query BackupCustomers {
  customers(first: 100) {
    nodes {
      id
      name
    }
  }
}
    `) as unknown as TypedDocumentString<BackupCustomersQuery, BackupCustomersQueryVariables>;
export const BackupStatusDocument = new TypedDocumentString(`
    query BackupStatus($customerId: ID!) {
  backupStatus(customerId: $customerId) {
    customerId
    status
    plan
    expectedAt
    lastSuccessAt
    overdueSince
    downReason
    lastRun {
      id
      status
      reportedAt
      finishedAt
      durationSecs
    }
  }
  backupRuns(customerId: $customerId, first: 12) {
    nodes {
      id
      status
      startedAt
      finishedAt
      reportedAt
      durationSecs
    }
  }
}
    `) as unknown as TypedDocumentString<BackupStatusQuery, BackupStatusQueryVariables>;
export const AdminWorkersDocument = new TypedDocumentString(`
    query AdminWorkers {
  workers(first: 100) {
    nodes {
      id
      version
      name
      email
      role
      endpoint
      active
    }
  }
}
    `) as unknown as TypedDocumentString<AdminWorkersQuery, AdminWorkersQueryVariables>;
export const RegisterWorkerDocument = new TypedDocumentString(`
    mutation RegisterWorker($input: RegisterWorkerInput!) {
  registerWorker(input: $input) {
    id
  }
}
    `) as unknown as TypedDocumentString<RegisterWorkerMutation, RegisterWorkerMutationVariables>;
export const UpdateWorkerDocument = new TypedDocumentString(`
    mutation UpdateWorker($id: ID!, $input: UpdateWorkerInput!, $expectedVersion: Int) {
  updateWorker(id: $id, input: $input, expectedVersion: $expectedVersion) {
    id
    version
  }
}
    `) as unknown as TypedDocumentString<UpdateWorkerMutation, UpdateWorkerMutationVariables>;
export const SetWorkerRoleDocument = new TypedDocumentString(`
    mutation SetWorkerRole($id: ID!, $role: Role!, $expectedVersion: Int) {
  setWorkerRole(id: $id, role: $role, expectedVersion: $expectedVersion) {
    id
    version
    role
  }
}
    `) as unknown as TypedDocumentString<SetWorkerRoleMutation, SetWorkerRoleMutationVariables>;
export const DeactivateWorkerDocument = new TypedDocumentString(`
    mutation DeactivateWorker($id: ID!, $expectedVersion: Int) {
  deactivateWorker(id: $id, expectedVersion: $expectedVersion) {
    id
    version
    active
  }
}
    `) as unknown as TypedDocumentString<DeactivateWorkerMutation, DeactivateWorkerMutationVariables>;
export const ResetWorkerPasswordDocument = new TypedDocumentString(`
    mutation ResetWorkerPassword($id: ID!) {
  resetWorkerPassword(id: $id) {
    temporaryPassword
    worker {
      id
      version
    }
  }
}
    `) as unknown as TypedDocumentString<ResetWorkerPasswordMutation, ResetWorkerPasswordMutationVariables>;
export const AdminCustomersDocument = new TypedDocumentString(`
    query AdminCustomers($search: String) {
  customers(search: $search, first: 100) {
    nodes {
      id
      version
      name
      phones
      email
      notes
    }
  }
}
    `) as unknown as TypedDocumentString<AdminCustomersQuery, AdminCustomersQueryVariables>;
export const RegisterCustomerDocument = new TypedDocumentString(`
    mutation RegisterCustomer($input: RegisterCustomerInput!) {
  registerCustomer(input: $input) {
    id
    version
  }
}
    `) as unknown as TypedDocumentString<RegisterCustomerMutation, RegisterCustomerMutationVariables>;
export const UpdateCustomerDocument = new TypedDocumentString(`
    mutation UpdateCustomer($id: ID!, $input: UpdateCustomerInput!, $expectedVersion: Int) {
  updateCustomer(id: $id, input: $input, expectedVersion: $expectedVersion) {
    id
    version
  }
}
    `) as unknown as TypedDocumentString<UpdateCustomerMutation, UpdateCustomerMutationVariables>;
export const EraseCustomerDocument = new TypedDocumentString(`
    mutation EraseCustomer($id: ID!, $expectedVersion: Int) {
  eraseCustomer(id: $id, expectedVersion: $expectedVersion) {
    id
    erased
  }
}
    `) as unknown as TypedDocumentString<EraseCustomerMutation, EraseCustomerMutationVariables>;
export const SetBackupPlanDocument = new TypedDocumentString(`
    mutation SetBackupPlan($customerId: ID!, $plan: BackupPlanInput!) {
  setBackupPlan(customerId: $customerId, plan: $plan) {
    customerId
    status
    expectedAt
  }
}
    `) as unknown as TypedDocumentString<SetBackupPlanMutation, SetBackupPlanMutationVariables>;
export const IssueIngestTokenDocument = new TypedDocumentString(`
    mutation IssueIngestToken($customerId: ID!) {
  issueIngestToken(customerId: $customerId) {
    tokenId
    token
    hashPrefix
  }
}
    `) as unknown as TypedDocumentString<IssueIngestTokenMutation, IssueIngestTokenMutationVariables>;
export const HistoryDocument = new TypedDocumentString(`
    query History($aggregateType: String!, $aggregateId: String!, $after: String) {
  history(
    aggregateType: $aggregateType
    aggregateId: $aggregateId
    first: 100
    after: $after
  ) {
    nodes {
      ...AuditEvent
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
    fragment AuditEvent on LogEvent {
  position
  eventId
  eventType
  aggregateType
  aggregateId
  sequence
  payload
  metadata
  recordedAt
}`) as unknown as TypedDocumentString<HistoryQuery, HistoryQueryVariables>;
export const StateAtDocument = new TypedDocumentString(`
    query StateAt($aggregateType: String!, $aggregateId: String!, $version: Int, $at: DateTime) {
  stateAt(
    aggregateType: $aggregateType
    aggregateId: $aggregateId
    version: $version
    at: $at
  ) {
    version
    recordedAt
    state
  }
}
    `) as unknown as TypedDocumentString<StateAtQuery, StateAtQueryVariables>;
export const ActorActivityDocument = new TypedDocumentString(`
    query ActorActivity($actor: String!, $from: DateTime!, $until: DateTime!, $after: String) {
  actorActivity(
    actor: $actor
    from: $from
    until: $until
    first: 50
    after: $after
  ) {
    nodes {
      ...AuditEvent
    }
    pageInfo {
      hasNextPage
      endCursor
    }
    totalCount
  }
}
    fragment AuditEvent on LogEvent {
  position
  eventId
  eventType
  aggregateType
  aggregateId
  sequence
  payload
  metadata
  recordedAt
}`) as unknown as TypedDocumentString<ActorActivityQuery, ActorActivityQueryVariables>;
export const ProjectionsDocument = new TypedDocumentString(`
    query Projections {
  logHead
  projections {
    name
    position
    lag
    rebuild {
      running
      requestedAt
      startedAt
      done
      total
      fraction
      rate
      etaSecs
      finishedAt
      error
    }
  }
}
    `) as unknown as TypedDocumentString<ProjectionsQuery, ProjectionsQueryVariables>;
export const RebuildProjectionDocument = new TypedDocumentString(`
    mutation RebuildProjection($name: String) {
  rebuildProjection(name: $name) {
    projections
  }
}
    `) as unknown as TypedDocumentString<RebuildProjectionMutation, RebuildProjectionMutationVariables>;
export const BackupCustomerDocument = new TypedDocumentString(`
    query BackupCustomer($customerId: ID!) {
  customer(id: $customerId) {
    id
    name
    erased
  }
  backupStatus(customerId: $customerId) {
    customerId
    status
    plan
    expectedAt
    lateAt
    lastSuccessAt
    runningSince
    overdueSince
    failingSince
    downReason
  }
}
    `) as unknown as TypedDocumentString<BackupCustomerQuery, BackupCustomerQueryVariables>;
export const BackupRunsDocument = new TypedDocumentString(`
    query BackupRuns($customerId: ID!, $after: String) {
  backupRuns(customerId: $customerId, first: 20, after: $after) {
    nodes {
      ...BackupRunRow
    }
    pageInfo {
      hasNextPage
      endCursor
    }
    totalCount
  }
}
    fragment BackupRunRow on BackupRunView {
  id
  clientRunId
  status
  startedAt
  finishedAt
  durationSecs
  exitStatus
  message
  expired
  reportedAt
  stats {
    files
    bytes
    created
    modified
    deleted
    unchanged
    createdBytes
    modifiedBytes
    deletedBytes
    unchangedBytes
  }
}`) as unknown as TypedDocumentString<BackupRunsQuery, BackupRunsQueryVariables>;
export const ExpiredBackupRunsDocument = new TypedDocumentString(`
    query ExpiredBackupRuns($customerId: ID!, $after: String) {
  expiredBackupRuns(customerId: $customerId, first: 20, after: $after) {
    nodes {
      ...BackupRunRow
    }
    pageInfo {
      hasNextPage
      endCursor
    }
    totalCount
  }
}
    fragment BackupRunRow on BackupRunView {
  id
  clientRunId
  status
  startedAt
  finishedAt
  durationSecs
  exitStatus
  message
  expired
  reportedAt
  stats {
    files
    bytes
    created
    modified
    deleted
    unchanged
    createdBytes
    modifiedBytes
    deletedBytes
    unchangedBytes
  }
}`) as unknown as TypedDocumentString<ExpiredBackupRunsQuery, ExpiredBackupRunsQueryVariables>;
export const LogHeadDocument = new TypedDocumentString(`
    query LogHead {
  logHead
}
    `) as unknown as TypedDocumentString<LogHeadQuery, LogHeadQueryVariables>;
export const AlertsDocument = new TypedDocumentString(`
    subscription Alerts($fromPosition: Int) {
  alerts(fromPosition: $fromPosition) {
    position
    alert {
      kind
      customerId
      requestId
      dueAt
      at
      request {
        id
        message
        customer {
          id
          name
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<AlertsSubscription, AlertsSubscriptionVariables>;
export const CustomerNameDocument = new TypedDocumentString(`
    query CustomerName($id: ID!) {
  customer(id: $id) {
    id
    name
  }
}
    `) as unknown as TypedDocumentString<CustomerNameQuery, CustomerNameQueryVariables>;
export const KpisDocument = new TypedDocumentString(`
    query Kpis($from: DateTime!, $until: DateTime!, $bucket: KpiBucketSize!, $timeZone: String!) {
  kpis(from: $from, until: $until, bucket: $bucket, timeZone: $timeZone) {
    timeZone
    bucket
    overdueNow
    buckets {
      start
      end
      offered
      answered
      abandoned
      abandonedShort
      asaSecs
      ahtSecs
      serviceLevel
      abandonmentRate
      occupancy
      requestsOpened
      requestsSolved
      requestsSolvedWithinDue
    }
  }
}
    `) as unknown as TypedDocumentString<KpisQuery, KpisQueryVariables>;
export const MyProfileDocument = new TypedDocumentString(`
    query MyProfile {
  me {
    id
    version
    name
    email
    role
    avatarUrl
  }
}
    `) as unknown as TypedDocumentString<MyProfileQuery, MyProfileQueryVariables>;
export const UpdateMyProfileDocument = new TypedDocumentString(`
    mutation UpdateMyProfile($input: UpdateMyProfileInput!, $expectedVersion: Int) {
  updateMyProfile(input: $input, expectedVersion: $expectedVersion) {
    id
    version
    name
    avatarUrl
  }
}
    `) as unknown as TypedDocumentString<UpdateMyProfileMutation, UpdateMyProfileMutationVariables>;
export const ChangePasswordDocument = new TypedDocumentString(`
    mutation ChangePassword($currentPassword: String!, $newPassword: String!) {
  changePassword(currentPassword: $currentPassword, newPassword: $newPassword) {
    accessToken
    accessTokenExpiresAt
    refreshToken
    refreshTokenExpiresAt
    worker {
      id
      name
      role
    }
  }
}
    `) as unknown as TypedDocumentString<ChangePasswordMutation, ChangePasswordMutationVariables>;
export const CallPopDocument = new TypedDocumentString(`
    query CallPop($callId: ID!) {
  call(id: $callId) {
    id
    callerNumber
    callerName
    queuedAt
    offers {
      agentId
      offeredAt
    }
    customer {
      id
      name
      phones
      email
      erased
    }
  }
}
    `) as unknown as TypedDocumentString<CallPopQuery, CallPopQueryVariables>;
export const CustomerPopDocument = new TypedDocumentString(`
    query CustomerPop($customerId: ID!) {
  backupStatus(customerId: $customerId) {
    status
    lastSuccessAt
    overdueSince
    failingSince
    downReason
    expectedAt
  }
  open: requests(customerId: $customerId, status: OPEN, sortBy: DUE_AT, first: 20) {
    nodes {
      id
      message
      status
      priority
      dueAt
    }
  }
  pending: requests(
    customerId: $customerId
    status: PENDING
    sortBy: DUE_AT
    first: 20
  ) {
    nodes {
      id
      message
      status
      priority
      dueAt
    }
  }
}
    `) as unknown as TypedDocumentString<CustomerPopQuery, CustomerPopQueryVariables>;
export const SettingsDocument = new TypedDocumentString(`
    query Settings {
  settings {
    queues {
      queueId
      offerTimeoutSecs
      wrapUpSecs
      maxWaitSecs
      maxQueueLength
      rejectAnnouncement
      version
      updatedAt
    }
    requests {
      urgentSecs
      highSecs
      normalSecs
      lowSecs
      dueSoonCapSecs
      version
      updatedAt
    }
    serviceLevel {
      thresholdSecs
      version
      updatedAt
    }
  }
}
    `) as unknown as TypedDocumentString<SettingsQuery, SettingsQueryVariables>;
export const UpdateQueueSettingsDocument = new TypedDocumentString(`
    mutation UpdateQueueSettings($input: QueueSettingsInput!, $expectedVersion: Int) {
  updateQueueSettings(input: $input, expectedVersion: $expectedVersion) {
    queueId
    version
  }
}
    `) as unknown as TypedDocumentString<UpdateQueueSettingsMutation, UpdateQueueSettingsMutationVariables>;
export const UpdateRequestSettingsDocument = new TypedDocumentString(`
    mutation UpdateRequestSettings($input: RequestSettingsInput!, $expectedVersion: Int) {
  updateRequestSettings(input: $input, expectedVersion: $expectedVersion) {
    version
  }
}
    `) as unknown as TypedDocumentString<UpdateRequestSettingsMutation, UpdateRequestSettingsMutationVariables>;
export const UpdateServiceLevelThresholdDocument = new TypedDocumentString(`
    mutation UpdateServiceLevelThreshold($thresholdSecs: Int!, $expectedVersion: Int) {
  updateServiceLevelThreshold(
    thresholdSecs: $thresholdSecs
    expectedVersion: $expectedVersion
  ) {
    version
  }
}
    `) as unknown as TypedDocumentString<UpdateServiceLevelThresholdMutation, UpdateServiceLevelThresholdMutationVariables>;