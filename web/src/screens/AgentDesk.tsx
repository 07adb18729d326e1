import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi, useNow, useQuery, useSubscription } from '../lib/hooks';
import { useI18n } from '../lib/i18n';
import { dueStatus, formatDuration, secondsSince, secondsUntil } from '../lib/time';
import { backupTrouble } from '../lib/backups';
import { needsPop, popFromCall } from '../lib/pop';
import type { MessageKey } from '../lib/messages';
import type { OffersSubscription as OffersData, Priority, RequestType } from '../gql/graphql';
import {
  CallPopQuery,
  CloseRequestMutation,
  CustomerPopQuery,
  HangUpMutation,
  MyRequestsQuery,
  MyStateSubscription,
  OffersSubscription,
  OpenRequestMutation,
  QueueSettingsQuery,
  RecentCallsQuery,
  ReopenRequestMutation,
  SetAvailabilityMutation,
  SolveRequestMutation,
  SetRequestPendingMutation,
} from '../operations';

type Offer = NonNullable<OffersData['offers']['offer']>;

const PAUSE_REASONS: MessageKey[] = [
  'presence.reasonBreak',
  'presence.reasonLunch',
  'presence.reasonTraining',
  'presence.reasonMeeting',
];

export function AgentDesk() {
  const api = useApi();
  const { t } = useI18n();
  const me = api.session.get()?.worker;
  const { data: state } = useSubscription(MyStateSubscription, () => ({}));
  const position = useRef<number | null>(null);
  const [offer, setOffer] = useState<Offer | null>(null);
  useSubscription(
    OffersSubscription,
    () => ({ fromPosition: position.current }),
    (data) => {
      position.current = data.offers.position;
      const next = data.offers.offer;
      if (next) {
        setOffer(next);
        if (document.hidden && 'Notification' in window && Notification.permission === 'granted') {
          new Notification(t('offer.title'), { body: next.customer?.name ?? next.callerNumber });
        }
      }
    },
  );
  const { data: settings } = useQuery(QueueSettingsQuery, {}, []);
  const [requestsVersion, setRequestsVersion] = useState(0);
  const [composing, setComposing] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const presence = state?.myState.presence;
  const callId = presence?.callId ?? null;
  // After a reload (or an offer event missed), the pop is read from the API.
  const missing = needsPop(presence, offer);
  const meId = me?.id ?? null;
  useEffect(() => {
    if (!missing || !meId) return;
    let live = true;
    (async () => {
      const { call } = await api.request(CallPopQuery, { callId: missing });
      const customer = call.customer ? await api.request(CustomerPopQuery, { customerId: call.customer.id }) : null;
      if (live) setOffer((current) => (current?.callId === missing ? current : popFromCall(call, customer, meId)));
    })().catch((failure: unknown) => {
      if (live) setError(failure instanceof Error ? failure.message : String(failure));
    });
    return () => {
      live = false;
    };
  }, [api, missing, meId]);
  const shownOffer =
    offer &&
    presence &&
    (presence.state === 'WRAP_UP' ||
      (callId === offer.callId && ['OFFERED', 'ON_CALL'].includes(presence.state)))
      ? offer
      : null;

  const setAvailability = useCallback(
    async (target: 'AVAILABLE' | 'PAUSED' | 'OFFLINE', reason?: string) => {
      setError(null);
      try {
        await api.request(SetAvailabilityMutation, { state: target, reason: reason ?? null });
      } catch (failure) {
        setError(failure instanceof Error ? failure.message : String(failure));
      }
    },
    [api],
  );
  const hangUp = useCallback(async () => {
    if (!callId) return;
    setError(null);
    try {
      await api.request(HangUpMutation, { callId });
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  }, [api, callId]);

  // Keyboard shortcuts (listed in the help below).
  const [pauseReason, setPauseReason] = useState<MessageKey>('presence.reasonBreak');
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!event.altKey || event.ctrlKey || event.metaKey) return;
      const key = event.key.toLowerCase();
      if (key === 'a') void setAvailability('AVAILABLE');
      else if (key === 'p') void setAvailability('PAUSED', t(pauseReason));
      else if (key === 'h' && presence?.state === 'ON_CALL') void hangUp();
      else if (key === 'r' && shownOffer?.customer) setComposing(true);
      else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [setAvailability, hangUp, presence?.state, shownOffer, pauseReason, t]);

  return (
    <div className="desk">
      <h1 className="visually-hidden">{t('nav.desk')}</h1>
      <section aria-labelledby="presence-title" className="card">
        <h2 id="presence-title">{t('presence.title')}</h2>
        {presence ? (
          <PresenceLine state={presence.state} since={presence.since ?? null} reason={presence.reason ?? null} />
        ) : (
          <p>{t('loading')}</p>
        )}
        <div className="actions">
          <button type="button" onClick={() => void setAvailability('AVAILABLE')}>
            {t('presence.goAvailable')}
          </button>
          <label>
            {t('presence.reason')}{' '}
            <select value={pauseReason} onChange={(event) => setPauseReason(event.target.value as MessageKey)}>
              {PAUSE_REASONS.map((key) => (
                <option key={key} value={key}>
                  {t(key)}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={() => void setAvailability('PAUSED', t(pauseReason))}>
            {t('presence.pause')}
          </button>
          <button type="button" onClick={() => void setAvailability('OFFLINE')}>
            {t('presence.goOffline')}
          </button>
        </div>
        {error && (
          <p role="alert" className="error">
            {t('error', { message: error })}
          </p>
        )}
      </section>

      {presence && shownOffer && (
        <section aria-labelledby="call-title" className="card call" data-testid="screen-pop">
          <CallHeader
            state={presence.state}
            offer={shownOffer}
            since={presence.since ?? null}
            wrapUpUntil={presence.wrapUpUntil ?? null}
            offerTimeoutSecs={settings?.queueStatus.settings.offerTimeoutSecs ?? null}
            onHangUp={() => void hangUp()}
          />
          <CustomerCard offer={shownOffer} />
          {shownOffer.customer && !composing && (
            <button type="button" onClick={() => setComposing(true)}>
              {t('request.open')}
            </button>
          )}
          {shownOffer.customer && composing && me && (
            <RequestForm
              customerId={shownOffer.customer.id}
              customerName={shownOffer.customer.name ?? shownOffer.callerNumber}
              callId={shownOffer.callId}
              assigneeId={me.id}
              onDone={(opened) => {
                setComposing(false);
                if (opened) setRequestsVersion((value) => value + 1);
              }}
            />
          )}
        </section>
      )}

      {me && <MyRequests workerId={me.id} version={requestsVersion} />}

      <details className="card shortcuts">
        <summary>{t('shortcuts.title')}</summary>
        <ul>
          <li>{t('shortcuts.available')}</li>
          <li>{t('shortcuts.pause')}</li>
          <li>{t('shortcuts.hangUp')}</li>
          <li>{t('shortcuts.request')}</li>
        </ul>
      </details>
    </div>
  );
}

function PresenceLine({ state, since, reason }: { state: string; since: string | null; reason: string | null }) {
  const { t } = useI18n();
  const now = useNow();
  return (
    <p className={`presence presence-${state}`} data-testid="presence">
      <strong>{t(`presence.${state}` as MessageKey)}</strong>
      {reason ? ` (${reason})` : ''}{' '}
      <span className="timer">{t('presence.since', { duration: formatDuration(secondsSince(since, now)) })}</span>
    </p>
  );
}

function CallHeader(props: {
  state: string;
  offer: Offer;
  since: string | null;
  wrapUpUntil: string | null;
  offerTimeoutSecs: number | null;
  onHangUp: () => void;
}) {
  const { t } = useI18n();
  const now = useNow();
  const { state, offer } = props;
  const caller = (
    <p className="caller">
      <span className="number">{offer.callerNumber}</span>
      {offer.callerName ? ` — ${offer.callerName}` : ''}
    </p>
  );
  if (state === 'OFFERED') {
    const deadline =
      props.offerTimeoutSecs !== null ? Date.parse(offer.offeredAt) + props.offerTimeoutSecs * 1000 : null;
    return (
      <>
        <h2 id="call-title">{t('offer.title')}</h2>
        {caller}
        {deadline !== null && (
          <p className="ringing" role="timer">
            {t('offer.ringing', { seconds: secondsUntil(deadline, now) })}
          </p>
        )}
      </>
    );
  }
  if (state === 'ON_CALL') {
    return (
      <>
        <h2 id="call-title">{t('call.title')}</h2>
        {caller}
        <p role="timer">{t('call.talk', { duration: formatDuration(secondsSince(props.since, now)) })}</p>
        <button type="button" className="danger" onClick={props.onHangUp}>
          {t('call.hangUp')}
        </button>
      </>
    );
  }
  return (
    <>
      <h2 id="call-title">{t('wrapUp.title')}</h2>
      {caller}
      <p role="timer">{t('wrapUp.left', { seconds: secondsUntil(props.wrapUpUntil, now) })}</p>
    </>
  );
}

function CustomerCard({ offer }: { offer: Offer }) {
  const { t, language } = useI18n();
  const customer = offer.customer;
  if (!customer) return <p>{t('offer.unknownCaller')}</p>;
  const backup = offer.backup;
  const trouble = backup ? backupTrouble(backup) : null;
  const when = (iso: string) => new Date(iso).toLocaleString(language);
  return (
    <div className="customer" aria-label={t('customer.title')} role="group">
      <h3>{customer.name}</h3>
      <dl>
        <dt>{t('customer.phones')}</dt>
        <dd>{customer.phones.join(', ')}</dd>
        {customer.email && (
          <>
            <dt>{t('customer.email')}</dt>
            <dd>{customer.email}</dd>
          </>
        )}
        <dt>{t('customer.backup')}</dt>
        <dd data-testid="backup-health">
          {backup && backup.status !== 'unmonitored' ? (
            <>
              <span className={`badge backup-${backup.status}`}>
                {isBackupStatus(backup.status) ? t(`backup.${backup.status}`) : backup.status}
              </span>{' '}
              {backup.lastSuccessAt ? (
                <span>
                  {t('customer.lastSuccess')} <time dateTime={backup.lastSuccessAt}>{when(backup.lastSuccessAt)}</time>
                </span>
              ) : (
                <span>{t('customer.neverSucceeded')}</span>
              )}
              {trouble && (
                <span>
                  {' · '}
                  {t(trouble.kind === 'failing' ? 'customer.failingSince' : 'customer.overdueSince')}{' '}
                  <time dateTime={trouble.since}>{when(trouble.since)}</time>
                </span>
              )}
            </>
          ) : (
            t('customer.noBackupPlan')
          )}
        </dd>
      </dl>
      <h4>{t('customer.openRequests')}</h4>
      {offer.openRequests.length === 0 ? (
        <p>{t('customer.noOpenRequests')}</p>
      ) : (
        <ul>
          {offer.openRequests.map((request) => (
            <li key={request.id}>
              {request.message} — {t(`status.${request.status}`)}
            </li>
          ))}
        </ul>
      )}
      <RecentCalls customerId={customer.id} currentCallId={offer.callId} />
    </div>
  );
}

const BACKUP_STATUSES = ['new', 'up', 'grace', 'down', 'paused', 'running'] as const;
function isBackupStatus(value: string): value is (typeof BACKUP_STATUSES)[number] {
  return (BACKUP_STATUSES as readonly string[]).includes(value);
}

function RecentCalls({ customerId, currentCallId }: { customerId: string; currentCallId: string }) {
  const { t, language } = useI18n();
  const { data } = useQuery(RecentCallsQuery, { customerId }, [customerId]);
  const calls = (data?.calls.nodes ?? []).filter((call) => call.id !== currentCallId);
  return (
    <>
      <h4>{t('customer.recentCalls')}</h4>
      {calls.length === 0 ? (
        <p>{t('customer.noRecentCalls')}</p>
      ) : (
        <ul>
          {calls.map((call) => (
            <li key={call.id}>
              {call.queuedAt ? new Date(call.queuedAt).toLocaleString(language) : ''} — {call.state}
              {call.talkSecs !== null && call.talkSecs !== undefined ? ` (${formatDuration(call.talkSecs)})` : ''}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

const PRIORITIES: Priority[] = ['LOW', 'NORMAL', 'HIGH', 'URGENT'];
const TYPES: RequestType[] = ['QUESTION', 'INCIDENT', 'PROBLEM', 'TASK'];

function RequestForm(props: {
  customerId: string;
  customerName: string;
  callId: string;
  assigneeId: string;
  onDone: (opened: boolean) => void;
}) {
  const api = useApi();
  const { t } = useI18n();
  const [message, setMessage] = useState('');
  const [priority, setPriority] = useState<Priority>('NORMAL');
  const [type, setType] = useState<RequestType>('QUESTION');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLTextAreaElement>(null);
  useEffect(() => first.current?.focus(), []);
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.request(OpenRequestMutation, {
        input: {
          customerId: props.customerId,
          callId: props.callId,
          message,
          priority,
          type,
          assigneeId: props.assigneeId,
        },
      });
      props.onDone(true);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="request-form" onSubmit={submit} aria-labelledby="request-form-title">
      <h3 id="request-form-title">{t('request.newTitle', { customer: props.customerName })}</h3>
      <label>
        {t('request.message')}
        <textarea
          ref={first}
          required
          minLength={10}
          maxLength={10000}
          value={message}
          onChange={(event) => setMessage(event.target.value)}
        />
      </label>
      <label>
        {t('request.priority')}
        <select value={priority} onChange={(event) => setPriority(event.target.value as Priority)}>
          {PRIORITIES.map((value) => (
            <option key={value} value={value}>
              {t(`priority.${value}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('request.type')}
        <select value={type} onChange={(event) => setType(event.target.value as RequestType)}>
          {TYPES.map((value) => (
            <option key={value} value={value}>
              {t(`type.${value}`)}
            </option>
          ))}
        </select>
      </label>
      {error && (
        <p role="alert" className="error">
          {t('request.failed', { message: error })}
        </p>
      )}
      <div className="actions">
        <button type="submit" disabled={busy}>
          {t('request.submit')}
        </button>
        <button type="button" onClick={() => props.onDone(false)}>
          {t('request.cancel')}
        </button>
      </div>
    </form>
  );
}

function MyRequests({ workerId, version }: { workerId: string; version: number }) {
  const api = useApi();
  const { t, language } = useI18n();
  const now = useNow();
  const { data, error, reload } = useQuery(MyRequestsQuery, { assigneeId: workerId }, [workerId, version]);
  const [actionError, setActionError] = useState<string | null>(null);
  const act = async (run: () => Promise<unknown>) => {
    setActionError(null);
    try {
      await run();
      reload();
    } catch (failure) {
      setActionError(failure instanceof Error ? failure.message : String(failure));
    }
  };
  const requests = data?.requests.nodes ?? [];
  return (
    <section aria-labelledby="my-requests-title" className="card">
      <h2 id="my-requests-title">{t('requests.mine')}</h2>
      {error && <p role="alert" className="error">{t('error', { message: error })}</p>}
      {actionError && <p role="alert" className="error">{t('error', { message: actionError })}</p>}
      {requests.length === 0 ? (
        <p>{t('requests.none')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('requests.customer')}</th>
              <th scope="col">{t('requests.message')}</th>
              <th scope="col">{t('requests.status')}</th>
              <th scope="col">{t('requests.due')}</th>
              <th scope="col">{t('requests.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {requests.map((request) => {
              const due = dueStatus(request.status, request.dueAt, now);
              return (
                <tr key={request.id}>
                  <td>{request.customer?.name ?? '—'}</td>
                  <td>{request.message}</td>
                  <td>{t(`status.${request.status}`)}</td>
                  <td>
                    <span className={`badge due-${due}`}>{t(`due.${due}`)}</span>{' '}
                    <time dateTime={request.dueAt}>{new Date(request.dueAt).toLocaleString(language)}</time>
                  </td>
                  <td className="actions">
                    {(request.status === 'OPEN' || request.status === 'PENDING') && (
                      <button type="button" onClick={() => void act(() => api.request(SolveRequestMutation, { id: request.id }))}>
                        {t('requests.solve')}
                      </button>
                    )}
                    {request.status === 'OPEN' && (
                      <button type="button" onClick={() => void act(() => api.request(SetRequestPendingMutation, { id: request.id }))}>
                        {t('requests.pending')}
                      </button>
                    )}
                    {request.status === 'SOLVED' && (
                      <button type="button" onClick={() => void act(() => api.request(ReopenRequestMutation, { id: request.id }))}>
                        {t('requests.reopen')}
                      </button>
                    )}
                    {request.status !== 'CLOSED' && (
                      <button type="button" onClick={() => void act(() => api.request(CloseRequestMutation, { id: request.id }))}>
                        {t('requests.close')}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
