/** Practice diaries run on UK clock time (GMT/BST); the record stores instants in UTC. */

function londonOffsetMinutes(instant: Date): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', timeZoneName: 'shortOffset' }).formatToParts(instant);
  const tz = parts.find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{1,2})(?::(\d{2}))?/.exec(tz);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
}

/** "2026-07-01" + "09:00" in London → "2026-07-01T08:00:00.000Z". */
export function londonInstant(date: string, hhmm: string): string {
  const guess = new Date(`${date}T${hhmm}:00Z`);
  const offset = londonOffsetMinutes(new Date(guess.getTime() - londonOffsetMinutes(guess) * 60_000));
  return new Date(guess.getTime() - offset * 60_000).toISOString();
}

/** Start of the London day `date` + `plusDays`, as a UTC instant. */
export function londonDayStart(date: string, plusDays: number): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + plusDays);
  return londonInstant(d.toISOString().slice(0, 10), '00:00');
}
