import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { PanicButton } from './PanicButton.tsx';
import { alarmSoundState, onAlarmSoundChange } from './alarmSound.ts';
import { api } from '../api.ts';
import { formatTime } from '../format.ts';
import { dismissAlarm, useAlarmState } from './alarmStore.ts';
import type { User } from '../session.ts';

/** The alert every signed-in screen shows when anyone at the practice raises the alarm. */
export function AlarmAlert({ user }: { user: User }) {
  const { alarms, dismissed } = useAlarmState();
  const sound = useSyncExternalStore(onAlarmSoundChange, alarmSoundState);
  const [error, setError] = useState<string | undefined>();
  const send = (path: string) => api(path, { method: 'POST', json: {} }).then(() => setError(undefined), (err: Error) => setError(`Not sent: ${err.message}`));
  const active = alarms.filter((a) => !a.resolved && !dismissed.includes(a.id));
  const heading = useRef<HTMLHeadingElement>(null);
  const first = active[0];
  useEffect(() => {
    if (first) heading.current?.focus();
  }, [first?.id]);
  if (!first) return null;
  const mine = first.raisedBy.id === user.id;
  return (
    <div className="sf-alarm" role="alertdialog" aria-modal="true" aria-labelledby="sf-alarm-title" aria-describedby="sf-alarm-where">
      <div className="sf-alarm__box">
        <h2 id="sf-alarm-title" tabIndex={-1} ref={heading}>
          Panic alarm{mine ? ' (raised by you)' : ''}
        </h2>
        <p id="sf-alarm-where" className="sf-alarm__where" data-testid="alarm-where">
          <strong>{first.raisedBy.name}</strong> in <strong>{first.roomKnown ? first.room : `an unmapped room (workstation ${first.workstation || 'not named'})`}</strong> at {formatTime(first.raisedAt)}
        </p>
        {!first.roomKnown ? <p>This workstation has no room set. Ask a practice administrator to map it under Rooms.</p> : null}
        {first.acks.length ? (
          <p data-testid="alarm-acks">Responding: {first.acks.map((a) => `${a.name} (${formatTime(a.at)})`).join(', ')}</p>
        ) : (
          <p>No one has said they are responding yet.</p>
        )}
        {active.length > 1 ? <p data-testid="alarm-more">{active.length - 1} more alarm{active.length === 2 ? '' : 's'} active: stand this one down or hide it to see the next.</p> : null}
        {sound === 'blocked' ? (
          <p data-testid="alarm-sound-blocked">The browser is holding the alarm sound back: press any key or click on this screen to hear alarms.</p>
        ) : null}
        {error ? <p role="alert"><strong>{error}</strong></p> : null}
        <div className="sf-alarm__actions">
          {!mine ? (
            <button type="button" className="nhsuk-button nhsuk-button--reverse" onClick={() => void send(`/api/alarm/${first.id}/ack`)}>
              I am responding
            </button>
          ) : null}
          <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void send(`/api/alarm/${first.id}/resolve`)}>
            Stand down (resolved)
          </button>
          <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => dismissAlarm(first.id)}>
            Hide on this screen
          </button>
        </div>
        {/* This alert covers the header's panic button; a second emergency must still be raised at once. */}
        <div className="sf-alarm__raise" data-testid="alarm-raise-another">
          <PanicButton label="Raise another alarm" />
        </div>
      </div>
    </div>
  );
}
