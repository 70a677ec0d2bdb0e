/** What the hub's region routes answer (GET /api/region/practices and /history): figures only. */
import type { BacklogKind } from '../api.ts';
import type { Heartbeat, HeartbeatBacklog } from './heartbeat.ts';
import type { PracticeCondition, WeeklyHealth } from './rules.ts';
import type { HealthTotals } from './health.ts';

/** One node of a practice as last reported (its backlog is the practice's, not repeated here). */
export interface RegionNodeView {
  nodeId: string;
  lastReceivedAt: string;
  seq: number;
  version: string;
  startedAt: string;
  standby: Heartbeat['standby'];
  hub: Heartbeat['hub'];
  disk: Heartbeat['disk'];
}

export interface RegionPracticeView {
  practice: string;
  /** The practice's name and PCN as the hub administrator set them (null until set). */
  name: string | null;
  pcn: string | null;
  condition: PracticeCondition;
  reasons: string[];
  /** When the hub last heard from any node of the practice (heartbeat), or null. */
  lastHeartbeatAt: string | null;
  /** Last completed exchange of the change log, as the hub recorded it. */
  lastExchangeAt: string | null;
  version: string | null;
  /** Per kind: the count as last known (never lower than the hub knows), null when not reported. */
  backlog: Partial<Record<BacklogKind, number | null>>;
  /** When those figures were reported: an unreachable practice's figures are its last known. */
  backlogAsOf: string | null;
  nodes: RegionNodeView[];
  /** What changed in the last hour, for people ("Results unfiled up 12 to 40"), newest state last. */
  lastHour: string[];
}

export interface HeartbeatHistoryPoint {
  nodeId: string;
  seq: number;
  sentAt: string;
  receivedAt: string;
  hubReachable: boolean;
  standbyUp: boolean;
  diskFreeBytes: number | null;
  backlog: HeartbeatBacklog[];
}

export interface RegionPracticesResponse {
  checkedAt: string;
  practices: RegionPracticeView[];
}

export interface PracticeHistoryResponse {
  practice: string;
  from: string;
  to: string;
  heartbeats: HeartbeatHistoryPoint[];
}

/** Backlog kinds as people read them, on the region page and in exports. */
export const backlogKindLabels: Record<BacklogKind, string> = {
  'results-unfiled': 'Results unfiled',
  'results-unreviewed': 'Results unreviewed',
  'documents-unfiled': 'Documents unfiled',
  'documents-unmatched': 'Documents not matched to a patient',
  'documents-with-problem': 'Documents that could not be read',
  'consultations-untriaged': 'Online consultations untriaged',
  'consultations-urgent-open': 'Urgent online consultations open',
  'outbox-waiting': 'Messages waiting to leave',
  'outbox-failed': 'Messages failed',
  'tasks-overdue': 'Tasks overdue',
  'replication-waiting': 'Changes waiting to reach the hub',
  'messages-awaiting-receipt': 'Messages awaiting a receipt',
  'replies-unread': 'Patient replies unread',
  'repeat-requests-waiting': 'Repeat requests waiting for a prescriber',
  'repeat-requests-unmatched': 'Repeat requests waiting for a patient match',
};

/** One point of a health chart: a day (from the hub's daily roll-up) or a five-minute window. */
export interface HealthPoint extends HealthTotals {
  /** YYYY-MM-DD for days, the window's ISO instant for five-minute points. */
  at: string;
}

/** GET /api/region/practices/:ods/health and GET /api/region/health (the region summed). */
export interface HealthSeriesResponse {
  /** The practice, or null for the whole region. */
  practice: string | null;
  granularity: 'day' | '5min';
  from: string;
  to: string;
  points: HealthPoint[];
}

/** One practice as the early warning rule sees it (the last six complete weeks). */
export interface EarlyWarningView {
  practice: string;
  name: string | null;
  pcn: string | null;
  flagged: boolean;
  reason: string;
  slopePerWeek: number;
  weeks: WeeklyHealth[];
}

/** GET /api/region/early-warning: every practice with health figures, flagged ones first. */
export interface EarlyWarningResponse {
  checkedAt: string;
  /** The rule reads the complete weeks before this Monday. */
  weeksBefore: string;
  practices: EarlyWarningView[];
}
