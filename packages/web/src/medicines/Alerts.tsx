import { useEffect, useRef } from 'react';
import type { MedicineAlert } from '@steadfast/domain/api/medicines';
import { describedBy, Field } from '../messaging/forms.tsx';
import { MIN_REASON, overrideField, type Problem } from './prescribe.ts';

/** An NHS.UK error summary of several problems, each linking to its field; focused when it appears. */
export function ProblemSummary({ problems, testId, lead }: { problems: Problem[]; testId: string; lead?: string | undefined }) {
  const ref = useRef<HTMLDivElement>(null);
  const key = problems.map((p) => p.text).join('|') + (lead ?? '');
  useEffect(() => {
    if (key) ref.current?.focus();
  }, [key]);
  if (!problems.length && !lead) return null;
  return (
    <div className="nhsuk-error-summary" role="alert" tabIndex={-1} ref={ref} aria-labelledby={`${testId}-title`} data-testid={testId}>
      <h2 className="nhsuk-error-summary__title" id={`${testId}-title`}>
        There is a problem
      </h2>
      <div className="nhsuk-error-summary__body">
        {lead ? <p>{lead}</p> : null}
        <ul className="nhsuk-list nhsuk-error-summary__list">
          {problems.map((p) => (
            <li key={p.field + p.text}>
              <a href={`#${p.field}`}>{p.text}</a>
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}

const kindLabel: Record<MedicineAlert['kind'], string> = { allergy: 'Allergy', duplicate: 'Duplicate therapy', interaction: 'Interaction', dose: 'Dose' };

/**
 * The safety checks' alerts, each with its severity, what was found, the advice and the rule set that
 * said so, and a reason field: nothing is prescribed over an alert without the prescriber's reason.
 */
export function AlertList({ alerts, reasons, onReason, problems }: { alerts: MedicineAlert[]; reasons: Record<string, string>; onReason: (id: string, reason: string) => void; problems: Problem[] }) {
  return (
    <div aria-live="polite" data-testid="rx-alerts">
      {alerts.length ? (
        <h3 className="nhsuk-heading-s">
          Safety checks: {alerts.length} alert{alerts.length === 1 ? '' : 's'}
        </h3>
      ) : null}
      {alerts.map((a) => {
        const field = overrideField(a.id);
        const problem = problems.find((p) => p.field === field);
        return (
          <div className={`nhsuk-card sf-alert sf-alert--${a.severity}`} key={a.id} data-testid="rx-alert" data-kind={a.kind} data-severity={a.severity}>
            <div className="nhsuk-card__content">
              <p className="nhsuk-card__heading nhsuk-heading-xs">
                <strong className={`nhsuk-tag ${a.severity === 'stop' ? 'nhsuk-tag--red' : 'nhsuk-tag--orange'}`}>{a.severity === 'stop' ? 'Stop' : 'Warning'}</strong> {kindLabel[a.kind]}: {a.message}
              </p>
              {a.advice ? <p className="nhsuk-body-s">{a.advice}</p> : null}
              <p className="nhsuk-body-s">Source: {a.source}</p>
              <Field id={field} label={`Reason to ${a.severity === 'stop' ? 'prescribe anyway' : 'go ahead'} (at least ${MIN_REASON} characters, recorded)`} error={problem?.text}>
                <input className={`nhsuk-input${problem ? ' nhsuk-input--error' : ''}`} id={field} value={reasons[a.id] ?? ''} onChange={(e) => onReason(a.id, e.target.value)} aria-describedby={describedBy(field, false, problem?.text)} autoComplete="off" />
              </Field>
            </div>
          </div>
        );
      })}
    </div>
  );
}
