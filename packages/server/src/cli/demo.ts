/**
 * `npm start`: create the demo practice once in ./.steadfast/demo (synthetic patients, demo staff
 * accounts, a morning's laboratory results), then serve it, with the local GOV.UK Notify server
 * started beside it and messaging configured against it (a test key: nothing leaves the machine), so
 * the demo's texts really go out through the outbox and their delivery receipts come back. A half-made demo (interrupted seeding) is thrown away and made again.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openNode } from '../node/open.ts';
import { describeSeed, seedData } from './seed.ts';
import { seedLabFeed } from '../demo/labFeed.ts';
import { serveForever, startServer } from './serve.ts';
import { reportError } from './common.ts';
import { DEFAULT_TEMPLATES as NOTIFY_TEMPLATES, DEMO_TEST_KEY, startFakeNotify, type FakeNotify } from '../messaging/fake-notify/server.ts';

/**
 * The local Notify server and the flags that point messaging at it. STEADFAST_DEMO_NOTIFY=off leaves
 * messaging off; a real NOTIFY_API_KEY in the environment is used instead (never in the repository).
 */
export async function demoNotify(): Promise<{ fake?: FakeNotify; flags: Record<string, string> }> {
  if (process.env.STEADFAST_DEMO_NOTIFY === 'off' || process.env.NOTIFY_API_KEY) return { flags: {} };
  const fake = await startFakeNotify({ deliveryDelayMs: 2_000, ...(process.env.STEADFAST_DEMO_NOTIFY_PORT ? { port: Number(process.env.STEADFAST_DEMO_NOTIFY_PORT) } : {}) });
  const byType = (type: string) => NOTIFY_TEMPLATES.find((t) => t.type === type)!.id;
  return {
    fake,
    flags: {
      notifyUrl: fake.url,
      notifyApiKey: DEMO_TEST_KEY,
      notifySmsTemplate: byType('sms'),
      notifyEmailTemplate: byType('email'),
      notifyLetterTemplate: byType('letter'),
      // Made up at each start: the callback token is configuration, never a constant.
      notifyCallbackToken: randomBytes(24).toString('base64url'),
    },
  };
}

export const DEMO_USERS = [
  { username: 'receptionist', role: 'receptionist', name: 'Rita Receptionist', password: 'steadfast-reception' },
  { username: 'clinician', role: 'clinician', name: 'Dr Chidi Clinician', password: 'steadfast-clinician' },
  { username: 'admin', role: 'practice-admin', name: 'Pat Practice-Manager', password: 'steadfast-admin' },
] as const;

const READY_MARKER = '.demo-ready';

export async function prepareDemo(dataDir: string, patients: number, seed: string): Promise<void> {
  if (existsSync(join(dataDir, READY_MARKER))) return;
  if (existsSync(dataDir)) rmSync(dataDir, { recursive: true, force: true });
  process.stderr.write(`Creating the demo practice in ${dataDir} (${patients} synthetic patients; this happens once)...\n`);
  const node = await openNode({ dataDir });
  try {
    const result = await seedData(node, { patients, seed });
    process.stderr.write(`seeded ${describeSeed(result)}\n`);
    const users = [];
    for (const u of DEMO_USERS) users.push(await node.accounts.addUser({ username: u.username, role: u.role, name: u.name, password: u.password }));
    const clinician = users.find((u) => u.role === 'clinician')!;
    const feed = await seedLabFeed(node.store, { clinician: { id: clinician.id, name: clinician.name }, seed });
    process.stderr.write(`laboratory feed: ${feed.messages} results received, ${feed.filed} filed, ${feed.duplicates} resends recognised, ${feed.heldForAPerson} held for a person\n`);
  } finally {
    await node.close();
  }
  writeFileSync(join(dataDir, READY_MARKER), `${new Date().toISOString()}\n`);
}

export async function runDemo(root: string): Promise<void> {
  const dataDir = resolve(root, process.env.STEADFAST_DEMO_DIR ?? '.steadfast/demo');
  const patients = Number(process.env.STEADFAST_DEMO_PATIENTS ?? 10_000);
  await prepareDemo(dataDir, patients, process.env.STEADFAST_DEMO_SEED ?? '1');
  const notify = await demoNotify();
  const server = await startServer({ data: dataDir, ...notify.flags });
  if (notify.fake) {
    notify.fake.setCallback(`${server.url.replace('localhost', '127.0.0.1')}/api/messaging/notify/callback`, notify.flags.notifyCallbackToken!);
  }
  process.stdout.write(
    [
      '',
      `Steadfast demo practice (${server.node.identity.practice}) is running at ${server.url}`,
      `  FHIR API: ${server.url}/fhir/R4   data: ${dataDir}`,
      ...(notify.fake ? [`  Texts and emails go to the local GOV.UK Notify server at ${notify.fake.url} (a test key: nothing leaves this machine)`] : []),
      '  Sign in as (synthetic data only):',
      ...DEMO_USERS.map((u) => `    ${u.username.padEnd(13)} password ${u.password.padEnd(22)} (${u.role})`),
      '  A practice-admin sets up two-factor sign-in (an authenticator app) at first sign-in.',
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  await serveForever(notify.fake ? { ...server, close: async () => (await server.close(), await notify.fake!.stop()) } : server);
}

export async function main(root: string): Promise<void> {
  try {
    await runDemo(root);
  } catch (err) {
    reportError(err);
  }
}
