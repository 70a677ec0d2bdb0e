/**
 * The drill's online consultation part in one process (the full drill runs it across real processes):
 * a real hub on PostgreSQL and a practice node, cut off from each other; on a day the hub is down
 * every patient ends up at the node; on a day it is up, submissions go to the node, the hub and both.
 * After sync every acknowledged one is in the triage inbox once and is closed once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNode, postgresAvailable, PG_SKIP_REASON, TEST_PASSWORD, TEST_PG_URL, testUsernames, type TestNode } from '../testing/harness.ts';
import { startHub, type RunningHub } from '../hub/index.ts';
import { HttpTransport } from '../sync/http.ts';
import { SyncClient } from '../sync/client.ts';
import { ALWAYS_OPEN } from '../online-consultations/fixtures.ts';
import { ConsultationDrill } from './online-consultations.ts';
import { StaffClient } from './workload.ts';
import { dropHubSchema } from '../testing/hub-staff.ts';

const available = await postgresAvailable();
const PRACTICE = 'D80009';
const OPTIONS = { ...ALWAYS_OPEN, rateLimit: { max: 100_000, windowMs: 60_000 } };

describe('the drill\u2019s online consultations (hub on PostgreSQL and a node, in process)', { skip: available ? false : PG_SKIP_REASON }, () => {
  let hub: RunningHub;
  let node: TestNode;
  let sync: SyncClient;
  const schema = `oc_drill_${process.pid}_${Date.now().toString(36)}`;

  before(async () => {
    hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0, onlineConsultations: OPTIONS });
    node = await startTestNode({ practice: PRACTICE, config: { onlineConsultations: OPTIONS } });
    const key = await hub.addNode(PRACTICE, node.store.nodeId);
    sync = new SyncClient({ store: node.store, peer: 'hub', transport: new HttpTransport(hub.url), key });
  });
  after(async () => {
    await node?.close();
    await hub?.close();
    await dropHubSchema(schema);
  });

  test('submissions during the cut at the node, the hub and both: after sync each is in triage once and closed once', async () => {
    let hubUrl = 'http://127.0.0.1:9'; // day 1: the hub cannot be reached
    const drill = new ConsultationDrill([PRACTICE], () => hubUrl, () => node.url, 'drill-oc-test');
    await drill.day(1);
    hubUrl = hub.url;
    await drill.day(2);
    await sync.exchange();
    await sync.exchange();
    const result = await drill.triageAfter(() => new StaffClient(() => node.url, testUsernames.clinician, TEST_PASSWORD));
    assert.deepEqual(result.failures, []);
    assert.equal(result.acknowledged, 6);
    assert.deepEqual(result.byVia, { node: 4, hub: 1, both: 1 });
    assert.equal(result.redirected, 2, 'on day 1 the patients sent to the hub went to the node');
    assert.equal(result.triaged, 6);
  });
});
