import { useEffect, useState, type KeyboardEvent } from 'react';
import { fhirSearch } from '../api.ts';
import type { Patient } from '../fhirTypes.ts';
import { formatDate, nhsNumberOf, patientName } from '../format.ts';
import { formatNhsNumber } from '@steadfast/domain/nhs-number';
import { parseQuery, toSearchString } from '../search/parseQuery.ts';

/** A compact patient search for booking: same parser as the main search, arrows + Enter. */
export function PatientPicker({ onPick, label = 'Patient' }: { onPick: (p: Patient) => void; label?: string }) {
  const [text, setText] = useState('');
  const [results, setResults] = useState<{ q: string; list: Patient[] }>({ q: '', list: [] });
  const [active, setActive] = useState(0);
  useEffect(() => {
    const parsed = parseQuery(text);
    if (!parsed.params.length) {
      setResults({ q: text, list: [] });
      return;
    }
    const c = new AbortController();
    const t = setTimeout(() => {
      fhirSearch<Patient>('Patient', toSearchString(parsed, 8), c.signal)
        .then((list) => {
          if (!c.signal.aborted) {
            setResults({ q: text, list });
            setActive(0);
          }
        })
        .catch(() => undefined);
    }, 150);
    return () => {
      clearTimeout(t);
      c.abort();
    };
  }, [text]);
  const list = results.q === text ? results.list : [];
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setActive((i) => Math.min(i + 1, list.length - 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((i) => Math.max(i - 1, 0));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const p = list[active];
      if (p) onPick(p);
    }
  };
  return (
    <div className="nhsuk-form-group">
      <label className="nhsuk-label" htmlFor="booking-patient">{label}: NHS number, name, date of birth or postcode</label>
      <input className="nhsuk-input" id="booking-patient" role="combobox" aria-expanded={list.length > 0} aria-controls="booking-patient-list" aria-activedescendant={list[active] ? `bp-${active}` : undefined} autoComplete="off" value={text} onChange={(e) => setText(e.target.value)} onKeyDown={onKey} autoFocus />
      <ul className="sf-results" id="booking-patient-list" role="listbox" aria-label="Matching patients" hidden={!list.length}>
        {list.map((p, i) => (
          <li key={p.id} id={`bp-${i}`} role="option" aria-selected={i === active} onClick={() => onPick(p)} onMouseMove={() => setActive(i)}>
            <strong>{patientName(p.name)}</strong> · {formatDate(p.birthDate)} · {formatNhsNumber(nhsNumberOf(p))}
          </li>
        ))}
      </ul>
    </div>
  );
}
