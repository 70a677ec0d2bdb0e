/**
 * `npm start`: create the demo practice once in ./.steadfast/demo (synthetic patients, demo staff
 * accounts, a morning's laboratory results), then serve it. A half-made demo (interrupted seeding) is thrown away and made again.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openNode } from '../node/open.ts';
import { describeSeed, seedData } from './seed.ts';
import { seedLabFeed } from '../demo/labFeed.ts';
import { serveForever, startServer } from './serve.ts';
import { reportError } from './common.ts';
import { DEFAULT_TEMPLATES as NOTIFY_TEMPLATES, DEMO_TEST_KEY, startFakeNotify, type FakeNotify } from '../messaging/fake-notify/server.ts';

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
  // The local GOV.UK Notify server, so the demo's messages go somewhere (unless a real key is given).
  let notify: FakeNotify | undefined;
  const callbackToken = 'steadfast-demo-callback-token-not-a-secret';
  if (!process.env.NOTIFY_API_KEY) notify = await startFakeNotify({ deliveryDelayMs: 2_000 });
  const server = await startServer({
    data: dataDir,
    ...(notify ? { notifyUrl: notify.url, notifyApiKey: DEMO_TEST_KEY, notifySmsTemplate: NOTIFY_TEMPLATES[0]!.id, notifyEmailTemplate: NOTIFY_TEMPLATES[1]!.id, notifyCallbackToken: callbackToken } : {}),
  });
  notify?.setCallback(`${server.url}/api/messaging/notify/callback`, callbackToken);
  process.stdout.write(
    [
      '',
      `Steadfast demo practice (${server.node.identity.practice}) is running at ${server.url}`,
      `  FHIR API: ${server.url}/fhir/R4   data: ${dataDir}`,
      '  Sign in as (synthetic data only):',
      ...DEMO_USERS.map((u) => `    ${u.username.padEnd(13)} password ${u.password.padEnd(22)} (${u.role})`),
      '  A practice-admin sets up two-factor sign-in (an authenticator app) at first sign-in.',
      ...(notify ? [`  Messages go to a local GOV.UK Notify server at ${notify.url} (test key: nothing reaches a phone).`] : []),
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  await serveForever(server);
  await notify?.stop();
}

export async function main(root: string): Promise<void> {
  try {
    await runDemo(root);
  } catch (err) {
    reportError(err);
  }
}
