/**
 * A network cut of hours, in simulated time: messages queued while GOV.UK Notify cannot be reached
 * wait (backoff capped at an hour, so a six-hour cut costs each message a handful of attempts, not
 * thousands), the status bar says why, and when the network comes back the drainer's own timer sends
 * every one of them, each exactly once, with nobody pressing anything.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Patient } from '@medplum/fhirtypes';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import { DEFAULT_TEMPLATES as NOTIFY_TEMPLATES, DEMO_TEST_KEY, startFakeNotify, type FakeNotify } from '../messaging/fake-notify/server.ts';
import { messaging } from '../messaging/index.ts';
import { queuePatientMessage } from '../messaging/send.ts';
import { createOutboxDrainer } from './drainer.ts';
import { odb } from './tables.ts';

const HOUR = 60 * 60_000;

describe('outbox: a network cut of hours drains by itself afterwards', () => {
  let fake: FakeNotify;
  let node: TestNode;
  before(async () => {
    fake = await startFakeNotify({ deliveryDelayMs: 5 });
    node = await startTestNode({ config: { outbox: { disabled: true }, messaging: { practiceName: 'Test Surgery', notify: { baseUrl: fake.url, apiKey: DEMO_TEST_KEY, templates: { sms: NOTIFY_TEMPLATES[0]!.id } } } } });
  });
  after(async () => {
    await node?.close();
    await fake?.stop();
  });

  it('six hours cut: messages wait with capped backoff, then the running drainer sends each once', async () => {
    const [p] = await node.store.write([{ kind: 'create', resource: { resourceType: 'Patient', name: [{ given: ['Pat'], family: 'Outage' }], birthDate: '1990-01-01', telecom: [{ system: 'phone', use: 'mobile', value: '07700900555' }], extension: [] } satisfies Patient }], { author: 'test' });
    await node.fetchAs('receptionist', `/api/messaging/patients/${p!.resource!.id}/contact`, { method: 'PUT', json: { mobile: '07700 900555', smsConsent: true } });
    fake.cutOff();
    let clock = Date.now();
    const drainer = createOutboxDrainer(node.store.db, node.store.practice, messaging.outboxChannels!(node.deps), { now: () => new Date(clock), intervalMs: 10 });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const q = await node.store.transaction({ author: 'test' }, (tx) => queuePatientMessage(tx, node.store.practice, { patientId: p!.resource!.id!, template: 'free-text', channel: 'sms', values: { text: `Surgery closed ${i}` }, key: `outage:${i}`, category: 'free-text', practiceName: 'Test Surgery' }));
      ids.push(q.outboxId);
    }
    // Six hours of the cut, a round every ten simulated minutes.
    for (let t = 0; t < 6 * HOUR; t += 10 * 60_000) {
      clock += 10 * 60_000;
      await drainer.drainOnce();
    }
    const waiting = await odb(node.store.db).selectFrom('outbox_messages').selectAll().where('id', 'in', ids).execute();
    assert.ok(waiting.every((r) => r.state === 'pending'), 'all still waiting, none given up');
    assert.ok(waiting.every((r) => /could not be reached/.test(r.last_error)), 'each says why');
    const attempts = waiting.map((r) => r.attempts);
    assert.ok(Math.max(...attempts) <= 20, `backoff keeps attempts few over six hours (most ${Math.max(...attempts)})`);
    assert.ok(Math.min(...attempts) >= 5, `but it keeps trying (fewest ${Math.min(...attempts)})`);
    assert.equal(fake.notifications.size, 0);
    assert.equal(drainer.health().get('notify-sms')?.lastOutcome, 'retry');

    fake.restore();
    drainer.start();
    clock += HOUR + 60_000; // past the longest backoff
    for (let i = 0; i < 400 && ids.some((id) => fake.byReference(id).length === 0); i++) await new Promise((r) => setTimeout(r, 25));
    await drainer.stop();
    for (const id of ids) assert.equal(fake.byReference(id).length, 1, `message ${id} sent exactly once after the cut`);
    const sent = await odb(node.store.db).selectFrom('outbox_messages').select('state').where('id', 'in', ids).execute();
    assert.ok(sent.every((r) => r.state === 'sent'));
  });
});
