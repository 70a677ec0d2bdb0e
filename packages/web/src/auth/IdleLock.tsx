import { useEffect, useState, type FormEvent } from 'react';
import type { User } from '../session.ts';
import { passwordStep } from './twoFactor.ts';
import { CodeStep } from './CodeStep.tsx';
import { ErrorSummary } from '../layout/ErrorSummary.tsx';

const LOCK_KEY = 'steadfast.locked';

export function isLockedFlag(): boolean {
  try {
    return localStorage.getItem(LOCK_KEY) === '1';
  } catch {
    return false;
  }
}

export function setLockedFlag(locked: boolean): void {
  if (locked) localStorage.setItem(LOCK_KEY, '1');
  else localStorage.removeItem(LOCK_KEY);
}

/** Lock after `minutes` without keyboard, mouse or touch. The lock survives a reload. */
export function useIdleLock(minutes: number, locked: boolean, lock: () => void): void {
  useEffect(() => {
    if (locked || !(minutes > 0)) return;
    let timer = setTimeout(lock, minutes * 60_000);
    const reset = () => {
      clearTimeout(timer);
      timer = setTimeout(lock, minutes * 60_000);
    };
    const events = ['keydown', 'mousedown', 'mousemove', 'touchstart', 'wheel'] as const;
    events.forEach((e) => window.addEventListener(e, reset, { passive: true }));
    return () => {
      clearTimeout(timer);
      events.forEach((e) => window.removeEventListener(e, reset));
    };
  }, [minutes, locked, lock]);
}

/** Covers the whole screen; the work underneath (drafts, open record) stays in memory for the same user. */
export function LockScreen({ user, onUnlock, onSignOut }: { user: User; onUnlock: () => void; onSignOut: () => void }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [challenge, setChallenge] = useState<string | undefined>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const step = await passwordStep(user.username, password);
      setPassword('');
      if ('challenge' in step) setChallenge(step.challenge);
      else onUnlock();
    } catch {
      setError('The password is wrong');
    }
  };
  return (
    <main className="nhsuk-main-wrapper nhsuk-width-container sf-lock" id="maincontent" data-testid="lock-screen">
      <h1>Screen locked</h1>
      <p>
        Locked for <strong>{user.name}</strong>. Enter your password to carry on, or sign out so someone else can sign in.
      </p>
      {error ? (
        <ErrorSummary message={error} />
      ) : null}
      {challenge ? (
        <CodeStep challenge={challenge} onSignedIn={() => (setChallenge(undefined), onUnlock())} onRestart={() => setChallenge(undefined)} />
      ) : (
      <form onSubmit={submit}>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="unlock-password">Password</label>
          <input className="nhsuk-input nhsuk-input--width-20" id="unlock-password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} autoFocus />
        </div>
        <button className="nhsuk-button" type="submit">Unlock</button>{' '}
        <button className="nhsuk-button nhsuk-button--secondary" type="button" onClick={onSignOut}>
          Sign out
        </button>
      </form>
      )}
    </main>
  );
}
