import { useEffect, useState } from 'react';
import { useApi, useConnection, useNow, useQuery } from '../lib/hooks';
import { useI18n } from '../lib/i18n';
import {
  formatBytes,
  formatSpan,
  lastPing,
  planRetention,
  planSchedule,
  runStrip,
  sortBoard,
} from '../lib/backups';
import { formatDuration, secondsSince } from '../lib/time';
import { navigate } from '../lib/navigate';
import type { MessageKey } from '../lib/messages';
import type { BackupRunRowFragment } from '../gql/graphql';
import {
  AlertsSubscription,
  BackupCustomerQuery,
  BackupCustomersQuery,
  BackupRunsQuery,
  BackupStatusQuery,
  ExpiredBackupRunsQuery,
} from '../operations';

interface StripRun {
  id: string;
  status: string;
  reportedAt: string | null;
  durationSecs: number | null;
}

interface Row {
  id: string;
  name: string;
  status: string;
  plan: unknown;
  lastPingAt: string | null;
  lastSuccessAt: string | null;
  expectedAt: string | null;
  downReason: string | null;
  runs: StripRun[];
}

/** How often the board is read again (it has no subscription of its own yet). */
const REFRESH_MS = 15_000;

/** `/backups` (the board) or `/backups/:customerId` (one customer's runs). */
export function BackupBoard() {
  const match = /^\/backups\/([^/]+)/.exec(window.location.pathname);
  const customerId = match?.[1] ? decodeURIComponent(match[1]) : null;
  return customerId ? <BackupCustomer customerId={customerId} /> : <BackupList />;
}

function useWhen() {
  const { t, language } = useI18n();
  const now = useNow();
  return (iso: string | null | undefined) =>
    iso ? (
      <time dateTime={iso} title={new Date(iso).toLocaleString(language)}>
        {t('backups.ago', { duration: formatDuration(secondsSince(iso, now)) })}
      </time>
    ) : (
      '—'
    );
}

function ScheduleText({ plan }: { plan: unknown }) {
  const { t } = useI18n();
  const schedule = planSchedule(plan);
  if (!schedule) return <>—</>;
  const grace = t('backups.grace', { grace: formatSpan(schedule.graceSecs) });
  return schedule.kind === 'period' ? (
    <>
      {t('backups.every', { period: formatSpan(schedule.periodSecs) })}, {grace}
    </>
  ) : (
    <>
      <code>{schedule.expression}</code> ({schedule.timeZone}), {grace}
    </>
  );
}

