// Administration (admins): workers, customers, a customer's backup plan and ingest tokens.
import { useState, type FormEvent } from 'react';
import { ApiError } from '../lib/api';
import { useApi, useQuery } from '../lib/hooks';
import { useI18n } from '../lib/i18n';
import { navigate } from '../lib/navigate';
import { snippets, splitList } from '../lib/admin';
import {
  AdminCustomersQuery,
  AdminWorkersQuery,
  DeactivateWorkerMutation,
  ResetWorkerPasswordMutation,
  EraseCustomerMutation,
  IssueIngestTokenMutation,
  RegisterCustomerMutation,
  RegisterWorkerMutation,
  SetBackupPlanMutation,
  SetWorkerRoleMutation,
  UpdateCustomerMutation,
  UpdateWorkerMutation,
} from '../operations';
import type { AdminCustomersQuery as CustomersData, Role } from '../gql/graphql';
import { Settings } from './Settings';

type Customer = CustomersData['customers']['nodes'][number];

function describe(failure: unknown): string {
  if (failure instanceof ApiError && failure.code) return `${failure.message} (${failure.code})`;
  return failure instanceof Error ? failure.message : String(failure);
}

/** Runs mutations, keeping the last error and success message for an alert / status line. */
function useAction() {
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = async (action: () => Promise<unknown>, success: string): Promise<boolean> => {
    try {
      await action();
      setError(null);
      setDone(success);
      return true;
    } catch (failure) {
      setDone(null);
      setError(describe(failure));
      return false;
    }
  };
  return { error, done, run };
}

function Feedback({ error, done }: { error: string | null; done: string | null }) {
  const { t } = useI18n();
  return (
    <>
      {error && (
        <p role="alert" className="error">
          {t('error', { message: error })}
        </p>
      )}
      <p role="status">{done ?? ''}</p>
    </>
  );
}

export function Admin() {
  const api = useApi();
  const { t } = useI18n();
  if (api.session.get()?.worker.role !== 'ADMIN') {
    return (
      <div>
        <h1>{t('admin.title')}</h1>
        <p role="alert">{t('admin.only')}</p>
      </div>
    );
  }
  return (
    <div>
      <h1>{t('admin.title')}</h1>
      <p>
        <a href="#settings">{t('settings.title')}</a>
      </p>
      <Customers />
      <Workers />
      <Settings />
    </div>
  );
}

