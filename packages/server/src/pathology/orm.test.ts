import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hl7Message } from '@medplum/core';
import { testNhsNumber } from '@steadfast/domain';
import { buildOrder, enqueueOrder, labOrderChannel, type LabConnection, type OrmInput } from './orm.ts';
import { createOutboxDrainer } from '../outbox/drainer.ts';
import { odb } from '../outbox/tables.ts';
import { startMllpListener } from './mllp.ts';
import { openPathologyStore } from '../testing/pathology-store.ts';
import { pdb } from './tables.ts';
import { generateSelfSigned } from '../http/tls.ts';

const order: OrmInput = {
  orderNumber: 'Y99999-261202-K0007-3',
  practice: 'Y99999',
  patient: { nhsNumber: testNhsNumber(77), family: 'ODUYA', given: ['Grace', 'Ama'], birthDate: '1958-07-14', sex: 'female', address: ['1 Park Row', 'Leeds', 'LS6 2AB'] },
  requester: { id: 'u-1', name: 'Dr Chen' },
  tests: [
    { code: 'FBC', display: 'Full blood count' },
    { code: 'UE', display: 'Urea and electrolytes' },
  ],
  clinicalDetails: 'Tired | pale',
  fasting: true,
  urgency: 'urgent',
  authoredOn: '2026-12-02T09:30:00.000Z',
};

test('a laboratory that takes OML^O21 gets one ORC/TQ1/OBR group per test with the placer number and priority; others get ORM^O01', () => {
  const oml = Hl7Message.parse(buildOrder(order, { name: 'leeds-path', host: 'x', port: 1, message: 'OML' }));
  assert.equal(oml.getSegment('MSH')!.getField(9).toString(), 'OML^O21^OML_O21');
  assert.equal(oml.getSegment('MSH')!.getField(12).toString(), '2.5.1');
  assert.equal(oml.getSegment('PID')!.getField(3).getComponent(1), testNhsNumber(77));
  assert.equal(oml.getSegment('PID')!.getField(3).getComponent(5), 'NH');
  const orcs = oml.getAllSegments('ORC');
  const obrs = oml.getAllSegments('OBR');
  const tq1s = oml.getAllSegments('TQ1');
  assert.equal(orcs.length, 2);
  assert.equal(obrs.length, 2);
  assert.deepEqual(orcs.map((s) => [s.getField(1).toString(), s.getField(2).toString()]), [['NW', order.orderNumber], ['NW', order.orderNumber]]);
  assert.deepEqual(obrs.map((s) => s.getField(4).getComponent(1)), ['FBC', 'UE']);
  assert.deepEqual(tq1s.map((s) => s.getField(9).toString()), ['S', 'S']);
  // Clinical details with a field separator in them are escaped, not split.
  assert.equal(obrs[0]!.getField(13).toString(), 'Tired \\F\\ pale');
  assert.equal(oml.getAllSegments('NTE').length, 2, 'fasting noted on each request');
  // Segment order of an OML^O21 order group: ORC, TQ1, OBR, NTE.
  assert.deepEqual(oml.segments.map((s) => s.name), ['MSH', 'PID', 'ORC', 'TQ1', 'OBR', 'NTE', 'ORC', 'TQ1', 'OBR', 'NTE']);

  const orm = Hl7Message.parse(buildOrder(order, { name: 'leeds-path', host: 'x', port: 1 }));
  assert.equal(orm.getSegment('MSH')!.getField(9).toString(), 'ORM^O01^ORM_O01');
});

