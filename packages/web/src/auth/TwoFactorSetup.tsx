import { useEffect, useState, type FormEvent } from 'react';
import { ApiError } from '../api.ts';
import { ErrorSummary } from '../layout/ErrorSummary.tsx';
import { beginEnrolment, confirmEnrolment, groupSecret, twoFactorStatus, type Enrolment, type TwoFactorStatus } from './twoFactor.ts';

/**
 * Set up two-factor sign-in: scan the QR code (or type the secret), confirm with the first code,
 * then print or copy the 10 recovery codes, shown this once. `forced` when the user may do nothing
 * else until it is done (practice administrators, or when the practice requires it of everyone).
 */
export function TwoFactorSetup({ forced, onDone }: { forced: boolean; onDone: () => void }) {
  const [status, setStatus] = useState<TwoFactorStatus | undefined>();
  const [enrolment, setEnrolment] = useState<Enrolment | undefined>();
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | undefined>();
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    twoFactorStatus()
      .then(setStatus)
      .catch((err: Error) => setError(err.message));
  }, []);

  const start = async () => {
    setError(undefined);
    try {
      setEnrolment(await beginEnrolment());
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const confirm = async (e: FormEvent) => {
    e.preventDefault();
    const c = code.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(c)) {
      setError('Enter the 6-digit code your authenticator app shows');
      return;
    }
    setError(undefined);
    try {
      setRecoveryCodes((await confirmEnrolment(c)).recoveryCodes);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 400 ? 'The code does not match. Check the clock on your phone is right, then enter the code it shows now.' : (err as Error).message);
      setCode('');
    }
  };

  if (recoveryCodes) {
    return (
      <section data-testid="recovery-codes">
        <h1>Two-factor sign-in is on</h1>
        <div className="nhsuk-warning-callout">
          <h2 className="nhsuk-warning-callout__label">
            <span role="text">
              <span className="nhsuk-u-visually-hidden">Important: </span>Save your recovery codes now
            </span>
          </h2>
          <p>If you lose your phone, each of these codes signs you in once. They are shown only this once. Print them or keep them somewhere safe away from your phone.</p>
        </div>
        <ol className="sf-recovery-codes">
          {recoveryCodes.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ol>
        <div className="nhsuk-button-group">
          <button className="nhsuk-button nhsuk-button--secondary" type="button" onClick={() => window.print()}>
            Print codes
          </button>{' '}
          <button
            className="nhsuk-button nhsuk-button--secondary"
            type="button"
            onClick={() => {
              void navigator.clipboard?.writeText(recoveryCodes.join('\n')).then(() => setCopied(true), () => setCopied(false));
            }}
          >
            {copied ? 'Copied' : 'Copy codes'}
          </button>{' '}
          <button className="nhsuk-button" type="button" onClick={onDone} data-testid="two-factor-done">
            I have saved my codes
          </button>
        </div>
      </section>
    );
  }

  return (
    <section data-testid="two-factor-setup">
      <h1>{status?.enabled && !enrolment ? 'Two-factor sign-in' : 'Set up two-factor sign-in'}</h1>
      {forced ? (
        <div className="nhsuk-inset-text" data-testid="two-factor-forced">
          {status?.policy === 'all' ? 'Your practice requires everyone' : 'Practice administrators must'} set up two-factor sign-in before using Steadfast. It works without the internet or NHS smartcards.
        </div>
      ) : null}
      {error ? <ErrorSummary message={error} testId="two-factor-error" /> : null}
      {status?.enabled && !enrolment ? (
        <p data-testid="two-factor-on">
          Two-factor sign-in is on. You have {status.recoveryCodesLeft} unused recovery code{status.recoveryCodesLeft === 1 ? '' : 's'}. To move to a new phone, ask a practice administrator to reset it.
        </p>
      ) : !enrolment ? (
        <>
          <p>You will need an authenticator app on your phone, such as Microsoft Authenticator or Google Authenticator. After your password, Steadfast will ask for the 6-digit code the app shows.</p>
          <button className="nhsuk-button" type="button" onClick={() => void start()} data-testid="two-factor-start">
            Start
          </button>
        </>
      ) : (
        <>
          <h2>1. Scan this QR code with your authenticator app</h2>
          <img src={enrolment.qrDataUrl} alt="QR code to add Steadfast to your authenticator app" width={200} height={200} data-testid="two-factor-qr" />
          <details className="nhsuk-details">
            <summary className="nhsuk-details__summary">
              <span className="nhsuk-details__summary-text">I cannot scan the code</span>
            </summary>
            <div className="nhsuk-details__text">
              <p>Choose to enter a setup key in the app and type this key (time-based):</p>
              <p>
                <code className="sf-secret" data-testid="two-factor-secret">{groupSecret(enrolment.secret)}</code>
              </p>
            </div>
          </details>
          <h2>2. Enter the code the app shows</h2>
          <form onSubmit={confirm} noValidate>
            <div className="nhsuk-form-group">
              <label className="nhsuk-label" htmlFor="confirm-code">6-digit code</label>
              <input
                className="nhsuk-input nhsuk-input--width-10"
                id="confirm-code"
                autoComplete="one-time-code"
                inputMode="numeric"
                pattern="[0-9 ]*"
                maxLength={7}
                value={code}
                onChange={(e) => setCode(e.target.value)}
              />
            </div>
            <button className="nhsuk-button" type="submit">
              Turn on two-factor sign-in
            </button>
          </form>
        </>
      )}
    </section>
  );
}
