import { useCallback, useEffect, useState } from 'react';
import { mayActOnConsultation, type ConsultationAction } from '@steadfast/domain/access';
import type {
  MatchCandidate, MatchCandidatesResponse, RespondRequest, RespondResult, TriageCategory, TriageDetail, TriageOutcome, TriageUrgency,
} from '@steadfast/domain/api';
import { api } from '../api.ts';
import { formatDate, formatDateTime, formatTime } from '../format.ts';
import { ErrorSummary } from '../layout/ErrorSummary.tsx';
import { onLinkClick } from '../router.ts';
import { useSession } from '../session.ts';
import { ageText } from './TriageInboxPage.tsx';

const outcomes: Array<[TriageOutcome, string]> = [
  ['advice-given', 'Advice given'], ['appointment-booked', 'Appointment booked'], ['consultation', 'Consultation'], ['prescription-issued', 'Prescription issued'],
  ['signposted', 'Signposted elsewhere'], ['no-action', 'No action needed'], ['duplicate', 'Duplicate of another request'],
];
const categories: Array<[TriageCategory, string]> = [
  ['clinical', 'Clinical'], ['repeat-prescription', 'Repeat prescription'], ['fit-note', 'Fit note'], ['letter', 'Letter'], ['results', 'Results query'], ['admin-other', 'Other admin'], ['signpost', 'Signpost elsewhere'],
];
const replyTemplates: Array<[NonNullable<RespondRequest['template']>, string]> = [
  ['free-text', 'Write a message'], ['oc-self-care', 'Self-care advice'], ['oc-please-book', 'Please book an appointment'], ['oc-will-call', 'We will phone you'],
];
const agreedWords: Record<string, string> = { 'nhs-number': 'NHS number', 'birth-date': 'date of birth', 'family-name': 'surname', postcode: 'postcode' };

interface Assignee { id: string; name: string; role: string }
interface Clinician { scheduleId: string; name: string }
interface DiarySlot { id: string; start: string; end: string; status: string; appointment?: unknown }

/**
 * One request: red flags, answers (as text), identity, photos; then the triage actions the signed-in
 * person may take (the care-navigator rule from @steadfast/domain/access, the same the server enforces):
 * match to a registered patient (a person confirms), categorise, set urgency, assign, reply by text or
 * email, book an appointment, turn it into a consultation, close with an outcome.
 */
