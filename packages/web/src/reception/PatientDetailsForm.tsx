/**
 * Register a patient, or edit the details of one on the list: demographics, address, phone, mobile,
 * email and contact preferences. The form checks with the same rules as the node
 * (`@steadfast/domain/registration`) before sending, and shows every problem in an NHS.UK error
 * summary linked to its input; what the node refuses (a duplicate, a stale edit) is shown the same way.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import type { Patient } from '../fhirTypes.ts';
import { navigate, onLinkClick } from '../router.ts';
import { GENDERS, genderText, registrationErrors, type RegistrationField, type RegistrationInput } from '@steadfast/domain/registration';

interface Problem {
  field?: string;
  message: string;
}

const empty: RegistrationInput = {
  title: '',
  givenName: '',
  familyName: '',
  birthDate: '',
  gender: '',
  nhsNumber: '',
  addressLine1: '',
  addressLine2: '',
  town: '',
  postcode: '',
  phone: '',
  mobile: '',
  email: '',
  smsConsent: false,
  doNotContact: false,
  reasonableAdjustments: [],
};

const labels: Record<RegistrationField, string> = {
  title: 'Title (optional)',
  givenName: 'First name',
  familyName: 'Last name',
  birthDate: 'Date of birth',
  gender: 'Gender',
  nhsNumber: 'NHS number (optional)',
  addressLine1: 'Address line 1',
  addressLine2: 'Address line 2 (optional)',
  town: 'Town or city',
  postcode: 'Postcode',
  phone: 'Home or work phone (optional)',
  mobile: 'Mobile (optional)',
  email: 'Email (optional)',
};

const hints: Partial<Record<RegistrationField, string>> = {
  birthDate: 'For example 27/02/1980',
  nhsNumber: '10 digits, e.g. 999 123 4564. Leave blank if the patient does not know it.',
  mobile: 'A UK mobile for text messages, e.g. 07700 900123',
};

const inputId = (f: string) => `reg-${f}`;

/** The node's refusal as problems, each with the field it names. */
function problemsOf(err: unknown): Problem[] {
  if (err instanceof ApiError && err.outcome?.issue?.length) {
    return err.outcome.issue.map((i) => ({ ...(i.expression?.[0] ? { field: i.expression[0] } : {}), message: i.diagnostics ?? err.message }));
  }
  return [{ message: (err as Error).message }];
}

