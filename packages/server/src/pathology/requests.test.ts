import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Hl7Server } from '@medplum/hl7';
import type { Hl7Message } from '@medplum/core';
import type { DiagnosticReport, Patient, Task } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { backends, startTestNode } from '../testing/harness.ts';
import { checkCharacter, isValidOrderNumber } from './order-number.ts';
import { createOutboxDrainer } from '../outbox/drainer.ts';
import { labOrderChannel } from './orm.ts';
import { buildOru } from '../testing/hl7-fixtures.ts';
import { ingestHl7 } from './ingest.ts';
import { pdb } from './tables.ts';

const hasTools = spawnSync('pdftoppm', ['-v']).status === 0 && spawnSync('zbarimg', ['--version']).status === 0;

const patient: Patient = {
  resourceType: 'Patient',
  identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(4242) }],
  name: [{ family: 'Oduya', given: ['Grace', 'Ama'], prefix: ['Mrs'] }],
  birthDate: '1958-07-14',
  gender: 'female',
  address: [{ line: ['12 Elm Row'], city: 'Leeds', postalCode: 'LS6 2AB' }],
};

test('order numbers carry a check character that catches a single mistyped character', () => {
  const body = 'A81001-261125-K0007';
  const good = `${body}-${checkCharacter(body)}`;
  assert.ok(isValidOrderNumber(good));
  assert.equal(isValidOrderNumber(good.replace('0007', '0008')), false);
  assert.equal(isValidOrderNumber(good.replace('A81001', 'A81002')), false);
});

