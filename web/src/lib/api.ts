// The GraphQL client: queries and mutations over POST /graphql, subscriptions over
// `graphql-ws` (unlimited retries; each subscription restarts on reconnection with variables
// computed then, so a stream resumes from its last position). The access token is refreshed
// before it expires (refresh-token rotation) and once more when a request says UNAUTHENTICATED.
import { createClient, type Client } from 'graphql-ws';
import type { TypedDocumentString } from '../gql/graphql';
import { RefreshMutation, LogoutMutation } from '../operations';
import { refreshDelayMs, SessionStore, type Session } from './session';

export class ApiError extends Error {
  constructor(
    message: string,
    public code: string | undefined,
  ) {
    super(message);
  }
}

interface GraphqlAnswer<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function post<R, V>(
  document: TypedDocumentString<R, V>,
  variables: V,
  token: string | undefined,
): Promise<R> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch('/graphql', {
    method: 'POST',
    headers,
    body: JSON.stringify({ query: document.toString(), variables }),
  });
  const answer = (await response.json()) as GraphqlAnswer<R>;
  const error = answer.errors?.[0];
  if (error) throw new ApiError(error.message, error.extensions?.code);
  if (!answer.data) throw new ApiError(`HTTP ${response.status}`, undefined);
  return answer.data;
}

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting';

type Listener = () => void;

export class Api {
  readonly session: SessionStore;
  private refreshing: Promise<Session | null> | null = null;
  /** Session changes under way (`replaceSession`). */
  private replacing = 0;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private ws: Client | null = null;
  private state: ConnectionState = 'connecting';
  private generation = 0;
  private listeners = new Set<Listener>();

  constructor(
    storage: Storage | null,
    private createSocket: typeof createClient = createClient,
  ) {
    this.session = new SessionStore(storage);
    this.session.subscribe((session) => {
      this.schedule(session);
      if (!session) this.closeSocket();
    });
  }

  /** Call once at start: refreshes a saved session (a reload) to get an access token. */
  async resume(): Promise<Session | null> {
    if (!this.session.get()) return null;
    return this.refresh();
  }

  async login(session: Session): Promise<void> {
    this.session.set(session);
  }

  async logout(): Promise<void> {
    const token = this.session.get()?.accessToken;
    this.session.set(null);
    if (token) await post(LogoutMutation, {}, token).catch(() => undefined);
  }

  /** A query or mutation as the logged-in worker (refreshing once on UNAUTHENTICATED). */
  async request<R, V>(document: TypedDocumentString<R, V>, variables: V): Promise<R> {
    try {
      return await post(document, variables, this.session.get()?.accessToken);
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'UNAUTHENTICATED') throw error;
      const session = await this.refresh();
      if (!session) throw error;
      return post(document, variables, session.accessToken);
    }
  }

  /**
   * Runs a mutation that ends every session of the worker and answers a new one
   * (`changePassword`), then goes on with that session. Meanwhile the server closes the
   * socket and a refresh with the now revoked token is refused: that must not log out.
   */
  async replaceSession(run: () => Promise<Session>): Promise<Session> {
    this.replacing += 1;
    try {
      const next = await run();
      this.session.set(next);
      return next;
    } finally {
      this.replacing -= 1;
    }
  }

  /** Exchanges the refresh token for a new pair (once at a time); logs out when refused. */
  refresh(): Promise<Session | null> {
    if (!this.refreshing) {
      const current = this.session.get();
      this.refreshing = (async () => {
        if (!current) return null;
        try {
          const data = await post(RefreshMutation, { refreshToken: current.refreshToken }, undefined);
          const next = data.refreshSession;
          this.session.set(next);
          return next;
        } catch (error) {
          // A network failure keeps the session (retried later); a refusal ends it, unless a
          // session change (`replaceSession`) is under way or already gave a new session.
          if (
            error instanceof ApiError &&
            error.code &&
            this.replacing === 0 &&
            this.session.get() === current
          ) {
            this.session.set(null);
          }
          return null;
        } finally {
          this.refreshing = null;
        }
      })();
    }
    return this.refreshing;
  }

  private schedule(session: Session | null): void {
    clearTimeout(this.refreshTimer);
    if (!session) return;
    const delay = refreshDelayMs(session.accessTokenExpiresAt, Date.now());
    this.refreshTimer = setTimeout(() => void this.refresh(), delay);
  }

  connectionState(): ConnectionState {
    return this.state;
  }

  /** Grows on each (re)connection: snapshots re-query when it changes. */
  connectionGeneration(): number {
    return this.generation;
  }

  onConnectionChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.listeners) listener();
  }

  private socket(): Client {
    if (this.ws) return this.ws;
    const url = new URL('/graphql', globalThis.location?.href ?? 'http://localhost/');
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const client = this.createSocket({
      url: url.toString(),
      lazy: false,
      retryAttempts: Infinity,
      shouldRetry: () => true,
      retryWait: async (retries) => {
        const delay = Math.min(10_000, 500 * 2 ** retries) * (0.5 + Math.random() / 2);
        await new Promise((resolve) => setTimeout(resolve, delay));
      },
      connectionParams: async () => {
        let session = this.session.get();
        if (session && Date.parse(session.accessTokenExpiresAt) - Date.now() < 10_000) {
          session = await this.refresh();
        }
        return session ? { authorization: `Bearer ${session.accessToken}` } : {};
      },
      on: {
        connecting: () => this.setState(this.generation === 0 ? 'connecting' : 'reconnecting'),
        connected: () => {
          this.generation += 1;
          this.setState('connected');
        },
        closed: (event) => {
          if ((event as { code?: number } | undefined)?.code === 4403) void this.refresh();
          this.setState('reconnecting');
        },
      },
    });
    this.ws = client;
    return client;
  }

  private closeSocket(): void {
    const ws = this.ws;
    this.ws = null;
    this.generation = 0;
    this.state = 'connecting';
    void ws?.dispose();
  }

  /**
   * Subscribes; on every reconnection the subscription starts again with `variables()`
   * computed then (say, the last position seen), so nothing is missed nor sent twice.
   */
  subscribe<R, V>(
    document: TypedDocumentString<R, V>,
    variables: () => V,
    onData: (data: R) => void,
    onError: (message: string) => void,
  ): () => void {
    const client = this.socket();
    let stop: (() => void) | null = null;
    const start = () => {
      stop = client.subscribe<R>(
        { query: document.toString(), variables: variables() as Record<string, unknown> },
        {
          next: (result) => {
            if (result.errors?.length) onError(result.errors[0]?.message ?? 'error');
            else if (result.data) onData(result.data);
          },
          error: (error) => onError(error instanceof Error ? error.message : String(error)),
          complete: () => undefined,
        },
      );
    };
    start();
    let dropped = false;
    const offClosed = client.on('closed', () => {
      stop?.();
      stop = null;
      dropped = true;
    });
    const offConnected = client.on('connected', () => {
      if (dropped) {
        dropped = false;
        start();
      }
    });
    return () => {
      offClosed();
      offConnected();
      stop?.();
    };
  }
}

export async function loginRequest<R, V>(document: TypedDocumentString<R, V>, variables: V) {
  return post(document, variables, undefined);
}