function Workers() {
  const api = useApi();
  const { t } = useI18n();
  const { data, error: loadError, reload } = useQuery(AdminWorkersQuery, {}, []);
  const { error, done, run } = useAction();
  const [endpoints, setEndpoints] = useState<Record<string, string>>({});
  // The temporary password of the last reset, shown this once.
  const [temporary, setTemporary] = useState<{ name: string; password: string } | null>(null);
  const [form, setForm] = useState({ name: '', email: '', role: 'AGENT' as Role, endpoint: '', password: '' });
  const register = async (event: FormEvent) => {
    event.preventDefault();
    const ok = await run(
      () =>
        api.request(RegisterWorkerMutation, {
          input: { ...form, endpoint: form.endpoint.trim() || null },
        }),
      t('workers.registered', { name: form.name }),
    );
    if (ok) {
      setForm({ name: '', email: '', role: 'AGENT', endpoint: '', password: '' });
      reload();
    }
  };
  return (
    <section className="card" aria-labelledby="workers-title">
      <h2 id="workers-title">{t('workers.title')}</h2>
      {loadError && <p role="alert" className="error">{t('error', { message: loadError })}</p>}
      <Feedback error={error} done={done} />
      {temporary && (
        <p role="status" data-testid="temporary-password">
          {t('workers.temporaryPassword', { name: temporary.name })} <code>{temporary.password}</code>
        </p>
      )}
      <table data-testid="workers">
        <thead>
          <tr>
            <th scope="col">{t('workers.name')}</th>
            <th scope="col">{t('workers.email')}</th>
            <th scope="col">{t('workers.role')}</th>
            <th scope="col">{t('workers.endpoint')}</th>
            <th scope="col">{t('workers.active')}</th>
          </tr>
        </thead>
        <tbody>
          {(data?.workers.nodes ?? []).map((worker) => (
            <tr key={worker.id}>
              <th scope="row">{worker.name}</th>
              <td>{worker.email ?? '—'}</td>
              <td>
                <select
                  aria-label={t('workers.roleOf', { name: worker.name })}
                  value={worker.role}
                  disabled={!worker.active}
                  onChange={(event) =>
                    void run(
                      () =>
                        api.request(SetWorkerRoleMutation, {
                          id: worker.id,
                          role: event.target.value as Role,
                          expectedVersion: worker.version,
                        }),
                      t('workers.saved', { name: worker.name }),
                    ).then(reload)
                  }
                >
                  <option value="AGENT">{t('role.AGENT')}</option>
                  <option value="ADMIN">{t('role.ADMIN')}</option>
                </select>
              </td>
              <td>
                <form
                  className="actions"
                  onSubmit={(event) => {
                    event.preventDefault();
                    const endpoint = (endpoints[worker.id] ?? worker.endpoint ?? '').trim();
                    void run(
                      () =>
                        api.request(UpdateWorkerMutation, {
                          id: worker.id,
                          input: endpoint ? { endpoint } : { clearEndpoint: true },
                          expectedVersion: worker.version,
                        }),
                      t('workers.saved', { name: worker.name }),
                    ).then(reload);
                  }}
                >
                  <input
                    aria-label={t('workers.endpointOf', { name: worker.name })}
                    value={endpoints[worker.id] ?? worker.endpoint ?? ''}
                    disabled={!worker.active}
                    placeholder="PJSIP/2001"
                    onChange={(event) => setEndpoints({ ...endpoints, [worker.id]: event.target.value })}
                  />
                  <button type="submit" disabled={!worker.active}>
                    {t('save')}
                  </button>
                </form>
              </td>
              <td>
                {worker.active && (
                  <button
                    type="button"
                    aria-label={t('workers.resetWho', { name: worker.name })}
                    onClick={() => {
                      if (!window.confirm(t('workers.confirmReset', { name: worker.name }))) return;
                      setTemporary(null);
                      void run(async () => {
                        const data = await api.request(ResetWorkerPasswordMutation, { id: worker.id });
                        setTemporary({ name: worker.name, password: data.resetWorkerPassword.temporaryPassword });
                      }, t('workers.resetDone', { name: worker.name })).then(reload);
                    }}
                  >
                    {t('workers.reset')}
                  </button>
                )}{' '}
                {worker.active ? (
                  <button
                    type="button"
                    className="danger"
                    aria-label={t('workers.deactivateWho', { name: worker.name })}
                    onClick={() => {
                      if (!window.confirm(t('workers.confirmDeactivate', { name: worker.name }))) return;
                      void run(
                        () =>
                          api.request(DeactivateWorkerMutation, {
                            id: worker.id,
                            expectedVersion: worker.version,
                          }),
                        t('workers.deactivated', { name: worker.name }),
                      ).then(reload);
                    }}
                  >
                    {t('workers.deactivate')}
                  </button>
                ) : (
                  t('workers.inactive')
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">{t('workers.resetHint')}</p>
      <h3 id="worker-register-title">{t('workers.register')}</h3>
      <form aria-labelledby="worker-register-title" onSubmit={(event) => void register(event)}>
        <label>
          {t('workers.name')}
          <input required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        </label>
        <label>
          {t('workers.email')}
          <input
            required
            type="email"
            value={form.email}
            onChange={(e) => setForm({ ...form, email: e.target.value })}
          />
        </label>
        <label>
          {t('workers.role')}
          <select value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as Role })}>
            <option value="AGENT">{t('role.AGENT')}</option>
            <option value="ADMIN">{t('role.ADMIN')}</option>
          </select>
        </label>
        <label>
          {t('workers.endpoint')}
          <input
            value={form.endpoint}
            placeholder="PJSIP/2001"
            onChange={(e) => setForm({ ...form, endpoint: e.target.value })}
          />
        </label>
        <label>
          {t('workers.password')}
          <input
            required
            type="password"
            autoComplete="new-password"
            minLength={10}
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
          />
        </label>
        <button type="submit">{t('workers.registerSubmit')}</button>
      </form>
    </section>
  );
}

function Customers() {
  const api = useApi();
  const { t } = useI18n();
  const [search, setSearch] = useState('');
  const { data, error: loadError, reload } = useQuery(
    AdminCustomersQuery,
    { search: search.trim() || null },
    [search],
  );
  const { error, done, run } = useAction();
  const [selected, setSelected] = useState<string | null>(null);
  const [form, setForm] = useState({ name: '', phones: '', email: '', notes: '' });
  const register = async (event: FormEvent) => {
    event.preventDefault();
    let id: string | null = null;
    const ok = await run(async () => {
      const answer = await api.request(RegisterCustomerMutation, {
        input: {
          name: form.name,
          phones: splitList(form.phones),
          email: form.email.trim() || null,
          notes: form.notes,
        },
      });
      id = answer.registerCustomer.id;
    }, t('customers.registered', { name: form.name }));
    if (ok) {
      setForm({ name: '', phones: '', email: '', notes: '' });
      setSelected(id);
      reload();
    }
  };
  const customers = data?.customers.nodes ?? [];
  const current = customers.find((customer) => customer.id === selected) ?? null;
  return (
    <section className="card" aria-labelledby="customers-title">
      <h2 id="customers-title">{t('customers.title')}</h2>
      {loadError && <p role="alert" className="error">{t('error', { message: loadError })}</p>}
      <Feedback error={error} done={done} />
      <label>
        {t('customers.search')}{' '}
        <input type="search" value={search} onChange={(event) => setSearch(event.target.value)} />
      </label>
      <table data-testid="customers">
        <thead>
          <tr>
            <th scope="col">{t('workers.name')}</th>
            <th scope="col">{t('customer.phones')}</th>
            <th scope="col">{t('customer.email')}</th>
            <th scope="col">{t('requests.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {customers.map((customer) => (
            <tr key={customer.id} aria-selected={customer.id === selected}>
              <th scope="row">{customer.name}</th>
              <td>{customer.phones.join(', ')}</td>
              <td>{customer.email ?? '—'}</td>
              <td>
                <button
                  type="button"
                  aria-label={t('customers.manageWho', { name: customer.name ?? '' })}
                  onClick={() => setSelected(customer.id)}
                >
                  {t('customers.manage')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {current && (
        <CustomerPanel
          key={`${current.id}:${current.version}`}
          customer={current}
          onChanged={reload}
          onErased={() => {
            setSelected(null);
            reload();
          }}
        />
      )}
      <h3 id="customer-register-title">{t('customers.register')}</h3>
      <form aria-labelledby="customer-register-title" onSubmit={(event) => void register(event)}>
        <CustomerFields form={form} setForm={setForm} />
        <button type="submit">{t('customers.registerSubmit')}</button>
      </form>
    </section>
  );
}

interface CustomerForm {
  name: string;
  phones: string;
  email: string;
  notes: string;
}

function CustomerFields({ form, setForm }: { form: CustomerForm; setForm: (form: CustomerForm) => void }) {
  const { t } = useI18n();
  return (
    <>
      <label>
        {t('workers.name')}
        <input required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
      </label>
      <label>
        {t('customers.phones')}
        <input required value={form.phones} onChange={(e) => setForm({ ...form, phones: e.target.value })} />
      </label>
      <label>
        {t('customer.email')}
        <input type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
      </label>
      <label>
        {t('customers.notes')}
        <textarea value={form.notes} onChange={(e) => setForm({ ...form, notes: e.target.value })} />
      </label>
    </>
  );
}

function CustomerPanel(props: { customer: Customer; onChanged: () => void; onErased: () => void }) {
  const api = useApi();
  const { t } = useI18n();
  const { customer } = props;
  const name = customer.name ?? '';
  const { error, done, run } = useAction();
  const [form, setForm] = useState<CustomerForm>({
    name,
    phones: customer.phones.join(', '),
    email: customer.email ?? '',
    notes: customer.notes ?? '',
  });
  const [confirm, setConfirm] = useState('');
  const save = async (event: FormEvent) => {
    event.preventDefault();
    const email = form.email.trim();
    const ok = await run(
      () =>
        api.request(UpdateCustomerMutation, {
          id: customer.id,
          expectedVersion: customer.version,
          input: {
            name: form.name,
            phones: splitList(form.phones),
            notes: form.notes,
            ...(email ? { email } : { clearEmail: true }),
          },
        }),
      t('customers.saved', { name: form.name }),
    );
    if (ok) props.onChanged();
  };
  const erase = async (event: FormEvent) => {
    event.preventDefault();
    const ok = await run(
      () => api.request(EraseCustomerMutation, { id: customer.id, expectedVersion: customer.version }),
      t('customers.erased'),
    );
    if (ok) props.onErased();
  };
  const auditUrl = `/audit?type=customer&id=${encodeURIComponent(customer.id)}`;
  return (
    <section className="card panel" aria-labelledby="customer-panel-title" data-testid="customer-panel">
      <h3 id="customer-panel-title">{t('customers.panelTitle', { name })}</h3>
      <p>
        {t('customers.id')} <code data-testid="customer-id">{customer.id}</code> ·{' '}
        <a
          href={auditUrl}
          onClick={(event) => {
            event.preventDefault();
            navigate(auditUrl);
          }}
        >
          {t('customers.history')}
        </a>
      </p>
      <Feedback error={error} done={done} />
      <h4 id="customer-edit-title">{t('customers.edit')}</h4>
      <form aria-labelledby="customer-edit-title" onSubmit={(event) => void save(event)}>
        <CustomerFields form={form} setForm={setForm} />
        <button type="submit">{t('customers.saveSubmit')}</button>
      </form>
      <BackupPlanForm customerId={customer.id} />
      <IngestToken customerId={customer.id} />
      <h4 id="customer-erase-title">{t('customers.erase')}</h4>
      <form aria-labelledby="customer-erase-title" onSubmit={(event) => void erase(event)}>
        <label>
          {t('customers.eraseConfirm', { name })}
          <input value={confirm} onChange={(event) => setConfirm(event.target.value)} autoComplete="off" />
        </label>
        <button type="submit" className="danger" disabled={confirm !== name}>
          {t('customers.eraseSubmit')}
        </button>
      </form>
    </section>
  );
}

function BackupPlanForm({ customerId }: { customerId: string }) {
  const api = useApi();
  const { t } = useI18n();
  const { error, done, run } = useAction();
  const [plan, setPlan] = useState({
    schedule: 'period' as 'period' | 'cron',
    periodHours: '24',
    cron: '0 2 * * *',
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
    graceMinutes: '60',
    keepLast: '',
    recipients: '',
    paused: false,
  });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const keepLast = plan.keepLast.trim() ? Number(plan.keepLast) : null;
    await run(
      () =>
        api.request(SetBackupPlanMutation, {
          customerId,
          plan: {
            ...(plan.schedule === 'period'
              ? { periodSecs: Math.round(Number(plan.periodHours) * 3600) }
              : { cron: plan.cron, timeZone: plan.timeZone }),
            graceSecs: Math.round(Number(plan.graceMinutes) * 60),
            keepLast,
            reportRecipients: splitList(plan.recipients),
            paused: plan.paused,
          },
        }),
      t('plan.saved'),
    );
  };
  return (
    <>
      <h4 id="plan-title">{t('plan.title')}</h4>
      <Feedback error={error} done={done} />
      <form aria-labelledby="plan-title" onSubmit={(event) => void submit(event)}>
        <label>
          {t('plan.schedule')}
          <select
            value={plan.schedule}
            onChange={(e) => setPlan({ ...plan, schedule: e.target.value as 'period' | 'cron' })}
          >
            <option value="period">{t('plan.period')}</option>
            <option value="cron">{t('plan.cron')}</option>
          </select>
        </label>
        {plan.schedule === 'period' ? (
          <label>
            {t('plan.periodHours')}
            <input
              type="number"
              min="0.1"
              step="any"
              required
              value={plan.periodHours}
              onChange={(e) => setPlan({ ...plan, periodHours: e.target.value })}
            />
          </label>
        ) : (
          <>
            <label>
              {t('plan.cronExpression')}
              <input required value={plan.cron} onChange={(e) => setPlan({ ...plan, cron: e.target.value })} />
            </label>
            <label>
              {t('plan.timeZone')}
              <input
                required
                value={plan.timeZone}
                onChange={(e) => setPlan({ ...plan, timeZone: e.target.value })}
              />
            </label>
          </>
        )}
        <label>
          {t('plan.graceMinutes')}
          <input
            type="number"
            min="0"
            required
            value={plan.graceMinutes}
            onChange={(e) => setPlan({ ...plan, graceMinutes: e.target.value })}
          />
        </label>
        <label>
          {t('plan.keepLast')}
          <input
            type="number"
            min="1"
            value={plan.keepLast}
            onChange={(e) => setPlan({ ...plan, keepLast: e.target.value })}
          />
        </label>
        <label>
          {t('plan.recipients')}
          <input value={plan.recipients} onChange={(e) => setPlan({ ...plan, recipients: e.target.value })} />
        </label>
        <label className="inline">
          <input
            type="checkbox"
            checked={plan.paused}
            onChange={(e) => setPlan({ ...plan, paused: e.target.checked })}
          />{' '}
          {t('plan.paused')}
        </label>
        <button type="submit">{t('plan.submit')}</button>
      </form>
    </>
  );
}

function IngestToken({ customerId }: { customerId: string }) {
  const api = useApi();
  const { t } = useI18n();
  const { error, done, run } = useAction();
  const [token, setToken] = useState<string | null>(null);
  const issue = () =>
    void run(async () => {
      const answer = await api.request(IssueIngestTokenMutation, { customerId });
      setToken(answer.issueIngestToken.token);
    }, t('token.issued'));
  const text = token ? snippets(window.location.origin, token) : null;
  return (
    <>
      <h4>{t('token.title')}</h4>
      <Feedback error={error} done={done} />
      <button type="button" onClick={issue}>
        {t('token.issue')}
      </button>
      {token && text && (
        <div className="token" data-testid="ingest-token">
          <p>
            <strong>{t('token.once')}</strong>
          </p>
          <p>
            {t('token.value')} <code data-testid="token-value">{token}</code>{' '}
            <button type="button" onClick={() => void navigator.clipboard?.writeText(token)}>
              {t('token.copy')}
            </button>
          </p>
          <p>{t('token.curl')}</p>
          <pre tabIndex={0} aria-label={t('token.curl')}>
            {text.curl}
          </pre>
          <p>{t('token.restic')}</p>
          <pre tabIndex={0} aria-label={t('token.restic')}>
            {text.restic}
          </pre>
        </div>
      )}
    </>
  );
}
