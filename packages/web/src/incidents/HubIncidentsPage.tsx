/** At the hub: every incident, and (for a region lead) the form to open one for practices and/or PCNs. */
import { useEffect, useState } from 'react';
import type { IncidentDetail, IncidentListResponse, RegionPracticesResponse } from '@steadfast/domain/region';
import { api } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { navigate, onLinkClick } from '../router.ts';
import { fieldError, issuesOf, IssuesSummary, type Issue } from './IssuesSummary.tsx';
import { emptyUpdate, updateBody, UpdateFields, type UpdateValues } from './UpdateFields.tsx';

export function HubIncidentsPage({ canOpen }: { canOpen: boolean }) {
  const [list, setList] = useState<IncidentListResponse | undefined>();
  const [practices, setPractices] = useState<RegionPracticesResponse['practices']>([]);
  const [title, setTitle] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [pcns, setPcns] = useState<string[]>([]);
  const [update, setUpdate] = useState<UpdateValues>(emptyUpdate);
  const [issues, setIssues] = useState<Issue[]>([]);

  useEffect(() => {
    api<IncidentListResponse>('/api/region/incidents').then(setList, () => undefined);
    api<RegionPracticesResponse>('/api/region/practices').then((r) => setPractices(r.practices), () => undefined);
  }, []);
  const allPcns = [...new Set(practices.map((p) => p.pcn).filter((x): x is string => !!x))].sort();

  const open = async (e: React.FormEvent) => {
    e.preventDefault();
    try {
      const created = await api<IncidentDetail>('/api/region/incidents', { method: 'POST', json: { title, practices: chosen, pcns, ...updateBody(update) } });
      navigate(`/region/incidents/${created.id}`);
    } catch (err) {
      setIssues(issuesOf(err));
    }
  };
  const toggle = (list: string[], set: (v: string[]) => void, value: string, on: boolean) => set(on ? [...list, value] : list.filter((x) => x !== value));
  const titleErr = fieldError(issues, 'title');
  const whoErr = fieldError(issues, 'practices') ?? fieldError(issues, 'pcns');
  return (
    <>
      <h1>Incidents</h1>
      <table className="nhsuk-table" data-testid="incident-list">
        <thead>
          <tr>
            <th>Incident</th>
            <th>Status</th>
            <th>Opened</th>
            <th>Latest update</th>
          </tr>
        </thead>
        <tbody>
          {(list?.incidents ?? []).map((i) => (
            <tr key={i.id}>
              <td>
                <a href={`/region/incidents/${i.id}`} onClick={onLinkClick(`/region/incidents/${i.id}`)}>
                  {i.title}
                </a>
              </td>
              <td>{i.status === 'open' ? 'Open' : `Closed ${formatDateTime(i.closedAt ?? undefined)}`}</td>
              <td>{formatDateTime(i.openedAt)}</td>
              <td>{formatDateTime(i.latest.postedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {canOpen ? (
        <form onSubmit={(e) => void open(e)} noValidate data-testid="open-incident">
          <h2>Open an incident</h2>
          <IssuesSummary issues={issues} prefix="open" testId="open-error" />
          <div className={`nhsuk-form-group${titleErr ? ' nhsuk-form-group--error' : ''}`}>
            <label className="nhsuk-label" htmlFor="open-title">
              Title
            </label>
            {titleErr ? <span className="nhsuk-error-message">{titleErr}</span> : null}
            <input className="nhsuk-input" id="open-title" value={title} onChange={(e) => setTitle(e.target.value)} />
          </div>
          <div className={`nhsuk-form-group${whoErr ? ' nhsuk-form-group--error' : ''}`}>
            <fieldset className="nhsuk-fieldset" id="open-practices">
              <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Affected practices or PCNs</legend>
              {whoErr ? <span className="nhsuk-error-message">{whoErr}</span> : null}
              <div className="nhsuk-checkboxes nhsuk-checkboxes--small">
                {allPcns.map((p) => (
                  <div className="nhsuk-checkboxes__item" key={`pcn-${p}`}>
                    <input className="nhsuk-checkboxes__input" type="checkbox" id={`pcn-${p}`} checked={pcns.includes(p)} onChange={(e) => toggle(pcns, setPcns, p, e.target.checked)} />
                    <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor={`pcn-${p}`}>
                      All of {p}
                    </label>
                  </div>
                ))}
                {practices.map((p) => (
                  <div className="nhsuk-checkboxes__item" key={p.practice}>
                    <input className="nhsuk-checkboxes__input" type="checkbox" id={`practice-${p.practice}`} checked={chosen.includes(p.practice)} onChange={(e) => toggle(chosen, setChosen, p.practice, e.target.checked)} />
                    <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor={`practice-${p.practice}`}>
                      {p.name ? `${p.name} (${p.practice})` : p.practice}
                    </label>
                  </div>
                ))}
              </div>
            </fieldset>
          </div>
          <UpdateFields prefix="open" values={update} onChange={setUpdate} issues={issues} />
          <button type="submit" className="nhsuk-button">
            Open the incident
          </button>
        </form>
      ) : null}
    </>
  );
}
