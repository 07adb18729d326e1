import { useEffect, useState } from 'react';
import { useApi, useQuery } from '../lib/hooks';
import { useI18n } from '../lib/i18n';
import { avatarAcceptable, profileChanges } from '../lib/profile';
import { ChangePasswordMutation, MyProfileQuery, UpdateMyProfileMutation } from '../operations';

/** Every worker's own profile: name and avatar (`updateMyProfile`), password (`changePassword`). */
export function Profile() {
  const api = useApi();
  const { t } = useI18n();
  const { data, error: loadError, reload } = useQuery(MyProfileQuery, {}, []);
  const me = data?.me;
  const [name, setName] = useState('');
  const [avatarUrl, setAvatarUrl] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (me) {
      setName(me.name);
      setAvatarUrl(me.avatarUrl ?? '');
    }
  }, [me]);

  const save = async (event: React.FormEvent) => {
    event.preventDefault();
    if (!me) return;
    setError(null);
    setSaved(null);
    if (!avatarAcceptable(avatarUrl)) {
      setError(t('profile.avatarInvalid'));
      return;
    }
    const input = profileChanges(me, { name, avatarUrl });
    if (!input) {
      setSaved(t('profile.saved'));
      return;
    }
    try {
      const { updateMyProfile } = await api.request(UpdateMyProfileMutation, {
        input,
        expectedVersion: me.version,
      });
      // The header and the desk read the name from the session.
      const session = api.session.get();
      if (session) api.session.set({ ...session, worker: { ...session.worker, name: updateMyProfile.name } });
      setSaved(t('profile.saved'));
      reload();
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  };

  return (
    <div className="profile">
      <h1>{t('profile.title')}</h1>
      {loadError && <p role="alert" className="error">{t('error', { message: loadError })}</p>}
      {!me ? (
        <p>{t('loading')}</p>
      ) : (
        <>
          <section aria-labelledby="profile-details" className="card">
            <h2 id="profile-details">{t('profile.details')}</h2>
            <div className="profile-head">
              {me.avatarUrl ? (
                <img className="avatar" src={me.avatarUrl} alt={t('profile.avatarOf', { name: me.name })} width={64} height={64} />
              ) : (
                <span className="avatar avatar-initial" aria-hidden="true">
                  {me.name.slice(0, 1).toUpperCase()}
                </span>
              )}
              <p>
                {me.email} · {t(`role.${me.role}`)}
              </p>
            </div>
            <form aria-label={t('profile.details')} onSubmit={(event) => void save(event)}>
              <label>
                {t('profile.name')}
                <input required value={name} onChange={(event) => setName(event.target.value)} />
              </label>
              <label>
                {t('profile.avatarUrl')}
                <input
                  type="url"
                  value={avatarUrl}
                  placeholder="https://"
                  onChange={(event) => setAvatarUrl(event.target.value)}
                  aria-describedby="avatar-hint"
                />
              </label>
              <p id="avatar-hint" className="hint">
                {t('profile.avatarHint')}
              </p>
              <button type="submit">{t('profile.save')}</button>
            </form>
            {saved && <p role="status">{saved}</p>}
            {error && <p role="alert" className="error">{t('error', { message: error })}</p>}
          </section>
          <PasswordForm />
        </>
      )}
    </div>
  );
}

function PasswordForm() {
  const api = useApi();
  const { t } = useI18n();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setError(null);
    setDone(false);
    if (next !== repeat) {
      setError(t('profile.mismatch'));
      return;
    }
    try {
      // Every session of the worker ends: this tab goes on with the new one.
      await api.replaceSession(
        async () =>
          (
            await api.request(ChangePasswordMutation, {
              currentPassword: current,
              newPassword: next,
            })
          ).changePassword,
      );
      setCurrent('');
      setNext('');
      setRepeat('');
      setDone(true);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  };
  return (
    <section aria-labelledby="password-title" className="card">
      <h2 id="password-title">{t('profile.password')}</h2>
      <form aria-label={t('profile.password')} onSubmit={(event) => void submit(event)}>
        <label>
          {t('profile.currentPassword')}
          <input type="password" autoComplete="current-password" required value={current} onChange={(event) => setCurrent(event.target.value)} />
        </label>
        <label>
          {t('profile.newPassword')}
          <input type="password" autoComplete="new-password" required value={next} onChange={(event) => setNext(event.target.value)} />
        </label>
        <label>
          {t('profile.repeatPassword')}
          <input type="password" autoComplete="new-password" required value={repeat} onChange={(event) => setRepeat(event.target.value)} />
        </label>
        <button type="submit">{t('profile.changePassword')}</button>
      </form>
      {done && <p role="status">{t('profile.passwordChanged')}</p>}
      {error && <p role="alert" className="error">{t('error', { message: error })}</p>}
    </section>
  );
}
