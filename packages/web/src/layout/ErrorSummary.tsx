/** The NHS.UK error summary for one problem, announced when it appears. */
export function ErrorSummary({ message, testId }: { message: string; testId?: string }) {
  return (
    <div className="nhsuk-error-summary" role="alert" tabIndex={-1}>
      <h2 className="nhsuk-error-summary__title">There is a problem</h2>
      <div className="nhsuk-error-summary__body">
        <p data-testid={testId}>{message}</p>
      </div>
    </div>
  );
}
