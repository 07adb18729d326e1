// Settings admins change without a restart (on the admin screen): the queue's settings, the
// request due allowances with the due-soon cap, and the KPIs' service-level threshold T. Each
// form sends the version it displayed (`expectedVersion`): a concurrent change is refused
// (CONFLICT) rather than overwritten. Durations are edited in seconds, as the API takes them.
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError } from '../lib/api';
import { useApi, useQuery } from '../lib/hooks';
import { useI18n } from '../lib/i18n';
import type { MessageKey } from '../lib/messages';
import {
  SettingsQuery,
  UpdateQueueSettingsMutation,
  UpdateRequestSettingsMutation,
  UpdateServiceLevelThresholdMutation,
} from '../operations';

function describe(failure: unknown): string {
  if (failure instanceof ApiError && failure.code) return `${failure.message} (${failure.code})`;
  return failure instanceof Error ? failure.message : String(failure);
}

type Fields = Record<string, string>;

/** A number field of a form, in seconds (or a count). */
function NumberField({
  id,
  label,
  value,
  min,
  onChange,
}: {
  id: string;
  label: MessageKey;
  value: string;
  min: number;
  onChange: (value: string) => void;
}) {
  const { t } = useI18n();
  return (
    <label htmlFor={id}>
      {t(label)}
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={min}
        step={1}
        required
        value={value}
        onChange={(event) => onChange(event.target.value)}
      />
    </label>
  );
}