test('orders to a laboratory over MLLP inside TLS: sent once the lab certificate checks against --lab-ca; with another CA nothing is sent and the order waits to retry', async () => {
  const { store, close } = await openPathologyStore();
  const labCert = await generateSelfSigned({ commonName: 'lab.example', hosts: ['127.0.0.1'] });
  const otherCa = await generateSelfSigned({ commonName: 'someone-else', hosts: ['127.0.0.1'] });
  const received: string[] = [];
  const labSide = await startMllpListener({ port: 0, host: '127.0.0.1', tls: labCert, ingest: async (raw) => (received.push(raw), { ack: 'AA', reason: 'OK' }) });
  try {
    const wrong: LabConnection = { name: 'leeds-path', host: '127.0.0.1', port: labSide.port, tls: { ca: otherCa.cert } };
    const right: LabConnection = { ...wrong, tls: { ca: labCert.cert } };
    const now = new Date().toISOString();
    await pdb(store.db).transaction().execute((tx) => enqueueOrder(tx, store.practice, right, order.orderNumber, buildOrder(order, right), now));
    const first = await createOutboxDrainer(store.db, store.practice, [labOrderChannel(wrong)]).drainOnce();
    assert.deepEqual(first, { sent: 0, retried: 1, failed: 0, reconciled: 0, held: 0 });
    assert.equal(received.length, 0, 'nothing reaches a laboratory whose certificate does not check');
    const row = await odb(store.db).selectFrom('outbox_messages').selectAll().executeTakeFirstOrThrow();
    assert.equal(row.channel, 'hl7-order');
    assert.match(row.last_error, /self[- ]signed|certificate/i);
    await odb(store.db).updateTable('outbox_messages').set({ next_attempt_at: now }).execute();
    const second = await createOutboxDrainer(store.db, store.practice, [labOrderChannel(right)]).drainOnce();
    assert.deepEqual(second, { sent: 1, retried: 0, failed: 0, reconciled: 0, held: 0 });
    assert.equal(received.length, 1);
    assert.equal(Hl7Message.parse(received[0]!).getSegment('ORC')!.getField(2).toString(), order.orderNumber);
  } finally {
    await labSide.close();
    await close();
  }
});

test('an order waiting in the old pathology outbox at upgrade is carried onto the one outbox and sent once', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { openStore } = await import('@steadfast/store');
  const { outboxMigrations } = await import('../outbox/tables.ts');
  const { pathologyMigrations } = await import('./tables.ts');
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-upgrade-'));
  const before = pathologyMigrations.filter((m) => m.name < '0701');
  const received: string[] = [];
  const labSide = await startMllpListener({ port: 0, host: '127.0.0.1', ingest: async (raw) => (received.push(raw), { ack: 'AA', reason: 'OK' }) });
  try {
    const old = await openStore({ dataDir: dir, nodeId: 'n1', practice: 'A81001', migrations: [...outboxMigrations, ...before] });
    const at = new Date().toISOString();
    const lab: LabConnection = { name: 'leeds-path', host: '127.0.0.1', port: labSide.port };
    await (old.db as any)
      .insertInto('pathology_outbox')
      .values({ id: 'old-1', practice: 'A81001', created_at: at, destination: `127.0.0.1:${labSide.port}`, order_number: order.orderNumber, payload: buildOrder(order, lab), state: 'sending', attempts: 2, next_attempt_at: at, last_error: 'timed out', sent_at: null })
      .execute();
    await old.close();
    const store = await openStore({ dataDir: dir, nodeId: 'n1', practice: 'A81001', migrations: [...outboxMigrations, ...pathologyMigrations] });
    try {
      const rows = await odb(store.db).selectFrom('outbox_messages').selectAll().execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.channel, 'hl7-order');
      assert.equal(rows[0]!.state, 'pending', 'an interrupted send is sent again (the laboratory de-duplicates by order number)');
      assert.equal(rows[0]!.attempts, 2);
      const round = await createOutboxDrainer(store.db, store.practice, [labOrderChannel(lab)]).drainAll();
      assert.equal(round.sent, 1);
      assert.equal(received.length, 1);
      assert.equal(Hl7Message.parse(received[0]!).getSegment('ORC')!.getField(2).toString(), order.orderNumber);
      // Queuing the same order again (a replayed request) is still one message.
      await pdb(store.db).transaction().execute((tx) => enqueueOrder(tx, store.practice, lab, order.orderNumber, buildOrder(order, lab), at));
      assert.equal((await odb(store.db).selectFrom('outbox_messages').selectAll().execute()).length, 1);
    } finally {
      await store.close();
    }
  } finally {
    await labSide.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
