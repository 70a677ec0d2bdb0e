/**
 * Messaging (issue 10): how fast the one outbox drains to GOV.UK Notify (the local Notify server,
 * real HTTP, the production channel through notifications-node-client) against the same requests sent
 * straight from the client library with no outbox, in the same run. The broadcast has its own
 * benchmark (messaging-broadcast.bench.ts). Size: BENCH_MSG_DRAIN (default 1000 messages).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Patient } from '@medplum/fhirtypes';
import notifyClient from 'notifications-node-client';
import { withContactPreferences } from '../packages/domain/src/contact.ts';
import { appDepsOf, openNode } from '../packages/server/src/node/open.ts';
import { notifyChannels } from '../packages/server/src/messaging/channels.ts';
import { DEFAULT_TEMPLATES, DEMO_TEST_KEY, startFakeNotify } from '../packages/server/src/messaging/fake-notify/server.ts';
import { queuePatientMessage } from '../packages/server/src/messaging/send.ts';
import { createOutboxDrainer } from '../packages/server/src/outbox/drainer.ts';
import { round, type BenchResult } from './types.ts';

const DRAIN = Number(process.env.BENCH_MSG_DRAIN ?? 1000);
const CONCURRENCY = 8;
const SMS_TEMPLATE = DEFAULT_TEMPLATES[0]!.id;

const patient = (i: number): Patient =>
  withContactPreferences({ resourceType: 'Patient', id: `bp${i}`, name: [{ given: [`Given${i}`], family: `Family${i % 400}` }], birthDate: '1970-01-01' }, { mobile: `07700 9${String(i % 100000).padStart(5, '0')}`, smsConsent: true });

export async function run(): Promise<BenchResult[]> {
  const fake = await startFakeNotify({ deliveryDelayMs: 60_000, perMinute: 10_000_000, perDay: 10_000_000 });
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-bench-msg-'));
  const node = await openNode({ dataDir: dir });
  const connection = { baseUrl: fake.url, apiKey: DEMO_TEST_KEY, templates: { sms: SMS_TEMPLATE } };
  const config = { messaging: { practiceName: 'Bench Surgery', notify: connection }, outbox: { disabled: true } };
  const deps = appDepsOf(node, config);
  const results: BenchResult[] = [];
  try {
    // ---- drain rate: the outbox against the bare client, same messages, same server ----------------
    const people = DRAIN;
    for (let i = 0; i < people; i += 500) {
      await node.store.write(Array.from({ length: Math.min(500, people - i) }, (_, j) => ({ kind: 'update' as const, resource: patient(i + j) })), { author: 'system:bench' });
    }
    for (let i = 0; i < DRAIN; i += 200) {
      await node.store.transaction({ author: 'system:bench' }, async (tx) => {
        for (let j = i; j < Math.min(DRAIN, i + 200); j++) {
          await queuePatientMessage(tx, node.store.practice, { patientId: `bp${j}`, template: 'free-text', channel: 'sms', values: { text: `Bench message ${j}` }, key: `bench:${j}`, category: 'free-text', practiceName: 'Bench Surgery' });
        }
      });
    }
    const drainer = createOutboxDrainer(node.store.db, node.store.practice, notifyChannels(deps, connection), { concurrency: CONCURRENCY, batch: 500 });
    let t0 = performance.now();
    const drained = await drainer.drainAll();
    const outboxMs = performance.now() - t0;
    if (drained.sent !== DRAIN) throw new Error(`drained ${drained.sent} of ${DRAIN}`);

    const client = new notifyClient.NotifyClient(fake.url, DEMO_TEST_KEY);
    let next = 0;
    t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < DRAIN) {
          const i = next++;
          await client.sendSms(SMS_TEMPLATE, `07700 9${String(i).padStart(5, '0')}`, { personalisation: { body: `Bench message ${i}` }, reference: `bare-${i}` });
        }
      }),
    );
    const bareMs = performance.now() - t0;
    const outboxRate = round(DRAIN / (outboxMs / 1000), 0);
    const bareRate = round(DRAIN / (bareMs / 1000), 0);
    results.push({
      name: `outbox drain to the local Notify server (${DRAIN} texts, ${CONCURRENCY} in flight)`,
      value: outboxRate,
      unit: 'messages/s',
      baseline: { name: 'the same sends from notifications-node-client, no outbox', value: bareRate },
      ratio: round(outboxRate / bareRate),
      target: `Notify's limit is 3,000/min = 50/s: ${outboxRate >= 50 ? 'met' : 'NOT met'}`,
      note: 'ratio = outbox rate / bare rate; the outbox claims, records and updates each Communication in the record',
    });

  } finally {
    await node.close();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
