import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import type { Task } from '../fhirTypes.ts';
import { formatDate, formatDateTime } from '../format.ts';
import { onLinkClick } from '../router.ts';
import { useSession } from '../session.ts';
import { staffIdOf } from '@steadfast/domain/systems';
import { RESULT_REVIEW_TASK_CODE, TASK_STATUS_CHOICES, taskActionsFor, taskCodeOf, taskStatusText } from '@steadfast/domain/tasks';

import type { Assignee, TaskSummary as Summary } from '@steadfast/domain/api';




export function TasksPage() {
  const { user } = useSession();
  const [which, setWhich] = useState<'open' | 'closed' | 'all'>('open');
  const [owner, setOwner] = useState<string>('');
  const [tasks, setTasks] = useState<Task[]>([]);
  // Until the first answer arrives the list is marked busy, so an empty table is never read as "no tasks".
  const [loaded, setLoaded] = useState(false);
  const [summary, setSummary] = useState<Summary | undefined>();
  const [assignees, setAssignees] = useState<Assignee[]>([]);
  const [error, setError] = useState<string | undefined>();
  const [description, setDescription] = useState('');
  const [newOwner, setNewOwner] = useState('');
  const [due, setDue] = useState('');

  const refresh = useCallback(async () => {
    try {
      const q = new URLSearchParams({ status: which, ...(owner ? { owner } : {}) });
      const r = await api<{ tasks: Task[]; summary: Summary }>(`/api/tasks?${q}`);
      setTasks(r.tasks);
      setSummary(r.summary);
      setLoaded(true);
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [which, owner]);

  useEffect(() => {
    void refresh();
  }, [refresh]);
  useEffect(() => {
    api<{ assignees: Assignee[] }>('/api/tasks/assignees')
      .then((r) => setAssignees(r.assignees))
      .catch(() => undefined);
  }, []);

  const update = async (id: string, body: Record<string, unknown>) => {
    try {
      await api(`/api/tasks/${id}`, { method: 'POST', json: body });
    } catch (err) {
      setError((err as Error).message);
    }
    await refresh();
  };

  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api('/api/tasks', { method: 'POST', json: { description, ...(newOwner ? { owner: newOwner } : {}), ...(due ? { due } : {}) } });
      setDescription('');
      setDue('');
      await refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const today = new Date().toISOString().slice(0, 10);

  return (
    <>
      <h1>Tasks</h1>
      {summary ? (
        <ul className="nhsuk-list sf-banner__facts" data-testid="task-summary">
          <li>
            Open: <strong>{summary.open}</strong>
          </li>
          <li>
            Overdue: <strong className={summary.overdue ? 'sf-abnormal' : undefined}>{summary.overdue}</strong>
          </li>
          <li>
            Oldest open: <strong>{summary.oldestOpen ? `${summary.oldestOpen.ageDays} day${summary.oldestOpen.ageDays === 1 ? '' : 's'} (since ${formatDate(summary.oldestOpen.authoredOn)})` : 'none'}</strong>
          </li>
        </ul>
      ) : null}
      {error ? <div className="nhsuk-error-message" role="alert">{error}</div> : null}
      <details className="nhsuk-details">
        <summary className="nhsuk-details__summary">
          <span className="nhsuk-details__summary-text">New task</span>
        </summary>
        <div className="nhsuk-details__text">
          <form onSubmit={create}>
            <div className="nhsuk-form-group">
              <label className="nhsuk-label" htmlFor="task-description">What needs doing</label>
              <textarea className="nhsuk-textarea" id="task-description" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
            </div>
            <div className="nhsuk-form-group">
              <label className="nhsuk-label" htmlFor="task-owner">Assign to</label>
              <select className="nhsuk-select" id="task-owner" value={newOwner} onChange={(e) => setNewOwner(e.target.value)}>
                <option value="">Nobody yet</option>
                {assignees.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name} ({a.role})
                  </option>
                ))}
              </select>
            </div>
            <div className="nhsuk-form-group">
              <label className="nhsuk-label" htmlFor="task-due">Due</label>
              <input className="nhsuk-input nhsuk-input--width-10" id="task-due" type="date" value={due} onChange={(e) => setDue(e.target.value)} />
            </div>
            <button className="nhsuk-button" type="submit">Add task</button>
          </form>
        </div>
      </details>
      <div className="nhsuk-grid-row">
        <div className="nhsuk-grid-column-one-half">
          <div className="nhsuk-form-group">
            <label className="nhsuk-label" htmlFor="task-filter-status">Show</label>
            <select className="nhsuk-select" id="task-filter-status" value={which} onChange={(e) => setWhich(e.target.value as typeof which)}>
              <option value="open">Open tasks</option>
              <option value="closed">Finished tasks</option>
              <option value="all">All tasks</option>
            </select>
          </div>
        </div>
        <div className="nhsuk-grid-column-one-half">
          <div className="nhsuk-form-group">
            <label className="nhsuk-label" htmlFor="task-filter-owner">Assigned to</label>
            <select className="nhsuk-select" id="task-filter-owner" value={owner} onChange={(e) => setOwner(e.target.value)}>
              <option value="">Anyone</option>
              <option value="me">Me ({user.name})</option>
              <option value="unassigned">Nobody</option>
              {assignees.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                </option>
              ))}
            </select>
          </div>
        </div>
      </div>
      <table className="nhsuk-table" data-testid="task-list" aria-busy={!loaded}>
        <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Tasks, oldest first</caption>
        <thead className="nhsuk-table__head">
          <tr className="nhsuk-table__row">
            <th className="nhsuk-table__header" scope="col">Task</th>
            <th className="nhsuk-table__header" scope="col">Created</th>
            <th className="nhsuk-table__header" scope="col">Due</th>
            <th className="nhsuk-table__header" scope="col">Assigned to</th>
            <th className="nhsuk-table__header" scope="col">Status</th>
          </tr>
        </thead>
        <tbody className="nhsuk-table__body">
          {loaded && tasks.length === 0 ? (
            <tr className="nhsuk-table__row">
              <td className="nhsuk-table__cell" colSpan={5}>
                {which === 'closed' ? 'No finished tasks' : which === 'all' ? 'No tasks' : 'No open tasks'}{owner ? ' for this person' : ''}.
              </td>
            </tr>
          ) : null}
          {tasks.map((t) => {
            const dueDate = t.restriction?.period?.end;
            const ownerId = staffIdOf(t.owner) ?? '';
            const actions = user ? taskActionsFor(user.role, t) : { mayClose: false };
            return (
              <tr className="nhsuk-table__row" key={t.id}>
                <td className="nhsuk-table__cell">
                  {t.priority && t.priority !== 'routine' ? <strong className="nhsuk-tag nhsuk-tag--red">{t.priority}</strong> : null} {t.description}
                  {t.for?.reference ? (
                    <div className="nhsuk-body-s">
                      <a href={`/${t.for.reference.replace('Patient/', 'patient/')}`} onClick={onLinkClick(`/${t.for.reference.replace('Patient/', 'patient/')}`)}>
                        Open patient record
                      </a>
                    </div>
                  ) : null}
                </td>
                <td className="nhsuk-table__cell">{formatDateTime(t.authoredOn)}</td>
                <td className="nhsuk-table__cell">
                  <span className={dueDate && dueDate < today && t.status !== 'completed' ? 'sf-abnormal' : undefined}>{formatDate(dueDate) || '—'}</span>
                </td>
                <td className="nhsuk-table__cell">
                  <label className="nhsuk-u-visually-hidden" htmlFor={`owner-${t.id}`}>Assign {t.description}</label>
                  <select className="nhsuk-select" id={`owner-${t.id}`} value={ownerId ?? ''} onChange={(e) => void update(t.id!, { owner: e.target.value || null })}>
                    <option value="">Nobody</option>
                    {assignees.map((a) => (
                      <option key={a.id} value={a.id}>
                        {a.name}
                      </option>
                    ))}
                  </select>
                </td>
                <td className="nhsuk-table__cell">
                  {actions.mayClose ? (
                    <>
                      <label className="nhsuk-u-visually-hidden" htmlFor={`status-${t.id}`}>Status of {t.description}</label>
                      <select className="nhsuk-select" id={`status-${t.id}`} value={t.status} onChange={(e) => void update(t.id!, { status: e.target.value })}>
                        {[...TASK_STATUS_CHOICES, ...((TASK_STATUS_CHOICES as readonly string[]).includes(t.status) ? [] : [t.status])].map((k) => (
                          <option key={k} value={k}>
                            {taskStatusText(k)}
                          </option>
                        ))}
                      </select>
                    </>
                  ) : (
                    <div data-testid={`status-fixed-${t.id}`}>
                      {taskStatusText(t.status)}
                      <div className="nhsuk-body-s nhsuk-u-margin-bottom-0">
                        {actions.why}{' '}
                        {taskCodeOf(t) === RESULT_REVIEW_TASK_CODE && user?.role === 'clinician' ? (
                          <a href="/results" onClick={onLinkClick('/results')}>
                            Open the results inbox
                          </a>
                        ) : null}
                      </div>
                    </div>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {!tasks.length ? <p>No tasks.</p> : null}
    </>
  );
}
