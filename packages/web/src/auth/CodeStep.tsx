import { useState, type FormEvent } from 'react';
import { ApiError } from '../api.ts';
import type { User } from '../session.ts';
import { ErrorSummary } from '../layout/ErrorSummary.tsx';
import { codeStep } from './twoFactor.ts';

/** The second step of sign-in: the 6-digit code from the authenticator app, or a recovery code. */
export function CodeStep({ challenge, onSignedIn, onRestart }: { challenge: string; onSignedIn: (u: User, recoveryCodesLeft?: number) => void; onRestart: () => void }) {
  const [useRecovery, setUseRecovery] = useState(false);
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const v = value.trim();
    if (!v) {
      setError(useRecovery ? 'Enter one of your recovery codes' : 'Enter the 6-digit code from your authenticator app');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const r = await codeStep(challenge, useRecovery ? { recoveryCode: v } : { code: v.replace(/\s+/g, '') });
      onSignedIn(r.user, r.recoveryCodesLeft);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && /expired or was not started/.test(err.message)) {
        setError('The sign-in took too long. Enter your username and password again.');
        onRestart();
      } else if (err instanceof ApiError && err.status === 401) {
        setError(useRecovery ? 'That recovery code is not right or has been used already' : 'The code is not right or has been used already. Enter the code your app shows now.');
      } else setError((err as Error).message);
      setValue('');
    } finally {
      setBusy(false);
    }
  };

  const toggle = () => {
    setUseRecovery(!useRecovery);
    setValue('');
    setError(undefined);
  };

  return (
    <form onSubmit={submit} noValidate data-testid="code-step">
      {error ? <ErrorSummary message={error} testId="code-error" /> : null}
      {useRecovery ? (
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="recovery-code">Recovery code</label>
          <div className="nhsuk-hint" id="recovery-code-hint">One of the 10 codes you printed or saved when you set up two-factor sign-in. Each works once.</div>
          <input className="nhsuk-input nhsuk-input--width-20" id="recovery-code" name="recovery-code" autoComplete="off" spellCheck={false} aria-describedby="recovery-code-hint" value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
        </div>
      ) : (
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="two-factor-code">Code from your authenticator app</label>
          <div className="nhsuk-hint" id="two-factor-code-hint">The 6-digit code shown for Steadfast on your phone.</div>
          <input
            className="nhsuk-input nhsuk-input--width-10"
            id="two-factor-code"
            name="two-factor-code"
            autoComplete="one-time-code"
            inputMode="numeric"
            pattern="[0-9 ]*"
            maxLength={7}
            aria-describedby="two-factor-code-hint"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            autoFocus
          />
        </div>
      )}
      <button className="nhsuk-button" type="submit" disabled={busy}>
        {useRecovery ? 'Sign in with recovery code' : 'Continue'}
      </button>
      <p>
        <a href="#" data-testid="toggle-recovery" onClick={(e) => (e.preventDefault(), toggle())}>
          {useRecovery ? 'Use the code from your app instead' : 'Use a recovery code instead'}
        </a>
      </p>
    </form>
  );
}
