import { useEffect, useId, useState } from 'react';
import { api } from '../api.ts';
import { listboxKeys } from '../layout/listbox.ts';
import type { CodedEntry } from './buildBundle.ts';

export interface Concept {
  code: string;
  display: string;
  semanticTag?: string;
}

/** SNOMED CT search (GET /api/codes?q=) with arrows + Enter, like the patient search. */
export function CodePicker({ onPick }: { onPick: (e: CodedEntry) => void }) {
  const [q, setQ] = useState('');
  const [kind, setKind] = useState<CodedEntry['kind']>('problem');
  const [results, setResults] = useState<Concept[]>([]);
  const [active, setActive] = useState(0);
  const [error, setError] = useState<string | undefined>();
  const listId = useId();

  useEffect(() => {
    if (q.trim().length < 2) {
      setResults([]);
      return;
    }
    const controller = new AbortController();
    const t = setTimeout(async () => {
      try {
        const r = await api<{ concepts: Concept[] }>(`/api/codes?q=${encodeURIComponent(q.trim())}&kind=condition,finding,procedure&limit=10`, { signal: controller.signal });
        if (!controller.signal.aborted) {
          setResults(r.concepts);
          setActive(0);
          setError(undefined);
        }
      } catch (err) {
        if (!controller.signal.aborted) setError(`Code search failed: ${(err as Error).message}`);
      }
    }, 150);
    return () => {
      clearTimeout(t);
      controller.abort();
    };
  }, [q]);

  const pick = (c: Concept | undefined) => {
    if (!c) return;
    onPick({ code: c.code, display: c.display, kind });
    setQ('');
    setResults([]);
  };

  const onKey = listboxKeys(results, active, setActive, pick);

  return (
    <div className="nhsuk-form-group">
      <fieldset className="nhsuk-fieldset">
        <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Add as</legend>
        <div className="nhsuk-radios nhsuk-radios--inline nhsuk-radios--small">
          {(['problem', 'finding'] as const).map((k) => (
            <div className="nhsuk-radios__item" key={k}>
              <input className="nhsuk-radios__input" id={`kind-${k}`} type="radio" name="code-kind" checked={kind === k} onChange={() => setKind(k)} />
              <label className="nhsuk-label nhsuk-radios__label" htmlFor={`kind-${k}`}>
                {k === 'problem' ? 'Problem (goes on the problem list)' : 'Finding (this consultation only)'}
              </label>
            </div>
          ))}
        </div>
      </fieldset>
      <label className="nhsuk-label" htmlFor="code-search">Search SNOMED CT</label>
      <input
        className="nhsuk-input"
        id="code-search"
        role="combobox"
        aria-expanded={results.length > 0}
        aria-controls={listId}
        aria-activedescendant={results[active] ? `${listId}-${active}` : undefined}
        autoComplete="off"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        onKeyDown={onKey}
      />
      {error ? <p className="nhsuk-error-message">{error}</p> : null}
      <ul className="sf-results" id={listId} role="listbox" aria-label="Matching codes" hidden={!results.length}>
        {results.map((c, i) => (
          <li key={c.code} id={`${listId}-${i}`} role="option" aria-selected={i === active} onClick={() => pick(c)} onMouseMove={() => setActive(i)} data-testid="code-result">
            {c.display} {c.semanticTag ? <span className="nhsuk-body-s">({c.semanticTag})</span> : null} <span className="nhsuk-body-s">{c.code}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
