/**
 * The incidents capability of a practice node (issue 13, item 3): the banner of incidents affecting
 * the practice, learnt from the regional hub by a signed long-poll (node.ts) and kept when the hub goes
 * away; staff acknowledgements and reports, which leave through the one outbox (channel
 * `region-incident`). The hub's side (opening, updates, closing, the incident page, the timeline
 * export, the nodes' poll and messages) is hub.ts, registered by the hub (hub/index.ts).
 */
import type { AppDeps, Capability } from '../capability.ts';
import { loadSyncConfig } from '../sync/index.ts';
import { IncidentWatcher, incidentChannel, registerIncidentRoutes, type HubLink } from './node.ts';
import { incidentNodeMigrations } from './tables.ts';
import './options.ts';

export { incidentHubMigrations } from './tables.ts';
export { registerIncidentsHub } from './hub.ts';

/** The hub this node answers to: the configured one (tests), else the sync upstream when it is the hub. */
export function hubLinkOf(deps: AppDeps): HubLink | undefined {
  if (deps.config.role !== 'node') return undefined;
  if (deps.config.incidents?.hub) return deps.config.incidents.hub;
  const upstream = loadSyncConfig(deps.config.dataDir).upstream;
  // A standby's upstream is its primary node: the primary hears from the hub for the practice.
  if (!upstream || (upstream.name ?? 'hub') !== 'hub') return undefined;
  return { url: upstream.url, key: upstream.key };
}

export const incidents: Capability = {
  name: 'incidents',
  migrations: incidentNodeMigrations,
  routes: (app, deps) => registerIncidentRoutes(app, deps, () => hubLinkOf(deps) !== undefined),
  outboxChannels(deps) {
    const hub = hubLinkOf(deps);
    return hub ? [incidentChannel(hub)] : [];
  },
  services(deps) {
    const hub = hubLinkOf(deps);
    if (!hub) return [];
    const watcher = new IncidentWatcher(deps.store, hub, deps.config.incidents?.pollWaitMs ? { waitMs: deps.config.incidents.pollWaitMs } : {});
    return [{ name: 'incidents from the regional hub', start: async () => watcher.start(), stop: () => watcher.stop() }];
  },
};
