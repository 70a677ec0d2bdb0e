import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DiagnosticReport, Observation, Task } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '@steadfast/domain';
import { ingestHl7, reprocessInbox } from './ingest.ts';
import { buildOru, readFixture, type OruSpec } from '../testing/hl7-fixtures.ts';
import { addPatients, openPathologyStore, type TestPatient } from '../testing/pathology-store.ts';
import { pdb } from './tables.ts';
import type { RecordStore } from '@steadfast/store';
import { backends } from '../testing/harness.ts';

function spec(p: TestPatient, over: Partial<OruSpec> = {}): OruSpec {
  return {
    messageId: `MSG-${Math.random().toString(36).slice(2)}`,
    nhsNumber: p.nhsNumber,
    family: p.family,
    given: p.given,
    birthDate: p.birthDate.replace(/-/g, ''),
    filler: 'LAB0001',
    placer: '',
    test: ['B0001', 'Full blood count'],
    obx: [
      { code: 'HB', display: 'Haemoglobin', value: '140', units: 'g/L', range: '130-180' },
      { code: 'WBC', display: 'White cell count', value: '3.1', units: 'x10\\S\\9/L', range: '4.0-11.0', flag: 'L' },
    ],
    ...over,
  };
}

async function count(store: RecordStore, type: string, params: Array<{ name: string; values: string[] }> = []) {
  return (await store.search({ resourceType: type, params, count: 1000, offset: 0, total: true })).total;
}

test('a result for a matched patient is filed with its raw message, a review task and no unmapped flag for a known test', async () => {
  const { store, close } = await openPathologyStore();
  try {
    const [p] = await addPatients(store, [1]);
    const out = await ingestHl7({ store }, buildOru(spec(p!)), 'mllp');
    assert.equal(out.ack, 'AA');
    assert.equal(out.state, 'filed');
    const dr = (await store.read('DiagnosticReport', out.reports[0]!.reportId))!.resource as DiagnosticReport;
    assert.equal(dr.subject?.reference, `Patient/${p!.id}`);
    assert.equal(dr.status, 'final');
    assert.equal(dr.code.coding?.find((c) => c.system === 'http://snomed.info/sct')?.code, '26604007');
    assert.equal(dr.meta?.tag?.some((t) => t.code === 'unmapped-test') ?? false, false);
    const obs = (await store.read('Observation', dr.result![1]!.reference!.split('/')[1]!))!.resource as Observation;
    assert.equal(obs.valueQuantity?.unit, 'x10^9/L');
    assert.equal(obs.interpretation?.[0]?.coding?.[0]?.code, 'L');
    const row = await pdb(store.db).selectFrom('pathology_inbox').selectAll().executeTakeFirstOrThrow();
    assert.equal(row.state, 'filed');
    assert.match(row.raw, /^MSH\|/);
    assert.equal(row.patient_id, p!.id);
    const tasks = await store.search({ resourceType: 'Task', params: [{ name: 'focus', values: [`DiagnosticReport/${dr.id}`] }], count: 10, offset: 0 });
    assert.equal(tasks.resources.length, 1);
    assert.equal((tasks.resources[0] as Task).status, 'requested');
  } finally {
    await close();
  }
});

test('an unknown test code is filed with the lab code and text and flagged unmapped', async () => {
  const { store, close } = await openPathologyStore();
  try {
    const [p] = await addPatients(store, [2]);
    const out = await ingestHl7({ store }, buildOru(spec(p!, { test: ['ZZQ9', 'Obscure assay'] })), 'mllp');
    const dr = (await store.read('DiagnosticReport', out.reports[0]!.reportId))!.resource as DiagnosticReport;
    assert.ok(dr.meta?.tag?.some((t) => t.code === 'unmapped-test'));
    assert.deepEqual(dr.code.coding?.map((c) => c.code), ['ZZQ9']);
    assert.equal(dr.code.text, 'Obscure assay');
    assert.deepEqual(out.reports[0]!.flags, ['unmapped-test']);
  } finally {
    await close();
  }
});

test('patients are matched only when NHS number, family name and birth date all agree', async () => {
  const { store, close } = await openPathologyStore();
  try {
    const [p] = await addPatients(store, [3]);
    const cases: Array<[string, Partial<OruSpec>]> = [
      ['wrong family', { family: 'Other' }],
      ['wrong birth date', { birthDate: '19991231' }],
      ['no NHS number', { nhsNumber: undefined as unknown as string }],
      ['unknown NHS number', { nhsNumber: '9990000026' }],
    ];
    for (const [name, over] of cases) {
      const s = spec(p!, over);
      if ('nhsNumber' in over && over.nhsNumber === undefined) delete s.nhsNumber;
      const out = await ingestHl7({ store }, buildOru(s), 'mllp');
      assert.equal(out.state, 'unmatched', name);
      assert.equal(out.ack, 'AA', `${name}: accepted and queued for a person`);
    }
    assert.equal(await count(store, 'DiagnosticReport'), 0, 'nothing filed to any record');
    const unmatched = await pdb(store.db).selectFrom('pathology_inbox').selectAll().where('state', '=', 'unmatched').execute();
    assert.equal(unmatched.length, 4);
    assert.match(unmatched[0]!.reason, /family name/);
  } finally {
    await close();
  }
});

