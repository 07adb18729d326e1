// The login session: the access token in memory, the refresh token (rotated on each use) and
// the worker in localStorage so a reload stays logged in.

export interface SessionWorker {
  id: string;
  name: string;
  role: 'ADMIN' | 'AGENT';
}

export interface Session {
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  refreshTokenExpiresAt: string;
  worker: SessionWorker;
}

const KEY = 'savecorp.session';

/** When to refresh an access token: a minute before it expires, or at half its remaining
 * life when less than two minutes are left; never sooner than 1 s. */
export function refreshDelayMs(expiresAt: string, now: number): number {
  const left = Date.parse(expiresAt) - now;
  if (Number.isNaN(left)) return 1000;
  return Math.max(1000, left > 120_000 ? left - 60_000 : left / 2);
}

/** A saved session still usable to refresh (its refresh token has not expired). */
export function parseSaved(text: string | null, now: number): Session | null {
  if (!text) return null;
  try {
    const session = JSON.parse(text) as Partial<Session>;
    if (
      typeof session.refreshToken !== 'string' ||
      typeof session.refreshTokenExpiresAt !== 'string' ||
      typeof session.worker?.id !== 'string' ||
      Date.parse(session.refreshTokenExpiresAt) <= now
    ) {
      return null;
    }
    return session as Session;
  } catch {
    return null;
  }
}

type Listener = (session: Session | null) => void;

export class SessionStore {
  private current: Session | null;
  private listeners = new Set<Listener>();

  constructor(private storage: Storage | null) {
    this.current = parseSaved(storage?.getItem(KEY) ?? null, Date.now());
  }

  get(): Session | null {
    return this.current;
  }

  set(session: Session | null): void {
    this.current = session;
    if (session) this.storage?.setItem(KEY, JSON.stringify(session));
    else this.storage?.removeItem(KEY);
    for (const listener of this.listeners) listener(session);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
