// The desk's screen pop rebuilt from the API (after a reload, or a pop missed while away): the
// live `offers` event is not replayed, so the call, its customer, their backup health and open
// requests are read with queries and shaped like an offer.

import type { CallPopQuery, CustomerPopQuery, OffersSubscription } from '../gql/graphql';

export type PopOffer = NonNullable<OffersSubscription['offers']['offer']>;

/** Whether the desk must read the pop from the API: the agent is offered or on a call and the
 * pop in memory (if any) is another call's. */
export function needsPop(
  presence: { state: string; callId?: string | null } | null | undefined,
  offer: { callId: string } | null,
): string | null {
  if (!presence?.callId) return null;
  if (presence.state !== 'OFFERED' && presence.state !== 'ON_CALL') return null;
  return offer?.callId === presence.callId ? null : presence.callId;
}

/** The pop of `call` as offered to `agentId`: the offer's time is that agent's latest offer
 * (the queue time when none is listed); requests open or pending, oldest due first (20). */
export function popFromCall(
  call: NonNullable<CallPopQuery['call']>,
  customer: CustomerPopQuery | null,
  agentId: string,
): PopOffer {
  const mine = call.offers.filter((offer) => offer.agentId === agentId);
  const offeredAt = mine[mine.length - 1]?.offeredAt ?? call.queuedAt ?? new Date(0).toISOString();
  const requests = customer
    ? [...customer.open.nodes, ...customer.pending.nodes]
        .sort((a, b) => Date.parse(a.dueAt) - Date.parse(b.dueAt))
        .slice(0, 20)
    : [];
  return {
    callId: call.id,
    offeredAt,
    callerNumber: call.callerNumber,
    callerName: call.callerName ?? null,
    customer: call.customer ?? null,
    backup: customer?.backupStatus ?? null,
    openRequests: requests,
  };
}
