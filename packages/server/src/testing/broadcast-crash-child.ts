/**
 * A node process for the broadcast crash test (messaging/broadcast-crash.test.ts).
 *
 *   node --import tsx broadcast-crash-child.ts <dataDir> <notifyUrl> start <patients> <day>
 *       seeds the patients, each booked once on <day>, starts a broadcast and prints `BATCH <n>`
 *       after each committed batch (the test kills it with SIGKILL after the second)
 *   node --import tsx broadcast-crash-child.ts <dataDir> <notifyUrl> recover
 *       what a restarted node does (resume broadcasts left queuing, record their Communications),
 *       then drains the outbox to the local Notify server and prints `RESULT <json>`
 */
import type { Appointment, Patient } from '@medplum/fhirtypes';
import { withContactPreferences } from '@steadfast/domain';
import { appDepsOf, openNode } from '../node/open.ts';
import { runBroadcast, resumeBroadcasts, startBroadcast } from '../messaging/broadcast.ts';
import { notifyChannels } from '../messaging/channels.ts';
import { DEFAULT_TEMPLATES, DEMO_TEST_KEY } from '../messaging/fake-notify/server.ts';
import { recordPending } from '../messaging/record.ts';
import { mdb } from '../messaging/tables.ts';
import { createOutboxDrainer } from '../outbox/drainer.ts';

const [dataDir, notifyUrl, mode, count, day] = process.argv.slice(2) as [string, string, string, string | undefined, string | undefined];
const node = await openNode({ dataDir });
const { store } = node;
const practiceName = 'Crash Test Surgery';

if (mode === 'start') {
  const n = Number(count);
  const patients: Patient[] = Array.from({ length: n }, (_, i) => withContactPreferences({ resourceType: 'Patient', id: `cp${i}`, name: [{ given: [`Pat${i}`], family: 'Crashtest' }] } as Patient, { mobile: `07700 9${String(i).padStart(5, '0')}`, smsConsent: true }));
  await store.write(patients.map((resource) => ({ kind: 'update' as const, resource })), { author: 'test' });
  const appts: Appointment[] = patients.map((p, i) => ({ resourceType: 'Appointment', id: `ca${i}`, status: 'booked', start: `${day}T09:00:00Z`, end: `${day}T09:10:00Z`, participant: [{ actor: { reference: `Patient/${p.id}` }, status: 'accepted' }] }));
  await store.write(appts.map((resource) => ({ kind: 'update' as const, resource })), { author: 'test' });
  const { row } = await startBroadcast(store, { from: day, to: day, reason: 'The surgery is closed for a power cut' }, { id: 'test', name: 'Test Manager' });
  let batches = 0;
  process.stdout.write(`STARTED ${row.id}\n`);
  // Stall after each batch so the test's SIGKILL lands between two batches, with some committed.
  await runBroadcast(store, row.id, practiceName, () => {
    process.stdout.write(`BATCH ${++batches}\n`);
    const until = Date.now() + 300;
    while (Date.now() < until);
  });
  process.stdout.write('FINISHED\n');
} else {
  await resumeBroadcasts(store, practiceName);
  await recordPending(store);
  const connection = { baseUrl: notifyUrl, apiKey: DEMO_TEST_KEY, templates: { sms: DEFAULT_TEMPLATES[0]!.id } };
  const deps = appDepsOf(node, { messaging: { practiceName, notify: connection } });
  await createOutboxDrainer(store.db, store.practice, notifyChannels(deps, connection), { concurrency: 8, batch: 500 }).drainAll(1000);
  const broadcasts = await mdb(store.db).selectFrom('messaging_broadcasts').selectAll().execute();
  const deliveries = await mdb(store.db).selectFrom('messaging_deliveries').select(['patient_id', 'communication_id', 'status', 'pending_record']).execute();
  const communications: Array<{ id: string; patient: string; status: string }> = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await store.search({ resourceType: 'Communication', params: [], count: 1000, offset });
    for (const c of page.resources) communications.push({ id: c.id!, patient: (c as { subject?: { reference?: string } }).subject?.reference ?? '', status: (c as { status: string }).status });
    if (!page.hasMore) break;
  }
  process.stdout.write(`RESULT ${JSON.stringify({ broadcasts, deliveries, communications })}\n`);
}
await node.close();
