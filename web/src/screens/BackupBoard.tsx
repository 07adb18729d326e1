import { useEffect, useState } from 'react';
import { useApi, useConnection, useNow } from '../lib/hooks';
import { useI18n } from '../lib/i18n';
import { sortBoard } from '../lib/backups';
import { formatDuration, secondsSince } from '../lib/time';
import type { MessageKey } from '../lib/messages';
import { BackupCustomersQuery, BackupStatusQuery } from '../operations';

interface Row {
  id: string;
  name: string;
  status: string;
  lastSuccessAt: string | null;
  expectedAt: string | null;
  downReason: string | null;
}

/** How often the board is read again (it has no subscription of its own yet). */
const REFRESH_MS = 15_000;

export function BackupBoard() {
  const api = useApi();
  const { t, language } = useI18n();
  const now = useNow();
  const { generation } = useConnection();
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const load = async () => {
      try {
        const customers = await api.request(BackupCustomersQuery, {});
        const statuses = await Promise.all(
          customers.customers.nodes.map(async (customer) => {
            const { backupStatus } = await api.request(BackupStatusQuery, { customerId: customer.id });
            return {
              id: customer.id,
              name: customer.name ?? '—',
              status: backupStatus.status,
              lastSuccessAt: backupStatus.lastSuccessAt ?? null,
              expectedAt: backupStatus.expectedAt ?? null,
              downReason: backupStatus.downReason ?? null,
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
  }, [api, generation]);
  const when = (iso: string | null) =>
    iso ? (
      <time dateTime={iso} title={new Date(iso).toLocaleString(language)}>
        {t('backups.ago', { duration: formatDuration(secondsSince(iso, now)) })}
      </time>
    ) : (
      '—'
    );
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
              <th scope="col">{t('backups.lastSuccess')}</th>
              <th scope="col">{t('backups.expected')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id}>
                <td>{row.name}</td>
                <td>
                  <span className={`badge backup-${row.status}`}>
                    {t(`backup.${row.status}` as MessageKey)}
                  </span>
                  {row.downReason ? ` (${row.downReason})` : ''}
                </td>
                <td>{when(row.lastSuccessAt)}</td>
                <td>
                  {row.expectedAt ? (
                    <time dateTime={row.expectedAt}>{new Date(row.expectedAt).toLocaleString(language)}</time>
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
