/**
 * Hub mode: one PostgreSQL database holding the change logs of many practices, every table keyed by
 * practice first (so it can be distributed by practice with Citus; docs/sync-protocol.md). The hub is a
 * relay and a safe copy: it applies what nodes push and serves what they pull, it never edits records
 * and raises no Tasks (conflicts are acted on at the practice, where the clinicians are).
 *
 *   const hub = await startHub({ databaseUrl: 'postgres://...', port: 8443 });
 *   await hub.addNode('B82005', 'node-b82005-1');   // returns the key to configure on that node
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { Kysely } from 'kysely';
import { SteadfastError } from '@steadfast/domain';
import { openStore, type KyselyStore, type RecordStore } from '@steadfast/store';
import { registerErrorHandling } from '../http/errors.ts';
import { registerSyncRoutes } from '../sync/http.ts';
import { newNodeKey } from '../sync/protocol.ts';
import { registerPeer, SyncReceiver } from '../sync/receiver.ts';
import { syncDb, syncMigrations } from '../sync/tables.ts';
import { hubMigrations, indexShares, sharedBatchFor } from './shares.ts';
import { inboxMigrations } from '../inbox/tables.ts';
import { registerHubSubmissions } from '../online-consultations/hub.ts';
import { hubWriteCheck, warmHubWriteCheck } from '../online-consultations/hub-write-check.ts';
import { registerSecurityHeaders } from '../http/security.ts';
import { registerPatientForm } from '../webapp/patient-form.ts';
import type { OnlineConsultationOptions } from '../online-consultations/options.ts';
import { regionHubMigrations, registerRegionHub } from '../region/hub.ts';
import type { RegionOptions } from '../region/options.ts';
import { hubStaffMigrations, installHubStaff, requireHubRole, type HubStaff } from '../region/hub-staff.ts';
import type { SignInRateLimit } from '../auth/sign-in.ts';
import { registerHubWebApp } from '../region/hub-web.ts';
import { registerBlobRoutes } from '../documents/blob-sync.ts';
import { hubBlobMigrations, hubBlobSink } from '../documents/hub-blobs.ts';
import { incidentHubMigrations, registerIncidentsHub } from '../incidents/index.ts';

const HUB_NODE_ID = 'hub';
/** The practice code the hub's own store is opened with (it holds no records of its own). */
const HUB_SELF = 'HUB';

export interface HubOptions {
  databaseUrl: string;
  /** PostgreSQL schema (tests); default the connection's search_path. */
  pgSchema?: string;
  port?: number;
  host?: string;
  /** Bearer token for /api/hub/* (env STEADFAST_HUB_ADMIN_TOKEN); without one those routes are refused. */
  adminToken?: string;
  logger?: boolean;
  /** Online consultations taken at the hub for every practice it serves (opening hours, rate limit). */
  onlineConsultations?: OnlineConsultationOptions;
  /** The hub's clock (tests, the drill); default the system clock. */
  clock?: () => Date;
  /** Sign-in attempts per client address and window for hub staff (default 30 a minute). */
  signInRateLimit?: SignInRateLimit;
  /** The region's heartbeat interval (`heartbeatIntervalMs`, as the nodes are configured): how soon a silent practice shows unreachable. */
  region?: RegionOptions;
}

export interface PracticeState {
  practice: string;
  /** Entries the hub holds for the practice. */
  entriesAtHub: number;
  /** Last time any node of the practice exchanged with the hub. */
  lastExchangeAt: string | null;
  /** Entries the practice's nodes said they still had to send (at their last pull). */
  waitingAtNodes: number;
  /** Entries at the hub that the practice's slowest node has not pulled yet. */
  backlogToNodes: number;
  nodes: Array<{ nodeId: string; lastPushAt: string | null; lastPullAt: string | null; pushCursor: number; pullCursor: number; waitingToPush: number; waitingToPull: number }>;
}

