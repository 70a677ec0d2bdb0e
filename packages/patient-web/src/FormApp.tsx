/**
 * The patient's online consultation form, in the NHS.UK design system: opening checked first, red-flag
 * questions before anything else (a "yes" stops the form with 999/111 advice from the domain's rules),
 * then one question per page, photos, identity, check your answers, and a reference at the end.
 */
import { useEffect, useState, type ReactElement, type ReactNode } from 'react';
import type { ConsultationKind, QuestionDefinition, ServiceOpening, SubmissionAccepted, SubmissionPayload } from '@steadfast/domain/api';
import { ADVICE_TEXT, CURRENT_QUESTIONNAIRE as DEF, applicableQuestions, evaluateRedFlags, explainBirthDate, isValidPostcode, normaliseUkMobile, redFlagQuestionsFor, PHOTO_CONTENT_TYPES, PHOTO_MAX_BYTES, PHOTO_MAX_COUNT } from '@steadfast/domain/online-consultations';
import { explainInvalidNhsNumber } from '@steadfast/domain/nhs-number';
import { BackLink, ErrorMessage, ErrorSummary, Radios, TextInput, type Errors } from './Fields.tsx';
import { fetchOpening, forgetSubmissionId, practiceFromPath, readAsBase64, send, submissionId, SubmitError } from './submit.ts';

type Step = { page: 'kind' } | { page: 'redflags' } | { page: 'stop' } | { page: 'question'; index: number } | { page: 'photos' } | { page: 'identity' } | { page: 'check' } | { page: 'done' };
interface Identity { givenName: string; familyName: string; day: string; month: string; year: string; postcode: string; mobile: string; email: string; nhsNumber: string; contact: string }
const emptyIdentity: Identity = { givenName: '', familyName: '', day: '', month: '', year: '', postcode: '', mobile: '', email: '', nhsNumber: '', contact: '' };
const YES_NO = [{ code: 'yes', display: 'Yes' }, { code: 'no', display: 'No' }];

function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
const birthDateOf = (i: Identity) => `${i.year.trim().padStart(4, '0')}-${i.month.trim().padStart(2, '0')}-${i.day.trim().padStart(2, '0')}`;

export function identityErrors(i: Identity, on: string = today()): Errors {
  const e: Errors = {};
  if (!i.givenName.trim()) e.givenName = 'Enter your first name';
  if (!i.familyName.trim()) e.familyName = 'Enter your last name';
  if (!i.day.trim() || !i.month.trim() || !i.year.trim()) e['dob-day'] = 'Enter your date of birth, for example 27 3 1984';
  else {
    const why = /^\d{1,2}$/.test(i.day.trim()) && /^\d{1,2}$/.test(i.month.trim()) && /^\d{4}$/.test(i.year.trim()) ? explainBirthDate(birthDateOf(i), on) : 'Date of birth must be a real date';
    if (why) e['dob-day'] = why;
  }
  if (!isValidPostcode(i.postcode)) e.postcode = 'Enter a real postcode, like LS1 4AP';
  if (i.nhsNumber.trim()) {
    const why = explainInvalidNhsNumber(i.nhsNumber);
    if (why) e.nhsNumber = `Enter a valid NHS number or leave it blank: ${why}`;
  }
  if (i.contact !== 'sms' && i.contact !== 'email') e.contact = 'Choose how the practice should contact you';
  if (i.contact === 'sms' && !normaliseUkMobile(i.mobile)) e.mobile = 'Enter a UK mobile number, like 07700 900123';
  if (i.mobile.trim() && !normaliseUkMobile(i.mobile)) e.mobile = 'Enter a UK mobile number, like 07700 900123';
  if (i.contact === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/.test(i.email.trim())) e.email = 'Enter an email address, like name@example.com';
  return e;
}