test('public samples: the UK ones file once the patient exists, US ones wait unmatched, none crash', async () => {
  const { store, close } = await openPathologyStore();
  try {
    for (const name of ['us-epic-oru-r01-v2.3.hl7', 'us-cerner-oru-r01-v2.3.hl7']) {
      const out = await ingestHl7({ store }, readFixture(name), 'folder');
      assert.equal(out.state, 'unmatched', name);
    }
    const wales = readFixture('uk-wales-hba1c-fbc-oru-r01-v2.5.1.hl7');
    const first = await ingestHl7({ store }, wales, 'folder');
    assert.equal(first.state, 'unmatched');
    // Register Joe Bloggs, then re-process the queued message: it files, both reports.
    await store.write(
      [{ kind: 'create', resource: { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: '5189214567' }], name: [{ family: 'Bloggs', given: ['Joe'] }], birthDate: '2001-03-28' } }],
      { author: 'test' },
    );
    const again = await reprocessInbox({ store }, first.inboxId);
    assert.equal(again.state, 'filed');
    assert.equal(again.reports.length, 2);
    assert.deepEqual(again.reports.map((r) => r.flags.includes('correction')), [true, false], 'the HbA1c arrives corrected (status C) and is flagged as such');
    assert.equal(await count(store, 'DiagnosticReport'), 2);
    const rows = await pdb(store.db).selectFrom('pathology_inbox').selectAll().where('id', '=', first.inboxId).execute();
    assert.equal(rows.length, 1, 're-processing updates the same inbox row');
  } finally {
    await close();
  }
});

for (const { backend, skip } of await backends()) test(`${backend}: never twice: same report with new message ids is a counted duplicate; preliminary→final is one report; corrections supersede with history`, { skip }, async () => {
  const { store, close } = await openPathologyStore(backend);
  try {
    const [p] = await addPatients(store, [4]);
    const prelim = await ingestHl7({ store }, buildOru(spec(p!, { status: 'P' })), 'mllp');
    assert.equal(prelim.reports[0]!.outcome, 'created');
    const id = prelim.reports[0]!.reportId;
    for (let i = 0; i < 3; i++) {
      const dup = await ingestHl7({ store }, buildOru(spec(p!, { status: 'P' }), i % 2 ? '\n' : '\r'), 'mllp');
      assert.equal(dup.state, 'duplicate');
      assert.equal(dup.ack, 'AA');
    }
    const final = await ingestHl7({ store }, buildOru(spec(p!, { status: 'F' })), 'mllp');
    assert.deepEqual([final.reports[0]!.outcome, final.reports[0]!.reportId], ['updated', id]);
    // the late preliminary must not overwrite the final
    const late = await ingestHl7({ store }, buildOru(spec(p!, { status: 'P', obx: [{ code: 'HB', display: 'Haemoglobin', value: '99', units: 'g/L' }] })), 'mllp');
    assert.equal(late.reports[0]!.outcome, 'stale');
    assert.equal(((await store.read('DiagnosticReport', id))!.resource as DiagnosticReport).status, 'final');
    const corrected = await ingestHl7({ store }, buildOru(spec(p!, { status: 'C', obx: [{ code: 'HB', display: 'Haemoglobin', value: '120', units: 'g/L', range: '130-180', flag: 'L' }] })), 'mllp');
    assert.deepEqual(corrected.reports[0]!.flags, ['correction']);
    const dr = (await store.read('DiagnosticReport', id))!.resource as DiagnosticReport;
    assert.equal(dr.status, 'corrected');
    assert.ok(dr.meta?.tag?.some((t) => t.code === 'correction'));
    assert.equal(dr.result?.length, 1);
    const history = await store.history('DiagnosticReport', id);
    assert.deepEqual(history.map((h) => (h.resource as DiagnosticReport).status), ['corrected', 'final', 'preliminary']);
    // the white cell count the correction dropped is cancelled, not left looking current
    const wbcId = ((history[1]!.resource as DiagnosticReport).result ?? [])[1]!.reference!.split('/')[1]!;
    assert.equal(((await store.read('Observation', wbcId))!.resource as Observation).status, 'cancelled');
    assert.equal(await count(store, 'DiagnosticReport'), 1);
    const tasks = await store.search({ resourceType: 'Task', params: [{ name: 'focus', values: [`DiagnosticReport/${id}`] }], count: 10, offset: 0 });
    assert.equal(tasks.resources.length, 1, 'one open review task, updated to say corrected');
    assert.match((tasks.resources[0] as Task).description ?? '', /CORRECTED/);
    const counts = await pdb(store.db).selectFrom('pathology_duplicate_counts').selectAll().execute();
    assert.equal(counts.reduce((n, r) => n + r.count, 0), 4);
  } finally {
    await close();
  }
});

