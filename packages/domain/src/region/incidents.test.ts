import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bannerFreshness, checkIncidentClose, checkIncidentOpen, checkPracticeReport, timelineCsv, unheardPractices, unheardText, type IncidentPracticeView } from './index.ts';

const NOW = new Date('2026-12-04T14:00:00.000Z');

test('an incident update with missing fields names every one of them', () => {
  const r = checkIncidentOpen({ title: ' ' }, NOW);
  assert.equal(r.ok, false);
  assert.deepEqual(!r.ok && r.problems.map((p) => p.field), ['title', 'practices', 'known', 'practicesShould', 'nextUpdateAt']);
});

test('a stale update shown as current: the banner says so when the hub is not heard from or the next update is overdue', () => {
  const incident = { status: 'open' as const, latest: { postedAt: '2026-12-04T13:00:00.000Z', nextUpdateAt: '2026-12-04T13:30:00.000Z' } };
  const fresh = bannerFreshness({ ...incident, latest: { ...incident.latest, nextUpdateAt: '2026-12-04T15:00:00.000Z' } }, { lastContactAt: '2026-12-04T13:59:40.000Z', now: NOW });
  assert.deepEqual(fresh, { stale: false, notices: [] });
  const stale = bannerFreshness(incident, { lastContactAt: '2026-12-04T13:40:00.000Z', now: NOW });
  assert.equal(stale.stale, true);
  assert.match(stale.notices[0]!, /not been reached since 13:40 UTC.*posted 13:00 UTC/);
  assert.match(stale.notices[1]!, /next update was due at 13:30 UTC/);
  assert.equal(bannerFreshness(incident, { lastContactAt: null, now: NOW }).stale, true, 'never heard from the hub is never current');
});

test('a practice report needs what is not working, the backlog and the help needed', () => {
  const r = checkPracticeReport({ notWorking: ['other'] });
  assert.deepEqual(!r.ok && r.problems.map((p) => p.field), ['details', 'backlog', 'helpNeeded']);
  assert.equal(checkPracticeReport({ notWorking: ['appointments'], backlog: 'none', helpNeeded: 'none' }).ok, true);
});

test('the timeline CSV quotes every cell and neutralises a formula', () => {
  const csv = timelineCsv([{ at: '2026-12-04T13:00:00.000Z', event: 'report', practice: 'A82001', who: 'Rita', detail: '=HYPERLINK("x")' }]);
  assert.match(csv, /"'=HYPERLINK\(""x""\)"/);
  assert.ok(csv.endsWith('\r\n'));
});

test('a wrong all clear: the practices not heard from (unreachable or never reported) are named, and closing past them needs confirmUnheard true', () => {
  const view = (practice: string, condition: IncidentPracticeView['condition'], lastHeartbeatAt: string | null, name: string | null = null): IncidentPracticeView =>
    ({ practice, name, pcn: null, condition, lastHeartbeatAt, latestAcknowledged: false, acknowledgements: [], reports: [] });
  const views = [view('A1', 'ok', '2026-12-04T13:59:00.000Z'), view('A2', 'unreachable', '2026-12-04T13:05:00.000Z', 'Riverside Surgery'), view('A3', 'unknown', null), view('A4', 'attention', '2026-12-04T13:59:00.000Z')];
  assert.deepEqual(unheardPractices(views).map(unheardText), ['Riverside Surgery (A2), last heard from 2026-12-04 13:05 UTC', 'A3, never heard from']);
  const close = { known: 'Restored', practicesShould: 'File the results' };
  assert.deepEqual(checkIncidentClose(close), { ok: true, value: { ...close, confirmUnheard: false } });
  assert.deepEqual(checkIncidentClose({ ...close, confirmUnheard: true }), { ok: true, value: { ...close, confirmUnheard: true } });
  const bad = checkIncidentClose({ ...close, confirmUnheard: 'yes' });
  assert.deepEqual(!bad.ok && bad.problems.map((p) => p.field), ['confirmUnheard']);
});
