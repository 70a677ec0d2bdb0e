/**
 * The API behind the staff messaging screens: the outbox overview with retry and cancel of a failed
 * message, the broadcast preview (each patient once, the unreachable counted and listed), a
 * broadcast started twice being one broadcast, and a retried message leaving "failed" in the record.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Appointment, Communication, Patient } from '@medplum/fhirtypes';
import type { Broadcast, BroadcastPreview, DeliverySummary, OutboxResponse } from '@steadfast/domain/api';
import { DELIVERY_STATUS_EXTENSION, DO_NOT_CONTACT_EXTENSION, SMS_CONSENT_EXTENSION } from '@steadfast/domain/systems';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import { odb } from '../outbox/tables.ts';
import { applyDeliveryStatus } from './delivery.ts';
import { mdb } from './tables.ts';

const DAY = '2031-05-06';

describe('the messaging screens API', () => {
  let node: TestNode;
  const ids: Record<string, string> = {};

  before(async () => {
    node = await startTestNode({ config: { outbox: { disabled: true }, messaging: { practiceName: 'Test Surgery' } } });
    const texting = (mobile: string, extra: Patient['extension'] = []): Partial<Patient> => ({ telecom: [{ system: 'phone', use: 'mobile', value: mobile }], extension: [{ url: SMS_CONSENT_EXTENSION, valueBoolean: true }, ...extra] });
    const people: Array<[string, Partial<Patient>]> = [
      ['Ada', texting('07700900201')],
      ['Ben', texting('07700900202')],
      ['Cy', { telecom: [{ system: 'phone', use: 'mobile', value: '07700900203' }] }],
      ['Di', texting('07700900204', [{ url: DO_NOT_CONTACT_EXTENSION, valueBoolean: true }])],
    ];
    const written = await node.store.write(people.map(([given, extra]) => ({ kind: 'create' as const, resource: { resourceType: 'Patient', name: [{ given: [given], family: 'Screens' }], ...extra } satisfies Patient })), { author: 'test' });
    written.forEach((w, i) => (ids[people[i]![0]] = w.resource!.id!));
    const appt = (who: string, hour: number): Appointment => ({ resourceType: 'Appointment', status: 'booked', start: `${DAY}T${String(hour).padStart(2, '0')}:00:00Z`, end: `${DAY}T${String(hour).padStart(2, '0')}:10:00Z`, participant: [{ actor: { reference: `Patient/${ids[who]}` }, status: 'accepted' }] });
    await node.store.write([appt('Ada', 9), appt('Ada', 14), appt('Ben', 10), appt('Cy', 11), appt('Di', 12)].map((resource) => ({ kind: 'create' as const, resource })), { author: 'test' });
  });
  after(async () => node?.close());

  it('previews a broadcast: each patient once, the unreachable counted by reason and named', async () => {
    const res = await node.fetchAs('practice-admin', '/api/messaging/broadcasts/preview', { method: 'POST', json: { from: DAY, to: DAY } });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const p = JSON.parse(text) as BroadcastPreview;
    assert.equal(p.appointments, 5);
    assert.equal(p.patients, 4, 'Ada is booked twice and counted once');
    assert.equal(p.reachable, 2);
    assert.deepEqual(p.unreachableByReason.map((r) => r.reason).sort(), ['The patient has asked not to be contacted', 'The patient has not agreed to text messages']);
    assert.deepEqual(p.unreachable.map((u) => u.name).sort(), ['Cy Screens', 'Di Screens']);
    assert.equal(await odb(node.store.db).selectFrom('outbox_messages').select('id').execute().then((r) => r.length), 0, 'a preview queues nothing');
  });

  it('refuses a preview range that ends before it starts, naming the field', async () => {
    const res = await node.fetchAs('practice-admin', '/api/messaging/broadcasts/preview', { method: 'POST', json: { from: DAY, to: '2031-05-01' } });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /"to"/);
  });

  it('a broadcast started twice with the same dates and reason is one broadcast (regression: a double click texted everyone twice)', async () => {
    const body = { from: DAY, to: DAY, reason: 'the surgery is closed for a power cut' };
    const first = await node.fetchAs('practice-admin', '/api/messaging/broadcasts', { method: 'POST', json: body });
    assert.equal(first.status, 202);
    const a = (await first.json()) as Broadcast;
    const second = await node.fetchAs('practice-admin', '/api/messaging/broadcasts', { method: 'POST', json: body });
    assert.equal(second.status, 200);
    assert.equal(((await second.json()) as Broadcast).id, a.id);
    for (let i = 0; i < 100; i++) {
      const b = (await (await node.fetchAs('practice-admin', `/api/messaging/broadcasts/${a.id}`)).json()) as Broadcast;
      if (b.state !== 'queuing') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const rows = await odb(node.store.db).selectFrom('outbox_messages').select('message_key').where('message_key', 'like', 'broadcast:%').execute();
    assert.equal(rows.length, 2, 'Ada and Ben, once each');
    const preview = (await (await node.fetchAs('practice-admin', '/api/messaging/broadcasts/preview', { method: 'POST', json: { from: DAY, to: DAY } })).json()) as BroadcastPreview;
    assert.deepEqual(preview.overlapping.map((b) => b.id), [a.id], 'the preview warns of the broadcast already covering the day');
    const list = (await (await node.fetchAs('practice-admin', '/api/messaging/broadcasts')).json()) as Broadcast[];
    assert.equal(list[0]!.id, a.id);
  });

  it('lists the outbox by channel and state with the oldest waiting age; a failed message is retried or cancelled once', async () => {
    const sent = await node.fetchAs('receptionist', `/api/messaging/patients/${ids.Ben}/messages`, { method: 'POST', json: { template: 'free-text', channel: 'sms', text: 'Please call us' } });
    const sentText = await sent.text();
    assert.equal(sent.status, 201, sentText);
    const { outboxId, communicationId } = JSON.parse(sentText) as { outboxId: string; communicationId: string };
    let overview = (await (await node.fetchAs('receptionist', '/api/outbox')).json()) as OutboxResponse;
    assert.equal(overview.counts.find((c) => c.channel === 'notify-sms' && c.state === 'pending')?.count, 3);
    assert.equal(typeof overview.oldestWaitingSeconds, 'number');
    assert.ok(!JSON.stringify(overview).includes('Please call us'), 'the outbox API never shows the payload');

    const notFailed = await node.fetchAs('receptionist', `/api/outbox/${outboxId}/retry`, { method: 'POST', json: {} });
    assert.equal(notFailed.status, 409, 'only a failed message is retried');

    await odb(node.store.db).updateTable('outbox_messages').set({ state: 'failed', last_error: 'GOV.UK Notify 400 BadRequestError: phone_number Not a UK mobile number' }).where('id', '=', outboxId).execute();
    await applyDeliveryStatus(node.store, node.store.practice, outboxId, 'failed', { error: 'GOV.UK Notify 400 BadRequestError: phone_number Not a UK mobile number' });
    overview = (await (await node.fetchAs('receptionist', '/api/outbox?state=failed')).json()) as OutboxResponse;
    assert.equal(overview.rows[0]!.id, outboxId, 'the failed message is listed by state');
    assert.match(overview.rows[0]!.lastError ?? '', /Not a UK mobile number/);
    const deliveries = (await (await node.fetchAs('receptionist', '/api/messaging/deliveries')).json()) as DeliverySummary;
    assert.equal(deliveries.failures[0]!.patientName, 'Ben Screens');

    const retried = await node.fetchAs('receptionist', `/api/outbox/${outboxId}/retry`, { method: 'POST', json: {} });
    assert.equal(retried.status, 200);
    assert.equal((await node.fetchAs('receptionist', `/api/outbox/${outboxId}/retry`, { method: 'POST', json: {} })).status, 409, 'a second press changes nothing');
    assert.equal((await odb(node.store.db).selectFrom('outbox_messages').select('state').where('id', '=', outboxId).executeTakeFirstOrThrow()).state, 'pending');

    // Sent on retry: the record says on its way, not still failed.
    await applyDeliveryStatus(node.store, node.store.practice, outboxId, 'sending', { notifyId: 'notify-id-after-retry' });
    const comm = (await node.store.read('Communication', communicationId))!.resource as Communication;
    assert.equal(comm.extension?.find((e) => e.url === DELIVERY_STATUS_EXTENSION)?.valueCode, 'sending');
    assert.equal(comm.statusReason, undefined);
    assert.equal((await mdb(node.store.db).selectFrom('messaging_deliveries').select('error').where('outbox_id', '=', outboxId).executeTakeFirstOrThrow()).error, '');

    await odb(node.store.db).updateTable('outbox_messages').set({ state: 'failed' }).where('id', '=', outboxId).execute();
    const cancelled = await node.fetchAs('practice-admin', `/api/outbox/${outboxId}/cancel`, { method: 'POST', json: {} });
    assert.equal(cancelled.status, 200);
    assert.equal((await odb(node.store.db).selectFrom('outbox_messages').select('state').where('id', '=', outboxId).executeTakeFirstOrThrow()).state, 'cancelled');
  });

  it('a delivery status after a final one is ignored unless a failed message was retried and reached Notify', async () => {
    const sent = await node.fetchAs('receptionist', `/api/messaging/patients/${ids.Ada}/messages`, { method: 'POST', json: { template: 'free-text', channel: 'sms', text: 'Second message' } });
    const { outboxId } = (await sent.json()) as { outboxId: string };
    await applyDeliveryStatus(node.store, node.store.practice, outboxId, 'failed', { error: 'refused' });
    await applyDeliveryStatus(node.store, node.store.practice, outboxId, 'sending');
    assert.equal((await mdb(node.store.db).selectFrom('messaging_deliveries').select('status').where('outbox_id', '=', outboxId).executeTakeFirstOrThrow()).status, 'failed', 'no Notify id: still failed');
  });
});
