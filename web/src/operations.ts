// Every GraphQL operation of the app, typed by GraphQL Code Generator (`npm run codegen`).
import { graphql } from './gql';

export const LoginMutation = graphql(`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      accessToken
      accessTokenExpiresAt
      refreshToken
      refreshTokenExpiresAt
      worker { id name role }
    }
  }
`);

export const SetupFirstAdminMutation = graphql(`
  mutation SetupFirstAdmin($token: String!, $email: String!, $name: String!, $password: String!) {
    setupFirstAdmin(token: $token, email: $email, name: $name, password: $password) {
      accessToken
      accessTokenExpiresAt
      refreshToken
      refreshTokenExpiresAt
      worker { id name role }
    }
  }
`);

export const RefreshMutation = graphql(`
  mutation Refresh($refreshToken: String!) {
    refreshSession(refreshToken: $refreshToken) {
      accessToken
      accessTokenExpiresAt
      refreshToken
      refreshTokenExpiresAt
      worker { id name role }
    }
  }
`);

export const LogoutMutation = graphql(`
  mutation Logout { logout }
`);

export const MyStateSubscription = graphql(`
  subscription MyState {
    myState {
      id
      version
      name
      role
      presence { state reason callId wrapUpUntil since }
    }
  }
`);

export const SetAvailabilityMutation = graphql(`
  mutation SetAvailability($state: AvailabilityState!, $reason: String) {
    setAvailability(state: $state, reason: $reason) {
      id
      presence { state reason since }
    }
  }
`);

export const QueueSettingsQuery = graphql(`
  query QueueSettings {
    queueStatus { settings { offerTimeoutSecs wrapUpSecs } }
  }
`);

export const OffersSubscription = graphql(`
  subscription Offers($fromPosition: Int) {
    offers(fromPosition: $fromPosition) {
      position
      offer {
        callId
        offeredAt
        callerNumber
        callerName
        backup { status lastSuccessAt overdueSince failingSince downReason expectedAt }
        customer { id name phones email erased }
        openRequests { id message status priority dueAt }
      }
    }
  }
`);

export const RecentCallsQuery = graphql(`
  query RecentCalls($customerId: ID!) {
    calls(customerId: $customerId, last: 5) {
      nodes { id state queuedAt talkSecs outcome }
    }
  }
`);

export const HangUpMutation = graphql(`
  mutation HangUp($callId: ID!) {
    hangUpCall(callId: $callId) { id state }
  }
`);

export const OpenRequestMutation = graphql(`
  mutation OpenRequest($input: OpenRequestInput!) {
    openRequest(input: $input) { id status dueAt }
  }
`);

export const MyRequestsQuery = graphql(`
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
        customer { id name }
      }
    }
  }
`);

export const SolveRequestMutation = graphql(`
  mutation SolveRequest($id: ID!) { solveRequest(id: $id) { id status } }
`);
export const SetRequestPendingMutation = graphql(`
  mutation SetRequestPending($id: ID!) { setRequestPending(id: $id) { id status } }
`);
export const ReopenRequestMutation = graphql(`
  mutation ReopenRequest($id: ID!) { reopenRequest(id: $id) { id status } }
`);
export const CloseRequestMutation = graphql(`
  mutation CloseRequest($id: ID!) { closeRequest(id: $id) { id status } }
`);

export const WallboardSubscription = graphql(`
  subscription Wallboard {
    wallboard {
      at
      callsWaiting
      callsRinging
      oldestQueuedAt
      agents { id name state pauseReason since }
      agentsByState { state count }
      today { offered answered abandoned asaSecs requestsOverdue }
    }
  }
`);

export const WaitingCallsQuery = graphql(`
  query WaitingCalls {
    queueStatus {
      waiting { callId callerNumber queuedAt ringingAgentId attempts }
    }
  }
`);

export const BackupCustomersQuery = graphql(`
  query BackupCustomers {
    customers(first: 100) { nodes { id name } }
  }
`);

