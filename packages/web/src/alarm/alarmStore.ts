/**
 * Panic alarms arrive over a server-sent event stream from the practice node itself, so they work with
 * no wider network. The connection state is shown in the status bar: staff must know when they would
 * NOT hear an alarm.
 */
import { useSyncExternalStore } from 'react';

import type { Alarm } from '@steadfast/domain/api';
import { armAlarmSound, playAlarmSound } from './alarmSound.ts';

/** An alarm as the node streams it (the same shape the server sends). */
export type AlarmEvent = Alarm;

export interface AlarmState {
  stream: 'connecting' | 'listening' | 'disconnected';
  since: string;
  alarms: AlarmEvent[];
  /** Alarms this user has dismissed from their screen (they stay in the list). */
  dismissed: string[];
}

let state: AlarmState = { stream: 'connecting', since: new Date().toISOString(), alarms: [], dismissed: [] };
const listeners = new Set<() => void>();

function set(next: Partial<AlarmState>): void {
  state = { ...state, ...next };
  listeners.forEach((l) => l());
}

export function useAlarmState(): AlarmState {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
  );
}

export function dismissAlarm(id: string): void {
  set({ dismissed: [...state.dismissed, id] });
}

function upsert(alarm: AlarmEvent): void {
  const others = state.alarms.filter((a) => a.id !== alarm.id);
  set({ alarms: [alarm, ...others].slice(0, 20) });
}

let source: EventSource | undefined;

/** Open the stream (once per signed-in session); EventSource reconnects by itself after a drop. */
export function connectAlarmStream(): () => void {
  source?.close();
  set({ stream: 'connecting', since: new Date().toISOString(), alarms: [], dismissed: [] });
  const es = new EventSource('/api/alarm/stream', { withCredentials: true });
  source = es;
  const disarm = armAlarmSound();
  es.addEventListener('ready', () => set({ stream: 'listening', since: new Date().toISOString() }));
  es.addEventListener('alarm', (e) => {
    const alarm = JSON.parse((e as MessageEvent<string>).data) as AlarmEvent;
    const isNew = !state.alarms.some((a) => a.id === alarm.id);
    upsert(alarm);
    // Also after a reload: the stream replays the active alarms, and each sounds (or waits for a touch).
    if (isNew && !alarm.resolved) playAlarmSound();
  });
  es.onerror = () => {
    if (state.stream !== 'disconnected') set({ stream: 'disconnected', since: new Date().toISOString() });
  };
  return () => {
    disarm();
    es.close();
    if (source === es) source = undefined;
  };
}
