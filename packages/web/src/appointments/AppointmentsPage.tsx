import { useCallback, useEffect, useState, type ReactElement } from 'react';
import { api, fhirRead } from '../api.ts';
import type { Patient } from '../fhirTypes.ts';
import { formatDate, localIsoDate, patientName, formatTime } from '../format.ts';
import { onLinkClick } from '../router.ts';
import { appointmentStatusText, statusTag } from './status.ts';
import { PatientPicker } from './PatientPicker.tsx';
import { CancelAppointment } from './CancelAppointment.tsx';

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
  slotType?: string;
  appointment?: { id: string; status: string; description?: string; patient: { id?: string; display: string } };
}

interface BoardColumn {
  scheduleId: string;
  name: string;
  counts: { total: number; booked: number; free: number };
  fullyBooked: boolean;
  slots: DiarySlot[];
}

interface Board {
  date: string;
  columns: BoardColumn[];
  summary: { clinicians: number; fullyBooked: string[]; total: number; booked: number; free: number; fullyBookedDay: boolean };
}

type Mode =
  | { kind: 'view' }
  | { kind: 'book'; slot: DiarySlot }
  | { kind: 'move'; appointmentId: string; from: DiarySlot }
  | { kind: 'cancel'; slot: DiarySlot }
  | { kind: 'actions'; slotId: string };

type View = 'board' | 'day' | 'week';
const VIEWS: Array<{ key: View; label: string }> = [
  { key: 'board', label: 'All clinicians' },
  { key: 'day', label: 'One clinician, day' },
  { key: 'week', label: 'One clinician, week' },
];

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
  const [view, setView] = useState<View>(params.get('view') === 'week' ? 'week' : params.get('view') === 'day' ? 'day' : 'board');
  const [slots, setSlots] = useState<DiarySlot[]>([]);
  const [board, setBoard] = useState<Board | undefined>();
  const [bookReason, setBookReason] = useState('');
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
    if (view === 'board') {
      setLoading(true);
      try {
        setBoard(await api<Board>(`/api/appointments/board?date=${date}`));
      } catch (err) {
        setMessage({ kind: 'error', text: `The appointment book could not be loaded: ${(err as Error).message}` });
      } finally {
        setLoading(false);
      }
      return;
    }
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
  }, [schedule, from, days, view, date]);

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
    act(`Booked ${patientName(patient.name)} at ${formatTime(slot.start)} on ${formatDate(slot.start)}`, async () => {
      await api('/api/appointments/book', { method: 'POST', json: { slot: slot.id, patient: patient.id, ...(bookReason.trim() ? { description: bookReason.trim() } : {}) } });
      setBookReason('');
    });

  /** full: every action on the row; board: one Actions button opens them; compact: the week's overview. */
  const slotRow = (s: DiarySlot, density: 'full' | 'board' | 'compact') => {
    const a = s.appointment;
    const compact = density === 'compact' || (density === 'board' && !(mode.kind === 'actions' && mode.slotId === s.id));
    return (
      <li key={s.id} data-testid="slot" data-slot-id={s.id} className={density === 'board' ? 'sf-board__slot' : undefined} style={density === 'board' ? undefined : { marginBottom: 8 }}>
        <strong>{formatTime(s.start)}</strong>{' '}
        {s.slotType && density !== 'compact' ? <span className="sf-slot-type">{s.slotType}</span> : null}{' '}
        {a ? (
          <>
            {a.patient.id ? (
              <a href={`/patient/${a.patient.id}`} onClick={onLinkClick(`/patient/${a.patient.id}`)}>
                {a.patient.display}
              </a>
            ) : (
              a.patient.display
            )}{' '}
            {a.description && density !== 'compact' ? <span className="sf-slot-reason"> · {a.description}</span> : null}{' '}
            {density === 'compact' && a.status === 'booked' ? null : <strong className={`nhsuk-tag ${statusTag[a.status] ?? ''}`}>{appointmentStatusText(a.status)}</strong>}
            {density === 'board' && (a.status === 'booked' || a.status === 'arrived') ? (
              <button
                type="button"
                className="sf-link-button sf-board__toggle"
                aria-expanded={!compact}
                onClick={() => setMode(mode.kind === 'actions' && mode.slotId === s.id ? { kind: 'view' } : { kind: 'actions', slotId: s.id })}
              >
                {compact ? 'Actions' : 'Hide actions'}
                <span className="nhsuk-u-visually-hidden"> for {a.patient.display} at {formatTime(s.start)}</span>
              </button>
            ) : null}
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
                      onClick={() => setMode({ kind: 'cancel', slot: s })}
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
            ) : density !== 'compact' ? (
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
            <label className="nhsuk-label" htmlFor="diary-clinician">Clinician{view === 'board' ? ' (for the one-clinician views)' : ''}</label>
            <select className="nhsuk-select" id="diary-clinician" value={schedule} disabled={view === 'board'} onChange={(e) => setSchedule(e.target.value)}>
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
              {VIEWS.map((v) => (
                <div className="nhsuk-radios__item" key={v.key}>
                  <input className="nhsuk-radios__input" id={`view-${v.key}`} type="radio" name="view" checked={view === v.key} onChange={() => setView(v.key)} />
                  <label className="nhsuk-label nhsuk-radios__label" htmlFor={`view-${v.key}`}>
                    {v.label}
                  </label>
                </div>
              ))}
            </div>
          </fieldset>
        </div>
      </div>
      <p>
        <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => setDate(addDays(date, -days))}>
          Previous {view === 'week' ? 'week' : 'day'}
        </button>{' '}
        <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => setDate(localIsoDate(new Date()))}>
          Today
        </button>{' '}
        <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => setDate(addDays(date, days))}>
          Next {view === 'week' ? 'week' : 'day'}
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
            <div className="nhsuk-form-group">
              <label className="nhsuk-label" htmlFor="booking-reason">Reason for the appointment (optional)</label>
              <input className="nhsuk-input" id="booking-reason" maxLength={500} value={bookReason} onChange={(e) => setBookReason(e.target.value)} />
            </div>
            <PatientPicker onPick={(p) => void book(mode.slot, p)} />
            <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => setMode({ kind: 'view' })}>
              Close
            </button>
          </div>
        </div>
      ) : null}
      {mode.kind === 'cancel' && mode.slot.appointment ? (
        <CancelAppointment
          patient={mode.slot.appointment.patient.display}
          start={mode.slot.start}
          onKeep={() => setMode({ kind: 'view' })}
          onConfirm={(reasonCode, reason) =>
            act(`Cancelled ${mode.slot.appointment!.patient.display} at ${formatTime(mode.slot.start)}`, () =>
              api(`/api/appointments/${mode.slot.appointment!.id}/cancel`, { method: 'POST', json: { reasonCode, ...(reason ? { reason } : {}) } }),
            )
          }
        />
      ) : null}
      {loading ? <p>Loading the diary…</p> : null}
      {!clinicians.length && !loading ? <p>No clinician has a diary yet. A practice administrator can create sessions.</p> : null}
      {view === 'board' ? (
        board ? <BoardView board={board} slotRow={(s) => slotRow(s, 'board')} /> : null
      ) : view === 'day' ? (
        <section aria-label={`Diary for ${formatDate(from)}`}>
          <h2 className="nhsuk-heading-m">{formatDate(from)}</h2>
          {slots.length ? <ul className="nhsuk-list" data-testid="diary">{slots.map((s) => slotRow(s, 'full'))}</ul> : <p>No sessions on this day.</p>}
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
              {list.length ? <ul className="nhsuk-list">{list.map((s) => slotRow(s, 'compact'))}</ul> : <p className="nhsuk-body-s">No sessions</p>}
            </section>
          ))}
        </div>
      )}
    </>
  );
}

