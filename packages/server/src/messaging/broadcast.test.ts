/**
 * Service disruption broadcast over HTTP: every patient booked in the range is queued once (a
 * patient with two appointments gets one text), those who cannot be texted are skipped and counted,
 * each message has its Communication in the record, and stopping cancels what has not gone.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Appointment, Communication, Patient } from '@medplum/fhirtypes';
import type { Broadcast } from '@steadfast/domain/api';
import { withContactPreferences } from '@steadfast/domain';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import { odb } from '../outbox/tables.ts';
import { DEFAULT_TEMPLATES as NOTIFY_TEMPLATES, DEMO_TEST_KEY } from './fake-notify/server.ts';
import { runBroadcast, startBroadcast, stopBroadcast } from './broadcast.ts';
import { recordPending } from './record.ts';
import { mdb } from './tables.ts';

describe('service disruption broadcast', () => {
  let node: TestNode;
  const day = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
  before(async () => {
    node = await startTestNode({ config: { outbox: { disabled: true }, messaging: { practiceName: 'Test Surgery', notify: { baseUrl: 'http://127.0.0.1:9', apiKey: DEMO_TEST_KEY, templates: { sms: NOTIFY_TEMPLATES[0]!.id } } } } });
    const people: Patient[] = [
      withContactPreferences({ resourceType: 'Patient', id: 'bc1', name: [{ given: ['Ann'], family: 'One' }] }, { mobile: '07700 900601', smsConsent: true }),
      withContactPreferences({ resourceType: 'Patient', id: 'bc2', name: [{ given: ['Ben'], family: 'Two' }] }, { mobile: '07700 900602', smsConsent: true }),
      { resourceType: 'Patient', id: 'bc3', name: [{ given: ['Cat'], family: 'Nophone' }] },
    ];
    await node.store.write(people.map((resource) => ({ kind: 'update' as const, resource })), { author: 'test' });
    const appts: Appointment[] = ['bc1', 'bc1', 'bc2', 'bc3'].map((p, i) => ({ resourceType: 'Appointment', id: `bca${i}`, status: 'booked', start: `${day}T${String(8 + i).padStart(2, "0")}:00:00Z`, end: `${day}T${String(8 + i).padStart(2, "0")}:10:00Z`, participant: [{ actor: { reference: `Patient/${p}` }, status: 'accepted' }] }));
    await node.store.write(appts.map((resource) => ({ kind: 'update' as const, resource })), { author: 'test' });
  });
  after(async () => node?.close());

  it('queues one text per booked patient, skips who cannot be texted, and stopping cancels what waits', async () => {
    const res = await node.fetchAs('practice-admin', '/api/messaging/broadcasts', { method: 'POST', json: { from: day, to: day, reason: 'The surgery is closed for a power cut' } });
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = (await res.json()) as Broadcast;
    let b: Broadcast | undefined;
    for (let i = 0; i < 200; i++) {
      b = (await (await node.fetchAs('practice-admin', `/api/messaging/broadcasts/${id}`)).json()) as Broadcast;
      if (b.state !== 'queuing') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(b!.state, 'queued', b!.error);
    await recordPending(node.store); // the Communications follow the queuing in the background
    assert.equal(b!.patients, 3);
    assert.equal(b!.queued, 2, 'Ann (two appointments) once, Ben once');
    assert.equal(b!.skipped, 1, 'Cat has no mobile');
    const rows = await odb(node.store.db).selectFrom('outbox_messages').selectAll().where('message_key', 'like', `broadcast:${id}:%`).execute();
    assert.equal(rows.length, 2);
    for (const r of rows) {
      const d = await mdb(node.store.db).selectFrom('messaging_deliveries').selectAll().where('outbox_id', '=', r.id).executeTakeFirstOrThrow();
      const comm = (await node.store.read('Communication', d.communication_id))!.resource as Communication;
      assert.match(comm.payload![0]!.contentString!, /^Test Surgery: The surgery is closed for a power cut\. Your appointment on /);
    }
    const stopped = (await (await node.fetchAs('practice-admin', `/api/messaging/broadcasts/${id}/stop`, { method: 'POST' })).json()) as Broadcast & { cancelled: number };
    assert.equal(stopped.state, 'stopped');
    assert.equal(stopped.cancelled, 2);
  });
});

describe('service disruption broadcast stopped part-way', () => {
  let node: TestNode;
  const day = new Date(Date.now() + 4 * 86_400_000).toISOString().slice(0, 10);
  const N = 400; // two batches
  before(async () => {
    node = await startTestNode({ config: { outbox: { disabled: true }, messaging: { practiceName: 'Test Surgery' } } });
    const people: Patient[] = Array.from({ length: N }, (_, i) => withContactPreferences({ resourceType: 'Patient', id: `bs${i}`, name: [{ given: [`Pat${i}`], family: 'Stopped' }] }, { mobile: `07700 9${String(i).padStart(5, '0')}`, smsConsent: true }));
    await node.store.write(people.map((resource) => ({ kind: 'update' as const, resource })), { author: 'test' });
    const appts: Appointment[] = people.map((p, i) => ({ resourceType: 'Appointment', id: `bsa${i}`, status: 'booked', start: `${day}T10:00:00Z`, end: `${day}T10:10:00Z`, participant: [{ actor: { reference: `Patient/${p.id}` }, status: 'accepted' }] }));
    await node.store.write(appts.map((resource) => ({ kind: 'update' as const, resource })), { author: 'test' });
  });
  after(async () => node?.close());

  it('stopped after its first batch: nothing more is queued, what was queued is cancelled, and the record says stopped', async () => {
    const { row } = await startBroadcast(node.store, { from: day, to: day, reason: 'The surgery is closed for a flood' }, { id: 'test', name: 'Test Manager' });
    let cancelled = -1;
    await runBroadcast(node.store, row.id, 'Test Surgery', async () => {
      if (cancelled < 0) cancelled = await stopBroadcast(node.store, row.id);
    });
    const b = await mdb(node.store.db).selectFrom('messaging_broadcasts').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
    assert.equal(b.state, 'stopped');
    assert.ok(b.queued > 0 && b.queued < N, `stopped part-way (queued ${b.queued} of ${N})`);
    assert.equal(cancelled, b.queued, 'every message queued before the stop was cancelled');
    const rows = await odb(node.store.db).selectFrom('outbox_messages').select('state').where('message_key', 'like', `broadcast:${row.id}:%`).execute();
    assert.equal(rows.length, b.queued, 'nothing queued after the stop');
    assert.deepEqual([...new Set(rows.map((r) => r.state))], ['cancelled']);
    await recordPending(node.store);
    const deliveries = await mdb(node.store.db).selectFrom('messaging_deliveries').selectAll().where('category', '=', 'service-disruption').where('patient_id', 'like', 'bs%').execute();
    assert.equal(deliveries.length, b.queued);
    for (const d of deliveries.slice(0, 20)) {
      assert.equal(d.pending_record, null);
      const comm = (await node.store.read('Communication', d.communication_id))!.resource as Communication;
      assert.equal(comm.status, 'stopped', 'the record shows the message was stopped, not sent');
    }
  });
});
