import type { ReactNode } from 'react';
import type { Loaded } from '../api.ts';

/** Renders a loaded section, or the reason it is not shown. Never a raw error for a role refusal. */
export function Section<T>({ data, children, what }: { data: Loaded<T>; what: string; children: (value: T) => ReactNode }) {
  if (data.state === 'loading') return <p className="nhsuk-body-s">Loading {what}…</p>;
  if (data.state === 'forbidden') return <NotAvailable what={what} />;
  if (data.state === 'error')
    return (
      <p className="nhsuk-error-message" role="alert">
        {what[0]!.toUpperCase() + what.slice(1)} could not be loaded: {data.message}
      </p>
    );
  return <>{children(data.value)}</>;
}

export function NotAvailable({ what }: { what: string }) {
  return (
    <p className="sf-not-available" data-testid="not-available">
      {what[0]!.toUpperCase() + what.slice(1)}: not available to your role. Receptionists see demographics, alerts, allergies and appointments.
    </p>
  );
}
