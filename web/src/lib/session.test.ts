import { describe, expect, it } from 'vitest';
import { parseSaved, refreshDelayMs, SessionStore, type Session } from './session';

const now = Date.parse('2026-12-07T10:00:00Z');
const session: Session = {
  accessToken: 'a',
  accessTokenExpiresAt: '2026-12-07T10:15:00Z',
  refreshToken: 'r',
  refreshTokenExpiresAt: '2026-12-14T10:00:00Z',
  worker: { id: 'w', name: 'Ann', role: 'AGENT' },
};

class MemoryStorage {
  items = new Map<string, string>();
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
}

describe('refreshDelayMs', () => {
  it('refreshes a minute before expiry', () => {
    expect(refreshDelayMs('2026-12-07T10:15:00Z', now)).toBe(14 * 60_000);
  });
  it('refreshes at half the remaining life when short', () => {
    expect(refreshDelayMs('2026-12-07T10:01:00Z', now)).toBe(30_000);
  });
  it('never waits less than a second', () => {
    expect(refreshDelayMs('2026-12-07T09:00:00Z', now)).toBe(1000);
    expect(refreshDelayMs('garbage', now)).toBe(1000);
  });
});

describe('parseSaved', () => {
  it('restores a session whose refresh token is alive', () => {
    expect(parseSaved(JSON.stringify(session), now)?.refreshToken).toBe('r');
  });
  it('drops an expired, malformed or missing one', () => {
    expect(
      parseSaved(JSON.stringify({ ...session, refreshTokenExpiresAt: '2026-12-07T09:00:00Z' }), now),
    ).toBeNull();
    expect(parseSaved('{not json', now)).toBeNull();
    expect(parseSaved(JSON.stringify({ refreshToken: 1 }), now)).toBeNull();
    expect(parseSaved(null, now)).toBeNull();
  });
});

describe('SessionStore', () => {
  it('persists the rotated session and forgets it on logout', () => {
    const storage = new MemoryStorage();
    const store = new SessionStore(storage as unknown as Storage);
    const seen: (string | undefined)[] = [];
    store.subscribe((next) => seen.push(next?.refreshToken));
    store.set(session);
    store.set({ ...session, refreshToken: 'r2' });
    expect(JSON.parse(storage.getItem('savecorp.session') ?? '{}').refreshToken).toBe('r2');
    store.set(null);
    expect(storage.getItem('savecorp.session')).toBeNull();
    expect(seen).toEqual(['r', 'r2', undefined]);
  });
});
