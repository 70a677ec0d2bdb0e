import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { backends, startTestNode } from '../testing/harness.ts';
import { buildOru } from '../testing/hl7-fixtures.ts';
import { ingestHl7 } from './ingest.ts';

const nhs = testNhsNumber(777);
const patient: Patient = { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhs }], name: [{ family: 'Hale', given: ['Robin'] }], birthDate: '1966-02-03', gender: 'male' };

function hba1c(filler: string, value: string, messageId: string, when: string, flag = '') {
  return buildOru({
    messageId, nhsNumber: nhs, family: 'Hale', given: 'Robin', birthDate: '19660203', filler, test: ['HBA1C', 'HbA1c'], observedAt: when,
    obx: [{ code: 'HBA1C', display: 'HbA1c', value, units: 'mmol/mol', range: '20-41', flag }],
  });
}

for (const { backend, skip } of await backends()) test(`${backend}: results inbox: backlog counts, view with previous values, file as urgent contact (audited); duplicates visible to practice-admin only`, { skip }, async () => {
  const node = await startTestNode({ backend });
  try {
    const p = await node.create('clinician', patient);
    await ingestHl7({ store: node.store }, hba1c('ACC-1', '52', 'M1', '202505011000', 'H'), 'mllp');
    await ingestHl7({ store: node.store }, hba1c('ACC-2', '61', 'M2', '202611201000', 'H'), 'mllp');
    for (const id of ['M3', 'M4', 'M5']) await ingestHl7({ store: node.store }, hba1c('ACC-2', '61', id, '202611201000', 'H'), 'mllp');

    const pool = (await (await node.fetchAs('clinician', '/api/pathology/inbox?scope=pool')).json()) as {
      items: Array<{ taskId: string; reportId: string; authoredOn: string }>;
      backlog: { count: number; oldestAgeHours: number };
    };
    assert.equal(pool.backlog.count, 2, 'no request, so both wait in the pool; the 3 resends added nothing');
    const adminView = (await (await node.fetchAs('practice-admin', '/api/pathology/inbox?scope=all')).json()) as { items: unknown[]; backlog: { count: number } };
    assert.equal(adminView.items.length, 2, 'the practice manager sees the list, to reassign');

    const latest = pool.items.find((i) => i.reportId)!;
    const views = await Promise.all(pool.items.map(async (i) => (await (await node.fetchAs('clinician', `/api/pathology/inbox/${i.taskId}`)).json()) as { previous: Record<string, Array<{ value: string }>>; observations: Array<{ valueQuantity: { value: number } }> }));
    const newer = views.find((v) => v.observations[0]!.valueQuantity.value === 61)!;
    assert.deepEqual(newer.previous.HBA1C!.map((x) => x.value), ['52 mmol/mol'], 'the earlier HbA1c is shown beside the new one');

    const target = pool.items[views.indexOf(newer)]!;
    const filed = await node.fetchAs('clinician', `/api/pathology/inbox/${target.taskId}/file`, { method: 'POST', json: { action: 'urgent-contact', comment: 'Rising HbA1c' } });
    assert.equal(filed.status, 200, await filed.clone().text());
    const again = await node.fetchAs('clinician', `/api/pathology/inbox/${target.taskId}/file`, { method: 'POST', json: { action: 'normal' } });
    assert.equal(again.status, 409, 'filed once only');
    const bad = await node.fetchAs('clinician', `/api/pathology/inbox/${latest.taskId}/file`, { method: 'POST', json: { action: 'ignore' } });
    assert.equal(bad.status, 400);
    const after = (await (await node.fetchAs('clinician', '/api/pathology/inbox?scope=pool')).json()) as { backlog: { count: number } };
    assert.equal(after.backlog.count, 1);
    const followUps = await node.store.search({ resourceType: 'Task', params: [{ name: 'patient', values: [`Patient/${p.id}`] }, { name: 'priority', values: ['urgent'] }], count: 10, offset: 0 });
    assert.ok(followUps.resources.some((t) => (t as { description?: string }).description?.includes('Needs urgent contact')));
    assert.match(await (await node.fetchAs('practice-admin', '/api/audit')).text(), /pathology result filed: urgent-contact/);

    const dupRes = await node.fetchAs('practice-admin', '/api/pathology/duplicates');
    const dups = (await dupRes.json()) as { total: number; byLabAndDay: Array<{ lab: string; count: number }> };
    assert.equal(dups.total, 3);
    assert.equal(dups.byLabAndDay[0]!.lab, 'RX1LAB^RX1');
    assert.equal((await node.fetchAs('clinician', '/api/pathology/duplicates')).status, 403);
    assert.equal((await node.fetchAs('receptionist', '/api/pathology/inbox')).status, 403);
  } finally {
    await node.close();
  }
});