test('a new result for the same patient and test with a new order number is never hidden as a duplicate', async () => {
  const { store, close } = await openPathologyStore();
  try {
    const [p] = await addPatients(store, [5]);
    await ingestHl7({ store }, buildOru(spec(p!, { filler: 'LAB0100' })), 'mllp');
    const second = await ingestHl7({ store }, buildOru(spec(p!, { filler: 'LAB0101' })), 'mllp');
    assert.equal(second.reports[0]!.outcome, 'created');
    assert.equal(await count(store, 'DiagnosticReport'), 2);
  } finally {
    await close();
  }
});

test('an order number already filed for another patient is quarantined, never merged', async () => {
  const { store, close } = await openPathologyStore();
  try {
    const [a, b] = await addPatients(store, [6, 7]);
    await ingestHl7({ store }, buildOru(spec(a!, { filler: 'LAB9' })), 'mllp');
    const out = await ingestHl7({ store }, buildOru(spec(b!, { filler: 'LAB9', status: 'C' })), 'mllp');
    assert.equal(out.state, 'quarantined');
    assert.equal(out.ack, 'AE');
    assert.match(out.reason, /different patient/);
    assert.equal(await count(store, 'DiagnosticReport', [{ name: 'patient', values: [`Patient/${b!.id}`] }]), 0);
  } finally {
    await close();
  }
});

test('unparseable input is kept in quarantine with the reason and an AR', async () => {
  const { store, close } = await openPathologyStore();
  try {
    const out = await ingestHl7({ store }, 'MSH|^~\\&|A|B|C|D|2020||ORU^R01|X1|P|2.5.1\rPID|1||1||A^B\rOBX|1|NM|A^B||1', 'mllp');
    assert.equal(out.ack, 'AR');
    assert.equal(out.messageId, 'X1');
    const row = await pdb(store.db).selectFrom('pathology_inbox').selectAll().where('id', '=', out.inboxId).executeTakeFirstOrThrow();
    assert.equal(row.state, 'quarantined');
    assert.match(row.reason, /OBX/);
    assert.match(row.raw, /OBX\|1/);
  } finally {
    await close();
  }
});

test('group commit: a batch files, de-duplicates within itself, quarantines garbage; one failing message sends the batch through one by one', async () => {
  const { ingestHl7Batch } = await import('./ingest.ts');
  const { store, close } = await openPathologyStore();
  try {
    const [a, b] = await addPatients(store, [20, 21]);
    const batch = [
      { raw: buildOru(spec(a!, { filler: 'G1' })), source: 'folder' as const },
      { raw: buildOru(spec(a!, { filler: 'G1' })), source: 'folder' as const },
      { raw: 'garbage', source: 'folder' as const },
      { raw: buildOru(spec(b!, { filler: 'G2', family: 'Wrong' })), source: 'folder' as const },
    ];
    const out = await ingestHl7Batch({ store }, batch);
    assert.deepEqual(out.map((o) => o.state), ['filed', 'duplicate', 'quarantined', 'unmatched']);
    assert.deepEqual(out.map((o) => o.ack), ['AA', 'AA', 'AR', 'AA']);
    // G1 for patient b is a conflict (already filed for a): that message alone is quarantined, the others still file
    const mixed = await ingestHl7Batch({ store }, [
      { raw: buildOru(spec(b!, { filler: 'G3' })), source: 'mllp' },
      { raw: buildOru(spec(b!, { filler: 'G1', status: 'C' })), source: 'mllp' },
      { raw: buildOru(spec(a!, { filler: 'G4' })), source: 'mllp' },
    ]);
    assert.deepEqual(mixed.map((o) => o.state), ['filed', 'quarantined', 'filed']);
    assert.equal(await count(store, 'DiagnosticReport'), 3);
    const rows = await pdb(store.db).selectFrom('pathology_inbox').select('state').execute();
    assert.equal(rows.length, 7, 'every message kept once, none twice after the fallback');
  } finally {
    await close();
  }
});

