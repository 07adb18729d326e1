import { describe, expect, it } from 'vitest';
import type { Client, ClientOptions } from 'graphql-ws';
import { Api } from './api';
import { OffersSubscription } from '../operations';

type Handler = (...args: unknown[]) => void;

/** A graphql-ws client stand-in: records subscriptions, fires connection events on demand. */
class FakeSocket {
  handlers = new Map<string, Set<Handler>>();
  subscriptions: { variables: unknown; disposed: boolean; sink: { next: (value: unknown) => void } }[] = [];
  options: ClientOptions;

  constructor(options: ClientOptions) {
    this.options = options;
  }

  on(event: string, handler: Handler) {
    const set = this.handlers.get(event) ?? new Set();
    set.add(handler);
    this.handlers.set(event, set);
    return () => set.delete(handler);
  }

  fire(event: string, ...args: unknown[]) {
    (this.options.on as Record<string, Handler> | undefined)?.[event]?.(...args);
    for (const handler of this.handlers.get(event) ?? []) handler(...args);
  }

  subscribe(payload: { variables?: unknown }, sink: { next: (value: unknown) => void }) {
    const entry = { variables: payload.variables, disposed: false, sink };
    this.subscriptions.push(entry);
    return () => {
      entry.disposed = true;
    };
  }

  dispose() {}
}

function setUp() {
  let socket: FakeSocket | null = null;
  const api = new Api(null, ((options: ClientOptions) => {
    socket = new FakeSocket(options);
    return socket as unknown as Client;
  }) as never);
  return { api, socket: () => socket as unknown as FakeSocket };
}

describe('Api.subscribe', () => {
  it('restarts a subscription on reconnection from the last position seen', () => {
    const { api, socket } = setUp();
    let position: number | null = null;
    const seen: number[] = [];
    const stop = api.subscribe(
      OffersSubscription,
      () => ({ fromPosition: position }),
      (data) => {
        position = data.offers.position;
        seen.push(position);
      },
      () => undefined,
    );
    const ws = socket();
    ws.fire('connecting');
    ws.fire('connected');
    expect(api.connectionState()).toBe('connected');
    expect(ws.subscriptions.map((entry) => entry.variables)).toEqual([{ fromPosition: null }]);
    ws.subscriptions[0]?.sink.next({ data: { offers: { position: 41, offer: null } } });
    ws.subscriptions[0]?.sink.next({ data: { offers: { position: 42, offer: null } } });

    ws.fire('closed', { code: 1006 });
    expect(api.connectionState()).toBe('reconnecting');
    expect(ws.subscriptions[0]?.disposed).toBe(true);
    ws.fire('connecting');
    expect(api.connectionState()).toBe('reconnecting');
    ws.fire('connected');
    expect(ws.subscriptions.map((entry) => entry.variables)).toEqual([
      { fromPosition: null },
      { fromPosition: 42 },
    ]);
    expect(api.connectionGeneration()).toBe(2);
    expect(seen).toEqual([41, 42]);

    stop();
    expect(ws.subscriptions[1]?.disposed).toBe(true);
    ws.fire('closed', { code: 1006 });
    ws.fire('connected');
    expect(ws.subscriptions).toHaveLength(2);
  });

  it('retries for ever', () => {
    const { api, socket } = setUp();
    api.subscribe(OffersSubscription, () => ({}), () => undefined, () => undefined);
    const options = socket().options;
    expect(options.retryAttempts).toBe(Infinity);
    expect(options.shouldRetry?.({ code: 1006 })).toBe(true);
    expect(options.lazy).toBe(false);
  });
});

describe('Api.replaceSession', () => {
  const session = (token: string) => ({
    accessToken: `access-${token}`,
    accessTokenExpiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    refreshToken: `refresh-${token}`,
    refreshTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    worker: { id: 'w1', name: 'Ann', role: 'AGENT' as const },
  });

  it('is not logged out by a refresh refused while the password change runs', async () => {
    const { api } = setUp();
    await api.login(session('old'));
    const refused = { errors: [{ message: 'session ended', extensions: { code: 'UNAUTHENTICATED' } }] };
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async () => new Response(JSON.stringify(refused))) as typeof fetch;
    try {
      let finish: (value: ReturnType<typeof session>) => void = () => undefined;
      const change = api.replaceSession(() => new Promise((resolve) => (finish = resolve)));
      // The server closed the socket: a refresh with the revoked token is refused meanwhile.
      expect(await api.refresh()).toBeNull();
      expect(api.session.get()?.accessToken).toBe('access-old');
      finish(session('new'));
      await change;
      expect(api.session.get()?.accessToken).toBe('access-new');
      // Without a change under way, a refusal still logs out.
      expect(await api.refresh()).toBeNull();
      expect(api.session.get()).toBeNull();
    } finally {
      globalThis.fetch = realFetch;
      await api.logout().catch(() => undefined);
    }
  });
});
