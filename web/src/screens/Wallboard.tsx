import { useApi, useNow, useQuery, useSubscription } from '../lib/hooks';
import { useI18n } from '../lib/i18n';
import { formatDuration, secondsSince } from '../lib/time';
import type { MessageKey } from '../lib/messages';
import { WaitingCallsQuery, WallboardSubscription } from '../operations';

/** Seconds of the oldest wait above which the cell turns amber, then red. */
const WAIT_WARN_SECS = 60;
const WAIT_ALERT_SECS = 120;

function level(secs: number): string {
  if (secs >= WAIT_ALERT_SECS) return 'alert';
  if (secs >= WAIT_WARN_SECS) return 'warn';
  return 'ok';
}

export function Wallboard() {
  const api = useApi();
  const { t } = useI18n();
  const now = useNow();
  const admin = api.session.get()?.worker.role === 'ADMIN';
  const { data, error } = useSubscription(WallboardSubscription, () => ({}));
  // The waiting list (with callers) is re-read whenever the wallboard changes.
  const { data: queue } = useQuery(WaitingCallsQuery, {}, [data?.wallboard.at]);
  if (!admin) return <p>{t('wall.adminOnly')}</p>;
  const board = data?.wallboard;
  const oldest = secondsSince(board?.oldestQueuedAt ?? null, now);
  return (
    <div className="wallboard">
      <h1>{t('wall.title')}</h1>
      {error && <p role="alert" className="error">{t('error', { message: error })}</p>}
      {!board ? (
        <p>{t('loading')}</p>
      ) : (
        <>
          <section aria-labelledby="tiles-title" className="tiles">
            <h2 id="tiles-title" className="visually-hidden">{t('wall.waiting')}</h2>
            <Tile label={t('wall.waiting')} value={String(board.callsWaiting)} testId="calls-waiting" />
            <Tile label={t('wall.ringing')} value={String(board.callsRinging)} testId="calls-ringing" />
            <Tile
              label={t('wall.oldestWait')}
              value={formatDuration(oldest)}
              level={board.oldestQueuedAt ? level(oldest) : 'ok'}
              testId="oldest-wait"
            />
          </section>
          <section aria-labelledby="waiting-title" className="card">
            <h2 id="waiting-title">{t('wall.waitingList')}</h2>
            {(queue?.queueStatus.waiting.length ?? 0) === 0 ? (
              <p>{t('wall.noWaiting')}</p>
            ) : (
              <table data-testid="waiting-calls">
                <thead>
                  <tr>
                    <th scope="col">{t('wall.caller')}</th>
                    <th scope="col">{t('wall.wait')}</th>
                    <th scope="col">{t('wall.attempts')}</th>
                  </tr>
                </thead>
                <tbody>
                  {queue?.queueStatus.waiting.map((call) => {
                    const wait = secondsSince(call.queuedAt, now);
                    return (
                      <tr key={call.callId} className={`level-${level(wait)}`}>
                        <td>{call.callerNumber ?? '—'}</td>
                        <td>{formatDuration(wait)}</td>
                        <td>{call.attempts}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )}
          </section>
          <section aria-labelledby="agents-title" className="card">
            <h2 id="agents-title">{t('wall.agents')}</h2>
            <ul className="counts">
              {board.agentsByState.map((count) => (
                <li key={count.state} className={`state-${count.state}`}>
                  {t(`presence.${count.state}` as MessageKey)}: <strong>{count.count}</strong>
                </li>
              ))}
            </ul>
            {board.agents.length === 0 ? (
              <p>{t('wall.noAgents')}</p>
            ) : (
              <table data-testid="agents">
                <thead>
                  <tr>
                    <th scope="col">{t('wall.agent')}</th>
                    <th scope="col">{t('wall.state')}</th>
                    <th scope="col">{t('wall.timeInState')}</th>
                  </tr>
                </thead>
                <tbody>
                  {board.agents.map((agent) => (
                    <tr key={agent.id} className={`state-${agent.state}`}>
                      <td>{agent.name}</td>
                      <td>
                        {t(`presence.${agent.state}` as MessageKey)}
                        {agent.pauseReason ? ` (${agent.pauseReason})` : ''}
                      </td>
                      <td>{formatDuration(secondsSince(agent.since, now))}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section aria-labelledby="today-title" className="tiles">
            <h2 id="today-title">{t('wall.today')}</h2>
            <Tile label={t('wall.offered')} value={String(board.today.offered)} testId="kpi-offered" />
            <Tile label={t('wall.answered')} value={String(board.today.answered)} testId="kpi-answered" />
            <Tile label={t('wall.abandoned')} value={String(board.today.abandoned)} testId="kpi-abandoned" />
            <Tile
              label={t('wall.asa')}
              value={board.today.asaSecs === null || board.today.asaSecs === undefined ? '—' : formatDuration(board.today.asaSecs)}
              testId="kpi-asa"
            />
            <Tile
              label={t('wall.overdue')}
              value={String(board.today.requestsOverdue)}
              level={board.today.requestsOverdue > 0 ? 'alert' : 'ok'}
              testId="kpi-overdue"
            />
          </section>
        </>
      )}
    </div>
  );
}

function Tile({ label, value, level: tone = 'ok', testId }: { label: string; value: string; level?: string; testId: string }) {
  return (
    <div className={`tile level-${tone}`} data-testid={testId}>
      <span className="tile-label">{label}</span>
      <span className="tile-value">{value}</span>
    </div>
  );
}
