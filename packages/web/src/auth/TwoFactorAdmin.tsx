import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { ErrorSummary } from '../layout/ErrorSummary.tsx';

/** Practice administrators: require two-factor sign-in of everyone; reset a user's (lost phone). */
export function TwoFactorAdmin() {
  const [requireForAll, setRequireForAll] = useState<boolean | undefined>();
  const [username, setUsername] = useState('');
  const [message, setMessage] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    api<{ requireForAll: boolean }>('/api/auth/2fa/policy')
      .then((r) => setRequireForAll(r.requireForAll))
      .catch((err: Error) => setError(err.message));
  }, []);

  const setPolicy = async (value: boolean) => {
    setError(undefined);
    try {
      setRequireForAll((await api<{ requireForAll: boolean }>('/api/auth/2fa/policy', { method: 'PUT', json: { requireForAll: value } })).requireForAll);
      setMessage(value ? 'Everyone must now set up two-factor sign-in at their next sign-in.' : 'Two-factor sign-in is now required of practice administrators only.');
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const reset = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setMessage(undefined);
    try {
      const r = await api<{ username: string; reset: boolean }>('/api/auth/2fa/reset', { method: 'POST', json: { username: username.trim() } });
      setMessage(r.reset ? `Two-factor sign-in reset for ${r.username}. They sign in with their password and set it up again.` : `${r.username} had no two-factor sign-in.`);
      setUsername('');
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <section data-testid="two-factor-admin">
      <h2>For practice administrators</h2>
      {error ? <ErrorSummary message={error} /> : null}
      {message ? <div className="nhsuk-inset-text" role="status">{message}</div> : null}
      <div className="nhsuk-form-group">
        <div className="nhsuk-checkboxes">
          <div className="nhsuk-checkboxes__item">
            <input className="nhsuk-checkboxes__input" id="require-all" type="checkbox" checked={requireForAll ?? false} disabled={requireForAll === undefined} onChange={(e) => void setPolicy(e.target.checked)} />
            <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="require-all">Require two-factor sign-in for everyone at this practice</label>
          </div>
        </div>
      </div>
      <form onSubmit={reset} noValidate>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="reset-username">Reset a colleague’s two-factor sign-in (lost or replaced phone)</label>
          <div className="nhsuk-hint" id="reset-username-hint">Check who they are first. This is recorded in the audit trail.</div>
          <input className="nhsuk-input nhsuk-input--width-20" id="reset-username" aria-describedby="reset-username-hint" autoComplete="off" value={username} onChange={(e) => setUsername(e.target.value)} />
        </div>
        <button className="nhsuk-button nhsuk-button--warning" type="submit" disabled={!username.trim()}>
          Reset two-factor sign-in
        </button>
      </form>
    </section>
  );
}
