/**
 * The sync capability of a practice node:
 * - as a sender: when an upstream (the regional hub, or for a standby its primary node) is configured
 *   in `<data>/sync.json` or STEADFAST_SYNC_URL + STEADFAST_SYNC_KEY, exchange with it continuously;
 * - as a receiver: POST /api/sync/push|pull for standby nodes registered with this node;
 * - GET /api/sync/status and the "Regional hub" entry of the status bar.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { SteadfastError } from '@steadfast/domain';
import type { RecordStore } from '@steadfast/store';
import type { BacklogFigure } from '@steadfast/domain/api';
import type { AppDeps, BackgroundService, Capability } from '../capability.ts';
import type { ProviderReport } from '../status/providers.ts';
import { SyncClient, type SyncStatus } from './client.ts';
import { resolveConflicts } from './conflicts.ts';
import { HttpTransport, registerSyncRoutes } from './http.ts';
import { SyncReceiver } from './receiver.ts';
import { syncMigrations } from './tables.ts';

export { SyncClient, type SyncStatus } from './client.ts';
export { SyncReceiver, registerPeer, countAfter } from './receiver.ts';

export { syncMigrations };
export { HttpTransport, registerSyncRoutes } from './http.ts';
export { resolveConflicts } from './conflicts.ts';

export const SYNC_CONFIG_FILE = 'sync.json';

export interface SyncConfig {
  upstream?: {
    /** e.g. http://hub.example:8443 */
    url: string;
    /** This node's key, issued when the node was registered upstream. */
    key: string;
    /** Name of the peer in sync_cursors and the status bar (default `hub`). */
    name?: string;
  };
  pollMs?: number;
  /** Backoff bounds while the peer is unreachable (defaults 500 ms and 60 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Entries per batch (default 500). */
  batchSize?: number;
}

export function loadSyncConfig(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): SyncConfig {
  let config: SyncConfig = {};
  const file = dataDir ? join(dataDir, SYNC_CONFIG_FILE) : undefined;
  if (file && existsSync(file)) {
    try {
      config = JSON.parse(readFileSync(file, 'utf8')) as SyncConfig;
    } catch (err) {
      throw new SteadfastError('invalid', `${file} is not valid JSON (${(err as Error).message})`, { field: file, hint: 'Fix or delete it, then run `steadfast sync join` again' });
    }
  }
  if (env.STEADFAST_SYNC_URL && env.STEADFAST_SYNC_KEY) config = { ...config, upstream: { url: env.STEADFAST_SYNC_URL, key: env.STEADFAST_SYNC_KEY, name: config.upstream?.name ?? 'hub' } };
  return config;
}

export function saveSyncConfig(dataDir: string, config: SyncConfig): void {
  writeFileSync(join(dataDir, SYNC_CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

/** Clients per store, so tests with several nodes in one process keep theirs apart. */
const clients = new WeakMap<object, SyncClient>();

export function syncClientOf(store: RecordStore): SyncClient | undefined {
  return clients.get(store);
}

/** The status bar's view of sync: pessimistic, never "connected" on an old success. */
export function hubReport(status: SyncStatus): ProviderReport {
  const queued = status.waitingToPush + (status.waitingToPull ?? 0);
  if (status.state === 'never-connected') return { state: 'disconnected', queued, detail: status.lastError ?? 'Not yet reached the hub since this node started' };
  if (!status.reachable) {
    return {
      state: 'disconnected',
      ...(status.since ? { since: status.since } : {}),
      queued,
      ...(status.lastSuccessAt ? { lastContact: status.lastSuccessAt } : {}),
      detail: `${status.waitingToPush} to send${status.lastError ? `; ${status.lastError}` : ''}`.slice(0, 200),
    };
  }
  return {
    state: 'connected',
    ...(status.since ? { since: status.since } : {}),
    queued,
    ...(status.lastSuccessAt ? { lastContact: status.lastSuccessAt } : {}),
    detail: `${status.waitingToPush} to send, ${status.waitingToPull ?? 0} to receive`,
  };
}

/** The sender side: exchange with the configured upstream for as long as the node listens. */
function syncServices(deps: AppDeps): BackgroundService[] {
  const store = deps.store;
  const config = deps.config.role === 'node' ? loadSyncConfig(deps.config.dataDir) : {};
  if (!config.upstream) return [];
  const client = new SyncClient({
    store,
    peer: config.upstream.name ?? 'hub',
    transport: new HttpTransport(config.upstream.url),
    key: config.upstream.key,
    afterApply: async (s, entries) => void (await resolveConflicts(s, entries)),
    ...(config.pollMs ? { pollMs: config.pollMs } : {}),
    ...(config.minBackoffMs ? { minBackoffMs: config.minBackoffMs } : {}),
    ...(config.maxBackoffMs ? { maxBackoffMs: config.maxBackoffMs } : {}),
    ...(config.batchSize ? { batchSize: config.batchSize } : {}),
  });
  clients.set(store, client);
  const peer = config.upstream.name ?? 'hub';
  // The bar's sync slot is called `hub`; a standby's upstream is its primary node, and says so.
  const label = peer === 'hub' ? 'Regional hub' : `Sync with ${peer} node`;
  return [
    {
      name: `sync with ${peer}`,
      start: async () => client.start(),
      stop: async () => {
        await client.stop();
        if (clients.get(store) === client) clients.delete(store);
      },
      status: { name: 'hub', provider: { label, report: async () => hubReport(await client.status()), staleAfterMs: 60_000 } },
    },
  ];
}

/** Entries written here and not yet at the upstream: the hub's "waiting to replicate" figure. */
async function syncBacklog(deps: AppDeps): Promise<BacklogFigure[]> {
  const client = syncClientOf(deps.store);
  if (!client) return [];
  const status = await client.status();
  return [{ kind: 'replication-waiting', label: 'Changes waiting to reach the hub', count: status.waitingToPush }];
}

async function registerSync(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const store = deps.store;
  const receiver = new SyncReceiver({
    db: store.db,
    storeFor: async (practice) => (practice === store.practice ? store : undefined),
    afterApply: async (s, entries) => void (await resolveConflicts(s, entries)),
  });
  await registerSyncRoutes(app, () => receiver);

  app.get('/api/sync/status', async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
    const client = syncClientOf(store);
    if (!client) return { configured: false, practice: store.practice, nodeId: store.nodeId };
    return { configured: true, practice: store.practice, nodeId: store.nodeId, ...(await client.status()) };
  });
}

export const sync: Capability = {
  name: 'sync',
  migrations: syncMigrations,
  routes: registerSync,
  services: syncServices,
  backlog: syncBacklog,
};