export const BackupStatusQuery = graphql(`
  query BackupStatus($customerId: ID!) {
    backupStatus(customerId: $customerId) {
      customerId
      status
      plan
      expectedAt
      lastSuccessAt
      overdueSince
      downReason
      lastRun { id status reportedAt finishedAt durationSecs }
    }
    backupRuns(customerId: $customerId, first: 12) {
      nodes { id status startedAt finishedAt reportedAt durationSecs }
    }
  }
`);

export const AdminWorkersQuery = graphql(`
  query AdminWorkers {
    workers(first: 100) {
      nodes { id version name email role endpoint active }
    }
  }
`);

export const RegisterWorkerMutation = graphql(`
  mutation RegisterWorker($input: RegisterWorkerInput!) {
    registerWorker(input: $input) { id }
  }
`);

export const UpdateWorkerMutation = graphql(`
  mutation UpdateWorker($id: ID!, $input: UpdateWorkerInput!, $expectedVersion: Int) {
    updateWorker(id: $id, input: $input, expectedVersion: $expectedVersion) { id version }
  }
`);

export const SetWorkerRoleMutation = graphql(`
  mutation SetWorkerRole($id: ID!, $role: Role!, $expectedVersion: Int) {
    setWorkerRole(id: $id, role: $role, expectedVersion: $expectedVersion) { id version role }
  }
`);

export const DeactivateWorkerMutation = graphql(`
  mutation DeactivateWorker($id: ID!, $expectedVersion: Int) {
    deactivateWorker(id: $id, expectedVersion: $expectedVersion) { id version active }
  }
`);

export const ResetWorkerPasswordMutation = graphql(`
  mutation ResetWorkerPassword($id: ID!) {
    resetWorkerPassword(id: $id) {
      temporaryPassword
      worker { id version }
    }
  }
`);

export const AdminCustomersQuery = graphql(`
  query AdminCustomers($search: String) {
    customers(search: $search, first: 100) {
      nodes { id version name phones email notes }
    }
  }
`);

export const RegisterCustomerMutation = graphql(`
  mutation RegisterCustomer($input: RegisterCustomerInput!) {
    registerCustomer(input: $input) { id version }
  }
`);

export const UpdateCustomerMutation = graphql(`
  mutation UpdateCustomer($id: ID!, $input: UpdateCustomerInput!, $expectedVersion: Int) {
    updateCustomer(id: $id, input: $input, expectedVersion: $expectedVersion) { id version }
  }
`);

export const EraseCustomerMutation = graphql(`
  mutation EraseCustomer($id: ID!, $expectedVersion: Int) {
    eraseCustomer(id: $id, expectedVersion: $expectedVersion) { id erased }
  }
`);

export const SetBackupPlanMutation = graphql(`
  mutation SetBackupPlan($customerId: ID!, $plan: BackupPlanInput!) {
    setBackupPlan(customerId: $customerId, plan: $plan) { customerId status expectedAt }
  }
`);

export const IssueIngestTokenMutation = graphql(`
  mutation IssueIngestToken($customerId: ID!) {
    issueIngestToken(customerId: $customerId) { tokenId token hashPrefix }
  }
`);

export const AuditEventFragment = graphql(`
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
`);

export const HistoryQuery = graphql(`
  query History($aggregateType: String!, $aggregateId: String!, $after: String) {
    history(aggregateType: $aggregateType, aggregateId: $aggregateId, first: 100, after: $after) {
      nodes { ...AuditEvent }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const StateAtQuery = graphql(`
  query StateAt($aggregateType: String!, $aggregateId: String!, $version: Int, $at: DateTime) {
    stateAt(aggregateType: $aggregateType, aggregateId: $aggregateId, version: $version, at: $at) {
      version
      recordedAt
      state
    }
  }
`);

export const ActorActivityQuery = graphql(`
  query ActorActivity($actor: String!, $from: DateTime!, $until: DateTime!, $after: String) {
    actorActivity(actor: $actor, from: $from, until: $until, first: 50, after: $after) {
      nodes { ...AuditEvent }
      pageInfo { hasNextPage endCursor }
      totalCount
    }
  }
`);

export const ProjectionsQuery = graphql(`
  query Projections {
    logHead
    projections {
      name
      position
      lag
      rebuild { running requestedAt startedAt done total fraction rate etaSecs finishedAt error }
    }
  }
`);

export const RebuildProjectionMutation = graphql(`
  mutation RebuildProjection($name: String) {
    rebuildProjection(name: $name) { projections }
  }
`);

export const BackupRunFragment = graphql(`
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
    stats { files bytes created modified deleted unchanged createdBytes modifiedBytes deletedBytes unchangedBytes }
  }
