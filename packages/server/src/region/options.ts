/**
 * The region capability's options (`deps.config.region`) and the `steadfast serve` flags that set them.
 * The hub's URL and the key come from the sync configuration: a heartbeat goes where the change log goes.
 */
import { SteadfastError } from '@steadfast/domain';
import type { CapabilityCli } from '../capability.ts';

export interface RegionOptions {
  /** Idle heartbeat interval (default 60 s). */
  heartbeatIntervalMs?: number;
  /** At most one heartbeat this often (default 15 s). */
  heartbeatMinIntervalMs?: number;
  /** Send no heartbeats (a node that is not part of a region's view). */
  heartbeatOff?: boolean;
}

declare module '../capability.ts' {
  interface CapabilityOptions {
    region?: RegionOptions;
  }
}

export const regionCli: CapabilityCli = {
  flags: [
    { flags: '--heartbeat-interval <seconds>', description: 'Seconds between idle heartbeats to the regional hub (default 60)' },
    { flags: '--no-heartbeat', description: 'Send no heartbeats to the regional hub' },
  ],
  configure(values) {
    const region: RegionOptions = {};
    if (values.heartbeatInterval !== undefined) {
      const seconds = Number(values.heartbeatInterval);
      if (!Number.isInteger(seconds) || seconds < 5 || seconds > 3600) {
        throw new SteadfastError('invalid', `--heartbeat-interval must be a whole number of seconds from 5 to 3600, not "${String(values.heartbeatInterval)}"`, { field: '--heartbeat-interval', hint: 'e.g. --heartbeat-interval 60' });
      }
      region.heartbeatIntervalMs = seconds * 1000;
    }
    if (values.heartbeat === false) region.heartbeatOff = true;
    return { region };
  },
};
