/**
 * Backups of a practice node's SQLite file, and restoring one.
 *
 * A backup is `VACUUM INTO` a temporary file in the backup folder, run on a worker thread with its own
 * read-only connection (WAL: the node keeps reading and writing meanwhile, and its event loop is not
 * blocked), then fsynced, checked (opened, `PRAGMA integrity_check`, the change log and audit trail
 * counted) and only then renamed to its timestamped name. An encrypted database gives an encrypted
 * backup with the same key: SQLite3 Multiple Ciphers writes VACUUM INTO with the source's cipher.
 * (better-sqlite3's `db.backup()` cannot be used for an encrypted file: it opens the destination
 * itself, without a key, and the cipher library refuses the copy.)
 */
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SteadfastError } from '@steadfast/domain';
import { fsyncFileAndDir, openSqliteFile, SQLITE_FILE } from '@steadfast/store';

export const BACKUP_DIR = 'backups';
const NAME = /^steadfast-(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z\.db$/;

export interface BackupCheck {
  /** What PRAGMA integrity_check said ("ok" when the file is sound). */
  integrity: string;
  changeLogEntries: number;
  auditEntries: number;
  /** Highest change log sequence number in the file (0 when empty). */
  maxSeq: number;
}

export interface BackupInfo extends BackupCheck {
  file: string;
  at: string;
  bytes: number;
  encrypted: boolean;
}

/** Open a backup (or any database file) read-only and check it. Throws when it cannot be opened. */
export function checkDatabaseFile(file: string, key: string | undefined): BackupCheck {
  const db = openSqliteFile(file, key, { readonly: true, fileMustExist: true });
  try {
    const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    const integrity = rows.map((r) => r.integrity_check).join('; ');
    const one = (q: string) => Number((db.prepare(q).pluck().get() as number | null) ?? 0);
    return {
      integrity,
      changeLogEntries: one('SELECT count(*) FROM change_log'),
      auditEntries: one('SELECT count(*) FROM audit_log'),
      maxSeq: one('SELECT max(seq) FROM change_log'),
    };
  } finally {
    db.close();
  }
}

export function backupName(at: Date): string {
  return `steadfast-${at.toISOString().replace(/[:.]/g, '-')}.db`;
}

function timeOfName(name: string): number | undefined {
  const m = NAME.exec(name);
  return m ? Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`) : undefined;
}

/** The backups in `dir`, newest first. */
export function listBackups(dir: string): Array<{ file: string; at: string; bytes: number }> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => ({ name, t: timeOfName(name) }))
    .filter((x): x is { name: string; t: number } => x.t !== undefined)
    .sort((a, b) => b.t - a.t)
    .map((x) => ({ file: join(dir, x.name), at: new Date(x.t).toISOString(), bytes: statSync(join(dir, x.name)).size }));
}

export interface Retention {
  /** Keep every backup younger than this many hours (default 24: the hourly ones of the day). */
  keepHours: number;
  /** And the newest backup of each of this many days (default 14). */
  keepDays: number;
}
export const DEFAULT_RETENTION: Retention = { keepHours: 24, keepDays: 14 };

/** Delete backups the retention does not keep; returns the deleted files. The newest is always kept. */
export function pruneBackups(dir: string, retention: Retention, now = Date.now()): string[] {
  const all = listBackups(dir);
  const keep = new Set<string>(all.slice(0, 1).map((b) => b.file));
  const days = new Set<string>();
  for (const b of all) {
    if (now - Date.parse(b.at) <= retention.keepHours * 3_600_000) keep.add(b.file);
    const day = b.at.slice(0, 10);
    if (!days.has(day) && days.size < retention.keepDays) {
      days.add(day);
      keep.add(b.file);
    }
  }
  const deleted = all.filter((b) => !keep.has(b.file)).map((b) => b.file);
  for (const f of deleted) rmSync(f, { force: true });
  return deleted;
}

/**
 * Write one backup of `source` into `dir` and check it; the synchronous work, run on the worker thread
 * (see backup-worker.ts) or directly. Nothing half-written is left under a backup's name.
 */
export function writeBackupSync(source: string, key: string | undefined, dir: string, at = new Date()): BackupInfo {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, backupName(at));
  const tmp = `${file}.partial`;
  rmSync(tmp, { force: true });
  try {
    const db = openSqliteFile(source, key, { readonly: true, fileMustExist: true });
    try {
      db.prepare('VACUUM INTO ?').run(tmp);
    } finally {
      db.close();
    }
    fsyncFileAndDir(tmp);
    const check = checkDatabaseFile(tmp, key);
    if (check.integrity !== 'ok') throw new SteadfastError('invalid', `The backup written to ${tmp} failed its integrity check: ${check.integrity}`, { hint: 'Check the disk holding the backup folder; the database itself is untouched' });
    renameSync(tmp, file);
    fsyncFileAndDir(file);
    return { file, at: at.toISOString(), bytes: statSync(file).size, encrypted: Boolean(key), ...check };
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Write a backup on a worker thread, so a serving node's event loop is not held for the copy. */
export function writeBackup(source: string, key: string | undefined, dir: string): Promise<BackupInfo> {
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(new URL('./backup-worker.mjs', import.meta.url), { workerData: { source, key, dir } });
    let settled = false;
    worker.once('message', (m: { ok: true; info: BackupInfo } | { ok: false; error: { message: string; code?: string; hint?: string; field?: string; steadfast?: boolean } }) => {
      settled = true;
      if (m.ok) resolvePromise(m.info);
      else reject(m.error.steadfast ? new SteadfastError(m.error.code as 'invalid', m.error.message, { ...(m.error.hint ? { hint: m.error.hint } : {}), ...(m.error.field ? { field: m.error.field } : {}) }) : new Error(m.error.message));
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`backup worker exited with code ${code} before answering`));
    });
  });
}

// ---- serving lock: a restore or an encryption must not swap the file under a running node ----------

export const SERVING_LOCK = 'serving.lock';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Mark `dataDir` as served by this process; returns the function that clears the mark. */
export function holdServingLock(dataDir: string, detail: Record<string, unknown> = {}): () => void {
  const file = join(dataDir, SERVING_LOCK);
  writeFileSync(file, `${JSON.stringify({ pid: process.pid, since: new Date().toISOString(), ...detail })}\n`);
  return () => {
    try {
      const held = JSON.parse(readFileSync(file, 'utf8')) as { pid?: number };
      if (held.pid === process.pid) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
}

/** Throw when a live process serves `dataDir` (a stale lock from a crashed node is ignored). */
export function refuseWhileServing(dataDir: string, action: string): void {
  const file = join(dataDir, SERVING_LOCK);
  if (!existsSync(file)) return;
  let held: { pid?: number; since?: string; url?: string } = {};
  try {
    held = JSON.parse(readFileSync(file, 'utf8')) as typeof held;
  } catch {
    return;
  }
  if (typeof held.pid === 'number' && pidAlive(held.pid)) {
    throw new SteadfastError('locked', `Cannot ${action}: a node is serving ${dataDir} (process ${held.pid}${held.url ? ` at ${held.url}` : ''}, since ${held.since ?? '?'})`, {
      field: '--data',
      hint: 'Stop the node first (Ctrl+C, or stop its service), then run the command again',
    });
  }
}

// ---- restore ---------------------------------------------------------------------------------------

export interface RestoreResult {
  restored: BackupCheck;
  /** Where the replaced database was moved (undefined when there was none). */
  replacedDir?: string;
  /** Change log entries in the replaced database after the backup's newest (undefined when it could not be read). */
  newerEntries?: number;
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/**
 * Replace the database in `dataDir` with the backup `from`. Refuses while a node serves the directory,
 * when the backup fails its check, and (unless `discardNewer`) when the current database holds change
 * log entries newer than the backup. The replaced files are moved to DATA/replaced-<time>/.
 */
export function restoreBackup(dataDir: string, from: string, key: string | undefined, options: { discardNewer?: boolean } = {}): RestoreResult {
  refuseWhileServing(dataDir, 'restore');
  const source = resolve(from);
  const restored = checkDatabaseFile(source, key);
  if (restored.integrity !== 'ok') {
    throw new SteadfastError('invalid', `The backup ${from} failed its integrity check: ${restored.integrity}`, { field: '--from', hint: 'Choose an older backup (steadfast backup --list)' });
  }
  const target = join(dataDir, SQLITE_FILE);
  let newerEntries: number | undefined;
  let replacedMaxSeq = 0;
  if (existsSync(target)) {
    try {
      const db = openSqliteFile(target, key, { readonly: true, fileMustExist: true });
      try {
        newerEntries = Number(db.prepare('SELECT count(*) FROM change_log WHERE seq > ?').pluck().get(restored.maxSeq));
        replacedMaxSeq = Number(db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'change_log'`).pluck().get() ?? 0);
      } finally {
        db.close();
      }
    } catch {
      newerEntries = undefined; // the current file is unreadable: the usual reason to restore
    }
    if (newerEntries && !options.discardNewer) {
      throw new SteadfastError('conflict', `The current database holds ${newerEntries} change log entries newer than the backup ${from}; restoring would drop them`, {
        field: '--from',
        hint: 'Entries already replicated are held by the hub. To restore anyway add --discard-newer (the current file is kept in DATA/replaced-<time>/), then run steadfast sync to take back what the hub has',
      });
    }
  }
  const tmp = `${target}.restoring`;
  rmSync(tmp, { force: true });
  copyFileSync(source, tmp);
  if (replacedMaxSeq > restored.maxSeq) {
    // Log positions the replaced database used may have reached the hub (its push cursor for this node);
    // new entries must not reuse them, or the hub would take them for entries it already has.
    const db = openSqliteFile(tmp, key, { fileMustExist: true });
    try {
      db.prepare(`UPDATE sqlite_sequence SET seq = ? WHERE name = 'change_log'`).run(replacedMaxSeq);
    } finally {
      db.close();
    }
  }
  fsyncFileAndDir(tmp);
  let replacedDir: string | undefined;
  const moved: Array<[string, string]> = [];
  try {
    for (const suffix of ['', '-wal', '-shm', '-journal']) {
      const f = `${target}${suffix}`;
      if (!existsSync(f)) continue;
      replacedDir ??= join(dataDir, `replaced-${stamp()}`);
      mkdirSync(replacedDir, { recursive: true });
      const dest = join(replacedDir, `${SQLITE_FILE}${suffix}`);
      renameSync(f, dest);
      moved.push([f, dest]);
    }
    renameSync(tmp, target);
    fsyncFileAndDir(target);
  } catch (err) {
    for (const [f, dest] of moved.reverse()) renameSync(dest, f);
    rmSync(tmp, { force: true });
    throw err;
  }
  return { restored, ...(replacedDir ? { replacedDir } : {}), ...(newerEntries !== undefined ? { newerEntries } : {}) };
}

