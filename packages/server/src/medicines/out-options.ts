/**
 * Prescriptions out's options (`deps.config.prescriptionsOut`) and the `steadfast serve` flags (or
 * environment variables) that set them. EPS is off (issues wait in the outbox, and can be printed)
 * until an EPS base URL is configured. The bearer token is the practice's: never in the repository.
 */
import { SteadfastError } from '@steadfast/domain';
import type { CapabilityCli } from '../capability.ts';
import type { EpsConnection } from './eps.ts';

export interface PrescriptionsOutOptions {
  eps?: EpsConnection;
  /** How often new issues are queued for EPS from the change log (default 2 s). */
  queueIntervalMs?: number;
  /** Do not run the queue service (tests that call catchUpEpsQueue themselves). */
  queueDisabled?: boolean;
}

declare module '../capability.ts' {
  interface CapabilityOptions {
    prescriptionsOut?: PrescriptionsOutOptions;
  }
}

export function epsConnectionOf(values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): EpsConnection | undefined {
  const baseUrl = (values.epsUrl as string | undefined) ?? env.EPS_BASE_URL;
  if (!baseUrl) return undefined;
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new SteadfastError('invalid', `--eps-url "${baseUrl}" is not a URL`, { field: '--eps-url', hint: 'e.g. https://int.api.service.nhs.uk/electronic-prescriptions' });
  }
  if (url.protocol !== 'https:' && url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') {
    throw new SteadfastError('invalid', `--eps-url "${baseUrl}" must use https (plain http only to this machine, for the local EPS)`, { field: '--eps-url', hint: 'e.g. https://int.api.service.nhs.uk/electronic-prescriptions' });
  }
  const token = (values.epsToken as string | undefined) ?? env.EPS_TOKEN;
  const timeoutRaw = (values.epsTimeoutMs as string | undefined) ?? env.EPS_TIMEOUT_MS;
  const timeoutMs = timeoutRaw === undefined ? undefined : Number(timeoutRaw);
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 120_000)) {
    throw new SteadfastError('invalid', `--eps-timeout-ms "${timeoutRaw}" is not a whole number of milliseconds from 100 to 120000`, { field: '--eps-timeout-ms', hint: 'e.g. 15000' });
  }
  return { baseUrl, ...(token ? { token } : {}), ...(timeoutMs ? { timeoutMs } : {}) };
}

export const prescriptionsOutCli: CapabilityCli = {
  flags: [
    { flags: '--eps-url <url>', description: 'Electronic Prescription Service FHIR API base URL (env EPS_BASE_URL); prescriptions wait in the outbox without one' },
    { flags: '--eps-token <token>', description: 'EPS bearer token (env EPS_TOKEN)' },
    { flags: '--eps-timeout-ms <ms>', description: 'Per EPS request (env EPS_TIMEOUT_MS; default 15000)' },
  ],
  configure(values) {
    const eps = epsConnectionOf(values);
    return eps ? { prescriptionsOut: { eps } } : {};
  },
};