export function FormApp() {
  const practice = practiceFromPath();
  const [opening, setOpening] = useState<ServiceOpening | { error: string } | undefined>();
  const [history, setHistory] = useState<Step[]>([{ page: 'kind' }]);
  const [kind, setKind] = useState<ConsultationKind | undefined>();
  const [flags, setFlags] = useState<Record<string, boolean>>({});
  const [answers, setAnswers] = useState<Record<string, string>>({});
  const [photos, setPhotos] = useState<File[]>([]);
  const [identity, setIdentity] = useState<Identity>(emptyIdentity);
  const [errors, setErrors] = useState<Errors>({});
  const [sending, setSending] = useState(false);
  const [accepted, setAccepted] = useState<SubmissionAccepted | undefined>();
  const step = history[history.length - 1]!;

  useEffect(() => {
    if (!practice) return setOpening({ error: 'This address does not name a GP practice. Use the link your practice gave you.' });
    fetchOpening(practice).then(setOpening, (err: Error) => setOpening({ error: err.message }));
  }, [practice]);
  useEffect(() => {
    document.title = `${Object.keys(errors).length ? 'Error: ' : ''}Contact your GP practice online`;
  }, [errors, step]);

  const go = (next: Step) => (setErrors({}), setHistory((h) => [...h, next]), window.scrollTo(0, 0));
  const back = () => (setErrors({}), setHistory((h) => (h.length > 1 ? h.slice(0, -1) : h)));
  const questions: QuestionDefinition[] = kind ? applicableQuestions(DEF, kind, answers) : [];
  const afterQuestions = (): Step => (kind === 'medical' ? { page: 'photos' } : { page: 'identity' });

  if (!opening) return <Shell><p>Loading…</p></Shell>;
  if ('error' in opening) return <Shell><h1>Sorry, there is a problem with this service</h1><p>{opening.error}</p><Urgent text={DEF.adviceText['call-111']} /></Shell>;
  if (!opening.open && step.page !== 'done') {
    return (
      <Shell>
        <h1 data-testid="closed">{opening.practiceName} is not taking online requests right now</h1>
        <p>{opening.closedMessage ?? 'Try again when the practice is open.'}</p>
        <Urgent text={opening.urgentAdvice} />
      </Shell>
    );
  }

  let page: ReactElement;
  switch (step.page) {
    case 'kind':
      page = (
        <>
          <Urgent text={opening.urgentAdvice} />
          <Radios id="kind" heading legend={`What do you need help with from ${opening.practiceName}?`} value={kind} onChange={(v) => setKind(v as ConsultationKind)} error={errors.kind}
            options={[{ code: 'medical', display: 'A medical problem (symptoms, a new or ongoing health concern)' }, { code: 'admin', display: 'Something else (fit note, prescription question, letter, test results)' }]} />
          <Continue onClick={() => (kind ? go({ page: 'redflags' }) : setErrors({ kind: 'Choose what you need help with' }))} />
        </>
      );
      break;
    case 'redflags': {
      const qs = redFlagQuestionsFor(DEF, kind!);
      page = (
        <>
          <h1>First, we need to check you do not need urgent help</h1>
          {qs.map((q) => (
            <Radios key={q.linkId} id={q.linkId} legend={q.text} hint={q.hint} inline options={YES_NO} error={errors[q.linkId]}
              value={flags[q.linkId] === undefined ? undefined : flags[q.linkId] ? 'yes' : 'no'} onChange={(v) => setFlags((f) => ({ ...f, [q.linkId]: v === 'yes' }))} />
          ))}
          <Continue onClick={() => {
            const r = evaluateRedFlags(DEF, kind!, flags);
            if (r.unanswered.length) return setErrors(Object.fromEntries(r.unanswered.map((id) => [id, `Answer yes or no: ${qs.find((q) => q.linkId === id)!.text}`])));
            go(r.advice ? { page: 'stop' } : { page: 'question', index: 0 });
          }} />
        </>
      );
      break;
    }
    case 'stop': {
      const advice = evaluateRedFlags(DEF, kind!, flags).advice ?? 'call-111';
      page = (
        <div className="nhsuk-card nhsuk-card--care nhsuk-card--care--emergency" data-testid="red-flag-stop">
          <div className="nhsuk-card--care__heading-container">
            <h1 className="nhsuk-card--care__heading"><span role="text"><span className="nhsuk-u-visually-hidden">Emergency: </span>{advice === 'call-999' ? 'Call 999 now' : 'Call 111 now'}</span></h1>
            <span className="nhsuk-card--care__arrow" aria-hidden="true" />
          </div>
          <div className="nhsuk-card__content">
            <p>{ADVICE_TEXT[advice]}</p>
            <p>Do not use this form. Your answers have not been sent to the practice.</p>
          </div>
        </div>
      );
      break;
    }
    case 'question': {
      const q = questions[step.index];
      if (!q) { page = <p>Loading…</p>; break; }
      const id = q.linkId;
      const next = () => {
        const v = (answers[id] ?? '').trim();
        if (q.required && !v) return setErrors({ [id]: q.type === 'choice' ? `Select an answer: ${q.text}` : `Enter an answer: ${q.text}` });
        if (q.maxLength && v.length > q.maxLength) return setErrors({ [id]: `Your answer must be ${q.maxLength} characters or fewer` });
        const remaining = applicableQuestions(DEF, kind!, answers);
        go(step.index + 1 < remaining.length ? { page: 'question', index: step.index + 1 } : afterQuestions());
      };
      page = q.type === 'choice' ? (
        <><Radios id={id} heading legend={q.text} hint={q.hint} options={q.options ?? []} value={answers[id]} onChange={(v) => setAnswers((a) => ({ ...a, [id]: v }))} error={errors[id]} /><Continue onClick={next} /></>
      ) : (
        <>
          <div className={`nhsuk-form-group${errors[id] ? ' nhsuk-form-group--error' : ''}`}>
            <h1 className="nhsuk-label-wrapper"><label className="nhsuk-label nhsuk-label--l" htmlFor={id}>{q.text}{q.required ? '' : ' (optional)'}</label></h1>
            {q.hint ? <div className="nhsuk-hint" id={`${id}-hint`}>{q.hint}</div> : null}
            <ErrorMessage id={id} message={errors[id]} />
            {q.type === 'long-text' ? (
              <textarea className={`nhsuk-textarea${errors[id] ? ' nhsuk-textarea--error' : ''}`} id={id} name={id} rows={5} value={answers[id] ?? ''} aria-describedby={[q.hint ? `${id}-hint` : '', errors[id] ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined} onChange={(e) => setAnswers((a) => ({ ...a, [id]: e.target.value }))} />
            ) : (
              <input className={`nhsuk-input${errors[id] ? ' nhsuk-input--error' : ''}`} id={id} name={id} value={answers[id] ?? ''} aria-describedby={errors[id] ? `${id}-error` : undefined} onChange={(e) => setAnswers((a) => ({ ...a, [id]: e.target.value }))} />
            )}
          </div>
          <Continue onClick={next} />
        </>
      );
      break;
    }
    case 'photos':
      page = (
        <>
          <div className={`nhsuk-form-group${errors.photos ? ' nhsuk-form-group--error' : ''}`}>
            <h1 className="nhsuk-label-wrapper"><label className="nhsuk-label nhsuk-label--l" htmlFor="photos">Add photos (optional)</label></h1>
            <div className="nhsuk-hint" id="photos-hint">Up to {PHOTO_MAX_COUNT} photos (JPEG, PNG, WebP or HEIC), each under {PHOTO_MAX_BYTES / 1024 / 1024} MB.</div>
            <ErrorMessage id="photos" message={errors.photos} />
            <input className="nhsuk-file-upload" id="photos" name="photos" type="file" multiple accept={PHOTO_CONTENT_TYPES.join(',')} aria-describedby={`photos-hint${errors.photos ? ' photos-error' : ''}`}
              onChange={(e) => setPhotos([...(e.target.files ?? [])])} />
          </div>
          <Continue onClick={() => {
            const bad = photos.find((f) => !(PHOTO_CONTENT_TYPES as readonly string[]).includes(f.type));
            if (bad) return setErrors({ photos: `${bad.name} is not a photo: choose a JPEG, PNG, WebP or HEIC image` });
            const big = photos.find((f) => f.size > PHOTO_MAX_BYTES);
            if (big) return setErrors({ photos: `${big.name} is too big: each photo must be under ${PHOTO_MAX_BYTES / 1024 / 1024} MB` });
            if (photos.length > PHOTO_MAX_COUNT) return setErrors({ photos: `Choose ${PHOTO_MAX_COUNT} photos or fewer` });
            go({ page: 'identity' });
          }} />
        </>
      );
      break;
    case 'identity': {
      const set = (k: keyof Identity) => (v: string) => setIdentity((i) => ({ ...i, [k]: v }));
      const dobError = errors['dob-day'];
      page = (
        <>
          <h1>Your details</h1>
          <TextInput id="givenName" label="First name" value={identity.givenName} onChange={set('givenName')} error={errors.givenName} autoComplete="given-name" />
          <TextInput id="familyName" label="Last name" value={identity.familyName} onChange={set('familyName')} error={errors.familyName} autoComplete="family-name" />
          <div className={`nhsuk-form-group${dobError ? ' nhsuk-form-group--error' : ''}`}>
            <fieldset className="nhsuk-fieldset" role="group" aria-describedby={`dob-hint${dobError ? ' dob-day-error' : ''}`}>
              <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Date of birth</legend>
              <div className="nhsuk-hint" id="dob-hint">For example, 27 3 1984</div>
              <ErrorMessage id="dob-day" message={dobError} />
              <div className="nhsuk-date-input">
                {(['day', 'month', 'year'] as const).map((part) => (
                  <div className="nhsuk-date-input__item" key={part}>
                    <div className="nhsuk-form-group">
                      <label className="nhsuk-label nhsuk-date-input__label" htmlFor={`dob-${part}`}>{part[0]!.toUpperCase() + part.slice(1)}</label>
                      <input className={`nhsuk-input nhsuk-date-input__input nhsuk-input--width-${part === 'year' ? 4 : 2}${dobError ? ' nhsuk-input--error' : ''}`} id={`dob-${part}`} name={`dob-${part}`} inputMode="numeric" value={identity[part]} autoComplete={`bday-${part}`} onChange={(e) => set(part)(e.target.value)} />
                    </div>
                  </div>
                ))}
              </div>
            </fieldset>
          </div>
          <TextInput id="postcode" label="Postcode" value={identity.postcode} onChange={set('postcode')} error={errors.postcode} autoComplete="postal-code" width="10" />
          <TextInput id="nhsNumber" label="NHS number (optional)" hint="This is a 10 digit number, like 999 123 4567" value={identity.nhsNumber} onChange={set('nhsNumber')} error={errors.nhsNumber} inputMode="numeric" width="10" />
          <TextInput id="mobile" label="Mobile phone number" value={identity.mobile} onChange={set('mobile')} error={errors.mobile} autoComplete="tel" type="tel" inputMode="tel" width="20" />
          <TextInput id="email" label="Email address" value={identity.email} onChange={set('email')} error={errors.email} autoComplete="email" type="email" inputMode="email" />
          <Radios id="contact" legend="How should the practice reply?" value={identity.contact} onChange={set('contact')} error={errors.contact} options={[{ code: 'sms', display: 'Text message' }, { code: 'email', display: 'Email' }]} />
          <Continue onClick={() => { const e = identityErrors(identity); if (Object.keys(e).length) setErrors(e); else go({ page: 'check' }); }} />
        </>
      );
      break;
    }
    case 'check': {
      const rows: Array<[string, string]> = [
        ['Request', kind === 'medical' ? 'A medical problem' : 'Something else'],
        ...questions.map((q): [string, string] => [q.text, q.options?.find((o) => o.code === answers[q.linkId])?.display ?? (answers[q.linkId] || 'Not answered')]),
        ...(kind === 'medical' ? [['Photos', photos.length ? photos.map((p) => p.name).join(', ') : 'None'] as [string, string]] : []),
        ['Name', `${identity.givenName} ${identity.familyName}`],
        ['Date of birth', `${identity.day}/${identity.month}/${identity.year}`],
        ['Postcode', identity.postcode.toUpperCase()],
        ['NHS number', identity.nhsNumber || 'Not given'],
        ['Reply by', identity.contact === 'sms' ? `Text message to ${identity.mobile}` : `Email to ${identity.email}`],
      ];
      const submit = async () => {
        setSending(true);
        setErrors({});
        try {
          const payload: SubmissionPayload = {
            submissionId: submissionId(), questionnaireVersion: DEF.version, kind: kind!, redFlags: flags,
            answers: Object.fromEntries(questions.filter((q) => answers[q.linkId]?.trim()).map((q) => [q.linkId, answers[q.linkId]!.trim()])),
            identity: { givenName: identity.givenName.trim(), familyName: identity.familyName.trim(), birthDate: birthDateOf(identity), postcode: identity.postcode.trim().toUpperCase(),
              ...(identity.mobile.trim() ? { mobile: identity.mobile.trim() } : {}), ...(identity.email.trim() ? { email: identity.email.trim() } : {}), ...(identity.nhsNumber.trim() ? { nhsNumber: identity.nhsNumber.replace(/\s/g, '') } : {}) },
            contactPreference: identity.contact as 'sms' | 'email',
            ...(photos.length ? { photos: await Promise.all(photos.map(async (f) => ({ contentType: f.type, data: await readAsBase64(f), filename: f.name }))) } : {}),
          };
          const ok = await send(practice!, payload);
          forgetSubmissionId();
          setAccepted(ok);
          go({ page: 'done' });
        } catch (err) {
          setErrors({ submit: err instanceof SubmitError ? err.message : (err as Error).message });
        } finally {
          setSending(false);
        }
      };
      page = (
        <>
          <h1>Check your answers before sending your request</h1>
          <dl className="nhsuk-summary-list" data-testid="check-answers">
            {rows.map(([k, v]) => (
              <div className="nhsuk-summary-list__row" key={k}><dt className="nhsuk-summary-list__key">{k}</dt><dd className="nhsuk-summary-list__value sf-pre">{v}</dd></div>
            ))}
          </dl>
          <button className="nhsuk-button" id="submit" type="button" disabled={sending} onClick={() => void submit()}>{sending ? 'Sending…' : errors.submit ? 'Try again' : 'Send request'}</button>
        </>
      );
      break;
    }
    case 'done':
      page = (
        <>
          <div className="nhsuk-panel" data-testid="confirmation">
            <h1 className="nhsuk-panel__title">Request sent</h1>
            <div className="nhsuk-panel__body">Your reference number<br /><strong data-testid="reference">{accepted?.reference}</strong></div>
          </div>
          <h2>What happens next</h2>
          <p>{accepted?.nextSteps}</p>
          {accepted?.urgentAdvice ? <Urgent text={accepted.urgentAdvice.message} /> : null}
        </>
      );
      break;
  }

  return (
    <Shell back={history.length > 1 && step.page !== 'done' ? back : undefined}>
      <ErrorSummary errors={errors} />
      {page}
    </Shell>
  );
}

function Continue({ onClick }: { onClick: () => void }) {
  return <button className="nhsuk-button" type="button" onClick={onClick}>Continue</button>;
}

function Urgent({ text }: { text: string }) {
  return <div className="nhsuk-inset-text"><span className="nhsuk-u-visually-hidden">Information: </span><p>{text}</p></div>;
}

function Shell({ children, back }: { children: ReactNode; back?: () => void }) {
  return (
    <>
      <a className="nhsuk-skip-link" href="#maincontent">Skip to main content</a>
      <header className="nhsuk-header" role="banner">
        <div className="nhsuk-header__container nhsuk-width-container">
          <div className="nhsuk-header__service"><span className="nhsuk-header__service-name">Contact your GP practice online</span></div>
        </div>
      </header>
      <div className="nhsuk-width-container">
        {back ? <BackLink onBack={back} /> : null}
        <main className="nhsuk-main-wrapper" id="maincontent" role="main">
          {children}
        </main>
      </div>
    </>
  );
}
