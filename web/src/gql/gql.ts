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
    "\n  query BackupStatus($customerId: ID!) {\n    backupStatus(customerId: $customerId) {\n      customerId\n      status\n      expectedAt\n      lastSuccessAt\n      overdueSince\n      downReason\n    }\n  }\n": typeof types.BackupStatusDocument,
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
    "\n  query BackupStatus($customerId: ID!) {\n    backupStatus(customerId: $customerId) {\n      customerId\n      status\n      expectedAt\n      lastSuccessAt\n      overdueSince\n      downReason\n    }\n  }\n": types.BackupStatusDocument,
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
export function graphql(source: "\n  query BackupStatus($customerId: ID!) {\n    backupStatus(customerId: $customerId) {\n      customerId\n      status\n      expectedAt\n      lastSuccessAt\n      overdueSince\n      downReason\n    }\n  }\n"): typeof import('./graphql').BackupStatusDocument;
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


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
