/**
 * Messaging (issue 10): how fast the one outbox drains to GOV.UK Notify (the local Notify server,
 * real HTTP, the production channel through notifications-node-client) against the same requests sent
 * straight from the client library with no outbox, in the same run; and the time to queue a service
 * disruption broadcast to 10,000 booked patients (target under 10 s) while a FHIR read's latency is
 * measured against the same read on the idle node before it.
 * Sizes: BENCH_MSG_DRAIN (default 1000 messages), BENCH_MSG_BROADCAST (default 10000 patients).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Appointment, Patient } from '@medplum/fhirtypes';
import notifyClient from 'notifications-node-client';
import { withContactPreferences } from '../packages/domain/src/contact.ts';
import { buildApp } from '../packages/server/src/app.ts';
import { appDepsOf, openNode } from '../packages/server/src/node/open.ts';
import { notifyChannels } from '../packages/server/src/messaging/channels.ts';
import { DEFAULT_TEMPLATES, DEMO_TEST_KEY, startFakeNotify } from '../packages/server/src/messaging/fake-notify/server.ts';
import { queuePatientMessage } from '../packages/server/src/messaging/send.ts';
import { createOutboxDrainer } from '../packages/server/src/outbox/drainer.ts';
import { enqueue } from '../packages/server/src/outbox/queue.ts';
import { percentile, round, type BenchResult } from './types.ts';

const DRAIN = Number(process.env.BENCH_MSG_DRAIN ?? 1000);
const BROADCAST = Number(process.env.BENCH_MSG_BROADCAST ?? 10_000);
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
    const people = Math.max(BROADCAST, DRAIN);
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

    // ---- broadcast to 10,000 booked patients, with a read's latency measured meanwhile -------------
    const day = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
    for (let i = 0; i < BROADCAST; i += 500) {
      const batch: Appointment[] = Array.from({ length: Math.min(500, BROADCAST - i) }, (_, j) => {
        const n = i + j;
        const start = new Date(Date.parse(`${day}T08:00:00Z`) + (n % 600) * 60_000).toISOString();
        return { resourceType: 'Appointment', id: `ba${n}`, status: 'booked', start, end: new Date(Date.parse(start) + 600_000).toISOString(), participant: [{ actor: { reference: `Patient/bp${n}` }, status: 'accepted' }] };
      });
      await node.store.write(batch.map((resource) => ({ kind: 'update' as const, resource })), { author: 'system:bench' });
    }
    const admin = await node.accounts.addUser({ username: 'bench-admin', password: 'bench bench bench', role: 'practice-admin', name: 'Bench Admin' });
    const { token } = await node.accounts.createSession(admin.id, 'bench', 'api');
    const reader = await node.accounts.addUser({ username: 'bench-gp', password: 'bench bench bench', role: 'clinician', name: 'Bench GP' });
    const readToken = (await node.accounts.createSession(reader.id, 'bench', 'api')).token;
    const app = await buildApp(appDepsOf(node, config));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const read = async () => {
      const s = performance.now();
      const res = await fetch(`${url}/fhir/R4/Patient/bp${Math.floor(Math.random() * BROADCAST)}`, { headers: { authorization: `Bearer ${readToken}`, 'x-steadfast-workstation': 'bench' } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`read answered ${res.status}`);
      return performance.now() - s;
    };
    const idle: number[] = [];
    for (let i = 0; i < 100; i++) idle.push(await read());

    const busy: number[] = [];
    let probing = true;
    const probe = (async () => {
      while (probing) {
        busy.push(await read());
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    t0 = performance.now();
    const started = await fetch(`${url}/api/messaging/broadcasts`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-steadfast-workstation': 'bench' }, body: JSON.stringify({ from: day, to: day, reason: 'The surgery is closed for a power cut' }) });
    const { id } = (await started.json()) as { id: string };
    let state = 'queuing';
    let queued = 0;
    while (state === 'queuing') {
      await new Promise((r) => setTimeout(r, 100));
      const b = (await (await fetch(`${url}/api/messaging/broadcasts/${id}`, { headers: { authorization: `Bearer ${token}`, 'x-steadfast-workstation': 'bench' } })).json()) as { state: string; queued: number };
      state = b.state;
      queued = b.queued;
    }
    const broadcastMs = performance.now() - t0;
    probing = false;
    await probe;
    if (state !== 'queued' || queued !== BROADCAST) throw new Error(`broadcast ended ${state} with ${queued} of ${BROADCAST} queued`);

    // Same run baseline: the bare outbox rows alone (no Communication, no checks), same batch size.
    t0 = performance.now();
    for (let i = 0; i < BROADCAST; i += 200) {
      await node.store.transaction({ author: 'system:bench' }, async (tx) => {
        for (let j = i; j < Math.min(BROADCAST, i + 200); j++) await enqueue(tx.db, node.store.practice, { channel: 'notify-sms', key: `bare-broadcast:${j}`, source: 'bench', payload: { to: '07700900000', body: 'x' } });
      });
    }
    const bareQueueMs = performance.now() - t0;
    await app.close();
    results.push({
      name: `queue a broadcast to ${BROADCAST.toLocaleString('en-GB')} booked patients (API to "queued")`,
      value: round(broadcastMs / 1000, 1),
      unit: 's',
      baseline: { name: 'the same number of bare outbox rows, no Communication or checks', value: round(bareQueueMs / 1000, 1) },
      ratio: round(broadcastMs / bareQueueMs),
      target: `< 10 s: ${broadcastMs < 10_000 ? 'met' : 'NOT met'}`,
      note: 'each message: patient and preferences read, template rendered, Communication written to the record, outbox and delivery rows',
    });
    const idleP95 = round(percentile(idle, 95), 1);
    const busyP95 = round(percentile(busy, 95), 1);
    results.push({
      name: `FHIR read p95 while the broadcast queues (${busy.length} reads)`,
      value: busyP95,
      unit: 'ms',
      baseline: { name: 'the same read on the idle node', value: idleP95 },
      ratio: round(busyP95 / idleP95),
      note: `max ${round(Math.max(...busy), 1)} ms while queuing; the broadcast yields between batches of 100`,
    });
  } finally {
    await node.close();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
