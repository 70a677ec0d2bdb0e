/**
 * Where a practice node's database key comes from, in this order: `--key-file FILE`, the
 * STEADFAST_DB_KEY environment variable (the 64 hex digits themselves, e.g. from a service manager's
 * credential store), or DATA/steadfast.key. `steadfast serve --encrypt` on a new data directory
 * creates DATA/steadfast.key (mode 0600). The key is never in the repository or in steadfast.json.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SteadfastError } from '@steadfast/domain';
import { isPlainSqlite, parseKey, SQLITE_FILE } from '@steadfast/store';

export const KEY_FILE = 'steadfast.key';

export interface KeyOptions {
  /** A key file chosen by the practice (e.g. on a removable drive, or a credential mounted by systemd). */
  keyFile?: string;
  /** Encrypt a new data directory, creating DATA/steadfast.key when no key is given. */
  encrypt?: boolean;
}

export interface ResolvedKey {
  key?: string;
  /** Where it came from ("--key-file /x", "STEADFAST_DB_KEY", the default file). */
  source?: string;
  /** Set when this call created a new key file: the caller must tell the user to keep a copy. */
  created?: string;
}

/** Write a new random key to `file` (which must not exist) with owner-only permissions, synced to disk. */
export function createKeyFile(file: string): string {
  const key = randomBytes(32).toString('hex');
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    throw new SteadfastError('conflict', `Cannot create the key file ${file}: ${(err as Error).message}`, { field: file, hint: 'Choose a path that does not exist yet, in a folder you can write' });
  }
  try {
    writeSync(fd, `${key}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return key;
}

export function readKeyFile(file: string): string {
  if (!existsSync(file)) {
    throw new SteadfastError('not-found', `The key file ${file} does not exist`, { field: '--key-file', hint: 'Give the path of the key file made for this data directory (steadfast serve --encrypt or steadfast encrypt created it)' });
  }
  const mode = statSync(file).mode & 0o077;
  if (mode) process.stderr.write(`warning: the key file ${file} can be read by other users of this machine; chmod 600 it\n`);
  return parseKey(readFileSync(file, 'utf8'), file);
}

export const KEY_WARNING = (file: string) =>
  `A new database key was written to ${file}.\n` +
  '  KEEP A COPY AWAY FROM THIS MACHINE (the practice password manager, or printed in a sealed envelope in the safe).\n' +
  '  Without the key the database and every backup of it are unreadable; nobody can recover it.\n';

export function resolveKey(dataDir: string, options: KeyOptions = {}): ResolvedKey {
  if (options.keyFile) {
    if (!existsSync(options.keyFile) && options.encrypt && isPlainSqlite(join(dataDir, SQLITE_FILE)) === undefined) {
      return { key: createKeyFile(options.keyFile), source: options.keyFile, created: options.keyFile };
    }
    return { key: readKeyFile(options.keyFile), source: options.keyFile };
  }
  const envFile = process.env.STEADFAST_DB_KEY_FILE;
  if (envFile) return { key: readKeyFile(envFile), source: envFile };
  const env = process.env.STEADFAST_DB_KEY;
  if (env) return { key: parseKey(env, 'STEADFAST_DB_KEY'), source: 'STEADFAST_DB_KEY' };
  const inData = join(dataDir, KEY_FILE);
  if (existsSync(inData)) return { key: readKeyFile(inData), source: inData };
  if (options.encrypt) {
    const plain = isPlainSqlite(join(dataDir, SQLITE_FILE));
    if (plain === true) {
      throw new SteadfastError('invalid', `The database in ${dataDir} is not encrypted yet`, {
        field: '--encrypt',
        hint: `Stop the node and convert it with: steadfast encrypt --data ${dataDir} --key-file FILE`,
      });
    }
    return { key: createKeyFile(inData), source: inData, created: inData };
  }
  return {};
}
