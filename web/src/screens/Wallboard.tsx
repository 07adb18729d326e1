import { useEffect, useRef, useState } from 'react';
import { useApi, useNow, useQuery, useSubscription } from '../lib/hooks';
import { useI18n } from '../lib/i18n';
import { formatDuration, secondsSince } from '../lib/time';
import type { MessageKey } from '../lib/messages';
import { abandonmentRate, formatPercent, kpiLevel, utcDay, type KpiName, type Level } from '../lib/kpis';
import { alertLevel, feedStart, pushAlert, type FeedAlert } from '../lib/alerts';
import {
  AlertsSubscription,
  CustomerNameQuery,
  KpisQuery,
  LogHeadQuery,
  WaitingCallsQuery,
  WallboardSubscription,
} from '../operations';

/** How often today's KPIs from the `kpis` read model are read again besides each change. */
const KPI_REFRESH_MS = 15_000;

/** Seconds of the oldest wait above which the cell turns amber, then red. */
const WAIT_WARN_SECS = 60;
const WAIT_ALERT_SECS = 120;

function level(secs: number): string {
  if (secs >= WAIT_ALERT_SECS) return 'alert';
  if (secs >= WAIT_WARN_SECS) return 'warn';
  return 'ok';
}

export function Wallboard({ tv = false }: { tv?: boolean }) {
  const api = useApi();
  const admin = api.session.get()?.worker.role === 'ADMIN';
  const { t } = useI18n();
  if (!admin) return <p>{t('wall.adminOnly')}</p>;
  return <LiveWallboard tv={tv} />;
}

function LiveWallboard({ tv }: { tv: boolean }) {
  const { t } = useI18n();
  const now = useNow();
  const { data, error } = useSubscription(WallboardSubscription, () => ({}));
  // The waiting list (with callers) is re-read whenever the wallboard changes.
  const { data: queue } = useQuery(WaitingCallsQuery, {}, [data?.wallboard.at]);
  const board = data?.wallboard;
  const today = board?.today;
  // AHT, service level and occupancy come from the `kpis` read model (the UTC day, as the
  // wallboard's counts): read again when a count moves and every KPI_REFRESH_MS.
  const [kpiTick, setKpiTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setKpiTick((value) => value + 1), KPI_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  const day = utcDay(now);
  const { data: kpis } = useQuery(
    KpisQuery,
    { ...day, bucket: 'DAY', timeZone: 'UTC' },
    [day.from, today?.offered, today?.answered, today?.abandoned, board?.agents.length, kpiTick],
  );
  const kpiDay = kpis?.kpis.buckets[0];
  const oldest = secondsSince(board?.oldestQueuedAt ?? null, now);
  const fullScreen = () => {
    void document.documentElement.requestFullscreen?.().catch(() => undefined);
  };
  return (
    <div className={tv ? 'wallboard tv' : 'wallboard'}>
      <div className="wall-head">
        <h1>{t('wall.title')}</h1>
        {tv ? (
          <div className="actions">
            <button type="button" onClick={fullScreen}>
              {t('wall.fullScreen')}
            </button>
            <a href="/wallboard">{t('wall.leaveTv')}</a>
          </div>
        ) : (
          <a href="/wallboard?tv=1">{t('wall.tvMode')}</a>
        )}
      </div>
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
          <section aria-labelledby="today-title" className="tiles" data-testid="kpis">
            <h2 id="today-title">{t('wall.today')}</h2>
            <Tile label={t('wall.offered')} value={String(board.today.offered)} testId="kpi-offered" />
            <Tile label={t('wall.answered')} value={String(board.today.answered)} testId="kpi-answered" />
            <Tile label={t('wall.abandoned')} value={String(board.today.abandoned)} testId="kpi-abandoned" />
            <KpiTile
              name="asa"
              label={t('wall.asa')}
              value={board.today.asaSecs ?? null}
              format={(secs) => formatDuration(secs)}
              testId="kpi-asa"
            />
            <KpiTile
              name="aht"
              label={t('wall.aht')}
              value={kpiDay?.ahtSecs ?? null}
              format={(secs) => formatDuration(secs)}
              testId="kpi-aht"
            />
            <KpiTile
              name="serviceLevel"
              label={t('wall.serviceLevel')}
              value={kpiDay?.serviceLevel ?? null}
              format={formatPercent}
              testId="kpi-service-level"
            />
            <KpiTile
              name="abandonmentRate"
              label={t('wall.abandonmentRate')}
              value={abandonmentRate(board.today.offered, board.today.abandoned)}
              format={formatPercent}
              testId="kpi-abandonment-rate"
            />
            <KpiTile
              name="occupancy"
              label={t('wall.occupancy')}
              value={kpiDay?.occupancy ?? null}
              format={formatPercent}
              testId="kpi-occupancy"
            />
            <Tile
              label={t('wall.overdue')}
              value={String(board.today.requestsOverdue)}
              level={board.today.requestsOverdue > 0 ? 'alert' : 'ok'}
              testId="kpi-overdue"
            />
          </section>
          <AlertsFeed />
        </>
      )}
    </div>
  );
}

