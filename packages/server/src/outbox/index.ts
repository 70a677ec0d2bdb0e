/**
 * The outbox capability: the one way out of the node (contract.ts). Capabilities queue messages with
 * `enqueue` (queue.ts) in their own transactions and declare the channels that deliver them
 * (`outboxChannels`); this capability owns the table and runs the one drainer (drainer.ts) over
 * every capability's channels, with a status-bar entry per service and the backlog of what waits,
 * and the outbox screen's routes (routes.ts: GET /api/outbox, retry and cancel of a stopped message).
 */
import type { BackgroundService, Capability } from '../capability.ts';
import { registerStatusProvider } from '../status/providers.ts';
import { createOutboxDrainer } from './drainer.ts';
import { drainerOptionsOf } from './options.ts';
import { registerOutboxRoutes } from './routes.ts';
import { outboxBacklog, outboxStatusProviders } from './status.ts';
import { outboxMigrations } from './tables.ts';

export const outbox: Capability = {
  name: 'outbox',
  migrations: outboxMigrations,
  routes: registerOutboxRoutes,
  services(deps, log, context) {
    const options = deps.config.outbox;
    if (options?.disabled || context.outboxChannels.length === 0) return [];
    const { store } = deps;
    const drainer = createOutboxDrainer(store.db, store.practice, context.outboxChannels, {
      ...drainerOptionsOf(options),
      onError: (err, message) => log.warn({ err, outboxId: message?.id, channel: message?.channel }, 'outbox delivery'),
    });
    let removers: Array<() => void> = [];
    const service: BackgroundService = {
      name: `outbox drainer (${drainer.channels().join(', ')})`,
      async start() {
        removers = Object.entries(outboxStatusProviders(store.db, store.practice, context.outboxChannels, drainer)).map(([name, provider]) => registerStatusProvider(name, provider, store));
        drainer.start();
      },
      async stop() {
        removers.forEach((remove) => remove());
        await drainer.stop();
      },
    };
    return [service];
  },
  backlog: (deps) => outboxBacklog(deps.store.db, deps.store.practice),
};