// ---- encrypting an existing plain database ------------------------------------------------------------

/**
 * Encrypt the plain database in `dataDir` with `key`: copy it to a temporary file, encrypt the copy
 * (`PRAGMA rekey`), check it opens with the key and holds the same change log, fsync, then swap it in
 * and delete the plain file. A failure at any step leaves the plain database as it was.
 */
export function encryptDatabase(dataDir: string, key: string): BackupCheck {
  refuseWhileServing(dataDir, 'encrypt');
  const target = join(dataDir, SQLITE_FILE);
  const before = checkDatabaseFile(target, undefined); // throws with the fix when it is already encrypted
  const tmp = `${target}.encrypting`;
  rmSync(tmp, { force: true });
  try {
    const src = openSqliteFile(target, undefined, { fileMustExist: true });
    try {
      src.prepare('VACUUM INTO ?').run(tmp); // folds the WAL in: a complete, compact plain copy
    } finally {
      src.close();
    }
    const copy = openSqliteFile(tmp, undefined, { fileMustExist: true });
    try {
      copy.pragma('journal_mode = DELETE');
      copy.pragma(`cipher = 'sqlcipher'`);
      copy.pragma('legacy = 4');
      copy.pragma(`rekey = "x'${key}'"`);
    } finally {
      copy.close();
    }
    const after = checkDatabaseFile(tmp, key);
    if (after.integrity !== 'ok' || after.changeLogEntries !== before.changeLogEntries || after.auditEntries !== before.auditEntries) {
      throw new SteadfastError('invalid', `The encrypted copy of ${target} does not match it (${after.changeLogEntries}/${before.changeLogEntries} log entries, integrity ${after.integrity})`, { hint: 'The plain database is untouched; check free disk space and run the command again' });
    }
    fsyncFileAndDir(tmp);
    for (const suffix of ['-wal', '-shm']) rmSync(`${target}${suffix}`, { force: true });
    renameSync(tmp, target);
    fsyncFileAndDir(target);
    return after;
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Whether a file descriptor can be opened for the path (used to give a clear error for --backup-dir). */
export function ensureWritableDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const probe = join(dir, `.probe-${process.pid}`);
  closeSync(openSync(probe, 'w'));
  rmSync(probe, { force: true });
}
