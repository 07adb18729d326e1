import { describe, expect, it } from 'vitest';
import { needsPop, popFromCall } from './pop';

describe('needsPop', () => {
  it('asks the API when offered or on a call without that call in memory', () => {
    expect(needsPop({ state: 'ON_CALL', callId: 'c1' }, null)).toBe('c1');
    expect(needsPop({ state: 'OFFERED', callId: 'c2' }, { callId: 'c1' })).toBe('c2');
    expect(needsPop({ state: 'ON_CALL', callId: 'c1' }, { callId: 'c1' })).toBeNull();
    expect(needsPop({ state: 'AVAILABLE', callId: null }, null)).toBeNull();
    expect(needsPop({ state: 'WRAP_UP', callId: 'c1' }, null)).toBeNull();
    expect(needsPop(null, null)).toBeNull();
  });
});

describe('popFromCall', () => {
  const call = {
    id: 'c1',
    callerNumber: '+33612345678',
    callerName: null,
    queuedAt: '2026-01-01T10:00:00Z',
    offers: [
      { agentId: 'a1', offeredAt: '2026-01-01T10:00:01Z' },
      { agentId: 'a2', offeredAt: '2026-01-01T10:00:31Z' },
      { agentId: 'a1', offeredAt: '2026-01-01T10:01:01Z' },
    ],
    customer: { id: 'k1', name: 'Acme', phones: ['+33612345678'], email: null, erased: false },
  };
  it('takes the agent’s latest offer, the backup health and the open then pending requests by due date', () => {
    const pop = popFromCall(
      call,
      {
        backupStatus: { status: 'down', lastSuccessAt: null, overdueSince: null, failingSince: 'f', downReason: 'failed', expectedAt: null },
        open: { nodes: [{ id: 'r2', message: 'later', status: 'OPEN', priority: 'LOW', dueAt: '2026-01-03T00:00:00Z' }] },
        pending: { nodes: [{ id: 'r1', message: 'sooner', status: 'PENDING', priority: 'HIGH', dueAt: '2026-01-02T00:00:00Z' }] },
      },
      'a1',
    );
    expect(pop.offeredAt).toBe('2026-01-01T10:01:01Z');
    expect(pop.customer?.name).toBe('Acme');
    expect(pop.backup?.status).toBe('down');
    expect(pop.openRequests.map((request) => request.id)).toEqual(['r1', 'r2']);
  });
  it('is an unknown caller without a customer', () => {
    const pop = popFromCall({ ...call, customer: null, offers: [] }, null, 'a1');
    expect(pop.customer).toBeNull();
    expect(pop.backup).toBeNull();
    expect(pop.openRequests).toEqual([]);
    expect(pop.offeredAt).toBe('2026-01-01T10:00:00Z');
  });
});
