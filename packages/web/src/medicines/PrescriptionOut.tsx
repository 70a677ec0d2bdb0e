/**
 * How an issue leaves the practice: its EPS state (GET /api/prescriptions/:issueId) and "Print
 * prescription" (the node's FP10SS-style PDF, /api/prescriptions/:issueId/print.pdf). Printing
 * withdraws the queued EPS message, so a prescription goes out one way only; once EPS has it there
 * is no print (the pharmacy downloads it), and a second print is marked as a copy by the node.
 */
import { useEffect, useState } from 'react';
import type { PrescriptionOutStatus } from '@steadfast/domain/api/prescriptions';
import { api, load, type Loaded } from '../api.ts';
import { formatDateTime } from '../format.ts';

const epsText: Record<PrescriptionOutStatus['eps'], string> = {
  queued: 'Waiting to be sent to the Electronic Prescription Service (EPS); it goes when EPS can be reached',
  sent: 'Sent to EPS: the patient’s nominated pharmacy downloads it, so no paper prescription is needed',
  failed: 'Not sent to EPS: print it for the patient',
  printed: 'Printed (not sent to EPS)',
};

export function PrescriptionOut({ issueId }: { issueId: string }) {
  const [status, setStatus] = useState<Loaded<PrescriptionOutStatus>>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    void load(() => api<PrescriptionOutStatus>(`/api/prescriptions/${encodeURIComponent(issueId)}`)).then((s) => live && setStatus(s));
    return () => {
      live = false;
    };
  }, [issueId, tick]);
  // While queued, look again every few seconds: the outbox drains when EPS comes back.
  useEffect(() => {
    if (status.state !== 'ok' || status.value.eps !== 'queued') return;
    const t = setTimeout(() => setTick((n) => n + 1), 5000);
    return () => clearTimeout(t);
  }, [status]);
  if (status.state === 'loading') return <p className="nhsuk-body-s">Checking how the prescription goes out…</p>;
  if (status.state !== 'ok') return <p className="nhsuk-body-s" data-testid="rx-out-error">The prescription's EPS state could not be read{status.state === 'error' ? `: ${status.message}` : ''}.</p>;
  const s = status.value;
  const printable = s.eps !== 'sent';
  const pdf = `/api/prescriptions/${encodeURIComponent(issueId)}/print.pdf`;
  return (
    <div data-testid="rx-out" data-eps={s.eps}>
      <p className="nhsuk-body-s">
        <strong>EPS:</strong> <span data-testid="rx-eps">{epsText[s.eps]}</span>
        {s.lastError && s.eps !== 'printed' ? <span data-testid="rx-eps-error"> (last attempt: {s.lastError})</span> : null}
        {s.sentAt ? ` at ${formatDateTime(s.sentAt)}` : ''}
        {s.printedAt ? ` at ${formatDateTime(s.printedAt)}` : ''}.
      </p>
      {printable ? (
        <p>
          <a className="nhsuk-button nhsuk-button--secondary sf-small-button" href={pdf} target="_blank" rel="noopener" onClick={() => setTimeout(() => setTick((n) => n + 1), 1500)} data-testid="rx-print">
            {s.printCount > 0 ? 'Print a copy (not for dispensing)' : 'Print prescription'}
            <span className="nhsuk-u-visually-hidden"> {s.prescriptionId} (opens the PDF in a new tab)</span>
          </a>
        </p>
      ) : null}
    </div>
  );
}
