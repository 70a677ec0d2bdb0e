/**
 * The Messages tab of the patient record: every message sent to this patient with its delivery
 * status, a free-text message from the record, and the patient's contact details and preferences.
 * The recipient is named on the Send button (name and number) so a message cannot go to the wrong
 * patient unseen; a patient who must not or cannot be messaged is told so before anything is typed.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { PatientContact, PatientMessage } from '@steadfast/domain/api';
import { freeTextProblem } from '@steadfast/domain/messaging';
import { normaliseEmail, normaliseUkMobile } from '@steadfast/domain/contact';
import { SteadfastError } from '@steadfast/domain/errors';
import type { Patient } from '../fhirTypes.ts';
import { api } from '../api.ts';
import { formatDateTime, patientName } from '../format.ts';
import { CHANNEL_LABEL, DeliveryTag, describedBy, Field, newSendKey, ProblemSummary, problemFor, problemsOf, type Problem } from './forms.tsx';
import { SmsCount } from './SmsCount.tsx';

const FINAL = new Set(['delivered', 'permanent-failure', 'temporary-failure', 'technical-failure', 'failed', 'cancelled']);

export function PatientMessages({ patient }: { patient: Patient & { id?: string } }) {
  const patientId = patient.id!;
  const [contact, setContact] = useState<PatientContact | undefined>();
  const [messages, setMessages] = useState<PatientMessage[] | undefined>();
  const [loadError, setLoadError] = useState<string | undefined>();

  const refresh = useCallback(async () => {
    try {
      const [c, m] = await Promise.all([api<PatientContact>(`/api/messaging/patients/${patientId}/contact`), api<PatientMessage[]>(`/api/messaging/patients/${patientId}/messages`)]);
      setContact(c);
      setMessages(m);
      setLoadError(undefined);
    } catch (err) {
      setLoadError((err as Error).message);
    }
  }, [patientId]);
  useEffect(() => void refresh(), [refresh]);
  // While a message is on its way, follow it to its final status.
  const moving = (messages ?? []).some((m) => !FINAL.has(m.status));
  useEffect(() => {
    if (!moving) return;
    const t = setInterval(() => void refresh(), 5_000);
    return () => clearInterval(t);
  }, [moving, refresh]);

  if (loadError) return <p className="nhsuk-error-message" role="alert">Messages could not be loaded: {loadError}</p>;
  if (!contact || !messages) return <p aria-busy="true">Loading messages…</p>;
  return (
    <>
      <h2>Messages</h2>
      <SendMessage patient={patient} contact={contact} onSent={refresh} />
      <MessageHistory messages={messages} />
      <ContactDetails patientId={patientId} contact={contact} onSaved={(c) => setContact(c)} />
    </>
  );
}

function MessageHistory({ messages }: { messages: PatientMessage[] }) {
  return (
    <>
      <h3>Sent to this patient</h3>
      {messages.length === 0 ? (
        <p data-testid="messages-none">No messages have been sent to this patient.</p>
      ) : (
        <table className="nhsuk-table" data-testid="messages-history">
          <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Messages sent to this patient</caption>
          <thead className="nhsuk-table__head">
            <tr>
              <th scope="col">When</th>
              <th scope="col">How</th>
              <th scope="col">Message</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody className="nhsuk-table__body">
            {messages.map((m) => (
              <tr key={m.communicationId} data-testid="message-row">
                <td>{formatDateTime(m.createdAt)}</td>
                <td>
                  {CHANNEL_LABEL[m.channel] ?? m.channel}
                  {m.sentBy ? <><br /><span className="nhsuk-body-s">by {m.sentBy}</span></> : null}
                </td>
                <td className="sf-message-preview">{m.body}</td>
                <td data-testid="message-status">
                  <DeliveryTag status={m.status} />
                  {m.error ? <p className="nhsuk-body-s nhsuk-u-margin-top-1">{m.error}</p> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function SendMessage({ patient, contact, onSent }: { patient: Patient & { id?: string }; contact: PatientContact; onSent: () => Promise<void> }) {
  const [chosen, setChannel] = useState<'sms' | 'email'>('sms');
  const [text, setText] = useState('');
  const [key, setKey] = useState(newSendKey);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [sending, setSending] = useState(false);
  const [notice, setNotice] = useState<string | undefined>();
  const name = patientName(patient.name);

  if (contact.doNotContact) {
    return (
      <div className="nhsuk-warning-callout" data-testid="messages-do-not-contact">
        <h3 className="nhsuk-warning-callout__label">
          <span role="text">
            <span className="nhsuk-u-visually-hidden">Important: </span>Do not contact
          </span>
        </h3>
        <p>This patient has asked not to be contacted by the practice. No message can be sent from here; speak to them in person if you must.</p>
      </div>
    );
  }
  const canSms = Boolean(contact.mobile && contact.smsConsent);
  const canEmail = Boolean(contact.email);
  if (!canSms && !canEmail) {
    return (
      <div className="nhsuk-inset-text" data-testid="messages-unreachable">
        <p>
          This patient cannot be sent a text or email:{' '}
          {!contact.mobile ? 'there is no UK mobile number' : 'they have not agreed to text messages'}
          {!contact.email ? ' and no email address' : ''}. Update the contact details below, or tell them another way.
        </p>
      </div>
    );
  }
  // What was chosen, unless the contact details (just changed, perhaps) no longer allow it.
  const channel: 'sms' | 'email' = chosen === 'sms' ? (canSms ? 'sms' : 'email') : canEmail ? 'email' : 'sms';
  const to = channel === 'sms' ? contact.mobile! : contact.email!;
  const send = async (e: FormEvent) => {
    e.preventDefault();
    setNotice(undefined);
    const local = freeTextProblem(text);
    if (local) {
      setProblems(problemsOf(local));
      return;
    }
    setSending(true);
    try {
      await api(`/api/messaging/patients/${patient.id}/messages`, { method: 'POST', json: { template: 'free-text', channel, text, key } });
      setNotice(`Message to ${name} (${to}) queued. Its delivery status is shown below.`);
      setText('');
      setProblems([]);
      setKey(newSendKey());
      await onSent();
    } catch (err) {
      // Keep the key: pressing Send again after a lost answer is the same message, not a second one.
      setProblems(problemsOf(err));
    } finally {
      setSending(false);
    }
  };
  const textError = problemFor(problems, 'text');
  return (
    <form onSubmit={send} noValidate data-testid="message-form">
      <h3>Send a message</h3>
      <ProblemSummary problems={problems} ids={{ text: 'message-text', mobile: 'contact-mobile', email: 'contact-email' }} testId="message-problems" />
      {canSms && canEmail ? (
        <div className="nhsuk-form-group">
          <fieldset className="nhsuk-fieldset">
            <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Send as</legend>
            <div className="nhsuk-radios nhsuk-radios--inline">
              {(['sms', 'email'] as const).map((c) => (
                <div className="nhsuk-radios__item" key={c}>
                  <input className="nhsuk-radios__input" id={`message-channel-${c}`} name="message-channel" type="radio" value={c} checked={channel === c} onChange={() => setChannel(c)} />
                  <label className="nhsuk-label nhsuk-radios__label" htmlFor={`message-channel-${c}`}>
                    {c === 'sms' ? `Text message to ${contact.mobile}` : `Email to ${contact.email}`}
                  </label>
                </div>
              ))}
            </div>
          </fieldset>
        </div>
      ) : null}
      <Field id="message-text" label="Message" hint="Plain sentences only: no links. The practice name is added at the end." error={textError}>
        <textarea className={`nhsuk-textarea${textError ? ' nhsuk-textarea--error' : ''}`} id="message-text" rows={4} value={text} onChange={(e) => setText(e.target.value)} aria-describedby={[describedBy('message-text', true, textError), channel === 'sms' ? 'message-count' : ''].filter(Boolean).join(' ')} />
      </Field>
      {channel === 'sms' ? <SmsCount text={text} id="message-count" /> : null}
      <button className="nhsuk-button" type="submit" disabled={sending} data-testid="message-send">
        Send {channel === 'sms' ? 'text message' : 'email'} to {name} ({to})
      </button>
      {notice ? (
        <div className="nhsuk-inset-text" role="status" data-testid="message-notice">
          <p>{notice}</p>
        </div>
      ) : null}
    </form>
  );
}

/** Checks the node makes too, run first so the error appears beside the field without a round trip. */
function contactProblems(mobile: string, email: string, adjustments: string[]): Problem[] {
  const out: Problem[] = [];
  for (const check of [() => mobile.trim() && normaliseUkMobile(mobile), () => email.trim() && normaliseEmail(email)]) {
    try {
      check();
    } catch (err) {
      if (err instanceof SteadfastError) out.push(...problemsOf(err));
      else throw err;
    }
  }
  if (adjustments.some((a) => a.length > 200)) out.push({ field: 'reasonableAdjustments', message: 'Each reasonable adjustment must be up to 200 characters. Shorten the long one, or split it over two lines' });
  return out;
}

