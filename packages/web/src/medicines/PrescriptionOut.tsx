/**
 * How an issue leaves the practice: its EPS state and "Print prescription" (the node's FP10SS-style PDF).
 * Not built yet: the routes are the meds-out branch's (GET /api/prescriptions/:issueId and
 * /api/prescriptions/:issueId/print.pdf) and had not landed when this screen was written.
 */
export function PrescriptionOut({ issueId }: { issueId: string }) {
  return (
    <p className="nhsuk-body-s" data-testid="rx-out-not-built" data-issue={issueId}>
      EPS sending and printing from this screen are not built yet: use the practice's usual route for this prescription.
    </p>
  );
}