for (const { backend, skip } of await backends()) test(`${backend}: a clinician requests tests; the form PDF is deterministic, its barcode decodes to the order number, reprints are logged; the ORM reaches the lab once`, { skip }, async (t) => {
  // A fake laboratory MLLP endpoint (a real MLLP server library): AE to the first order, AA after.
  const received: string[] = [];
  const lab = new Hl7Server((connection) => {
    connection.addEventListener('message', ({ message }: { message: Hl7Message }) => {
      received.push(message.toString());
      connection.send(message.buildAck({ ackCode: received.length === 1 ? 'AE' : 'AA' }));
    });
  });
  lab.start(0);
  await new Promise<void>((r) => (lab.server!.listening ? r() : lab.server!.once('listening', () => r())));
  const labPort = (lab.server!.address() as AddressInfo).port;
  // The background drainer is slowed right down so the test drives each attempt itself.
  const node = await startTestNode({ backend, config: { outbox: { disabled: true }, pathology: { lab: { name: 'RX1LAB', host: '127.0.0.1', port: labPort } } } });
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-form-'));
  try {
    const p = await node.create('clinician', patient);
    const res = await node.fetchAs('clinician', '/api/pathology/requests', {
      method: 'POST',
      json: { patientId: p.id, tests: ['FBC', 'UE', 'LFT', 'INR'], clinicalDetails: 'Tired all the time. On warfarin.', fasting: false, urgency: 'urgent' },
    });
    assert.equal(res.status, 201, await res.clone().text());
    const created = (await res.json()) as { orderNumber: string; serviceRequests: Array<{ id: string }>; specimens: unknown[] };
    assert.ok(isValidOrderNumber(created.orderNumber), created.orderNumber);
    assert.equal(created.serviceRequests.length, 4);
    assert.equal(created.specimens.length, 3, 'lavender, gold and light blue tubes');

    const receptionistDenied = await node.fetchAs('receptionist', '/api/pathology/requests', { method: 'POST', json: { patientId: p.id, tests: ['FBC'] } });
    assert.equal(receptionistDenied.status, 403);
    const unknown = await node.fetchAs('clinician', '/api/pathology/requests', { method: 'POST', json: { patientId: p.id, tests: ['NOPE'] } });
    assert.equal(unknown.status, 400);

    const form1 = Buffer.from(await (await node.fetchAs('clinician', `/api/pathology/requests/${created.orderNumber}/form.pdf`)).arrayBuffer());
    const form2 = Buffer.from(await (await node.fetchAs('clinician', `/api/pathology/requests/${created.serviceRequests[2]!.id}/form.pdf`)).arrayBuffer());
    assert.equal(form1.subarray(0, 5).toString(), '%PDF-');
    assert.ok(form1.equals(form2), 'same request, same bytes');
    const prints = await pdb(node.store.db).selectFrom('pathology_audit').select(['detail']).where('action', '=', 'print-form').execute();
    assert.deepEqual(prints.map((x) => x.detail).sort(), ['first print', 'reprint 1']);
    const audit = await node.fetchAs('practice-admin', '/api/audit');
    assert.match(await audit.text(), /reprint 1/);

    if (!hasTools) {
      if (process.env.CI === 'true') assert.fail('pdftoppm and zbarimg are required under CI=true');
      t.diagnostic('pdftoppm/zbarimg not installed: barcode decoding skipped (apt-get install -y poppler-utils zbar-tools)');
    } else {
      writeFileSync(join(dir, 'form.pdf'), form1);
      execFileSync('pdftoppm', ['-r', '200', '-png', '-singlefile', join(dir, 'form.pdf'), join(dir, 'form')], { stdio: ['ignore', 'pipe', 'ignore'] });
      const decoded = execFileSync('zbarimg', ['-q', join(dir, 'form.png')], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
      const codes = decoded.trim().split('\n');
      assert.ok(codes.includes(`CODE-128:${created.orderNumber}`), decoded);
      assert.ok(codes.includes(`QR-Code:${created.orderNumber}`), decoded);
      const text = execFileSync('pdftotext', [join(dir, 'form.pdf'), '-']).toString();
      for (const expected of ['ODUYA, Grace Ama', '14-Jul-1958', testNhsNumber(4242).replace(/(\d{3})(\d{3})(\d{4})/, '$1 $2 $3'), 'LS6 2AB', 'URGENT', 'Light blue', 'On warfarin', 'Collected by']) {
        assert.ok(text.includes(expected), `form shows ${expected}`);
      }
    }

    // Outbox: AE first (retry later), then AA; drained exactly once more never resends.
    const lab = labOrderChannel(node.deps.config.pathology!.lab!);
    const first = await createOutboxDrainer(node.store.db, node.store.practice, [lab]).drainOnce();
    assert.deepEqual(first, { sent: 0, retried: 1, failed: 0, reconciled: 0, held: 0 });
    const later = () => new Date(Date.now() + 3_600_000);
    const second = await createOutboxDrainer(node.store.db, node.store.practice, [lab], { now: later }).drainOnce();
    assert.equal(second.sent, 1);
    const third = await createOutboxDrainer(node.store.db, node.store.practice, [lab], { now: later }).drainOnce();
    assert.equal(third.sent + third.retried, 0);
    assert.equal(received.length, 2);
    assert.match(received[1]!, /ORM\^O01/);
    assert.match(received[1]!, new RegExp(`ORC\\|NW\\|${created.orderNumber}`));

    // The result comes back with our placer number: linked to the request, task to the requester.
    const oru = buildOru({
      messageId: 'R1', nhsNumber: testNhsNumber(4242), family: 'ODUYA', given: 'Grace', birthDate: '19580714', placer: created.orderNumber, filler: 'RX1-99',
      test: ['FBC', 'Full blood count'], obx: [{ code: 'HB', display: 'Haemoglobin', value: '101', units: 'g/L', range: '115-165', flag: 'L' }],
    });
    const outcome = await ingestHl7({ store: node.store }, oru, 'mllp');
    assert.equal(outcome.state, 'filed');
    const dr = (await node.store.read('DiagnosticReport', outcome.reports[0]!.reportId))!.resource as DiagnosticReport;
    const fbcRequest = created.serviceRequests.find((sr) => (sr as unknown as { code: { coding: Array<{ code: string }> } }).code.coding.some((c) => c.code === 'FBC'))!;
    assert.equal(dr.basedOn?.[0]?.reference, `ServiceRequest/${fbcRequest.id}`);
    assert.equal(((await node.store.read('ServiceRequest', fbcRequest.id))!.resource as { status: string }).status, 'completed');
    const task = (await node.store.search({ resourceType: 'Task', params: [{ name: 'focus', values: [`DiagnosticReport/${dr.id}`] }], count: 1, offset: 0 })).resources[0] as Task;
    assert.equal(task.owner?.identifier?.value, node.users.clinician.id);
  } finally {
    await node.close();
    await lab.stop({ forceDrainTimeoutMs: 100 });
    rmSync(dir, { recursive: true, force: true });
  }
});
