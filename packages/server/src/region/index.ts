/**
 * The region capability of a practice node: the heartbeat to the regional hub (heartbeat.ts), sent
 * where the change log goes and signed with the same key. The hub's side (heartbeats in, the region's
 * figures out) is hub.ts, registered by the hub (hub/index.ts).
 */
import type { BackgroundService, Capability } from '../capability.ts';
import { loadSyncConfig, syncClientOf } from '../sync/index.ts';
import { HeartbeatSender } from './heartbeat.ts';
import { regionCli } from './options.ts';
import { regionNodeMigrations } from './tables.ts';

export { HeartbeatSender } from './heartbeat.ts';
export type { RegionOptions } from './options.ts';

export const region: Capability = {
  name: 'region',
  migrations: regionNodeMigrations,
  cli: regionCli,
  services(deps, _log, context): BackgroundService[] {
    if (deps.config.role !== 'node' || deps.config.region?.heartbeatOff) return [];
    const upstream = loadSyncConfig(deps.config.dataDir).upstream;
    // A standby's upstream is its primary node, which reports for it; only a node syncing with the hub sends.
    if (!upstream || (upstream.name ?? 'hub') !== 'hub') return [];
    const sender = new HeartbeatSender({
      store: deps.store,
      url: upstream.url,
      key: upstream.key,
      backlog: context.backlog,
      hubView: async () => {
        const client = syncClientOf(deps.store);
        if (!client) return null;
        const s = await client.status();
        return { reachable: s.reachable, lastExchangeAt: s.lastSuccessAt };
      },
      ...(deps.config.dataDir ? { dataDir: deps.config.dataDir } : {}),
      ...(deps.config.region?.heartbeatIntervalMs ? { intervalMs: deps.config.region.heartbeatIntervalMs } : {}),
      ...(deps.config.region?.heartbeatMinIntervalMs ? { minIntervalMs: deps.config.region.heartbeatMinIntervalMs } : {}),
    });
    return [
      {
        name: 'heartbeat to the regional hub',
        start: async () => sender.start(),
        stop: async () => sender.stop(),
        status: {
          name: 'region',
          provider: {
            label: 'Region heartbeat',
            staleAfterMs: 5 * 60_000,
            report: async () => {
              const s = sender.status();
              if (s.lastError || !s.lastSentAt) return { state: 'disconnected', ...(s.lastSentAt ? { lastContact: s.lastSentAt } : {}), detail: (s.lastError ?? 'No heartbeat sent yet').slice(0, 200) };
              return { state: 'connected', lastContact: s.lastSentAt, detail: `Heartbeat ${s.lastSeq} received by the hub` };
            },
          },
        },
      },
    ];
  },
};
