import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import type { Api } from './lib/api';
import { ApiContext, useApi, useConnection } from './lib/hooks';
import { I18nContext, initialLanguage, LANGUAGES, translate, useI18n, type Language } from './lib/i18n';
import { Login } from './screens/Login';
import { Setup } from './screens/Setup';
import { isSetupPath } from './lib/setup';
import { AgentDesk } from './screens/AgentDesk';
import { Wallboard } from './screens/Wallboard';
import { BackupBoard } from './screens/BackupBoard';
import { Admin } from './screens/Admin';
import { Audit } from './screens/Audit';
import { Reports } from './screens/Reports';
import { Profile } from './screens/Profile';

type Route = '/desk' | '/wallboard' | '/backups' | '/admin' | '/audit' | '/reports' | '/profile';

function routeOf(path: string): Route {
  if (path.startsWith('/wallboard')) return '/wallboard';
  if (path.startsWith('/backups')) return '/backups';
  if (path.startsWith('/admin')) return '/admin';
  if (path.startsWith('/audit')) return '/audit';
  if (path.startsWith('/reports')) return '/reports';
  if (path.startsWith('/profile')) return '/profile';
  return '/desk';
}

/** The wallboard's TV mode (`/wallboard?tv=1`): no header, large type, a full-screen button. */
function isTv(route: Route, search: string): boolean {
  return route === '/wallboard' && new URLSearchParams(search).get('tv') === '1';
}

export function App({ api }: { api: Api }) {
  const [language, setLanguageState] = useState<Language>(() =>
    initialLanguage(window.localStorage.getItem('savecorp.language'), navigator.languages),
  );
  const setLanguage = useCallback((next: Language) => {
    window.localStorage.setItem('savecorp.language', next);
    setLanguageState(next);
  }, []);
  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);
  const i18n = useMemo(
    () => ({
      language,
      setLanguage,
      t: (key: Parameters<typeof translate>[1], params?: Record<string, string | number>) =>
        translate(language, key, params),
    }),
    [language, setLanguage],
  );
  const session = useSyncExternalStore(
    (listener) => api.session.subscribe(listener),
    () => api.session.get(),
  );
  const [resumed, setResumed] = useState(false);
  // The first run's setup link (`/setup#token=…`), until the first admin is created.
  const [setup, setSetup] = useState(() => isSetupPath(window.location.pathname));
  useEffect(() => {
    void api.resume().finally(() => setResumed(true));
  }, [api]);

  return (
    <ApiContext.Provider value={api}>
      <I18nContext.Provider value={i18n}>
        {!resumed ? (
          <p role="status">{i18n.t('loading')}</p>
        ) : setup && !session ? (
          <Setup onDone={() => setSetup(false)} />
        ) : session ? (
          <Shell />
        ) : (
          <Login />
        )}
      </I18nContext.Provider>
    </ApiContext.Provider>
  );
}

function Shell() {
  const { t } = useI18n();
  const api = useApi();
  const isAdmin = api.session.get()?.worker.role === 'ADMIN';
  // The whole location (path and query): a screen with sub-pages (`/backups/:id`) re-renders.
  const [location, setLocation] = useState(() => window.location.pathname + window.location.search);
  const route = routeOf(location);
  useEffect(() => {
    const onPop = () => setLocation(window.location.pathname + window.location.search);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const go = (next: Route) => (event: React.MouseEvent) => {
    event.preventDefault();
    window.history.pushState(null, '', next);
    setLocation(next);
  };
  const tv = isTv(route, new URL(location, window.location.origin).search);
  useEffect(() => {
    const page = {
      '/desk': t('nav.desk'),
      '/wallboard': t('wall.title'),
      '/backups': t('backups.title'),
      '/admin': t('admin.title'),
      '/audit': t('audit.title'),
      '/reports': t('reports.title'),
      '/profile': t('profile.title'),
    }[route];
    document.title = `${page} · ${t('appName')}`;
  }, [route, t]);
  if (tv) {
    return (
      <main id="main" tabIndex={-1} className="tv-main">
        <Wallboard tv />
      </main>
    );
  }
  return (
    <>
      <a className="skip" href="#main">
        {t('skipToContent')}
      </a>
      <header className="top">
        <span className="brand">{t('appName')}</span>
        <nav aria-label={t('nav.label')}>
          <a href="/desk" onClick={go('/desk')} aria-current={route === '/desk' ? 'page' : undefined}>
            {t('nav.desk')}
          </a>
          <a
            href="/wallboard"
            onClick={go('/wallboard')}
            aria-current={route === '/wallboard' ? 'page' : undefined}
          >
            {t('nav.wallboard')}
          </a>
          <a
            href="/backups"
            onClick={go('/backups')}
            aria-current={route === '/backups' ? 'page' : undefined}
          >
            {t('nav.backups')}
          </a>
          {isAdmin && (
            <>
              <a href="/admin" onClick={go('/admin')} aria-current={route === '/admin' ? 'page' : undefined}>
                {t('nav.admin')}
              </a>
              <a href="/audit" onClick={go('/audit')} aria-current={route === '/audit' ? 'page' : undefined}>
                {t('nav.audit')}
              </a>
              <a href="/reports" onClick={go('/reports')} aria-current={route === '/reports' ? 'page' : undefined}>
                {t('nav.reports')}
              </a>
            </>
          )}
          <a href="/profile" onClick={go('/profile')} aria-current={route === '/profile' ? 'page' : undefined}>
            {t('nav.profile')}
          </a>
        </nav>
        <ConnectionIndicator />
        <LanguagePicker />
        <LogoutButton />
      </header>
      <main id="main" tabIndex={-1}>
        {route === '/wallboard' ? (
          <Wallboard />
        ) : route === '/backups' ? (
          <BackupBoard key={location} />
        ) : route === '/reports' ? (
          <Reports />
        ) : route === '/profile' ? (
          <Profile />
        ) : route === '/admin' ? (
          <Admin />
        ) : route === '/audit' ? (
          <Audit key={window.location.search} />
        ) : (
          <AgentDesk />
        )}
      </main>
    </>
  );
}

function ConnectionIndicator() {
  const { t } = useI18n();
  const { state } = useConnection();
  return (
    <span className={`conn conn-${state}`} role="status" aria-label={t('conn.label')} data-state={state}>
      <span className="dot" aria-hidden="true" />
      {t(`conn.${state}`)}
    </span>
  );
}

export function LanguagePicker() {
  const { language, setLanguage, t } = useI18n();
  return (
    <label className="lang">
      {t('language')}{' '}
      <select value={language} onChange={(event) => setLanguage(event.target.value as Language)}>
        {LANGUAGES.map((code) => (
          <option key={code} value={code}>
            {code === 'en' ? 'English' : 'Français'}
          </option>
        ))}
      </select>
    </label>
  );
}

function LogoutButton() {
  const { t } = useI18n();
  const api = useApi();
  return (
    <button type="button" onClick={() => void api.logout()}>
      {t('logout')}
    </button>
  );
}
