/**
 * The outbox screen's routes over real HTTP: counts by channel and state, the oldest waiting age,
 * a page of rows with the message text only for clinicians, and a person's retry and cancel of a
 * stopped message (audited, the Communication in the record following, refused for a sent message).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Communication, Patient } from '@medplum/fhirtypes';
import type { OutboxActionResponse, OutboxResponse } from '@steadfast/domain/api';
import { DELIVERY_STATUS_EXTENSION } from '@steadfast/domain/systems';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import { queuePatientMessage } from '../messaging/send.ts';
import { mdb } from '../messaging/tables.ts';
import { enqueue } from './queue.ts';
import { odb } from './tables.ts';

describe('outbox routes', () => {
  let node: TestNode;
  let patientId: string;
  let failedId: string;
  let sentId: string;
  let waitingId: string;

  before(async () => {
    node = await startTestNode({ config: { outbox: { disabled: true } } });
    const [created] = await node.store.write(
      [{ kind: 'create', resource: { resourceType: 'Patient', name: [{ given: ['Alex'], family: 'Testpatient' }], birthDate: '1980-01-01', telecom: [{ system: 'phone', use: 'mobile', value: '07700900111' }] } satisfies Patient }],
      { author: 'test' },
    );
    patientId = created!.resource!.id!;
    await node.fetchAs('receptionist', `/api/messaging/patients/${patientId}/contact`, { method: 'PUT', json: { mobile: '07700 900111', smsConsent: true } });
    const q = await node.store.transaction({ author: 'test' }, (tx) =>
      queuePatientMessage(tx, node.store.practice, { patientId, template: 'free-text', channel: 'sms', values: { text: 'Your repeat prescription is ready' }, key: 'routes-test:1', category: 'free-text', practiceName: 'Test Surgery' }),
    );
    failedId = q.outboxId;
    // As the drainer leaves a message Notify refused: failed in the outbox and in the record.
    await odb(node.store.db).updateTable('outbox_messages').set({ state: 'failed', attempts: 1, last_error: 'GOV.UK Notify 400 ValidationError: phone_number Not a UK mobile number' }).where('id', '=', failedId).execute();
    await mdb(node.store.db).updateTable('messaging_deliveries').set({ status: 'failed', error: 'Not a UK mobile number' }).where('outbox_id', '=', failedId).execute();
    sentId = (await enqueue(node.store.db, node.store.practice, { channel: 'hl7-order', key: 'lab-order:T:1', source: 'pathology', payload: { order: 1 } })).id;
    await odb(node.store.db).updateTable('outbox_messages').set({ state: 'sent', sent_at: new Date().toISOString() }).where('id', '=', sentId).execute();
    waitingId = (await enqueue(node.store.db, node.store.practice, { channel: 'hl7-order', key: 'lab-order:T:2', source: 'pathology', payload: { order: 2 } }, new Date(Date.now() - 90_000))).id;
  });
  after(async () => node?.close());

  it('counts every channel and state, gives the oldest waiting age, and pages the rows', async () => {
    const res = await node.fetchAs('receptionist', '/api/outbox');
    assert.equal(res.status, 200);
    const body = (await res.json()) as OutboxResponse;
    assert.deepEqual(body.counts, [
      { channel: 'hl7-order', state: 'pending', count: 1 },
      { channel: 'hl7-order', state: 'sent', count: 1 },
      { channel: 'notify-sms', state: 'failed', count: 1 },
    ]);
    assert.ok(body.oldestWaitingSeconds !== null && body.oldestWaitingSeconds >= 89 && body.oldestWaitingSeconds < 200, `about 90 s, got ${body.oldestWaitingSeconds}`);
    assert.equal(body.total, 3);
    assert.equal(body.rows.length, 3);
    const failed = body.rows.find((r) => r.id === failedId)!;
    assert.equal(failed.state, 'failed');
    assert.match(failed.lastError!, /Not a UK mobile number/);
    assert.match(failed.about!, /^Communication\//);
    const paged = (await (await node.fetchAs('receptionist', '/api/outbox?state=pending&limit=1')).json()) as OutboxResponse;
    assert.equal(paged.total, 1);
    assert.deepEqual(paged.rows.map((r) => r.id), [waitingId]);
    assert.ok(paged.rows[0]!.nextAttemptAt);
  });

  it('shows the message text to clinicians only', async () => {
    for (const role of ['receptionist', 'practice-admin'] as const) {
      const body = (await (await node.fetchAs(role, '/api/outbox?channel=notify-sms')).json()) as OutboxResponse;
      assert.equal(body.rows.length, 1);
      assert.equal(body.rows[0]!.body, undefined, `${role} sees no message text`);
      assert.doesNotMatch(JSON.stringify(body), /repeat prescription/);
    }
    const clinical = (await (await node.fetchAs('clinician', '/api/outbox?channel=notify-sms')).json()) as OutboxResponse;
    assert.match(clinical.rows[0]!.body!, /repeat prescription is ready/);
  });

  it('refuses a bad filter with the parameter named', async () => {
    const res = await node.fetchAs('receptionist', '/api/outbox?state=lost');
    assert.equal(res.status, 400);
    assert.match(await res.text(), /state \\"lost\\" is not an outbox state.*pending, sending, sent, failed, cancelled/);
    assert.equal((await node.fetchAs('receptionist', '/api/outbox?limit=5000')).status, 400);
  });

  it('refuses to retry or cancel a message already sent, and changes nothing', async () => {
    const retry = await node.fetchAs('receptionist', `/api/outbox/${sentId}/retry`, { method: 'POST' });
    assert.equal(retry.status, 409);
    assert.match(await retry.text(), /is sent, so it cannot be retried/);
    const cancel = await node.fetchAs('receptionist', `/api/outbox/${sentId}/cancel`, { method: 'POST' });
    assert.equal(cancel.status, 409);
    assert.equal((await odb(node.store.db).selectFrom('outbox_messages').select('state').where('id', '=', sentId).executeTakeFirstOrThrow()).state, 'sent');
    assert.equal((await node.fetchAs('receptionist', '/api/outbox/no-such-id/retry', { method: 'POST' })).status, 404);
  });

  it('a failed message retried by hand is due now, its Communication back to queued, and the retry audited', async () => {
    const res = await node.fetchAs('receptionist', `/api/outbox/${failedId}/retry`, { method: 'POST' });
    assert.equal(res.status, 200);
    const { row } = (await res.json()) as OutboxActionResponse;
    assert.equal(row.state, 'pending');
    assert.ok(Date.parse(row.nextAttemptAt!) <= Date.now());
    const delivery = await mdb(node.store.db).selectFrom('messaging_deliveries').selectAll().where('outbox_id', '=', failedId).executeTakeFirstOrThrow();
    assert.equal(delivery.status, 'queued');
    const comm = (await node.store.read('Communication', delivery.communication_id))!.resource as Communication;
    assert.equal(comm.status, 'preparation');
    assert.equal(comm.extension?.find((e) => e.url === DELIVERY_STATUS_EXTENSION)?.valueCode, 'queued');
    const audit = await (await node.fetchAs('practice-admin', `/api/audit`)).text();
    assert.match(audit, /retried by hand/);
  });

  it('a waiting message cancelled by hand is cancelled in the outbox and in the record', async () => {
    const res = await node.fetchAs('receptionist', `/api/outbox/${failedId}/cancel`, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as OutboxActionResponse).row.state, 'cancelled');
    const delivery = await mdb(node.store.db).selectFrom('messaging_deliveries').selectAll().where('outbox_id', '=', failedId).executeTakeFirstOrThrow();
    assert.equal(delivery.status, 'cancelled');
    const comm = (await node.store.read('Communication', delivery.communication_id))!.resource as Communication;
    assert.equal(comm.status, 'stopped');
  });
});