test('FHIR Bundle results are de-duplicated the same way; quarantined input can be re-processed after a fix', async () => {
  const node = await startTestNode();
  try {
    await node.create('clinician', patient);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { fullUrl: 'urn:uuid:p', resource: patient },
        { fullUrl: 'urn:uuid:o1', resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ code: 'CRP', display: 'CRP' }] }, valueQuantity: { value: 12, unit: 'mg/L' }, interpretation: [{ coding: [{ code: 'H' }] }] } },
        {
          resource: {
            resourceType: 'DiagnosticReport', status: 'final', identifier: [{ system: 'https://lab.example/acc', value: 'B-1' }],
            code: { coding: [{ code: 'CRP', display: 'C-reactive protein' }] }, subject: { identifier: { system: NHS_NUMBER_SYSTEM, value: nhs } },
            performer: [{ display: 'Fhir Lab' }], result: [{ reference: 'urn:uuid:o1' }],
          },
        },
      ],
    };
    const first = await node.fetchAs('clinician', '/api/pathology/results', { method: 'POST', json: bundle });
    assert.equal(first.status, 200, await first.clone().text());
    const second = await node.fetchAs('clinician', '/api/pathology/results', { method: 'POST', json: { ...bundle, id: 'resend' } });
    assert.equal(((await second.json()) as { state: string }).state, 'duplicate');
    assert.equal((await node.store.search({ resourceType: 'DiagnosticReport', params: [], count: 10, offset: 0, total: true })).total, 1);

    const broken = await node.fetchAs('clinician', '/api/pathology/results', { method: 'POST', json: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'DiagnosticReport', status: 'final', code: { text: 'X' } } }] } });
    assert.equal(broken.status, 400);
    assert.match(await broken.text(), /identifier/);

    // An HL7 message for a patient not yet registered waits unmatched; register, re-process, filed.
    const other = testNhsNumber(778);
    const raw = buildOru({ messageId: 'Q1', nhsNumber: other, family: 'Stone', given: 'Ivy', birthDate: '19900101', filler: 'Z1', test: ['TFT', 'Thyroid function'], obx: [{ code: 'TSH', display: 'TSH', value: '2.1', units: 'mU/L' }] });
    const res = await node.fetchAs('clinician', '/api/pathology/hl7', { method: 'POST', body: raw, headers: { 'content-type': 'x-application/hl7-v2+er7' } });
    assert.equal(res.status, 202);
    const queued = (await res.json()) as { inboxId: string; state: string };
    assert.equal(queued.state, 'unmatched');
    const list = (await (await node.fetchAs('clinician', '/api/pathology/quarantine')).json()) as { items: Array<{ id: string; reason: string }> };
    assert.ok(list.items.some((i) => i.id === queued.inboxId && /No patient/.test(i.reason)));
    await node.create('clinician', { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: other }], name: [{ family: 'Stone', given: ['Ivy'] }], birthDate: '1990-01-01' });
    const re = await node.fetchAs('clinician', `/api/pathology/quarantine/${queued.inboxId}/reprocess`, { method: 'POST' });
    assert.equal(((await re.json()) as { state: string }).state, 'filed');
    const again = await node.fetchAs('clinician', `/api/pathology/quarantine/${queued.inboxId}/reprocess`, { method: 'POST' });
    assert.equal(again.status, 409, 'a filed message cannot be re-processed into a second copy');
  } finally {
    await node.close();
  }
});

