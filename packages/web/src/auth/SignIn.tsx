import { useState, type FormEvent } from 'react';
import { ApiError, getWorkstation, setWorkstation } from '../api.ts';
import type { User } from '../session.ts';
import { ErrorSummary } from '../layout/ErrorSummary.tsx';
import { passwordStep } from './twoFactor.ts';
import { CodeStep } from './CodeStep.tsx';


export function SignIn({ onSignedIn, notice }: { onSignedIn: (u: User) => void; notice?: string }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [workstation, setWs] = useState(getWorkstation());
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [challenge, setChallenge] = useState<string | undefined>();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!username || !password) {
      setError('Enter your username and password');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      setWorkstation(workstation);
      const step = await passwordStep(username, password);
      if ('challenge' in step) {
        setChallenge(step.challenge);
        setPassword('');
      } else onSignedIn(step.user);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'The username or password is wrong' : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="nhsuk-main-wrapper nhsuk-width-container" id="maincontent">
      <div className="nhsuk-grid-row">
        <div className="nhsuk-grid-column-one-half">
          <h1>Sign in to Steadfast</h1>
          {notice ? <div className="nhsuk-inset-text">{notice}</div> : null}
          {error ? (
            <ErrorSummary message={error} testId="signin-error" />
          ) : null}
          {challenge ? (
            <>
              <p>Two-factor sign-in is on for <strong>{username}</strong>.</p>
              <CodeStep challenge={challenge} onSignedIn={(u) => onSignedIn(u)} onRestart={() => setChallenge(undefined)} />
            </>
          ) : (
          <form onSubmit={submit} noValidate>
            <div className="nhsuk-form-group">
              <label className="nhsuk-label" htmlFor="username">Username</label>
              <input className="nhsuk-input" id="username" name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
            </div>
            <div className="nhsuk-form-group">
              <label className="nhsuk-label" htmlFor="password">Password</label>
              <input className="nhsuk-input" id="password" name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
            </div>
            <div className="nhsuk-form-group">
              <label className="nhsuk-label" htmlFor="workstation">This workstation</label>
              <div className="nhsuk-hint" id="workstation-hint">The name on the label of this computer, e.g. RECEPTION-1. Panic alarms use it to say which room you are in.</div>
              <input className="nhsuk-input nhsuk-input--width-20" id="workstation" aria-describedby="workstation-hint" value={workstation} onChange={(e) => setWs(e.target.value)} />
            </div>
            <button className="nhsuk-button" type="submit" disabled={busy}>
              Sign in
            </button>
          </form>
          )}
        </div>
      </div>
    </main>
  );
}
