import { describe, expect, it } from 'vitest';
import { auditTarget, metadataOf } from './audit';

describe('auditTarget', () => {
  it('reads the type and id, defaulting to a customer', () => {
    expect(auditTarget('?type=request&id=abc')).toEqual({ type: 'request', id: 'abc' });
    expect(auditTarget('?type=nope&id=x')).toEqual({ type: 'customer', id: 'x' });
    expect(auditTarget('')).toEqual({ type: 'customer', id: '' });
  });
});

describe('metadataOf', () => {
  it('shows the actor and correlation, or a dash', () => {
    expect(metadataOf({ actor: 'worker:1', correlation_id: 'c-1' })).toEqual({ actor: 'worker:1', correlation: 'c-1' });
    expect(metadataOf(null)).toEqual({ actor: '—', correlation: '—' });
  });
});
