import { describe, expect, it } from 'vitest';
import { auditTarget, localInput, metadataOf, rebuildPercent } from './audit';

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

describe('localInput', () => {
  it('writes a local date and time to the second, as datetime-local reads it', () => {
    const at = new Date(2026, 0, 5, 7, 8, 9);
    expect(localInput(at)).toBe('2026-01-05T07:08:09');
    expect(new Date(localInput(at)).getTime()).toBe(at.getTime());
  });
});

describe('rebuildPercent', () => {
  it('follows the fraction while running, is full once done, clamps', () => {
    expect(rebuildPercent({ running: true, fraction: null })).toBe(0);
    expect(rebuildPercent({ running: true, fraction: 0.456 })).toBe(46);
    expect(rebuildPercent({ running: true, fraction: 1.3 })).toBe(100);
    expect(rebuildPercent({ running: false, fraction: 0.2 })).toBe(100);
    expect(rebuildPercent({ running: false, fraction: 0.2, error: 'boom' })).toBe(20);
  });
});