export function TriageRequestPage({ id }: { id: string }) {
  const { user } = useSession();
  const [r, setR] = useState<TriageDetail | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [candidates, setCandidates] = useState<MatchCandidate[] | undefined>();
  const [assignees, setAssignees] = useState<Assignee[]>([]);
  const [category, setCategory] = useState<TriageCategory | ''>('');
  const [urgency, setUrgency] = useState<TriageUrgency | ''>('');
  const [assigneeId, setAssigneeId] = useState('');
  const [template, setTemplate] = useState<NonNullable<RespondRequest['template']>>('free-text');
  const [replyText, setReplyText] = useState('');
  const [channel, setChannel] = useState<'sms' | 'email'>('sms');
  const [clinicians, setClinicians] = useState<Clinician[] | undefined>();
  const [schedule, setSchedule] = useState('');
  const [day, setDay] = useState(() => new Date().toISOString().slice(0, 10));
  const [slots, setSlots] = useState<DiarySlot[] | undefined>();
  const [slotId, setSlotId] = useState('');
  const [outcome, setOutcome] = useState<TriageOutcome>('advice-given');
  const [note, setNote] = useState('');
  const base = `/api/online-consultations/${encodeURIComponent(id)}`;

  const load = useCallback(async () => {
    try {
      const d = await api<TriageDetail>(base);
      setR(d);
      setCategory(d.category ?? '');
      setUrgency(d.urgency ?? '');
      setAssigneeId(d.assignee?.id ?? '');
      setChannel(d.contactPreference === 'email' && d.identity.email ? 'email' : d.identity.mobile ? 'sms' : 'email');
    } catch (err) {
      setError((err as Error).message);
    }
  }, [base]);
  useEffect(() => void load(), [load]);
  useEffect(() => {
    void api<{ assignees: Assignee[] }>('/api/tasks/assignees').then((a) => setAssignees(a.assignees), () => setAssignees([]));
  }, []);

  const act = async (path: string, json: unknown, done: (out: any) => string) => {
    try {
      const out = await api<any>(`${base}/${path}`, { method: 'POST', json });
      setNotice(done(out));
      setError(undefined);
      await load();
      return true;
    } catch (err) {
      setError((err as Error).message);
      setNotice(undefined);
      return false;
    }
  };

  const findPatient = async () => {
    try {
      setCandidates((await api<MatchCandidatesResponse>(`${base}/match-candidates`)).candidates);
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const loadClinicians = async () => {
    try {
      const c = (await api<{ clinicians: Clinician[] }>('/api/appointments/clinicians')).clinicians;
      setClinicians(c);
      if (c[0] && !schedule) setSchedule(c[0].scheduleId);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const loadSlots = async () => {
    if (!schedule) return setError('Choose a clinician to see their free appointments');
    try {
      const diary = await api<{ slots: DiarySlot[] }>(`/api/appointments/diary?schedule=${encodeURIComponent(schedule)}&from=${encodeURIComponent(day)}&days=1`);
      const free = diary.slots.filter((s) => s.status === 'free' && !s.appointment && Date.parse(s.start) > Date.now());
      setSlots(free);
      setSlotId(free[0]?.id ?? '');
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  if (!r) return error ? <ErrorSummary message={error} testId="oc-error" /> : <p>Loading…</p>;
  const may = (a: ConsultationAction) => mayActOnConsultation(user.role, a, { kind: r.kind, category: r.category ?? null, redFlags: r.redFlags });
  const open = r.status !== 'closed';
  const contactFor = (c: 'sms' | 'email') => (c === 'sms' ? r.identity.mobile : r.identity.email);

  return (
    <>
      <p><a href="/online-consultations" onClick={onLinkClick('/online-consultations')}>All requests</a></p>
      <h1>{r.reference}: {r.kind === 'medical' ? 'medical request' : 'admin request'}</h1>
      {error ? <ErrorSummary message={error} testId="oc-error" /> : null}
      {notice ? <div className="nhsuk-inset-text" role="status" data-testid="oc-notice"><p>{notice}</p></div> : null}
      {r.redFlagAnswers.filter((f) => f.answer).map((f) => (
        <p key={f.linkId}><strong className="nhsuk-tag nhsuk-tag--red">Red flag ({f.advice === 'call-999' ? '999' : '111'})</strong> {f.question}</p>
      ))}
      <dl className="nhsuk-summary-list" data-testid="oc-detail">
        <div className="nhsuk-summary-list__row"><dt className="nhsuk-summary-list__key">Received</dt><dd className="nhsuk-summary-list__value">{formatDateTime(r.receivedAt)} ({ageText(r.ageMinutes)} ago, via {r.receivedVia})</dd></div>
        <div className="nhsuk-summary-list__row"><dt className="nhsuk-summary-list__key">Patient as given</dt><dd className="nhsuk-summary-list__value">{r.identity.givenName} {r.identity.familyName}, born {formatDate(r.identity.birthDate)}, {r.identity.postcode}{r.identity.nhsNumber ? `, NHS number ${r.identity.nhsNumber}` : ''}</dd></div>
        <div className="nhsuk-summary-list__row"><dt className="nhsuk-summary-list__key">Registered patient</dt><dd className="nhsuk-summary-list__value" data-testid="oc-matched">{r.matchedPatient ? r.matchedPatient.name : 'Not matched yet'}</dd></div>
        <div className="nhsuk-summary-list__row"><dt className="nhsuk-summary-list__key">Contact given</dt><dd className="nhsuk-summary-list__value">{[r.identity.mobile && `mobile ${r.identity.mobile}`, r.identity.email && `email ${r.identity.email}`].filter(Boolean).join(', ')} (prefers {r.contactPreference === 'sms' ? 'text' : 'email'})</dd></div>
        {r.answers.map((a) => (
          <div className="nhsuk-summary-list__row" key={a.linkId}><dt className="nhsuk-summary-list__key">{a.question}</dt><dd className="nhsuk-summary-list__value" style={{ whiteSpace: 'pre-wrap' }}>{a.answer}</dd></div>
        ))}
        <div className="nhsuk-summary-list__row"><dt className="nhsuk-summary-list__key">Photos</dt><dd className="nhsuk-summary-list__value">{r.photos.length ? r.photos.map((p) => <a key={p.id} href={`${base}/photos/${encodeURIComponent(p.id)}`}>{p.filename ?? p.id} </a>) : 'None'}</dd></div>
        <div className="nhsuk-summary-list__row"><dt className="nhsuk-summary-list__key">Status</dt><dd className="nhsuk-summary-list__value" data-testid="oc-status">{r.status}{r.category ? `, ${r.category}` : ''}{r.urgency ? `, ${r.urgency}` : ''}{r.assignee ? `, assigned to ${r.assignee.name}` : ''}{r.outcome ? `, ${r.outcome}` : ''}</dd></div>
        {r.appointmentId ? <div className="nhsuk-summary-list__row"><dt className="nhsuk-summary-list__key">Appointment</dt><dd className="nhsuk-summary-list__value" data-testid="oc-appointment">Booked ({r.appointmentId})</dd></div> : null}
      </dl>

      {open ? (
        <>
          <h2>Registered patient</h2>
          {r.matchedPatient ? (
            <p>
              Matched to <strong>{r.matchedPatient.name}</strong>.{' '}
              <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void act('match', { patientId: null }, () => 'Match removed')}>Remove this match</button>
            </p>
          ) : (
            <>
              <p>Replies, bookings and consultations need the request matched to a registered patient. Steadfast only suggests a match when the NHS number and one more detail agree; you confirm it.</p>
              <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void findPatient()}>Find the patient</button>
              {candidates ? (
                candidates.length ? (
                  <table className="nhsuk-table sf-dense" data-testid="oc-candidates">
                    <caption className="nhsuk-table__caption">Possible patients</caption>
                    <thead className="nhsuk-table__head"><tr><th scope="col">Name</th><th scope="col">Born</th><th scope="col">NHS number</th><th scope="col">Postcode</th><th scope="col">Agrees on</th><th scope="col">Action</th></tr></thead>
                    <tbody className="nhsuk-table__body">
                      {candidates.map((c) => (
                        <tr key={c.patientId} data-testid="oc-candidate">
                          <td>{c.name}{c.proposed ? <> <strong className="nhsuk-tag nhsuk-tag--green">Suggested</strong></> : null}</td>
                          <td>{formatDate(c.birthDate)}</td><td>{c.nhsNumber ?? ''}</td><td>{c.postcode ?? ''}</td>
                          <td>{c.agreed.map((a) => agreedWords[a] ?? a).join(', ') || 'nothing'}</td>
                          <td><button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" onClick={() => void act('match', { patientId: c.patientId }, () => `Matched to ${c.name}`).then((ok) => ok && setCandidates(undefined))}>Confirm {c.name}</button></td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : <p data-testid="oc-candidates">No registered patient has this NHS number, or this surname and date of birth. Phone the patient, or register them first.</p>
              ) : null}
            </>
          )}

          <h2>Triage</h2>
          {may('triage') ? (
            <div className="nhsuk-grid-row">
              <div className="nhsuk-grid-column-one-half">
                <div className="nhsuk-form-group">
                  <label className="nhsuk-label" htmlFor="oc-category">Category</label>
                  <select className="nhsuk-select" id="oc-category" value={category} onChange={(e) => setCategory(e.target.value as TriageCategory)}>
                    <option value="">Not categorised</option>
                    {categories.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
                  </select>
                </div>
                <div className="nhsuk-form-group">
                  <label className="nhsuk-label" htmlFor="oc-urgency">Urgency</label>
                  <select className="nhsuk-select" id="oc-urgency" value={urgency} onChange={(e) => setUrgency(e.target.value as TriageUrgency)}>
                    <option value="">Not set</option>
                    <option value="urgent">Urgent (today)</option>
                    <option value="soon">Soon (within 2 days)</option>
                    <option value="routine">Routine</option>
                  </select>
                </div>
                <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void act('triage', { ...(category ? { category } : {}), ...(urgency ? { urgency } : {}) }, () => 'Triage saved')}>Save triage</button>
              </div>
            </div>
          ) : (
            <div className="nhsuk-inset-text"><p>This is a clinical request{r.redFlags.length ? ' with red flags' : ''}: assign it to a clinician, who will set its urgency and reply.</p></div>
          )}
          {may('assign') ? (
            <div className="nhsuk-form-group">
              <label className="nhsuk-label" htmlFor="oc-assignee">Assign to</label>
              <select className="nhsuk-select" id="oc-assignee" value={assigneeId} onChange={(e) => setAssigneeId(e.target.value)}>
                <option value="">Nobody (the practice's queue)</option>
                {assignees.map((a) => <option key={a.id} value={a.id}>{a.name} ({a.role === 'receptionist' ? 'care navigator' : a.role})</option>)}
              </select>{' '}
              <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" onClick={() => void act('triage', { assigneeId: assigneeId || null }, (d: TriageDetail) => (d.assignee ? `Assigned to ${d.assignee.name}` : 'Returned to the queue'))}>Assign</button>
            </div>
          ) : null}

          {may('reply') ? (
            <>
              <h2>Reply to the patient</h2>
              <p className="nhsuk-body-s">Sent to the contact details given on this request, and kept in the patient&apos;s record.</p>
              <div className="nhsuk-form-group">
                <fieldset className="nhsuk-fieldset">
                  <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Send by</legend>
                  <div className="nhsuk-radios nhsuk-radios--inline">
                    {(['sms', 'email'] as const).map((c) => (
                      <div className="nhsuk-radios__item" key={c}>
                        <input className="nhsuk-radios__input" id={`oc-channel-${c}`} type="radio" name="oc-channel" value={c} checked={channel === c} disabled={!contactFor(c)} onChange={() => setChannel(c)} />
                        <label className="nhsuk-label nhsuk-radios__label" htmlFor={`oc-channel-${c}`}>{c === 'sms' ? 'Text message' : 'Email'}{contactFor(c) ? ` to ${contactFor(c)}` : ' (none given)'}</label>
                      </div>
                    ))}
                  </div>
                </fieldset>
              </div>
              <div className="nhsuk-form-group">
                <label className="nhsuk-label" htmlFor="oc-template">Message</label>
                <select className="nhsuk-select" id="oc-template" value={template} onChange={(e) => setTemplate(e.target.value as typeof template)}>
                  {replyTemplates.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
                </select>
              </div>
              {template === 'free-text' ? (
                <div className="nhsuk-form-group">
                  <label className="nhsuk-label" htmlFor="oc-reply">Your message (plain sentences, no links)</label>
                  <textarea className="nhsuk-textarea" id="oc-reply" rows={4} value={replyText} onChange={(e) => setReplyText(e.target.value)} />
                </div>
              ) : null}
              <button type="button" className="nhsuk-button" disabled={template === 'free-text' && !replyText.trim()} onClick={() => void act('respond', { channel, template, ...(template === 'free-text' ? { text: replyText } : {}) }, (o: RespondResult) => { setReplyText(''); return `Reply queued to ${o.toMasked}`; })}>Send reply</button>
            </>
          ) : null}

          {may('book') ? (
            <>
              <h2>Book an appointment</h2>
              {clinicians === undefined ? (
                <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void loadClinicians()}>Find a free appointment</button>
              ) : (
                <>
                  <div className="nhsuk-form-group">
                    <label className="nhsuk-label" htmlFor="oc-schedule">With</label>
                    <select className="nhsuk-select" id="oc-schedule" value={schedule} onChange={(e) => { setSchedule(e.target.value); setSlots(undefined); }}>
                      {clinicians.map((c) => <option key={c.scheduleId} value={c.scheduleId}>{c.name}</option>)}
                    </select>
                  </div>
                  <div className="nhsuk-form-group">
                    <label className="nhsuk-label" htmlFor="oc-day">Day</label>
                    <input className="nhsuk-input nhsuk-input--width-10" id="oc-day" type="date" value={day} onChange={(e) => { setDay(e.target.value); setSlots(undefined); }} />
                  </div>
                  <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void loadSlots()}>Show free times</button>
                  {slots ? (
                    slots.length ? (
                      <div className="nhsuk-form-group">
                        <label className="nhsuk-label" htmlFor="oc-slot">Free time</label>
                        <select className="nhsuk-select" id="oc-slot" value={slotId} onChange={(e) => setSlotId(e.target.value)}>
                          {slots.map((s) => <option key={s.id} value={s.id}>{formatTime(s.start)} to {formatTime(s.end)}</option>)}
                        </select>{' '}
                        <button type="button" className="nhsuk-button nhsuk-u-margin-bottom-0" disabled={!r.matchedPatient} onClick={() => void act('book', { slotId }, () => 'Appointment booked').then((ok) => ok && setSlots(undefined))}>Book this appointment</button>
                        {!r.matchedPatient ? <p className="nhsuk-hint">Match the request to a registered patient first.</p> : null}
                      </div>
                    ) : <p data-testid="oc-no-slots">No free appointments that day.</p>
                  ) : null}
                </>
              )}
            </>
          ) : null}

          {may('consult') ? (
            <>
              <h2>Consultation</h2>
              <button type="button" className="nhsuk-button nhsuk-button--secondary" disabled={!r.matchedPatient || !!r.encounterId} onClick={() => void act('consult', {}, (o: { encounterId: string }) => `Consultation started (${o.encounterId})`)}>Turn into a consultation</button>
            </>
          ) : null}

          {may('close') ? (
            <>
              <h2>Close</h2>
              <div className="nhsuk-form-group">
                <label className="nhsuk-label" htmlFor="oc-outcome">Outcome</label>
                <select className="nhsuk-select" id="oc-outcome" value={outcome} onChange={(e) => setOutcome(e.target.value as TriageOutcome)}>
                  {outcomes.map(([o, l]) => <option key={o} value={o}>{l}</option>)}
                </select>
              </div>
              <div className="nhsuk-form-group">
                <label className="nhsuk-label" htmlFor="oc-note">Note (optional)</label>
                <input className="nhsuk-input" id="oc-note" value={note} onChange={(e) => setNote(e.target.value)} maxLength={500} />
              </div>
              <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void act('close', { outcome, ...(note.trim() ? { note: note.trim() } : {}) }, () => 'Closed')}>Close request</button>
            </>
          ) : null}
        </>
      ) : null}
      <h2>History</h2>
      <ul data-testid="oc-history">{r.history.map((h, i) => <li key={i}>{formatDateTime(h.at)} {h.by}: {h.action} {h.detail}</li>)}</ul>
    </>
  );
}
