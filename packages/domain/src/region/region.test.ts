import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backlogKindLabels, checkHeartbeat, earlyWarning, hubMay, hubRoles, practiceCondition, regionBacklogCount,
  type Heartbeat, type WeeklyHealth,
} from './index.ts';

const NOW = new Date('2026-12-03T15:00:00.000Z');

function heartbeat(over: Partial<Heartbeat> = {}): Heartbeat {
  return {
    protocol: 1, practice: 'B82005', nodeId: 'node-b82005-1', seq: 7, sentAt: '2026-12-03T14:59:30.000Z', reason: 'idle',
    version: '0.1.0', startedAt: '2026-12-03T08:00:00.000Z',
    standby: { configured: true, up: true, lastExchangeAt: '2026-12-03T14:59:00.000Z' },
    hub: { reachable: true, lastExchangeAt: '2026-12-03T14:59:28.000Z' },
    disk: { freeBytes: 50e9, totalBytes: 100e9 },
    backlog: [{ kind: 'results-unfiled', count: 12, oldest: '2026-12-03T09:00:00.000Z' }, { kind: 'replication-waiting', count: 0 }],
    ...over,
  };
}

function refusedField(value: unknown): string | undefined {
  const r = checkHeartbeat(value, NOW);
  return r.ok ? undefined : r.problem.field;
}

test('a complete heartbeat passes the check unchanged', () => {
  const r = checkHeartbeat(JSON.parse(JSON.stringify(heartbeat())), NOW);
  assert.ok(r.ok);
  assert.deepEqual(r.heartbeat, heartbeat());
});

test('impossible figures are refused naming the field', () => {
  assert.equal(refusedField(heartbeat({ backlog: [{ kind: 'results-unfiled', count: -1 }] })), 'backlog[0].count');
  assert.equal(refusedField(heartbeat({ backlog: [{ kind: 'results-unfiled', count: 2.5 }] })), 'backlog[0].count');
  assert.equal(refusedField(heartbeat({ backlog: [{ kind: 'results-unfiled', count: 1e9 }] })), 'backlog[0].count');
  assert.equal(refusedField(heartbeat({ backlog: [{ kind: 'tasks-overdue', count: 1 }, { kind: 'tasks-overdue', count: 2 }] })), 'backlog[1].kind');
  assert.equal(refusedField(heartbeat({ backlog: [{ kind: 'nonsense' as never, count: 1 }] })), 'backlog[0].kind');
  assert.equal(refusedField(heartbeat({ backlog: [{ kind: 'tasks-overdue', count: 0, oldest: '2026-12-01T00:00:00Z' }] })), 'backlog[0].oldest');
  assert.equal(refusedField(heartbeat({ backlog: [{ kind: 'tasks-overdue', count: 3, oldest: '2026-12-04T00:00:00Z' }] })), 'backlog[0].oldest');
  assert.equal(refusedField(heartbeat({ disk: { freeBytes: 200, totalBytes: 100 } })), 'disk.freeBytes');
  assert.equal(refusedField(heartbeat({ disk: { freeBytes: 0, totalBytes: 0 } })), 'disk.totalBytes');
  assert.equal(refusedField(heartbeat({ standby: { configured: false, up: true, lastExchangeAt: null } })), 'standby.up');
  assert.equal(refusedField(heartbeat({ startedAt: '2026-12-03T15:00:00.000Z', sentAt: '2026-12-03T14:59:00.000Z' })), 'startedAt');
  assert.equal(refusedField(heartbeat({ seq: 0 })), 'seq');
  assert.equal(refusedField(heartbeat({ practice: 'b82005' })), 'practice');
  assert.equal(refusedField({ ...heartbeat(), protocol: 2 }), 'protocol');
  assert.equal(refusedField('not an object'), 'body');
});

test('a heartbeat from the future or older than fifteen minutes is refused (clock, replay)', () => {
  assert.equal(refusedField(heartbeat({ sentAt: '2026-12-03T15:10:00.000Z' })), 'sentAt');
  assert.equal(refusedField(heartbeat({ sentAt: '2026-12-03T14:40:00.000Z' })), 'sentAt');
  assert.equal(refusedField(heartbeat({ sentAt: 'yesterday' })), 'sentAt');
});

