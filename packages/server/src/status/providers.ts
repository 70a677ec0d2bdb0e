/**
 * The status bar's providers: what the node can reach and how much is waiting. Capabilities declare
 * theirs in the capability contract (`status`, or a background service's `status`); the app registers
 * them here, scoped to the node's store:
 *
 *   registerStatusProvider('hub', () => ({ state: 'connected', since, queued: 12, lastContact }), deps.store);
 *
 * The bar must never claim "connected" when it is not, so the report is pessimistic by construction:
 * a provider that throws, takes longer than PROVIDER_TIMEOUT_MS or answers nonsense is reported as
 * "unknown"; "connected" whose lastContact is older than `staleAfterMs` becomes "unknown"; and the hub
 * shows "not configured" until the sync capability registers a provider for it.
 */
import type { ServiceState, ServiceStatus } from '@steadfast/domain/api';

export type { ServiceState, ServiceStatus };
const states: readonly ServiceState[] = ['connected', 'disconnected', 'degraded', 'not-configured', 'unknown'];

export interface ProviderReport {
  state: ServiceState;
  /** When the service entered this state (ISO instant). */
  since?: string;
  /** How many items are waiting in this service's queue (outbox, inbox...). */
  queued?: number;
  /** When the node last heard from the service successfully (ISO instant); required for "connected" to stand. */
  lastContact?: string;
  /** A short explanation for staff ("MESH mailbox refused the certificate"). */
  detail?: string;
}

export interface StatusProvider {
  /** Shown in the status bar, e.g. "Regional hub", "Pathology (MESH)". */
  label: string;
  report: () => ProviderReport | Promise<ProviderReport>;
  /** A "connected" older than this is reported as "unknown" (default 2 minutes). */
  staleAfterMs?: number;
}


const PROVIDER_TIMEOUT_MS = 1500;
const DEFAULT_STALE_MS = 120_000;

/** Providers for every node in this process, and per store (one node in a test process may differ from another). */
const global = new Map<string, StatusProvider>();
const perStore = new WeakMap<object, Map<string, StatusProvider>>();

/**
 * Add or replace the provider called `name`. Pass the node's store to scope it to that node (tests
 * run several nodes in one process); without it the provider applies to every node in the process.
 * Returns a function that removes it.
 */
export function registerStatusProvider(
  name: string,
  provider: StatusProvider | StatusProvider['report'],
  scope?: object,
): () => void {
  const p: StatusProvider = typeof provider === 'function' ? { label: defaultLabels[name] ?? name, report: provider } : provider;
  let map = global;
  if (scope) {
    map = perStore.get(scope) ?? new Map();
    perStore.set(scope, map);
  }
  map.set(name, p);
  return () => {
    if (map.get(name) === p) map.delete(name);
  };
}

const defaultLabels: Record<string, string> = { hub: 'Regional hub' };

/** Services shown even before anyone registers them, so their absence is visible. */
const placeholders: Record<string, ServiceStatus> = {
  hub: { name: 'hub', label: 'Regional hub', state: 'not-configured', detail: 'Sync with the regional hub is not set up on this node' },
};

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** Turn whatever a provider said into something the bar can show without overclaiming. */
export function sanitise(name: string, label: string, r: unknown, now: number, staleAfterMs = DEFAULT_STALE_MS): ServiceStatus {
  const report = (r ?? {}) as Partial<ProviderReport>;
  const out: ServiceStatus = { name, label, state: states.includes(report.state as ServiceState) ? (report.state as ServiceState) : 'unknown' };
  if (out.state === 'unknown' && report.state !== 'unknown') out.detail = `status check gave an unrecognised answer`;
  if (typeof report.since === 'string') out.since = report.since;
  if (typeof report.queued === 'number' && Number.isFinite(report.queued) && report.queued >= 0) out.queued = Math.floor(report.queued);
  if (typeof report.lastContact === 'string') out.lastContact = report.lastContact;
  if (typeof report.detail === 'string') out.detail = report.detail.slice(0, 200);
  if (out.state === 'connected') {
    const last = report.lastContact ? Date.parse(report.lastContact) : NaN;
    if (!Number.isFinite(last)) {
      out.state = 'unknown';
      out.detail = 'reported connected without a time of last contact';
    } else if (now - last > staleAfterMs) {
      out.state = 'unknown';
      out.detail = `no contact since ${new Date(last).toISOString()}`;
      out.since = new Date(last).toISOString();
    }
  }
  return out;
}

export async function collectStatus(scope?: object, now = () => Date.now()): Promise<ServiceStatus[]> {
  const providers = new Map(global);
  for (const [k, v] of (scope && perStore.get(scope)) ?? []) providers.set(k, v);
  const names = [...new Set([...Object.keys(placeholders), ...providers.keys()])];
  return Promise.all(
    names.map(async (name) => {
      const p = providers.get(name);
      if (!p) return placeholders[name]!;
      try {
        const report = await withTimeout(Promise.resolve().then(p.report), PROVIDER_TIMEOUT_MS);
        return sanitise(name, p.label, report, now(), p.staleAfterMs);
      } catch (err) {
        return { name, label: p.label, state: 'unknown' as const, detail: `status check failed: ${(err as Error).message}`.slice(0, 200) };
      }
    }),
  );
}

