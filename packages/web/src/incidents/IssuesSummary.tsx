/** Every problem the node or hub named (one OperationOutcome issue each) as an NHS.UK error summary, each linked to its field. */
import { useEffect, useRef } from 'react';
import { ApiError } from '../api.ts';

export interface Issue {
  text: string;
  field?: string;
}

export function issuesOf(err: unknown): Issue[] {
  const issues = err instanceof ApiError ? (err.outcome?.issue ?? []) : [];
  if (!issues.length) return [{ text: (err as Error).message }];
  return issues.map((i) => ({ text: i.diagnostics ?? 'There is a problem', ...(i.expression?.[0] ? { field: i.expression[0] } : {}) }));
}

/** The input id for a field the server names ("report.backlog" → "backlog"). */
export const fieldId = (prefix: string, field: string) => `${prefix}-${field.split('.').pop()}`;

export function IssuesSummary({ issues, prefix, testId }: { issues: Issue[]; prefix: string; testId: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (issues.length) ref.current?.focus();
  }, [issues]);
  if (!issues.length) return null;
  return (
    <div className="nhsuk-error-summary" role="alert" aria-labelledby={`${testId}-title`} tabIndex={-1} ref={ref} data-testid={testId}>
      <h2 className="nhsuk-error-summary__title" id={`${testId}-title`}>
        There is a problem
      </h2>
      <ul className="nhsuk-list nhsuk-error-summary__list">
        {issues.map((i, n) => (
          <li key={n}>{i.field ? <a href={`#${fieldId(prefix, i.field)}`}>{i.text}</a> : i.text}</li>
        ))}
      </ul>
    </div>
  );
}

export function fieldError(issues: Issue[], field: string): string | undefined {
  return issues.find((i) => i.field && i.field.split('.').pop() === field)?.text;
}
