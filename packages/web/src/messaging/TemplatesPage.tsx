/**
 * The practice's message templates, for the practice administrator: list, edit with the placeholder
 * and SMS length checks the node applies (shared through @steadfast/domain/messaging), and a preview
 * with example personalisation before saving.
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { MessageTemplate } from '@steadfast/domain/api';
import { KNOWN_PLACEHOLDERS, renderTemplate, SAMPLE_PERSONALISATION, placeholdersOf, templateProblem } from '@steadfast/domain/messaging';
import { api } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { useSession } from '../session.ts';
import { describedBy, Field, ProblemSummary, problemFor, problemsOf, type Problem, CHANNEL_LABEL } from './forms.tsx';
import { SmsCount } from './SmsCount.tsx';
import { MessagingNav } from './MessagingNav.tsx';

export function TemplatesPage() {
  const { user } = useSession();
  const [templates, setTemplates] = useState<MessageTemplate[] | undefined>();
  const [editing, setEditing] = useState<MessageTemplate | undefined>();
  const [body, setBody] = useState('');
  const [subject, setSubject] = useState('');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [notice, setNotice] = useState<string | undefined>();
  const [loadError, setLoadError] = useState<string | undefined>();
  const [saving, setSaving] = useState(false);

  const load = () =>
    api<MessageTemplate[]>('/api/messaging/templates')
      .then(setTemplates)
      .catch((err) => setLoadError((err as Error).message));
  useEffect(() => void load(), []);

  if (user.role !== 'practice-admin') return <><h1>Message templates</h1><p>Only the practice administrator edits message templates.</p></>;

  const open = (t: MessageTemplate) => {
    setEditing(t);
    setBody(t.body);
    setSubject(t.subject ?? '');
    setProblems([]);
    setNotice(undefined);
  };

  const draft = editing ? { key: editing.key, channel: editing.channel, body, ...(subject ? { subject } : {}) } : undefined;
  const localProblem = draft ? templateProblem(draft) : undefined;
  let preview: string | undefined;
  if (draft && !localProblem) {
    try {
      preview = renderTemplate({ ...draft, placeholders: placeholdersOf(`${subject} ${body}`) }, SAMPLE_PERSONALISATION).body;
    } catch {
      preview = undefined; // a placeholder the example cannot fill: the check above names it
    }
  }

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!editing) return;
    if (localProblem) {
      setProblems(problemsOf(localProblem));
      return;
    }
    setSaving(true);
    try {
      const saved = await api<MessageTemplate>(`/api/messaging/templates/${encodeURIComponent(editing.key)}`, { method: 'PUT', json: { body, ...(editing.channel !== 'sms' ? { subject } : {}) } });
      setNotice(`“${saved.label}” saved. Messages queued from now on use it.`);
      setEditing(undefined);
      setProblems([]);
      await load();
    } catch (err) {
      setProblems(problemsOf(err));
    } finally {
      setSaving(false);
    }
  };

  const bodyError = problemFor(problems, 'body');
  return (
    <>
      <MessagingNav />
      <h1>Message templates</h1>
      <p>What the practice sends patients. Placeholders in double brackets, such as ((first_name)), are filled in for each patient.</p>
      {loadError ? <p className="nhsuk-error-message">The templates could not be loaded: {loadError}</p> : null}
      {notice ? (
        <div className="nhsuk-inset-text" role="status" data-testid="template-notice">
          <p>{notice}</p>
        </div>
      ) : null}
      {editing ? (
        <form onSubmit={save} noValidate data-testid="template-form">
          <h2>Edit “{editing.label}”</h2>
          <ProblemSummary problems={problems} ids={{ body: 'template-body', subject: 'template-subject' }} testId="template-problems" />
          {editing.channel !== 'sms' ? (
            <Field id="template-subject" label="Subject" error={problemFor(problems, 'subject')}>
              <input className="nhsuk-input" id="template-subject" value={subject} onChange={(e) => setSubject(e.target.value)} />
            </Field>
          ) : null}
          <Field id="template-body" label="Message" hint={<>Placeholders you can use: {Object.entries(KNOWN_PLACEHOLDERS).map(([k, v]) => <span key={k}><code>(({k}))</code> {v.toLowerCase()}; </span>)}</>} error={bodyError}>
            <textarea className={`nhsuk-textarea${bodyError ? ' nhsuk-textarea--error' : ''}`} id="template-body" rows={6} value={body} onChange={(e) => setBody(e.target.value)} aria-describedby={[describedBy('template-body', true, bodyError), 'template-count'].filter(Boolean).join(' ')} />
          </Field>
          {editing.channel === 'sms' ? <SmsCount text={body} id="template-count" /> : <div id="template-count" />}
          {localProblem ? (
            <p className="sf-inline-hint" data-testid="template-check" role="status">
              {localProblem.message}. {localProblem.hint}
            </p>
          ) : null}
          <h3>Preview with example details</h3>
          <div className="nhsuk-inset-text" data-testid="template-preview">
            {preview !== undefined ? (
              <>
                <p className="sf-message-preview">{preview}</p>
                {editing.channel === 'sms' ? <SmsCount text={preview} id="template-preview-count" /> : null}
              </>
            ) : (
              <p>Fix the problem above to see the preview.</p>
            )}
          </div>
          <button className="nhsuk-button" type="submit" disabled={saving}>
            Save template
          </button>{' '}
          <button className="nhsuk-button nhsuk-button--secondary" type="button" onClick={() => setEditing(undefined)}>
            Cancel
          </button>
        </form>
      ) : null}
      {!templates ? (
        <p aria-busy="true">Loading templates…</p>
      ) : (
        <table className="nhsuk-table" data-testid="templates">
          <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Templates</caption>
          <thead className="nhsuk-table__head">
            <tr>
              <th scope="col">Template</th>
              <th scope="col">Sent as</th>
              <th scope="col">Message</th>
              <th scope="col">Changed</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody className="nhsuk-table__body">
            {templates.map((t) => (
              <tr key={t.key} data-testid={`template-${t.key}`}>
                <td>{t.label}</td>
                <td>{CHANNEL_LABEL[t.channel] ?? t.channel}</td>
                <td className="sf-message-preview">{t.body}</td>
                <td>{t.updatedAt ? formatDateTime(t.updatedAt) : 'Steadfast default'}</td>
                <td>
                  <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => open(t)} aria-label={`Edit ${t.label}`}>
                    Edit
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
