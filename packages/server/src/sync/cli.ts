/**
 * Sync's command-line pieces, called from cli/main.ts:
 *   steadfast serve --role hub --database-url postgres://...   (serveHub)
 *   steadfast hub add-node --database-url ... --practice B82005 --node <node id>   → prints the key
 *   steadfast sync join --hub http://hub:8443 --key <key>      (writes <data>/sync.json)
 *   steadfast sync add-standby --node <standby node id>          (on the primary; prints the standby's key)
 *   steadfast status                                            (syncStatusLines)
 */
import type { Command } from 'commander';
import { SteadfastError } from '@steadfast/domain';
import type { RecordStore } from '@steadfast/store';
import { startHub } from '../hub/index.ts';
import { onlineConsultationOptionsOf } from '../online-consultations/options.ts';
import { registerHubStaffCommands } from '../region/cli.ts';
import { regionCli } from '../region/options.ts';
import { loadSyncConfig, saveSyncConfig } from './index.ts';
import { countAfter } from './receiver.ts';
import { syncDb } from './tables.ts';

export interface HubServeOptions {
  databaseUrl?: string;
  /** Online consultations taken at the hub (the serve flags --oc-hours, --oc-rate-per-minute). */
  ocHours?: string;
  ocRatePerMinute?: string;
  /** The idle heartbeat interval the region's nodes use (the serve flag --heartbeat-interval): three missed and a practice shows unreachable. */
  heartbeatInterval?: string;
  port?: string;
  host?: string;
  log?: boolean;
}

/** `steadfast serve --role hub`: serve the hub until SIGINT/SIGTERM. */
export async function serveHub(options: HubServeOptions): Promise<void> {
  const databaseUrl = options.databaseUrl ?? process.env.STEADFAST_DATABASE_URL;
  if (!databaseUrl) throw new SteadfastError('required', 'A hub needs --database-url postgres://...', { field: '--database-url', hint: 'The hub keeps every practice’s log in PostgreSQL' });
  const port = options.port ?? process.env.PORT;
  const hub = await startHub({
    databaseUrl,
    port: port === undefined ? 8443 : Number(port),
    host: options.host ?? process.env.HOST ?? '127.0.0.1',
    ...(options.log ? { logger: true } : {}),
    onlineConsultations: onlineConsultationOptionsOf({ ...options }),
    ...(options.heartbeatInterval !== undefined ? { region: regionCli.configure({ heartbeatInterval: options.heartbeatInterval }, { role: 'hub', dataDir: '', dialect: 'postgres' }).region! } : {}),
  });
  process.stdout.write(`Steadfast hub at ${hub.url}\n  practices: ${hub.url}/api/hub/practices (Authorization: Bearer $STEADFAST_HUB_ADMIN_TOKEN)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await hub.close();
}

/** Lines for `steadfast status`: what this node knows about its sync without contacting anyone. */
export async function syncStatusLines(store: RecordStore, dataDir: string | undefined): Promise<string[]> {
  const config = loadSyncConfig(dataDir);
  if (!config.upstream) return ['sync:      not configured (steadfast sync join --hub URL --key KEY)'];
  const peer = config.upstream.name ?? 'hub';
  const row = await syncDb(store.db).selectFrom('sync_cursors').selectAll().where('practice', '=', store.practice).where('peer', '=', peer).executeTakeFirst();
  const waiting = await countAfter(store, Number(row?.push_cursor ?? 0));
  return [
    `sync:      ${peer} at ${config.upstream.url}`,
    `  last successful exchange: ${row?.last_exchange_at ?? 'never'}`,
    `  waiting to send: ${waiting}`,
    `  (live state, hub reachable or not: GET /api/sync/status on the running node)`,
  ];
}

/** Adds `hub add-node` and `sync join` to the program. */
export function registerSyncCommands(program: Command): void {
  const hub = program.command('hub').description('regional hub administration');
  // Hub staff accounts (region-lead, service-desk): region/cli.ts.
  registerHubStaffCommands(hub);
  hub
    .command('add-node')
    .description('allow a practice node to sync with this hub; prints the key to configure on it')
    .requiredOption('--practice <ods>', 'ODS code of the node’s practice')
    .requiredOption('--node <id>', 'the node id (steadfast status on that node shows it)')
    .option('--database-url <url>', 'the hub’s PostgreSQL (env STEADFAST_DATABASE_URL)')
    .action(async (options: { practice: string; node: string; databaseUrl?: string }) => {
      const url = options.databaseUrl ?? process.env.STEADFAST_DATABASE_URL;
      if (!url) throw new SteadfastError('required', 'add-node needs --database-url postgres://...', { field: '--database-url' });
      const { openStore } = await import('@steadfast/store');
      const { registerPeer } = await import('./receiver.ts');
      const { newNodeKey } = await import('./protocol.ts');
      const { syncMigrations } = await import('./tables.ts');
      const store = await openStore({ url, nodeId: 'hub', practice: 'HUB', migrations: syncMigrations });
      try {
        const key = newNodeKey();
        await registerPeer(store.db, { practice: options.practice, nodeId: options.node, key });
        process.stdout.write(`node ${options.node} may now sync practice ${options.practice}\nkey: ${key}\n`);
      } finally {
        await store.close();
      }
    });

  const sync = program.command('sync').description('replication with the regional hub (or, for a standby, with the primary node)');
  sync
    .command('add-standby')
    .description('on the primary node: allow a standby node of this practice to sync with it; prints the key for the standby')
    .requiredOption('--node <id>', 'the standby’s node id (steadfast status on the standby shows it)')
    .option('--data <dir>', 'data directory of this (primary) node (env STEADFAST_DATA)')
    .option('--database-url <url>', 'PostgreSQL URL when this node keeps its record there')
    .action(async (options: { node: string; data?: string; databaseUrl?: string }) => {
      const { withNode } = await import('../cli/common.ts');
      const { registerPeer } = await import('./receiver.ts');
      const { newNodeKey } = await import('./protocol.ts');
      await withNode(options, async (node) => {
        const key = newNodeKey();
        await registerPeer(node.store.db, { practice: node.store.practice, nodeId: options.node, key });
        process.stdout.write(
          `standby ${options.node} may now sync practice ${node.store.practice} with this node\n` +
            `on the standby: steadfast sync join --hub <this node's URL> --name primary --key ${key}\n`,
        );
      });
    });
  sync
    .command('join')
    .description('point this node at its hub (or primary) with the key the hub issued')
    .requiredOption('--hub <url>', 'base URL of the hub, e.g. http://hub.example:8443')
    .requiredOption('--key <key>', 'this node’s key (steadfast hub add-node prints it)')
    .option('--name <peer>', 'name of the peer (hub, or primary for a standby)', 'hub')
    .option('--data <dir>', 'data directory (env STEADFAST_DATA)')
    .action(async (options: { hub: string; key: string; name: string; data?: string }) => {
      const { resolveDataDir } = await import('../node/identity.ts');
      const dir = resolveDataDir(options.data);
      new URL(options.hub);
      saveSyncConfig(dir, { ...loadSyncConfig(dir, {}), upstream: { url: options.hub, key: options.key, name: options.name } });
      process.stdout.write(`sync: ${dir} will exchange with ${options.hub} when served\n`);
    });
}