test('hub roles: a region lead runs incidents, the service desk watches; neither is a practice role', () => {
  assert.deepEqual([...hubRoles], ['region-lead', 'service-desk']);
  assert.equal(hubMay('region-lead', 'open-incident'), true);
  assert.equal(hubMay('service-desk', 'open-incident'), false);
  assert.equal(hubMay('service-desk', 'post-update'), false);
  assert.equal(hubMay('service-desk', 'view-region'), true);
});

test('a wrong all clear: a practice whose last heartbeat is old is unreachable, never ok', () => {
  const received = '2026-12-03T14:52:00.000Z'; // eight minutes ago, with an all-clear heartbeat
  const answer = practiceCondition({ latest: heartbeat(), receivedAt: received, now: NOW });
  assert.equal(answer.condition, 'unreachable');
  assert.match(answer.reasons[0]!, /No heartbeat for 8 minutes/);
  assert.equal(practiceCondition({ latest: null, receivedAt: null, now: NOW }).condition, 'unknown');
  assert.equal(practiceCondition({ latest: heartbeat(), receivedAt: '2026-12-03T14:59:31.000Z', now: NOW }).condition, 'ok');
});

test('a fresh heartbeat with a standby down, low disk or failed messages needs attention', () => {
  const fresh = '2026-12-03T14:59:31.000Z';
  const standbyDown = practiceCondition({ latest: heartbeat({ standby: { configured: true, up: false, lastExchangeAt: null } }), receivedAt: fresh, now: NOW });
  assert.deepEqual(standbyDown, { condition: 'attention', reasons: ['Standby node down'] });
  const lowDisk = practiceCondition({ latest: heartbeat({ disk: { freeBytes: 5e9, totalBytes: 100e9 } }), receivedAt: fresh, now: NOW });
  assert.equal(lowDisk.condition, 'attention');
  const failed = practiceCondition({ latest: heartbeat({ backlog: [{ kind: 'outbox-failed', count: 2 }] }), receivedAt: fresh, now: NOW });
  assert.deepEqual(failed.reasons, ['2 outgoing messages failed']);
});

test('a backlog shown lower than it is: the region shows the larger of the heartbeat and what the hub knows, and no report is not zero', () => {
  assert.equal(regionBacklogCount(heartbeat(), 'replication-waiting', 340), 340);
  assert.equal(regionBacklogCount(heartbeat(), 'results-unfiled'), 12);
  assert.equal(regionBacklogCount(heartbeat(), 'documents-unfiled'), null);
  assert.equal(regionBacklogCount(null, 'replication-waiting', 5), 5);
});

function weeks(failures: number[]): WeeklyHealth[] {
  return failures.map((f, i) => ({
    weekStart: new Date(Date.UTC(2026, 9, 5 + 7 * i)).toISOString().slice(0, 10),
    exchanges: 20_000, failedExchanges: f, slowExchanges: 0, routeErrors: 0, restarts: 0, outboxFailures: 0, inboxFailures: 0,
  }));
}

test('early warning flags failures rising over six weeks (the six weeks nobody saw)', () => {
  const w = earlyWarning(weeks([3, 4, 8, 12, 25, 41]));
  assert.equal(w.flagged, true);
  assert.match(w.reason, /from 3 to 41 a week over 6 weeks/);
});

test('early warning does not flag a steady rate, one bad week, a falling trend, or too little history', () => {
  assert.equal(earlyWarning(weeks([20, 22, 19, 21, 20, 22])).flagged, false);
  assert.equal(earlyWarning(weeks([2, 3, 2, 2, 3, 40])).flagged, false);
  assert.equal(earlyWarning(weeks([40, 30, 20, 12, 8, 5])).flagged, false);
  assert.equal(earlyWarning(weeks([0, 0, 1, 2, 3, 5])).flagged, false); // below ten a week: noise
  assert.match(earlyWarning(weeks([1, 5, 20])).reason, /Needs 6 weeks/);
});

test('regression: a heartbeat carrying a backlog kind added after the region list (documents, urgent consultations) was refused', () => {
  // Every kind a capability may report (the labels are a Record over BacklogKind, so complete) is accepted.
  const kinds = Object.keys(backlogKindLabels) as Array<keyof typeof backlogKindLabels>;
  assert.ok(kinds.includes('documents-unmatched') && kinds.includes('consultations-urgent-open'));
  const r = checkHeartbeat(heartbeat({ backlog: kinds.map((kind) => ({ kind, count: 1 })) }), NOW);
  assert.ok(r.ok, r.ok ? '' : `${r.problem.field}: refused`);
});
