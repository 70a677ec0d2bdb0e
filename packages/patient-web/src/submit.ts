/**
 * Sending the form. The submission id is made on the device once and kept in sessionStorage, so a
 * retry after a network error (or a reload) re-sends the same id and the practice stores it once.
 */
import type { ServiceOpening, SubmissionAccepted, SubmissionPayload } from '@steadfast/domain/api';

const ID_KEY = 'steadfast.oc.submissionId';

export function submissionId(): string {
  let id = sessionStorage.getItem(ID_KEY);
  if (!id) {
    id = crypto.randomUUID();
    sessionStorage.setItem(ID_KEY, id);
  }
  return id;
}

/** After a stored submission: the next request is a new one. */
export function forgetSubmissionId(): void {
  sessionStorage.removeItem(ID_KEY);
}

/** The practice code from /consult/<practice>/. */
export function practiceFromPath(pathname: string = location.pathname): string | undefined {
  const m = /^\/consult\/([A-Za-z0-9]{3,10})\/?/.exec(pathname);
  return m?.[1]?.toUpperCase();
}

export class SubmitError extends Error {
  constructor(
    message: string,
    /** field -> message, from the OperationOutcome's issue[].expression. */
    readonly fields: Record<string, string>,
    readonly network: boolean,
  ) {
    super(message);
  }
}

const base = (practice: string) => `/api/public/online-consultations/${encodeURIComponent(practice)}`;

export async function fetchOpening(practice: string): Promise<ServiceOpening> {
  const r = await fetch(`${base(practice)}/opening`, { headers: { accept: 'application/json' } });
  if (!r.ok) throw new Error(`The practice's service did not answer (${r.status})`);
  return (await r.json()) as ServiceOpening;
}

interface Outcome {
  issue?: Array<{ diagnostics?: string; expression?: string[] }>;
}

/** Acknowledged only when the server answers 200/201, which it does after the durable commit. */
export async function send(practice: string, payload: SubmissionPayload): Promise<SubmissionAccepted> {
  let r: Response;
  try {
    r = await fetch(`${base(practice)}/submissions`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(payload) });
  } catch {
    throw new SubmitError('Your request could not be sent. Check your connection and try again: it will not be sent twice.', {}, true);
  }
  const body = (await r.json().catch(() => undefined)) as (SubmissionAccepted & Outcome) | undefined;
  if (r.ok && body?.reference) return body;
  const fields: Record<string, string> = {};
  for (const i of body?.issue ?? []) for (const e of i.expression ?? []) fields[e] = i.diagnostics ?? 'Check this answer';
  const message = r.status === 429 ? 'Too many requests have been sent from this connection. Wait a few minutes and try again.' : body?.issue?.map((i) => i.diagnostics).filter(Boolean).join('; ') || `Your request was not received (${r.status}). Try again.`;
  throw new SubmitError(message, fields, r.status >= 500);
}

export function readAsBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error ?? new Error('The file could not be read'));
    reader.readAsDataURL(file);
  });
}
