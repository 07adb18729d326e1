import { useMemo, useState } from 'react';
import { useApi } from '../lib/hooks';
import { useI18n } from '../lib/i18n';
import { formatDuration } from '../lib/time';
import { formatPercent, kpiLevel } from '../lib/kpis';
import { chartBars, kpiCsv, todayRange, wallTimeToInstant, type ReportBucket } from '../lib/reports';
import type { KpiBucketSize, KpisQuery as KpisData } from '../gql/graphql';
import { KpisQuery } from '../operations';

const BUCKETS: KpiBucketSize[] = ['HOUR', 'DAY', 'MONTH'];
const CHART_WIDTH = 720;
const CHART_HEIGHT = 200;

function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** KPI reports (admins): any range, bucket and time zone (the `kpis` query), a chart, CSV. */
export function Reports() {
  const api = useApi();
  const { t, language } = useI18n();
  const admin = api.session.get()?.worker.role === 'ADMIN';
  const [timeZone, setTimeZone] = useState(browserZone);
  const [range, setRange] = useState(() => todayRange(Date.now(), browserZone()));
  const [bucket, setBucket] = useState<KpiBucketSize>('HOUR');
  const [report, setReport] = useState<KpisData['kpis'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!admin) return <p role="alert">{t('reports.adminOnly')}</p>;

  const show = async (event: React.FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const from = wallTimeToInstant(range.from, timeZone);
      const until = wallTimeToInstant(range.until, timeZone);
      const data = await api.request(KpisQuery, { from, until, bucket, timeZone });
      setReport(data.kpis);
    } catch (failure) {
      setReport(null);
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };
  const exportCsv = () => {
    if (!report) return;
    const blob = new Blob([kpiCsv(report.buckets)], { type: 'text/csv;charset=utf-8' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = `kpis-${range.from.slice(0, 10)}-${bucket.toLowerCase()}.csv`;
    link.click();
    URL.revokeObjectURL(link.href);
  };
  const label = (iso: string) =>
    new Date(iso).toLocaleString(language, {
      timeZone: report?.timeZone ?? timeZone,
      ...(bucket === 'HOUR'
        ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }
        : bucket === 'DAY'
          ? { year: 'numeric', month: 'short', day: 'numeric' }
          : { year: 'numeric', month: 'long' }),
    });
  return (
    <div>
      <h1>{t('reports.title')}</h1>
      <form className="card report-form" aria-label={t('reports.title')} onSubmit={(event) => void show(event)}>
        <label>
          {t('reports.from')}
          <input
            type="datetime-local"
            required
            value={range.from}
            onChange={(event) => setRange((current) => ({ ...current, from: event.target.value }))}
          />
        </label>
        <label>
          {t('reports.until')}
          <input
            type="datetime-local"
            required
            value={range.until}
            onChange={(event) => setRange((current) => ({ ...current, until: event.target.value }))}
          />
        </label>
        <label>
          {t('reports.bucket')}
          <select value={bucket} onChange={(event) => setBucket(event.target.value as KpiBucketSize)}>
            {BUCKETS.map((size) => (
              <option key={size} value={size}>
                {t(`reports.bucket.${size}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('reports.timeZone')}
          <input required value={timeZone} onChange={(event) => setTimeZone(event.target.value.trim())} />
        </label>
        <div className="actions">
          <button type="submit" disabled={busy}>
            {t('reports.show')}
          </button>
          <button type="button" disabled={!report} onClick={exportCsv}>
            {t('reports.export')}
          </button>
        </div>
      </form>
      {error && <p role="alert" className="error">{t('error', { message: error })}</p>}
      {report && (
        <section aria-labelledby="report-title" className="card" data-testid="kpi-report">
          <h2 id="report-title">{t('reports.result', { count: report.buckets.length, timeZone: report.timeZone })}</h2>
          <p>{t('reports.overdueNow', { count: report.overdueNow })}</p>
          {report.buckets.length === 0 ? (
            <p>{t('reports.noData')}</p>
          ) : (
            <>
              <Chart buckets={report.buckets} label={label} />
              <div className="table-scroll">
                <table data-testid="kpi-table">
                  <thead>
                    <tr>
                      <th scope="col">{t('reports.start')}</th>
                      <th scope="col">{t('wall.offered')}</th>
                      <th scope="col">{t('wall.answered')}</th>
                      <th scope="col">{t('wall.abandoned')}</th>
                      <th scope="col">{t('reports.asa')}</th>
                      <th scope="col">{t('reports.aht')}</th>
                      <th scope="col">{t('wall.serviceLevel')}</th>
                      <th scope="col">{t('wall.abandonmentRate')}</th>
                      <th scope="col">{t('wall.occupancy')}</th>
                      <th scope="col">{t('reports.requestsOpened')}</th>
                      <th scope="col">{t('reports.requestsSolved')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {report.buckets.map((row) => (
                      <tr key={row.start}>
                        <th scope="row">
                          <time dateTime={row.start}>{label(row.start)}</time>
                        </th>
                        <td>{row.offered}</td>
                        <td>{row.answered}</td>
                        <td>{row.abandoned}</td>
                        <td className={`level-${kpiLevel('asa', row.asaSecs)}`}>
                          {row.asaSecs === null || row.asaSecs === undefined ? '—' : formatDuration(row.asaSecs)}
                        </td>
                        <td className={`level-${kpiLevel('aht', row.ahtSecs)}`}>
                          {row.ahtSecs === null || row.ahtSecs === undefined ? '—' : formatDuration(row.ahtSecs)}
                        </td>
                        <td className={`level-${kpiLevel('serviceLevel', row.serviceLevel)}`}>
                          {formatPercent(row.serviceLevel)}
                        </td>
                        <td className={`level-${kpiLevel('abandonmentRate', row.abandonmentRate)}`}>
                          {formatPercent(row.abandonmentRate)}
                        </td>
                        <td className={`level-${kpiLevel('occupancy', row.occupancy)}`}>{formatPercent(row.occupancy)}</td>
                        <td>{row.requestsOpened}</td>
                        <td>
                          {row.requestsSolved} ({t('reports.withinDue', { count: row.requestsSolvedWithinDue })})
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </section>
      )}
    </div>
  );
}

/** Offered calls per bucket as stacked bars (answered, abandoned, the rest): inline SVG. */
function Chart({ buckets, label }: { buckets: readonly ReportBucket[]; label: (iso: string) => string }) {
  const { t } = useI18n();
  const { max, bars } = useMemo(() => chartBars(buckets, CHART_WIDTH, CHART_HEIGHT), [buckets]);
  const first = buckets[0];
  const last = buckets[buckets.length - 1];
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${CHART_WIDTH} ${CHART_HEIGHT + 2}`}
        role="img"
        aria-labelledby="chart-caption"
        data-testid="kpi-chart"
        preserveAspectRatio="none"
      >
        <line x1="0" y1={CHART_HEIGHT} x2={CHART_WIDTH} y2={CHART_HEIGHT} className="axis" />
        {bars.map((bar, index) => (
          <g key={buckets[index]?.start ?? index}>
            <title>
              {`${label(buckets[index]?.start ?? '')}: ${t('wall.offered')} ${buckets[index]?.offered ?? 0}, ${t(
                'wall.answered',
              )} ${buckets[index]?.answered ?? 0}, ${t('wall.abandoned')} ${buckets[index]?.abandoned ?? 0}`}
            </title>
            <rect className="bar-answered" x={bar.x} width={bar.width} y={CHART_HEIGHT - bar.answered} height={bar.answered} />
            <rect
              className="bar-abandoned"
              x={bar.x}
              width={bar.width}
              y={CHART_HEIGHT - bar.answered - bar.abandoned}
              height={bar.abandoned}
            />
            <rect
              className="bar-other"
              x={bar.x}
              width={bar.width}
              y={CHART_HEIGHT - bar.answered - bar.abandoned - bar.other}
              height={bar.other}
            />
          </g>
        ))}
      </svg>
      <figcaption id="chart-caption">
        {t('reports.chart', {
          max,
          from: first ? label(first.start) : '',
          until: last ? label(last.start) : '',
        })}{' '}
        <span className="legend legend-answered">{t('wall.answered')}</span>{' '}
        <span className="legend legend-abandoned">{t('wall.abandoned')}</span>{' '}
        <span className="legend legend-other">{t('reports.otherCalls')}</span>
      </figcaption>
    </figure>
  );
}