export function Settings() {
  const api = useApi();
  const { t } = useI18n();
  const { data, error: loadError, reload } = useQuery(SettingsQuery, {}, []);
  const [queue, setQueue] = useState<Fields>({});
  const [requests, setRequests] = useState<Fields>({});
  const [threshold, setThreshold] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const current = data?.settings;
  const defaultQueue = current?.queues.find((entry) => entry.queueId === 'default') ?? current?.queues[0];
  useEffect(() => {
    if (!current || !defaultQueue) return;
    setQueue({
      offerTimeoutSecs: String(defaultQueue.offerTimeoutSecs),
      wrapUpSecs: String(defaultQueue.wrapUpSecs),
      maxWaitSecs: String(defaultQueue.maxWaitSecs),
      maxQueueLength: String(defaultQueue.maxQueueLength),
      rejectAnnouncement: defaultQueue.rejectAnnouncement ?? '',
    });
    setRequests({
      urgentSecs: String(current.requests.urgentSecs),
      highSecs: String(current.requests.highSecs),
      normalSecs: String(current.requests.normalSecs),
      lowSecs: String(current.requests.lowSecs),
      dueSoonCapSecs: String(current.requests.dueSoonCapSecs),
    });
    setThreshold(String(current.serviceLevel.thresholdSecs));
  }, [current, defaultQueue]);

  const run = async (event: FormEvent, action: () => Promise<unknown>, success: string) => {
    event.preventDefault();
    try {
      await action();
      setError(null);
      setDone(success);
    } catch (failure) {
      setDone(null);
      setError(describe(failure));
    }
    reload();
  };
  const number = (text: string | undefined) => Number(text ?? '');

  if (loadError) {
    return (
      <section className="card" aria-labelledby="settings-title">
        <h2 id="settings-title">{t('settings.title')}</h2>
        <p role="alert" className="error">
          {t('error', { message: loadError })}
        </p>
      </section>
    );
  }
  if (!current || !defaultQueue) {
    return (
      <section className="card" aria-labelledby="settings-title">
        <h2 id="settings-title">{t('settings.title')}</h2>
        <p>{t('loading')}</p>
      </section>
    );
  }
  const queueField = (name: string, label: MessageKey, min: number) => (
    <NumberField
      id={`settings-queue-${name}`}
      label={label}
      value={queue[name] ?? ''}
      min={min}
      onChange={(value) => setQueue({ ...queue, [name]: value })}
    />
  );
  const requestField = (name: string, label: MessageKey, min: number) => (
    <NumberField
      id={`settings-requests-${name}`}
      label={label}
      value={requests[name] ?? ''}
      min={min}
      onChange={(value) => setRequests({ ...requests, [name]: value })}
    />
  );

  return (
    <section className="card" aria-labelledby="settings-title" id="settings">
      <h2 id="settings-title">{t('settings.title')}</h2>
      <p>{t('settings.intro')}</p>
      {error && (
        <p role="alert" className="error">
          {t('error', { message: error })}
        </p>
      )}
      <p role="status">{done ?? ''}</p>

      <form
        aria-labelledby="settings-queue-title"
        onSubmit={(event) =>
          run(
            event,
            () =>
              api.request(UpdateQueueSettingsMutation, {
                input: {
                  queueId: defaultQueue.queueId,
                  offerTimeoutSecs: number(queue.offerTimeoutSecs),
                  wrapUpSecs: number(queue.wrapUpSecs),
                  maxWaitSecs: number(queue.maxWaitSecs),
                  maxQueueLength: number(queue.maxQueueLength),
                  rejectAnnouncement: queue.rejectAnnouncement?.trim() || null,
                },
                expectedVersion: defaultQueue.version,
              }),
            t('settings.saved'),
          )
        }
      >
        <h3 id="settings-queue-title">{t('settings.queue')}</h3>
        {queueField('offerTimeoutSecs', 'settings.offerTimeoutSecs', 1)}
        {queueField('wrapUpSecs', 'settings.wrapUpSecs', 0)}
        {queueField('maxWaitSecs', 'settings.maxWaitSecs', 1)}
        {queueField('maxQueueLength', 'settings.maxQueueLength', 0)}
        <label htmlFor="settings-queue-rejectAnnouncement">
          {t('settings.rejectAnnouncement')}
          <input
            id="settings-queue-rejectAnnouncement"
            placeholder="sound:vm-nobodyavail"
            value={queue.rejectAnnouncement ?? ''}
            onChange={(event) => setQueue({ ...queue, rejectAnnouncement: event.target.value })}
          />
        </label>
        <button type="submit">{t('settings.saveQueue')}</button>
      </form>

      <form
        aria-labelledby="settings-requests-title"
        onSubmit={(event) =>
          run(
            event,
            () =>
              api.request(UpdateRequestSettingsMutation, {
                input: {
                  urgentSecs: number(requests.urgentSecs),
                  highSecs: number(requests.highSecs),
                  normalSecs: number(requests.normalSecs),
                  lowSecs: number(requests.lowSecs),
                  dueSoonCapSecs: number(requests.dueSoonCapSecs),
                },
                expectedVersion: current.requests.version,
              }),
            t('settings.saved'),
          )
        }
      >
        <h3 id="settings-requests-title">{t('settings.requests')}</h3>
        {requestField('urgentSecs', 'settings.urgentSecs', 60)}
        {requestField('highSecs', 'settings.highSecs', 60)}
        {requestField('normalSecs', 'settings.normalSecs', 60)}
        {requestField('lowSecs', 'settings.lowSecs', 60)}
        {requestField('dueSoonCapSecs', 'settings.dueSoonCapSecs', 0)}
        <button type="submit">{t('settings.saveRequests')}</button>
      </form>

      <form
        aria-labelledby="settings-kpis-title"
        onSubmit={(event) =>
          run(
            event,
            () =>
              api.request(UpdateServiceLevelThresholdMutation, {
                thresholdSecs: number(threshold),
                expectedVersion: current.serviceLevel.version,
              }),
            t('settings.saved'),
          )
        }
      >
        <h3 id="settings-kpis-title">{t('settings.kpis')}</h3>
        <NumberField
          id="settings-threshold"
          label="settings.thresholdSecs"
          value={threshold}
          min={1}
          onChange={setThreshold}
        />
        <button type="submit">{t('settings.saveKpis')}</button>
      </form>
    </section>
  );
}