function BackupList() {
  const api = useApi();
  const { t, language } = useI18n();
  const when = useWhen();
  const { generation } = useConnection();
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // A backup alert (overdue, failed, recovered) reads the board again at once.
  const [alerted, setAlerted] = useState(0);
  useEffect(
    () =>
      api.subscribe(
        AlertsSubscription,
        () => ({ fromPosition: null }),
        (data) => {
          if (data.alerts.alert?.kind.startsWith('BACKUP_')) setAlerted((value) => value + 1);
        },
        () => undefined,
      ),
    [api],
  );
  useEffect(() => {
    let live = true;
    const load = async () => {
      try {
        const customers = await api.request(BackupCustomersQuery, {});
        const statuses = await Promise.all(
          customers.customers.nodes.map(async (customer): Promise<Row> => {
            const { backupStatus, backupRuns } = await api.request(BackupStatusQuery, {
              customerId: customer.id,
            });
            return {
              id: customer.id,
              name: customer.name ?? '—',
              status: backupStatus.status,
              plan: backupStatus.plan,
              lastPingAt: lastPing(backupStatus),
              lastSuccessAt: backupStatus.lastSuccessAt ?? null,
              expectedAt: backupStatus.expectedAt ?? null,
              downReason: backupStatus.downReason ?? null,
              runs: backupRuns.nodes.map((run) => ({
                id: run.id,
                status: run.status,
                reportedAt: run.reportedAt ?? null,
                durationSecs: run.durationSecs ?? null,
              })),
            };
          }),
        );
        if (live) {
          setRows(sortBoard(statuses));
          setError(null);
        }
      } catch (failure) {
        if (live) setError(failure instanceof Error ? failure.message : String(failure));
      }
    };
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [api, generation, alerted]);
  // Like healthchecks: the page title counts the customers down.
  const down = rows?.filter((row) => row.status === 'down').length ?? 0;
  useEffect(() => {
    const base = `${t('backups.title')} · ${t('appName')}`;
    document.title = down > 0 ? `(${down} ${t('backup.down')}) ${base}` : base;
  }, [down, t]);
  return (
    <div>
      <h1>{t('backups.title')}</h1>
      {error && <p role="alert" className="error">{t('error', { message: error })}</p>}
      {!rows ? (
        <p>{t('loading')}</p>
      ) : rows.length === 0 ? (
        <p>{t('backups.none')}</p>
      ) : (
        <table data-testid="backup-board">
          <thead>
            <tr>
              <th scope="col">{t('requests.customer')}</th>
              <th scope="col">{t('backups.status')}</th>
              <th scope="col">{t('backups.schedule')}</th>
              <th scope="col">{t('backups.lastPing')}</th>
              <th scope="col">{t('backups.lastSuccess')}</th>
              <th scope="col">{t('backups.expected')}</th>
              <th scope="col">{t('backups.recentRuns')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id}>
                <td>
                  <a
                    href={`/backups/${encodeURIComponent(row.id)}`}
                    onClick={(event) => {
                      event.preventDefault();
                      navigate(`/backups/${encodeURIComponent(row.id)}`);
                    }}
                  >
                    {row.name}
                  </a>
                </td>
                <td>
                  <span className={`badge backup-${row.status}`}>{t(`backup.${row.status}` as MessageKey)}</span>
                  {row.downReason ? ` (${t(`backups.reason.${row.downReason}` as MessageKey)})` : ''}
                </td>
                <td>
                  <ScheduleText plan={row.plan} />
                </td>
                <td>{when(row.lastPingAt)}</td>
                <td>{when(row.lastSuccessAt)}</td>
                <td>
                  {row.expectedAt ? (
                    <time dateTime={row.expectedAt}>{new Date(row.expectedAt).toLocaleString(language)}</time>
                  ) : (
                    '—'
                  )}
                </td>
                <td>
                  <RunStrip runs={row.runs} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** Recent runs as small coloured marks, oldest first; each says its status in words too. */
function RunStrip({ runs }: { runs: StripRun[] }) {
  const { t, language } = useI18n();
  if (runs.length === 0) return <>—</>;
  return (
    <ol className="strip" aria-label={t('backups.recentRuns')} data-testid="run-strip">
      {runStrip(runs).map((run) => {
        const label = `${t(`run.${run.status}` as MessageKey)}${
          run.reportedAt ? ` ${new Date(run.reportedAt).toLocaleString(language)}` : ''
        }${run.durationSecs !== null ? ` (${formatDuration(run.durationSecs)})` : ''}`;
        return (
          <li key={run.id} className={`run run-${run.status}`} title={label}>
            <span className="visually-hidden">{label}</span>
          </li>
        );
      })}
    </ol>
  );
}

function BackupCustomer({ customerId }: { customerId: string }) {
  const { t, language } = useI18n();
  const when = useWhen();
  const { data, error } = useQuery(BackupCustomerQuery, { customerId }, [customerId]);
  const status = data?.backupStatus;
  const name = data?.customer.name ?? '—';
  useEffect(() => {
    if (data) document.title = `${t('backups.customerTitle', { name })} · ${t('appName')}`;
  }, [data, name, t]);
  const at = (iso: string | null | undefined) =>
    iso ? <time dateTime={iso}>{new Date(iso).toLocaleString(language)}</time> : '—';
  return (
    <div data-testid="backup-customer">
      <p>
        <a
          href="/backups"
          onClick={(event) => {
            event.preventDefault();
            navigate('/backups');
          }}
        >
          {t('backups.back')}
        </a>
      </p>
      <h1>{t('backups.customerTitle', { name })}</h1>
      {error && <p role="alert" className="error">{t('error', { message: error })}</p>}
      {!status ? (
        <p>{t('loading')}</p>
      ) : (
        <section aria-labelledby="backup-status-title" className="card">
          <h2 id="backup-status-title">{t('backups.status')}</h2>
          <dl className="facts">
            <dt>{t('backups.status')}</dt>
            <dd>
              <span className={`badge backup-${status.status}`} data-testid="backup-status">
                {t(`backup.${status.status}` as MessageKey)}
              </span>
              {status.downReason ? ` (${t(`backups.reason.${status.downReason}` as MessageKey)})` : ''}
            </dd>
            <dt>{t('backups.schedule')}</dt>
            <dd>
              <ScheduleText plan={status.plan} />
            </dd>
            <dt>{t('backups.retention')}</dt>
            <dd>
              {planRetention(status.plan)
                .map(([rule, count]) => `${rule.replace(/_/g, '-')} ${count}`)
                .join(', ') || t('backups.keepAll')}
            </dd>
            <dt>{t('backups.lastSuccess')}</dt>
            <dd>{when(status.lastSuccessAt)}</dd>
            <dt>{t('backups.expected')}</dt>
            <dd>{at(status.expectedAt)}</dd>
            <dt>{t('backups.lateAt')}</dt>
            <dd>{at(status.lateAt)}</dd>
            {status.runningSince && (
              <>
                <dt>{t('backups.runningSince')}</dt>
                <dd>{at(status.runningSince)}</dd>
              </>
            )}
            {status.failingSince && (
              <>
                <dt>{t('backups.failingSince')}</dt>
                <dd>{at(status.failingSince)}</dd>
              </>
            )}
            {status.overdueSince && (
              <>
                <dt>{t('backups.overdueSince')}</dt>
                <dd>{at(status.overdueSince)}</dd>
              </>
            )}
          </dl>
        </section>
      )}
      <RunList customerId={customerId} expired={false} />
      <RunList customerId={customerId} expired />
    </div>
  );
}

/** The customer's runs (or those retention expired), newest first, 20 a page. */
function RunList({ customerId, expired }: { customerId: string; expired: boolean }) {
  const api = useApi();
  const { t, language } = useI18n();
  const { generation } = useConnection();
  const [runs, setRuns] = useState<BackupRunRowFragment[] | null>(null);
  const [total, setTotal] = useState(0);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async (after: string | null) => {
    const page = expired
      ? (await api.request(ExpiredBackupRunsQuery, { customerId, after })).expiredBackupRuns
      : (await api.request(BackupRunsQuery, { customerId, after })).backupRuns;
    return {
      nodes: page.nodes as BackupRunRowFragment[],
      total: page.totalCount,
      next: page.pageInfo.hasNextPage ? (page.pageInfo.endCursor ?? null) : null,
    };
  };
  useEffect(() => {
    let live = true;
    load(null).then(
      (page) => {
        if (!live) return;
        setRuns(page.nodes);
        setTotal(page.total);
        setNext(page.next);
        setError(null);
      },
      (failure: unknown) => {
        if (live) setError(failure instanceof Error ? failure.message : String(failure));
      },
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, customerId, expired, generation]);
  const more = async () => {
    if (!next) return;
    try {
      const page = await load(next);
      setRuns((current) => [...(current ?? []), ...page.nodes]);
      setNext(page.next);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  };
  const at = (iso: string | null | undefined) =>
    iso ? <time dateTime={iso}>{new Date(iso).toLocaleString(language)}</time> : '—';
  const titleId = expired ? 'expired-runs-title' : 'runs-title';
  return (
    <section aria-labelledby={titleId} className="card" data-testid={expired ? 'expired-runs' : 'backup-runs'}>
      <h2 id={titleId}>
        {expired ? t('backups.expiredRuns') : t('backups.runs')} ({total})
      </h2>
      {expired && <p className="hint">{t('backups.expiredHint')}</p>}
      {error && <p role="alert" className="error">{t('error', { message: error })}</p>}
      {!runs ? (
        <p>{t('loading')}</p>
      ) : runs.length === 0 ? (
        <p>{expired ? t('backups.noExpired') : t('backups.noRuns')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('backups.status')}</th>
              <th scope="col">{t('backups.started')}</th>
              <th scope="col">{t('backups.finished')}</th>
              <th scope="col">{t('backups.duration')}</th>
              <th scope="col">{t('backups.stats')}</th>
              <th scope="col">{t('backups.message')}</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => (
              <tr key={run.id}>
                <td>
                  <span className={`badge run-badge run-${run.status}`}>{t(`run.${run.status}` as MessageKey)}</span>
                  {run.exitStatus !== null && run.exitStatus !== undefined ? ` (${t('backups.exit', { code: run.exitStatus })})` : ''}
                  {run.clientRunId ? <span className="hint"> {run.clientRunId}</span> : null}
                </td>
                <td>{at(run.startedAt ?? run.reportedAt)}</td>
                <td>{at(run.finishedAt)}</td>
                <td>{run.durationSecs !== null && run.durationSecs !== undefined ? formatDuration(run.durationSecs) : '—'}</td>
                <td>
                  {run.stats
                    ? t('backups.statsLine', {
                        files: run.stats.files ?? '—',
                        bytes: run.stats.bytes !== null && run.stats.bytes !== undefined ? formatBytes(run.stats.bytes) : '—',
                        created: run.stats.created ?? '—',
                        modified: run.stats.modified ?? '—',
                        deleted: run.stats.deleted ?? '—',
                      })
                    : '—'}
                </td>
                <td>{run.message ? <pre className="run-message">{run.message}</pre> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" onClick={() => void more()}>
          {t('backups.more')}
        </button>
      )}
    </section>
  );
}
