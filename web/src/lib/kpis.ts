// KPI thresholds shown in colour on the wallboard (and the reports), and how KPIs are written.
//
// Defaults (documented in README "The web app"), after the contact-centre usual targets:
// - ASA (average speed of answer): warn from 20 s, alert from 60 s;
// - AHT (average handle time, talk + wrap-up): warn from 5 min, alert from 10 min;
// - service level (answered within 20 s): warn under 80 %, alert under 60 %;
// - abandonment rate: warn from 5 %, alert from 10 %;
// - occupancy (on a call or in wrap-up / logged in): warn from 85 %, alert from 95 %.

export type KpiName = 'asa' | 'aht' | 'serviceLevel' | 'abandonmentRate' | 'occupancy';
export type Level = 'ok' | 'warn' | 'alert' | 'none';

export interface Threshold {
  warn: number;
  alert: number;
  /** `true`: a higher value is worse; `false`: a lower value is worse. */
  higherIsWorse: boolean;
}

export const DEFAULT_THRESHOLDS: Record<KpiName, Threshold> = {
  asa: { warn: 20, alert: 60, higherIsWorse: true },
  aht: { warn: 300, alert: 600, higherIsWorse: true },
  serviceLevel: { warn: 80, alert: 60, higherIsWorse: false },
  abandonmentRate: { warn: 5, alert: 10, higherIsWorse: true },
  occupancy: { warn: 85, alert: 95, higherIsWorse: true },
};

/** The colour of a KPI's value: `none` when there is no value (nothing to measure yet). */
export function kpiLevel(
  name: KpiName,
  value: number | null | undefined,
  thresholds: Record<KpiName, Threshold> = DEFAULT_THRESHOLDS,
): Level {
  if (value === null || value === undefined || Number.isNaN(value)) return 'none';
  const { warn, alert, higherIsWorse } = thresholds[name];
  if (higherIsWorse) {
    if (value >= alert) return 'alert';
    if (value >= warn) return 'warn';
  } else {
    if (value < alert) return 'alert';
    if (value < warn) return 'warn';
  }
  return 'ok';
}

/** A percentage rounded to a whole number, `—` when unknown. */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return `${Math.round(value)} %`;
}

/** Abandoned / offered × 100 (the server's formula); `null` before any call. */
export function abandonmentRate(offered: number, abandoned: number): number | null {
  return offered > 0 ? (100 * abandoned) / offered : null;
}

/** The wallboard's "today": the UTC day holding `now` (as the server's wallboard counts it). */
export function utcDay(now: number): { from: string; until: string } {
  const start = new Date(now);
  start.setUTCHours(0, 0, 0, 0);
  const end = new Date(start.getTime() + 24 * 3600 * 1000);
  return { from: start.toISOString(), until: end.toISOString() };
}
