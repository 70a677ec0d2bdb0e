import { useEffect, useId, useState, type KeyboardEvent } from 'react';
import { api } from '../api.ts';
import { listboxKeys } from '../layout/listbox.ts';
import type { DmdProduct, ProductsResponse } from '@steadfast/domain/api/medicines';

/** dm+d search as you type (GET /api/medicines/products?q=, the node's bundled subset): arrows + Enter pick. */
export function ProductSearch({ onPick, invalid }: { onPick: (p: DmdProduct) => void; invalid?: string | undefined }) {
  const [q, setQ] = useState('');
  const [results, setResults] = useState<DmdProduct[]>([]);
  const [active, setActive] = useState(0);
  const [error, setError] = useState<string | undefined>();
  const [searched, setSearched] = useState('');
  const listId = useId();

  useEffect(() => {
    const query = q.trim();
    if (query.length < 2) {
      setResults([]);
      setSearched('');
      return;
    }
    // No debounce: the node is local and answers from memory; a newer keystroke aborts the older search.
    const controller = new AbortController();
    void api<ProductsResponse>(`/api/medicines/products?q=${encodeURIComponent(query)}`, { signal: controller.signal }).then(
      (r) => {
        if (controller.signal.aborted) return;
        setResults(r.products);
        setActive(0);
        setError(undefined);
        setSearched(query);
      },
      (err: Error) => {
        if (!controller.signal.aborted) setError(`Medicine search failed: ${err.message}`);
      },
    );
    return () => controller.abort();
  }, [q]);

  const pick = (p: DmdProduct | undefined) => {
    if (!p) return;
    onPick(p);
    setQ('');
    setResults([]);
  };
  const keys = listboxKeys(results, active, setActive, pick);
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => (e.key === 'Escape' ? setResults([]) : keys(e));

  return (
    <div className={`nhsuk-form-group${invalid ? ' nhsuk-form-group--error' : ''}`}>
      <label className="nhsuk-label nhsuk-label--s" htmlFor="rx-search">
        Medicine
      </label>
      <div className="nhsuk-hint" id="rx-search-hint">
        Type at least 2 letters of the name (dm+d), then use the arrow keys and Enter
      </div>
      {invalid ? (
        <span className="nhsuk-error-message" id="rx-search-error">
          <span className="nhsuk-u-visually-hidden">Error:</span> {invalid}
        </span>
      ) : null}
      <input
        className={`nhsuk-input${invalid ? ' nhsuk-input--error' : ''}`}
        id="rx-search"
        role="combobox"
        aria-expanded={results.length > 0}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-describedby={invalid ? 'rx-search-hint rx-search-error' : 'rx-search-hint'}
        aria-activedescendant={results[active] ? `${listId}-${active}` : undefined}
        autoComplete="off"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        onKeyDown={onKey}
      />
      {error ? <p className="nhsuk-error-message">{error}</p> : null}
      {searched && !results.length && searched === q.trim() ? <p data-testid="rx-no-results">No medicine in the practice's dm+d list matches "{searched}".</p> : null}
      <ul className="sf-results" id={listId} role="listbox" aria-label="Matching medicines" hidden={!results.length}>
        {results.map((p, i) => (
          <li key={p.vmp} id={`${listId}-${i}`} role="option" aria-selected={i === active} onClick={() => pick(p)} onMouseMove={() => setActive(i)} data-testid="rx-result">
            {p.name} <span className="nhsuk-body-s">{p.vmp}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
