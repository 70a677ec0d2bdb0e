/**
 * The one way the app talks to the node. Same-origin cookies carry the session; the workstation name
 * rides on every request so audit entries and panic alarms know where the user is sitting.
 */
import type { Bundle, OperationOutcome, Resource } from './fhirTypes.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly outcome?: OperationOutcome,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  /** The user's role may not see this (receptionist asking for clinical data). */
  get forbidden(): boolean {
    return this.status === 403;
  }
}

const WORKSTATION_KEY = 'steadfast.workstation';

export function getWorkstation(): string {
  try {
    return localStorage.getItem(WORKSTATION_KEY) ?? '';
  } catch {
    return '';
  }
}

export function setWorkstation(name: string): void {
  localStorage.setItem(WORKSTATION_KEY, name.trim());
}

/** Fired when the node says the session is gone, so the app shows the sign-in page. */
export const UNAUTHENTICATED_EVENT = 'steadfast:unauthenticated';

function messageOf(body: unknown, status: number): string {
  const outcome = body as OperationOutcome | undefined;
  const diag = outcome?.issue?.map((i) => i.diagnostics).filter(Boolean).join('; ');
  return diag || `The node answered ${status}`;
}

export async function api<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const headers = new Headers(init.headers);
  const ws = getWorkstation();
  if (ws) headers.set('x-steadfast-workstation', ws);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', path.startsWith('/fhir') ? 'application/fhir+json' : 'application/json');
    body = JSON.stringify(init.json);
  }
  headers.set('accept', 'application/json, application/fhir+json');
  const response = await fetch(path, { ...init, body, headers, credentials: 'same-origin' });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    // Asking who is signed in (/api/auth/me) answers 401 on a first visit: that is not a session ending.
    if (response.status === 401 && !path.startsWith('/api/auth/login') && !path.startsWith('/api/auth/me')) window.dispatchEvent(new Event(UNAUTHENTICATED_EVENT));
    throw new ApiError(response.status, messageOf(parsed, response.status), parsed as OperationOutcome | undefined);
  }
  return parsed as T;
}

/** Search one FHIR type; returns the matching resources (not included ones). */
export async function fhirSearch<T extends Resource>(type: string, params: Record<string, string> | URLSearchParams | string, signal?: AbortSignal): Promise<T[]> {
  const query = typeof params === 'string' ? params : new URLSearchParams(params).toString();
  const bundle = await api<Bundle>(`/fhir/R4/${type}?${query}`, signal ? { signal } : {});
  return (bundle.entry ?? []).map((e) => e.resource as T).filter((r): r is T => Boolean(r) && r.resourceType === type);
}

export async function fhirRead<T extends Resource>(type: string, id: string): Promise<T> {
  return api<T>(`/fhir/R4/${type}/${encodeURIComponent(id)}`);
}

/** A section's data, or why the user cannot see it. */
export type Loaded<T> = { state: 'loading' } | { state: 'ok'; value: T } | { state: 'forbidden' } | { state: 'error'; message: string };

export async function load<T>(fn: () => Promise<T>): Promise<Loaded<T>> {
  try {
    return { state: 'ok', value: await fn() };
  } catch (err) {
    if (err instanceof ApiError && err.forbidden) return { state: 'forbidden' };
    return { state: 'error', message: err instanceof Error ? err.message : String(err) };
  }
}