test('the MLLP listener starts with the node on config.pathology.mllpPort and stops with it', async () => {
  const net = await import('node:net');
  const { Hl7Client } = await import('@medplum/hl7');
  const { Hl7Message } = await import('@medplum/core');
  const free = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
  const node = await startTestNode({ config: { pathology: { mllpPort: free, mllpHost: '127.0.0.1' } } });
  const client = new Hl7Client({ host: '127.0.0.1', port: free });
  try {
    await node.create('clinician', patient);
    const ack = await client.sendAndWait(Hl7Message.parse(hba1c('ACC-9', '40', 'N1', '202611251000')), { timeoutMs: 20_000 });
    assert.equal(ack.getSegment('MSA')!.getField(1).toString(), 'AA');
    assert.equal((await node.store.search({ resourceType: 'DiagnosticReport', params: [], count: 10, offset: 0, total: true })).total, 1);
  } finally {
    await client.close();
    await node.close();
  }
  const refused = await new Promise<boolean>((resolve) => {
    const s = net.connect({ port: free, host: '127.0.0.1' });
    s.on('connect', () => (s.destroy(), resolve(false)));
    s.on('error', () => resolve(true));
  });
  assert.ok(refused, 'the listener closed with the node');
});

test('an unmatched result is filed only when a clinician chooses the patient; the choice is audited', async () => {
  const { readFixture } = await import('../testing/hl7-fixtures.ts');
  const node = await startTestNode();
  try {
    const p = await node.create('clinician', patient);
    const res = await node.fetchAs('clinician', '/api/pathology/hl7', { method: 'POST', body: readFixture('us-cerner-oru-r01-v2.3.hl7'), headers: { 'content-type': 'x-application/hl7-v2+er7' } });
    const { inboxId, state } = (await res.json()) as { inboxId: string; state: string };
    assert.equal(state, 'unmatched');
    const missing = await node.fetchAs('clinician', `/api/pathology/quarantine/${inboxId}/match`, { method: 'POST', json: { patientId: 'no-such-patient' } });
    assert.equal(missing.status, 404);
    assert.equal((await node.fetchAs('receptionist', `/api/pathology/quarantine/${inboxId}/match`, { method: 'POST', json: { patientId: p.id } })).status, 403);
    const matched = await node.fetchAs('clinician', `/api/pathology/quarantine/${inboxId}/match`, { method: 'POST', json: { patientId: p.id } });
    const body = (await matched.json()) as { state: string; reason: string };
    assert.equal(body.state, 'filed', JSON.stringify(body));
    assert.match(body.reason, /patient chosen by user/);
    const reports = await node.store.search({ resourceType: 'DiagnosticReport', params: [{ name: 'patient', values: [`Patient/${p.id}`] }], count: 10, offset: 0 });
    assert.equal(reports.resources.length, 1);
    assert.equal((await node.fetchAs('clinician', `/api/pathology/quarantine/${inboxId}/match`, { method: 'POST', json: { patientId: p.id } })).status, 409);
    assert.match(await (await node.fetchAs('practice-admin', '/api/audit')).text(), /matched by hand/);
  } finally {
    await node.close();
  }
});

for (const { backend, skip } of await backends()) test(`${backend}: catalogue over HTTP: everyone reads it, only a practice administrator edits it`, { skip }, async () => {
  const node = await startTestNode({ backend });
  try {
    const cat = (await (await node.fetchAs('receptionist', '/api/pathology/catalogue')).json()) as { tests: Array<{ code: string }> };
    assert.ok(cat.tests.some((t) => t.code === 'FBC'));
    const entry = { display: 'Amylase', specimen: 'Blood', tube: { colour: 'Gold', additive: 'SST', volumeMl: 5 } };
    assert.equal((await node.fetchAs('clinician', '/api/pathology/catalogue/AMYL', { method: 'PUT', json: entry })).status, 403);
    assert.equal((await node.fetchAs('practice-admin', '/api/pathology/catalogue/AMYL', { method: 'PUT', json: entry })).status, 200);
    const bad = await node.fetchAs('practice-admin', '/api/pathology/catalogue/AMYL', { method: 'PUT', json: { ...entry, tube: { colour: 'Gold' } } });
    assert.equal(bad.status, 400);
    assert.equal((await node.fetchAs('practice-admin', '/api/pathology/catalogue/ESR', { method: 'DELETE' })).status, 204);
    const after = (await (await node.fetchAs('clinician', '/api/pathology/catalogue')).json()) as { tests: Array<{ code: string }> };
    assert.ok(after.tests.some((t) => t.code === 'AMYL'));
    assert.ok(!after.tests.some((t) => t.code === 'ESR'));
  } finally {
    await node.close();
  }
});

