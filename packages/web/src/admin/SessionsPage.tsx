import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { SLOT_MINUTES, SLOT_TYPES } from '@steadfast/domain/appointments';
import { api } from '../api.ts';
import { formatDate, localIsoDate } from '../format.ts';
import { useSession } from '../session.ts';
import { NotAvailable } from '../record/Section.tsx';
import { ErrorSummary, failureOf, type FormFailure } from './FormError.tsx';

interface Clinician {
  scheduleId: string;
  name: string;
}

interface DiarySession {
  id: string;
  scheduleId: string;
  clinician: string;
  date: string;
  start: string;
  end: string;
  minutes: number;
  slotTypeLabel: string;
  slots: number;
  booked: number;
}

const FIELDS = { schedule: 'session-clinician', date: 'session-date', start: 'session-start', end: 'session-end', minutes: 'session-minutes', slotType: 'session-type' };

/** Diary sessions: the practice manager sets up each clinician's sessions; overlapping ones are refused. */
export function SessionsPage() {
  const { user } = useSession();
  const [clinicians, setClinicians] = useState<Clinician[]>([]);
  const [from, setFrom] = useState(localIsoDate(new Date()));
  const [sessions, setSessions] = useState<DiarySession[] | undefined>();
  const [failure, setFailure] = useState<FormFailure | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const [form, setForm] = useState({ schedule: '', date: localIsoDate(new Date()), start: '09:00', end: '12:00', minutes: '10', slotType: 'routine' });

  const refresh = useCallback(async () => {
    try {
      setSessions((await api<{ sessions: DiarySession[] }>(`/api/appointments/sessions?from=${from}&days=7`)).sessions);
    } catch (err) {
      setFailure(failureOf(err));
    }
  }, [from]);
  useEffect(() => {
    api<{ clinicians: Clinician[] }>('/api/appointments/clinicians')
      .then((r) => {
        setClinicians(r.clinicians);
        setForm((f) => ({ ...f, schedule: f.schedule || r.clinicians[0]?.scheduleId || '' }));
      })
      .catch((err) => setFailure(failureOf(err)));
  }, []);
  useEffect(() => void refresh(), [refresh]);

  if (user.role !== 'practice-admin') return <NotAvailable what="diary sessions" />;

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setDone(undefined);
    try {
      const r = await api<{ created: number }>('/api/appointments/sessions', { method: 'POST', json: { ...form, minutes: Number(form.minutes) } });
      const who = clinicians.find((c) => c.scheduleId === form.schedule)?.name ?? 'the clinician';
      setFailure(undefined);
      setDone(`Session set up for ${who} on ${formatDate(form.date)}, ${form.start} to ${form.end}: ${r.created} slots`);
      await refresh();
    } catch (err) {
      setFailure(failureOf(err, FIELDS));
    }
  };

  const remove = async (s: DiarySession) => {
    setDone(undefined);
    try {
      await api(`/api/appointments/sessions/${s.id}`, { method: 'DELETE' });
      setFailure(undefined);
      setDone(`Removed the session for ${s.clinician} on ${formatDate(s.date)}, ${s.start} to ${s.end}`);
      await refresh();
    } catch (err) {
      setFailure(failureOf(err));
    }
  };

  return (
    <>
      <h1>Diary sessions</h1>
      <ErrorSummary failure={failure} testId="session-error" />
      {done ? (
        <div className="nhsuk-inset-text" role="status" data-testid="session-done">
          <p>{done}</p>
        </div>
      ) : null}
      <h2 className="nhsuk-heading-m">Set up a session</h2>
      <form onSubmit={create} noValidate className="sf-session-form">
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="session-clinician">Clinician</label>
          <select className="nhsuk-select" id="session-clinician" value={form.schedule} onChange={(e) => setForm({ ...form, schedule: e.target.value })}>
            {clinicians.map((c) => (
              <option key={c.scheduleId} value={c.scheduleId}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="session-date">Date</label>
          <input className="nhsuk-input nhsuk-input--width-10" id="session-date" type="date" value={form.date} onChange={(e) => setForm({ ...form, date: e.target.value })} />
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="session-start">Starts (24-hour clock)</label>
          <input className="nhsuk-input nhsuk-input--width-5" id="session-start" inputMode="numeric" placeholder="09:00" value={form.start} onChange={(e) => setForm({ ...form, start: e.target.value })} />
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="session-end">Ends</label>
          <input className="nhsuk-input nhsuk-input--width-5" id="session-end" inputMode="numeric" placeholder="12:00" value={form.end} onChange={(e) => setForm({ ...form, end: e.target.value })} />
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="session-minutes">Slot length</label>
          <select className="nhsuk-select" id="session-minutes" value={form.minutes} onChange={(e) => setForm({ ...form, minutes: e.target.value })}>
            {SLOT_MINUTES.map((m) => (
              <option key={m} value={m}>
                {m} minutes
              </option>
            ))}
          </select>
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="session-type">Slot type</label>
          <select className="nhsuk-select" id="session-type" value={form.slotType} onChange={(e) => setForm({ ...form, slotType: e.target.value })}>
            {SLOT_TYPES.map((t) => (
              <option key={t.key} value={t.key}>
                {t.label}
              </option>
            ))}
          </select>
        </div>
        <button className="nhsuk-button" type="submit">Set up session</button>
      </form>
      <h2 className="nhsuk-heading-m">Sessions</h2>
      <div className="nhsuk-form-group">
        <label className="nhsuk-label" htmlFor="sessions-from">Week from</label>
        <input className="nhsuk-input nhsuk-input--width-10" id="sessions-from" type="date" value={from} onChange={(e) => e.target.value && setFrom(e.target.value)} />
      </div>
      {sessions && !sessions.length ? <p>No sessions in the 7 days from {formatDate(from)}.</p> : null}
      {sessions?.length ? (
        <table className="nhsuk-table" data-testid="sessions-table">
          <caption className="nhsuk-table__caption">Sessions in the 7 days from {formatDate(from)}</caption>
          <thead className="nhsuk-table__head">
            <tr className="nhsuk-table__row">
              <th className="nhsuk-table__header" scope="col">Date</th>
              <th className="nhsuk-table__header" scope="col">Clinician</th>
              <th className="nhsuk-table__header" scope="col">Time</th>
              <th className="nhsuk-table__header" scope="col">Slots</th>
              <th className="nhsuk-table__header" scope="col">Booked</th>
              <th className="nhsuk-table__header" scope="col">
                <span className="nhsuk-u-visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody className="nhsuk-table__body">
            {sessions.map((s) => (
              <tr className="nhsuk-table__row" key={s.id} data-testid="session-row">
                <td className="nhsuk-table__cell">{formatDate(s.date)}</td>
                <td className="nhsuk-table__cell">{s.clinician}</td>
                <td className="nhsuk-table__cell">
                  {s.start} to {s.end}
                </td>
                <td className="nhsuk-table__cell">
                  {s.slots} × {s.minutes} min {s.slotTypeLabel}
                </td>
                <td className="nhsuk-table__cell">{s.booked === s.slots && s.slots ? <strong className="nhsuk-tag nhsuk-tag--red">Fully booked</strong> : `${s.booked} of ${s.slots}`}</td>
                <td className="nhsuk-table__cell">
                  {s.booked === 0 ? (
                    <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => void remove(s)}>
                      Remove<span className="nhsuk-u-visually-hidden"> session for {s.clinician} on {formatDate(s.date)} at {s.start}</span>
                    </button>
                  ) : (
                    <span className="nhsuk-body-s">Move or cancel its bookings to remove it</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}
