import { useEffect, useState, type FormEvent } from 'react';
import type { MessageTemplate, ResultMessageOutcome, ResultMessageTemplate } from '@steadfast/domain/api';
import { api, load, type Loaded } from '../api.ts';
import type { DiagnosticReport, HumanName, Observation, Task } from '../fhirTypes.ts';
import { formatDate, formatDateTime, labName, patientName } from '../format.ts';
import { navigate, onLinkClick } from '../router.ts';
import { Section } from '../record/Section.tsx';
import { direction, numericValue, sparkline } from './trend.ts';
import { abnormalText, flagText, isCritical } from './ResultsInboxPage.tsx';
import { displayQuantity } from '@steadfast/domain/units';
import { formatNhsNumber } from '@steadfast/domain/nhs-number';

interface Previous {
  date: string;
  value: string;
  interpretation: string;
  status: string;
}
interface ResultViewData {
  task: Task;
  report: DiagnosticReport;
  observations: Observation[];
  previous: Record<string, Previous[]>;
  patient?: { id: string; name?: HumanName; birthDate?: string; nhsNumber?: string };
  flags: string[];
}

const actions = [
  { key: 'normal', label: 'Normal, no action' },
  { key: 'routine-appointment', label: 'Needs a routine appointment' },
  { key: 'urgent-contact', label: 'Needs urgent contact' },
  { key: 'message-patient', label: 'Send the patient a message' },
] as const;

/** The results messages that go with each filing (the server checks the same: pathology/inbox.ts). */
const messagesFor: Record<string, readonly ResultMessageTemplate[]> = {
  normal: ['result-normal'],
  'routine-appointment': ['result-book-routine'],
  'urgent-contact': [],
  'message-patient': ['result-normal', 'result-book-routine'],
};
const messageLabel: Record<ResultMessageTemplate, string> = {
  'result-normal': 'Text: result normal, no action',
  'result-book-routine': 'Text: please book a routine appointment',
};

function valueText(o: Observation): string {
  if (o.valueQuantity) return displayQuantity(o.valueQuantity);
  return o.valueString ?? o.valueCodeableConcept?.text ?? '';
}

function rangeText(o: Observation): string {
  const r = o.referenceRange?.[0];
  if (!r) return '';
  if (r.text) return r.text;
  return [r.low?.value, r.high?.value].every((v) => v !== undefined) ? `${r.low!.value}–${r.high!.value}` : r.high?.value !== undefined ? `< ${r.high.value}` : r.low?.value !== undefined ? `> ${r.low.value}` : '';
}

const ABNORMAL = new Set(Object.keys(abnormalText));

/** The values of this result outside their range (withdrawn values aside). */
function abnormalValues(observations: Observation[]): Array<{ test: string; flag: string }> {
  return observations
    .filter((o) => o.status !== 'cancelled' && o.status !== 'entered-in-error')
    .map((o) => ({ test: o.code.text ?? o.code.coding?.[0]?.display ?? o.code.coding?.[0]?.code ?? 'Test', flag: o.interpretation?.[0]?.coding?.[0]?.code ?? '' }))
    .filter((v) => ABNORMAL.has(v.flag));
}

function Trend({ current, previous }: { current: Observation; previous: Previous[] }) {
  const now = numericValue(current.valueQuantity?.value);
  const points = [...previous.map((p) => ({ date: p.date, value: numericValue(p.value) })), { date: current.effectiveDateTime ?? '9999', value: now }].filter(
    (p): p is { date: string; value: number } => p.value !== undefined,
  );
  const line = sparkline(points);
  const dir = direction(now, numericValue(previous[0]?.value));
  return (
    <>
      {line ? (
        <svg width="120" height="28" role="img" aria-label={`Trend of the last ${points.length} values${dir ? `, ${dir === 'steady' ? 'steady' : dir === 'up' ? 'rising' : 'falling'}` : ''}`} className="sf-sparkline">
          <polyline points={line} fill="none" stroke="currentColor" strokeWidth="2" />
        </svg>
      ) : null}
      {previous.length ? (
        <ul className="nhsuk-list nhsuk-body-s nhsuk-u-margin-bottom-0">
          {previous.slice(0, 3).map((p) => (
            <li key={`${p.date}${p.value}`}>
              {formatDate(p.date)}: {p.value} {p.interpretation ? `(${abnormalText[p.interpretation] ?? p.interpretation})` : ''}
            </li>
          ))}
        </ul>
      ) : (
        <span className="nhsuk-body-s">No earlier result</span>
      )}
    </>
  );
}

