import { useEffect, useRef, useState, type FormEvent } from 'react';
import { CANCELLATION_REASONS } from '@steadfast/domain/appointments';
import { formatDate, formatTime } from '../format.ts';

/**
 * Cancelling asks first: which appointment (patient, time), why (a coded reason, recorded on the
 * FHIR Appointment), and a clear way to keep it. Escape keeps the appointment.
 */
export function CancelAppointment({
  patient,
  start,
  onConfirm,
  onKeep,
}: {
  patient: string;
  start: string;
  onConfirm: (reasonCode: string, reason: string) => Promise<void>;
  onKeep: () => void;
}) {
  const [code, setCode] = useState('');
  const [words, setWords] = useState('');
  const [error, setError] = useState<{ field: string; text: string } | undefined>();
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!code) return setError({ field: `cancel-reason-${CANCELLATION_REASONS[0]!.code}`, text: 'Choose why the appointment is cancelled' });
    if (code === 'other' && !words.trim()) return setError({ field: 'cancel-words', text: 'Type the reason, as you chose "Other reason"' });
    setError(undefined);
    setBusy(true);
    try {
      await onConfirm(code, words.trim());
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="nhsuk-card sf-confirm" data-testid="cancel-confirm" onKeyDown={(e) => e.key === 'Escape' && onKeep()}>
      <div className="nhsuk-card__content">
        <h2 className="nhsuk-card__heading" tabIndex={-1} ref={heading}>
          Cancel the appointment for {patient} at {formatTime(start)} on {formatDate(start)}?
        </h2>
        {error ? (
          <div className="nhsuk-error-summary" role="alert" aria-labelledby="cancel-error-title">
            <h3 className="nhsuk-error-summary__title" id="cancel-error-title">There is a problem</h3>
            <ul className="nhsuk-list nhsuk-error-summary__list">
              <li>
                <a href={`#${error.field}`}>{error.text}</a>
              </li>
            </ul>
          </div>
        ) : null}
        <form onSubmit={submit} noValidate>
          <div className={`nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}`}>
            <fieldset className="nhsuk-fieldset">
              <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Reason for cancelling</legend>
              <div className="nhsuk-radios nhsuk-radios--small">
                {CANCELLATION_REASONS.map((r) => (
                  <div className="nhsuk-radios__item" key={r.code}>
                    <input className="nhsuk-radios__input" id={`cancel-reason-${r.code}`} type="radio" name="cancel-reason" value={r.code} checked={code === r.code} onChange={() => setCode(r.code)} />
                    <label className="nhsuk-label nhsuk-radios__label" htmlFor={`cancel-reason-${r.code}`}>
                      {r.label}
                    </label>
                  </div>
                ))}
              </div>
            </fieldset>
          </div>
          <div className="nhsuk-form-group">
            <label className="nhsuk-label" htmlFor="cancel-words">
              Details (optional, needed for &quot;Other reason&quot;)
            </label>
            <input className="nhsuk-input" id="cancel-words" maxLength={200} value={words} onChange={(e) => setWords(e.target.value)} />
          </div>
          <div className="sf-inline-actions">
            <button type="submit" className="nhsuk-button nhsuk-button--warning" disabled={busy}>
              Cancel appointment
            </button>
            <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={onKeep}>
              Keep appointment
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
