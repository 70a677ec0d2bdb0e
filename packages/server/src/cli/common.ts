/** Shared pieces of the CLI: opening the data directory, reading stdin, printing errors. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isSteadfastError, SteadfastError } from '@steadfast/domain';
import { openNode, type OpenedNode } from '../node/open.ts';
import { IDENTITY_FILE, resolveDataDir, type NodeRole } from '../node/identity.ts';
import { KEY_WARNING, resolveKey } from '../atrest/key.ts';

export interface DataOptions {
  data?: string;
  databaseUrl?: string;
  practice?: string;
  role?: NodeRole;
  /** The database key file (atrest/key.ts: else STEADFAST_DB_KEY, else DATA/steadfast.key). */
  keyFile?: string;
  /** Encrypt a new data directory (serve --encrypt). */
  encrypt?: boolean;
  /** Start a new empty practice in a named --data directory that does not exist yet. */
  init?: boolean;
}

/**
 * A mistyped `--data` (or STEADFAST_DATA) must not quietly start a new, empty practice: staff would
 * sign in to a record with no patients and think the data was lost, or worse, start work in it. A
 * named directory that does not exist is refused unless `--init` says a new practice is meant; the
 * default ./data may still be created, with a note on stderr saying so.
 */
export function checkDataDir(options: Pick<DataOptions, 'data' | 'init'>, env: NodeJS.ProcessEnv = process.env, write: (line: string) => void = (l) => process.stderr.write(l)): string {
  const named = options.data ?? (env.STEADFAST_DATA || undefined);
  const dataDir = resolveDataDir(named ?? './data');
  if (existsSync(join(dataDir, IDENTITY_FILE))) return dataDir;
  if (named !== undefined && !existsSync(dataDir) && !options.init) {
    throw new SteadfastError('not-found', `There is no practice at ${dataDir}: the data directory does not exist`, {
      field: options.data !== undefined ? '--data' : 'STEADFAST_DATA',
      hint: `Check the path for a typing mistake; to start a new empty practice there, run the command again with --init`,
    });
  }
  write(`note: starting a new empty practice in ${dataDir}\n`);
  return dataDir;
}

export function openFromOptions(options: DataOptions): Promise<OpenedNode> {
  const databaseUrl = options.databaseUrl ?? process.env.STEADFAST_DATABASE_URL;
  const dataDir = checkDataDir(options);
  const { key, created } = databaseUrl ? {} : resolveKey(dataDir, { ...(options.keyFile ? { keyFile: options.keyFile } : {}), ...(options.encrypt ? { encrypt: true } : {}) });
  if (created) process.stderr.write(KEY_WARNING(created));
  return openNode({
    dataDir,
    ...(key ? { key } : {}),
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(options.practice ? { practice: options.practice } : {}),
    ...(options.role ? { role: options.role } : {}),
  });
}

export async function withNode<T>(options: DataOptions, fn: (node: OpenedNode) => Promise<T>): Promise<T> {
  const node = await openFromOptions(options);
  try {
    return await fn(node);
  } finally {
    await node.close();
  }
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Print an error the way a person can act on it, and set a failing exit code. */
export function reportError(err: unknown): void {
  if (isSteadfastError(err)) {
    for (const e of [err, ...err.more]) {
      process.stderr.write(`error: ${e.field && !e.message.includes(e.field) ? `${e.field}: ` : ''}${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}\n`);
    }
  } else {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.STEADFAST_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  }
  process.exitCode = 1;
}
