import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, shareConsent, testNhsNumber } from '@steadfast/domain';
import { startHub, type RunningHub } from '../hub/index.ts';
import { HttpTransport } from '../sync/http.ts';
import { SyncClient } from '../sync/client.ts';
import { postgresAvailable, PG_SKIP_REASON, startTestNode, TEST_PG_URL, type TestNode } from '../testing/harness.ts';
import { dropHubSchema } from '../testing/hub-staff.ts';

const available = await postgresAvailable();
const OWNER = 'B82005';
const RECIPIENT = 'C84001';
const BYSTANDER = 'A81001';

const patient = (n: number, family: string): Patient => ({
  resourceType: 'Patient',
  identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(70_000 + n) }],
  name: [{ family, given: ['Sam'] }],
  birthDate: '1970-05-05',
  gender: 'female',
});

const bp = (patientId: string, value: number): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://snomed.info/sct', code: '271649006', display: 'Systolic blood pressure' }] },
  subject: { reference: `Patient/${patientId}` },
  effectiveDateTime: '2026-12-01T09:00:00Z',
  valueQuantity: { value, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
});

describe('records shared between practices through the hub', { skip: available ? false : PG_SKIP_REASON }, () => {
  let hub: RunningHub;
  let owner: TestNode;
  let recipient: TestNode;
  let bystander: TestNode;
  const clients: Record<string, SyncClient> = {};
  const keys: Record<string, string> = {};
  const schema = `share_${process.pid}_${Date.now().toString(36)}`;
  let shared: Patient & { id: string };
  let notShared: Patient & { id: string };
  let consentId: string;

  const sync = async (...names: string[]) => {
    for (const n of names) await clients[n]!.exchange();
  };
  const sharedBundle = async (node: TestNode, role: 'clinician' | 'receptionist' = 'clinician') =>
    node.fetchAs(role, `/api/shared/${OWNER}/${shared.id}`);

  before(async () => {
    hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0 });
    owner = await startTestNode({ practice: OWNER });
    recipient = await startTestNode({ practice: RECIPIENT });
    bystander = await startTestNode({ practice: BYSTANDER });
    for (const [name, node] of [['owner', owner], ['recipient', recipient], ['bystander', bystander]] as const) {
      const key = await hub.addNode(node.store.practice, node.store.nodeId);
      keys[name] = key;
      clients[name] = new SyncClient({ store: node.store, peer: 'hub', transport: new HttpTransport(hub.url), key });
    }
    shared = await owner.create('clinician', patient(1, 'Sharer'));
    notShared = await owner.create('clinician', patient(2, 'Private'));
    await owner.create('clinician', bp(shared.id, 141));
    await owner.create('clinician', bp(notShared.id, 150));
  });

  after(async () => {
    for (const n of [owner, recipient, bystander]) await n?.close();
    await hub?.close();
    await dropHubSchema(schema);
  });

  test('nothing is shared until the owner decides: the recipient holds none of the owner’s records', async () => {
    await sync('owner', 'recipient');
    assert.deepEqual(((await (await recipient.fetchAs('clinician', '/api/shared')).json()) as any).records, []);
    assert.equal((await sharedBundle(recipient)).status, 404);
  });

  test('bad share requests are refused with the field named; receptionists cannot share', async () => {
    const bad = await owner.fetchAs('clinician', '/api/sharing', { method: 'POST', json: { patientId: shared.id, withPractice: 'not an ods', reason: 'x' } });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as any).issue[0].expression[0], 'withPractice');
    const self = await owner.fetchAs('clinician', '/api/sharing', { method: 'POST', json: { patientId: shared.id, withPractice: OWNER, reason: 'x' } });
    assert.equal(self.status, 400);
    const missing = await owner.fetchAs('clinician', '/api/sharing', { method: 'POST', json: { patientId: 'no-such-patient', withPractice: RECIPIENT, reason: 'x' } });
    assert.equal(missing.status, 404);
    const receptionist = await owner.fetchAs('receptionist', '/api/sharing', { method: 'POST', json: { patientId: shared.id, withPractice: RECIPIENT, reason: 'x' } });
    assert.equal(receptionist.status, 403);
  });

  test('a shared patient’s record reaches the recipient, read-only and apart from its own record; other patients never do', async () => {
    const res = await owner.fetchAs('clinician', '/api/sharing', { method: 'POST', json: { patientId: shared.id, withPractice: RECIPIENT, reason: 'Extended access appointments' } });
    assert.equal(res.status, 201);
    consentId = ((await res.json()) as any).id;
    await sync('owner', 'recipient', 'bystander');

    const list = ((await (await recipient.fetchAs('clinician', '/api/shared')).json()) as any).records;
    assert.equal(list.length, 1);
    assert.equal(list[0].owner, OWNER);
    assert.equal(list[0].name, 'SHARER, Sam');
    assert.equal(list[0].nhsNumber, testNhsNumber(70_001));
    assert.equal(list[0].reason, 'Extended access appointments');

    const bundle = (await (await sharedBundle(recipient)).json()) as Bundle;
    const types = bundle.entry!.map((e) => e.resource!.resourceType).sort();
    assert.deepEqual(types, ['Consent', 'Observation', 'Patient']);
    assert.equal((bundle.entry!.find((e) => e.resource!.resourceType === 'Observation')!.resource as Observation).valueQuantity!.value, 141);

    // Held under the owner's practice: the recipient's own record and search know nothing of it.
    const own = await recipient.fetchAs('clinician', `/fhir/R4/Patient/${shared.id}`);
    assert.equal(own.status, 404);
    const search = (await (await recipient.fetchAs('clinician', '/fhir/R4/Observation?_count=100')).json()) as Bundle;
    assert.equal(search.entry?.length ?? 0, 0);
    // Nothing of the unshared patient travelled, under any practice key.
    const copies = await recipient.store.practiceView(OWNER).changesSince(0, 10_000);
    assert.ok(copies.length >= 3);
    assert.ok(copies.every((e) => JSON.stringify(e.resource ?? {}).indexOf(notShared.id) === -1), 'an unshared patient reached the recipient');
    // The bystander practice got nothing.
    assert.deepEqual(((await (await bystander.fetchAs('clinician', '/api/shared')).json()) as any).records, []);
    assert.equal((await bystander.store.practiceView(OWNER).changesSince(0, 10)).length, 0);
  });

  test('reading a shared record is for clinicians and is audited at the recipient', async () => {
    assert.equal((await sharedBundle(recipient, 'receptionist')).status, 403);
    await recipient.audit.drain();
    const audit = (await (await recipient.fetchAs('practice-admin', `/api/audit?patient=Patient/${shared.id}`)).json()) as any;
    const entries = audit.entries;
    assert.ok(JSON.stringify(entries).includes(`record shared by ${OWNER}`), 'the read of the shared record was not audited');
  });

  test('a result moved from the shared patient to another leaves the recipient’s copy, and its new version never arrives', async () => {
    const misfiled = await owner.create('clinician', bp(shared.id, 199));
    await sync('owner', 'recipient');
    assert.ok(await recipient.store.practiceView(OWNER).read('Observation', misfiled.id));
    const res = await owner.fetchAs('clinician', `/fhir/R4/Observation/${misfiled.id}`, { method: 'PUT', json: { ...misfiled, subject: { reference: `Patient/${notShared.id}` } } });
    assert.equal(res.status, 200);
    await sync('owner', 'recipient');
    assert.equal(await recipient.store.practiceView(OWNER).read('Observation', misfiled.id), undefined, 'the moved result is gone from the shared copy');
    const copies = await recipient.store.practiceView(OWNER).changesSince(0, 10_000);
    assert.ok(copies.every((e) => JSON.stringify(e.resource ?? {}).indexOf(notShared.id) === -1), 'the other patient’s version never reached the recipient');
    await owner.fetchAs('clinician', `/fhir/R4/Observation/${misfiled.id}`, { method: 'DELETE' });
    await sync('owner', 'recipient');
  });

  test('later entries follow; a withdrawn share is deleted at the recipient', async () => {
    await owner.create('clinician', bp(shared.id, 128));
    await sync('owner', 'recipient');
    let bundle = (await (await sharedBundle(recipient)).json()) as Bundle;
    const values = bundle.entry!.filter((e) => e.resource!.resourceType === 'Observation').map((e) => (e.resource as Observation).valueQuantity!.value).sort();
    assert.deepEqual(values, [128, 141]);

    const withdrawn = await owner.fetchAs('clinician', `/api/sharing/${consentId}/withdraw`, { method: 'POST' });
    assert.equal(withdrawn.status, 200);
    assert.equal(((await withdrawn.json()) as any).active, false);
    await sync('owner', 'recipient');
    assert.equal((await sharedBundle(recipient)).status, 404);
    assert.deepEqual(((await (await recipient.fetchAs('clinician', '/api/shared')).json()) as any).records, []);
    assert.equal((await recipient.store.practiceView(OWNER).changesSince(0, 10)).length, 0, 'the copy was not deleted');
    // The owner's record is untouched and still lists the decision, now inactive.
    const shares = ((await (await owner.fetchAs('clinician', `/api/sharing?patient=${shared.id}`)).json()) as any).shares;
    assert.equal(shares.length, 1);
    assert.equal(shares[0].active, false);
    bundle = (await (await owner.fetchAs('clinician', `/fhir/R4/Observation?patient=${shared.id}`)).json()) as Bundle;
    assert.equal(bundle.entry!.length, 2);
  });

  test('a share with an end date stops at that date; a Consent moved to another patient withdraws the first', async () => {
    const timed = await owner.create('clinician', patient(3, 'Timed'));
    const other = await owner.create('clinician', patient(4, 'Moved'));
    const end = new Date(Date.now() + 1500).toISOString();
    const [written] = await owner.store.write(
      [{ kind: 'create', resource: { ...shareConsent({ patientId: timed.id, withPractice: RECIPIENT, reason: 'One clinic', start: new Date().toISOString() }), provision: { ...shareConsent({ patientId: timed.id, withPractice: RECIPIENT, reason: 'x', start: new Date().toISOString() }).provision, period: { start: new Date().toISOString(), end } } } }],
      { author: 'user:test' },
    );
    await sync('owner', 'recipient');
    const held = async () => ((await (await recipient.fetchAs('clinician', '/api/shared')).json()) as any).records.map((r: any) => r.patientId).sort();
    assert.deepEqual(await held(), [timed.id]);
    await new Promise((r) => setTimeout(r, 1600));
    await sync('recipient');
    assert.deepEqual(await held(), [], 'past its end date the share is withdrawn and the copy deleted, with no new entry from the owner');

    // A share that names another patient after an edit: the first patient's copy goes.
    const consent = written!.resource as any;
    const [again] = await owner.store.write([{ kind: 'update', resource: { ...consent, provision: { ...consent.provision, period: { start: consent.provision.period.start } } } }], { author: 'user:test' });
    await sync('owner', 'recipient');
    assert.deepEqual(await held(), [timed.id]);
    await owner.store.write([{ kind: 'update', resource: { ...(again!.resource as any), patient: { reference: `Patient/${other.id}` } } }], { author: 'user:test' });
    await sync('owner', 'recipient');
    assert.deepEqual(await held(), [other.id]);
    assert.equal((await recipient.store.practiceView(OWNER).read('Patient', timed.id)), undefined, 'the first patient’s copy was deleted');
  });

  test('a node cannot ask the hub for the records shared with another practice', async () => {
    // The recipient's own node id and key, but claiming to be the bystander practice: refused (403).
    const pretender = new SyncClient({ store: recipient.store.practiceView(BYSTANDER), peer: 'hub', transport: new HttpTransport(hub.url), key: keys.recipient! });
    await assert.rejects(pretender.pullSharedOnce(), /403.*may not sync practice A81001/);
  });
});
