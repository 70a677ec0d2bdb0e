/**
 * A node's heartbeat to the regional hub: its status and backlog by kind, counts only (never patient
 * data). The node signs the exact bytes with its sync key; the hub checks the shape and the figures
 * here before it records anything, so an impossible figure never reaches the region's view.
 */
import type { BacklogKind } from '../api.ts';
import { checkHealthSamples, type HealthSample } from './health.ts';

export const HEARTBEAT_PROTOCOL = 1;
export const HEARTBEAT_PATH = '/api/region/heartbeat';
export const HEARTBEAT_CONTENT_TYPE = 'application/x-steadfast-heartbeat+json';

/**
 * Backlog kinds a heartbeat may carry: every kind a capability reports (api.ts BacklogKind). A record,
 * so a new kind cannot be left out: the hub refused heartbeats carrying a kind this list lacked.
 */
const HEARTBEAT_KINDS: Record<BacklogKind, true> = {
  'results-unfiled': true,
  'results-unreviewed': true,
  'documents-unfiled': true,
  'documents-unmatched': true,
  'documents-with-problem': true,
  'consultations-untriaged': true,
  'consultations-urgent-open': true,
  'outbox-waiting': true,
  'outbox-failed': true,
  'tasks-overdue': true,
  'replication-waiting': true,
  'messages-awaiting-receipt': true,
  'replies-unread': true,
  'repeat-requests-waiting': true,
  'repeat-requests-unmatched': true,
};
export const heartbeatBacklogKinds: readonly BacklogKind[] = Object.keys(HEARTBEAT_KINDS) as BacklogKind[];

/** Why this heartbeat was sent: the node started, it has just exchanged with the hub, or it is idle. */
export type HeartbeatReason = 'start' | 'exchange' | 'idle';

export interface HeartbeatBacklog {
  kind: BacklogKind;
  count: number;
  /** When the oldest waiting item arrived (ISO instant). */
  oldest?: string;
}

export interface Heartbeat {
  protocol: typeof HEARTBEAT_PROTOCOL;
  practice: string;
  nodeId: string;
  /** Strictly increasing per node (kept across restarts): the hub refuses one it has already seen. */
  seq: number;
  sentAt: string;
  reason: HeartbeatReason;
  /** Software version of the node. */
  version: string;
  /** When this node process started (a restart shows as a new value). */
  startedAt: string;
  /** The practice's standby node, as this node sees it. */
  standby: { configured: boolean; up: boolean; lastExchangeAt: string | null };
  /** The node's own view of the hub (the last exchange it completed, whether the latest succeeded). */
  hub: { reachable: boolean; lastExchangeAt: string | null };
  /** Space on the data directory's disk; null when the node could not read it. */
  disk: { freeBytes: number; totalBytes: number } | null;
  /** Only the kinds this node measures; a kind left out is "not reported", never zero. */
  backlog: HeartbeatBacklog[];
  /**
   * The node's health samples not yet accepted by the hub, oldest first (health.ts). Optional: a node
   * that records none leaves it out. The hub records each window once, so a resend is harmless.
   */
  health?: HealthSample[];
}

/** The largest count a backlog figure can plausibly hold; above it, the figure is refused as impossible. */
export const MAX_BACKLOG_COUNT = 10_000_000;
/** A node's clock may be ahead of the hub's by this much before its heartbeat is refused. */
export const MAX_CLOCK_AHEAD_MS = 5 * 60_000;
/** A heartbeat older than this on arrival is refused as a replay (the node sends a fresh one). */
export const MAX_HEARTBEAT_AGE_MS = 15 * 60_000;

export interface HeartbeatProblem {
  field: string;
  message: string;
  hint: string;
}

export type HeartbeatCheck = { ok: true; heartbeat: Heartbeat } | { ok: false; problem: HeartbeatProblem };