export interface RunningHub {
  app: FastifyInstance;
  url: string;
  db: Kysely<any>;
  /** Register a node of a practice; returns its key (shown once, configured on the node). */
  addNode(practice: string, nodeId: string, key?: string): Promise<string>;
  storeFor(practice: string): Promise<RecordStore | undefined>;
  /** Hub staff accounts (region-lead, service-desk) and the hub's audit trail. */
  staff: HubStaff;
  practices(): Promise<PracticeState[]>;
  close(): Promise<void>;
}

/** Practice stores over one shared connection pool: one KyselyStore per practice, created on demand. */
class HubStores {
  private readonly stores = new Map<string, Promise<KyselyStore>>();

  constructor(readonly base: KyselyStore) {}

  get db(): Kysely<any> {
    return this.base.db;
  }

  /** Only practices with a registered node are served; anything else is unknown here. */
  async storeFor(practice: string): Promise<RecordStore | undefined> {
    let s = this.stores.get(practice);
    if (!s) {
      const known = await syncDb(this.db).selectFrom('sync_peers').select('practice').where('practice', '=', practice).executeTakeFirst();
      if (!known) return undefined;
      s = (async () => {
        const store = this.base.practiceView(practice);
        // What the hub may write itself (online consultations only); sync's relayed entries bypass it.
        store.setWriteCheck(hubWriteCheck);
        await store.initClock();
        return store;
      })();
      this.stores.set(practice, s);
    }
    return s;
  }
}

async function countEntries(db: Kysely<any>, practice: string, afterSeq = 0): Promise<number> {
  const row = await db
    .selectFrom('change_log')
    .select((eb: any) => eb.fn.countAll().as('n'))
    .where('practice', '=', practice)
    .where('seq', '>', afterSeq)
    .executeTakeFirst();
  return Number((row as { n?: unknown } | undefined)?.n ?? 0);
}

async function practiceStates(db: Kysely<any>): Promise<PracticeState[]> {
  const peers = await syncDb(db).selectFrom('sync_peers').selectAll().orderBy('practice').orderBy('node_id').execute();
  const byPractice = new Map<string, typeof peers>();
  for (const p of peers) byPractice.set(p.practice, [...(byPractice.get(p.practice) ?? []), p]);
  const out: PracticeState[] = [];
  for (const [practice, nodes] of byPractice) {
    const entriesAtHub = await countEntries(db, practice);
    const nodeStates = [];
    for (const n of nodes) {
      nodeStates.push({
        nodeId: n.node_id,
        lastPushAt: n.last_push_at,
        lastPullAt: n.last_pull_at,
        pushCursor: Number(n.push_cursor),
        pullCursor: Number(n.pull_cursor),
        waitingToPush: Number(n.reported_backlog),
        waitingToPull: await countEntries(db, practice, Number(n.pull_cursor)),
      });
    }
    const times = nodes.flatMap((n) => [n.last_push_at, n.last_pull_at]).filter((t): t is string => !!t).sort();
    out.push({
      practice,
      entriesAtHub,
      lastExchangeAt: times[times.length - 1] ?? null,
      waitingAtNodes: nodeStates.reduce((a, n) => a + n.waitingToPush, 0),
      backlogToNodes: nodeStates.reduce((a, n) => Math.max(a, n.waitingToPull), 0),
      nodes: nodeStates,
    });
  }
  return out;
}