test('a node whose MLLP port is taken still starts (and says so); the laboratory keeps its results until the port is free', async () => {
  const net = await import('node:net');
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as { port: number }).port;
  const node = await startTestNode({ config: { pathology: { mllpPort: port, mllpHost: '127.0.0.1' } } });
  try {
    assert.equal((await node.fetchAs('clinician', '/api/pathology/catalogue')).status, 200);
  } finally {
    await node.close();
    await new Promise<void>((r) => blocker.close(() => r()));
  }
});

test('regression: POST /api/pathology/hl7 answered errors with its own body instead of an OperationOutcome', async () => {
  const node = await startTestNode();
  try {
    const isOutcome = (body: { resourceType?: string; issue?: Array<{ severity?: string; code?: string; diagnostics?: string }> }) =>
      body.resourceType === 'OperationOutcome' && Array.isArray(body.issue) && body.issue[0]?.severity === 'error';
    // Text that is not an HL7 message: kept in quarantine, answered 400 as an OperationOutcome naming the entry.
    const bad = await node.fetchAs('clinician', '/api/pathology/hl7', { method: 'POST', body: 'this is not HL7', headers: { 'content-type': 'x-application/hl7-v2+er7' } });
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get('content-type') ?? '', /application\/fhir\+json/);
    const outcome = (await bad.json()) as { resourceType?: string; issue?: Array<{ severity?: string; code?: string; diagnostics?: string }> };
    assert.ok(isOutcome(outcome), JSON.stringify(outcome));
    const quarantineId = /kept in quarantine ([0-9a-f-]{36})/.exec(JSON.stringify(outcome))?.[1];
    assert.ok(quarantineId, 'the answer names the quarantine entry');
    const list = (await (await node.fetchAs('clinician', '/api/pathology/quarantine')).json()) as { items: Array<{ id: string; raw: string }> };
    assert.equal(list.items.find((i) => i.id === quarantineId)?.raw, 'this is not HL7', 'the message is still kept for a person');
    // A body that is not text, a content type the route does not take, no sign-in: every one an OperationOutcome.
    const json = await node.fetchAs('clinician', '/api/pathology/hl7', { method: 'POST', json: { not: 'hl7' } });
    assert.equal(json.status, 400);
    assert.ok(isOutcome((await json.json()) as Parameters<typeof isOutcome>[0]));
    const xml = await node.fetchAs('clinician', '/api/pathology/hl7', { method: 'POST', body: '<x/>', headers: { 'content-type': 'application/xml' } });
    assert.equal(xml.status, 415);
    const xmlOutcome = (await xml.json()) as { issue?: Array<{ code?: string }> };
    assert.ok(isOutcome(xmlOutcome));
    assert.equal(xmlOutcome.issue?.[0]?.code, 'not-supported');
    const anonymous = await node.fetch('/api/pathology/hl7', { method: 'POST', body: 'MSH|^~\\&|', headers: { 'content-type': 'x-application/hl7-v2+er7' } });
    assert.equal(anonymous.status, 401);
    assert.ok(isOutcome((await anonymous.json()) as Parameters<typeof isOutcome>[0]));
    // Not errors: an unmatched result is accepted (202) with its summary, as before.
    const unmatched = await node.fetchAs('clinician', '/api/pathology/hl7', {
      method: 'POST',
      body: buildOru({ messageId: 'E1', nhsNumber: testNhsNumber(779), family: 'Nobody', given: 'N', birthDate: '19800101', filler: 'E1', test: ['TFT', 'Thyroid function'], obx: [{ code: 'TSH', display: 'TSH', value: '2.1', units: 'mU/L' }] }),
      headers: { 'content-type': 'x-application/hl7-v2+er7' },
    });
    assert.equal(unmatched.status, 202);
    assert.equal(((await unmatched.json()) as { state: string }).state, 'unmatched');
  } finally {
    await node.close();
  }
});
