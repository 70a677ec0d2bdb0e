/**
 * The node's heartbeat to the regional hub: status and backlog by kind, counts only, signed with the
 * node's sync key like its change-log exchanges. Sent when the node starts, soon after each completed
 * exchange with the hub, and every minute when idle, so the region sees a silent practice quickly.
 */
import { statfs } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { BacklogFigure } from '@steadfast/domain/api';
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS, HEARTBEAT_CONTENT_TYPE, HEARTBEAT_PATH, HEARTBEAT_PROTOCOL, heartbeatBacklogKinds,
  type HealthSample, type Heartbeat, type HeartbeatBacklog, type HeartbeatReason,
} from '@steadfast/domain/region';
import type { RecordStore } from '@steadfast/store';
import { HEADER_DIGEST, HEADER_NODE, HEADER_SIGNATURE, sha256, signRequest } from '../sync/protocol.ts';
import { syncDb } from '../sync/tables.ts';
import { regionDb } from './tables.ts';

/** A standby that has not pulled for this long is down. */
export const STANDBY_SILENT_MS = 2 * 60_000;

export const SOFTWARE_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface HubView {
  reachable: boolean;
  lastExchangeAt: string | null;
}

export interface HeartbeatSenderOptions {
  store: RecordStore;
  /** The hub's base URL (the sync upstream). */
  url: string;
  /** The node's sync key. */
  key: string;
  backlog(): Promise<BacklogFigure[]>;
  /** The sync client's view of the hub, or null when it has none yet. */
  hubView(): Promise<HubView | null>;
  dataDir?: string;
  /** The node's health samples (health.ts): those not yet accepted ride on each heartbeat. */
  health?: { pending(): Promise<HealthSample[]>; accepted(samples: readonly HealthSample[]): Promise<void>; flushNow?(): Promise<void> };
  /** Idle heartbeat interval (default 60 s). */
  intervalMs?: number;
  /** At most one heartbeat this often, also after exchanges and failures (default 15 s). */
  minIntervalMs?: number;
  /** How often the sender looks whether one is due (default 2 s). */
  tickMs?: number;
  now?(): Date;
  timeoutMs?: number;
}

export interface HeartbeatSenderStatus {
  lastSeq: number | null;
  lastSentAt: string | null;
  lastError: string | null;
}

export class HeartbeatSender {
  private readonly startedAt: string;
  private lastAttemptAt = 0;
  private lastOk = false;
  private lastReportedExchange: string | null | undefined;
  private state: HeartbeatSenderStatus = { lastSeq: null, lastSentAt: null, lastError: null };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;

