import { useCallback, useEffect, useState } from 'react';
import { DOCUMENT_TYPES } from '@steadfast/domain/documents';
import { api, fhirRead, fhirSearch } from '../api.ts';
import type { Patient } from '../fhirTypes.ts';
import { formatDate } from '../format.ts';
import { ErrorSummary } from '../layout/ErrorSummary.tsx';
import { navigate, onLinkClick } from '../router.ts';
import { STATE_LABEL, type DocumentItem } from './DocumentsPage.tsx';

interface Suggestion {
  kind: 'diagnosis' | 'medication-change';
  code?: string;
  display: string;
}

interface DocumentDetail extends DocumentItem {
  text: string;
  suggestions: Suggestion[];
  history: Array<{ at: string; by: string; step: string; detail: string }>;
  routeNote: string | null;
  documentReferenceId: string | null;
}

const NHS_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

function patientLine(p: Patient): string {
  const name = p.name?.[0];
  const nhs = p.identifier?.find((i) => i.system === NHS_SYSTEM)?.value ?? '';
  return `${(name?.family ?? '').toUpperCase()}, ${(name?.given ?? []).join(' ')} · born ${formatDate(p.birthDate)} · NHS ${nhs.replace(/(\d{3})(\d{3})(\d{4})/, '$1 $2 $3')}`;
}

/**
 * One document beside the patient's details: the PDF (or its text) on the left, the work on the
 * right: confirm the patient, type and date, suggested codes for a clinician, route or file.
 */
