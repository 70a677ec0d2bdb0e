/**
 * A seeded, deterministic fault simulation of the sync protocol: a hub and a few practice nodes in one
 * process, each a real SQLite store, exchanging through an in-memory transport that loses requests and
 * answers, delivers twice, replays old requests, truncates and tampers; nodes and the hub crash
 * (in-memory sync state dropped, store closed and reopened) at random points, including between applying
 * a pulled batch and saving its cursor; clocks are skewed per node. At the end the network heals and
 * the invariants are checked: no acknowledged write lost, no duplicates, all replicas converge.
 *
 * Stores are reused across seeds (each seed is its own practice in the same database files), so a
 * thousand seeds run in minutes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { canonicalJson, type ChangeEntry } from '@steadfast/domain';
import { openStore, type RecordStore } from '@steadfast/store';
import { SyncClient } from './client.ts';
import { resolveConflicts } from './conflicts.ts';
import { newNodeKey, type SyncRequest, type SyncResponse, type SyncTransport } from './protocol.ts';
import { registerPeer, SyncReceiver } from './receiver.ts';
import { syncMigrations } from './tables.ts';

// ---- a seeded random source and a skewable clock ---------------------------------------------

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Clock skew: the store's clock reads Date.now, so the simulation installs a Date.now that adds the
 * skew of whichever node is acting. Installed once per process; harmless to other code (skew 0).
 */
const realNow = Date.now.bind(Date);
let currentSkew = 0;
let installed = false;
function installSkewableClock(): void {
  if (installed) return;
  installed = true;
  Date.now = () => realNow() + currentSkew;
}

class CrashError extends Error {}

// ---- the simulated world -------------------------------------------------------------------------

export interface SimulationOptions {
  seed: number;
  nodes?: number;
  steps?: number;
  /** Directory holding the reusable database files (one per node + hub). */
  dir: string;
  /**
   * Break the system on purpose, to prove the checks can fail: `hub-forgets` makes each hub crash lose
   * the hub's newest entry, as a hub acknowledging before a durable commit would.
   */
  sabotage?: 'hub-forgets';
}

export interface SimulationResult {
  seed: number;
  written: number;
  atHub: number;
  lost: string[];
  duplicated: string[];
  diverged: string[];
  conflicts: number;
  faults: Record<string, number>;
}

interface SimNode {
  name: string;
  nodeId: string;
  dir: string;
  key: string;
  skew: number;
  store: RecordStore;
  client: SyncClient;
  partitioned: boolean;
  /** Requests this node sent, for replays. */
  sent: SyncRequest[];
}

const TYPES = ['patient', 'edit-patient', 'encounter', 'medication', 'edit-medication', 'appointment'] as const;

