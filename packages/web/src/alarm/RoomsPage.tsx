import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, getWorkstation } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { useSession } from '../session.ts';
import { NotAvailable } from '../record/Section.tsx';

interface Room {
  workstation: string;
  room: string;
  updatedAt: string;
  updatedBy: string;
}

/** Practice-admins map each workstation to its room, so a panic alarm says where help is needed. */
export function RoomsPage() {
  const { user } = useSession();
  const [rooms, setRooms] = useState<Room[]>([]);
  const [workstation, setWs] = useState(getWorkstation());
  const [room, setRoom] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [idle, setIdle] = useState('');
  const [signedIn, setSignedIn] = useState<Array<{ workstation: string; lastSignIn: string }>>([]);

  const refresh = useCallback(async () => {
    const r = await api<{ rooms: Room[] }>('/api/alarm/rooms');
    setRooms(r.rooms);
    // Every workstation staff have signed in from (admin capability, from the audit trail).
    api<{ workstations: Array<{ workstation: string; lastSignIn: string }> }>('/api/admin/workstations')
      .then((w) => setSignedIn(w.workstations))
      .catch(() => undefined);
  }, []);
  useEffect(() => {
    void refresh();
    api<{ idleLockMinutes: number }>('/api/webapp/config')
      .then((c) => setIdle(String(c.idleLockMinutes)))
      .catch(() => undefined);
  }, [refresh]);

  if (user.role !== 'practice-admin') return <NotAvailable what="room settings" />;

  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api(`/api/alarm/rooms/${encodeURIComponent(workstation.trim())}`, { method: 'PUT', json: { room } });
      setRoom('');
      setError(undefined);
      await refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const saveIdle = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api('/api/webapp/config', { method: 'PUT', json: { idleLockMinutes: Number(idle) } });
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <>
      <h1>Rooms and workstations</h1>
      <p>A panic alarm names the room of the workstation it was raised from. Every workstation staff sign in from should be here.</p>
      {error ? <div className="nhsuk-error-message" role="alert">{error}</div> : null}
      <form onSubmit={save}>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="room-ws">Workstation</label>
          <input className="nhsuk-input nhsuk-input--width-20" id="room-ws" value={workstation} onChange={(e) => setWs(e.target.value)} />
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="room-name">Room</label>
          <input className="nhsuk-input nhsuk-input--width-20" id="room-name" value={room} onChange={(e) => setRoom(e.target.value)} />
        </div>
        <button className="nhsuk-button" type="submit">Save room</button>
      </form>
      {signedIn.some((w) => !rooms.some((r) => r.workstation === w.workstation)) ? (
        <div className="nhsuk-warning-callout" data-testid="rooms-missing">
          <h2 className="nhsuk-warning-callout__label">
            <span role="text">
              <span className="nhsuk-u-visually-hidden">Important: </span>Workstations with no room
            </span>
          </h2>
          <p>Staff have signed in from these, but a panic alarm raised there would not say where help is needed.</p>
          <ul className="nhsuk-list">
            {signedIn
              .filter((w) => !rooms.some((r) => r.workstation === w.workstation))
              .map((w) => (
                <li key={w.workstation} data-testid="room-missing">
                  <strong>{w.workstation}</strong> (last sign-in {formatDateTime(w.lastSignIn)}){' '}
                  <button
                    type="button"
                    className="nhsuk-button nhsuk-button--secondary sf-small-button"
                    onClick={() => {
                      setWs(w.workstation);
                      document.getElementById('room-name')?.focus();
                    }}
                  >
                    Set room<span className="nhsuk-u-visually-hidden"> for {w.workstation}</span>
                  </button>
                </li>
              ))}
          </ul>
        </div>
      ) : null}
      <table className="nhsuk-table">
        <caption className="nhsuk-table__caption">Workstations</caption>
        <thead className="nhsuk-table__head">
          <tr className="nhsuk-table__row">
            <th className="nhsuk-table__header" scope="col">Workstation</th>
            <th className="nhsuk-table__header" scope="col">Room</th>
            <th className="nhsuk-table__header" scope="col">Changed</th>
            <th className="nhsuk-table__header" scope="col"><span className="nhsuk-u-visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody className="nhsuk-table__body">
          {rooms.map((r) => (
            <tr className="nhsuk-table__row" key={r.workstation}>
              <td className="nhsuk-table__cell">{r.workstation}</td>
              <td className="nhsuk-table__cell">{r.room}</td>
              <td className="nhsuk-table__cell">
                {formatDateTime(r.updatedAt)} by {r.updatedBy}
              </td>
              <td className="nhsuk-table__cell">
                <button
                  type="button"
                  className="nhsuk-button nhsuk-button--secondary sf-small-button"
                  onClick={() => void api(`/api/alarm/rooms/${encodeURIComponent(r.workstation)}`, { method: 'DELETE' }).then(refresh)}
                >
                  Remove<span className="nhsuk-u-visually-hidden"> {r.workstation}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2 className="nhsuk-heading-m">Screen lock</h2>
      <form onSubmit={saveIdle}>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="idle-minutes">Lock screens after this many minutes without use</label>
          <input className="nhsuk-input nhsuk-input--width-4" id="idle-minutes" inputMode="decimal" value={idle} onChange={(e) => setIdle(e.target.value)} />
        </div>
        <button className="nhsuk-button nhsuk-button--secondary" type="submit">Save</button>
      </form>
    </>
  );
}
