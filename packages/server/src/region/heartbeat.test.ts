import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heartbeatBacklog } from './heartbeat.ts';
import { regionCli } from './options.ts';

test('a backlog shown lower than it is: two capabilities reporting one kind add up, the oldest kept, instants normalised', () => {
  const figures = heartbeatBacklog([
    { kind: 'outbox-waiting', label: 'a', count: 3, oldest: '2026-12-03 09:00:00Z' },
    { kind: 'outbox-waiting', label: 'b', count: 4, oldest: '2026-12-03T08:00:00.000Z' },
    { kind: 'tasks-overdue', label: 'c', count: 0, oldest: '2026-12-01T00:00:00.000Z' },
  ]);
  assert.deepEqual(figures, [
    { kind: 'outbox-waiting', count: 7, oldest: '2026-12-03T08:00:00.000Z' },
    { kind: 'tasks-overdue', count: 0 },
  ]);
});

test('--heartbeat-interval outside 5 to 3600 seconds is refused naming the flag', () => {
  assert.deepEqual(regionCli.configure({ heartbeatInterval: '30' }, { role: 'node', dataDir: '/tmp', dialect: 'sqlite' }), { region: { heartbeatIntervalMs: 30_000 } });
  assert.throws(() => regionCli.configure({ heartbeatInterval: '1' }, { role: 'node', dataDir: '/tmp', dialect: 'sqlite' }), /--heartbeat-interval must be a whole number of seconds from 5 to 3600/);
  assert.deepEqual(regionCli.configure({ heartbeat: false }, { role: 'node', dataDir: '/tmp', dialect: 'sqlite' }), { region: { heartbeatOff: true } });
});
