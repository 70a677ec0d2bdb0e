/**
 * The outbox drainer against a real store (SQLite, and PostgreSQL where it runs): delivery through a
 * channel, backoff, permanent failure, limits counted from the table, two drainers racing, and the
 * crash between "sent" and "recorded" settled by reconcile instead of a second send. The last test runs
 * the whole node: a message queued through the messaging API reaches the local GOV.UK Notify server
 * once, by the drainer the node starts itself, and waits while Notify is down.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Patient } from '@medplum/fhirtypes';
import { backends, startTestNode, type TestNode } from '../testing/harness.ts';
import { DEFAULT_TEMPLATES as NOTIFY_TEMPLATES, DEMO_TEST_KEY, startFakeNotify, type FakeNotify } from '../messaging/fake-notify/server.ts';
import type { DeliveryResult, OutboxChannel, QueuedMessage } from './contract.ts';
import { createOutboxDrainer, retryDelayMs } from './drainer.ts';
import { enqueue } from './queue.ts';
import { odb } from './tables.ts';

/** A channel that records what it was given and answers from a script. */
function scripted(name: string, answers: Array<DeliveryResult | 'throw'> = [], extra: Partial<OutboxChannel> = {}) {
  const delivered: QueuedMessage[] = [];
  const settled: Array<{ id: string; outcome: string }> = [];
  const channel: OutboxChannel = {
    name,
    async deliver(message) {
      delivered.push(message);
      const answer = answers.shift() ?? { outcome: 'sent', providerRef: `ref-${delivered.length}` };
      if (answer === 'throw') throw new Error('socket hang up');
      return answer;
    },
    async settled(message, result) {
      settled.push({ id: message.id, outcome: result.outcome });
    },
    ...extra,
  };
  return { channel, delivered, settled };
}

