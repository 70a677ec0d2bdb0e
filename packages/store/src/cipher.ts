/**
 * Encryption at rest of a practice node's SQLite file.
 *
 * The driver is better-sqlite3-multiple-ciphers (SQLite3 Multiple Ciphers, installed under the name
 * `better-sqlite3`, so every import in the project uses the one driver). The cipher is SQLCipher 4
 * (AES-256-CBC, HMAC-SHA512 per page): chosen over the library's default (sqleet, ChaCha20-Poly1305)
 * because SQLCipher's format is read by widely available tools (sqlcipher, DB Browser for SQLite), so
 * a practice or a recovery service can open its own file without Steadfast.
 *
 * The key is 256 random bits written as 64 hex digits. It is given to SQLCipher as a raw key
 * (`x'...'`), so no passphrase derivation runs on open (it would add ~1 s and no strength to a
 * random key).
 */
import { closeSync, existsSync, fsyncSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { SteadfastError } from '@steadfast/domain';

export const CIPHER = 'sqlcipher';
export const CIPHER_LEGACY = 4;
const SQLITE_HEADER = 'SQLite format 3\0';
const KEY_PATTERN = /^[0-9a-f]{64}$/;

/** Check a key read from a file or the environment; `source` names where it came from. */
export function parseKey(raw: string, source: string): string {
  const key = raw.trim().toLowerCase();
  if (!KEY_PATTERN.test(key)) {
    throw new SteadfastError('invalid', `The database key in ${source} is not 64 hexadecimal digits (256 bits)`, {
      field: source,
      hint: 'Use the key file Steadfast created (steadfast serve --encrypt or steadfast encrypt), or make one with: openssl rand -hex 32',
    });
  }
  return key;
}

/** Set the cipher and key on a freshly opened connection, before anything reads the file. */
export function applyKey(sqlite: BetterSqlite3.Database, key: string): void {
  sqlite.pragma(`cipher = '${CIPHER}'`);
  sqlite.pragma(`legacy = ${CIPHER_LEGACY}`);
  sqlite.pragma(`key = "x'${key}'"`);
}

/**
 * Whether the file at `file` is an unencrypted SQLite database (its first 16 bytes are SQLite's
 * header); undefined when there is no file or it is empty (a new database).
 */
export function isPlainSqlite(file: string): boolean | undefined {
  if (!existsSync(file)) return undefined;
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(16);
    const n = readSync(fd, head, 0, 16, 0);
    if (n === 0) return undefined;
    return head.toString('latin1') === SQLITE_HEADER;
  } finally {
    closeSync(fd);
  }
}

const KEY_HELP =
  'give the key with --key-file FILE or the STEADFAST_DB_KEY environment variable, or put the key file at DATA/steadfast.key. ' +
  'A lost key cannot be recovered: restore the record from the hub (see "Key loss" in docs/server.md)';

/**
 * Open a SQLite file, encrypted with `key` or plain without one, and prove it can be read. Errors say
 * which of "encrypted but no key", "wrong key" and "plain but a key was given" happened, and the fix.
 */
export function openSqliteFile(file: string, key: string | undefined, options: { readonly?: boolean; fileMustExist?: boolean } = {}): BetterSqlite3.Database {
  const plain = isPlainSqlite(file);
  if (plain === true && key) {
    throw new SteadfastError('invalid', `The database ${file} is not encrypted, but a database key was given`, {
      field: file,
      hint: 'Encrypt it first with: steadfast encrypt --data DIR --key-file FILE (or start without a key to use it unencrypted)',
    });
  }
  if (plain === false && !key) {
    throw new SteadfastError('locked', `The database ${file} is encrypted (or is not a SQLite database) and no database key was given`, {
      field: file,
      hint: `To open it, ${KEY_HELP}`,
    });
  }
  const sqlite = new BetterSqlite3(file, { readonly: options.readonly ?? false, fileMustExist: options.fileMustExist ?? false });
  try {
    if (key) applyKey(sqlite, key);
    sqlite.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (err) {
    sqlite.close();
    if ((err as { code?: string }).code === 'SQLITE_NOTADB') {
      throw new SteadfastError('locked', key ? `The database key does not open ${file} (wrong key, or the file is damaged)` : `${file} is not a SQLite database`, {
        field: file,
        hint: key ? `Check you gave the key file made for this data directory; ${KEY_HELP}` : 'Restore it from a backup: steadfast restore --data DIR --from FILE',
      });
    }
    throw err;
  }
  return sqlite;
}

/** fsync a file and the directory holding it, so a rename or a new file survives power loss. */
export function fsyncFileAndDir(file: string): void {
  for (const [path, flags] of [[file, 'r+'], [dirname(file), 'r']] as const) {
    const fd = openSync(path, flags);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
