import { matchesTestQuery } from '@steadfast/domain/codes';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { Banner } from '../record/Banner.tsx';
import { Section } from '../record/Section.tsx';
import { usePatientRecord } from '../record/usePatientRecord.ts';
import { onLinkClick } from '../router.ts';
import { useSession } from '../session.ts';
import { ErrorSummary } from '../layout/ErrorSummary.tsx';

interface CatalogueTest {
  code: string;
  display: string;
  specimen: string;
  tube: { colour: string; additive: string; volumeMl: number };
  includes?: string[];
  fastingOption?: boolean;
}
interface CatalogueProfile {
  code: string;
  display: string;
  tests: string[];
}
interface Created {
  orderNumber: string;
  form: string;
  queuedForLab: boolean;
}

/** Tests and profiles matching every word typed, by name, code, contents or everyday words ("U&E"). */
function matchesQuery(item: { code: string; display: string; includes?: string[]; tests?: string[] }, query: string): boolean {
  return matchesTestQuery(item, query);
}

/**
 * A clinician requests pathology tests for the patient: picks tests and profiles from the practice's
 * catalogue, adds clinical details, fasting and urgency, and prints the request form (with its
 * barcode) at once; it works with no network, and the order goes to the laboratory when it can.
 */
export function RequestTestsPage({ patientId }: { patientId: string }) {
  const { user } = useSession();
  const record = usePatientRecord(patientId, user.role);
  const [catalogue, setCatalogue] = useState<{ tests: CatalogueTest[]; profiles: CatalogueProfile[] } | undefined>();
  const [query, setQuery] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [details, setDetails] = useState('');
  const [fasting, setFasting] = useState(false);
  const [urgency, setUrgency] = useState<'routine' | 'urgent'>('routine');
  const [error, setError] = useState<string | undefined>();
  const [created, setCreated] = useState<Created | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<{ tests: CatalogueTest[]; profiles: CatalogueProfile[] }>('/api/pathology/catalogue')
      .then(setCatalogue)
      .catch((err) => setError(`The test catalogue could not be loaded: ${(err as Error).message}`));
  }, []);

  const byCode = useMemo(() => new Map((catalogue?.tests ?? []).map((t) => [t.code, t])), [catalogue]);
  // Every test the choice adds up to (profiles expanded), for the tubes and the fasting question.
  const tests = useMemo(() => {
    const codes = chosen.flatMap((c) => catalogue?.profiles.find((p) => p.code === c)?.tests ?? [c]);
    return [...new Set(codes)].map((c) => byCode.get(c)).filter((t): t is CatalogueTest => !!t);
  }, [chosen, catalogue, byCode]);
  const tubes = useMemo(() => {
    const out = new Map<string, { label: string; tests: string[] }>();
    for (const t of tests) {
      const key = `${t.tube.colour}|${t.tube.additive}|${t.specimen}`;
      const entry = out.get(key) ?? { label: `${t.tube.colour} top (${t.tube.additive}), ${t.specimen}`, tests: [] };
      entry.tests.push(t.display);
      out.set(key, entry);
    }
    return [...out.values()];
  }, [tests]);

  const toggle = (code: string) => setChosen((c) => (c.includes(code) ? c.filter((x) => x !== code) : [...c, code]));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!chosen.length) {
      setError('Choose at least one test');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      setCreated(await api<Created>('/api/pathology/requests', { method: 'POST', json: { patientId, tests: chosen, clinicalDetails: details, fasting, urgency } }));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const profiles = (catalogue?.profiles ?? []).filter((p) => matchesQuery({ ...p, includes: p.tests, tests: p.tests }, query));
  const single = (catalogue?.tests ?? []).filter((t) => matchesQuery(t, query));

  return (
    <Section data={record.patient} what="the patient record">
      {(patient) => (
        <>
          <Banner patient={patient} gp={record.gp} allergies={record.allergies} flags={record.flags} />
          <p>
            <a className="nhsuk-back-link__link" href={`/patient/${patientId}`} onClick={onLinkClick(`/patient/${patientId}`)}>
              Back to the record
            </a>
          </p>
          <h1>Request pathology tests</h1>
          {created ? (
            <div className="nhsuk-card nhsuk-card--feature" data-testid="request-created">
              <div className="nhsuk-card__content nhsuk-card__content--feature">
                <h2 className="nhsuk-card__heading nhsuk-card__heading--feature">Order {created.orderNumber}</h2>
                <p>
                  {created.queuedForLab ? 'The order is queued for the laboratory and is sent as soon as the link is up.' : 'No laboratory link is set up: the printed form goes with the sample.'}
                </p>
                <p>
                  <a className="nhsuk-button" href={created.form} target="_blank" rel="noopener" data-testid="print-form">
                    Print the request form and labels
                  </a>
                </p>
                <p>
                  <a href={`/patient/${patientId}`} onClick={onLinkClick(`/patient/${patientId}`)}>
                    Back to the record
                  </a>
                </p>
              </div>
            </div>
          ) : (
            <form onSubmit={(e) => void submit(e)} noValidate>
              {error ? (
                <ErrorSummary message={error} />
              ) : null}
              <div className="nhsuk-form-group">
                <label className="nhsuk-label" htmlFor="test-search">
                  Find a test or profile
                </label>
                <input className="nhsuk-input nhsuk-input--width-20" id="test-search" value={query} onChange={(e) => setQuery(e.target.value)} autoComplete="off" autoFocus />
              </div>
              <fieldset className="nhsuk-fieldset" data-testid="test-choices">
                <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Tests</legend>
                <div className="nhsuk-checkboxes nhsuk-checkboxes--small sf-test-choices">
                  {[...profiles.map((p) => ({ code: p.code, display: `${p.display} (profile)`, hint: p.tests.map((c) => byCode.get(c)?.display ?? c).join(', ') })), ...single.map((t) => ({ code: t.code, display: t.display, hint: `${t.tube.colour} top, ${t.specimen}` }))].map((item) => (
                    <div className="nhsuk-checkboxes__item" key={item.code}>
                      <input className="nhsuk-checkboxes__input" id={`test-${item.code}`} type="checkbox" checked={chosen.includes(item.code)} onChange={() => toggle(item.code)} />
                      <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor={`test-${item.code}`}>
                        {item.display} <span className="nhsuk-hint sf-inline-hint">{item.hint}</span>
                      </label>
                    </div>
                  ))}
                </div>
              </fieldset>
              {tubes.length ? (
                <div className="nhsuk-inset-text" data-testid="tubes">
                  <p className="nhsuk-u-font-weight-bold">Samples to take</p>
                  <ul>
                    {tubes.map((t) => (
                      <li key={t.label}>
                        {t.label}: {t.tests.join(', ')}
                      </li>
                    ))}
                  </ul>
                </div>
              ) : null}
              <div className="nhsuk-form-group">
                <label className="nhsuk-label" htmlFor="clinical-details">
                  Clinical details
                </label>
                <textarea className="nhsuk-textarea" id="clinical-details" rows={3} value={details} onChange={(e) => setDetails(e.target.value)} maxLength={2000} />
              </div>
              <div className="nhsuk-checkboxes nhsuk-checkboxes--small nhsuk-u-margin-bottom-4">
                <div className="nhsuk-checkboxes__item">
                  <input className="nhsuk-checkboxes__input" id="fasting" type="checkbox" checked={fasting} onChange={(e) => setFasting(e.target.checked)} />
                  <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="fasting">
                    Fasting sample{tests.some((t) => t.fastingOption) ? ' (asked for by a chosen test)' : ''}
                  </label>
                </div>
              </div>
              <fieldset className="nhsuk-fieldset">
                <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Urgency</legend>
                <div className="nhsuk-radios nhsuk-radios--inline nhsuk-radios--small">
                  {(['routine', 'urgent'] as const).map((u) => (
                    <div className="nhsuk-radios__item" key={u}>
                      <input className="nhsuk-radios__input" id={`urgency-${u}`} type="radio" name="urgency" checked={urgency === u} onChange={() => setUrgency(u)} />
                      <label className="nhsuk-label nhsuk-radios__label" htmlFor={`urgency-${u}`}>
                        {u === 'routine' ? 'Routine' : 'Urgent'}
                      </label>
                    </div>
                  ))}
                </div>
              </fieldset>
              <button className="nhsuk-button nhsuk-u-margin-top-4" type="submit" disabled={busy} data-testid="request-submit">
                {busy ? 'Requesting…' : `Request ${tests.length || ''} test${tests.length === 1 ? '' : 's'}`.replace('  ', ' ')}
              </button>
            </form>
          )}
        </>
      )}
    </Section>
  );
}
