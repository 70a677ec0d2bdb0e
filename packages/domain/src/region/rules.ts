/**
 * The region's rules, pure so the hub and the browser agree: what each hub role may do, how a
 * practice's condition follows from its last heartbeat (pessimistic: never "all clear" on old news),
 * and the early warning rule for failures rising over weeks.
 */
import type { BacklogKind } from '../api.ts';
import type { Heartbeat } from './heartbeat.ts';
import type { HealthTotals } from './health.ts';

// ---- hub roles ------------------------------------------------------------------------------------
/** Accounts on the hub, never practice accounts: they see figures and incident text, never records. */
export const hubRoles = ['region-lead', 'service-desk'] as const;
export type HubRole = (typeof hubRoles)[number];

export function isHubRole(value: string): value is HubRole {
  return (hubRoles as readonly string[]).includes(value);
}

export type HubAction = 'view-region' | 'open-incident' | 'post-update' | 'view-reports' | 'export-timeline' | 'manage-hub-users';

const allowed: Record<HubRole, readonly HubAction[]> = {
  // ICB digital and primary care leads run incidents.
  'region-lead': ['view-region', 'open-incident', 'post-update', 'view-reports', 'export-timeline', 'manage-hub-users'],
  // The service desk watches and reads what practices report; it does not speak for the ICB.
  'service-desk': ['view-region', 'view-reports', 'export-timeline'],
};

export function hubMay(role: HubRole, action: HubAction): boolean {
  return allowed[role].includes(action);
}

export const hubRoleDescriptions: Record<HubRole, string> = {
  'region-lead': 'Every practice’s status and backlog; opens incidents and posts updates',
  'service-desk': 'Every practice’s status and backlog, and what practices report',
};

// ---- a practice's condition -----------------------------------------------------------------------
/** A node sends an idle heartbeat every minute; this many missed in a row and it shows as unreachable. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 60_000;
export const MISSED_HEARTBEATS_UNREACHABLE = 3;
/** Less free space than this fraction of the disk needs someone to look. */
export const LOW_DISK_FRACTION = 0.1;

export type PracticeCondition = 'unknown' | 'unreachable' | 'attention' | 'ok';

export interface ConditionInput {
  /** The latest heartbeat recorded, and when the hub received it. */
  latest: Heartbeat | null;
  receivedAt: string | null;
  now: Date;
  intervalMs?: number;
}

export interface ConditionAnswer {
  condition: PracticeCondition;
  /** Why, for people: "No heartbeat for 7 minutes", "Standby down". Empty only when ok. */
  reasons: string[];
}

/**
 * Pessimistic by design (hazard REG-01): a practice is `ok` only when a heartbeat arrived within
 * three intervals and nothing in it needs attention. No heartbeat ever is `unknown`, an old one is
 * `unreachable` (its figures are the last known, shown with their time), never `ok`.
 */
export function practiceCondition(input: ConditionInput): ConditionAnswer {
  const { latest, receivedAt, now } = input;
  if (!latest || !receivedAt) return { condition: 'unknown', reasons: ['No heartbeat received from this practice yet'] };
  const interval = input.intervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  const silentMs = now.getTime() - Date.parse(receivedAt);
  if (silentMs > interval * MISSED_HEARTBEATS_UNREACHABLE) {
    return { condition: 'unreachable', reasons: [`No heartbeat for ${describeDuration(silentMs)}; figures are as last reported`] };
  }
  const reasons: string[] = [];
  if (!latest.hub.reachable) reasons.push('The node reports its change log is not reaching the hub');
  if (latest.standby.configured && !latest.standby.up) reasons.push('Standby node down');
  if (latest.disk && latest.disk.freeBytes < latest.disk.totalBytes * LOW_DISK_FRACTION) reasons.push(`Disk space low (${Math.round((latest.disk.freeBytes / latest.disk.totalBytes) * 100)}% free)`);
  const failed = latest.backlog.find((b) => b.kind === 'outbox-failed');
  if (failed && failed.count > 0) reasons.push(`${failed.count} outgoing message${failed.count === 1 ? '' : 's'} failed`);
  return reasons.length ? { condition: 'attention', reasons } : { condition: 'ok', reasons: [] };
}

