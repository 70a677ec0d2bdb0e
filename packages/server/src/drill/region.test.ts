/**
 * The drill's region checks can fail: each is fed what a correct hub shows (no problems) and then a
 * wrong figure, a wrong condition, a flat curve or a doubled timeline row (the problem named).
 * The full drill (drill.test.ts) runs them against real processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timelineCsv, type HeartbeatHistoryPoint, type RegionPracticeView, type TimelineRow } from '@steadfast/domain/region';
import { backlogMismatches, countsOf, curveMismatches, parseCsv, timelineMismatches, unreachableMismatches } from './region.ts';

const P = 'D80001';
const T0 = Date.parse('2026-12-04T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function view(over: Partial<RegionPracticeView> = {}): RegionPracticeView {
  return {
    practice: P, name: null, pcn: null, condition: 'ok', reasons: [], lastHeartbeatAt: at(0), lastExchangeAt: at(0), version: '0.1.0',
    backlog: { 'consultations-untriaged': 3, 'outbox-waiting': 0, 'replication-waiting': 0 }, backlogAsOf: at(0), nodes: [], lastHour: [], ...over,
  };
}

function point(s: number, counts: Record<string, number>): HeartbeatHistoryPoint {
  return { nodeId: 'n1', seq: s, sentAt: at(s), receivedAt: at(s), hubReachable: true, standbyUp: false, diskFreeBytes: null, backlog: Object.entries(counts).map(([kind, count]) => ({ kind: kind as never, count })) };
}

test('countsOf: the node figures as the heartbeat carries them (kinds it does not carry left out, one kind added up)', () => {
  assert.deepEqual(
    countsOf([
      { kind: 'outbox-waiting', label: 'a', count: 2 },
      { kind: 'outbox-waiting', label: 'b', count: 3 },
      { kind: 'consultations-untriaged', label: 'c', count: 1 },
    ]),
    { 'outbox-waiting': 5, 'consultations-untriaged': 1 },
  );
});

test('backlog at the hub against the practice: equal passes; a lower or missing figure at the hub fails, naming the kind', () => {
  const node = { 'consultations-untriaged': 3, 'outbox-waiting': 0 };
  assert.deepEqual(backlogMismatches(P, view(), node), []);
  assert.match(backlogMismatches(P, view({ backlog: { 'consultations-untriaged': 2, 'outbox-waiting': 0 } }), node).join(), /consultations-untriaged: the hub shows 2, the practice has 3/);
  assert.match(backlogMismatches(P, view({ backlog: { 'outbox-waiting': 0 } }), node).join(), /consultations-untriaged: the hub shows not reported/);
  assert.match(backlogMismatches(P, view({ backlog: { ...view().backlog, 'replication-waiting': 4 } }), node).join(), /replication-waiting: the hub shows 4/, 'changes the hub thinks are waiting that the practice does not have');
  assert.match(backlogMismatches(P, undefined, node).join(), /not on the hub's region view/);
});

test('during the cut: unreachable with the last heartbeat’s figures passes; ok, other figures or more than the practice has fail', () => {
  const last = point(0, { 'consultations-untriaged': 3, 'outbox-waiting': 0, 'replication-waiting': 0 });
  const cut = view({ condition: 'unreachable', reasons: ['No heartbeat for 2 minutes; figures are as last reported'] });
  const now = { 'consultations-untriaged': 9, 'outbox-waiting': 6, 'replication-waiting': 40 };
  assert.deepEqual(unreachableMismatches(P, cut, last, now), []);
  // The hub knows of more changes waiting than the heartbeat said: still the last known, never lower.
  assert.deepEqual(unreachableMismatches(P, view({ ...cut, backlog: { ...cut.backlog, 'replication-waiting': 5 } }), last, now), []);
  assert.match(unreachableMismatches(P, view(), last, now).join(), /shown ok, not unreachable/, 'a wrong all clear');
  assert.match(unreachableMismatches(P, view({ ...cut, reasons: ['Standby node down'] }), last, now).join(), /not said to be the last reported/);
  assert.match(unreachableMismatches(P, view({ ...cut, backlog: { ...cut.backlog, 'consultations-untriaged': 1 } }), last, now).join(), /consultations-untriaged: shown 1, its last heartbeat said 3/, 'a backlog shown lower than it was');
  assert.match(unreachableMismatches(P, view({ ...cut, backlogAsOf: at(-60) }), last, now).join(), /shown as of/);
  assert.match(unreachableMismatches(P, cut, last, { 'consultations-untriaged': 1 }).join(), /more than the 1 the practice has/);
  assert.match(unreachableMismatches(P, cut, undefined, now).join(), /no heartbeat in the hub's history/);
});

test('the curve: up after the cut and down by the end passes; flat, still high, or ending elsewhere than the practice fails', () => {
  const cutAt = T0 + 10_000;
  const curve = [point(0, { 'outbox-waiting': 0, 'consultations-untriaged': 0 }), point(20, { 'outbox-waiting': 6, 'consultations-untriaged': 9 }), point(30, { 'outbox-waiting': 0, 'consultations-untriaged': 0 })];
  const end = { 'outbox-waiting': 0, 'consultations-untriaged': 0 };
  assert.deepEqual(curveMismatches(P, curve, cutAt, end), []);
  assert.match(curveMismatches(P, [curve[0]!, curve[2]!], cutAt, end).join(), /never rose above 0/);
  assert.match(curveMismatches(P, curve.slice(0, 2), cutAt, { 'outbox-waiting': 6, 'consultations-untriaged': 9 }).join(), /did not fall after the outage/);
  assert.match(curveMismatches(P, curve, cutAt, { 'outbox-waiting': 1 }).join(), /last heartbeat's backlog 0 is not the practice's 1/);
  assert.match(curveMismatches(P, curve.slice(1), cutAt, end).join(), /no heartbeat before the cut/);
  assert.match(curveMismatches(P, curve.slice(0, 1), cutAt, end).join(), /no heartbeat after the cut/);
});

test('parseCsv reads what timelineCsv writes (quotes, commas, doubled quotes, neutralised formulas)', () => {
  const rows: TimelineRow[] = [{ at: at(0), event: 'opened', practice: '', who: 'Lead, "ICB"', detail: '=1+1' }];
  const parsed = parseCsv(timelineCsv(rows));
  assert.equal(parsed.length, 2);
  assert.deepEqual(parsed[1]!.slice(0, 5), [at(0), 'opened', '', 'Lead, "ICB"', "'=1+1"]);
});

test('the timeline: updates, then each practice’s acknowledgement and report once in order, passes; a doubled, missing or early row fails', () => {
  const Q = 'D80002';
  const good: TimelineRow[] = [
    { at: at(0), event: 'opened', practice: '', who: 'Lead', detail: 'Known: x' },
    { at: at(5), event: 'backlog', practice: P, who: '', detail: 'Heartbeat', backlog: [{ kind: 'outbox-waiting', count: 3 }] },
    { at: at(10), event: 'update', practice: '', who: 'Lead', detail: 'Known: y' },
    { at: at(11), event: 'acknowledgement', practice: P, who: 'Dr (clinician)', detail: 'Acknowledged update 2 (reached the hub x)' },
    { at: at(12), event: 'acknowledgement', practice: Q, who: 'Dr (clinician)', detail: 'Acknowledged update 2 (reached the hub x)' },
    { at: at(13), event: 'report', practice: P, who: 'Dr (clinician)', detail: 'Not working: Telephones' },
    { at: at(14), event: 'report', practice: Q, who: 'Dr (clinician)', detail: 'Not working: Telephones' },
  ];
  const check = (rows: TimelineRow[], updates = 2) => timelineMismatches(timelineCsv(rows), [P, Q], updates);
  assert.deepEqual(check(good), []);
  assert.match(check([...good, { ...good[5]!, at: at(20) }]).join(), /D80001's report is in the timeline 2 times/, 'a report recorded twice');
  assert.match(check(good.filter((r) => !(r.event === 'acknowledgement' && r.practice === Q))).join(), /D80002's acknowledgement is in the timeline 0 times/);
  assert.match(check(good, 3).join(), /has 2 updates, not 3/);
  assert.match(check(good.map((r) => (r.event === 'acknowledgement' && r.practice === P ? { ...r, detail: 'Acknowledged update 1' } : r))).join(), /D80001 acknowledged another update/);
  assert.match(check(good.map((r) => (r.event === 'report' && r.practice === P ? { ...r, at: at(10.5) } : r))).join(), /D80001: the update, its acknowledgement and its report are out of order/);
  assert.match(timelineMismatches('nonsense', [P], 2).join(), /no header/);
  // Rows not in time order (timelineCsv is given them as they are).
  assert.match(timelineMismatches(timelineCsv([good[2]!, good[0]!]), [], 2).join(), /not in time order/);
});
