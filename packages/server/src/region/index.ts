/**
 * The region capability of a practice node: the heartbeat to the regional hub (heartbeat.ts), sent
 * where the change log goes and signed with the same key. The hub's side (heartbeats in, the region's
 * figures out) is hub.ts, registered by the hub (hub/index.ts).
 */
import type { BackgroundService, Capability } from '../capability.ts';
import { loadSyncConfig, syncClientOf } from '../sync/index.ts';
import { HeartbeatSender } from './heartbeat.ts';
import { HealthRecorder, healthRecorderFor } from './health.ts';
import { healthNodeMigrations } from './health-tables.ts';
import { regionCli } from './options.ts';
import { regionNodeMigrations } from './tables.ts';

export { HeartbeatSender } from './heartbeat.ts';
export type { RegionOptions } from './options.ts';

export const region: Capability = {
  name: 'region',
  migrations: [...regionNodeMigrations, ...healthNodeMigrations],
  cli: regionCli,
  // The node's own health (health.ts): every answered request counted by route pattern, whichever capability owns it.
  async routes(app, deps) {
    if (deps.config.role !== 'node') return;
    recorderOf(deps.store).install(app);
  },
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
      health: recorderOf(deps.store),
    });
    return [
      {
        name: 'heartbeat to the regional hub',
        start: async () => sender.start(),
        stop: async () => {
          await sender.stop();
          // The partial window so far is kept (merged with the rest of it after a restart).
          await recorderOf(deps.store).flushNow();
        },
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

function recorderOf(store: Parameters<typeof healthRecorderFor>[0]): HealthRecorder {
  return healthRecorderFor(store, () => new HealthRecorder({ store, exchangeTotals: () => syncClientOf(store)?.exchangeTotals() ?? null }))!;
}
