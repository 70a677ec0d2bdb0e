/**
 * Messaging end to end over real HTTP: the staff API queues a message (Communication + outbox row in
 * one transaction), the production Notify channel (notifications-node-client) sends it to the local
 * Notify server, the server's delivery receipt comes back to the callback route and the Communication
 * ends delivered. Bad input and Notify's error answers are checked on the way.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Communication, Patient, Task } from '@medplum/fhirtypes';
import { DELIVERY_STATUS_EXTENSION } from '@steadfast/domain/systems';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import type { OutboxChannel, QueuedMessage } from '../outbox/contract.ts';
import { odb } from '../outbox/tables.ts';
import { DEFAULT_TEMPLATES as NOTIFY_TEMPLATES, DEMO_TEST_KEY, startFakeNotify, type FakeNotify } from './fake-notify/server.ts';
import { messaging } from './index.ts';
import { mdb } from './tables.ts';

const TOKEN = 'callback-token-for-tests-0123456789';

describe('messaging through the local GOV.UK Notify server', () => {
  let fake: FakeNotify;
  let node: TestNode;
  let channels: Map<string, OutboxChannel>;
  let patientId: string;

  before(async () => {
    fake = await startFakeNotify({ deliveryDelayMs: 10 });
    node = await startTestNode({
      config: { outbox: { disabled: true }, messaging: { practiceName: 'Test Surgery', notify: { baseUrl: fake.url, apiKey: DEMO_TEST_KEY, templates: { sms: NOTIFY_TEMPLATES[0]!.id, email: NOTIFY_TEMPLATES[1]!.id }, callbackToken: TOKEN } } },
    });
    fake.setCallback(`${node.url}/api/messaging/notify/callback`, TOKEN);
    channels = new Map(messaging.outboxChannels!(node.deps).map((c) => [c.name, c]));
    const [created] = await node.store.write(
      [{ kind: 'create', resource: { resourceType: 'Patient', name: [{ given: ['Alex'], family: 'Testpatient' }], birthDate: '1980-01-01' } satisfies Patient }],
      { author: 'test' },
    );
    patientId = created!.resource!.id!;
  });
  after(async () => {
    await node?.close();
    await fake?.stop();
  });

  async function queued(outboxId: string): Promise<QueuedMessage> {
    const row = await odb(node.store.db).selectFrom('outbox_messages').selectAll().where('id', '=', outboxId).executeTakeFirstOrThrow();
    return { id: row.id, practice: row.practice, channel: row.channel, key: row.message_key, source: row.source, payload: JSON.parse(row.payload), about: row.about, idempotencyKey: row.id, attempts: row.attempts + 1, createdAt: row.created_at };
  }

  async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
    for (let i = 0; i < 200; i++) {
      const v = await fn();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it('refuses an invalid mobile number with the field named and writes nothing', async () => {
    const res = await node.fetchAs('receptionist', `/api/messaging/patients/${patientId}/contact`, { method: 'PUT', json: { mobile: '01632 960001', smsConsent: true } });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { issue: Array<{ expression?: string[]; diagnostics?: string }> };
    assert.match(JSON.stringify(body), /mobile/);
    const contact = await (await node.fetchAs('receptionist', `/api/messaging/patients/${patientId}/contact`)).json();
    assert.equal((contact as { mobile?: string }).mobile, undefined);
  });

  it('refuses an invalid email address', async () => {
    const res = await node.fetchAs('receptionist', `/api/messaging/patients/${patientId}/contact`, { method: 'PUT', json: { email: 'alex@example' } });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /email/);
  });

  it('will not text a patient without consent, and queues nothing', async () => {
    await node.fetchAs('receptionist', `/api/messaging/patients/${patientId}/contact`, { method: 'PUT', json: { mobile: '07700 900111', smsConsent: false } });
    const res = await node.fetchAs('receptionist', `/api/messaging/patients/${patientId}/messages`, { method: 'POST', json: { template: 'free-text', channel: 'sms', text: 'Please call us' } });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /not agreed to text messages/);
    assert.equal((await odb(node.store.db).selectFrom('outbox_messages').select('id').execute()).length, 0);
  });

  it('refuses a text over 918 characters and free text with a link', async () => {
    await node.fetchAs('receptionist', `/api/messaging/patients/${patientId}/contact`, { method: 'PUT', json: { smsConsent: true } });
    const long = await node.fetchAs('receptionist', `/api/messaging/patients/${patientId}/messages`, { method: 'POST', json: { template: 'free-text', text: 'x'.repeat(950) } });
    assert.equal(long.status, 400);
    assert.match(await long.text(), /918/);
    const link = await node.fetchAs('receptionist', `/api/messaging/patients/${patientId}/messages`, { method: 'POST', json: { template: 'free-text', text: 'Pay at https://evil.example' } });
    assert.equal(link.status, 400);
    assert.match(await link.text(), /links/);
  });

  it('sends a results message to Notify with the outbox id as reference; the receipt marks it delivered', async () => {
    const res = await node.fetchAs('clinician', `/api/messaging/patients/${patientId}/messages`, { method: 'POST', json: { template: 'result-normal', key: 'result-press-0001' } });
    assert.equal(res.status, 201);
    const { outboxId, communicationId } = (await res.json()) as { outboxId: string; communicationId: string };
    const again = await node.fetchAs('clinician', `/api/messaging/patients/${patientId}/messages`, { method: 'POST', json: { template: 'result-normal', key: 'result-press-0001' } });
    assert.equal(again.status, 200, 'the same press of Send queued twice is one message');

    const result = await channels.get('notify-sms')!.deliver(await queued(outboxId));
    assert.equal(result.outcome, 'sent');
    const sent = fake.byReference(outboxId);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.to, '07700900111');
    assert.match(sent[0]!.body, /^Dear Alex, your recent test results .* Test Surgery$/);

    const comm = await until('delivered', async () => {
      const c = (await node.store.read('Communication', communicationId))?.resource as Communication;
      return c.status === 'completed' ? c : undefined;
    });
    assert.equal(comm.extension?.find((e) => e.url === DELIVERY_STATUS_EXTENSION)?.valueCode, 'delivered');
    const messages = (await (await node.fetchAs('clinician', `/api/messaging/patients/${patientId}/messages`)).json()) as Array<{ status: string }>;
    assert.equal(messages[0]!.status, 'delivered');
  });

  it('a second attempt after a lost answer finds the notification by reference instead of texting again', async () => {
    const res = await node.fetchAs('receptionist', `/api/messaging/patients/${patientId}/messages`, { method: 'POST', json: { template: 'free-text', text: 'Your prescription is ready' } });
    const { outboxId } = (await res.json()) as { outboxId: string };
    const first = await queued(outboxId);
    assert.equal((await channels.get('notify-sms')!.deliver(first)).outcome, 'sent');
    const reconciled = await channels.get('notify-sms')!.reconcile!(first);
    assert.equal(reconciled?.outcome, 'sent');
    const retried = await channels.get('notify-sms')!.deliver({ ...first, attempts: 2 });
    assert.equal(retried.outcome, 'sent');
    assert.equal(fake.byReference(outboxId).length, 1, 'one text, not two');
  });

  it('retries 429 and 500 and an unreachable Notify; stops at 400 and 403 with Notify’s words', async () => {
    const res = await node.fetchAs('receptionist', `/api/messaging/patients/${patientId}/messages`, { method: 'POST', json: { template: 'free-text', text: 'Flu clinic on Saturday' } });
    const message = await queued(((await res.json()) as { outboxId: string }).outboxId);
    const sms = channels.get('notify-sms')!;
    fake.failNext(1, 429);
    assert.equal((await sms.deliver(message)).outcome, 'retry');
    fake.failNext(1, 500);
    assert.equal((await sms.deliver(message)).outcome, 'retry');
    fake.cutOff();
    const cut = await sms.deliver(message);
    fake.restore();
    assert.equal(cut.outcome, 'retry');
    fake.failNext(1, 403, 'AuthError', 'Invalid token: service archived');
    const forbidden = await sms.deliver(message);
    assert.deepEqual(forbidden, { outcome: 'failed', error: 'GOV.UK Notify 403 AuthError: Invalid token: service archived' });
    fake.failNext(1, 400, 'BadRequestError', 'Missing personalisation: body');
    const bad = await sms.deliver(message);
    assert.equal(bad.outcome, 'failed');
    await sms.settled!(message, bad);
    const row = await mdb(node.store.db).selectFrom('messaging_deliveries').selectAll().where('outbox_id', '=', message.id).executeTakeFirstOrThrow();
    assert.equal(row.status, 'failed');
    assert.match(row.error, /Missing personalisation/);
    const tasks = (await node.store.search({ resourceType: 'Task', params: [{ name: 'focus', values: [`Communication/${row.communication_id}`] }], count: 5, offset: 0 })).resources as Task[];
    assert.equal(tasks.length, 1, 'a message that failed becomes a task for reception');
  });

  it('refuses a callback with a bad token or an unknown notification id', async () => {
    const bad = await fetch(`${node.url}/api/messaging/notify/callback`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' }, body: JSON.stringify({ id: '00000000-0000-4000-8000-000000000000', status: 'delivered' }) });
    assert.equal(bad.status, 403);
    const unknown = await fetch(`${node.url}/api/messaging/notify/callback`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ id: '00000000-0000-4000-8000-000000000000', reference: 'not-ours', status: 'delivered' }) });
    assert.equal(unknown.status, 404);
  });

  it('a permanent failure from a test number becomes a task, and patient replies are fetched for staff', async () => {
    await node.fetchAs('receptionist', `/api/messaging/patients/${patientId}/contact`, { method: 'PUT', json: { mobile: '07700900002' } });
    const res = await node.fetchAs('receptionist', `/api/messaging/patients/${patientId}/messages`, { method: 'POST', json: { template: 'free-text', text: 'Please call the surgery' } });
    const { outboxId } = (await res.json()) as { outboxId: string };
    assert.equal((await channels.get('notify-sms')!.deliver(await queued(outboxId))).outcome, 'sent');
    await until('permanent failure', async () => {
      const row = await mdb(node.store.db).selectFrom('messaging_deliveries').select('status').where('outbox_id', '=', outboxId).executeTakeFirst();
      return row?.status === 'permanent-failure' ? row : undefined;
    });
    fake.receiveText('07700900002', 'Yes I can come on Tuesday');
    const { fetchReplies } = await import('./replies.ts');
    const { notifyClientOf } = await import('./channels.ts');
    assert.equal(await fetchReplies(node.store, notifyClientOf(node.deps.config.messaging!.notify!)), 1);
    assert.equal(await fetchReplies(node.store, notifyClientOf(node.deps.config.messaging!.notify!)), 0, 'fetched again, still one');
    const replies = (await (await node.fetchAs('receptionist', '/api/messaging/replies')).json()) as Array<{ message: string; patient?: { id: string } }>;
    assert.equal(replies[0]!.message, 'Yes I can come on Tuesday');
    assert.equal(replies[0]!.patient?.id, patientId);
    const figures = await messaging.backlog!(node.deps);
    assert.equal(figures.find((f) => f.kind === 'replies-unread')?.count, 1);
  });
});
