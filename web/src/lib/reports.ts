// The KPI reports screen's logic: wall times in a report's IANA time zone, the CSV export (with
// the server exports' formula guard) and the chart's geometry (inline SVG, see ARCHITECTURE.md).

/** The fields of the wall time at `instant` (ms) in `timeZone` (throws RangeError if unknown). */
function wallParts(instant: number, timeZone: string) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? '0');
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') };
}

/** How far `timeZone` is ahead of UTC at `instant`, in ms. */
export function zoneOffsetMs(instant: number, timeZone: string): number {
  const p = wallParts(instant, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** A wall time `YYYY-MM-DDTHH:MM` (a `datetime-local` value) read in `timeZone`, as an RFC 3339
 * instant. A time skipped by a DST change moves forward; a repeated one takes the first. */
export function wallTimeToInstant(wall: string, timeZone: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(wall);
  if (!match) throw new RangeError(`not a date and time: ${wall}`);
  const [, y, mo, d, h, mi] = match.map(Number) as [number, number, number, number, number, number];
  const naive = Date.UTC(y, mo - 1, d, h, mi);
  // Two passes: the offset at the guess, then at the corrected instant (DST edges).
  let instant = naive - zoneOffsetMs(naive, timeZone);
  instant = naive - zoneOffsetMs(instant, timeZone);
  return new Date(instant).toISOString();
}

/** The wall time at `instant` (ms) in `timeZone`, as a `datetime-local` value. */
export function instantToWallTime(instant: number, timeZone: string): string {
  const p = wallParts(instant, timeZone);
  const two = (value: number) => String(value).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)}T${two(p.hour)}:${two(p.minute)}`;
}

/** A default report: today in `timeZone`, midnight to midnight. */
export function todayRange(now: number, timeZone: string): { from: string; until: string } {
  const day = instantToWallTime(now, timeZone).slice(0, 10);
  const next = new Date(`${day}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return { from: `${day}T00:00`, until: `${next.toISOString().slice(0, 10)}T00:00` };
}

/** One CSV cell as the server's exports write it: a formula start neutralised with `'`, then
 * quoted when it holds a comma, a quote or a line break. Numbers are written as they are. */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const neutral = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(neutral) ? `"${neutral.replace(/"/g, '""')}"` : neutral;
}

export interface ReportBucket {
  start: string;
  end: string;
  offered: number;
  answered: number;
  abandoned: number;
  abandonedShort: number;
  asaSecs?: number | null;
  ahtSecs?: number | null;
  serviceLevel?: number | null;
  abandonmentRate?: number | null;
  occupancy?: number | null;
  requestsOpened: number;
  requestsSolved: number;
  requestsSolvedWithinDue: number;
}

export const CSV_COLUMNS: (keyof ReportBucket)[] = [
  'start',
  'end',
  'offered',
  'answered',
  'abandoned',
  'abandonedShort',
  'asaSecs',
  'ahtSecs',
  'serviceLevel',
  'abandonmentRate',
  'occupancy',
  'requestsOpened',
  'requestsSolved',
  'requestsSolvedWithinDue',
];

/** The report as CSV (a header line, then one line per bucket; CRLF as RFC 4180). */
export function kpiCsv(buckets: readonly ReportBucket[]): string {
  const lines = [CSV_COLUMNS.map((column) => column.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)).join(',')];
  for (const bucket of buckets) lines.push(CSV_COLUMNS.map((column) => csvCell(bucket[column])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export interface Bar {
  x: number;
  width: number;
  /** Heights (px) of the stacked parts, bottom up: answered, abandoned, the rest of offered. */
  answered: number;
  abandoned: number;
  other: number;
}

/** The chart's bars: one per bucket, stacked to the bucket's offered calls, scaled to `max`. */
export function chartBars(
  buckets: readonly Pick<ReportBucket, 'offered' | 'answered' | 'abandoned'>[],
  width: number,
  height: number,
): { max: number; bars: Bar[] } {
  const max = Math.max(1, ...buckets.map((bucket) => bucket.offered));
  const slot = buckets.length > 0 ? width / buckets.length : width;
  const gap = Math.min(4, slot * 0.2);
  const scale = (value: number) => (value / max) * height;
  return {
    max,
    bars: buckets.map((bucket, index) => {
      const answered = scale(bucket.answered);
      const abandoned = scale(bucket.abandoned);
      const other = Math.max(0, scale(bucket.offered) - answered - abandoned);
      return { x: index * slot + gap / 2, width: Math.max(1, slot - gap), answered, abandoned, other };
    }),
  };
}
