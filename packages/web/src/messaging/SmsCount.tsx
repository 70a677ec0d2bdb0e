/** How long a text message is, counted by the same rules the node enforces (@steadfast/domain/messaging). */
import { smsLength, SMS_MAX_CHARACTERS } from '@steadfast/domain/messaging';

export function SmsCount({ text, id }: { text: string; id: string }) {
  const s = smsLength(text);
  const over = s.characters > SMS_MAX_CHARACTERS;
  return (
    <div className={`nhsuk-hint${over ? ' sf-over-limit' : ''}`} id={id} aria-live="polite" data-testid={id}>
      {s.characters} of {SMS_MAX_CHARACTERS} characters · {s.fragments} text message{s.fragments === 1 ? '' : 's'} ({s.encoding === 'gsm' ? 'standard characters' : 'unicode'})
      {s.nonGsm.length ? (
        <>
          <br />
          Sent as unicode (fewer characters per text) because of: {s.nonGsm.map((c) => `“${c}”`).join(' ')}. Replace {s.nonGsm.length === 1 ? 'it' : 'them'} to send more per text.
        </>
      ) : null}
      {over ? (
        <>
          <br />
          <strong>Too long: remove {s.characters - SMS_MAX_CHARACTERS} characters.</strong>
        </>
      ) : null}
    </div>
  );
}