`);

export const BackupCustomerQuery = graphql(`
  query BackupCustomer($customerId: ID!) {
    customer(id: $customerId) { id name erased }
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
`);

export const BackupRunsQuery = graphql(`
  query BackupRuns($customerId: ID!, $after: String) {
    backupRuns(customerId: $customerId, first: 20, after: $after) {
      nodes { ...BackupRunRow }
      pageInfo { hasNextPage endCursor }
      totalCount
    }
  }
`);

export const ExpiredBackupRunsQuery = graphql(`
  query ExpiredBackupRuns($customerId: ID!, $after: String) {
    expiredBackupRuns(customerId: $customerId, first: 20, after: $after) {
      nodes { ...BackupRunRow }
      pageInfo { hasNextPage endCursor }
      totalCount
    }
  }
`);

export const LogHeadQuery = graphql(`
  query LogHead { logHead }
`);

export const AlertsSubscription = graphql(`
  subscription Alerts($fromPosition: Int) {
    alerts(fromPosition: $fromPosition) {
      position
      alert {
        kind
        customerId
        requestId
        dueAt
        at
        request { id message customer { id name } }
      }
    }
  }
`);

export const CustomerNameQuery = graphql(`
  query CustomerName($id: ID!) {
    customer(id: $id) { id name }
  }
`);

export const KpisQuery = graphql(`
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
`);

export const MyProfileQuery = graphql(`
  query MyProfile {
    me { id version name email role avatarUrl }
  }
`);

export const UpdateMyProfileMutation = graphql(`
  mutation UpdateMyProfile($input: UpdateMyProfileInput!, $expectedVersion: Int) {
    updateMyProfile(input: $input, expectedVersion: $expectedVersion) { id version name avatarUrl }
  }
`);

export const ChangePasswordMutation = graphql(`
  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {
    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) {
      accessToken
      accessTokenExpiresAt
      refreshToken
      refreshTokenExpiresAt
      worker { id name role }
    }
  }
`);

export const CallPopQuery = graphql(`
  query CallPop($callId: ID!) {
    call(id: $callId) {
      id
      callerNumber
      callerName
      queuedAt
      offers { agentId offeredAt }
      customer { id name phones email erased }
    }
  }
`);

export const CustomerPopQuery = graphql(`
  query CustomerPop($customerId: ID!) {
    backupStatus(customerId: $customerId) { status lastSuccessAt overdueSince failingSince downReason expectedAt }
    open: requests(customerId: $customerId, status: OPEN, sortBy: DUE_AT, first: 20) {
      nodes { id message status priority dueAt }
    }
    pending: requests(customerId: $customerId, status: PENDING, sortBy: DUE_AT, first: 20) {
      nodes { id message status priority dueAt }
    }
  }
`);

// Settings admins change without a restart (issue 15 §4).
export const SettingsQuery = graphql(`
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
      requests { urgentSecs highSecs normalSecs lowSecs dueSoonCapSecs version updatedAt }
      serviceLevel { thresholdSecs version updatedAt }
    }
  }
`);

export const UpdateQueueSettingsMutation = graphql(`
  mutation UpdateQueueSettings($input: QueueSettingsInput!, $expectedVersion: Int) {
    updateQueueSettings(input: $input, expectedVersion: $expectedVersion) { queueId version }
  }
`);

export const UpdateRequestSettingsMutation = graphql(`
  mutation UpdateRequestSettings($input: RequestSettingsInput!, $expectedVersion: Int) {
    updateRequestSettings(input: $input, expectedVersion: $expectedVersion) { version }
  }
`);

export const UpdateServiceLevelThresholdMutation = graphql(`
  mutation UpdateServiceLevelThreshold($thresholdSecs: Int!, $expectedVersion: Int) {
    updateServiceLevelThreshold(thresholdSecs: $thresholdSecs, expectedVersion: $expectedVersion) {
      version
    }
  }
`);
