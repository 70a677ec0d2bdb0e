/** Online consultations' own options (`deps.config.onlineConsultations`). */
import type { OpeningPeriod } from '@steadfast/domain/api';
import { SteadfastError } from '@steadfast/domain';
import type { CapabilityCli } from '../capability.ts';

export interface OnlineConsultationOptions {
  practiceName?: string;
  /** Off: the form shows the closed message. Default on. */
  enabled?: boolean;
  /** Default core hours, Monday to Friday 08:00-18:30 (Europe/London). */
  hours?: OpeningPeriod[];
  /** Requests taken per day (Europe/London); absent for no limit. */
  dailyCapacity?: number;
  closedMessage?: string;
  /** Per client address: at most `max` submissions in `windowMs` (default 10 a minute). */
  rateLimit?: { max: number; windowMs: number };
  /** Urgent or red-flagged requests open longer than this raise the alarm figure (default 30 minutes). */
  urgentThresholdMinutes?: number;
}

declare module '../capability.ts' {
  interface CapabilityOptions {
    onlineConsultations?: OnlineConsultationOptions;
  }
}

export const CORE_HOURS: OpeningPeriod[] = ([1, 2, 3, 4, 5] as const).map((day) => ({ day, opens: '08:00', closes: '18:30' }));

/** Every day, all day: for a drill or a demo, never a practice's real setting. */
export const ALWAYS_OPEN_HOURS: OpeningPeriod[] = ([0, 1, 2, 3, 4, 5, 6] as const).map((day) => ({ day, opens: '00:00', closes: '24:00' }));

/**
 * `steadfast serve` flags (node and hub alike), falling back to the environment:
 *   --oc-hours core|always          (STEADFAST_OC_HOURS; default core hours)
 *   --oc-rate-per-minute <n>        (STEADFAST_OC_RATE_PER_MINUTE; submissions per client address, default 10)
 */
export function onlineConsultationOptionsOf(values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): OnlineConsultationOptions {
  const hours = (values.ocHours as string | undefined) ?? env.STEADFAST_OC_HOURS;
  if (hours !== undefined && hours !== 'core' && hours !== 'always') throw new SteadfastError('invalid', `--oc-hours "${hours}" is not core or always`, { field: '--oc-hours', hint: 'core (Monday to Friday 08:00-18:30) or always' });
  const rateRaw = (values.ocRatePerMinute as string | undefined) ?? env.STEADFAST_OC_RATE_PER_MINUTE;
  const rate = rateRaw === undefined ? undefined : Number(rateRaw);
  if (rate !== undefined && (!Number.isInteger(rate) || rate < 1)) throw new SteadfastError('invalid', `--oc-rate-per-minute "${rateRaw}" is not a whole number above 0`, { field: '--oc-rate-per-minute', hint: 'e.g. 10' });
  return { ...(hours === 'always' ? { hours: ALWAYS_OPEN_HOURS } : {}), ...(rate ? { rateLimit: { max: rate, windowMs: 60_000 } } : {}) };
}

export const onlineConsultationsCli: CapabilityCli = {
  flags: [
    { flags: '--oc-hours <core|always>', description: 'When online consultations are open (env STEADFAST_OC_HOURS; default core hours, Monday to Friday 08:00-18:30)' },
    { flags: '--oc-rate-per-minute <n>', description: 'Online consultation submissions per client address per minute (env STEADFAST_OC_RATE_PER_MINUTE; default 10)' },
  ],
  configure(values) {
    const o = onlineConsultationOptionsOf(values);
    return Object.keys(o).length ? { onlineConsultations: o } : {};
  },
};
