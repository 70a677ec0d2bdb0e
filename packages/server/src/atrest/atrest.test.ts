import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { isSteadfastError } from '@steadfast/domain';
import { SQLITE_FILE } from '@steadfast/store';
import { openNode, type OpenedNode } from '../node/open.ts';
import { startTestNode } from '../testing/harness.ts';
import { startServer } from '../cli/serve.ts';
import { isPlainSqlite } from '@steadfast/store';
import { backupName, checkDatabaseFile, encryptDatabase, listBackups, pruneBackups, restoreBackup, writeBackup } from './backup.ts';
import { backupServiceOf } from './index.ts';
import { createKeyFile, resolveKey } from './key.ts';
import { runCli } from '../testing/cli.ts';

const NAME = 'Quartermaine';
const patient = (family: string): Resource => ({ resourceType: 'Patient', name: [{ family, given: ['Zebedee'] }], birthDate: '1950-05-05' }) as Resource;
const KEY = 'a1'.repeat(32);
const OTHER_KEY = 'b2'.repeat(32);

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'steadfast-atrest-'));
}

/** Every byte of the database files in dataDir (the main file, and the WAL while it exists). */
function databaseBytes(dir: string, file = SQLITE_FILE): Buffer {
  return Buffer.concat(readdirSync(dir).filter((f) => f.startsWith(file)).map((f) => readFileSync(join(dir, f))));
}

async function writePatients(node: OpenedNode, families: string[]): Promise<void> {
  await node.store.write(families.map((f) => ({ kind: 'create' as const, resource: patient(f) })), { author: 'test' });
  await node.audit.append(families.map((f) => ({ actor: { id: 'u1', name: 'Test', role: 'clinician', workstation: 'ws1' }, event: 'create', outcome: 'success' as const, detail: `Patient ${f}` })));
}

