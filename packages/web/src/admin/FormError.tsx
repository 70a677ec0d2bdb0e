import { ApiError } from '../api.ts';

/** A form's failure as an NHS.UK error summary; the link goes to the input the node named (OperationOutcome expression). */
export interface FormFailure {
  text: string;
  field?: string;
}

export function failureOf(err: unknown, fieldIds: Record<string, string> = {}): FormFailure {
  const issue = err instanceof ApiError ? err.outcome?.issue?.[0] : undefined;
  const field = issue?.expression?.[0];
  return { text: (err as Error).message, ...(field && fieldIds[field] ? { field: fieldIds[field] } : {}) };
}

export function ErrorSummary({ failure, testId }: { failure: FormFailure | undefined; testId?: string }) {
  if (!failure) return null;
  return (
    <div className="nhsuk-error-summary" role="alert" aria-labelledby={`${testId ?? 'form'}-error-title`} data-testid={testId}>
      <h2 className="nhsuk-error-summary__title" id={`${testId ?? 'form'}-error-title`}>
        There is a problem
      </h2>
      <ul className="nhsuk-list nhsuk-error-summary__list">
        <li>{failure.field ? <a href={`#${failure.field}`}>{failure.text}</a> : failure.text}</li>
      </ul>
    </div>
  );
}