export function DocumentPage({ id }: { id: string }) {
  const [doc, setDoc] = useState<DocumentDetail | undefined>();
  const [patient, setPatient] = useState<Patient | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [nhsSearch, setNhsSearch] = useState('');
  const [found, setFound] = useState<Patient[] | undefined>();
  const [type, setType] = useState('');
  const [date, setDate] = useState('');
  const [suggestions, setSuggestions] = useState<Suggestion[]>([]);
  const [newKind, setNewKind] = useState<Suggestion['kind']>('diagnosis');
  const [newDisplay, setNewDisplay] = useState('');
  const [newCode, setNewCode] = useState('');
  const [clinicians, setClinicians] = useState<Array<{ id: string; name: string }>>([]);
  const [clinicianId, setClinicianId] = useState('');
  const [action, setAction] = useState('');
  const [note, setNote] = useState('');

  const show = useCallback((d: DocumentDetail) => {
    setDoc(d);
    setType(d.type ?? '');
    setDate(d.date ?? '');
    setSuggestions(d.suggestions ?? []);
  }, []);

  useEffect(() => {
    api<DocumentDetail>(`/api/documents/${encodeURIComponent(id)}`).then(show, (err) => setError((err as Error).message));
    api<{ assignees: Array<{ id: string; name: string; role: string }> }>('/api/tasks/assignees').then((r) => setClinicians(r.assignees.filter((a) => a.role === 'clinician')), () => undefined);
  }, [id, show]);

  const patientId = doc?.patientId ?? doc?.proposedPatient?.id;
  useEffect(() => {
    setPatient(undefined);
    if (patientId) fhirRead<Patient>('Patient', patientId).then(setPatient, () => undefined);
  }, [patientId]);

  async function act(what: string, path: string, json: unknown, method = 'POST') {
    try {
      const d = await api<DocumentDetail>(`/api/documents/${encodeURIComponent(id)}/${path}`, { method, json });
      show(d);
      setError(undefined);
      setNotice(what);
      return d;
    } catch (err) {
      setNotice(undefined);
      setError((err as Error).message);
      return undefined;
    }
  }

  if (!doc) return error ? <ErrorSummary message={error} testId="document-error" /> : <p>Loading…</p>;
  const filed = doc.state === 'filed';
  const content = `/api/documents/${encodeURIComponent(doc.id)}/content`;
  return (
    <>
      <p>
        <a className="nhsuk-back-link__link" href="/documents" onClick={onLinkClick('/documents')}>Back to documents</a>
      </p>
      <h1 className="nhsuk-heading-l">{doc.subject || doc.filename}</h1>
      <p className="nhsuk-body-s" data-testid="document-state">
        {STATE_LABEL[doc.state] ?? doc.state} · received {formatDate(doc.receivedAt)} from {doc.sender || doc.source} · {doc.filename}
        {doc.copies > 1 ? ` · received ${doc.copies} times` : ''}
      </p>
      {error ? <ErrorSummary message={error} testId="document-error" /> : null}
      {notice ? <p className="nhsuk-body" role="status" data-testid="document-notice">{notice}</p> : null}
      {doc.problem ? <div className="nhsuk-warning-callout"><h2 className="nhsuk-warning-callout__label">Cannot be read here</h2><p data-testid="document-problem">{doc.problem}</p></div> : null}
      <div className="nhsuk-grid-row">
        <div className="nhsuk-grid-column-one-half">
          {doc.kind === 'pdf' && !doc.problem ? (
            <iframe title={`Document: ${doc.filename}`} src={content} style={{ width: '100%', height: '70vh', border: '1px solid #d8dde0' }} data-testid="document-viewer" />
          ) : (
            <pre className="sf-document-text" style={{ whiteSpace: 'pre-wrap', maxHeight: '70vh', overflow: 'auto' }} data-testid="document-text">{doc.text || '(no text)'}</pre>
          )}
          <p>
            <a href={`${content}?download=true`} download>Download the file as received</a>
          </p>
        </div>
        <div className="nhsuk-grid-column-one-half">
          <h2 className="nhsuk-heading-m">Patient</h2>
          {patient ? <p data-testid="document-patient">{patientLine(patient)} <a href={`/patient/${patient.id}`} target="_blank" rel="noopener">Open the record</a></p> : null}
          {doc.matchNotes.length ? <ul className="nhsuk-list nhsuk-body-s">{doc.matchNotes.map((n) => <li key={n}>{n}</li>)}</ul> : null}
          {!filed && doc.proposedPatient && !doc.patientId ? (
            <button type="button" className="nhsuk-button" onClick={() => void act('Patient confirmed', 'patient', { patientId: doc.proposedPatient!.id })}>Confirm this patient</button>
          ) : null}
          {doc.patientId ? <p><strong className="nhsuk-tag nhsuk-tag--green">Patient confirmed</strong></p> : null}
          {!filed ? (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                fhirSearch<Patient>('Patient', { identifier: `${NHS_SYSTEM}|${nhsSearch.replace(/\D/g, '')}` }).then(setFound, (err) => setError((err as Error).message));
              }}
            >
              <div className="nhsuk-form-group">
                <label className="nhsuk-label" htmlFor="document-nhs">{doc.patientId ? 'Choose a different patient by NHS number' : 'Find the patient by NHS number'}</label>
                <input className="nhsuk-input nhsuk-input--width-10" id="document-nhs" inputMode="numeric" value={nhsSearch} onChange={(e) => setNhsSearch(e.target.value)} />
              </div>
              <button type="submit" className="nhsuk-button nhsuk-button--secondary">Find</button>
              {found ? (
                found.length ? (
                  <ul className="nhsuk-list">
                    {found.map((p) => (
                      <li key={p.id}>
                        {patientLine(p)}{' '}
                        <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => void act('Patient chosen', 'patient', { patientId: p.id }).then(() => setFound(undefined))}>Choose</button>
                      </li>
                    ))}
                  </ul>
                ) : <p>No patient has that NHS number.</p>
              ) : null}
            </form>
          ) : null}

          <h2 className="nhsuk-heading-m">Type and date</h2>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void act('Coding saved', 'coding', { type, date, suggestions }, 'PUT');
            }}
          >
            <div className="nhsuk-form-group">
              <label className="nhsuk-label" htmlFor="document-type">Document type</label>
              <select className="nhsuk-select" id="document-type" value={type} onChange={(e) => setType(e.target.value)} disabled={filed}>
                <option value="">Choose a type</option>
                {DOCUMENT_TYPES.map((t) => <option key={t.key} value={t.key}>{t.label}</option>)}
              </select>
            </div>
            <div className="nhsuk-form-group">
              <label className="nhsuk-label" htmlFor="document-date">Date of the document</label>
              <input className="nhsuk-input nhsuk-input--width-10" type="date" id="document-date" value={date} onChange={(e) => setDate(e.target.value)} disabled={filed} />
            </div>
            <fieldset className="nhsuk-fieldset">
              <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Suggested codes for a clinician</legend>
              {suggestions.length ? (
                <ul className="nhsuk-list" data-testid="document-suggestions">
                  {suggestions.map((s, i) => (
                    <li key={`${s.display}-${i}`}>
                      {s.kind === 'diagnosis' ? 'Diagnosis' : 'Medication change'}: {s.display}{s.code ? ` (SNOMED CT ${s.code})` : ''}{' '}
                      {!filed ? <button type="button" className="nhsuk-button nhsuk-button--secondary nhsuk-button--small" onClick={() => setSuggestions(suggestions.filter((_, j) => j !== i))}>Remove</button> : null}
                    </li>
                  ))}
                </ul>
              ) : <p className="nhsuk-body-s">None.</p>}
              {!filed ? (
                <>
                  <div className="nhsuk-form-group">
                    <label className="nhsuk-label" htmlFor="suggestion-kind">Kind</label>
                    <select className="nhsuk-select" id="suggestion-kind" value={newKind} onChange={(e) => setNewKind(e.target.value as Suggestion['kind'])}>
                      <option value="diagnosis">Diagnosis</option>
                      <option value="medication-change">Medication change</option>
                    </select>
                  </div>
                  <div className="nhsuk-form-group">
                    <label className="nhsuk-label" htmlFor="suggestion-display">Description</label>
                    <input className="nhsuk-input" id="suggestion-display" value={newDisplay} onChange={(e) => setNewDisplay(e.target.value)} />
                  </div>
                  <div className="nhsuk-form-group">
                    <label className="nhsuk-label" htmlFor="suggestion-code">SNOMED CT code (optional)</label>
                    <input className="nhsuk-input nhsuk-input--width-20" id="suggestion-code" inputMode="numeric" value={newCode} onChange={(e) => setNewCode(e.target.value)} />
                  </div>
                  <button
                    type="button"
                    className="nhsuk-button nhsuk-button--secondary"
                    onClick={() => {
                      if (!newDisplay.trim()) return setError('Enter a description for the suggested code');
                      setSuggestions([...suggestions, { kind: newKind, display: newDisplay.trim(), ...(newCode.trim() ? { code: newCode.trim() } : {}) }]);
                      setNewDisplay('');
                      setNewCode('');
                    }}
                  >
                    Add suggestion
                  </button>
                </>
              ) : null}
            </fieldset>
            {!filed ? <button type="submit" className="nhsuk-button">Save type, date and suggestions</button> : null}
          </form>

          {!filed ? (
            <>
              <h2 className="nhsuk-heading-m">Send to a clinician</h2>
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  void act('Sent to the clinician', 'route', { clinicianId, action, note });
                }}
              >
                <div className="nhsuk-form-group">
                  <label className="nhsuk-label" htmlFor="route-clinician">Clinician</label>
                  <select className="nhsuk-select" id="route-clinician" value={clinicianId} onChange={(e) => setClinicianId(e.target.value)}>
                    <option value="">Choose a clinician</option>
                    {clinicians.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
                  </select>
                </div>
                <fieldset className="nhsuk-fieldset">
                  <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">What they must do</legend>
                  <div className="nhsuk-radios nhsuk-radios--inline">
                    {(['read', 'action', 'urgent'] as const).map((a) => (
                      <div className="nhsuk-radios__item" key={a}>
                        <input className="nhsuk-radios__input" id={`route-action-${a}`} name="route-action" type="radio" value={a} checked={action === a} onChange={() => setAction(a)} />
                        <label className="nhsuk-label nhsuk-radios__label" htmlFor={`route-action-${a}`}>{a === 'read' ? 'Read' : a === 'action' ? 'Action' : 'Urgent'}</label>
                      </div>
                    ))}
                  </div>
                </fieldset>
                <div className="nhsuk-form-group">
                  <label className="nhsuk-label" htmlFor="route-note">Note (optional)</label>
                  <textarea className="nhsuk-textarea" id="route-note" rows={2} value={note} onChange={(e) => setNote(e.target.value)} />
                </div>
                <button type="submit" className="nhsuk-button nhsuk-button--secondary">Send to clinician</button>
              </form>
              <h2 className="nhsuk-heading-m">File</h2>
              <button
                type="button"
                className="nhsuk-button"
                onClick={() => void act('Filed to the record', 'file', {}).then((d) => d && navigate(`/documents/${d.id}`, { replace: true }))}
              >
                File to the record
              </button>
            </>
          ) : <p><strong className="nhsuk-tag nhsuk-tag--green" data-testid="document-filed">Filed to the record</strong></p>}

          <h2 className="nhsuk-heading-m">History</h2>
          <ol className="nhsuk-list nhsuk-list--number nhsuk-body-s" data-testid="document-history">
            {doc.history.map((h, i) => <li key={i}>{formatDate(h.at)} {h.by}: {h.step}, {h.detail}</li>)}
          </ol>
        </div>
      </div>
    </>
  );
}