export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  installSkewableClock();
  const rand = mulberry32(options.seed * 2654435761);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const chance = (p: number) => rand() < p;
  const practice = `S${String(options.seed).padStart(6, '0')}`;
  const faults: Record<string, number> = {};
  const count = (k: string) => (faults[k] = (faults[k] ?? 0) + 1);

  const open = (dir: string, nodeId: string) => openStore({ dataDir: join(options.dir, dir), nodeId, practice, migrations: syncMigrations });

  let hubStore = await open('hub', `s${options.seed}hub`);
  let receiver = new SyncReceiver({ db: hubStore.db, storeFor: async (p) => (p === practice ? hubStore : undefined) });
  let hubDown = false;

  const acknowledged = new Map<string, ChangeEntry>();
  const known: Record<string, string[]> = { Patient: [], MedicationRequest: [] };

  const nodes: SimNode[] = [];
  const nodeCount = options.nodes ?? 3;

  const makeTransport = (node: SimNode): SyncTransport => ({
    send: async (request: SyncRequest): Promise<SyncResponse> => {
      if (node.partitioned || hubDown) throw new Error('unreachable');
      if (chance(0.08)) {
        count('request lost');
        throw new Error('request lost');
      }
      // A stale request from earlier arrives now (reordering).
      if (node.sent.length && chance(0.08)) {
        count('old request replayed');
        await receiver.handle(pick(node.sent));
      }
      node.sent.push(request);
      if (node.sent.length > 20) node.sent.shift();
      let delivered = request;
      if (chance(0.04)) {
        count('truncated');
        delivered = { ...request, body: request.body.subarray(0, Math.floor(request.body.length * rand())) };
      } else if (chance(0.04)) {
        count('tampered');
        const copy = Buffer.from(request.body);
        const at = Math.floor(rand() * copy.length);
        copy[at] = copy[at]! ^ 0x55;
        delivered = { ...request, body: copy };
      }
      const first = await receiver.handle(delivered);
      if (chance(0.08)) {
        count('delivered twice');
        const second = await receiver.handle(delivered);
        if (chance(0.5)) return second;
      }
      if (chance(0.08)) {
        count('answer lost');
        throw new Error('answer lost');
      }
      return first;
    },
  });

  const makeClient = (node: SimNode) =>
    new SyncClient({
      store: node.store,
      peer: 'hub',
      transport: makeTransport(node),
      key: node.key,
      batchSize: 1 + Math.floor(rand() * 6),
      afterApply: async (s, entries) => {
        if (chance(0.05)) {
          count('crash after apply, before cursor');
          throw new CrashError('crash');
        }
        await resolveConflicts(s, entries);
      },
    });

  try {
    for (let i = 0; i < nodeCount; i++) {
      const nodeId = `s${options.seed}n${i}`;
      const key = newNodeKey();
      await registerPeer(hubStore.db, { practice, nodeId, key });
      const store = await open(`n${i}`, nodeId);
      const node: SimNode = { name: `n${i}`, nodeId, dir: `n${i}`, key, skew: Math.round((rand() - 0.5) * 4 * 3600_000), store, client: undefined as unknown as SyncClient, partitioned: false, sent: [] };
      node.client = makeClient(node);
      nodes.push(node);
    }

    const act = async <T>(node: SimNode | undefined, fn: () => Promise<T>): Promise<T> => {
      currentSkew = node?.skew ?? 0;
      try {
        return await fn();
      } finally {
        currentSkew = 0;
      }
    };

    const crashNode = async (node: SimNode) => {
      await node.store.close();
      node.store = await act(node, () => open(node.dir, node.nodeId));
      node.client = makeClient(node);
    };

    const write = async (node: SimNode) => {
      const kind = pick(TYPES);
      const s = node.store;
      let requests: Parameters<RecordStore['write']>[0] = [];
      if (kind === 'patient') requests = [{ kind: 'create', resource: { resourceType: 'Patient', name: [{ family: `F${Math.floor(rand() * 1000)}` }], gender: pick(['male', 'female']) } as Resource }];
      else if (kind === 'encounter') requests = [{ kind: 'create', resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' } } as Resource }];
      else if (kind === 'medication') requests = [{ kind: 'create', resource: { resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/x' } } as Resource }];
      else if (kind === 'appointment') {
        requests = [{ kind: 'create', resource: { resourceType: 'Appointment', status: 'booked', slot: [{ reference: `Slot/${practice}-${Math.floor(rand() * 3)}` }], participant: [{ actor: { reference: `Patient/p${Math.floor(rand() * 9)}` }, status: 'accepted' }] } as Resource }];
      } else {
        const type = kind === 'edit-patient' ? 'Patient' : 'MedicationRequest';
        const ids = known[type]!;
        if (!ids.length) return;
        const current = await s.read(type, pick(ids));
        if (!current || current.deleted) return;
        const r = { ...(current.resource as unknown as Record<string, unknown>) };
        if (type === 'Patient') {
          const field = pick(['gender', 'birthDate', 'telecom', 'address']);
          r[field] = field === 'gender' ? pick(['male', 'female', 'other']) : field === 'birthDate' ? `19${10 + Math.floor(rand() * 89)}-01-01` : [{ value: `${node.name}-${Math.floor(rand() * 100)}` }];
        } else r[pick(['status', 'note'])] = pick(['active', 'stopped', 'on-hold']);
        requests = [{ kind: 'update', resource: r as unknown as Resource, ifMatch: current.versionId }];
      }
      const outcomes = await act(node, () => s.write(requests, { author: `user-${node.name}` }));
      for (const o of outcomes) {
        if (!o.entry) continue;
        acknowledged.set(o.entry.entryId, o.entry);
        if (o.status === 'created' && (o.entry.resourceType === 'Patient' || o.entry.resourceType === 'MedicationRequest')) known[o.entry.resourceType]!.push(o.entry.resourceId);
      }
    };

    const exchange = async (node: SimNode) => {
      try {
        await act(node, () => node.client.exchange());
      } catch (err) {
        if (err instanceof CrashError) await crashNode(node);
        // Other failures: the client backs off and retries later from its cursors.
      }
    };

    const steps = options.steps ?? 30;
    for (let step = 0; step < steps; step++) {
      const node = pick(nodes);
      const r = rand();
      if (r < 0.4) await write(node);
      else if (r < 0.75) await exchange(node);
      else if (r < 0.83) {
        count('node crash');
        await crashNode(node);
      } else if (r < 0.88) {
        count('hub crash');
        if (options.sabotage === 'hub-forgets') {
          const last = await hubStore.db.selectFrom('change_log').select(['seq']).where('practice', '=', practice).orderBy('seq', 'desc').limit(1).executeTakeFirst();
          if (last) await hubStore.db.deleteFrom('change_log').where('practice', '=', practice).where('seq', '=', last.seq).execute();
        }
        await hubStore.close();
        hubStore = await open('hub', `s${options.seed}hub`);
        receiver = new SyncReceiver({ db: hubStore.db, storeFor: async (p) => (p === practice ? hubStore : undefined) });
      } else if (r < 0.95) {
        node.partitioned = !node.partitioned;
        count('partition toggled');
      } else {
        hubDown = !hubDown;
        count('hub outage toggled');
      }
    }

    // Heal: no more faults, exchange until every node has everything and nothing is waiting.
    hubDown = false;
    for (const n of nodes) {
      n.partitioned = false;
      n.sent = [];
      n.client = new SyncClient({ store: n.store, peer: 'hub', transport: { send: (req) => receiver.handle(req) }, key: n.key, afterApply: async (s, e) => void (await resolveConflicts(s, e)) });
    }
    for (let round = 0; round < 8; round++) {
      for (const n of nodes) await act(n, () => n.client.exchange());
      const hubIds = await entryIds(hubStore);
      let settled = true;
      for (const n of nodes) {
        const st = await n.client.status();
        if (st.waitingToPush > 0 || (await entryIds(n.store)).size !== hubIds.size) settled = false;
      }
      if (settled) break;
    }

    // ---- invariants ----
    const hubIds = await entryIds(hubStore);
    const lost: string[] = [];
    for (const id of acknowledged.keys()) {
      if (!hubIds.has(id)) lost.push(`${id} not at hub`);
      for (const n of nodes) if (!(await entryIds(n.store)).has(id)) lost.push(`${id} not at ${n.name}`);
    }
    const duplicated: string[] = [];
    for (const s of [hubStore, ...nodes.map((n) => n.store)]) {
      const rows = await s.db.selectFrom('change_log').select(['entry_id']).where('practice', '=', practice).execute();
      if (rows.length !== new Set(rows.map((r) => r.entry_id)).size) duplicated.push(`${s.nodeId}: an entry is logged twice`);
      const tasks = await s.search({ resourceType: 'Task', params: [], count: 1000, offset: 0 });
      const seen = new Set<string>();
      for (const t of tasks.resources) {
        const k = canonicalJson({ code: (t as any).code, focus: (t as any).focus, input: (t as any).input });
        if (seen.has(k)) duplicated.push(`${s.nodeId}: Task ${t.id} raised twice for one conflict`);
        seen.add(k);
      }
    }
    const diverged: string[] = [];
    const reference = await projection(hubStore);
    for (const n of nodes) {
      const mine = await projection(n.store);
      if (mine !== reference) diverged.push(`${n.name} differs from the hub`);
      if ((await entryIds(n.store)).size !== hubIds.size) diverged.push(`${n.name} holds ${(await entryIds(n.store)).size} entries, hub ${hubIds.size}`);
    }
    const conflicts = (await hubStore.search({ resourceType: 'Task', params: [], count: 1000, offset: 0 })).resources.length;
    return { seed: options.seed, written: acknowledged.size, atHub: hubIds.size, lost, duplicated, diverged, conflicts, faults };
  } finally {
    for (const n of nodes) await n.store.close().catch(() => undefined);
    await hubStore.close().catch(() => undefined);
  }
}

async function entryIds(store: RecordStore): Promise<Set<string>> {
  const rows = await store.db.selectFrom('change_log').select('entry_id').where('practice', '=', store.practice).execute();
  return new Set(rows.map((r) => r.entry_id));
}

/** The current version of every resource, as one comparable string. */
async function projection(store: RecordStore): Promise<string> {
  const rows = await store.db
    .selectFrom('resources')
    .select(['resource_type', 'id', 'version_id', 'deleted'])
    .where('practice', '=', store.practice)
    .orderBy('resource_type')
    .orderBy('id')
    .execute();
  return rows.map((r) => `${r.resource_type}/${r.id}@${r.version_id}${r.deleted ? '(deleted)' : ''}`).join('\n');
}

/** A scratch directory for the simulation's database files (tmpfs when there is one: fsync is the cost). */
export function simulationDir(): { dir: string; dispose(): void } {
  const root = process.platform === 'linux' ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(root, 'steadfast-sim-'));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