  constructor(private readonly options: HeartbeatSenderOptions) {
    this.startedAt = this.now().toISOString();
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  status(): HeartbeatSenderStatus {
    return { ...this.state };
  }

  /** Build the next heartbeat (taking the next number) without sending it. */
  async build(reason: HeartbeatReason): Promise<Heartbeat> {
    const { store } = this.options;
    const now = this.now();
    const [figures, hub, standby, disk, health] = await Promise.all([
      this.options.backlog(), this.options.hubView(), standbyOf(store, now), diskOf(this.options.dataDir), this.options.health?.pending() ?? Promise.resolve([]),
    ]);
    return {
      protocol: HEARTBEAT_PROTOCOL,
      practice: store.practice,
      nodeId: store.nodeId,
      seq: await nextSeq(store.db, store.practice, store.nodeId, now.toISOString()),
      sentAt: now.toISOString(),
      reason,
      version: SOFTWARE_VERSION,
      startedAt: this.startedAt,
      standby,
      hub: hub ?? { reachable: false, lastExchangeAt: null },
      disk,
      backlog: heartbeatBacklog(figures),
      ...(health.length ? { health } : {}),
    };
  }

  /** Build, sign and send one heartbeat now; never throws (the outcome is in status()). */
  async sendNow(reason: HeartbeatReason): Promise<{ ok: true; seq: number } | { ok: false; error: string }> {
    this.lastAttemptAt = Date.now();
    try {
      const hub = await this.options.hubView();
      const hb = await this.build(reason);
      const body = Buffer.from(JSON.stringify(hb));
      const digest = sha256(body);
      const res = await fetch(new URL(HEARTBEAT_PATH, this.options.url), {
        method: 'POST',
        headers: {
          'content-type': HEARTBEAT_CONTENT_TYPE,
          [HEADER_NODE]: hb.nodeId,
          [HEADER_DIGEST]: digest,
          [HEADER_SIGNATURE]: signRequest(this.options.key, 'POST', HEARTBEAT_PATH, hb.nodeId, digest),
        },
        body: new Uint8Array(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      if (res.status !== 202) {
        const outcome = (await res.json().catch(() => undefined)) as { issue?: Array<{ diagnostics?: string }> } | undefined;
        throw new Error(`The hub refused heartbeat ${hb.seq} (${res.status}): ${outcome?.issue?.[0]?.diagnostics ?? res.statusText}`);
      }
      if (hb.health?.length) await this.options.health?.accepted(hb.health).catch(() => undefined);
      this.lastOk = true;
      this.lastReportedExchange = hub?.lastExchangeAt ?? null;
      this.state = { lastSeq: hb.seq, lastSentAt: hb.sentAt, lastError: null };
      return { ok: true, seq: hb.seq };
    } catch (err) {
      this.lastOk = false;
      const error = (err as Error).name === 'TimeoutError' ? 'The hub did not answer the heartbeat in time' : (err as Error).message;
      this.state = { ...this.state, lastError: error };
      return { ok: false, error };
    }
  }

  /** Is a heartbeat due: the first, an exchange since the last, the idle interval, or a retry. */
  private async due(): Promise<HeartbeatReason | null> {
    const since = Date.now() - this.lastAttemptAt;
    const min = this.options.minIntervalMs ?? 15_000;
    if (this.lastAttemptAt === 0) return 'start';
    if (since >= (this.options.intervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS)) return 'idle';
    if (since < min) return null;
    if (!this.lastOk) return 'idle';
    const hub = await this.options.hubView();
    if (hub && hub.lastExchangeAt !== this.lastReportedExchange) return 'exchange';
    return null;
  }

  start(): void {
    this.stopped = false;
    const tick = async () => {
      if (this.stopped) return;
      const reason = await this.due().catch(() => null);
      if (reason) await this.sendNow(reason);
      if (!this.stopped) this.timer = setTimeout(() => void (this.running = tick()), this.options.tickMs ?? 2000);
    };
    this.running = tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}

/** The next heartbeat number, kept in the node's database so it keeps rising across restarts. */
async function nextSeq(db: Kysely<any>, practice: string, nodeId: string, at: string): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const r = regionDb(trx);
    const row = await r.selectFrom('region_sender').select('last_seq').where('practice', '=', practice).where('node_id', '=', nodeId).executeTakeFirst();
    const seq = Number(row?.last_seq ?? 0) + 1;
    await r
      .insertInto('region_sender')
      .values({ practice, node_id: nodeId, last_seq: seq, last_sent_at: at })
      .onConflict((oc) => oc.columns(['practice', 'node_id']).doUpdateSet({ last_seq: seq, last_sent_at: at }))
      .execute();
    return seq;
  });
}

/** The practice's standby, as the primary sees it: registered with this node, and pulling recently. */
async function standbyOf(store: RecordStore, now: Date): Promise<Heartbeat['standby']> {
  const peers = await syncDb(store.db).selectFrom('sync_peers').select(['last_pull_at', 'last_push_at']).where('practice', '=', store.practice).execute();
  if (!peers.length) return { configured: false, up: false, lastExchangeAt: null };
  const last = peers.flatMap((p) => [p.last_pull_at, p.last_push_at]).filter((t): t is string => !!t).sort().pop() ?? null;
  return { configured: true, up: last !== null && now.getTime() - Date.parse(last) <= STANDBY_SILENT_MS, lastExchangeAt: last };
}

async function diskOf(dataDir: string | undefined): Promise<Heartbeat['disk']> {
  if (!dataDir) return null;
  try {
    const s = await statfs(dataDir);
    const total = Number(s.blocks) * Number(s.bsize);
    const free = Number(s.bavail) * Number(s.bsize);
    return total > 0 ? { freeBytes: Math.min(free, total), totalBytes: total } : null;
  } catch {
    return null;
  }
}

/** The capabilities' figures as the heartbeat carries them: known kinds only, instants normalised. */
export function heartbeatBacklog(figures: readonly BacklogFigure[]): HeartbeatBacklog[] {
  const byKind = new Map<string, HeartbeatBacklog>();
  for (const f of figures) {
    if (!heartbeatBacklogKinds.includes(f.kind)) continue;
    const oldest = f.oldest && f.count > 0 ? Date.parse(f.oldest) : NaN;
    const prior = byKind.get(f.kind);
    // Two capabilities reporting one kind add up (a backlog is never shown lower than it is).
    const count = (prior?.count ?? 0) + f.count;
    const oldestIso = Number.isFinite(oldest) ? new Date(oldest).toISOString() : undefined;
    const keep = [prior?.oldest, oldestIso].filter((t): t is string => !!t).sort()[0];
    byKind.set(f.kind, { kind: f.kind, count, ...(keep ? { oldest: keep } : {}) });
  }
  return [...byKind.values()];
}