export function PatientDetailsForm({ patientId }: { patientId?: string }) {
  const editing = patientId !== undefined;
  const [form, setForm] = useState<RegistrationInput>(empty);
  const [versionId, setVersionId] = useState<string | undefined>();
  const [loaded, setLoaded] = useState(!editing);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [possibleDuplicate, setPossibleDuplicate] = useState(false);
  const [busy, setBusy] = useState(false);
  const summary = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!patientId) return;
    api<{ registration: RegistrationInput; versionId: string }>(`/api/reception/patients/${encodeURIComponent(patientId)}`)
      .then((r) => {
        setForm({ ...empty, ...r.registration });
        setVersionId(r.versionId);
        setLoaded(true);
      })
      .catch((err) => setProblems(problemsOf(err)));
  }, [patientId]);

  useEffect(() => {
    if (problems.length) summary.current?.focus();
  }, [problems]);

  const set = (field: keyof RegistrationInput, value: string | boolean | string[]) => setForm((f) => ({ ...f, [field]: value }));
  const errorFor = (field: string) => problems.find((p) => p.field === field)?.message;

  const submit = async (e: FormEvent, confirmPossibleDuplicate = false) => {
    e.preventDefault();
    const local = registrationErrors(form).map((err) => ({ ...(err.field ? { field: err.field } : {}), message: err.message }));
    if (local.length) {
      setProblems(local);
      return;
    }
    setBusy(true);
    try {
      if (editing) {
        await api(`/api/reception/patients/${encodeURIComponent(patientId)}`, { method: 'PUT', json: { ...form, ...(versionId ? { versionId } : {}) } });
        navigate(`/patient/${patientId}?tab=details&saved=1`);
      } else {
        const r = await api<{ patient: Patient }>('/api/reception/patients', { method: 'POST', json: { ...form, ...(confirmPossibleDuplicate ? { confirmPossibleDuplicate: true } : {}) } });
        navigate(`/patient/${r.patient.id}?tab=details&registered=1`);
      }
    } catch (err) {
      setPossibleDuplicate(err instanceof ApiError && err.status === 409 && /already registered/.test(err.message));
      setProblems(problemsOf(err));
      setBusy(false);
    }
  };

  const field = (f: RegistrationField, props: { type?: string; width?: string; autoComplete?: string; inputMode?: 'numeric' | 'tel' | 'email' } = {}) => {
    const error = errorFor(f);
    return (
      <div className={`nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}`} key={f}>
        <label className="nhsuk-label" htmlFor={inputId(f)}>
          {labels[f]}
        </label>
        {hints[f] ? (
          <div className="nhsuk-hint" id={`${inputId(f)}-hint`}>
            {hints[f]}
          </div>
        ) : null}
        {error ? (
          <span className="nhsuk-error-message" id={`${inputId(f)}-error`}>
            <span className="nhsuk-u-visually-hidden">Error:</span> {error}
          </span>
        ) : null}
        <input
          className={`nhsuk-input${props.width ? ` nhsuk-input--width-${props.width}` : ''}${error ? ' nhsuk-input--error' : ''}`}
          id={inputId(f)}
          name={f}
          type={props.type ?? 'text'}
          value={(form[f] as string | undefined) ?? ''}
          onChange={(e) => set(f, e.target.value)}
          {...(props.autoComplete ? { autoComplete: props.autoComplete } : {})}
          {...(props.inputMode ? { inputMode: props.inputMode } : {})}
          aria-describedby={[hints[f] ? `${inputId(f)}-hint` : '', error ? `${inputId(f)}-error` : ''].filter(Boolean).join(' ') || undefined}
        />
      </div>
    );
  };

  const genderError = errorFor('gender');
  const title = editing ? 'Change patient details' : 'Register a patient';
  if (!loaded && !problems.length) return <p aria-busy="true">Loading the patient’s details…</p>;
  return (
    <>
      <p>
        <a className="nhsuk-back-link__link" href={editing ? `/patient/${patientId}` : '/'} onClick={onLinkClick(editing ? `/patient/${patientId}` : '/')}>
          {editing ? 'Back to the record' : 'Find a patient'}
        </a>
      </p>
      <h1>{title}</h1>
      {problems.length ? (
        <div className="nhsuk-error-summary" aria-labelledby="reg-error-title" role="alert" tabIndex={-1} ref={summary} data-testid="registration-errors">
          <h2 className="nhsuk-error-summary__title" id="reg-error-title">
            There is a problem
          </h2>
          <div className="nhsuk-error-summary__body">
            <ul className="nhsuk-list nhsuk-error-summary__list">
              {problems.map((p, i) => (
                <li key={`${p.field ?? ''}${i}`}>{p.field && p.field !== 'versionId' ? <a href={`#${inputId(p.field)}`}>{p.message}</a> : p.message}</li>
              ))}
            </ul>
            {possibleDuplicate ? (
              <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" onClick={(e) => void submit(e, true)} disabled={busy}>
                This is a different person: register them
              </button>
            ) : null}
          </div>
        </div>
      ) : null}
      <form onSubmit={(e) => void submit(e)} noValidate data-testid="registration-form">
        <fieldset className="nhsuk-fieldset">
          <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">Name and date of birth</legend>
          {field('title', { width: '4', autoComplete: 'honorific-prefix' })}
          {field('givenName', { width: '20', autoComplete: 'given-name' })}
          {field('familyName', { width: '20', autoComplete: 'family-name' })}
          {field('birthDate', { type: 'date', width: '10', autoComplete: 'bday' })}
          <div className={`nhsuk-form-group${genderError ? ' nhsuk-form-group--error' : ''}`}>
            <label className="nhsuk-label" htmlFor={inputId('gender')}>
              {labels.gender}
            </label>
            {genderError ? (
              <span className="nhsuk-error-message" id={`${inputId('gender')}-error`}>
                <span className="nhsuk-u-visually-hidden">Error:</span> {genderError}
              </span>
            ) : null}
            <select className={`nhsuk-select${genderError ? ' nhsuk-select--error' : ''}`} id={inputId('gender')} value={form.gender ?? ''} onChange={(e) => set('gender', e.target.value)} aria-describedby={genderError ? `${inputId('gender')}-error` : undefined}>
              <option value="">Select</option>
              {GENDERS.map((g) => (
                <option key={g} value={g}>
                  {genderText[g]}
                </option>
              ))}
            </select>
          </div>
          {field('nhsNumber', { width: '10', inputMode: 'numeric' })}
        </fieldset>
        <fieldset className="nhsuk-fieldset">
          <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">Address</legend>
          {field('addressLine1', { autoComplete: 'address-line1' })}
          {field('addressLine2', { autoComplete: 'address-line2' })}
          {field('town', { width: '20', autoComplete: 'address-level2' })}
          {field('postcode', { width: '10', autoComplete: 'postal-code' })}
        </fieldset>
        <fieldset className="nhsuk-fieldset">
          <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">Contact details and preferences</legend>
          {field('phone', { type: 'tel', width: '20', autoComplete: 'tel', inputMode: 'tel' })}
          {field('mobile', { type: 'tel', width: '20', autoComplete: 'tel', inputMode: 'tel' })}
          {field('email', { type: 'email', autoComplete: 'email', inputMode: 'email' })}
          <div className="nhsuk-checkboxes">
            <div className="nhsuk-checkboxes__item">
              <input className="nhsuk-checkboxes__input" id="reg-smsConsent" type="checkbox" checked={form.smsConsent === true} onChange={(e) => set('smsConsent', e.target.checked)} />
              <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="reg-smsConsent">
                The patient agrees to text messages
              </label>
            </div>
            <div className="nhsuk-checkboxes__item">
              <input className="nhsuk-checkboxes__input" id="reg-doNotContact" type="checkbox" checked={form.doNotContact === true} onChange={(e) => set('doNotContact', e.target.checked)} />
              <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="reg-doNotContact">
                Do not contact (no messages of any kind)
              </label>
            </div>
          </div>
          <div className="nhsuk-form-group nhsuk-u-margin-top-3">
            <label className="nhsuk-label" htmlFor="reg-adjustments">
              Reasonable adjustments (optional, one a line)
            </label>
            <textarea
              className="nhsuk-textarea"
              id="reg-adjustments"
              rows={2}
              value={(form.reasonableAdjustments ?? []).join('\n')}
              onChange={(e) => set('reasonableAdjustments', e.target.value.split('\n'))}
            />
          </div>
        </fieldset>
        <button className="nhsuk-button" type="submit" disabled={busy} data-testid="registration-submit">
          {editing ? 'Save details' : 'Register patient'}
        </button>
      </form>
    </>
  );
}
