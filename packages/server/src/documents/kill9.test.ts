/**
 * A real node (`steadfast serve --documents-imap ...`, its own process and SQLite file) taking a
 * mailbox of letters from a real IMAP server, killed with SIGKILL mid-intake and restarted, twice.
 * At the end every message is one document, exactly once, and the mailbox is empty.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNode } from '../node/open.ts';
import { STEADFAST_BIN } from '../testing/cli.ts';
import { dovecotSkip, startDovecot, type Dovecot } from '../testing/dovecot.ts';
import { ALEX, email, letterPdf } from './fixtures.ts';
import { IMAP_PASSWORD_ENV } from './options.ts';
import { ddb } from './tables.ts';

const PRACTICE = 'B82005';
const LETTERS = 40;

function startNode(dataDir: string, imap: Dovecot): Promise<{ child: ChildProcess; exited: Promise<void> }> {
  const child = spawn(process.execPath, [STEADFAST_BIN, 'serve', '--data', dataDir, '--port', '0', '--mllp-port', '0', '--documents-imap', `imap://${imap.user}@${imap.host}:${imap.port}/INBOX`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, [IMAP_PASSWORD_ENV]: imap.password },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(' at http://')) resolve({ child, exited });
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`node exited (${code}) before it was ready: ${err || out}`)));
  });
}

async function count(imap: Dovecot, folder: string): Promise<number> {
  const c = imap.client();
  await c.connect();
  try {
    const s = await c.status(folder, { messages: true }).catch(() => false as const);
    return s ? (s.messages ?? 0) : 0;
  } finally {
    await c.logout().catch(() => undefined);
  }
}

async function waitingIn(node: Awaited<ReturnType<typeof openNode>>): Promise<number> {
  const rows = await (node.store.db as any).selectFrom('inbox_items').select('id').where('capability', '=', 'documents').where('state', '=', 'received').execute();
  return rows.length;
}

async function waitingToBeRead(dataDir: string): Promise<number> {
  const node = await openNode({ dataDir });
  try {
    return await waitingIn(node);
  } finally {
    await node.close();
  }
}

describe('kill -9 during document intake', { skip: dovecotSkip }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'steadfast-docs-kill9-'));
  let imap: Dovecot;
  after(async () => {
    await imap?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a node killed with SIGKILL mid-intake loses nothing and duplicates nothing', async () => {
    imap = await startDovecot();
    // Each letter different (its own body), so each is its own document.
    const emls = [];
    for (let i = 0; i < LETTERS; i++) emls.push(email({ subject: `Letter ${i}`, attachments: [{ filename: `letter-${i}.pdf`, contentType: 'application/pdf', content: await letterPdf(ALEX, 'Outpatient letter', `Clinic letter number ${i}.`) }] }));
    await imap.deliverMany(emls);
    const seed = await openNode({ dataDir, practice: PRACTICE });
    await seed.close();

    for (const killAfter of [5, 15]) {
      const { child, exited } = await startNode(dataDir, imap);
      for (let i = 0; i < 600 && (await count(imap, 'Steadfast taken')) < killAfter; i++) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGKILL');
      await exited;
      assert.ok((await count(imap, 'INBOX')) > 0, 'killed mid-intake, with mail still waiting');
      console.log(`killed after ${killAfter} letters taken`);
    }
    const { child, exited } = await startNode(dataDir, imap);
    for (let i = 0; i < 1200 && (await count(imap, 'INBOX')) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await count(imap, 'INBOX'), 0, 'every message taken');
    console.log('every message taken from the mailbox');
    // Let the worker read what was kept, then stop the node cleanly.
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGTERM');
    await exited;
    // Anything still received (kept, not yet read) is read at the next start: start again until it is.
    // A fixed wait alone failed at load 30, with 24 letters kept and not yet read when the node stopped.
    for (let start = 0, waiting = await waitingToBeRead(dataDir); start < 10 && waiting > 0; start++, waiting = await waitingToBeRead(dataDir)) {
      console.log(`${waiting} letters kept and not yet read when the node stopped: starting it again`);
      const again = await startNode(dataDir, imap);
      await new Promise((r) => setTimeout(r, 3000));
      again.child.kill('SIGTERM');
      await again.exited;
    }

    const node = await openNode({ dataDir });
    try {
      const docs = await ddb(node.store.db).selectFrom('documents').select(['subject', 'blob', 'copies']).execute();
      assert.equal(await waitingIn(node), 0, 'everything kept was read');
      const subjects = docs.map((d) => d.subject).sort();
      assert.deepEqual(subjects, Array.from({ length: LETTERS }, (_, i) => `Letter ${i}`).sort(), 'each letter exactly once');
      assert.ok(docs.every((d) => Number(d.copies) === 1), 'a message fetched again after a kill is not counted as a second copy');
      assert.equal(await count(imap, 'Steadfast taken'), LETTERS);
    } finally {
      await node.close();
    }
  });
});
