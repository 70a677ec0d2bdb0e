/**
 * The panic alarm's sound. Browsers start a page's audio suspended until the person interacts with
 * it, so after a reload (or on a screen nobody has touched since) an alarm arrived in silence. One
 * AudioContext is kept; it is resumed on the first key press, click or touch, and an alarm that
 * arrived while sound was blocked sounds then. The alert says when sound is waiting for a touch.
 */
type SoundState = 'on' | 'blocked' | 'unavailable';

let ctx: AudioContext | undefined;
let pending = false;
let state: SoundState = 'blocked';
const listeners = new Set<() => void>();

function setState(next: SoundState): void {
  if (state === next) return;
  state = next;
  listeners.forEach((l) => l());
}

function context(): AudioContext | undefined {
  if (ctx) return ctx;
  try {
    ctx = new AudioContext();
    ctx.onstatechange = () => setState(ctx!.state === 'running' ? 'on' : 'blocked');
    setState(ctx.state === 'running' ? 'on' : 'blocked');
  } catch {
    setState('unavailable');
  }
  return ctx;
}

/** Three rising beeps: unlike any other sound on the screen. */
function tone(c: AudioContext): void {
  for (let i = 0; i < 3; i++) {
    const osc = c.createOscillator();
    const gain = c.createGain();
    osc.frequency.value = 880 + i * 110;
    gain.gain.value = 0.4;
    osc.connect(gain).connect(c.destination);
    const at = c.currentTime + i * 0.35;
    osc.start(at);
    osc.stop(at + 0.25);
  }
}

/** Sound the alarm now, or as soon as the person touches the page when the browser holds sound back. */
export function playAlarmSound(): void {
  const c = context();
  if (!c) return;
  if (c.state === 'running') {
    tone(c);
    return;
  }
  pending = true;
  void c.resume().then(
    () => unlock(),
    () => undefined,
  );
}

/** Resume sound (on a key press, click or touch) and play an alarm that is waiting for it. */
function unlock(): void {
  const c = context();
  if (!c) return;
  const go = () => {
    if (c.state !== 'running') return;
    setState('on');
    if (pending) {
      pending = false;
      tone(c);
    }
  };
  if (c.state === 'running') go();
  else void c.resume().then(go, () => undefined);
}

/** Listen for the first interaction that lets the page make sound; returns the clean-up. */
export function armAlarmSound(): () => void {
  context();
  const events = ['pointerdown', 'keydown', 'touchstart'] as const;
  for (const e of events) window.addEventListener(e, unlock, { capture: true, passive: true });
  return () => {
    for (const e of events) window.removeEventListener(e, unlock, { capture: true });
  };
}

export function alarmSoundState(): SoundState {
  return state;
}

export function onAlarmSoundChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Whether an alarm is waiting to sound (the browser held it back until the page is touched). */
export function alarmSoundPending(): boolean {
  return pending;
}
