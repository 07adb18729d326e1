// Audit (admins): an aggregate's history (actor, time, correlation) and its state as of a
// version or an instant (`history`, `stateAt`).
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError } from '../lib/api';
import { useApi } from '../lib/hooks';
import { useI18n } from '../lib/i18n';
import { AGGREGATE_TYPES, auditTarget, metadataOf } from '../lib/audit';
import { HistoryQuery, StateAtQuery } from '../operations';
import { ActorActivity } from './ActorActivity';
import { ReadModels } from './ReadModels';
import type { AuditEventFragment, StateAtQuery as StateData } from '../gql/graphql';

type Event = AuditEventFragment;
type State = StateData['stateAt'];

function describe(failure: unknown): string {
  if (failure instanceof ApiError && failure.code) return `${failure.message} (${failure.code})`;
  return failure instanceof Error ? failure.message : String(failure);
}

export function Audit() {
  const api = useApi();
  const { t, language } = useI18n();
  const initial = auditTarget(window.location.search);
  const [type, setType] = useState(initial.type);
  const [id, setId] = useState(initial.id);
  const [events, setEvents] = useState<Event[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [state, setState] = useState<State | null>(null);
  const [at, setAt] = useState('');
  const [error, setError] = useState<string | null>(null);
  const isAdmin = api.session.get()?.worker.role === 'ADMIN';

  // `after`: the next page of the same aggregate, appended (the history is a connection).
  const load = async (aggregateType: string, aggregateId: string, after?: string) => {
    if (!after) setState(null);
    try {
      const answer = await api.request(HistoryQuery, { aggregateType, aggregateId, after });
      const page = answer.history;
      setEvents((previous) => (after && previous ? [...previous, ...page.nodes] : page.nodes));
      setNext(page.pageInfo.hasNextPage ? (page.pageInfo.endCursor ?? null) : null);
      setError(null);
    } catch (failure) {
      if (!after) setEvents(null);
      setError(describe(failure));
    }
  };
  const stateAt = async (variables: { version?: number; at?: string }) => {
    try {
      const answer = await api.request(StateAtQuery, { aggregateType: type, aggregateId: id.trim(), ...variables });
      setState(answer.stateAt);
      setError(null);
    } catch (failure) {
      setError(describe(failure));
    }
  };
  useEffect(() => {
    if (isAdmin && initial.id) void load(initial.type, initial.id);
    // Only the target the page was opened with.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  if (!isAdmin) {
    return (
      <div>
        <h1>{t('audit.title')}</h1>
        <p role="alert">{t('audit.only')}</p>
      </div>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    window.history.replaceState(null, '', `/audit?type=${type}&id=${encodeURIComponent(id.trim())}`);
    void load(type, id.trim());
  };
  const submitAt = (event: FormEvent) => {
    event.preventDefault();
    if (at) void stateAt({ at: new Date(at).toISOString() });
  };
  const when = (iso: string) => new Date(iso).toLocaleString(language);
  return (
    <div>
      <h1>{t('audit.title')}</h1>
      <form className="card" onSubmit={submit}>
        <label>
          {t('audit.type')}
          <select value={type} onChange={(event) => setType(event.target.value)}>
            {AGGREGATE_TYPES.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('audit.id')}
          <input required value={id} onChange={(event) => setId(event.target.value)} />
        </label>
        <button type="submit">{t('audit.show')}</button>
      </form>
      {error && (
        <p role="alert" className="error">
          {t('error', { message: error })}
        </p>
      )}
      {events && (
        <section className="card" aria-labelledby="history-title">
          <h2 id="history-title">{t('audit.history')}</h2>
          {events.length === 0 ? (
            <p>{t('audit.noEvents')}</p>
          ) : (
            <table data-testid="history">
              <thead>
                <tr>
                  <th scope="col">{t('audit.version')}</th>
                  <th scope="col">{t('audit.event')}</th>
                  <th scope="col">{t('audit.time')}</th>
                  <th scope="col">{t('audit.actor')}</th>
                  <th scope="col">{t('audit.correlation')}</th>
                  <th scope="col">{t('audit.change')}</th>
                </tr>
              </thead>
              <tbody>
                {events.map((event) => {
                  const meta = metadataOf(event.metadata);
                  return (
                    <tr key={event.eventId}>
                      <td>{event.sequence}</td>
                      <th scope="row">{event.eventType}</th>
                      <td>
                        <time dateTime={event.recordedAt}>{when(event.recordedAt)}</time>
                      </td>
                      <td>{meta.actor}</td>
                      <td>
                        <code>{meta.correlation}</code>
                      </td>
                      <td>
                        <details>
                          <summary>{t('audit.payload')}</summary>
                          <pre>{JSON.stringify(event.payload, null, 2)}</pre>
                        </details>
                        <button
                          type="button"
                          aria-label={t('audit.stateAfterN', { version: event.sequence })}
                          onClick={() => void stateAt({ version: event.sequence })}
                        >
                          {t('audit.stateAfter')}
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          {next && (
            <button type="button" onClick={() => void load(type, id.trim(), next)}>
              {t('audit.more')}
            </button>
          )}
          <form className="actions" onSubmit={submitAt}>
            <label>
              {t('audit.asOf')}{' '}
              <input
                type="datetime-local"
                step="1"
                value={at}
                onChange={(event) => setAt(event.target.value)}
              />
            </label>
            <button type="submit">{t('audit.showAsOf')}</button>
          </form>
        </section>
      )}
      {state && (
        <section className="card" aria-labelledby="state-title" data-testid="state-at">
          <h2 id="state-title">
            {t('audit.stateTitle', {
              version: state.version,
              time: state.recordedAt ? when(state.recordedAt) : '—',
            })}
          </h2>
          <pre tabIndex={0} aria-label={t('audit.stateJson')}>
            {JSON.stringify(state.state, null, 2)}
          </pre>
        </section>
      )}
      <ActorActivity />
      <ReadModels />
    </div>
  );
}
