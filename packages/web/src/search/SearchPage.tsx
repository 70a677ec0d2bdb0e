import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { ApiError, fhirSearch } from '../api.ts';
import type { Patient } from '../fhirTypes.ts';
import { addressText, formatAge, formatDate, genderText, nhsNumberOf, patientName } from '../format.ts';
import { formatNhsNumber } from '@steadfast/domain/nhs-number';
import { navigate, onLinkClick } from '../router.ts';
import { parseQuery, toSearchString } from './parseQuery.ts';

// Short: stale requests are aborted, and the node answers on loopback in a few ms (issue target: results p95 < 150 ms after the last keystroke).
const DEBOUNCE_MS = 60;

/** A stable, readable order (surname, first name, date of birth) so a list never reshuffles between keystrokes. */
function byName(list: Patient[]): Patient[] {
  const key = (p: Patient) => [p.name?.[0]?.family ?? '', (p.name?.[0]?.given ?? []).join(' '), p.birthDate ?? ''].map((x) => x.toLowerCase());
  return [...list].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) {
      const c = ka[i]!.localeCompare(kb[i]!);
      if (c) return c;
    }
    return 0;
  });
}
const PAGE = 20;

interface Results {
  /** The exact query these results answer; Enter only acts when it equals what is in the box. */
  query: string;
  patients: Patient[];
  more: boolean;
}

/**
 * One box, results as you type. Stale answers are cancelled (AbortController) and, should one still
 * arrive, ignored: the list on screen always belongs to the text in the box, so Enter can never open
 * a patient from an earlier query.
 */
export function SearchPage() {
  const initial = new URLSearchParams(location.search).get('q') ?? '';
  const [text, setText] = useState(initial);
  const [results, setResults] = useState<Results | undefined>();
  const [active, setActive] = useState(0);
  const [error, setError] = useState<string | undefined>();
  const [pending, setPending] = useState(false);
  const parsed = useMemo(() => parseQuery(text), [text]);
  const listId = useId();
  const inFlight = useRef<AbortController | undefined>(undefined);

  useEffect(() => {
    const q = text.trim();
    history.replaceState(null, '', q ? `/?q=${encodeURIComponent(q)}` : '/');
    inFlight.current?.abort();
    if (!parsed.params.length) {
      setResults(undefined);
      setPending(false);
      return;
    }
    setPending(true);
    const controller = new AbortController();
    inFlight.current = controller;
    const timer = setTimeout(async () => {
      try {
        const patients = await fhirSearch<Patient>('Patient', toSearchString(parsed, PAGE + 1), controller.signal);
        if (controller.signal.aborted) return;
        setResults({ query: text, patients: byName(patients).slice(0, PAGE), more: patients.length > PAGE });
        setActive(0);
        setError(undefined);
        setPending(false);
      } catch (err) {
        if (controller.signal.aborted) return;
        setError(err instanceof ApiError ? err.message : `Search failed: ${(err as Error).message}`);
        setResults(undefined);
        setPending(false);
      }
    }, DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [text, parsed]);

  const current = results && results.query === text ? results : undefined;
  const shown = current?.patients ?? [];

  const open = (p: Patient | undefined) => {
    if (p?.id) navigate(`/patient/${p.id}`);
  };

  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setActive((i) => Math.min(i + 1, Math.max(shown.length - 1, 0)));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((i) => Math.max(i - 1, 0));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (current && !pending) open(shown[active]);
    } else if (e.key === 'Escape') {
      setText('');
    }
  };

  const activeId = shown[active] ? `${listId}-${active}` : undefined;

  return (
    <>
      <h1>Find a patient</h1>
      <div className="nhsuk-form-group">
        <label className="nhsuk-label nhsuk-label--s" htmlFor="patient-search">
          NHS number, name, date of birth or postcode
        </label>
        <div className="nhsuk-hint" id="patient-search-hint">
          For example 999 123 4564, Smith, Jane Smith, Smith, Jane, 01/02/1980 or LS1 4AP. You can combine them: smith 1/2/1980. Use the arrow keys and Enter to open a record.
        </div>
        <input
          className="nhsuk-input"
          id="patient-search"
          type="search"
          role="combobox"
          aria-expanded={shown.length > 0}
          aria-controls={listId}
          aria-activedescendant={activeId}
          aria-autocomplete="list"
          aria-describedby="patient-search-hint patient-search-understood"
          autoComplete="off"
          spellCheck={false}
          autoFocus
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKey}
        />
      </div>
      <p id="patient-search-understood" className="sf-understood" aria-live="polite" data-testid="understood">
        {parsed.understood.length ? `Searching for ${parsed.understood.join(', ')}` : ''}
        {parsed.problems.map((p) => (
          <span key={p} className="nhsuk-error-message" style={{ display: 'block' }}>
            {p}
          </span>
        ))}
      </p>
      {error ? <div className="nhsuk-error-message" role="alert">{error}</div> : null}
      <p aria-live="polite" className="nhsuk-body-s" data-testid="result-count">
        {pending ? 'Searching…' : current ? (shown.length === 0 ? 'No patients found' : `${shown.length}${current.more ? '+' : ''} patient${shown.length === 1 ? '' : 's'} found${current.more ? ': add a date of birth or first name to narrow the list' : ''}`) : ''}
      </p>
      <ul className="sf-results" id={listId} role="listbox" aria-label="Matching patients" hidden={shown.length === 0}>
        {shown.map((p, i) => (
          <li
            key={p.id}
            id={`${listId}-${i}`}
            role="option"
            aria-selected={i === active}
            data-testid="search-result"
            // Move, not enter: a list appearing under a resting mouse must not change which row Enter opens.
            onMouseMove={() => setActive(i)}
            onClick={() => open(p)}
          >
            <span className="sf-results__name">{patientName(p.name)}</span>
            {p.deceasedBoolean || p.deceasedDateTime ? <strong className="nhsuk-tag nhsuk-tag--grey"> Deceased</strong> : null}
            <br />
            Born {formatDate(p.birthDate)} ({formatAge(p.birthDate)}) · {genderText(p.gender)} · NHS number {formatNhsNumber(nhsNumberOf(p)) || 'not recorded'}
            <br />
            <span className="nhsuk-body-s">{addressText(p)}</span>
          </li>
        ))}
      </ul>
      <p className="nhsuk-u-margin-top-4">
        Not on the list?{' '}
        <a href="/reception/register" onClick={onLinkClick('/reception/register')} data-testid="register-patient">
          Register a patient
        </a>
      </p>
    </>
  );
}