test('receive then file: received messages show as waiting in the inbox backlog until the filer files them; the same batch on PostgreSQL too', async () => {
  const { receiveHl7Batch, fileReceived } = await import('./ingest.ts');
  const { listInbox } = await import('./inbox.ts');
  for (const { backend, skip } of await backends()) {
    if (skip) continue;
    const { store, close } = await openPathologyStore(backend);
    try {
      const [a, b] = await addPatients(store, [30, 31]);
      const received = await receiveHl7Batch({ store }, [
        { raw: buildOru(spec(a!, { filler: 'W1' })), source: 'mllp' },
        { raw: buildOru(spec(a!, { filler: 'W1' })), source: 'mllp' }, // its twin, in the same batch
        { raw: 'MSH|^~\\&|not an ORU', source: 'mllp' },
        { raw: buildOru(spec(b!, { filler: 'W2' })), source: 'mllp' },
      ]);
      assert.deepEqual(received.map((r) => [r.state, r.ack]), [['received', 'AA'], ['received', 'AA'], ['quarantined', 'AR'], ['received', 'AA']], backend);
      let backlog = (await listInbox(store, { id: 'nobody' }, 'all')).backlog;
      assert.equal(backlog.waitingToFile, 3, backend);
      assert.ok(backlog.oldestWaitingToFile);
      assert.equal(await fileReceived({ store }), 3);
      backlog = (await listInbox(store, { id: 'nobody' }, 'all')).backlog;
      assert.equal(backlog.waitingToFile, 0);
      assert.equal(backlog.count, 2, 'one review task per filed report');
      const states = (await pdb(store.db).selectFrom('pathology_inbox').select(['state']).orderBy('state').execute()).map((r) => r.state);
      assert.deepEqual(states, ['duplicate', 'filed', 'filed', 'quarantined']);
      // Now a resend is recognised on receipt.
      const again = await receiveHl7Batch({ store }, [{ raw: buildOru(spec(a!, { filler: 'W1' })), source: 'mllp' }]);
      assert.equal(again[0]!.state, 'duplicate');
      assert.equal(await count(store, 'DiagnosticReport'), 2);
    } finally {
      await close();
    }
  }
});

test('when the store refuses every write, received results stay received and the filer backs off instead of spinning', async () => {
  const { receiveHl7Batch, ResultFiler, fileReceived } = await import('./ingest.ts');
  const { store, close } = await openPathologyStore();
  try {
    const [p] = await addPatients(store, [40]);
    await receiveHl7Batch({ store }, [{ raw: buildOru(spec(p!, { filler: 'STUCK1' })), source: 'mllp' }]);
    // A store whose writes all fail (a full disk, say), reads still working.
    const failing = Object.create(store, {
      transaction: { value: async () => Promise.reject(new Error('SQLITE_FULL: database or disk is full')) },
      write: { value: async () => Promise.reject(new Error('SQLITE_FULL: database or disk is full')) },
    }) as RecordStore;
    await assert.rejects(fileReceived({ store: failing }), /could not be filed or quarantined/);
    const errors: unknown[] = [];
    const filer = new ResultFiler({ store: failing }, { retryMs: 60_000, onError: (e) => errors.push(e) });
    filer.nudge();
    await filer.settled();
    await filer.close();
    assert.equal(errors.length, 1, 'one failure reported, then a pause: no tight loop');
    assert.equal((await pdb(store.db).selectFrom('pathology_inbox').select('state').executeTakeFirstOrThrow()).state, 'received');
    // The store recovers: the same message is filed.
    assert.equal(await fileReceived({ store }), 1);
    assert.equal((await pdb(store.db).selectFrom('pathology_inbox').select('state').executeTakeFirstOrThrow()).state, 'filed');
  } finally {
    await close();
  }
});

test('the filer files in arrival order: a report amended within the same batch ends with the amended values', async () => {
  const { receiveHl7Batch, fileReceived } = await import('./ingest.ts');
  const { store, close } = await openPathologyStore();
  try {
    const [p] = await addPatients(store, [41]);
    const items = [];
    // Ten reports, each sent and then amended (same status, new value) in one batch: same millisecond.
    for (let i = 0; i < 10; i++) {
      for (const hb of ['140', '150']) {
        items.push({ raw: buildOru(spec(p!, { filler: `ORDER${i}`, obx: [{ code: 'HB', display: 'Haemoglobin', value: hb, units: 'g/L', range: '130-180' }] })), source: 'mllp' as const });
      }
    }
    await receiveHl7Batch({ store }, items);
    while ((await fileReceived({ store }, { limit: 7 })) > 0);
    const hbs = (await store.search({ resourceType: 'Observation', params: [{ name: 'patient', values: [`Patient/${p!.id}`] }], count: 100, offset: 0 })).resources as Observation[];
    assert.equal(hbs.length, 10);
    assert.deepEqual([...new Set(hbs.map((o) => o.valueQuantity?.value))], [150], 'every report holds its later, amended value');
  } finally {
    await close();
  }
});