function ContactDetails({ patientId, contact, onSaved }: { patientId: string; contact: PatientContact; onSaved: (c: PatientContact) => void }) {
  const [mobile, setMobile] = useState(contact.mobile ?? '');
  const [email, setEmail] = useState(contact.email ?? '');
  const [smsConsent, setSmsConsent] = useState(contact.smsConsent);
  const [doNotContact, setDoNotContact] = useState(contact.doNotContact);
  const [adjustments, setAdjustments] = useState(contact.reasonableAdjustments.join('\n'));
  const [problems, setProblems] = useState<Problem[]>([]);
  const [saving, setSaving] = useState(false);
  const [notice, setNotice] = useState<string | undefined>();

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setNotice(undefined);
    const lines = adjustments.split('\n').map((a) => a.trim()).filter(Boolean);
    const local = contactProblems(mobile, email, lines);
    if (local.length) {
      setProblems(local);
      return;
    }
    setSaving(true);
    try {
      const saved = await api<PatientContact>(`/api/messaging/patients/${patientId}/contact`, { method: 'PUT', json: { mobile: mobile.trim() || null, email: email.trim() || null, smsConsent, doNotContact, reasonableAdjustments: lines } });
      setProblems([]);
      setMobile(saved.mobile ?? '');
      setEmail(saved.email ?? '');
      setNotice('Contact details and preferences saved.');
      onSaved(saved);
    } catch (err) {
      setProblems(problemsOf(err));
    } finally {
      setSaving(false);
    }
  };
  const mobileError = problemFor(problems, 'mobile');
  const emailError = problemFor(problems, 'email');
  const adjError = problemFor(problems, 'reasonableAdjustments');
  return (
    <form onSubmit={save} noValidate data-testid="contact-form">
      <h3>Contact details and preferences</h3>
      <ProblemSummary problems={problems} ids={{ mobile: 'contact-mobile', email: 'contact-email', reasonableAdjustments: 'contact-adjustments' }} testId="contact-problems" />
      <Field id="contact-mobile" label="Mobile phone number" hint="A UK mobile, for example 07700 900123" error={mobileError}>
        <input className={`nhsuk-input nhsuk-input--width-20${mobileError ? ' nhsuk-input--error' : ''}`} id="contact-mobile" type="tel" autoComplete="off" value={mobile} onChange={(e) => setMobile(e.target.value)} aria-describedby={describedBy('contact-mobile', true, mobileError)} />
      </Field>
      <Field id="contact-email" label="Email address" hint="For example name@example.com" error={emailError}>
        <input className={`nhsuk-input nhsuk-input--width-30${emailError ? ' nhsuk-input--error' : ''}`} id="contact-email" type="email" autoComplete="off" spellCheck={false} value={email} onChange={(e) => setEmail(e.target.value)} aria-describedby={describedBy('contact-email', true, emailError)} />
      </Field>
      <div className="nhsuk-form-group">
        <fieldset className="nhsuk-fieldset">
          <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Preferences</legend>
          <div className="nhsuk-checkboxes">
            <div className="nhsuk-checkboxes__item">
              <input className="nhsuk-checkboxes__input" id="contact-sms-consent" type="checkbox" checked={smsConsent} onChange={(e) => setSmsConsent(e.target.checked)} />
              <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="contact-sms-consent">
                The patient agrees to text messages from the practice
              </label>
            </div>
            <div className="nhsuk-checkboxes__item">
              <input className="nhsuk-checkboxes__input" id="contact-do-not-contact" type="checkbox" checked={doNotContact} onChange={(e) => setDoNotContact(e.target.checked)} />
              <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="contact-do-not-contact">
                Do not contact (overrides everything: no texts, emails, letters or broadcasts)
              </label>
            </div>
          </div>
        </fieldset>
      </div>
      <Field id="contact-adjustments" label="Reasonable adjustments" hint="One a line, for example: Large print letters; Prefers a phone call" error={adjError}>
        <textarea className={`nhsuk-textarea${adjError ? ' nhsuk-textarea--error' : ''}`} id="contact-adjustments" rows={3} value={adjustments} onChange={(e) => setAdjustments(e.target.value)} aria-describedby={describedBy('contact-adjustments', true, adjError)} />
      </Field>
      <button className="nhsuk-button nhsuk-button--secondary" type="submit" disabled={saving} data-testid="contact-save">
        Save contact details
      </button>
      {notice ? (
        <div className="nhsuk-inset-text" role="status" data-testid="contact-notice">
          <p>{notice}</p>
        </div>
      ) : null}
    </form>
  );
}
