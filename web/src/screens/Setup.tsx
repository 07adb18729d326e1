import { useState } from 'react';
import { ApiError, loginRequest } from '../lib/api';
import { useApi } from '../lib/hooks';
import { useI18n } from '../lib/i18n';
import { isSetupRefusal, setupTokenOf } from '../lib/setup';
import { SetupFirstAdminMutation } from '../operations';
import { LanguagePicker } from '../App';

/** First run: the one-time link the server logged (`/setup#token=…`) creates the first admin. */
export function Setup({ onDone }: { onDone: () => void }) {
  const api = useApi();
  const { t } = useI18n();
  const [token] = useState(() => setupTokenOf(window.location.hash));
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (!token) return;
    setBusy(true);
    setError(null);
    try {
      const data = await loginRequest(SetupFirstAdminMutation, { token, email, name, password });
      // The token is spent: leave the link behind.
      window.history.replaceState(null, '', '/desk');
      await api.login(data.setupFirstAdmin);
      onDone();
    } catch (failure) {
      if (failure instanceof ApiError && isSetupRefusal(failure.code)) {
        setError(t(`setup.error.${failure.code}`));
      } else {
        setError(failure instanceof Error ? failure.message : String(failure));
      }
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" className="login">
      <h1>{t('appName')}</h1>
      <form onSubmit={submit} aria-labelledby="setup-title">
        <h2 id="setup-title">{t('setup.title')}</h2>
        {token ? (
          <>
            <p>{t('setup.intro')}</p>
            <label>
              {t('setup.name')}
              <input
                autoComplete="name"
                required
                value={name}
                onChange={(event) => setName(event.target.value)}
              />
            </label>
            <label>
              {t('login.email')}
              <input
                type="email"
                autoComplete="username"
                required
                value={email}
                onChange={(event) => setEmail(event.target.value)}
              />
            </label>
            <label>
              {t('login.password')}
              <input
                type="password"
                autoComplete="new-password"
                required
                value={password}
                onChange={(event) => setPassword(event.target.value)}
              />
            </label>
            {error && (
              <p role="alert" className="error">
                {t('setup.failed', { message: error })}
              </p>
            )}
            <button type="submit" disabled={busy}>
              {t('setup.submit')}
            </button>
          </>
        ) : (
          <p role="alert" className="error">
            {t('setup.noToken')}
          </p>
        )}
      </form>
      <LanguagePicker />
    </main>
  );
}
