import { createContext, useContext, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { Api, ConnectionState } from './api';
import type { TypedDocumentString } from '../gql/graphql';

export const ApiContext = createContext<Api | null>(null);

export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error('no Api');
  return api;
}

/** The current time (ms), ticking every second: timers and countdowns re-render with it. */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

export function useConnection(): { state: ConnectionState; generation: number } {
  const api = useApi();
  const state = useSyncExternalStore(
    (listener) => api.onConnectionChange(listener),
    () => api.connectionState(),
  );
  const generation = useSyncExternalStore(
    (listener) => api.onConnectionChange(listener),
    () => api.connectionGeneration(),
  );
  return { state, generation };
}

/** A subscription's latest data (restarted with `variables()` on reconnection). */
export function useSubscription<R, V>(
  document: TypedDocumentString<R, V>,
  variables: () => V,
  onData?: (data: R) => void,
): { data: R | null; error: string | null } {
  const api = useApi();
  const [data, setData] = useState<R | null>(null);
  const [error, setError] = useState<string | null>(null);
  const variablesRef = useRef(variables);
  const onDataRef = useRef(onData);
  useEffect(() => {
    variablesRef.current = variables;
    onDataRef.current = onData;
  });
  useEffect(
    () =>
      api.subscribe(
        document,
        () => variablesRef.current(),
        (next) => {
          setError(null);
          setData(next);
          onDataRef.current?.(next);
        },
        setError,
      ),
    [api, document],
  );
  return { data, error };
}

/** A query run now, again when `deps` change and after each reconnection. */
export function useQuery<R, V>(
  document: TypedDocumentString<R, V>,
  variables: V,
  deps: readonly unknown[],
): { data: R | null; error: string | null; reload: () => void } {
  const api = useApi();
  const { generation } = useConnection();
  const [data, setData] = useState<R | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const variablesRef = useRef(variables);
  useEffect(() => {
    variablesRef.current = variables;
  });
  useEffect(() => {
    let live = true;
    api.request(document, variablesRef.current).then(
      (next) => {
        if (live) {
          setData(next);
          setError(null);
        }
      },
      (failure: unknown) => {
        if (live) setError(failure instanceof Error ? failure.message : String(failure));
      },
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, document, generation, tick, ...deps]);
  return { data, error, reload: () => setTick((value) => value + 1) };
}