export function describeDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} hours`;
  return `${Math.floor(hours / 24)} days`;
}

/**
 * A backlog figure as the region sees it: the heartbeat's count, but never lower than what the hub
 * itself knows is waiting (hazard REG-02). `null` means the practice does not report the kind: shown
 * as "not reported", never as 0.
 */
export function regionBacklogCount(latest: Heartbeat | null, kind: BacklogKind, knownAtHub?: number): number | null {
  const reported = latest?.backlog.find((b) => b.kind === kind)?.count;
  if (reported === undefined && knownAtHub === undefined) return null;
  return Math.max(reported ?? 0, knownAtHub ?? 0);
}

// ---- early warning ----------------------------------------------------------------------------------
/** One week of a node's health, summed from its time series. */
export interface WeeklyHealth {
  /** Monday of the week (YYYY-MM-DD). */
  weekStart: string;
  exchanges: number;
  failedExchanges: number;
  slowExchanges: number;
  routeErrors: number;
  restarts: number;
  outboxFailures: number;
  inboxFailures: number;
}

export function weeklyFailures(w: WeeklyHealth): number {
  return w.failedExchanges + w.routeErrors + w.restarts + w.outboxFailures + w.inboxFailures;
}

export interface EarlyWarning {
  flagged: boolean;
  /** For people, e.g. "Failures rose from 3 to 41 a week over 6 weeks". */
  reason: string;
  /** Trend of failures per week (least squares over the window). */
  slopePerWeek: number;
}

export const EARLY_WARNING_WEEKS = 6;
/** A week with fewer failures than this is noise, however steep the trend. */
export const EARLY_WARNING_MIN_FAILURES = 10;

/**
 * Flag a practice whose failures are rising over weeks, before it becomes an outage: over the last
 * six complete weeks the trend is upward, each of the last two weeks has at least twice the average of
 * the first two,
 * and the latest week has at least ten failures. A single bad week is not a trend and is not flagged.
 */
export function earlyWarning(weeks: readonly WeeklyHealth[]): EarlyWarning {
  const window = [...weeks].sort((a, b) => a.weekStart.localeCompare(b.weekStart)).slice(-EARLY_WARNING_WEEKS);
  if (window.length < EARLY_WARNING_WEEKS) return { flagged: false, reason: `Needs ${EARLY_WARNING_WEEKS} weeks of health figures (${window.length} so far)`, slopePerWeek: 0 };
  const y = window.map(weeklyFailures);
  const n = y.length;
  const meanX = (n - 1) / 2;
  const meanY = y.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  y.forEach((v, i) => {
    num += (i - meanX) * (v - meanY);
    den += (i - meanX) ** 2;
  });
  const slope = num / den;
  const baseline = Math.max((y[0]! + y[1]!) / 2, 1);
  const latest = y[n - 1]!;
  // Both of the last two weeks at twice the baseline: one bad week is not a trend.
  const rising = slope > 0 && y[n - 2]! >= 2 * baseline && latest >= 2 * baseline && latest >= EARLY_WARNING_MIN_FAILURES;
  const span = `from ${y[0]} to ${latest} a week over ${n} weeks`;
  return rising
    ? { flagged: true, reason: `Failures rising ${span}`, slopePerWeek: slope }
    : { flagged: false, reason: `No rising trend (${span})`, slopePerWeek: slope };
}

/** Weekly totals as the early warning rule reads them: route errors are server errors (5xx). */
export function weeklyHealthOf(weekStart: string, t: HealthTotals): WeeklyHealth {
  return {
    weekStart, exchanges: t.exchanges, failedExchanges: t.failedExchanges, slowExchanges: t.slowExchanges, routeErrors: t.errors5xx,
    restarts: t.restarts, outboxFailures: t.outboxFailures, inboxFailures: t.inboxFailures,
  };
}
