import { useCallback, useEffect, useState } from 'react';
import { api, fhirRead } from '../api.ts';
import type { Patient } from '../fhirTypes.ts';
import { formatDate, localIsoDate, patientName, formatTime } from '../format.ts';
import { onLinkClick } from '../router.ts';
import { appointmentStatusText, statusTag } from './status.ts';
import { PatientPicker } from './PatientPicker.tsx';

interface Clinician {
  scheduleId: string;
  practitionerId?: string;
  name: string;
}

interface DiarySlot {
  id: string;
  start: string;
  end: string;
  status: string;
  appointment?: { id: string; status: string; description?: string; patient: { id?: string; display: string } };
}

type Mode = { kind: 'view' } | { kind: 'book'; slot: DiarySlot } | { kind: 'move'; appointmentId: string; from: DiarySlot };

function addDays(iso: string, n: number): string {
  const d = new Date(`${iso}T12:00:00`);
  d.setDate(d.getDate() + n);
  return localIsoDate(d);
}

function mondayOf(iso: string): string {
  const d = new Date(`${iso}T12:00:00`);
  const day = (d.getDay() + 6) % 7;
  return addDays(iso, -day);
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export function AppointmentsPage() {
  const params = new URLSearchParams(location.search);
  const [clinicians, setClinicians] = useState<Clinician[]>([]);
  const [schedule, setSchedule] = useState(params.get('schedule') ?? '');
  const [date, setDate] = useState(params.get('date') ?? localIsoDate(new Date()));
  const [view, setView] = useState<'day' | 'week'>(params.get('view') === 'week' ? 'week' : 'day');
  const [slots, setSlots] = useState<DiarySlot[]>([]);
  const [loading, setLoading] = useState(false);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | undefined>();
  const [mode, setMode] = useState<Mode>({ kind: 'view' });
  const [forPatient, setForPatient] = useState<Patient | undefined>();

  useEffect(() => {
    api<{ clinicians: Clinician[] }>('/api/appointments/clinicians')
      .then((r) => {
        setClinicians(r.clinicians);
        setSchedule((s) => s || r.clinicians[0]?.scheduleId || '');
      })
      .catch((err) => setMessage({ kind: 'error', text: `Clinicians could not be loaded: ${(err as Error).message}` }));
    const pid = params.get('patient');
    if (pid) fhirRead<Patient>('Patient', pid).then(setForPatient).catch(() => undefined);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const from = view === 'week' ? mondayOf(date) : date;
  const days = view === 'week' ? 7 : 1;

  const refresh = useCallback(async () => {
    if (!schedule) return;
    setLoading(true);
    try {
      const r = await api<{ slots: DiarySlot[] }>(`/api/appointments/diary?schedule=${encodeURIComponent(schedule)}&from=${from}&days=${days}`);
      setSlots(r.slots);
    } catch (err) {
      setMessage({ kind: 'error', text: `The diary could not be loaded: ${(err as Error).message}` });
    } finally {
      setLoading(false);
    }
  }, [schedule, from, days]);

  useEffect(() => {
    void refresh();
    history.replaceState(null, '', `/appointments?${new URLSearchParams({ ...(schedule ? { schedule } : {}), date, view, ...(forPatient?.id ? { patient: forPatient.id } : {}) })}`);
  }, [refresh, date, view, schedule, forPatient?.id]);

  const act = async (label: string, fn: () => Promise<unknown>) => {
    setMessage(undefined);
    try {
      await fn();
      setMessage({ kind: 'ok', text: label });
      setMode({ kind: 'view' });
    } catch (err) {
      setMessage({ kind: 'error', text: (err as Error).message });
    }
    await refresh();
  };

  const book = (slot: DiarySlot, patient: Patient) =>
    act(`Booked ${patientName(patient.name)} at ${formatTime(slot.start)} on ${formatDate(slot.start)}`, () =>
      api('/api/appointments/book', { method: 'POST', json: { slot: slot.id, patient: patient.id } }),
    );

  const slotRow = (s: DiarySlot, compact: boolean) => {
    const a = s.appointment;
    return (
      <li key={s.id} data-testid="slot" data-slot-id={s.id} style={{ marginBottom: 8 }}>
        <strong>{formatTime(s.start)}</strong>{' '}
        {a ? (
          <>
            {a.patient.id ? (
              <a href={`/patient/${a.patient.id}`} onClick={onLinkClick(`/patient/${a.patient.id}`)}>
                {a.patient.display}
              </a>
            ) : (
              a.patient.display
            )}{' '}
            {compact && a.status === 'booked' ? null : <strong className={`nhsuk-tag ${statusTag[a.status] ?? ''}`}>{appointmentStatusText(a.status)}</strong>}
            {!compact ? (
              <span className="sf-inline-actions" style={{ display: 'block', marginTop: 4 }}>
                {a.status === 'booked' ? (
                  <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => void act('Marked arrived', () => api(`/api/appointments/${a.id}/status`, { method: 'POST', json: { status: 'arrived' } }))}>
                    Arrived
                  </button>
                ) : null}
                {a.status === 'booked' || a.status === 'arrived' ? (
                  <>
                    <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => void act('Marked seen', () => api(`/api/appointments/${a.id}/status`, { method: 'POST', json: { status: 'fulfilled' } }))}>
                      Seen
                    </button>
                    <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => void act('Marked did not attend', () => api(`/api/appointments/${a.id}/status`, { method: 'POST', json: { status: 'noshow' } }))}>
                      Did not attend
                    </button>
                    <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => setMode({ kind: 'move', appointmentId: a.id, from: s })}>
                      Move
                    </button>
                    <button
                      type="button"
                      className="nhsuk-button nhsuk-button--warning sf-small-button"
                      onClick={() => void act(`Cancelled ${a.patient.display} at ${formatTime(s.start)}`, () => api(`/api/appointments/${a.id}/cancel`, { method: 'POST', json: { reason: 'Cancelled at reception' } }))}
                    >
                      Cancel<span className="nhsuk-u-visually-hidden"> appointment for {a.patient.display}</span>
                    </button>
                  </>
                ) : null}
              </span>
            ) : null}
          </>
        ) : s.status === 'free' ? (
          <>
            <span className="sf-slot-free">free</span>{' '}
            {mode.kind === 'move' ? (
              <button type="button" className="nhsuk-button sf-small-button" onClick={() => void act(`Moved to ${formatTime(s.start)} on ${formatDate(s.start)}`, () => api(`/api/appointments/${mode.appointmentId}/move`, { method: 'POST', json: { slot: s.id } }))}>
                Move here
              </button>
            ) : forPatient ? (
              <button type="button" className="nhsuk-button sf-small-button" onClick={() => void book(s, forPatient)}>
                Book<span className="nhsuk-u-visually-hidden"> {formatTime(s.start)} for {patientName(forPatient.name)}</span>
              </button>
            ) : !compact ? (
              <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => setMode({ kind: 'book', slot: s })}>
                Book<span className="nhsuk-u-visually-hidden"> {formatTime(s.start)}</span>
              </button>
            ) : null}
          </>
        ) : (
          <span>{s.status}</span>
        )}
      </li>
    );
  };

  const byDay = new Map<string, DiarySlot[]>();
  for (let i = 0; i < days; i++) byDay.set(addDays(from, i), []);
  for (const s of slots) byDay.get(localIsoDate(new Date(s.start)))?.push(s);

  return (
    <>
      <h1>Appointments</h1>
      {forPatient ? (
        <div className="nhsuk-inset-text" data-testid="booking-for">
          Booking for <strong>{patientName(forPatient.name)}</strong> (born {formatDate(forPatient.birthDate)}).{' '}
          <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => setForPatient(undefined)}>
            Stop booking for this patient
          </button>
        </div>
      ) : null}
      {message ? (
        <div className={message.kind === 'error' ? 'nhsuk-error-summary' : 'nhsuk-inset-text'} role={message.kind === 'error' ? 'alert' : 'status'} data-testid="diary-message">
          {message.kind === 'error' ? <h2 className="nhsuk-error-summary__title">There is a problem</h2> : null}
          <p>{message.text}</p>
        </div>
      ) : null}
      <div className="nhsuk-grid-row">
        <div className="nhsuk-grid-column-one-third">
          <div className="nhsuk-form-group">
            <label className="nhsuk-label" htmlFor="diary-clinician">Clinician</label>
            <select className="nhsuk-select" id="diary-clinician" value={schedule} onChange={(e) => setSchedule(e.target.value)}>
              {clinicians.map((c) => (
                <option key={c.scheduleId} value={c.scheduleId}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div className="nhsuk-grid-column-one-third">
          <div className="nhsuk-form-group">
            <label className="nhsuk-label" htmlFor="diary-date">Date</label>
            <input className="nhsuk-input nhsuk-input--width-10" id="diary-date" type="date" value={date} onChange={(e) => e.target.value && setDate(e.target.value)} />
          </div>
        </div>
        <div className="nhsuk-grid-column-one-third">
          <fieldset className="nhsuk-fieldset">
            <legend className="nhsuk-fieldset__legend">View</legend>
            <div className="nhsuk-radios nhsuk-radios--inline nhsuk-radios--small">
              {(['day', 'week'] as const).map((v) => (
                <div className="nhsuk-radios__item" key={v}>
                  <input className="nhsuk-radios__input" id={`view-${v}`} type="radio" name="view" checked={view === v} onChange={() => setView(v)} />
                  <label className="nhsuk-label nhsuk-radios__label" htmlFor={`view-${v}`}>
                    {v === 'day' ? 'Day' : 'Week'}
                  </label>
                </div>
              ))}
            </div>
          </fieldset>
        </div>
      </div>
      <p>
        <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => setDate(addDays(date, -days))}>
          Previous {view}
        </button>{' '}
        <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => setDate(localIsoDate(new Date()))}>
          Today
        </button>{' '}
        <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => setDate(addDays(date, days))}>
          Next {view}
        </button>
      </p>
      {mode.kind === 'move' ? (
        <div className="nhsuk-inset-text">
          Moving {mode.from.appointment?.patient.display} from {formatTime(mode.from.start)} on {formatDate(mode.from.start)}: choose a free slot.{' '}
          <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => setMode({ kind: 'view' })}>
            Stop moving
          </button>
        </div>
      ) : null}
      {mode.kind === 'book' ? (
        <div className="nhsuk-card">
          <div className="nhsuk-card__content">
            <h2 className="nhsuk-card__heading">
              Book {formatTime(mode.slot.start)} on {formatDate(mode.slot.start)}
            </h2>
            <PatientPicker onPick={(p) => void book(mode.slot, p)} />
            <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => setMode({ kind: 'view' })}>
              Close
            </button>
          </div>
        </div>
      ) : null}
      {loading ? <p>Loading the diary…</p> : null}
      {!clinicians.length && !loading ? <p>No clinician has a diary yet. A practice administrator can create sessions.</p> : null}
      {view === 'day' ? (
        <section aria-label={`Diary for ${formatDate(from)}`}>
          <h2 className="nhsuk-heading-m">{formatDate(from)}</h2>
          {slots.length ? <ul className="nhsuk-list" data-testid="diary">{slots.map((s) => slotRow(s, false))}</ul> : <p>No sessions on this day.</p>}
        </section>
      ) : (
        <div className="sf-week" data-testid="diary-week">
          {[...byDay.entries()].map(([day, list], i) => (
            <section key={day} aria-label={formatDate(day)}>
              <h2 className="nhsuk-heading-s">
                {WEEKDAYS[i]} {formatDate(day)}
              </h2>
              {list.length ? (
                <p className="nhsuk-body-s">
                  {list.filter((s) => s.status === 'free').length} free of {list.length} ·{' '}
                  <button
                    type="button"
                    className="sf-link-button"
                    onClick={() => {
                      setDate(day);
                      setView('day');
                    }}
                  >
                    Open day<span className="nhsuk-u-visually-hidden"> {formatDate(day)}</span>
                  </button>
                </p>
              ) : null}
              {list.length ? <ul className="nhsuk-list">{list.map((s) => slotRow(s, true))}</ul> : <p className="nhsuk-body-s">No sessions</p>}
            </section>
          ))}
        </div>
      )}
    </>
  );
}