function Tile({ label, value, level: tone = 'ok', testId }: { label: string; value: string; level?: string; testId: string }) {
  const { t } = useI18n();
  return (
    <div className={`tile level-${tone}`} data-testid={testId} data-level={tone}>
      <span className="tile-label">{label}</span>
      <span className="tile-value">{value}</span>
      {/* The colour is not the only sign: the level is also said in words. */}
      {(tone === 'warn' || tone === 'alert') && <span className="tile-level">{t(`level.${tone}`)}</span>}
    </div>
  );
}

/** A KPI with its threshold colour (lib/kpis.ts: DEFAULT_THRESHOLDS). */
function KpiTile({
  name,
  label,
  value,
  format,
  testId,
}: {
  name: KpiName;
  label: string;
  value: number | null;
  format: (value: number) => string;
  testId: string;
}) {
  const level: Level = kpiLevel(name, value);
  return <Tile label={label} value={value === null ? '—' : format(value)} level={level} testId={testId} />;
}

/**
 * The alerts feed: request and backup alerts, live from the `alerts` subscription. It starts
 * FEED_LOOKBACK events back in the log (so a newly opened wallboard shows the recent alerts),
 * from now when that position cannot be resumed from, and resumes after the last position on
 * reconnection.
 */
function AlertsFeed() {
  const api = useApi();
  const { t, language } = useI18n();
  const [feed, setFeed] = useState<FeedAlert[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [names, setNames] = useState<Record<string, string>>({});
  const asked = useRef(new Set<string>());
  useEffect(() => {
    let live = true;
    let stop: () => void = () => undefined;
    let position: number | null = null;
    let received = false;
    const run = () => {
      stop = api.subscribe(
        AlertsSubscription,
        () => ({ fromPosition: position }),
        (data) => {
          received = true;
          position = data.alerts.position;
          const alert = data.alerts.alert;
          if (!alert || !live) return;
          setFeed((current) =>
            pushAlert(current, {
              position: data.alerts.position,
              kind: alert.kind,
              at: alert.at,
              customerId: alert.customerId ?? alert.request?.customer?.id ?? null,
              requestId: alert.requestId ?? null,
              subject: alert.request?.message ?? null,
            }),
          );
        },
        (message) => {
          if (!live) return;
          if (!received && position !== null) {
            // The look-back position is not an event of the log: follow from now instead.
            stop();
            position = null;
            run();
          } else setError(message);
        },
      );
    };
    api.request(LogHeadQuery, {}).then(
      ({ logHead }) => {
        if (!live) return;
        position = logHead > 0 ? feedStart(logHead) : null;
        run();
      },
      () => {
        if (live) run();
      },
    );
    return () => {
      live = false;
      stop();
    };
  }, [api]);
  // The customers' names, read once each.
  useEffect(() => {
    for (const alert of feed) {
      const id = alert.customerId;
      if (!id || asked.current.has(id)) continue;
      asked.current.add(id);
      api.request(CustomerNameQuery, { id }).then(
        ({ customer }) => setNames((current) => ({ ...current, [id]: customer.name ?? '—' })),
        () => undefined,
      );
    }
  }, [api, feed]);
  return (
    <section aria-labelledby="alerts-title" className="card">
      <h2 id="alerts-title">{t('wall.alerts')}</h2>
      {error && <p role="alert" className="error">{t('error', { message: error })}</p>}
      {feed.length === 0 ? (
        <p>{t('wall.noAlerts')}</p>
      ) : (
        <ul className="alerts" data-testid="alerts">
          {feed.map((alert) => {
            const customer = alert.customerId ? names[alert.customerId] : undefined;
            const subject = [customer, alert.subject].filter(Boolean).join(' · ') || '—';
            return (
              <li key={alert.position} className={`level-${alertLevel(alert.kind)}`}>
                <time dateTime={alert.at}>{new Date(alert.at).toLocaleTimeString(language)}</time>{' '}
                <strong>{t(`alert.${alert.kind}` as MessageKey)}</strong> {subject}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
