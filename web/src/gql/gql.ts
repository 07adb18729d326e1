/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      accessToken\n      accessTokenExpiresAt\n      refreshToken\n      refreshTokenExpiresAt\n      worker { id name role }\n    }\n  }\n": typeof types.LoginDocument,
    "\n  mutation SetupFirstAdmin($token: String!, $email: String!, $name: String!, $password: String!) {\n    setupFirstAdmin(token: $token, email: $email, name: $name, password: $password) {\n      accessToken\n      accessTokenExpiresAt\n      refreshToken\n      refreshTokenExpiresAt\n      worker { id name role }\n    }\n  }\n": typeof types.SetupFirstAdminDocument,
    "\n  mutation Refresh($refreshToken: String!) {\n    refreshSession(refreshToken: $refreshToken) {\n      accessToken\n      accessTokenExpiresAt\n      refreshToken\n      refreshTokenExpiresAt\n      worker { id name role }\n    }\n  }\n": typeof types.RefreshDocument,
    "\n  mutation Logout { logout }\n": typeof types.LogoutDocument,
    "\n  subscription MyState {\n    myState {\n      id\n      version\n      name\n      role\n      presence { state reason callId wrapUpUntil since }\n    }\n  }\n": typeof types.MyStateDocument,
    "\n  mutation SetAvailability($state: AvailabilityState!, $reason: String) {\n    setAvailability(state: $state, reason: $reason) {\n      id\n      presence { state reason since }\n    }\n  }\n": typeof types.SetAvailabilityDocument,
    "\n  query QueueSettings {\n    queueStatus { settings { offerTimeoutSecs wrapUpSecs } }\n  }\n": typeof types.QueueSettingsDocument,
    "\n  subscription Offers($fromPosition: Int) {\n    offers(fromPosition: $fromPosition) {\n      position\n      offer {\n        callId\n        offeredAt\n        callerNumber\n        callerName\n        backup { status lastSuccessAt overdueSince failingSince downReason expectedAt }\n        customer { id name phones email erased }\n        openRequests { id message status priority dueAt }\n      }\n    }\n  }\n": typeof types.OffersDocument,
    "\n  query RecentCalls($customerId: ID!) {\n    calls(customerId: $customerId, last: 5) {\n      nodes { id state queuedAt talkSecs outcome }\n    }\n  }\n": typeof types.RecentCallsDocument,
    "\n  mutation HangUp($callId: ID!) {\n    hangUpCall(callId: $callId) { id state }\n  }\n": typeof types.HangUpDocument,
    "\n  mutation OpenRequest($input: OpenRequestInput!) {\n    openRequest(input: $input) { id status dueAt }\n  }\n": typeof types.OpenRequestDocument,
    "\n  query MyRequests($assigneeId: ID!) {\n    requests(assigneeId: $assigneeId, sortBy: DUE_AT, first: 50) {\n      nodes {\n        id\n        version\n        message\n        status\n        priority\n        type\n        dueAt\n        customer { id name }\n      }\n    }\n  }\n": typeof types.MyRequestsDocument,
    "\n  mutation SolveRequest($id: ID!) { solveRequest(id: $id) { id status } }\n": typeof types.SolveRequestDocument,
    "\n  mutation SetRequestPending($id: ID!) { setRequestPending(id: $id) { id status } }\n": typeof types.SetRequestPendingDocument,
    "\n  mutation ReopenRequest($id: ID!) { reopenRequest(id: $id) { id status } }\n": typeof types.ReopenRequestDocument,
    "\n  mutation CloseRequest($id: ID!) { closeRequest(id: $id) { id status } }\n": typeof types.CloseRequestDocument,
    "\n  subscription Wallboard {\n    wallboard {\n      at\n      callsWaiting\n      callsRinging\n      oldestQueuedAt\n      agents { id name state pauseReason since }\n      agentsByState { state count }\n      today { offered answered abandoned asaSecs requestsOverdue }\n    }\n  }\n": typeof types.WallboardDocument,
    "\n  query WaitingCalls {\n    queueStatus {\n      waiting { callId callerNumber queuedAt ringingAgentId attempts }\n    }\n  }\n": typeof types.WaitingCallsDocument,
    "\n  query BackupCustomers {\n    customers(first: 100) { nodes { id name } }\n  }\n": typeof types.BackupCustomersDocument,
    "\n  query BackupStatus($customerId: ID!) {\n    backupStatus(customerId: $customerId) {\n      customerId\n      status\n      plan\n      expectedAt\n      lastSuccessAt\n      overdueSince\n      downReason\n      lastRun { id status reportedAt finishedAt durationSecs }\n    }\n    backupRuns(customerId: $customerId, first: 12) {\n      nodes { id status startedAt finishedAt reportedAt durationSecs }\n    }\n  }\n": typeof types.BackupStatusDocument,
    "\n  query AdminWorkers {\n    workers(first: 100) {\n      nodes { id version name email role endpoint active }\n    }\n  }\n": typeof types.AdminWorkersDocument,
    "\n  mutation RegisterWorker($input: RegisterWorkerInput!) {\n    registerWorker(input: $input) { id }\n  }\n": typeof types.RegisterWorkerDocument,
    "\n  mutation UpdateWorker($id: ID!, $input: UpdateWorkerInput!, $expectedVersion: Int) {\n    updateWorker(id: $id, input: $input, expectedVersion: $expectedVersion) { id version }\n  }\n": typeof types.UpdateWorkerDocument,
    "\n  mutation SetWorkerRole($id: ID!, $role: Role!, $expectedVersion: Int) {\n    setWorkerRole(id: $id, role: $role, expectedVersion: $expectedVersion) { id version role }\n  }\n": typeof types.SetWorkerRoleDocument,
    "\n  mutation DeactivateWorker($id: ID!, $expectedVersion: Int) {\n    deactivateWorker(id: $id, expectedVersion: $expectedVersion) { id version active }\n  }\n": typeof types.DeactivateWorkerDocument,
    "\n  mutation ResetWorkerPassword($id: ID!) {\n    resetWorkerPassword(id: $id) {\n      temporaryPassword\n      worker { id version }\n    }\n  }\n": typeof types.ResetWorkerPasswordDocument,
    "\n  query AdminCustomers($search: String) {\n    customers(search: $search, first: 100) {\n      nodes { id version name phones email notes }\n    }\n  }\n": typeof types.AdminCustomersDocument,
    "\n  mutation RegisterCustomer($input: RegisterCustomerInput!) {\n    registerCustomer(input: $input) { id version }\n  }\n": typeof types.RegisterCustomerDocument,
    "\n  mutation UpdateCustomer($id: ID!, $input: UpdateCustomerInput!, $expectedVersion: Int) {\n    updateCustomer(id: $id, input: $input, expectedVersion: $expectedVersion) { id version }\n  }\n": typeof types.UpdateCustomerDocument,
    "\n  mutation EraseCustomer($id: ID!, $expectedVersion: Int) {\n    eraseCustomer(id: $id, expectedVersion: $expectedVersion) { id erased }\n  }\n": typeof types.EraseCustomerDocument,
    "\n  mutation SetBackupPlan($customerId: ID!, $plan: BackupPlanInput!) {\n    setBackupPlan(customerId: $customerId, plan: $plan) { customerId status expectedAt }\n  }\n": typeof types.SetBackupPlanDocument,
    "\n  mutation IssueIngestToken($customerId: ID!) {\n    issueIngestToken(customerId: $customerId) { tokenId token hashPrefix }\n  }\n": typeof types.IssueIngestTokenDocument,
    "\n  fragment AuditEvent on LogEvent {\n    position\n    eventId\n    eventType\n    aggregateType\n    aggregateId\n    sequence\n    payload\n    metadata\n    recordedAt\n  }\n": typeof types.AuditEventFragmentDoc,
    "\n  query History($aggregateType: String!, $aggregateId: String!, $after: String) {\n    history(aggregateType: $aggregateType, aggregateId: $aggregateId, first: 100, after: $after) {\n      nodes { ...AuditEvent }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": typeof types.HistoryDocument,
    "\n  query StateAt($aggregateType: String!, $aggregateId: String!, $version: Int, $at: DateTime) {\n    stateAt(aggregateType: $aggregateType, aggregateId: $aggregateId, version: $version, at: $at) {\n      version\n      recordedAt\n      state\n    }\n  }\n": typeof types.StateAtDocument,
    "\n  query ActorActivity($actor: String!, $from: DateTime!, $until: DateTime!, $after: String) {\n    actorActivity(actor: $actor, from: $from, until: $until, first: 50, after: $after) {\n      nodes { ...AuditEvent }\n      pageInfo { hasNextPage endCursor }\n      totalCount\n    }\n  }\n": typeof types.ActorActivityDocument,
    "\n  query Projections {\n    logHead\n    projections {\n      name\n      position\n      lag\n      rebuild { running requestedAt startedAt done total fraction rate etaSecs finishedAt error }\n    }\n  }\n": typeof types.ProjectionsDocument,
    "\n  mutation RebuildProjection($name: String) {\n    rebuildProjection(name: $name) { projections }\n  }\n": typeof types.RebuildProjectionDocument,
    "\n  fragment BackupRunRow on BackupRunView {\n    id\n    clientRunId\n    status\n    startedAt\n    finishedAt\n    durationSecs\n    exitStatus\n    message\n    expired\n    reportedAt\n    stats { files bytes created modified deleted unchanged createdBytes modifiedBytes deletedBytes unchangedBytes }\n  }\n": typeof types.BackupRunRowFragmentDoc,
    "\n  query BackupCustomer($customerId: ID!) {\n    customer(id: $customerId) { id name erased }\n    backupStatus(customerId: $customerId) {\n      customerId\n      status\n      plan\n      expectedAt\n      lateAt\n      lastSuccessAt\n      runningSince\n      overdueSince\n      failingSince\n      downReason\n    }\n  }\n": typeof types.BackupCustomerDocument,
    "\n  query BackupRuns($customerId: ID!, $after: String) {\n    backupRuns(customerId: $customerId, first: 20, after: $after) {\n      nodes { ...BackupRunRow }\n      pageInfo { hasNextPage endCursor }\n      totalCount\n    }\n  }\n": typeof types.BackupRunsDocument,
    "\n  query ExpiredBackupRuns($customerId: ID!, $after: String) {\n    expiredBackupRuns(customerId: $customerId, first: 20, after: $after) {\n      nodes { ...BackupRunRow }\n      pageInfo { hasNextPage endCursor }\n      totalCount\n    }\n  }\n": typeof types.ExpiredBackupRunsDocument,
    "\n  query LogHead { logHead }\n": typeof types.LogHeadDocument,
    "\n  subscription Alerts($fromPosition: Int) {\n    alerts(fromPosition: $fromPosition) {\n      position\n      alert {\n        kind\n        customerId\n        requestId\n        dueAt\n        at\n        request { id message customer { id name } }\n      }\n    }\n  }\n": typeof types.AlertsDocument,
    "\n  query CustomerName($id: ID!) {\n    customer(id: $id) { id name }\n  }\n": typeof types.CustomerNameDocument,
    "\n  query Kpis($from: DateTime!, $until: DateTime!, $bucket: KpiBucketSize!, $timeZone: String!) {\n    kpis(from: $from, until: $until, bucket: $bucket, timeZone: $timeZone) {\n      timeZone\n      bucket\n      overdueNow\n      buckets {\n        start\n        end\n        offered\n        answered\n        abandoned\n        abandonedShort\n        asaSecs\n        ahtSecs\n        serviceLevel\n        abandonmentRate\n        occupancy\n        requestsOpened\n        requestsSolved\n        requestsSolvedWithinDue\n      }\n    }\n  }\n": typeof types.KpisDocument,
    "\n  query MyProfile {\n    me { id version name email role avatarUrl }\n  }\n": typeof types.MyProfileDocument,
    "\n  mutation UpdateMyProfile($input: UpdateMyProfileInput!, $expectedVersion: Int) {\n    updateMyProfile(input: $input, expectedVersion: $expectedVersion) { id version name avatarUrl }\n  }\n": typeof types.UpdateMyProfileDocument,
    "\n  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) {\n      accessToken\n      accessTokenExpiresAt\n      refreshToken\n      refreshTokenExpiresAt\n      worker { id name role }\n    }\n  }\n": typeof types.ChangePasswordDocument,
    "\n  query CallPop($callId: ID!) {\n    call(id: $callId) {\n      id\n      callerNumber\n      callerName\n      queuedAt\n      offers { agentId offeredAt }\n      customer { id name phones email erased }\n    }\n  }\n": typeof types.CallPopDocument,
    "\n  query CustomerPop($customerId: ID!) {\n    backupStatus(customerId: $customerId) { status lastSuccessAt overdueSince failingSince downReason expectedAt }\n    open: requests(customerId: $customerId, status: OPEN, sortBy: DUE_AT, first: 20) {\n      nodes { id message status priority dueAt }\n    }\n    pending: requests(customerId: $customerId, status: PENDING, sortBy: DUE_AT, first: 20) {\n      nodes { id message status priority dueAt }\n    }\n  }\n": typeof types.CustomerPopDocument,
    "\n  query Settings {\n    settings {\n      queues {\n        queueId\n        offerTimeoutSecs\n        wrapUpSecs\n        maxWaitSecs\n        maxQueueLength\n        rejectAnnouncement\n        version\n        updatedAt\n      }\n      requests { urgentSecs highSecs normalSecs lowSecs dueSoonCapSecs version updatedAt }\n      serviceLevel { thresholdSecs version updatedAt }\n    }\n  }\n": typeof types.SettingsDocument,
    "\n  mutation UpdateQueueSettings($input: QueueSettingsInput!, $expectedVersion: Int) {\n    updateQueueSettings(input: $input, expectedVersion: $expectedVersion) { queueId version }\n  }\n": typeof types.UpdateQueueSettingsDocument,
    "\n  mutation UpdateRequestSettings($input: RequestSettingsInput!, $expectedVersion: Int) {\n    updateRequestSettings(input: $input, expectedVersion: $expectedVersion) { version }\n  }\n": typeof types.UpdateRequestSettingsDocument,
    "\n  mutation UpdateServiceLevelThreshold($thresholdSecs: Int!, $expectedVersion: Int) {\n    updateServiceLevelThreshold(thresholdSecs: $thresholdSecs, expectedVersion: $expectedVersion) {\n      version\n    }\n  }\n": typeof types.UpdateServiceLevelThresholdDocument,
};
const documents: Documents = {
    "\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      accessToken\n      accessTokenExpiresAt\n      refreshToken\n      refreshTokenExpiresAt\n      worker { id name role }\n    }\n  }\n": types.LoginDocument,
    "\n  mutation SetupFirstAdmin($token: String!, $email: String!, $name: String!, $password: String!) {\n    setupFirstAdmin(token: $token, email: $email, name: $name, password: $password) {\n      accessToken\n      accessTokenExpiresAt\n      refreshToken\n      refreshTokenExpiresAt\n      worker { id name role }\n    }\n  }\n": types.SetupFirstAdminDocument,
    "\n  mutation Refresh($refreshToken: String!) {\n    refreshSession(refreshToken: $refreshToken) {\n      accessToken\n      accessTokenExpiresAt\n      refreshToken\n      refreshTokenExpiresAt\n      worker { id name role }\n    }\n  }\n": types.RefreshDocument,
    "\n  mutation Logout { logout }\n": types.LogoutDocument,
    "\n  subscription MyState {\n    myState {\n      id\n      version\n      name\n      role\n      presence { state reason callId wrapUpUntil since }\n    }\n  }\n": types.MyStateDocument,
    "\n  mutation SetAvailability($state: AvailabilityState!, $reason: String) {\n    setAvailability(state: $state, reason: $reason) {\n      id\n      presence { state reason since }\n    }\n  }\n": types.SetAvailabilityDocument,
    "\n  query QueueSettings {\n    queueStatus { settings { offerTimeoutSecs wrapUpSecs } }\n  }\n": types.QueueSettingsDocument,
    "\n  subscription Offers($fromPosition: Int) {\n    offers(fromPosition: $fromPosition) {\n      position\n      offer {\n        callId\n        offeredAt\n        callerNumber\n        callerName\n        backup { status lastSuccessAt overdueSince failingSince downReason expectedAt }\n        customer { id name phones email erased }\n        openRequests { id message status priority dueAt }\n      }\n    }\n  }\n": types.OffersDocument,
    "\n  query RecentCalls($customerId: ID!) {\n    calls(customerId: $customerId, last: 5) {\n      nodes { id state queuedAt talkSecs outcome }\n    }\n  }\n": types.RecentCallsDocument,
    "\n  mutation HangUp($callId: ID!) {\n    hangUpCall(callId: $callId) { id state }\n  }\n": types.HangUpDocument,
    "\n  mutation OpenRequest($input: OpenRequestInput!) {\n    openRequest(input: $input) { id status dueAt }\n  }\n": types.OpenRequestDocument,
    "\n  query MyRequests($assigneeId: ID!) {\n    requests(assigneeId: $assigneeId, sortBy: DUE_AT, first: 50) {\n      nodes {\n        id\n        version\n        message\n        status\n        priority\n        type\n        dueAt\n        customer { id name }\n      }\n    }\n  }\n": types.MyRequestsDocument,
    "\n  mutation SolveRequest($id: ID!) { solveRequest(id: $id) { id status } }\n": types.SolveRequestDocument,
    "\n  mutation SetRequestPending($id: ID!) { setRequestPending(id: $id) { id status } }\n": types.SetRequestPendingDocument,
    "\n  mutation ReopenRequest($id: ID!) { reopenRequest(id: $id) { id status } }\n": types.ReopenRequestDocument,
    "\n  mutation CloseRequest($id: ID!) { closeRequest(id: $id) { id status } }\n": types.CloseRequestDocument,
    "\n  subscription Wallboard {\n    wallboard {\n      at\n      callsWaiting\n      callsRinging\n      oldestQueuedAt\n      agents { id name state pauseReason since }\n      agentsByState { state count }\n      today { offered answered abandoned asaSecs requestsOverdue }\n    }\n  }\n": types.WallboardDocument,
    "\n  query WaitingCalls {\n    queueStatus {\n      waiting { callId callerNumber queuedAt ringingAgentId attempts }\n    }\n  }\n": types.WaitingCallsDocument,
    "\n  query BackupCustomers {\n    customers(first: 100) { nodes { id name } }\n  }\n": types.BackupCustomersDocument,
    "\n  query BackupStatus($customerId: ID!) {\n    backupStatus(customerId: $customerId) {\n      customerId\n      status\n      plan\n      expectedAt\n      lastSuccessAt\n      overdueSince\n      downReason\n      lastRun { id status reportedAt finishedAt durationSecs }\n    }\n    backupRuns(customerId: $customerId, first: 12) {\n      nodes { id status startedAt finishedAt reportedAt durationSecs }\n    }\n  }\n": types.BackupStatusDocument,
    "\n  query AdminWorkers {\n    workers(first: 100) {\n      nodes { id version name email role endpoint active }\n    }\n  }\n": types.AdminWorkersDocument,
    "\n  mutation RegisterWorker($input: RegisterWorkerInput!) {\n    registerWorker(input: $input) { id }\n  }\n": types.RegisterWorkerDocument,
    "\n  mutation UpdateWorker($id: ID!, $input: UpdateWorkerInput!, $expectedVersion: Int) {\n    updateWorker(id: $id, input: $input, expectedVersion: $expectedVersion) { id version }\n  }\n": types.UpdateWorkerDocument,
    "\n  mutation SetWorkerRole($id: ID!, $role: Role!, $expectedVersion: Int) {\n    setWorkerRole(id: $id, role: $role, expectedVersion: $expectedVersion) { id version role }\n  }\n": types.SetWorkerRoleDocument,
    "\n  mutation DeactivateWorker($id: ID!, $expectedVersion: Int) {\n    deactivateWorker(id: $id, expectedVersion: $expectedVersion) { id version active }\n  }\n": types.DeactivateWorkerDocument,
    "\n  mutation ResetWorkerPassword($id: ID!) {\n    resetWorkerPassword(id: $id) {\n      temporaryPassword\n      worker { id version }\n    }\n  }\n": types.ResetWorkerPasswordDocument,
    "\n  query AdminCustomers($search: String) {\n    customers(search: $search, first: 100) {\n      nodes { id version name phones email notes }\n    }\n  }\n": types.AdminCustomersDocument,
    "\n  mutation RegisterCustomer($input: RegisterCustomerInput!) {\n    registerCustomer(input: $input) { id version }\n  }\n": types.RegisterCustomerDocument,
    "\n  mutation UpdateCustomer($id: ID!, $input: UpdateCustomerInput!, $expectedVersion: Int) {\n    updateCustomer(id: $id, input: $input, expectedVersion: $expectedVersion) { id version }\n  }\n": types.UpdateCustomerDocument,
    "\n  mutation EraseCustomer($id: ID!, $expectedVersion: Int) {\n    eraseCustomer(id: $id, expectedVersion: $expectedVersion) { id erased }\n  }\n": types.EraseCustomerDocument,
    "\n  mutation SetBackupPlan($customerId: ID!, $plan: BackupPlanInput!) {\n    setBackupPlan(customerId: $customerId, plan: $plan) { customerId status expectedAt }\n  }\n": types.SetBackupPlanDocument,
    "\n  mutation IssueIngestToken($customerId: ID!) {\n    issueIngestToken(customerId: $customerId) { tokenId token hashPrefix }\n  }\n": types.IssueIngestTokenDocument,
    "\n  fragment AuditEvent on LogEvent {\n    position\n    eventId\n    eventType\n    aggregateType\n    aggregateId\n    sequence\n    payload\n    metadata\n    recordedAt\n  }\n": types.AuditEventFragmentDoc,
    "\n  query History($aggregateType: String!, $aggregateId: String!, $after: String) {\n    history(aggregateType: $aggregateType, aggregateId: $aggregateId, first: 100, after: $after) {\n      nodes { ...AuditEvent }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": types.HistoryDocument,
    "\n  query StateAt($aggregateType: String!, $aggregateId: String!, $version: Int, $at: DateTime) {\n    stateAt(aggregateType: $aggregateType, aggregateId: $aggregateId, version: $version, at: $at) {\n      version\n      recordedAt\n      state\n    }\n  }\n": types.StateAtDocument,
    "\n  query ActorActivity($actor: String!, $from: DateTime!, $until: DateTime!, $after: String) {\n    actorActivity(actor: $actor, from: $from, until: $until, first: 50, after: $after) {\n      nodes { ...AuditEvent }\n      pageInfo { hasNextPage endCursor }\n      totalCount\n    }\n  }\n": types.ActorActivityDocument,
    "\n  query Projections {\n    logHead\n    projections {\n      name\n      position\n      lag\n      rebuild { running requestedAt startedAt done total fraction rate etaSecs finishedAt error }\n    }\n  }\n": types.ProjectionsDocument,
    "\n  mutation RebuildProjection($name: String) {\n    rebuildProjection(name: $name) { projections }\n  }\n": types.RebuildProjectionDocument,
    "\n  fragment BackupRunRow on BackupRunView {\n    id\n    clientRunId\n    status\n    startedAt\n    finishedAt\n    durationSecs\n    exitStatus\n    message\n    expired\n    reportedAt\n    stats { files bytes created modified deleted unchanged createdBytes modifiedBytes deletedBytes unchangedBytes }\n  }\n": types.BackupRunRowFragmentDoc,
    "\n  query BackupCustomer($customerId: ID!) {\n    customer(id: $customerId) { id name erased }\n    backupStatus(customerId: $customerId) {\n      customerId\n      status\n      plan\n      expectedAt\n      lateAt\n      lastSuccessAt\n      runningSince\n      overdueSince\n      failingSince\n      downReason\n    }\n  }\n": types.BackupCustomerDocument,
    "\n  query BackupRuns($customerId: ID!, $after: String) {\n    backupRuns(customerId: $customerId, first: 20, after: $after) {\n      nodes { ...BackupRunRow }\n      pageInfo { hasNextPage endCursor }\n      totalCount\n    }\n  }\n": types.BackupRunsDocument,
    "\n  query ExpiredBackupRuns($customerId: ID!, $after: String) {\n    expiredBackupRuns(customerId: $customerId, first: 20, after: $after) {\n      nodes { ...BackupRunRow }\n      pageInfo { hasNextPage endCursor }\n      totalCount\n    }\n  }\n": types.ExpiredBackupRunsDocument,
    "\n  query LogHead { logHead }\n": types.LogHeadDocument,
    "\n  subscription Alerts($fromPosition: Int) {\n    alerts(fromPosition: $fromPosition) {\n      position\n      alert {\n        kind\n        customerId\n        requestId\n        dueAt\n        at\n        request { id message customer { id name } }\n      }\n    }\n  }\n": types.AlertsDocument,
    "\n  query CustomerName($id: ID!) {\n    customer(id: $id) { id name }\n  }\n": types.CustomerNameDocument,
    "\n  query Kpis($from: DateTime!, $until: DateTime!, $bucket: KpiBucketSize!, $timeZone: String!) {\n    kpis(from: $from, until: $until, bucket: $bucket, timeZone: $timeZone) {\n      timeZone\n      bucket\n      overdueNow\n      buckets {\n        start\n        end\n        offered\n        answered\n        abandoned\n        abandonedShort\n        asaSecs\n        ahtSecs\n        serviceLevel\n        abandonmentRate\n        occupancy\n        requestsOpened\n        requestsSolved\n        requestsSolvedWithinDue\n      }\n    }\n  }\n": types.KpisDocument,
    "\n  query MyProfile {\n    me { id version name email role avatarUrl }\n  }\n": types.MyProfileDocument,
    "\n  mutation UpdateMyProfile($input: UpdateMyProfileInput!, $expectedVersion: Int) {\n    updateMyProfile(input: $input, expectedVersion: $expectedVersion) { id version name avatarUrl }\n  }\n": types.UpdateMyProfileDocument,
    "\n  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) {\n      accessToken\n      accessTokenExpiresAt\n      refreshToken\n      refreshTokenExpiresAt\n      worker { id name role }\n    }\n  }\n": types.ChangePasswordDocument,
    "\n  query CallPop($callId: ID!) {\n    call(id: $callId) {\n      id\n      callerNumber\n      callerName\n      queuedAt\n      offers { agentId offeredAt }\n      customer { id name phones email erased }\n    }\n  }\n": types.CallPopDocument,
    "\n  query CustomerPop($customerId: ID!) {\n    backupStatus(customerId: $customerId) { status lastSuccessAt overdueSince failingSince downReason expectedAt }\n    open: requests(customerId: $customerId, status: OPEN, sortBy: DUE_AT, first: 20) {\n      nodes { id message status priority dueAt }\n    }\n    pending: requests(customerId: $customerId, status: PENDING, sortBy: DUE_AT, first: 20) {\n      nodes { id message status priority dueAt }\n    }\n  }\n": types.CustomerPopDocument,
    "\n  query Settings {\n    settings {\n      queues {\n        queueId\n        offerTimeoutSecs\n        wrapUpSecs\n        maxWaitSecs\n        maxQueueLength\n        rejectAnnouncement\n        version\n        updatedAt\n      }\n      requests { urgentSecs highSecs normalSecs lowSecs dueSoonCapSecs version updatedAt }\n      serviceLevel { thresholdSecs version updatedAt }\n    }\n  }\n": types.SettingsDocument,
    "\n  mutation UpdateQueueSettings($input: QueueSettingsInput!, $expectedVersion: Int) {\n    updateQueueSettings(input: $input, expectedVersion: $expectedVersion) { queueId version }\n  }\n": types.UpdateQueueSettingsDocument,
    "\n  mutation UpdateRequestSettings($input: RequestSettingsInput!, $expectedVersion: Int) {\n    updateRequestSettings(input: $input, expectedVersion: $expectedVersion) { version }\n  }\n": types.UpdateRequestSettingsDocument,
    "\n  mutation UpdateServiceLevelThreshold($thresholdSecs: Int!, $expectedVersion: Int) {\n    updateServiceLevelThreshold(thresholdSecs: $thresholdSecs, expectedVersion: $expectedVersion) {\n      version\n    }\n  }\n": types.UpdateServiceLevelThresholdDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      accessToken\n      accessTokenExpiresAt\n      refreshToken\n      refreshTokenExpiresAt\n      worker { id name role }\n    }\n  }\n"): typeof import('./graphql').LoginDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetupFirstAdmin($token: String!, $email: String!, $name: String!, $password: String!) {\n    setupFirstAdmin(token: $token, email: $email, name: $name, password: $password) {\n      accessToken\n      accessTokenExpiresAt\n      refreshToken\n      refreshTokenExpiresAt\n      worker { id name role }\n    }\n  }\n"): typeof import('./graphql').SetupFirstAdminDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Refresh($refreshToken: String!) {\n    refreshSession(refreshToken: $refreshToken) {\n      accessToken\n      accessTokenExpiresAt\n      refreshToken\n      refreshTokenExpiresAt\n      worker { id name role }\n    }\n  }\n"): typeof import('./graphql').RefreshDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout { logout }\n"): typeof import('./graphql').LogoutDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription MyState {\n    myState {\n      id\n      version\n      name\n      role\n      presence { state reason callId wrapUpUntil since }\n    }\n  }\n"): typeof import('./graphql').MyStateDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetAvailability($state: AvailabilityState!, $reason: String) {\n    setAvailability(state: $state, reason: $reason) {\n      id\n      presence { state reason since }\n    }\n  }\n"): typeof import('./graphql').SetAvailabilityDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query QueueSettings {\n    queueStatus { settings { offerTimeoutSecs wrapUpSecs } }\n  }\n"): typeof import('./graphql').QueueSettingsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription Offers($fromPosition: Int) {\n    offers(fromPosition: $fromPosition) {\n      position\n      offer {\n        callId\n        offeredAt\n        callerNumber\n        callerName\n        backup { status lastSuccessAt overdueSince failingSince downReason expectedAt }\n        customer { id name phones email erased }\n        openRequests { id message status priority dueAt }\n      }\n    }\n  }\n"): typeof import('./graphql').OffersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RecentCalls($customerId: ID!) {\n    calls(customerId: $customerId, last: 5) {\n      nodes { id state queuedAt talkSecs outcome }\n    }\n  }\n"): typeof import('./graphql').RecentCallsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation HangUp($callId: ID!) {\n    hangUpCall(callId: $callId) { id state }\n  }\n"): typeof import('./graphql').HangUpDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation OpenRequest($input: OpenRequestInput!) {\n    openRequest(input: $input) { id status dueAt }\n  }\n"): typeof import('./graphql').OpenRequestDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MyRequests($assigneeId: ID!) {\n    requests(assigneeId: $assigneeId, sortBy: DUE_AT, first: 50) {\n      nodes {\n        id\n        version\n        message\n        status\n        priority\n        type\n        dueAt\n        customer { id name }\n      }\n    }\n  }\n"): typeof import('./graphql').MyRequestsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SolveRequest($id: ID!) { solveRequest(id: $id) { id status } }\n"): typeof import('./graphql').SolveRequestDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetRequestPending($id: ID!) { setRequestPending(id: $id) { id status } }\n"): typeof import('./graphql').SetRequestPendingDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReopenRequest($id: ID!) { reopenRequest(id: $id) { id status } }\n"): typeof import('./graphql').ReopenRequestDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CloseRequest($id: ID!) { closeRequest(id: $id) { id status } }\n"): typeof import('./graphql').CloseRequestDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription Wallboard {\n    wallboard {\n      at\n      callsWaiting\n      callsRinging\n      oldestQueuedAt\n      agents { id name state pauseReason since }\n      agentsByState { state count }\n      today { offered answered abandoned asaSecs requestsOverdue }\n    }\n  }\n"): typeof import('./graphql').WallboardDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WaitingCalls {\n    queueStatus {\n      waiting { callId callerNumber queuedAt ringingAgentId attempts }\n    }\n  }\n"): typeof import('./graphql').WaitingCallsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BackupCustomers {\n    customers(first: 100) { nodes { id name } }\n  }\n"): typeof import('./graphql').BackupCustomersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BackupStatus($customerId: ID!) {\n    backupStatus(customerId: $customerId) {\n      customerId\n      status\n      plan\n      expectedAt\n      lastSuccessAt\n      overdueSince\n      downReason\n      lastRun { id status reportedAt finishedAt durationSecs }\n    }\n    backupRuns(customerId: $customerId, first: 12) {\n      nodes { id status startedAt finishedAt reportedAt durationSecs }\n    }\n  }\n"): typeof import('./graphql').BackupStatusDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminWorkers {\n    workers(first: 100) {\n      nodes { id version name email role endpoint active }\n    }\n  }\n"): typeof import('./graphql').AdminWorkersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RegisterWorker($input: RegisterWorkerInput!) {\n    registerWorker(input: $input) { id }\n  }\n"): typeof import('./graphql').RegisterWorkerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateWorker($id: ID!, $input: UpdateWorkerInput!, $expectedVersion: Int) {\n    updateWorker(id: $id, input: $input, expectedVersion: $expectedVersion) { id version }\n  }\n"): typeof import('./graphql').UpdateWorkerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetWorkerRole($id: ID!, $role: Role!, $expectedVersion: Int) {\n    setWorkerRole(id: $id, role: $role, expectedVersion: $expectedVersion) { id version role }\n  }\n"): typeof import('./graphql').SetWorkerRoleDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeactivateWorker($id: ID!, $expectedVersion: Int) {\n    deactivateWorker(id: $id, expectedVersion: $expectedVersion) { id version active }\n  }\n"): typeof import('./graphql').DeactivateWorkerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResetWorkerPassword($id: ID!) {\n    resetWorkerPassword(id: $id) {\n      temporaryPassword\n      worker { id version }\n    }\n  }\n"): typeof import('./graphql').ResetWorkerPasswordDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminCustomers($search: String) {\n    customers(search: $search, first: 100) {\n      nodes { id version name phones email notes }\n    }\n  }\n"): typeof import('./graphql').AdminCustomersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RegisterCustomer($input: RegisterCustomerInput!) {\n    registerCustomer(input: $input) { id version }\n  }\n"): typeof import('./graphql').RegisterCustomerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateCustomer($id: ID!, $input: UpdateCustomerInput!, $expectedVersion: Int) {\n    updateCustomer(id: $id, input: $input, expectedVersion: $expectedVersion) { id version }\n  }\n"): typeof import('./graphql').UpdateCustomerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation EraseCustomer($id: ID!, $expectedVersion: Int) {\n    eraseCustomer(id: $id, expectedVersion: $expectedVersion) { id erased }\n  }\n"): typeof import('./graphql').EraseCustomerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetBackupPlan($customerId: ID!, $plan: BackupPlanInput!) {\n    setBackupPlan(customerId: $customerId, plan: $plan) { customerId status expectedAt }\n  }\n"): typeof import('./graphql').SetBackupPlanDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation IssueIngestToken($customerId: ID!) {\n    issueIngestToken(customerId: $customerId) { tokenId token hashPrefix }\n  }\n"): typeof import('./graphql').IssueIngestTokenDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AuditEvent on LogEvent {\n    position\n    eventId\n    eventType\n    aggregateType\n    aggregateId\n    sequence\n    payload\n    metadata\n    recordedAt\n  }\n"): typeof import('./graphql').AuditEventFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query History($aggregateType: String!, $aggregateId: String!, $after: String) {\n    history(aggregateType: $aggregateType, aggregateId: $aggregateId, first: 100, after: $after) {\n      nodes { ...AuditEvent }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"): typeof import('./graphql').HistoryDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StateAt($aggregateType: String!, $aggregateId: String!, $version: Int, $at: DateTime) {\n    stateAt(aggregateType: $aggregateType, aggregateId: $aggregateId, version: $version, at: $at) {\n      version\n      recordedAt\n      state\n    }\n  }\n"): typeof import('./graphql').StateAtDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ActorActivity($actor: String!, $from: DateTime!, $until: DateTime!, $after: String) {\n    actorActivity(actor: $actor, from: $from, until: $until, first: 50, after: $after) {\n      nodes { ...AuditEvent }\n      pageInfo { hasNextPage endCursor }\n      totalCount\n    }\n  }\n"): typeof import('./graphql').ActorActivityDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Projections {\n    logHead\n    projections {\n      name\n      position\n      lag\n      rebuild { running requestedAt startedAt done total fraction rate etaSecs finishedAt error }\n    }\n  }\n"): typeof import('./graphql').ProjectionsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RebuildProjection($name: String) {\n    rebuildProjection(name: $name) { projections }\n  }\n"): typeof import('./graphql').RebuildProjectionDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment BackupRunRow on BackupRunView {\n    id\n    clientRunId\n    status\n    startedAt\n    finishedAt\n    durationSecs\n    exitStatus\n    message\n    expired\n    reportedAt\n    stats { files bytes created modified deleted unchanged createdBytes modifiedBytes deletedBytes unchangedBytes }\n  }\n"): typeof import('./graphql').BackupRunRowFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BackupCustomer($customerId: ID!) {\n    customer(id: $customerId) { id name erased }\n    backupStatus(customerId: $customerId) {\n      customerId\n      status\n      plan\n      expectedAt\n      lateAt\n      lastSuccessAt\n      runningSince\n      overdueSince\n      failingSince\n      downReason\n    }\n  }\n"): typeof import('./graphql').BackupCustomerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BackupRuns($customerId: ID!, $after: String) {\n    backupRuns(customerId: $customerId, first: 20, after: $after) {\n      nodes { ...BackupRunRow }\n      pageInfo { hasNextPage endCursor }\n      totalCount\n    }\n  }\n"): typeof import('./graphql').BackupRunsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExpiredBackupRuns($customerId: ID!, $after: String) {\n    expiredBackupRuns(customerId: $customerId, first: 20, after: $after) {\n      nodes { ...BackupRunRow }\n      pageInfo { hasNextPage endCursor }\n      totalCount\n    }\n  }\n"): typeof import('./graphql').ExpiredBackupRunsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query LogHead { logHead }\n"): typeof import('./graphql').LogHeadDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription Alerts($fromPosition: Int) {\n    alerts(fromPosition: $fromPosition) {\n      position\n      alert {\n        kind\n        customerId\n        requestId\n        dueAt\n        at\n        request { id message customer { id name } }\n      }\n    }\n  }\n"): typeof import('./graphql').AlertsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CustomerName($id: ID!) {\n    customer(id: $id) { id name }\n  }\n"): typeof import('./graphql').CustomerNameDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Kpis($from: DateTime!, $until: DateTime!, $bucket: KpiBucketSize!, $timeZone: String!) {\n    kpis(from: $from, until: $until, bucket: $bucket, timeZone: $timeZone) {\n      timeZone\n      bucket\n      overdueNow\n      buckets {\n        start\n        end\n        offered\n        answered\n        abandoned\n        abandonedShort\n        asaSecs\n        ahtSecs\n        serviceLevel\n        abandonmentRate\n        occupancy\n        requestsOpened\n        requestsSolved\n        requestsSolvedWithinDue\n      }\n    }\n  }\n"): typeof import('./graphql').KpisDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MyProfile {\n    me { id version name email role avatarUrl }\n  }\n"): typeof import('./graphql').MyProfileDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateMyProfile($input: UpdateMyProfileInput!, $expectedVersion: Int) {\n    updateMyProfile(input: $input, expectedVersion: $expectedVersion) { id version name avatarUrl }\n  }\n"): typeof import('./graphql').UpdateMyProfileDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChangePassword($currentPassword: String!, $newPassword: String!) {\n    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) {\n      accessToken\n      accessTokenExpiresAt\n      refreshToken\n      refreshTokenExpiresAt\n      worker { id name role }\n    }\n  }\n"): typeof import('./graphql').ChangePasswordDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CallPop($callId: ID!) {\n    call(id: $callId) {\n      id\n      callerNumber\n      callerName\n      queuedAt\n      offers { agentId offeredAt }\n      customer { id name phones email erased }\n    }\n  }\n"): typeof import('./graphql').CallPopDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CustomerPop($customerId: ID!) {\n    backupStatus(customerId: $customerId) { status lastSuccessAt overdueSince failingSince downReason expectedAt }\n    open: requests(customerId: $customerId, status: OPEN, sortBy: DUE_AT, first: 20) {\n      nodes { id message status priority dueAt }\n    }\n    pending: requests(customerId: $customerId, status: PENDING, sortBy: DUE_AT, first: 20) {\n      nodes { id message status priority dueAt }\n    }\n  }\n"): typeof import('./graphql').CustomerPopDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Settings {\n    settings {\n      queues {\n        queueId\n        offerTimeoutSecs\n        wrapUpSecs\n        maxWaitSecs\n        maxQueueLength\n        rejectAnnouncement\n        version\n        updatedAt\n      }\n      requests { urgentSecs highSecs normalSecs lowSecs dueSoonCapSecs version updatedAt }\n      serviceLevel { thresholdSecs version updatedAt }\n    }\n  }\n"): typeof import('./graphql').SettingsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateQueueSettings($input: QueueSettingsInput!, $expectedVersion: Int) {\n    updateQueueSettings(input: $input, expectedVersion: $expectedVersion) { queueId version }\n  }\n"): typeof import('./graphql').UpdateQueueSettingsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateRequestSettings($input: RequestSettingsInput!, $expectedVersion: Int) {\n    updateRequestSettings(input: $input, expectedVersion: $expectedVersion) { version }\n  }\n"): typeof import('./graphql').UpdateRequestSettingsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateServiceLevelThreshold($thresholdSecs: Int!, $expectedVersion: Int) {\n    updateServiceLevelThreshold(thresholdSecs: $thresholdSecs, expectedVersion: $expectedVersion) {\n      version\n    }\n  }\n"): typeof import('./graphql').UpdateServiceLevelThresholdDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
