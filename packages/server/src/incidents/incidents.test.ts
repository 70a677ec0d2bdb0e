import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { INCIDENT_CONTENT_TYPE, INCIDENT_MESSAGE_PATH, INCIDENT_OUTBOX_CHANNEL, INCIDENT_PROTOCOL, type BannerResponse, type IncidentDetail } from '@steadfast/domain/region';
import { startTestNode, postgresAvailable, PG_SKIP_REASON, TEST_PG_URL, type TestNode } from '../testing/harness.ts';
import { startHub, type RunningHub } from '../hub/index.ts';
import { hubStaffToken, postHeartbeat, testHeartbeat, dropHubSchema } from '../testing/hub-staff.ts';
import { newNodeKey, HEADER_DIGEST, HEADER_NODE, HEADER_SIGNATURE, sha256, signRequest } from '../sync/protocol.ts';
import { createOutboxDrainer } from '../outbox/drainer.ts';
import { odb } from '../outbox/tables.ts';
import { IncidentWatcher, incidentChannel } from './node.ts';
import { incidentsDb } from './tables.ts';

const available = await postgresAvailable();
const PRACTICE = 'B82005';
const OTHER = 'Y12345';
const ADMIN = 'hub-admin-secret';

const waitFor = async (what: string, fn: () => Promise<boolean>, ms = 20_000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
};