for (const { backend, skip } of await backends()) {
  describe(`outbox drainer (${backend})`, { skip }, () => {
    let node: TestNode;
    let clock = new Date('2026-12-03T09:00:00Z');
    const now = () => clock;
    before(async () => {
      node = await startTestNode({ backend, config: { outbox: { disabled: true } } });
    });
    after(async () => node?.close());

    async function queue(channel: string, key: string, extra: { notBefore?: string } = {}) {
      return (await enqueue(node.store.db, node.store.practice, { channel, key, source: 'test', payload: { key }, ...extra }, clock)).id;
    }
    async function row(id: string) {
      return odb(node.store.db).selectFrom('outbox_messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    }

    it('delivers a due message once, with its id as the idempotency key and attempts counting this one', async () => {
      const { channel, delivered, settled } = scripted('t-once');
      const id = await queue('t-once', 'k1');
      const later = await queue('t-once', 'k2', { notBefore: '2026-12-04T09:00:00Z' });
      const drainer = createOutboxDrainer(node.store.db, node.store.practice, [channel], { now });
      const round = await drainer.drainAll();
      assert.equal(round.sent, 1);
      assert.equal(delivered.length, 1);
      assert.equal(delivered[0]!.idempotencyKey, id);
      assert.equal(delivered[0]!.attempts, 1);
      assert.deepEqual(delivered[0]!.payload, { key: 'k1' });
      const r = await row(id);
      assert.equal(r.state, 'sent');
      assert.equal(r.provider_ref, 'ref-1');
      assert.deepEqual(settled, [{ id, outcome: 'sent' }]);
      assert.equal((await row(later)).state, 'pending', 'not before its time');
      await drainer.drainAll();
      assert.equal(delivered.length, 1, 'a sent message is never delivered again');
    });

    it('retries an unreachable service with jittered backoff and honours retry-after, then sends', async () => {
      const { channel, delivered, settled } = scripted('t-retry', ['throw', { outcome: 'retry', error: '429 rate limit', retryAfterMs: 60 * 60_000 }]);
      const id = await queue('t-retry', 'k1');
      const drainer = createOutboxDrainer(node.store.db, node.store.practice, [channel], { now, random: () => 0 });
      assert.equal((await drainer.drainOnce()).retried, 1);
      let r = await row(id);
      assert.equal(r.state, 'pending');
      assert.match(r.last_error, /socket hang up/);
      assert.equal(Date.parse(r.next_attempt_at) - clock.getTime(), 2_500, 'half of 5 s with no jitter');
      assert.equal((await drainer.drainOnce()).retried, 0, 'not due yet');
      clock = new Date(clock.getTime() + 3_000);
      await drainer.drainOnce();
      r = await row(id);
      assert.equal(Date.parse(r.next_attempt_at) - clock.getTime(), 60 * 60_000, "the service's retry-after wins over a shorter backoff");
      clock = new Date(clock.getTime() + 60 * 60_000);
      await drainer.drainOnce();
      assert.equal((await row(id)).state, 'sent');
      assert.equal(delivered.length, 3);
      assert.deepEqual(delivered.map((d) => d.attempts), [1, 2, 3]);
      assert.equal(settled.length, 1, 'settled once, at the end');
    });

    it('backoff grows from 5 s to at most an hour and stays within its jitter band', () => {
      assert.equal(retryDelayMs(1, () => 1), 5_000);
      assert.equal(retryDelayMs(2, () => 0), 5_000);
      assert.equal(retryDelayMs(3, () => 1), 20_000);
      assert.equal(retryDelayMs(30, () => 1), 3_600_000);
      for (let i = 0; i < 100; i++) {
        const d = retryDelayMs(4);
        assert.ok(d >= 20_000 && d <= 40_000, `attempt 4 waits 20-40 s, got ${d}`);
      }
    });

    it('a permanent failure stops for a person and is settled as failed', async () => {
      const { channel, delivered, settled } = scripted('t-fail', [{ outcome: 'failed', error: 'GOV.UK Notify 400 BadRequestError: phone_number Not a UK mobile number' }]);
      const id = await queue('t-fail', 'k1');
      const drainer = createOutboxDrainer(node.store.db, node.store.practice, [channel], { now });
      assert.equal((await drainer.drainAll()).failed, 1);
      const r = await row(id);
      assert.equal(r.state, 'failed');
      assert.match(r.last_error, /Not a UK mobile number/);
      clock = new Date(clock.getTime() + 24 * 60 * 60_000);
      await drainer.drainAll();
      assert.equal(delivered.length, 1, 'never retried by itself');
      assert.deepEqual(settled, [{ id, outcome: 'failed' }]);
    });

    it('keeps to a per-minute limit counted from the table, across a restart of the drainer', async () => {
      const { channel, delivered } = scripted('t-limit', [], { limits: { perMinute: 3 } });
      for (let i = 0; i < 5; i++) await queue('t-limit', `k${i}`);
      const first = createOutboxDrainer(node.store.db, node.store.practice, [channel], { now });
      const round = await first.drainOnce();
      assert.equal(round.sent, 3);
      assert.equal(round.held, 2);
      const restarted = createOutboxDrainer(node.store.db, node.store.practice, [channel], { now });
      assert.equal((await restarted.drainOnce()).sent, 0, 'a new drainer counts what the last one sent');
      clock = new Date(clock.getTime() + 61_000);
      assert.equal((await restarted.drainOnce()).sent, 2);
      assert.equal(delivered.length, 5);
    });

    it('two drainers racing over the same table deliver each message once', async () => {
      const a = scripted('t-race');
      const b = scripted('t-race');
      for (let i = 0; i < 40; i++) await queue('t-race', `k${i}`);
      const one = createOutboxDrainer(node.store.db, node.store.practice, [a.channel], { now, concurrency: 4 });
      const two = createOutboxDrainer(node.store.db, node.store.practice, [b.channel], { now, concurrency: 4 });
      await Promise.all([one.drainAll(), two.drainAll()]);
      const ids = [...a.delivered, ...b.delivered].map((m) => m.id);
      assert.equal(ids.length, 40);
      assert.equal(new Set(ids).size, 40, 'no message delivered by both');
    });

    it('regression: a crash between "sent" and "recorded" is settled by reconcile, not a second send', async () => {
      const id = await queue('t-crash', 'k1');
      // The crashed attempt: claimed (sending, attempts 1), delivered, never recorded.
      await odb(node.store.db).updateTable('outbox_messages').set({ state: 'sending', attempts: 1, updated_at: clock.toISOString() }).where('id', '=', id).execute();
      const asked: QueuedMessage[] = [];
      const { channel, delivered } = scripted('t-crash', [], {
        async reconcile(message) {
          asked.push(message);
          return { outcome: 'sent', providerRef: 'found-by-reference' };
        },
      });
      const drainer = createOutboxDrainer(node.store.db, node.store.practice, [channel], { now, staleSendingMs: 60_000 });
      assert.equal((await drainer.drainOnce()).reconciled, 0, 'a send that may still be under way is left alone');
      clock = new Date(clock.getTime() + 61_000);
      assert.equal((await drainer.drainOnce()).reconciled, 1);
      assert.equal(asked.length, 1);
      assert.equal(asked[0]!.idempotencyKey, id);
      assert.equal(delivered.length, 0, 'the patient is not texted a second time');
      const r = await row(id);
      assert.equal(r.state, 'sent');
      assert.equal(r.provider_ref, 'found-by-reference');
    });

    it('a crashed attempt on a channel that cannot say is kept sending while unknown, and resent when the channel allows', async () => {
      const unsure = await queue('t-unsure', 'k1');
      const resend = await queue('t-resend', 'k1');
      for (const id of [unsure, resend]) await odb(node.store.db).updateTable('outbox_messages').set({ state: 'sending', attempts: 1, updated_at: clock.toISOString() }).where('id', '=', id).execute();
      const u = scripted('t-unsure', [], { reconcile: async () => ({ outcome: 'retry', error: 'could not ask' }) });
      const r = scripted('t-resend'); // no reconcile: the receiver de-duplicates (a laboratory by order number)
      clock = new Date(clock.getTime() + 10 * 60_000);
      const drainer = createOutboxDrainer(node.store.db, node.store.practice, [u.channel, r.channel], { now });
      await drainer.drainAll(3);
      assert.equal((await row(unsure)).state, 'sending');
      assert.equal(u.delivered.length, 0, 'never resent blind');
      assert.equal((await row(resend)).state, 'sent');
      assert.equal(r.delivered.length, 1);
      assert.equal(r.delivered[0]!.attempts, 2);
    });

    it('a message for a channel this node does not have waits, and shows in the backlog', async () => {
      const id = await queue('t-nowhere', 'k1');
      const drainer = createOutboxDrainer(node.store.db, node.store.practice, [scripted('t-other').channel], { now });
      await drainer.drainAll();
      assert.equal((await row(id)).state, 'pending');
      const backlog = (await (await node.fetchAs('receptionist', '/api/backlog')).json()) as { figures: Array<{ kind: string; count: number }> };
      assert.ok((backlog.figures.find((f) => f.kind === 'outbox-waiting')?.count ?? 0) >= 1);
    });
  });
}

describe('the node drains its outbox by itself (local GOV.UK Notify server)', () => {
  let fake: FakeNotify;
  let node: TestNode;
  let patientId: string;
  before(async () => {
    fake = await startFakeNotify({ deliveryDelayMs: 10 });
    node = await startTestNode({
      config: {
        outbox: { intervalMs: 50 },
        messaging: { practiceName: 'Test Surgery', notify: { baseUrl: fake.url, apiKey: DEMO_TEST_KEY, templates: { sms: NOTIFY_TEMPLATES[0]!.id, email: NOTIFY_TEMPLATES[1]!.id } } },
      },
    });
    const [created] = await node.store.write(
      [{ kind: 'create', resource: { resourceType: 'Patient', name: [{ given: ['Sam'], family: 'Testpatient' }], birthDate: '1975-05-05' } satisfies Patient }],
      { author: 'test' },
    );
    patientId = created!.resource!.id!;
    await node.fetchAs('receptionist', `/api/messaging/patients/${patientId}/contact`, { method: 'PUT', json: { mobile: '07700 900222', smsConsent: true } });
  });
  after(async () => {
    await node?.close();
    await fake?.stop();
  });

  async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const v = await fn();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  async function status(): Promise<Array<{ name: string; label: string; state: string; queued?: number }>> {
    const res = await node.fetchAs('receptionist', '/api/status');
    const body = (await res.json()) as { services: Array<{ name: string; label: string; state: string; queued?: number }> };
    return body.services;
  }

  it('a text queued through the API reaches Notify once; while Notify is down it waits and the status bar says so', async () => {
    const send = await node.fetchAs('receptionist', `/api/messaging/patients/${patientId}/messages`, { method: 'POST', json: { template: 'free-text', channel: 'sms', text: 'The surgery is open as usual' } });
    assert.equal(send.status, 201);
    const { outboxId } = (await send.json()) as { outboxId: string };
    await until('sent to Notify', () => (fake.byReference(outboxId).length === 1 ? true : undefined));

    fake.cutOff();
    const down = await node.fetchAs('receptionist', `/api/messaging/patients/${patientId}/messages`, { method: 'POST', json: { template: 'free-text', channel: 'sms', text: 'Your appointment is confirmed' } });
    const { outboxId: waiting } = (await down.json()) as { outboxId: string };
    const notify = await until('status shows Notify down', async () => (await status()).find((s) => s.label === 'GOV.UK Notify' && s.state === 'disconnected'));
    assert.ok((notify.queued ?? 0) >= 1);
    const row = await odb(node.store.db).selectFrom('outbox_messages').selectAll().where('id', '=', waiting).executeTakeFirstOrThrow();
    assert.equal(row.state, 'pending');
    // Bring it due now rather than waiting out the backoff.
    fake.restore();
    await odb(node.store.db).updateTable('outbox_messages').set({ next_attempt_at: new Date().toISOString() }).where('id', '=', waiting).execute();
    await until('drained after Notify returns', () => (fake.byReference(waiting).length === 1 ? true : undefined));
    await until('status shows Notify connected', async () => (await status()).find((s) => s.label === 'GOV.UK Notify' && s.state === 'connected'));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(fake.byReference(outboxId).length, 1, 'still one text for the first message');
    assert.equal(fake.byReference(waiting).length, 1, 'one text for the second');
  });
});