async function families(node: OpenedNode): Promise<string[]> {
  const page = await node.store.search({ resourceType: 'Patient', params: [], count: 1000, offset: 0 });
  return page.resources.map((r) => ((r as { name?: Array<{ family?: string }> }).name?.[0]?.family ?? '')).sort();
}

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: string, pattern: RegExp): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    assert.ok(isSteadfastError(err), `expected a SteadfastError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(`${err.message} ${err.hint ?? ''}`, pattern);
    return;
  }
  assert.fail('expected an error');
}

describe('encryption at rest', () => {
  test('an encrypted database file holds no plaintext patient name, opens with its key and refuses without it', async () => {
    const plainDir = tempDir();
    const encDir = tempDir();
    for (const [dir, key] of [[plainDir, undefined], [encDir, KEY]] as const) {
      const node = await openNode({ dataDir: dir, ...(key ? { key } : {}) });
      await writePatients(node, [NAME]);
      await node.close();
    }
    // The same writes unencrypted show the name, so the grep below can fail.
    assert.ok(databaseBytes(plainDir).includes(NAME));
    assert.ok(!databaseBytes(encDir).includes(NAME), 'the encrypted file discloses the patient name');

    const reopened = await openNode({ dataDir: encDir, key: KEY });
    assert.deepEqual(await families(reopened), [NAME]);
    await reopened.close();

    await rejectsWith(openNode({ dataDir: encDir }), 'locked', /encrypted.*no database key was given.*--key-file/s);
    await rejectsWith(openNode({ dataDir: encDir, key: OTHER_KEY }), 'locked', /key does not open/);
    await rejectsWith(openNode({ dataDir: plainDir, key: KEY }), 'invalid', /not encrypted.*steadfast encrypt/s);
    rmSync(plainDir, { recursive: true, force: true });
    rmSync(encDir, { recursive: true, force: true });
  });

  test('steadfast encrypt converts a plain database: the same entries, no plaintext left, opens only with the key', async () => {
    const dir = tempDir();
    const node = await openNode({ dataDir: dir });
    await writePatients(node, [NAME, 'Smith']);
    await node.close();
    const before = checkDatabaseFile(join(dir, SQLITE_FILE), undefined);
    const after = encryptDatabase(dir, KEY);
    assert.equal(after.changeLogEntries, before.changeLogEntries);
    assert.equal(after.auditEntries, before.auditEntries);
    assert.ok(!databaseBytes(dir).includes(NAME));
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.encrypting')), [], 'a temporary file was left behind');
    await rejectsWith(openNode({ dataDir: dir }), 'locked', /no database key/);
    const reopened = await openNode({ dataDir: dir, key: KEY });
    assert.deepEqual(await families(reopened), [NAME, 'Smith']);
    assert.equal((await reopened.audit.verify()).ok, true);
    await reopened.close();
    // A second run is refused with the reason, and leaves the file as it was.
    await rejectsWith(() => encryptDatabase(dir, KEY), 'locked', /encrypted/);
    rmSync(dir, { recursive: true, force: true });
  });

  test('serve --encrypt on a new data directory creates DATA/steadfast.key readable by the owner only; a plain directory is refused', () => {
    const dir = tempDir();
    const first = resolveKey(dir, { encrypt: true });
    assert.equal(first.created, join(dir, 'steadfast.key'));
    assert.equal(statSync(first.created!).mode & 0o777, 0o600);
    assert.equal(resolveKey(dir).key, first.key, 'the next start finds the key file without --encrypt');
    const custom = join(dir, 'elsewhere.key');
    assert.equal(createKeyFile(custom).length, 64);
    assert.equal(resolveKey(dir, { keyFile: custom }).key, readFileSync(custom, 'utf8').trim());
    writeFileSync(join(dir, 'bad.key'), 'hunter2\n', { mode: 0o600 });
    assert.throws(() => resolveKey(dir, { keyFile: join(dir, 'bad.key') }), /not 64 hexadecimal digits/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('steadfast serve --encrypt', () => {
  test('serve --encrypt on a new data directory starts an encrypted node with hourly backups and holds the serving lock until stopped', async () => {
    const dir = tempDir();
    const saved = process.env.STEADFAST_DB_KEY;
    delete process.env.STEADFAST_DB_KEY;
    const server = await startServer({ data: dir, port: '0', mllpPort: '0', encrypt: true });
    try {
      assert.equal(statSync(join(dir, 'steadfast.key')).mode & 0o777, 0o600);
      assert.equal(isPlainSqlite(join(dir, SQLITE_FILE)), false, 'serve --encrypt wrote a plain database');
      assert.ok(existsSync(join(dir, 'serving.lock')));
      assert.ok(backupServiceOf(server.node.store), 'serve did not start scheduled backups');
    } finally {
      await server.close();
      if (saved !== undefined) process.env.STEADFAST_DB_KEY = saved;
    }
    assert.ok(!existsSync(join(dir, 'serving.lock')));
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('backups', () => {
  for (const key of [undefined, KEY]) {
    const kind = key ? 'encrypted' : 'plain';
    test(`backup then restore (${kind}): the restored node has exactly the backed-up records and its audit chain verifies`, async () => {
      const dir = tempDir();
      const backups = join(dir, 'backups');
      const node = await openNode({ dataDir: dir, ...(key ? { key } : {}) });
      await writePatients(node, [NAME, 'Adams']);
      await node.audit.drain();
      const info = await writeBackup(join(dir, SQLITE_FILE), key, backups);
      assert.equal(info.integrity, 'ok');
      assert.equal(info.encrypted, Boolean(key));
      assert.ok(info.changeLogEntries >= 2);
      assert.equal(readdirSync(backups).filter((f) => f.endsWith('.partial')).length, 0);
      if (key) {
        assert.ok(!readFileSync(info.file).includes(NAME), 'an encrypted node wrote a backup that discloses the name');
        assert.throws(() => checkDatabaseFile(info.file, undefined), /encrypted/);
      }
      await writePatients(node, ['Later']);
      await node.close();

      // Restoring would drop the later entry: refused, naming how many, until the loss is accepted.
      await rejectsWith(() => restoreBackup(dir, info.file, key), 'conflict', /1 change log entries newer/);
      const result = restoreBackup(dir, info.file, key, { discardNewer: true });
      assert.equal(result.newerEntries, 1);
      assert.ok(result.replacedDir && existsSync(join(result.replacedDir, SQLITE_FILE)), 'the replaced database was not kept');

      const restored = await openNode({ dataDir: dir, ...(key ? { key } : {}) });
      assert.deepEqual(await families(restored), ['Adams', NAME].sort());
      const verified = await restored.audit.verify();
      assert.equal(verified.ok, true);
      assert.equal(verified.checked, info.auditEntries);
      // A new entry does not reuse the log position of the dropped one (the hub may hold that position).
      const [later] = await restored.store.write([{ kind: 'create', resource: patient('AfterRestore') }], { author: 'test' });
      assert.ok(later);
      const seqs = (await restored.store.db.selectFrom('change_log').select('seq').orderBy('seq', 'desc').limit(1).execute()).map((r) => Number(r.seq));
      assert.equal(seqs[0], info.maxSeq + 2, 'the new entry reused a log position of the replaced database');
      await restored.close();
      rmSync(dir, { recursive: true, force: true });
    });
  }

  test('a restore is refused while a node serves the data directory, and the database is left as it was', async () => {
    const node = await startTestNode();
    const info = await writeBackup(join(node.dataDir, SQLITE_FILE), undefined, join(node.dataDir, 'backups'));
    await rejectsWith(() => restoreBackup(node.dataDir, info.file, undefined, { discardNewer: true }), 'locked', /a node is serving.*Stop the node/s);
    assert.equal(readdirSync(node.dataDir).filter((f) => f.startsWith('replaced-')).length, 0);
    await node.close();
    assert.ok(!existsSync(join(node.dataDir, 'serving.lock')), 'closing the node left its serving lock');
  });

  test('a backup that fails its check is not restored: a damaged file is refused and nothing is swapped', async () => {
    const dir = tempDir();
    const node = await openNode({ dataDir: dir });
    await writePatients(node, [NAME]);
    await node.close();
    const info = await writeBackup(join(dir, SQLITE_FILE), undefined, join(dir, 'backups'));
    const bytes = readFileSync(info.file);
    bytes.fill(0x5a, 4096, bytes.length); // every page after the first overwritten
    writeFileSync(info.file, bytes);
    assert.throws(() => restoreBackup(dir, info.file, undefined, { discardNewer: true }));
    assert.equal(readdirSync(dir).filter((f) => f.startsWith('replaced-')).length, 0);
    const still = await openNode({ dataDir: dir });
    assert.deepEqual(await families(still), [NAME]);
    await still.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the scheduled backup service writes a checked backup and the status bar shows its time and size', async () => {
    const node = await startTestNode({ config: { backup: { everyMinutes: 60 } } });
    const service = backupServiceOf(node.store);
    assert.ok(service, 'no backup service on a SQLite node with backups configured');
    let status = (await (await node.fetchAs('receptionist', '/api/status')).json()) as { services: Array<{ name: string; state: string; detail?: string }> };
    assert.equal(status.services.find((s) => s.name === 'backup')?.detail, 'no backup yet');
    const written = await service.runNow();
    assert.ok(written && existsSync(written.file));
    assert.equal(listBackups(join(node.dataDir, 'backups'))[0]?.file, written.file);
    status = (await (await node.fetchAs('receptionist', '/api/status')).json()) as typeof status;
    const line = status.services.find((s) => s.name === 'backup');
    assert.equal(line?.state, 'connected');
    assert.match(line?.detail ?? '', /^last backup \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC, \d+ kB$/);
    await node.close();
  });

  test('retention keeps every backup of the last 24 hours and the newest of each of 14 days', () => {
    const dir = tempDir();
    const now = Date.parse('2026-12-02T15:30:00.000Z');
    const made: string[] = [];
    for (let h = 0; h < 24 * 20; h += 1) {
      const name = backupName(new Date(now - h * 3_600_000));
      writeFileSync(join(dir, name), 'x');
      made.push(name);
    }
    writeFileSync(join(dir, 'notes.txt'), 'not a backup');
    const deleted = pruneBackups(dir, { keepHours: 24, keepDays: 14 }, now);
    const kept = listBackups(dir).map((b) => b.at);
    assert.equal(deleted.length, made.length - kept.length);
    const lastDay = kept.filter((t) => now - Date.parse(t) <= 24 * 3_600_000);
    assert.equal(lastDay.length, 25, 'hourly backups of the last 24 hours');
    const days = new Set(kept.map((t) => t.slice(0, 10)));
    assert.equal(days.size, 14);
    assert.ok(existsSync(join(dir, 'notes.txt')), 'pruning touched a file that is not a backup');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('steadfast encrypt, backup and restore (CLI)', () => {
  // The key comes from the command line in these runs, never from the developer's environment.
  const run = (args: string[]) => {
    const env = { ...process.env };
    delete env.STEADFAST_DB_KEY;
    delete env.STEADFAST_DB_KEY_FILE;
    return runCli(args, { env });
  };

  test('encrypt, then backup, then restore from the command line; a missing key names the fix', async () => {
    const dir = tempDir();
    const keyFile = join(tempDir(), 'practice.key');
    const node = await openNode({ dataDir: dir });
    await writePatients(node, [NAME]);
    await node.close();
    const enc = await run(['encrypt', '--data', dir, '--key-file', keyFile]);
    assert.equal(enc.code, 0, enc.stderr);
    assert.match(enc.stderr, /KEEP A COPY AWAY FROM THIS MACHINE/);
    const noKey = await run(['status', '--data', dir]);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /encrypted.*\n.*hint: To open it, give the key with --key-file/);
    assert.doesNotMatch(noKey.stderr, /file is not a database/);
    const backup = await run(['backup', '--data', dir, '--key-file', keyFile]);
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /encrypted\): integrity ok/);
    const file = /backed up to (\S+) /.exec(backup.stdout)?.[1];
    assert.ok(file);
    const restore = await run(['restore', '--data', dir, '--key-file', keyFile, '--from', file]);
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(restore.stdout, /audit chain intact: 1 entries/);
    rmSync(dir, { recursive: true, force: true });
  });
});