/** One result from the inbox: the report, each value beside its earlier values and trend, and filing. */
export function ResultView({ taskId }: { taskId: string }) {
  const [data, setData] = useState<Loaded<ResultViewData>>({ state: 'loading' });
  const [action, setAction] = useState<string>('');
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  /** Set when "normal, no action" was chosen for a result with abnormal values: the clinician confirms first. */
  const [confirming, setConfirming] = useState<Array<{ test: string; flag: string }> | undefined>();

  const [message, setMessage] = useState<ResultMessageTemplate | 'none' | ''>('');
  const [templates, setTemplates] = useState<MessageTemplate[]>([]);
  const [filed, setFiled] = useState<{ message: ResultMessageOutcome | null } | undefined>();
  useEffect(() => {
    void load(() => api<ResultViewData>(`/api/pathology/inbox/${encodeURIComponent(taskId)}`)).then(setData);
    // The practice's wording, to show the clinician what the patient will read.
    void api<MessageTemplate[]>('/api/messaging/templates').then(setTemplates, () => setTemplates([]));
  }, [taskId]);

  const choose = (key: string) => {
    setAction(key);
    setConfirming(undefined);
    const fits = messagesFor[key] ?? [];
    // The matching message is offered ready to send; "send the patient a message" asks which.
    setMessage(key === 'message-patient' ? '' : fits.length === 1 ? fits[0]! : 'none');
    setError(undefined);
  };
  const choices = action ? (messagesFor[action] ?? []) : [];
  const preview = message && message !== 'none' ? templates.find((t) => t.key === message)?.body : undefined;

  const file = async (e: FormEvent | undefined, confirmed = false) => {
    e?.preventDefault();
    if (!action) {
      setError('Choose how to file this result');
      return;
    }
    if (!message) {
      setError('Choose the message to send the patient');
      return;
    }
    const abnormal = data.state === 'ok' ? abnormalValues(data.value.observations) : [];
    if (action === 'normal' && abnormal.length && !confirmed) {
      setConfirming(abnormal);
      setError(undefined);
      return;
    }
    setBusy(true);
    try {
      const res = await api<{ message: ResultMessageOutcome | null }>(`/api/pathology/inbox/${encodeURIComponent(taskId)}/file`, {
        method: 'POST',
        json: { action, message, ...(comment.trim() ? { comment: comment.trim() } : {}), ...(action === 'normal' && confirmed ? { confirmAbnormal: true } : {}) },
      });
      if (!res.message) {
        navigate('/results');
        return;
      }
      setFiled({ message: res.message });
      setBusy(false);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  return (
    <Section data={data} what="the result">
      {(v) => (
        <>
          <p>
            <a className="nhsuk-back-link__link" href="/results" onClick={onLinkClick('/results')}>
              Results
            </a>
          </p>
          <h1 data-testid="result-title">{v.report.code?.text ?? v.report.code?.coding?.[0]?.display ?? 'Result'}</h1>
          <p className="nhsuk-body-l" data-testid="result-patient">
            {v.patient ? (
              <a href={`/patient/${v.patient.id}`} onClick={onLinkClick(`/patient/${v.patient.id}`)}>
                {patientName(v.patient.name ? [v.patient.name] : undefined)}
              </a>
            ) : (
              'Unknown patient'
            )}
            {v.patient?.birthDate ? `, born ${formatDate(v.patient.birthDate)}` : ''}
            {v.patient ? (
              <>
                , NHS number <span className="sf-nowrap" data-testid="result-nhs-number">{v.patient.nhsNumber ? formatNhsNumber(v.patient.nhsNumber) : 'not recorded'}</span>
              </>
            ) : null}
          </p>
          {v.flags.includes('correction') ? (
            <div className="nhsuk-warning-callout" data-testid="result-correction">
              <h2 className="nhsuk-warning-callout__label">
                <span role="text">
                  <span className="nhsuk-u-visually-hidden">Important: </span>Corrected by the laboratory
                </span>
              </h2>
              <p>This report replaces one filed earlier. Check whether anything was done on the earlier values.</p>
            </div>
          ) : null}
          <p className="nhsuk-body-s">
            {v.report.status === 'preliminary' ? 'Preliminary report. ' : ''}Taken {formatDateTime(v.report.effectiveDateTime)}; reported {formatDateTime(v.report.issued)} by {labName(v.report.performer?.[0]?.display)}.
            {v.flags.filter((f) => f !== 'correction').map((f) => ` ${flagText[f] ?? f}.`)}
          </p>
          <table className="nhsuk-table" data-testid="result-values">
            <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Values with earlier results</caption>
            <thead className="nhsuk-table__head">
              <tr>
                <th scope="col">Test</th>
                <th scope="col">Value</th>
                <th scope="col">Range</th>
                <th scope="col">Earlier results</th>
              </tr>
            </thead>
            <tbody className="nhsuk-table__body">
              {v.observations.map((o) => {
                const flag = o.interpretation?.[0]?.coding?.[0]?.code ?? '';
                const code = o.code.coding?.[0]?.code ?? '';
                return (
                  <tr key={o.id} data-testid="result-value">
                    <td>{o.code.text ?? o.code.coding?.[0]?.display ?? code}</td>
                    <td>
                      <strong>{valueText(o)}</strong> {flag && flag !== 'N' ? <strong className={`nhsuk-tag ${flag.length === 2 ? 'nhsuk-tag--red' : 'nhsuk-tag--orange'}`}>{abnormalText[flag] ?? flag}</strong> : null}
                      {o.status === 'cancelled' ? ' (withdrawn by the laboratory)' : ''}
                    </td>
                    <td>{rangeText(o)}</td>
                    <td>
                      <Trend current={o} previous={v.previous[code] ?? []} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {v.report.conclusion ? <p className="nhsuk-inset-text">{v.report.conclusion}</p> : null}
          {filed ? (
            <div className="nhsuk-inset-text" role="status" data-testid="result-message-outcome">
              <h2 className="nhsuk-heading-s">Result filed</h2>
              {filed.message?.outcome === 'queued' ? (
                <p>{filed.message.channel === 'sms' ? 'A text message' : 'An email'} to the patient is queued; it is sent as soon as GOV.UK Notify can be reached. Its delivery shows in the patient's Messages.</p>
              ) : filed.message?.outcome === 'reception-task' ? (
                <p>
                  The patient was not messaged: {filed.message.reason}. A task asks reception to tell them by phone or in person.
                </p>
              ) : null}
              <p>
                <a href="/results" onClick={onLinkClick('/results')}>
                  Back to results
                </a>
              </p>
            </div>
          ) : v.task.status === 'completed' ? (
            <p data-testid="result-filed">Filed: {v.task.businessStatus?.text}</p>
          ) : (
            <form onSubmit={(e) => void file(e)} noValidate data-testid="result-file">
              {error ? (
                <p className="nhsuk-error-message" role="alert">
                  {error}
                </p>
              ) : null}
              <fieldset className="nhsuk-fieldset">
                <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">File this result</legend>
                <div className="nhsuk-radios">
                  {actions.map((a) => (
                    <div className="nhsuk-radios__item" key={a.key}>
                      <input className="nhsuk-radios__input" id={`file-${a.key}`} type="radio" name="file-action" checked={action === a.key} onChange={() => choose(a.key)} />
                      <label className="nhsuk-label nhsuk-radios__label" htmlFor={`file-${a.key}`}>
                        {a.label}
                      </label>
                    </div>
                  ))}
                </div>
              </fieldset>
              {action ? (
                <fieldset className="nhsuk-fieldset nhsuk-u-margin-top-3" data-testid="result-message-choice">
                  <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Tell the patient</legend>
                  {action === 'urgent-contact' ? <p className="nhsuk-hint">An urgent result is told by phone: the urgent task asks for a call, not a text.</p> : null}
                  <div className="nhsuk-radios nhsuk-radios--small">
                    {[...choices, ...(action === 'message-patient' ? [] : (['none'] as const))].map((m) => (
                      <div className="nhsuk-radios__item" key={m}>
                        <input className="nhsuk-radios__input" id={`message-${m}`} type="radio" name="result-message" checked={message === m} onChange={() => setMessage(m)} />
                        <label className="nhsuk-label nhsuk-radios__label" htmlFor={`message-${m}`}>
                          {m === 'none' ? 'No message' : messageLabel[m]}
                        </label>
                      </div>
                    ))}
                  </div>
                  {preview ? (
                    <p className="nhsuk-body-s nhsuk-u-margin-top-2" data-testid="result-message-preview">
                      The patient will read: “{preview}”. If they cannot be texted, reception is asked to tell them.
                    </p>
                  ) : null}
                </fieldset>
              ) : null}
              <div className="nhsuk-form-group nhsuk-u-margin-top-3">
                <label className="nhsuk-label" htmlFor="file-comment">
                  Comment (for the record; not sent to the patient)
                </label>
                <textarea className="nhsuk-textarea" id="file-comment" rows={2} value={comment} onChange={(e) => setComment(e.target.value)} maxLength={2000} />
              </div>
              {confirming ? (
                <div className="nhsuk-warning-callout" role="alertdialog" aria-labelledby="confirm-normal-title" aria-describedby="confirm-normal-text" data-testid="confirm-normal">
                  <h2 className="nhsuk-warning-callout__label" id="confirm-normal-title">
                    <span role="text">
                      <span className="nhsuk-u-visually-hidden">Important: </span>File an abnormal result as normal?
                    </span>
                  </h2>
                  <p id="confirm-normal-text">
                    This result has {confirming.some((v) => isCritical(v.flag)) ? 'critical' : 'abnormal'} values:{' '}
                    {confirming.map((v) => `${v.test} (${abnormalText[v.flag] ?? v.flag})`).join(', ')}. Filing it as normal means nobody acts on it.
                  </p>
                  <button className="nhsuk-button nhsuk-button--warning nhsuk-u-margin-bottom-0" type="button" disabled={busy} onClick={() => void file(undefined, true)} autoFocus>
                    Yes, file as normal
                  </button>{' '}
                  <button className="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" type="button" onClick={() => setConfirming(undefined)}>
                    Choose another action
                  </button>
                </div>
              ) : (
                <button className="nhsuk-button" type="submit" disabled={busy}>
                  File result
                </button>
              )}
            </form>
          )}
        </>
      )}
    </Section>
  );
}
