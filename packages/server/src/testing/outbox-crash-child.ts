/**
 * A node process for the outbox crash test (outbox/crash.test.ts): it queues messages, drains them
 * through the production GOV.UK Notify channels, and at a named step of a send stops and waits for
 * the test to kill it with SIGKILL. Then a fresh process recovers what was left and reports.
 *
 *   node --import tsx outbox-crash-child.ts <dataDir> <notifyUrl> queue <n>
 *   node --import tsx outbox-crash-child.ts <dataDir> <notifyUrl> send <step>   (step: claimed | sent | recorded | in-flight)
 *   node --import tsx outbox-crash-child.ts <dataDir> <notifyUrl> recover
 *
 * Prints `AT <step> <outbox id>` at the step and `RESULT <json>` when done.
 */
import type { Patient } from '@medplum/fhirtypes';
import { withContactPreferences } from '@steadfast/domain';
import { appDepsOf } from '../node/open.ts';
import { openNode } from '../node/open.ts';
import { notifyChannels } from '../messaging/channels.ts';
import { DEFAULT_TEMPLATES, DEMO_TEST_KEY } from '../messaging/fake-notify/server.ts';
import { queuePatientMessage } from '../messaging/send.ts';
import { mdb } from '../messaging/tables.ts';
import type { OutboxChannel } from '../outbox/contract.ts';
import { createOutboxDrainer } from '../outbox/drainer.ts';
import { odb } from '../outbox/tables.ts';

const [dataDir, notifyUrl, mode, arg] = process.argv.slice(2) as [string, string, string, string | undefined];
const hang = (): Promise<never> => new Promise(() => setInterval(() => undefined, 60_000));

const node = await openNode({ dataDir });
const connection = { baseUrl: notifyUrl, apiKey: DEMO_TEST_KEY, templates: { sms: DEFAULT_TEMPLATES[0]!.id } };
const deps = appDepsOf(node, { messaging: { practiceName: 'Crash Test Surgery', notify: connection } });
const { store } = node;

if (mode === 'queue') {
  const patient = withContactPreferences({ resourceType: 'Patient', name: [{ given: ['Sam'], family: 'Crashtest' }], birthDate: '1970-01-01' } as Patient, { mobile: '07700 900444', smsConsent: true });
  const [p] = await store.write([{ kind: 'create', resource: patient }], { author: 'test' });
  const ids: string[] = [];
  for (let i = 0; i < Number(arg ?? 3); i++) {
    const q = await store.transaction({ author: 'test' }, (tx) => queuePatientMessage(tx, store.practice, { patientId: p!.resource!.id!, template: 'free-text', channel: 'sms', values: { text: `Message ${i + 1}` }, key: `crash:${i}`, category: 'free-text', practiceName: 'Crash Test Surgery' }));
    ids.push(q.outboxId);
  }
  process.stdout.write(`RESULT ${JSON.stringify({ ids })}\n`);
  await node.close();
  process.exit(0);
}

const step = mode === 'send' ? arg : undefined;
let stopped = false;
const channels: OutboxChannel[] = notifyChannels(deps, connection).map((c) => ({
  ...c,
  async deliver(message) {
    if (step === 'claimed' && !stopped) {
      stopped = true;
      process.stdout.write(`AT claimed ${message.id}\n`);
      return hang();
    }
    const result = await c.deliver(message);
    if (step === 'sent' && !stopped) {
      stopped = true;
      process.stdout.write(`AT sent ${message.id}\n`);
      return hang();
    }
    return result;
  },
  async settled(message, result) {
    if (step === 'recorded' && !stopped) {
      stopped = true;
      process.stdout.write(`AT recorded ${message.id}\n`);
      return hang();
    }
    return c.settled?.(message, result);
  },
}));

// Recovery right away: a real node waits `staleSendingMs` (2 minutes) before asking Notify. A send
// that meets a dropped connection is retried after its backoff: the clock is moved on, not waited for.
let skew = 0;
const drainer = createOutboxDrainer(store.db, store.practice, channels, { concurrency: 1, now: () => new Date(Date.now() + skew), ...(mode === 'recover' ? { staleSendingMs: 0 } : {}) });
await drainer.drainAll();
for (let i = 0; mode === 'recover' && i < 10; i++) {
  const left = await odb(store.db).selectFrom('outbox_messages').select('id').where('state', 'in', ['pending', 'sending']).execute();
  if (left.length === 0) break;
  skew += 60 * 60_000;
  await drainer.drainAll();
}
const rows = await odb(store.db).selectFrom('outbox_messages').select(['id', 'state', 'attempts', 'provider_ref', 'last_error']).orderBy('created_at').execute();
const deliveries = await mdb(store.db).selectFrom('messaging_deliveries').select(['outbox_id', 'status', 'notify_id']).execute();
process.stdout.write(`RESULT ${JSON.stringify({ rows, deliveries })}\n`);
await node.close();
process.exit(0);
