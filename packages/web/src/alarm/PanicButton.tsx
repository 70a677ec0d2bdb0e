import { useEffect, useRef, useState } from 'react';
import { api } from '../api.ts';

/**
 * Two presses (button, then "Confirm") so a stray click does not send the whole practice running,
 * but nothing slower than that: no dialogs to read, no typing.
 */
export function PanicButton({ label = 'Panic alarm' }: { label?: string } = {}) {
  const [armed, setArmed] = useState(false);
  const [status, setStatus] = useState<'idle' | 'sending' | 'sent' | 'failed'>('idle');
  const [message, setMessage] = useState('');
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => () => clearTimeout(timer.current), []);

  const arm = () => {
    setArmed(true);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setArmed(false), 6000);
  };

  const raise = async () => {
    clearTimeout(timer.current);
    setArmed(false);
    setStatus('sending');
    try {
      const r = await api<{ delivered: number; room: string; roomKnown: boolean }>('/api/alarm/raise', { method: 'POST', json: {} });
      setStatus('sent');
      clearTimeout(timer.current);
      timer.current = setTimeout(() => setStatus('idle'), 20_000);
      setMessage(`Alarm sent from ${r.roomKnown ? r.room : 'an unmapped room'} to ${r.delivered} signed-in screen${r.delivered === 1 ? '' : 's'}`);
    } catch (err) {
      setStatus('failed');
      setMessage(`Alarm NOT sent: ${(err as Error).message}. Call for help by phone or in person.`);
    }
  };

  return (
    <span className="sf-panic">
      {armed ? (
        <>
          <button type="button" className="sf-panic__button sf-panic__button--confirm" onClick={raise} autoFocus>
            Confirm panic alarm
          </button>
          <button type="button" className="sf-panic__cancel" onClick={() => setArmed(false)}>
            Cancel
          </button>
        </>
      ) : (
        <button type="button" className="sf-panic__button" onClick={arm} disabled={status === 'sending'}>
          {label}
        </button>
      )}
      <span role="status" className={`sf-panic__status sf-panic__status--${status}`}>
        {status === 'sent' || status === 'failed' ? message : ''}
      </span>
    </span>
  );
}
