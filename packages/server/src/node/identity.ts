/**
 * A node's identity lives in its data directory (`steadfast.json`), written on first use, so that
 * the same directory always opens as the same node of the same practice (the change log records the
 * node id as the origin of every write; a new id each start would look like a different machine).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SteadfastError } from '@steadfast/domain';

export type NodeRole = 'node' | 'hub';

export interface NodeIdentity {
  nodeId: string;
  /** ODS code of the practice (or of the hub's region for a hub). */
  practice: string;
  role: NodeRole;
  createdAt: string;
}

export const DEFAULT_PRACTICE = 'Y99999';
export const IDENTITY_FILE = 'steadfast.json';

export function resolveDataDir(option: string | undefined): string {
  return resolve(option ?? process.env.STEADFAST_DATA ?? './data');
}

/** Read the identity in `dataDir`, creating the directory and the file when they do not exist yet. */
export function loadOrCreateIdentity(dataDir: string, defaults: { practice?: string; role?: NodeRole } = {}): NodeIdentity {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, IDENTITY_FILE);
  if (existsSync(file)) {
    let parsed: Partial<NodeIdentity>;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<NodeIdentity>;
    } catch (err) {
      throw new SteadfastError('invalid', `${file} is not valid JSON (${(err as Error).message})`, {
        field: file,
        hint: 'Restore it from a backup; it holds the node id and practice code of this data directory',
      });
    }
    if (typeof parsed.nodeId !== 'string' || typeof parsed.practice !== 'string') {
      throw new SteadfastError('invalid', `${file} lacks nodeId or practice`, { field: file, hint: 'Restore it from a backup' });
    }
    return { nodeId: parsed.nodeId, practice: parsed.practice, role: parsed.role === 'hub' ? 'hub' : 'node', createdAt: parsed.createdAt ?? '' };
  }
  const identity: NodeIdentity = {
    nodeId: randomUUID(),
    practice: defaults.practice ?? DEFAULT_PRACTICE,
    role: defaults.role ?? 'node',
    createdAt: new Date().toISOString(),
  };
  writeFileSync(file, `${JSON.stringify(identity, null, 2)}\n`, { flag: 'wx' });
  return identity;
}

/** A port from a flag or environment variable, or the fallback; an error naming the flag otherwise. */
export function parsePort(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new SteadfastError('invalid', `${name} "${raw}" is not a port number (0-65535)`, { field: name, hint: `e.g. ${name} ${fallback}` });
  return n;
}
