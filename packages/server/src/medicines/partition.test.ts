/**
 * Prescribing through a partition: two nodes of one practice and the regional hub (real, PostgreSQL),
 * cut off from each other while clinicians keep prescribing, then reconnected.
 * - A prescription made at a node during the partition is issued exactly once after sync, even when
 *   the same submit was retried at the node and again at the other node (the ids come from the key);
 *   the two writes of that one issue differ in time, so sync asks a person to confirm it (one review Task).
 * - Two clinicians issuing one repeat on two nodes edit the same template concurrently: sync's rule
 *   for MedicationRequest (never merged) raises one review Task, the same on both nodes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { MedicationRequest, Task } from '@medplum/fhirtypes';
import type { PrescribeResponse } from '@steadfast/domain/api';
import { PRESCRIPTION_ORDER_NUMBER_SYSTEM } from '@steadfast/domain/medicines';
import type { RecordStore } from '@steadfast/store';
import { startTestNode, postgresAvailable, PG_SKIP_REASON, TEST_PG_URL, type TestNode } from '../testing/harness.ts';
import { startHub, type RunningHub } from '../hub/index.ts';
import { HttpTransport } from '../sync/http.ts';
import { SyncClient } from '../sync/client.ts';
import { resolveConflicts } from '../sync/conflicts.ts';
import { dropHubSchema } from '../testing/hub-staff.ts';
import { acute, patient, repeat, VMP } from './fixtures.ts';

const available = await postgresAvailable();
const PRACTICE = 'C84016';

describe('prescribing through a partition (two nodes, real hub on PostgreSQL)', { skip: available ? false : PG_SKIP_REASON }, () => {
  let hub: RunningHub;
  let a: TestNode;
  let b: TestNode;
  let syncA: SyncClient;
  let syncB: SyncClient;
  const schema = `meds_hub_${process.pid}_${Date.now().toString(36)}`;

  before(async () => {
    hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0 });
    a = await startTestNode({ practice: PRACTICE });
    b = await startTestNode({ practice: PRACTICE });
    const client = async (node: TestNode) => new SyncClient({ store: node.store, peer: 'hub', transport: new HttpTransport(hub.url), key: await hub.addNode(PRACTICE, node.store.nodeId), afterApply: async (s, e) => void (await resolveConflicts(s, e)) });
    syncA = await client(a);
    syncB = await client(b);
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await hub?.close();
    await dropHubSchema(schema);
  });

  /** Reconnect: exchange until both nodes have everything (twice round, so each sees the other's). */
  async function heal() {
    for (let i = 0; i < 3; i++) {
      await syncA.exchange();
      await syncB.exchange();
    }
  }

  const medsOf = async (store: RecordStore, patientId: string) =>
    (await store.search({ resourceType: 'MedicationRequest', params: [{ name: 'patient', values: [`Patient/${patientId}`] }], count: 100, offset: 0 })).resources as MedicationRequest[];
  const reviews = async (store: RecordStore, focus: string) =>
    ((await store.search({ resourceType: 'Task', params: [], count: 500, offset: 0 })).resources as Task[]).filter((t) => t.code?.coding?.some((c) => c.code === 'sync-review') && t.focus?.reference === focus);
  const prescriptionIds = (meds: MedicationRequest[]) => meds.flatMap((m) => m.identifier?.filter((i) => i.system === PRESCRIPTION_ORDER_NUMBER_SYSTEM).map((i) => i.value) ?? []);

  test('a prescription made at a node during the partition, retried there and at the other node, is one issue with one prescription id everywhere after sync', async () => {
    const p = await a.create('clinician', patient('Partition'));
    await heal();
    assert.ok(await b.store.read('Patient', p.id), 'the patient reached node B before the cut');

    // Cut. The prescriber submits at A; the answer is lost, the browser retries at A, then at B.
    const req = acute(VMP.amox500);
    const atA = await a.fetchAs('clinician', `/api/patients/${p.id}/prescriptions`, { method: 'POST', json: req });
    assert.equal(atA.status, 201);
    const first = (await atA.json()) as PrescribeResponse;
    const retryA = (await (await a.fetchAs('clinician', `/api/patients/${p.id}/prescriptions`, { method: 'POST', json: req })).json()) as PrescribeResponse;
    assert.equal(retryA.duplicate, true);
    const atB = await b.fetchAs('clinician', `/api/patients/${p.id}/prescriptions`, { method: 'POST', json: req });
    assert.equal(atB.status, 201, 'node B has not seen it yet, so it writes it - with the same ids');
    const fromB = (await atB.json()) as PrescribeResponse;
    assert.deepEqual(fromB.issue, first.issue, 'same issue id and prescription id at both nodes');

    await heal();
    const hubStore = (await hub.storeFor(PRACTICE))!;
    for (const [name, store] of [['A', a.store], ['B', b.store], ['hub', hubStore]] as const) {
      const meds = await medsOf(store, p.id);
      assert.deepEqual(meds.map((m) => m.id), [first.issue.id], `one issue at ${name}`);
      assert.deepEqual(prescriptionIds(meds), [first.issue.prescriptionId], `one prescription id at ${name}`);
    }
    assert.equal((await a.store.read('MedicationRequest', first.issue.id))!.versionId, (await b.store.read('MedicationRequest', first.issue.id))!.versionId, 'converged on one current version');
    // The two writes of it differ only in when (and by whom) they were made: sync never merges a
    // MedicationRequest, so one review Task (the same on both nodes) asks a person to confirm it.
    const issueReviews = await reviews(a.store, `MedicationRequest/${first.issue.id}`);
    assert.equal(issueReviews.length, 1);
    assert.deepEqual((await reviews(b.store, `MedicationRequest/${first.issue.id}`)).map((t) => t.id), issueReviews.map((t) => t.id));
    // A retry after sync, at either node, is answered from the record: nothing new.
    const late = (await (await b.fetchAs('clinician', `/api/patients/${p.id}/prescriptions`, { method: 'POST', json: req })).json()) as PrescribeResponse;
    assert.equal(late.duplicate, true);
    assert.equal((await medsOf(b.store, p.id)).length, 1);
  });

  test('one repeat issued on both nodes during the partition: the template edited twice goes to one review Task on both nodes; the count then refuses a further issue', async () => {
    const p = await a.create('clinician', patient('Repeat'));
    const made = (await (await a.fetchAs('clinician', `/api/patients/${p.id}/prescriptions`, { method: 'POST', json: repeat(VMP.salbutamol, { repeat: { authorisedIssues: 2, reviewDate: new Date(Date.now() + 90 * 86400_000).toISOString().slice(0, 10) } }) })).json()) as PrescribeResponse;
    const templateId = made.template!.id;
    await heal();
    assert.equal((await reviews(a.store, `MedicationRequest/${templateId}`)).length, 0, 'no review before the partition');

    // Cut. Each node has one issue left and issues it.
    const issueAt = (node: TestNode) => node.fetchAs('clinician', `/api/medication-requests/${templateId}/issue`, { method: 'POST', json: { idempotencyKey: randomUUID() } });
    assert.equal((await issueAt(a)).status, 201);
    assert.equal((await issueAt(b)).status, 201);

    await heal();
    const ta = await reviews(a.store, `MedicationRequest/${templateId}`);
    const tb = await reviews(b.store, `MedicationRequest/${templateId}`);
    assert.equal(ta.length, 1, 'one review Task at A');
    assert.deepEqual(tb.map((t) => t.id), ta.map((t) => t.id), 'the same Task at B');
    assert.equal(ta[0]!.priority, 'urgent');
    const issues = (await medsOf(a.store, p.id)).filter((m) => m.basedOn?.length);
    assert.equal(issues.length, 3, 'both issues kept (the first and one at each node): the review shows the over-issue');
    assert.equal((await a.store.read('MedicationRequest', templateId))!.versionId, (await b.store.read('MedicationRequest', templateId))!.versionId, 'same provisional winner on both');
    const further = await issueAt(a);
    assert.equal(further.status, 409, 'issues are counted from the record after sync: none left');
  });

  test('a repeat stopped on one node and re-authorised on the other goes to review (never merged)', async () => {
    const p = await a.create('clinician', patient('Stop'));
    const made = (await (await a.fetchAs('clinician', `/api/patients/${p.id}/prescriptions`, { method: 'POST', json: repeat() })).json()) as PrescribeResponse;
    const templateId = made.template!.id;
    await heal();
    const t = (await b.fetchAs('clinician', `/fhir/R4/MedicationRequest/${templateId}`)).json() as Promise<MedicationRequest & { meta: { versionId: string } }>;
    const current = await t;
    const stop = await b.fetchAs('clinician', `/fhir/R4/MedicationRequest/${templateId}`, { method: 'PUT', headers: { 'if-match': `W/"${current.meta.versionId}"` }, json: { ...current, status: 'stopped', statusReason: { text: 'Side effects' } } });
    assert.equal(stop.status, 200);
    const re = await a.fetchAs('clinician', `/api/medication-requests/${templateId}/reauthorise`, { method: 'POST', json: { authorisedIssues: 6, reviewDate: new Date(Date.now() + 180 * 86400_000).toISOString().slice(0, 10) } });
    assert.equal(re.status, 200);
    await heal();
    assert.equal((await reviews(a.store, `MedicationRequest/${templateId}`)).length, 1);
    assert.equal((await reviews(b.store, `MedicationRequest/${templateId}`)).length, 1);
  });
});
