import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { roleLabel, useSession, type Role } from '../session.ts';
import { NotAvailable } from '../record/Section.tsx';
import { ErrorSummary, failureOf, type FormFailure } from './FormError.tsx';

interface Staff {
  id: string;
  username: string;
  name: string;
  role: Role;
  disabled: boolean;
  failedCount: number;
  lockedUntil?: string;
  lastSeen?: string;
  createdAt: string;
}

const ROLES: Role[] = ['receptionist', 'clinician', 'practice-admin'];
const NEW_FIELDS = { username: 'staff-username', name: 'staff-name', role: 'staff-role', password: 'staff-password' };

/** Staff accounts: add, disable (ends their sessions), enable, reset a password, unlock. Every change is audited. */
export function StaffPage() {
  const { user } = useSession();
  const [staff, setStaff] = useState<Staff[] | undefined>();
  const [failure, setFailure] = useState<FormFailure | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const [form, setForm] = useState({ username: '', name: '', role: 'receptionist', password: '' });
  const [resetting, setResetting] = useState<Staff | undefined>();
  const [disabling, setDisabling] = useState<Staff | undefined>();
  const [newPassword, setNewPassword] = useState('');

  const refresh = useCallback(async () => {
    try {
      setStaff((await api<{ staff: Staff[] }>('/api/admin/staff')).staff);
    } catch (err) {
      setFailure(failureOf(err));
    }
  }, []);
  useEffect(() => void refresh(), [refresh]);

  if (user.role !== 'practice-admin') return <NotAvailable what="staff accounts" />;

  const run = async (label: string, fn: () => Promise<unknown>, fields: Record<string, string> = {}) => {
    setDone(undefined);
    try {
      await fn();
      setFailure(undefined);
      setDone(label);
      setResetting(undefined);
      setDisabling(undefined);
      setNewPassword('');
      await refresh();
      return true;
    } catch (err) {
      setFailure(failureOf(err, fields));
      return false;
    }
  };

  const add = async (e: FormEvent) => {
    e.preventDefault();
    const ok = await run(`Added ${form.name.trim() || form.username} (${form.username.trim().toLowerCase()})`, () => api('/api/admin/staff', { method: 'POST', json: form }), NEW_FIELDS);
    if (ok) setForm({ username: '', name: '', role: 'receptionist', password: '' });
  };

  return (
    <>
      <h1>Staff accounts</h1>
      <ErrorSummary failure={failure} testId="staff-error" />
      {done ? (
        <div className="nhsuk-inset-text" role="status" data-testid="staff-done">
          <p>{done}</p>
        </div>
      ) : null}
      {disabling ? (
        <div className="nhsuk-card sf-confirm" data-testid="disable-confirm">
          <div className="nhsuk-card__content">
            <h2 className="nhsuk-card__heading">
              Disable {disabling.name} ({disabling.username})?
            </h2>
            <p>They are signed out everywhere at once and cannot sign in until the account is enabled again. Their records and audit trail stay.</p>
            <div className="sf-inline-actions">
              <button type="button" className="nhsuk-button nhsuk-button--warning" onClick={() => void run(`Disabled ${disabling.username}`, () => api(`/api/admin/staff/${disabling.id}/disable`, { method: 'POST', json: {} }))}>
                Disable account
              </button>
              <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setDisabling(undefined)}>
                Keep it enabled
              </button>
            </div>
          </div>
        </div>
      ) : null}
      {resetting ? (
        <div className="nhsuk-card" data-testid="reset-password">
          <div className="nhsuk-card__content">
            <h2 className="nhsuk-card__heading">
              New password for {resetting.name} ({resetting.username})
            </h2>
            <form
              onSubmit={(e) => {
                e.preventDefault();
                void run(`Password reset for ${resetting.username}; they are signed out everywhere`, () => api(`/api/admin/staff/${resetting.id}/password`, { method: 'POST', json: { password: newPassword } }), { password: 'reset-password-input' });
              }}
            >
              <div className="nhsuk-form-group">
                <label className="nhsuk-label" htmlFor="reset-password-input">New password</label>
                <div className="nhsuk-hint" id="reset-password-hint">At least 8 characters; three or four unrelated words work well. Give it to them in person.</div>
                <input className="nhsuk-input nhsuk-input--width-20" id="reset-password-input" type="password" autoComplete="new-password" aria-describedby="reset-password-hint" value={newPassword} onChange={(e) => setNewPassword(e.target.value)} />
              </div>
              <div className="sf-inline-actions">
                <button type="submit" className="nhsuk-button">Set password</button>
                <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => setResetting(undefined)}>
                  Close
                </button>
              </div>
            </form>
          </div>
        </div>
      ) : null}
      <table className="nhsuk-table" data-testid="staff-table">
        <caption className="nhsuk-table__caption">Accounts</caption>
        <thead className="nhsuk-table__head">
          <tr className="nhsuk-table__row">
            <th className="nhsuk-table__header" scope="col">Name</th>
            <th className="nhsuk-table__header" scope="col">Username</th>
            <th className="nhsuk-table__header" scope="col">Role</th>
            <th className="nhsuk-table__header" scope="col">State</th>
            <th className="nhsuk-table__header" scope="col">Last used</th>
            <th className="nhsuk-table__header" scope="col">
              <span className="nhsuk-u-visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody className="nhsuk-table__body">
          {(staff ?? []).map((s) => (
            <tr className="nhsuk-table__row" key={s.id} data-testid="staff-row" data-username={s.username}>
              <td className="nhsuk-table__cell">{s.name}</td>
              <td className="nhsuk-table__cell">{s.username}</td>
              <td className="nhsuk-table__cell">{roleLabel[s.role]}</td>
              <td className="nhsuk-table__cell" data-testid="staff-state">
                {s.disabled ? (
                  <strong className="nhsuk-tag nhsuk-tag--grey">Disabled</strong>
                ) : s.lockedUntil ? (
                  <strong className="nhsuk-tag nhsuk-tag--red">Locked until {formatDateTime(s.lockedUntil)}</strong>
                ) : (
                  <strong className="nhsuk-tag nhsuk-tag--green">Active</strong>
                )}
              </td>
              <td className="nhsuk-table__cell">{s.lastSeen ? formatDateTime(s.lastSeen) : 'Not signed in'}</td>
              <td className="nhsuk-table__cell sf-inline-actions">
                {s.lockedUntil && !s.disabled ? (
                  <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => void run(`Unlocked ${s.username}`, () => api(`/api/admin/staff/${s.id}/unlock`, { method: 'POST', json: {} }))}>
                    Unlock<span className="nhsuk-u-visually-hidden"> {s.username}</span>
                  </button>
                ) : null}
                <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => (setResetting(s), setDisabling(undefined))}>
                  Reset password<span className="nhsuk-u-visually-hidden"> for {s.username}</span>
                </button>
                {s.disabled ? (
                  <button type="button" className="nhsuk-button nhsuk-button--secondary sf-small-button" onClick={() => void run(`Enabled ${s.username}`, () => api(`/api/admin/staff/${s.id}/enable`, { method: 'POST', json: {} }))}>
                    Enable<span className="nhsuk-u-visually-hidden"> {s.username}</span>
                  </button>
                ) : s.id !== user.id ? (
                  <button type="button" className="nhsuk-button nhsuk-button--warning sf-small-button" onClick={() => (setDisabling(s), setResetting(undefined))}>
                    Disable<span className="nhsuk-u-visually-hidden"> {s.username}</span>
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2 className="nhsuk-heading-m">Add a staff member</h2>
      <form onSubmit={add} noValidate>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="staff-name">Full name</label>
          <input className="nhsuk-input nhsuk-input--width-20" id="staff-name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="staff-username">Username</label>
          <div className="nhsuk-hint" id="staff-username-hint">Lower-case letters, digits, dots: e.g. j.smith</div>
          <input className="nhsuk-input nhsuk-input--width-20" id="staff-username" autoComplete="off" aria-describedby="staff-username-hint" value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} />
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="staff-role">Role</label>
          <select className="nhsuk-select" id="staff-role" value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {roleLabel[r]}
              </option>
            ))}
          </select>
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="staff-password">First password</label>
          <div className="nhsuk-hint" id="staff-password-hint">At least 8 characters. Give it to them in person.</div>
          <input className="nhsuk-input nhsuk-input--width-20" id="staff-password" type="password" autoComplete="new-password" aria-describedby="staff-password-hint" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} />
        </div>
        <button className="nhsuk-button" type="submit">Add staff member</button>
      </form>
    </>
  );
}