const ODS = /^[A-Z0-9]{3,10}$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function instant(v: unknown): number | undefined {
  if (typeof v !== 'string' || !ISO_INSTANT.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
}

function count(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

class Refused extends Error {
  constructor(readonly problem: HeartbeatProblem) {
    super(problem.message);
  }
}

function refuse(field: string, message: string, hint: string): never {
  throw new Refused({ field, message, hint });
}

/**
 * Check a heartbeat as received (parsed JSON) against the hub's clock: its shape, and that every
 * figure is possible (counts whole and not negative, free space within the disk, no time in the future
 * and no "oldest item" after the heartbeat was sent). The first problem is returned, naming its field.
 */
export function checkHeartbeat(value: unknown, now: Date): HeartbeatCheck {
  try {
    return { ok: true, heartbeat: check(value, now.getTime()) };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, problem: err.problem };
    throw err;
  }
}

function check(v: unknown, now: number): Heartbeat {
  if (!isObject(v)) refuse('body', 'The heartbeat is not a JSON object', 'Send the heartbeat JSON the node builds');
  if (v.protocol !== HEARTBEAT_PROTOCOL) refuse('protocol', `Heartbeat protocol ${String(v.protocol)} is not supported`, `Send protocol ${HEARTBEAT_PROTOCOL}; upgrade the node or the hub`);
  if (typeof v.practice !== 'string' || !ODS.test(v.practice)) refuse('practice', 'practice must be an ODS code', 'Capital letters and digits, e.g. B82005');
  if (typeof v.nodeId !== 'string' || !v.nodeId || v.nodeId.length > 100) refuse('nodeId', 'nodeId is required (at most 100 characters)', 'Send the node id the hub registered');
  if (typeof v.seq !== 'number' || !Number.isSafeInteger(v.seq) || v.seq < 1) refuse('seq', 'seq must be a whole number from 1', 'The node numbers its heartbeats 1, 2, 3...');
  const sentAt = instant(v.sentAt);
  if (sentAt === undefined) refuse('sentAt', 'sentAt must be an ISO instant', 'e.g. 2026-12-03T14:00:00.000Z');
  if (sentAt > now + MAX_CLOCK_AHEAD_MS) refuse('sentAt', `sentAt ${String(v.sentAt)} is in the future`, "Correct the node's clock (NTP)");
  if (sentAt < now - MAX_HEARTBEAT_AGE_MS) refuse('sentAt', `sentAt ${String(v.sentAt)} is more than ${MAX_HEARTBEAT_AGE_MS / 60_000} minutes old (a replay, or a clock far behind)`, "Send a fresh heartbeat; check the node's clock");
  if (v.reason !== 'start' && v.reason !== 'exchange' && v.reason !== 'idle') refuse('reason', 'reason must be start, exchange or idle', 'Send why the heartbeat was sent');
  if (typeof v.version !== 'string' || !v.version || v.version.length > 50) refuse('version', 'version is required (at most 50 characters)', 'Send the node software version');
  const startedAt = instant(v.startedAt);
  if (startedAt === undefined) refuse('startedAt', 'startedAt must be an ISO instant', 'Send when the node process started');
  if (startedAt > sentAt) refuse('startedAt', 'startedAt is after sentAt', 'A node cannot report before it started');

  if (!isObject(v.standby) || typeof v.standby.configured !== 'boolean' || typeof v.standby.up !== 'boolean') refuse('standby', 'standby must say whether one is configured and up', 'Send {configured, up, lastExchangeAt}');
  if (!v.standby.configured && v.standby.up) refuse('standby.up', 'A standby cannot be up when none is configured', 'Send up: false when there is no standby');
  const standbyLast = nullableInstant(v.standby.lastExchangeAt, 'standby.lastExchangeAt', sentAt);
  if (!isObject(v.hub) || typeof v.hub.reachable !== 'boolean') refuse('hub', 'hub must say whether the hub is reachable', 'Send {reachable, lastExchangeAt}');
  const hubLast = nullableInstant(v.hub.lastExchangeAt, 'hub.lastExchangeAt', sentAt);

  let disk: Heartbeat['disk'] = null;
  if (v.disk !== null) {
    if (!isObject(v.disk) || !count(v.disk.freeBytes) || !count(v.disk.totalBytes)) refuse('disk', 'disk must be null or {freeBytes, totalBytes} in whole bytes', 'Send what statfs reports');
    if ((v.disk.totalBytes as number) === 0) refuse('disk.totalBytes', 'A disk of 0 bytes is impossible', 'Send null when the size is not known');
    if ((v.disk.freeBytes as number) > (v.disk.totalBytes as number)) refuse('disk.freeBytes', 'Free space is larger than the disk', 'Send free and total space of the same disk');
    disk = { freeBytes: v.disk.freeBytes as number, totalBytes: v.disk.totalBytes as number };
  }

  if (!Array.isArray(v.backlog) || v.backlog.length > heartbeatBacklogKinds.length) refuse('backlog', 'backlog must be a list of figures, one per kind', 'Send each kind the node measures once');
  const seen = new Set<string>();
  const backlog: HeartbeatBacklog[] = v.backlog.map((f: unknown, i: number) => {
    const at = `backlog[${i}]`;
    if (!isObject(f) || typeof f.kind !== 'string' || !heartbeatBacklogKinds.includes(f.kind as BacklogKind)) refuse(`${at}.kind`, `Unknown backlog kind ${isObject(f) ? String(f.kind) : ''}`, `One of ${heartbeatBacklogKinds.join(', ')}`);
    if (seen.has(f.kind)) refuse(`${at}.kind`, `Backlog kind ${f.kind} is sent twice`, 'Send each kind once');
    seen.add(f.kind);
    if (!count(f.count) || (f.count as number) > MAX_BACKLOG_COUNT) refuse(`${at}.count`, `The ${f.kind} count ${String(f.count)} is impossible`, `A whole number from 0 to ${MAX_BACKLOG_COUNT}`);
    const figure: HeartbeatBacklog = { kind: f.kind as BacklogKind, count: f.count as number };
    if (f.oldest !== undefined) {
      const oldest = instant(f.oldest);
      if (oldest === undefined) refuse(`${at}.oldest`, 'oldest must be an ISO instant', 'When the oldest waiting item arrived');
      if (oldest > sentAt) refuse(`${at}.oldest`, `The oldest ${f.kind} item arrived after the heartbeat was sent`, "Check the node's clock");
      if (f.count === 0) refuse(`${at}.oldest`, `${f.kind} has an oldest item but a count of 0`, 'Leave oldest out when nothing is waiting');
      figure.oldest = f.oldest as string;
    }
    return figure;
  });

  const health = checkHealthSamples(v.health, sentAt);
  if (!health.ok) refuse(health.problem.field, health.problem.message, health.problem.hint);

  return {
    protocol: HEARTBEAT_PROTOCOL,
    practice: v.practice,
    nodeId: v.nodeId,
    seq: v.seq,
    sentAt: v.sentAt as string,
    reason: v.reason,
    version: v.version,
    startedAt: v.startedAt as string,
    standby: { configured: v.standby.configured, up: v.standby.up, lastExchangeAt: standbyLast },
    hub: { reachable: v.hub.reachable, lastExchangeAt: hubLast },
    disk,
    backlog,
    ...(v.health !== undefined ? { health: health.samples } : {}),
  };
}

function nullableInstant(v: unknown, field: string, sentAt: number): string | null {
  if (v === null || v === undefined) return null;
  const t = instant(v);
  if (t === undefined) refuse(field, `${field} must be an ISO instant or null`, 'e.g. 2026-12-03T14:00:00.000Z');
  if (t > sentAt + MAX_CLOCK_AHEAD_MS) refuse(field, `${field} is after the heartbeat was sent`, "Check the node's clock");
  return v as string;
}
