/** NHS.UK design system pieces: error summary (links to fields), error messages above fields, back link. */
import { useEffect, useRef } from 'react';

export type Errors = Record<string, string>;

export function ErrorSummary({ errors }: { errors: Errors }) {
  const ref = useRef<HTMLDivElement>(null);
  const entries = Object.entries(errors);
  useEffect(() => {
    if (entries.length) ref.current?.focus();
  }, [entries.map(([k, v]) => k + v).join('|')]);
  if (!entries.length) return null;
  return (
    <div className="nhsuk-error-summary" aria-labelledby="error-summary-title" role="alert" tabIndex={-1} ref={ref} data-testid="error-summary">
      <h2 className="nhsuk-error-summary__title" id="error-summary-title">
        There is a problem
      </h2>
      <div className="nhsuk-error-summary__body">
        <ul className="nhsuk-list nhsuk-error-summary__list">
          {entries.map(([id, message]) => (
            <li key={id}>
              <a href={`#${id}`}>{message}</a>
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}

export function ErrorMessage({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <span className="nhsuk-error-message" id={`${id}-error`}>
      <span className="nhsuk-u-visually-hidden">Error:</span> {message}
    </span>
  );
}

export function BackLink({ onBack }: { onBack: () => void }) {
  return (
    <div className="nhsuk-back-link">
      <a className="nhsuk-back-link__link" href="#" onClick={(e) => (e.preventDefault(), onBack())}>
        Back
      </a>
    </div>
  );
}

export function TextInput(props: { id: string; label: string; hint?: string; value: string; onChange: (v: string) => void; error?: string; autoComplete?: string; type?: string; width?: string; inputMode?: 'numeric' | 'tel' | 'email' | 'text' }) {
  const { id, label, hint, value, onChange, error } = props;
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}`}>
      <label className="nhsuk-label" htmlFor={id}>
        {label}
      </label>
      {hint ? (
        <div className="nhsuk-hint" id={`${id}-hint`}>
          {hint}
        </div>
      ) : null}
      <ErrorMessage id={id} message={error} />
      <input
        className={`nhsuk-input${props.width ? ` nhsuk-input--width-${props.width}` : ''}${error ? ' nhsuk-input--error' : ''}`}
        id={id}
        name={id}
        type={props.type ?? 'text'}
        value={value}
        autoComplete={props.autoComplete}
        inputMode={props.inputMode}
        aria-describedby={described}
        onChange={(e) => onChange(e.target.value)}
      />
    </div>
  );
}

export function Radios(props: { id: string; legend: string; hint?: string; options: Array<{ code: string; display: string }>; value: string | undefined; onChange: (v: string) => void; error?: string; inline?: boolean; heading?: boolean }) {
  const { id, legend, hint, options, value, onChange, error } = props;
  return (
    <div className={`nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}`}>
      <fieldset className="nhsuk-fieldset" aria-describedby={[hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined}>
        <legend className={`nhsuk-fieldset__legend${props.heading ? ' nhsuk-fieldset__legend--l' : ' nhsuk-fieldset__legend--s'}`}>{props.heading ? <h1 className="nhsuk-fieldset__heading">{legend}</h1> : legend}</legend>
        {hint ? (
          <div className="nhsuk-hint" id={`${id}-hint`}>
            {hint}
          </div>
        ) : null}
        <ErrorMessage id={id} message={error} />
        <div className={`nhsuk-radios${props.inline ? ' nhsuk-radios--inline' : ''}`}>
          {options.map((o, i) => (
            <div className="nhsuk-radios__item" key={o.code}>
              <input className="nhsuk-radios__input" id={i === 0 ? id : `${id}-${o.code}`} name={id} type="radio" value={o.code} checked={value === o.code} onChange={() => onChange(o.code)} />
              <label className="nhsuk-label nhsuk-radios__label" htmlFor={i === 0 ? id : `${id}-${o.code}`}>
                {o.display}
              </label>
            </div>
          ))}
        </div>
      </fieldset>
    </div>
  );
}