describe('incidents at a PostgreSQL hub and a practice node', { skip: available ? false : PG_SKIP_REASON }, () => {
  let hub: RunningHub;
  let node: TestNode;
  const key = newNodeKey();
  let otherKey: string;
  let lead: { authorization: string; 'content-type': string };
  let desk: { authorization: string; 'content-type': string };
  const schema = `incidents_${process.pid}_${Date.now().toString(36)}`;
  let incident: IncidentDetail;
  const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

  const messages = async () => incidentsDb(hub.db).selectFrom('region_incident_messages').selectAll().execute();
  const banner = async (): Promise<BannerResponse> => (await (await node.fetchAs('receptionist', '/api/incidents')).json()) as BannerResponse;

  async function postSigned(body: unknown, nodeId: string, signKey: string): Promise<{ status: number; outcome: any }> {
    const bytes = Buffer.from(JSON.stringify(body));
    const digest = sha256(bytes);
    const res = await fetch(`${hub.url}${INCIDENT_MESSAGE_PATH}`, {
      method: 'POST',
      headers: { 'content-type': INCIDENT_CONTENT_TYPE, [HEADER_NODE]: nodeId, [HEADER_DIGEST]: digest, [HEADER_SIGNATURE]: signRequest(signKey, 'POST', INCIDENT_MESSAGE_PATH, nodeId, digest) },
      body: bytes,
    });
    return { status: res.status, outcome: await res.json() };
  }

  before(async () => {
    hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0, adminToken: ADMIN });
    node = await startTestNode({ practice: PRACTICE, config: { incidents: { hub: { url: hub.url, key }, pollWaitMs: 5000 }, outbox: { disabled: true } } });
    await hub.addNode(PRACTICE, node.store.nodeId, key);
    otherKey = await hub.addNode(OTHER, 'node-y12345-1');
    for (const [ods, name, pcn] of [[PRACTICE, 'Riverside Surgery', 'North PCN'], [OTHER, 'Quayside Practice', 'South PCN']] as const) {
      await fetch(`${hub.url}/api/hub/practices/${ods}`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, pcn }) });
    }
    lead = { authorization: `Bearer ${await hubStaffToken(hub, 'lena.lead', 'region-lead')}`, 'content-type': 'application/json' };
    desk = { authorization: `Bearer ${await hubStaffToken(hub, 'sam.desk', 'service-desk')}`, 'content-type': 'application/json' };
  });

  after(async () => {
    await node?.close();
    await hub?.close();
    await dropHubSchema(schema);
  });

  test('an incident with missing fields is refused with every field named, and nothing is recorded; the service desk may not open one', async () => {
    const res = await fetch(`${hub.url}/api/region/incidents`, { method: 'POST', headers: lead, body: JSON.stringify({ title: 'Network down', pcns: ['North PCN'] }) });
    assert.equal(res.status, 400);
    const outcome = (await res.json()) as any;
    assert.deepEqual(outcome.issue.map((i: any) => i.expression[0]), ['known', 'practicesShould', 'nextUpdateAt']);
    const past = await fetch(`${hub.url}/api/region/incidents`, { method: 'POST', headers: lead, body: JSON.stringify({ title: 'x', practices: [PRACTICE], known: 'k', practicesShould: 'p', nextUpdateAt: '2020-01-01T00:00:00Z' }) });
    assert.equal(past.status, 400);
    assert.match(((await past.json()) as any).issue[0].diagnostics, /must be in the future/);
    const byDesk = await fetch(`${hub.url}/api/region/incidents`, { method: 'POST', headers: desk, body: JSON.stringify({ title: 'x', practices: [PRACTICE], known: 'k', practicesShould: 'p', nextUpdateAt: inAnHour() }) });
    assert.equal(byDesk.status, 403);
    assert.equal((await incidentsDb(hub.db).selectFrom('region_incidents').select('id').execute()).length, 0, 'nothing recorded');
  });

  test('an incident opened for a PCN reaches the practice node by its long-poll, and the banner shows the current update', async () => {
    const watcher = new IncidentWatcher(node.store, { url: hub.url, key }, { waitMs: 5000 });
    watcher.start();
    try {
      await waitFor('first contact', async () => watcher.status().lastContactAt !== null);
      const res = await fetch(`${hub.url}/api/region/incidents`, {
        method: 'POST',
        headers: lead,
        body: JSON.stringify({ title: 'HSCN link down', pcns: ['North PCN'], known: 'The data centre link is down', practicesShould: 'Keep working on the practice node', nextUpdateAt: inAnHour() }),
      });
      assert.equal(res.status, 201);
      incident = (await res.json()) as IncidentDetail;
      assert.deepEqual(incident.practices, [PRACTICE]);
      await waitFor('the banner', async () => (await banner()).incidents.length === 1);
      const b = await banner();
      assert.equal(b.incidents[0]!.latest.known, 'The data centre link is down');
      assert.equal(b.incidents[0]!.freshness.stale, false, b.incidents[0]!.freshness.notices.join('; '));
      const update = await fetch(`${hub.url}/api/region/incidents/${incident.id}/updates`, { method: 'POST', headers: lead, body: JSON.stringify({ known: 'Engineer on site', practicesShould: 'Carry on', nextUpdateAt: inAnHour(), expectedRestorationAt: inAnHour() }) });
      assert.equal(update.status, 201);
      await waitFor('the second update in the banner', async () => (await banner()).incidents[0]!.latest.seq === 2);
      const events = await hub.db.selectFrom('audit_log').select(['event', 'resource']).where('resource', '=', `Incident/${incident.id}`).execute();
      assert.deepEqual(events.map((e: any) => e.event), ['create', 'update'], 'opening and the update are audited');
    } finally {
      await watcher.stop();
    }
  });

  test('a stale update is not shown as current: when the hub has not been heard from, the banner keeps the last update and says when it was received', async () => {
    await incidentsDb(node.store.db).updateTable('incident_view').set({ last_contact_at: new Date(Date.now() - 10 * 60_000).toISOString() }).execute();
    const b = await banner();
    assert.equal(b.incidents.length, 1, 'the last known update is still shown');
    assert.equal(b.incidents[0]!.freshness.stale, true);
    assert.match(b.incidents[0]!.freshness.notices[0]!, /has not been reached since .* this is the last update received/);
  });

  test('an acknowledgement and a report wait in the outbox while the hub is away and arrive exactly once when it returns', async () => {
    const b = await banner();
    const latest = b.incidents[0]!.latest;
    const ack = await node.fetchAs('receptionist', `/api/incidents/${incident.id}/acknowledge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ updateId: latest.id }) });
    assert.equal(ack.status, 202);
    const again = await node.fetchAs('receptionist', `/api/incidents/${incident.id}/acknowledge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ updateId: latest.id }) });
    assert.equal(again.status, 200, 'acknowledging twice queues one message');
    const missing = await node.fetchAs('clinician', `/api/incidents/${incident.id}/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ notWorking: [] }) });
    assert.equal(missing.status, 400);
    assert.deepEqual(((await missing.json()) as any).issue.map((i: any) => i.expression[0]), ['notWorking', 'backlog', 'helpNeeded']);
    const report = await node.fetchAs('clinician', `/api/incidents/${incident.id}/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ notWorking: ['pathology-results'], details: '', backlog: 'About 60 results unfiled', helpNeeded: 'A courier for samples' }) });
    assert.equal(report.status, 202);

    // The hub is away: the drainer keeps both for later.
    const away = createOutboxDrainer(node.store.db, PRACTICE, [incidentChannel({ url: 'http://127.0.0.1:9', key })], {});
    const r1 = await away.drainOnce();
    assert.equal(r1.retried, 2);
    assert.equal((await messages()).length, 0);
    // The hub is back (later, after the backoff): each arrives once.
    const later = () => new Date(Date.now() + 3600_000);
    const back = createOutboxDrainer(node.store.db, PRACTICE, [incidentChannel({ url: hub.url, key })], { now: later });
    const r2 = await back.drainOnce();
    assert.equal(r2.sent, 2);
    const rows = await messages();
    assert.deepEqual(rows.map((r) => r.kind).sort(), ['acknowledgement', 'report']);
    // A lost answer: the same message sent again is a replay, recorded nothing, and counts as delivered.
    const row = await odb(node.store.db).selectFrom('outbox_messages').selectAll().where('channel', '=', INCIDENT_OUTBOX_CHANNEL).where('message_key', 'like', 'incident-ack:%').executeTakeFirstOrThrow();
    const redelivered = await incidentChannel({ url: hub.url, key }).deliver({ id: row.id, practice: PRACTICE, channel: row.channel, key: row.message_key, source: row.source, payload: JSON.parse(row.payload), about: null, idempotencyKey: row.id, attempts: 3, createdAt: row.created_at });
    assert.equal(redelivered.outcome, 'sent');
    assert.equal((await messages()).length, 2, 'exactly once at the hub');

    const detail = (await (await fetch(`${hub.url}/api/region/incidents/${incident.id}`, { headers: desk })).json()) as IncidentDetail;
    const mine = detail.practiceViews.find((p) => p.practice === PRACTICE)!;
    assert.equal(mine.latestAcknowledged, true);
    assert.equal(mine.reports[0]!.report.backlog, 'About 60 results unfiled');
    const after = await banner();
    assert.equal(after.incidents[0]!.acknowledged?.delivered, true);
    assert.equal(after.incidents[0]!.reports[0]!.delivered, true);
  });

  test('refused with nothing recorded: unknown node, another practice, a practice not affected, missing fields, a replay', async () => {
    const before = (await messages()).length;
    const base = { protocol: INCIDENT_PROTOCOL, kind: 'acknowledgement', messageId: 'm-1', practice: PRACTICE, nodeId: node.store.nodeId, incidentId: incident.id, updateId: incident.updates[0]!.id, by: { name: 'Rita', role: 'receptionist' }, at: new Date().toISOString() };
    const unknown = await postSigned({ ...base, nodeId: 'node-nobody' }, 'node-nobody', key);
    assert.equal(unknown.status, 401);
    assert.match(unknown.outcome.issue[0].diagnostics, /Unknown node/);
    const forged = await postSigned(base, node.store.nodeId, otherKey);
    assert.equal(forged.status, 401);
    const otherPractice = await postSigned({ ...base, practice: OTHER }, node.store.nodeId, key);
    assert.equal(otherPractice.status, 403);
    assert.match(otherPractice.outcome.issue[0].diagnostics, /may not speak for Y12345/);
    const notAffected = await postSigned({ ...base, practice: OTHER, nodeId: 'node-y12345-1' }, 'node-y12345-1', otherKey);
    assert.equal(notAffected.status, 403);
    assert.match(notAffected.outcome.issue[0].diagnostics, /not affected/);
    const noFields = await postSigned({ ...base, kind: 'report', report: { notWorking: ['appointments'] } }, node.store.nodeId, key);
    assert.equal(noFields.status, 400);
    assert.deepEqual(noFields.outcome.issue.map((i: any) => i.expression[0]), ['report.backlog', 'report.helpNeeded']);
    assert.equal((await messages()).length, before, 'nothing recorded');
    assert.equal((await postSigned(base, node.store.nodeId, key)).status, 202);
    const replay = await postSigned(base, node.store.nodeId, key);
    assert.equal(replay.status, 409);
    assert.match(replay.outcome.issue[0].diagnostics, /already recorded/);
    assert.equal((await messages()).length, before + 1);
  });

  test('the timeline exports as CSV and PDF with updates, acknowledgements, reports and the backlog during the incident', async () => {
    assert.equal(await postHeartbeat(hub.url, key, testHeartbeat(PRACTICE, node.store.nodeId, 1, { backlog: [{ kind: 'results-unfiled', count: 61 }] })), 202);
    const csv = await fetch(`${hub.url}/api/region/incidents/${incident.id}/timeline.csv`, { headers: desk });
    assert.equal(csv.status, 200);
    const text = await csv.text();
    const lines = text.trim().split('\r\n');
    assert.match(lines[0]!, /"Time \(UTC\)","Event","Practice","Who","Detail","Results unfiled"/);
    for (const event of ['opened', 'update', 'acknowledgement', 'report', 'backlog']) assert.ok(lines.some((l) => l.includes(`,"${event}",`)), `a ${event} row`);
    assert.ok(lines.some((l) => l.includes('"backlog"') && l.includes('"61"')), 'the backlog figure is in its column');
    const pdf = await fetch(`${hub.url}/api/region/incidents/${incident.id}/timeline.pdf`, { headers: lead });
    assert.equal(pdf.status, 200);
    const bytes = Buffer.from(await pdf.arrayBuffer());
    assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
    const { PDFDocument } = await import('pdf-lib');
    assert.ok((await PDFDocument.load(bytes)).getPageCount() >= 1);
  });

  test('a wrong all clear: closing needs what happened and what practices should do; the closed incident stays in the banner with its closing message', async () => {
    const bad = await fetch(`${hub.url}/api/region/incidents/${incident.id}/close`, { method: 'POST', headers: lead, body: JSON.stringify({}) });
    assert.equal(bad.status, 400);
    assert.equal((await incidentsDb(hub.db).selectFrom('region_incidents').select('status').where('id', '=', incident.id).executeTakeFirstOrThrow()).status, 'open');
    const closed = await fetch(`${hub.url}/api/region/incidents/${incident.id}/close`, { method: 'POST', headers: lead, body: JSON.stringify({ known: 'Link restored at 15:00', practicesShould: 'File the results that arrived during the outage' }) });
    assert.equal(closed.status, 200);
    const watcher = new IncidentWatcher(node.store, { url: hub.url, key }, { waitMs: 0 });
    await watcher.pollOnce(0);
    const b = await banner();
    assert.equal(b.incidents.length, 1);
    assert.equal(b.incidents[0]!.status, 'closed');
    assert.match(b.incidents[0]!.latest.practicesShould, /File the results/);
    const late = await fetch(`${hub.url}/api/region/incidents/${incident.id}/updates`, { method: 'POST', headers: lead, body: JSON.stringify({ known: 'x', practicesShould: 'y', nextUpdateAt: inAnHour() }) });
    assert.equal(late.status, 409, 'no update after closing');
  });
  test('a wrong all clear: closing while an affected practice has not been heard from is refused (409) until the region lead confirms, naming the practices', async () => {
    const res = await fetch(`${hub.url}/api/region/incidents`, {
      method: 'POST',
      headers: lead,
      body: JSON.stringify({ title: 'Pathology feed down', practices: [PRACTICE, OTHER], known: 'No results arriving', practicesShould: 'Phone the lab for urgent results', nextUpdateAt: inAnHour() }),
    });
    assert.equal(res.status, 201);
    const second = (await res.json()) as IncidentDetail;
    // The practice node last reported ten minutes ago (unreachable); the other practice never has.
    await hub.db.updateTable('region_nodes').set({ last_received_at: new Date(Date.now() - 10 * 60_000).toISOString() }).where('practice', '=', PRACTICE).execute();
    const shown = (await (await fetch(`${hub.url}/api/region/incidents/${second.id}`, { headers: desk })).json()) as IncidentDetail;
    assert.deepEqual(shown.practiceViews.map((p) => [p.practice, p.condition]), [[PRACTICE, 'unreachable'], [OTHER, 'unknown']]);
    const close = (body: unknown) => fetch(`${hub.url}/api/region/incidents/${second.id}/close`, { method: 'POST', headers: lead, body: JSON.stringify(body) });
    const body = { known: 'Feed restored', practicesShould: 'File the results that arrived' };
    const refused = await close(body);
    assert.equal(refused.status, 409);
    const outcome = (await refused.json()) as any;
    assert.equal(outcome.issue[0].expression[0], 'confirmUnheard');
    assert.match(outcome.issue[0].diagnostics, /Riverside Surgery \(B82005\), last heard from .* UTC; Quayside Practice \(Y12345\), never heard from/);
    assert.equal((await close({ ...body, confirmUnheard: 'yes' })).status, 400, 'the confirmation is true or false');
    const stillOpen = await incidentsDb(hub.db).selectFrom('region_incidents').select('status').where('id', '=', second.id).executeTakeFirstOrThrow();
    assert.equal(stillOpen.status, 'open', 'nothing recorded');
    assert.equal((await incidentsDb(hub.db).selectFrom('region_incident_updates').select('id').where('incident_id', '=', second.id).execute()).length, 1);
    const confirmed = await close({ ...body, confirmUnheard: true });
    assert.equal(confirmed.status, 200);
    assert.equal(((await confirmed.json()) as IncidentDetail).status, 'closed');
    const audit = await hub.db.selectFrom('audit_log').select(['detail']).where('resource', '=', `Incident/${second.id}`).where('event', '=', 'update').execute();
    assert.match(audit[0]!.detail, /closed, confirmed without hearing from: Riverside Surgery \(B82005\).*Quayside Practice \(Y12345\), never heard from/);
  });
});
