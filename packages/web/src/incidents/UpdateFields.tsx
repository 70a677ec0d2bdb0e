/** The parts every incident update has (what is known, what practices should do, next update, restoration), with their errors. */
import { fieldError, type Issue } from './IssuesSummary.tsx';

export interface UpdateValues {
  known: string;
  practicesShould: string;
  nextUpdateAt: string;
  expectedRestorationAt: string;
}

export const emptyUpdate: UpdateValues = { known: '', practicesShould: '', nextUpdateAt: '', expectedRestorationAt: '' };

/** datetime-local (the browser's time) to an instant; '' stays '' so the hub names the missing field. */
const instant = (local: string) => (local ? new Date(local).toISOString() : '');

export function updateBody(v: UpdateValues) {
  return { known: v.known, practicesShould: v.practicesShould, nextUpdateAt: instant(v.nextUpdateAt), expectedRestorationAt: instant(v.expectedRestorationAt) || null };
}

export function UpdateFields({ prefix, values, onChange, issues, closing = false }: { prefix: string; values: UpdateValues; onChange: (v: UpdateValues) => void; issues: Issue[]; closing?: boolean }) {
  const fields: Array<[keyof UpdateValues, string, 'text' | 'time']> = closing
    ? [
        ['known', 'What happened, and that service is restored', 'text'],
        ['practicesShould', 'What practices should do now', 'text'],
      ]
    : [
        ['known', 'What is known', 'text'],
        ['practicesShould', 'What practices should do', 'text'],
        ['nextUpdateAt', 'Next update by', 'time'],
        ['expectedRestorationAt', 'Expected restoration (if known)', 'time'],
      ];
  return (
    <>
      {fields.map(([f, label, kind]) => {
        const err = fieldError(issues, f);
        return (
          <div className={`nhsuk-form-group${err ? ' nhsuk-form-group--error' : ''}`} key={f}>
            <label className="nhsuk-label" htmlFor={`${prefix}-${f}`}>
              {label}
            </label>
            {err ? <span className="nhsuk-error-message">{err}</span> : null}
            {kind === 'text' ? (
              <textarea className="nhsuk-textarea" id={`${prefix}-${f}`} rows={2} value={values[f]} onChange={(e) => onChange({ ...values, [f]: e.target.value })} />
            ) : (
              <input className="nhsuk-input nhsuk-input--width-20" type="datetime-local" id={`${prefix}-${f}`} value={values[f]} onChange={(e) => onChange({ ...values, [f]: e.target.value })} />
            )}
          </div>
        );
      })}
    </>
  );
}
