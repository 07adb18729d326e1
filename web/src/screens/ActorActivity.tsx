// What one actor did between two times (admins, on the audit screen): `actorActivity`, 50
// events a page, oldest first.
import { useState, type FormEvent } from 'react';
import { ApiError } from '../lib/api';
import { useApi } from '../lib/hooks';
import { useI18n } from '../lib/i18n';
import { localInput, metadataOf } from '../lib/audit';
import { ActorActivityQuery } from '../operations';
import type { AuditEventFragment } from '../gql/graphql';

function describe(failure: unknown): string {
  if (failure instanceof ApiError && failure.code) return `${failure.message} (${failure.code})`;
  return failure instanceof Error ? failure.message : String(failure);
}

export function ActorActivity() {
  const api = useApi();
  const { t, language } = useI18n();
  const [actor, setActor] = useState('');
  const [from, setFrom] = useState(() => localInput(new Date(Date.now() - 24 * 3600_000)));
  const [until, setUntil] = useState(() => localInput(new Date(Date.now() + 3600_000)));
  const [events, setEvents] = useState<AuditEventFragment[] | null>(null);
  const [total, setTotal] = useState(0);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async (after?: string) => {
    try {
      const answer = await api.request(ActorActivityQuery, {
        actor: actor.trim(),
        from: new Date(from).toISOString(),
        until: new Date(until).toISOString(),
        after,
      });
      const page = answer.actorActivity;
      setEvents((previous) => (after && previous ? [...previous, ...page.nodes] : page.nodes));
      setTotal(page.totalCount);
      setNext(page.pageInfo.hasNextPage ? (page.pageInfo.endCursor ?? null) : null);
      setError(null);
    } catch (failure) {
      if (!after) setEvents(null);
      setError(describe(failure));
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void load();
  };
  const when = (iso: string) => new Date(iso).toLocaleString(language);
  return (
    <section className="card" aria-labelledby="activity-title">
      <h2 id="activity-title">{t('activity.title')}</h2>
      <form onSubmit={submit} aria-labelledby="activity-title">
        <label>
          {t('activity.actor')}
          <input
            required
            value={actor}
            placeholder="worker:<id>"
            aria-describedby="activity-actor-help"
            onChange={(event) => setActor(event.target.value)}
          />
        </label>
        <span id="activity-actor-help" className="hint">
          {t('activity.actorHelp')}
        </span>
        <label>
          {t('activity.from')}
          <input type="datetime-local" step="1" required value={from} onChange={(event) => setFrom(event.target.value)} />
        </label>
        <label>
          {t('activity.until')}
          <input type="datetime-local" step="1" required value={until} onChange={(event) => setUntil(event.target.value)} />
        </label>
        <button type="submit">{t('activity.show')}</button>
      </form>
      {error && (
        <p role="alert" className="error">
          {t('error', { message: error })}
        </p>
      )}
      {events &&
        (events.length === 0 ? (
          <p>{t('activity.none')}</p>
        ) : (
          <>
            <p>{t('activity.count', { shown: events.length, total })}</p>
            <table data-testid="activity">
              <thead>
                <tr>
                  <th scope="col">{t('audit.time')}</th>
                  <th scope="col">{t('audit.event')}</th>
                  <th scope="col">{t('activity.aggregate')}</th>
                  <th scope="col">{t('audit.correlation')}</th>
                </tr>
              </thead>
              <tbody>
                {events.map((event) => (
                  <tr key={event.eventId}>
                    <td>
                      <time dateTime={event.recordedAt}>{when(event.recordedAt)}</time>
                    </td>
                    <th scope="row">{event.eventType}</th>
                    <td>
                      <a href={`/audit?type=${event.aggregateType}&id=${encodeURIComponent(event.aggregateId)}`}>
                        {event.aggregateType} {event.aggregateId} v{event.sequence}
                      </a>
                    </td>
                    <td>
                      <code>{metadataOf(event.metadata).correlation}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {next && (
              <button type="button" onClick={() => void load(next)}>
                {t('activity.more')}
              </button>
            )}
          </>
        ))}
    </section>
  );
}
