/**
 * Errors on messaging forms the NHS.UK way: a summary at the top linking to each field, and the same
 * words beside the field. Problems come from the node (OperationOutcome issue.expression names the
 * field) or from the shared rules in @steadfast/domain/messaging checked before sending.
 */
import type { ReactNode } from 'react';
import { SteadfastError } from '@steadfast/domain/errors';
import { ApiError } from '../api.ts';

export interface Problem {
  field?: string;
  message: string;
}

export function problemsOf(err: unknown): Problem[] {
  if (err instanceof ApiError) {
    const issues = err.outcome?.issue ?? [];
    if (issues.length) return issues.map((i) => ({ ...(i.expression?.[0] ? { field: i.expression[0] } : {}), message: i.diagnostics ?? err.message }));
    return [{ message: err.message }];
  }
  if (err instanceof SteadfastError) return [err, ...err.more].map((e) => ({ ...(e.field ? { field: e.field } : {}), message: e.hint ? `${e.message}. ${e.hint}` : e.message }));
  return [{ message: err instanceof Error ? err.message : String(err) }];
}

export function problemFor(problems: Problem[], field: string): string | undefined {
  return problems.find((p) => p.field === field)?.message;
}

/** The error summary; `ids` maps a field name to the id of its input, so each problem links to it. */
export function ProblemSummary({ problems, ids, testId }: { problems: Problem[]; ids: Record<string, string>; testId?: string }) {
  if (!problems.length) return null;
  return (
    <div className="nhsuk-error-summary" role="alert" tabIndex={-1} aria-labelledby={`${testId ?? 'problems'}-title`} data-testid={testId}>
      <h2 className="nhsuk-error-summary__title" id={`${testId ?? 'problems'}-title`}>
        There is a problem
      </h2>
      <div className="nhsuk-error-summary__body">
        <ul className="nhsuk-list nhsuk-error-summary__list">
          {problems.map((p, i) => (
            <li key={i}>{p.field && ids[p.field] ? <a href={`#${ids[p.field]}`}>{p.message}</a> : p.message}</li>
          ))}
        </ul>
      </div>
    </div>
  );
}

/** A form group with its label, hint and error message (the input is the child). */
export function Field({ id, label, hint, error, children }: { id: string; label: string; hint?: ReactNode; error?: string | undefined; children: ReactNode }) {
  return (
    <div className={`nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}`}>
      <label className="nhsuk-label" htmlFor={id}>
        {label}
      </label>
      {hint ? (
        <div className="nhsuk-hint" id={`${id}-hint`}>
          {hint}
        </div>
      ) : null}
      {error ? (
        <span className="nhsuk-error-message" id={`${id}-error`}>
          <span className="nhsuk-u-visually-hidden">Error:</span> {error}
        </span>
      ) : null}
      {children}
    </div>
  );
}

/** aria-describedby for an input inside Field. */
export function describedBy(id: string, hint: boolean, error: string | undefined): string | undefined {
  return [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
}

/** "3 minutes", "2 hours 5 minutes": how long something has waited. */
export function waitedFor(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 48) return `${hours} hour${hours === 1 ? '' : 's'}${rest ? ` ${rest} minute${rest === 1 ? '' : 's'}` : ''}`;
  return `${Math.floor(hours / 24)} days`;
}

export const CHANNEL_LABEL: Record<string, string> = {
  'notify-sms': 'Text messages (GOV.UK Notify)',
  'notify-email': 'Email (GOV.UK Notify)',
  'notify-letter': 'Letters (GOV.UK Notify)',
  'hl7-order': 'Laboratory orders (HL7)',
  sms: 'Text message',
  email: 'Email',
  letter: 'Letter',
};

export const DELIVERY_LABEL: Record<string, { text: string; tag: string }> = {
  queued: { text: 'Queued', tag: 'nhsuk-tag--grey' },
  sending: { text: 'Sending', tag: 'nhsuk-tag--blue' },
  sent: { text: 'Sent, awaiting receipt', tag: 'nhsuk-tag--blue' },
  delivered: { text: 'Delivered', tag: 'nhsuk-tag--green' },
  'permanent-failure': { text: 'Not delivered (permanent)', tag: 'nhsuk-tag--red' },
  'temporary-failure': { text: 'Not delivered (phone unavailable)', tag: 'nhsuk-tag--red' },
  'technical-failure': { text: 'Not delivered (technical)', tag: 'nhsuk-tag--red' },
  failed: { text: 'Could not be sent', tag: 'nhsuk-tag--red' },
  cancelled: { text: 'Cancelled', tag: 'nhsuk-tag--grey' },
};

export function DeliveryTag({ status }: { status: string }) {
  const d = DELIVERY_LABEL[status] ?? { text: status, tag: 'nhsuk-tag--grey' };
  return <strong className={`nhsuk-tag ${d.tag}`}>{d.text}</strong>;
}

/** A key per press of Send, so a double click or a retried request is one message. */
export function newSendKey(): string {
  // getRandomValues works over plain HTTP on the practice LAN, where randomUUID does not.
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}
