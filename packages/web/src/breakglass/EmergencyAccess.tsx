/**
 * Emergency access (break-glass): when the user's role or a sensitive mark hides a record, the screen
 * offers a reason box with the time limit stated instead of a dead refusal; once granted, a banner says
 * when access ends and that every view is audited.
 */
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { api, ApiError } from '../api.ts';

export interface Grant {
  id: string;
  patient: string;
  reason: string;
  expiresAt: string;
  state: 'active' | 'expired' | 'ended';
}

export const GRANT_MINUTES = 30;
/** Fired by the report when a use is reviewed, so the header's count follows at once. */
export const REVIEWED_EVENT = 'steadfast:break-glass-reviewed';
const MIN_REASON = 10;

/** The signed-in user's open grant for this patient (null when none), re-checked when it should end. */
export function useEmergencyGrant(patientId: string): { grant: Grant | null | undefined; setGrant: (g: Grant | null) => void } {
  const [grant, setGrant] = useState<Grant | null | undefined>(undefined);
  useEffect(() => {
    let stale = false;
    setGrant(undefined);
    api<{ grant: Grant | null }>(`/api/break-glass/active?patient=${encodeURIComponent(patientId)}`)
      .then((r) => !stale && setGrant(r.grant))
      .catch(() => !stale && setGrant(null));
    return () => {
      stale = true;
    };
  }, [patientId]);
  // When the grant runs out the record closes again without a reload.
  useEffect(() => {
    if (!grant) return;
    const ms = Date.parse(grant.expiresAt) - Date.now();
    const t = setTimeout(() => setGrant(null), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    return () => clearTimeout(t);
  }, [grant]);
  return { grant, setGrant };
}

export const endsAt = (iso: string) => new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });

export function EmergencyBanner({ grant }: { grant: Grant }) {
  return (
    <div className="sf-emergency-banner" role="status" data-testid="emergency-banner">
      <strong>Emergency access — ends {endsAt(grant.expiresAt)} — every view is audited.</strong> Reason given: {grant.reason}
    </div>
  );
}

/** The offer: a button that opens a reason box; submitting it asks the node for a grant. */
export function EmergencyAccessOffer({ patientId, what, onGranted }: { patientId: string; what: string; onGranted: (g: Grant) => void }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  useEffect(() => {
    if (open) box.current?.focus();
  }, [open]);
  const submit = useCallback(async () => {
    if (reason.trim().length < MIN_REASON) {
      setError(`Say why you need emergency access (at least ${MIN_REASON} characters)`);
      box.current?.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      onGranted(await api<Grant>('/api/break-glass', { method: 'POST', json: { patientId, reason: reason.trim() } }));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }, [patientId, reason, onGranted]);

  return (
    <div className="nhsuk-inset-text sf-emergency-offer" data-testid="emergency-offer">
      <p>
        {what} In an emergency you can open it for {GRANT_MINUTES} minutes: you give a reason, every view is audited and the
        practice administrator is told.
      </p>
      {!open ? (
        <button type="button" className="nhsuk-button nhsuk-button--warning nhsuk-u-margin-bottom-0" onClick={() => setOpen(true)} data-testid="emergency-open">
          Emergency access
        </button>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <div className={`nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}`}>
            <label className="nhsuk-label" htmlFor={`${id}-reason`}>
              Why do you need emergency access?
            </label>
            <div className="nhsuk-hint" id={`${id}-hint`}>
              For example: patient collapsed in the waiting room; paramedics asking for allergies and medication. Access ends after{' '}
              {GRANT_MINUTES} minutes or when you sign out.
            </div>
            {error ? (
              <span className="nhsuk-error-message" id={`${id}-error`} role="alert">
                {error}
              </span>
            ) : null}
            <textarea
              ref={box}
              className={`nhsuk-textarea${error ? ' nhsuk-textarea--error' : ''}`}
              id={`${id}-reason`}
              rows={3}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
              data-testid="emergency-reason"
            />
          </div>
          <button type="submit" className="nhsuk-button nhsuk-button--warning" disabled={busy} data-testid="emergency-submit">
            Open the record for {GRANT_MINUTES} minutes
          </button>{' '}
          <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setOpen(false)}>
            Cancel
          </button>
        </form>
      )}
    </div>
  );
}

/** For practice-admins: how many emergency accesses wait for review (shown in the header). */
export function useUnreviewedCount(enabled: boolean): number | undefined {
  const [n, setN] = useState<number>();
  useEffect(() => {
    if (!enabled) return;
    let stale = false;
    const poll = () =>
      api<{ unreviewed: number }>('/api/break-glass/summary')
        .then((r) => !stale && setN(r.unreviewed))
        .catch(() => undefined);
    void poll();
    const t = setInterval(poll, 60_000);
    window.addEventListener(REVIEWED_EVENT, poll);
    return () => {
      stale = true;
      clearInterval(t);
      window.removeEventListener(REVIEWED_EVENT, poll);
    };
  }, [enabled]);
  return n;
}