export async function startHub(options: HubOptions): Promise<RunningHub> {
  if (!/^postgres(ql)?:\/\//.test(options.databaseUrl)) {
    throw new SteadfastError('invalid', `A hub needs a PostgreSQL URL, not "${options.databaseUrl}"`, { field: '--database-url', hint: 'Use postgres://user@host:port/database' });
  }
  const base = await openStore({
    url: options.databaseUrl,
    ...(options.pgSchema ? { pgSchema: options.pgSchema } : {}),
    nodeId: HUB_NODE_ID,
    practice: HUB_SELF,
    migrations: [...syncMigrations, ...hubMigrations, ...inboxMigrations, ...regionHubMigrations, ...hubStaffMigrations, ...hubBlobMigrations, ...incidentHubMigrations],
  });
  const stores = new HubStores(base);
  const receiver = new SyncReceiver({
    db: base.db,
    storeFor: (p) => stores.storeFor(p),
    // The hub edits no records, but it keeps an index of which records each practice shares.
    afterApply: (store, entries) => indexShares(base.db, store, entries),
    sharedFor: (practice, request) => sharedBatchFor(base.db, (p) => stores.storeFor(p), practice, request),
  });
  const adminToken = options.adminToken ?? process.env.STEADFAST_HUB_ADMIN_TOKEN;

  const app = Fastify({ logger: options.logger ? { level: 'info' } : false, forceCloseConnections: true });
  registerErrorHandling(app);
  // The patient's form is served here too (a page on a public host): the staff app's CSP and headers.
  await registerSecurityHeaders(app);
  // Hub staff (region-lead, service-desk): the node's sign-in, two-factor and audit, before every route.
  const staff: HubStaff = await installHubStaff(app, base, options.signInRateLimit ? { signInRateLimit: options.signInRateLimit } : {});
  await registerSyncRoutes(app, () => receiver);
  // Documents' bytes, streamed and content-addressed, for the practices the hub serves (documents/blob-sync.ts).
  await registerBlobRoutes(app, { db: base.db, sinkFor: async (p) => ((await stores.storeFor(p)) ? hubBlobSink(base.db, p) : undefined) });
  const requireAdmin = async (request: { headers: Record<string, unknown> }) => {
    if (!adminToken || request.headers.authorization !== `Bearer ${adminToken}`) {
      throw new SteadfastError('unauthenticated', 'The hub admin API needs the admin token', { hint: 'Send Authorization: Bearer <STEADFAST_HUB_ADMIN_TOKEN>' });
    }
  };
  // The admin token is checked by the route itself (not a staff session), so the routes are public to the auth hook.
  app.get('/api/hub/practices', { config: { public: true }, preHandler: requireAdmin }, async () => ({ checkedAt: new Date().toISOString(), practices: await practiceStates(base.db) }));
  app.post<{ Body: { practice?: string; nodeId?: string } }>('/api/hub/nodes', { config: { public: true }, preHandler: requireAdmin }, async (request, reply) => {
    const { practice, nodeId } = request.body ?? {};
    if (!practice || !/^[A-Z0-9]{3,10}$/.test(practice)) throw new SteadfastError('invalid', 'practice must be an ODS code', { field: 'practice' });
    if (!nodeId) throw new SteadfastError('required', 'nodeId is required', { field: 'nodeId' });
    const key = await addNode(practice, nodeId);
    return reply.code(201).send({ practice, nodeId, key });
  });
  // The region's view: heartbeats in, every practice's status and backlog out (region/hub.ts).
  await registerRegionHub(app, base.db, { staff: requireHubRole('view-region'), admin: requireAdmin }, options.clock, options.region?.heartbeatIntervalMs);
  // Incidents: opened and updated by region leads, polled by the affected practices' nodes (incidents/hub.ts).
  const incidentsHub = await registerIncidentsHub(app, base.db, staff.audit, options.clock);
  // Online consultations: the hub's one exception to never writing records (online-consultations/hub.ts).
  const consultations = registerHubSubmissions(app, (p) => stores.storeFor(p), options.onlineConsultations);
  await registerPatientForm(app, undefined);
  warmHubWriteCheck();
  app.get('/healthz', { config: { public: true } }, async () => ({ ok: true }));
  // Last: the staff app for hub staff (the region's pages), and index.html for unknown non-API paths.
  await registerHubWebApp(app);

  async function addNode(practice: string, nodeId: string, key = newNodeKey()): Promise<string> {
    await registerPeer(base.db, { practice, nodeId, key });
    return key;
  }

  await app.listen({ port: options.port ?? 8443, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  const port = address && typeof address !== 'string' ? address.port : options.port;
  return {
    app,
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    db: base.db,
    addNode,
    storeFor: (p) => stores.storeFor(p),
    staff,
    practices: () => practiceStates(base.db),
    close: async () => {
      incidentsHub.close();
      await app.close();
      await consultations.close();
      await staff.close();
      await base.close();
    },
  };
}

