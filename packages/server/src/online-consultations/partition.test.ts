/**
 * Survives the outage: the hub (real, PostgreSQL) and the practice's node both take submissions while
 * cut off from each other; after reconnecting, a submission sent to both is one request at triage.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { submissionRecordId } from '@steadfast/domain/online-consultations';
import { startTestNode, postgresAvailable, PG_SKIP_REASON, TEST_PG_URL, type TestNode } from '../testing/harness.ts';
import { startHub, type RunningHub } from '../hub/index.ts';
import { HttpTransport } from '../sync/http.ts';
import { SyncClient } from '../sync/client.ts';
import { resolveConflicts } from '../sync/conflicts.ts';
import { ALWAYS_OPEN, sampleSubmission, submitFrom } from './fixtures.ts';
import { dropHubSchema } from '../testing/hub-staff.ts';

const available = await postgresAvailable();
const PRACTICE = 'C84001';
const path = `/api/public/online-consultations/${PRACTICE}`;

describe('online consultations through an outage (real hub on PostgreSQL)', { skip: available ? false : PG_SKIP_REASON }, () => {
  let hub: RunningHub;
  let node: TestNode;
  let sync: SyncClient;
  const schema = `oc_hub_${process.pid}_${Date.now().toString(36)}`;

  before(async () => {
    hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0, onlineConsultations: ALWAYS_OPEN });
    node = await startTestNode({ practice: PRACTICE, config: { onlineConsultations: ALWAYS_OPEN } });
    const key = await hub.addNode(PRACTICE, node.store.nodeId);
    sync = new SyncClient({ store: node.store, peer: 'hub', transport: new HttpTransport(hub.url), key, afterApply: async (s, e) => void (await resolveConflicts(s, e)) });
  });

  after(async () => {
    await node?.close();
    await hub?.close();
    await dropHubSchema(schema);
  });

  test('the same submission sent to the hub and the node during a partition is triaged once; each side\u2019s own reaches the other', async () => {
    // Cut: no exchange happens until the end. The patient's device retries at the hub, then the node.
    const both = sampleSubmission();
    const atHub = await submitFrom(hub.url, both, 1, path);
    assert.equal(atHub.status, 201, JSON.stringify(atHub.body));
    const opening = (await (await fetch(`${hub.url}${path}/opening`)).json()) as any;
    assert.equal(opening.answeredBy, 'hub');
    const atNode = await submitFrom(node.url, both, 1, path);
    assert.equal(atNode.status, 201);
    assert.equal(atNode.body.reference, atHub.body.reference, 'the same reference from either side');
    const hubOnly = sampleSubmission({ kind: 'admin', answers: { 'admin-type': 'fit-note', details: 'I need a fit note for work' } });
    assert.equal((await submitFrom(hub.url, hubOnly, 1, path)).status, 201);
    const nodeOnly = sampleSubmission();
    assert.equal((await submitFrom(node.url, nodeOnly, 1, path)).status, 201);
    assert.equal((await submitFrom(hub.url, sampleSubmission(), 1, '/api/public/online-consultations/Z99999')).status, 404, 'unknown practice');

    // Reconnect.
    await sync.exchange();
    await sync.exchange();

    const list = (await (await node.fetchAs('receptionist', '/api/online-consultations?limit=200')).json()) as any;
    const ids = list.items.map((i: any) => i.id);
    const bothId = submissionRecordId(PRACTICE, both.submissionId);
    assert.equal(ids.filter((id: string) => id === bothId).length, 1, 'triage sees the shared submission once');
    assert.ok(ids.includes(submissionRecordId(PRACTICE, hubOnly.submissionId)), 'taken at the hub, reached the practice');
    assert.equal(list.items.find((i: any) => i.id === submissionRecordId(PRACTICE, hubOnly.submissionId)).receivedVia, 'hub');
    assert.equal(list.total, 3);
    const hubStore = (await hub.storeFor(PRACTICE))!;
    assert.ok(await hubStore.read('QuestionnaireResponse', submissionRecordId(PRACTICE, nodeOnly.submissionId)), 'taken at the node, reached the hub');
    assert.equal((await node.store.history('QuestionnaireResponse', bothId)).length, 2, 'both takes kept in history, one current');
    assert.equal((await hubStore.read('QuestionnaireResponse', bothId))!.versionId, (await node.store.read('QuestionnaireResponse', bothId))!.versionId, 'converged on one current version');

    // A retry at the node after sync brought the hub's copy: stored once, answered as a repeat.
    const retry = await submitFrom(node.url, hubOnly, 1, path);
    assert.equal(retry.status, 200);
    assert.equal(retry.body.duplicate, true);
  });
});