/** Every clinician's day side by side, with who is fully booked said first. */
function BoardView({ board, slotRow }: { board: Board; slotRow: (s: DiarySlot) => ReactElement }) {
  const working = board.columns.filter((c) => c.counts.total > 0);
  const off = board.columns.filter((c) => c.counts.total === 0);
  const { summary } = board;
  return (
    <section aria-labelledby="board-heading">
      <h2 className="nhsuk-heading-m" id="board-heading">
        {formatDate(board.date)}: all clinicians
      </h2>
      <div className={summary.fullyBookedDay ? 'nhsuk-warning-callout' : 'nhsuk-inset-text'} data-testid="board-summary">
        {summary.clinicians === 0 ? (
          <p>No clinician has a session on this day.</p>
        ) : summary.fullyBookedDay ? (
          <p>
            <strong>Fully booked:</strong> every slot of all {summary.clinicians} clinicians is taken ({summary.booked} booked).
          </p>
        ) : (
          <p>
            <strong>
              {summary.free} free of {summary.total} slots
            </strong>{' '}
            across {summary.clinicians} clinician{summary.clinicians === 1 ? '' : 's'}.
            {summary.fullyBooked.length ? <> Fully booked: {summary.fullyBooked.join(', ')}.</> : null}
          </p>
        )}
      </div>
      {working.length ? (
        <div className="sf-board" data-testid="board" style={{ gridTemplateColumns: `repeat(${working.length}, minmax(200px, 1fr))` }}>
          {working.map((c) => (
            <section key={c.scheduleId} className="sf-board__column" aria-label={c.name} data-testid="board-column">
              <h3 className="nhsuk-heading-xs sf-board__name">{c.name}</h3>
              <p className="nhsuk-body-s sf-board__counts">
                {c.fullyBooked ? <strong className="nhsuk-tag nhsuk-tag--red">Fully booked</strong> : `${c.counts.free} free of ${c.counts.total}`}
              </p>
              <ul className="nhsuk-list sf-board__slots">{c.slots.map((s) => slotRow(s))}</ul>
            </section>
          ))}
        </div>
      ) : null}
      {off.length ? <p className="nhsuk-body-s">No sessions today: {off.map((c) => c.name).join(', ')}.</p> : null}
    </section>
  );
}
