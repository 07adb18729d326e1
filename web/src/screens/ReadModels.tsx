// Read models (admins, on the audit screen): each projection's position and lag, and a
// rebuild with its progress bar (`rebuildProjection`, then `projections { rebuild }` re-read
// every half second until it ends).
import { useEffect, useState } from 'react';
import { ApiError } from '../lib/api';
import { useApi } from '../lib/hooks';
import { useI18n } from '../lib/i18n';
import { rebuildPercent } from '../lib/audit';
import { ProjectionsQuery, RebuildProjectionMutation } from '../operations';
import type { ProjectionsQuery as ProjectionsData } from '../gql/graphql';

const POLL_MS = 500;

function describe(failure: unknown): string {
  if (failure instanceof ApiError && failure.code) return `${failure.message} (${failure.code})`;
  return failure instanceof Error ? failure.message : String(failure);
}

export function ReadModels() {
  const api = useApi();
  const { t } = useI18n();
  const [data, setData] = useState<ProjectionsData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const running = data?.projections.some((projection) => projection.rebuild?.running) ?? false;

  useEffect(() => {
    let alive = true;
    api
      .request(ProjectionsQuery, {})
      .then((answer) => {
        if (alive) {
          setData(answer);
          setError(null);
        }
      })
      .catch((failure: unknown) => alive && setError(describe(failure)));
    return () => {
      alive = false;
    };
  }, [api, tick]);
  // While a rebuild runs: read again shortly (the server records its progress).
  useEffect(() => {
    if (!running) return;
    const timer = window.setTimeout(() => setTick((value) => value + 1), POLL_MS);
    return () => window.clearTimeout(timer);
  }, [running, data]);

  const startRebuild = async (name: string) => {
    try {
      await api.request(RebuildProjectionMutation, { name });
      setTick((value) => value + 1);
    } catch (failure) {
      setError(describe(failure));
    }
  };

  return (
    <section className="card" aria-labelledby="read-models-title">
      <h2 id="read-models-title">{t('readModels.title')}</h2>
      {error && (
        <p role="alert" className="error">
          {t('error', { message: error })}
        </p>
      )}
      {data && (
        <>
          <p>{t('readModels.head', { position: data.logHead })}</p>
          <table data-testid="read-models">
            <thead>
              <tr>
                <th scope="col">{t('readModels.name')}</th>
                <th scope="col">{t('readModels.position')}</th>
                <th scope="col">{t('readModels.lag')}</th>
                <th scope="col">{t('readModels.rebuild')}</th>
              </tr>
            </thead>
            <tbody>
              {data.projections.map((projection) => {
                const rebuild = projection.rebuild;
                const percent = rebuild ? rebuildPercent(rebuild) : 0;
                return (
                  <tr key={projection.name}>
                    <th scope="row">{projection.name}</th>
                    <td>{projection.position}</td>
                    <td>{projection.lag}</td>
                    <td>
                      {rebuild && (
                        <div className="rebuild">
                          <progress
                            max={100}
                            value={percent}
                            aria-label={t('readModels.progress', { name: projection.name })}
                          >
                            {percent} %
                          </progress>{' '}
                          <span data-testid={`rebuild-${projection.name}`}>
                            {rebuild.error
                              ? t('readModels.failed', { error: rebuild.error })
                              : rebuild.running
                                ? t('readModels.running', {
                                    done: rebuild.done,
                                    total: rebuild.total ?? '?',
                                    eta: rebuild.etaSecs != null ? Math.ceil(rebuild.etaSecs) : '?',
                                  })
                                : t('readModels.done', { done: rebuild.done })}
                          </span>
                        </div>
                      )}
                      <button
                        type="button"
                        disabled={rebuild?.running ?? false}
                        aria-label={t('readModels.rebuildN', { name: projection.name })}
                        onClick={() => void startRebuild(projection.name)}
                      >
                        {t('readModels.rebuildButton')}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
