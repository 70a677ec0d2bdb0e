/**
 * How entries written elsewhere become the current version of a resource. Entries are stored
 * idempotently (by entry id); then each touched resource is re-projected from all of its entries so
 * that every replica reaches the same current version whatever order entries arrive in.
 *
 * The rules table lives in @steadfast/domain (sync/conflict-rules.ts): the current version is the
 * head that `project` picks, which is the entry with the greatest hybrid-logical-clock time except for
 * Tasks, where a second create of one id (two nodes raising the same review) is ignored. Local writes
 * always carry the greatest time a node has seen, so for a single node this is "the latest write".
 * Field merges (Patient) and review Tasks are materialised by the sync capability as ordinary entries
 * (packages/server/src/sync/conflicts.ts), so the store only ever serves the body of one entry.
 */
import { sql, type Kysely } from 'kysely';
import { project, ruleFor, type ChangeEntry } from '@steadfast/domain';
import type { LoggedEntry } from './RecordStore.ts';
import { loggedEntryOf } from './logRows.ts';
import type { Database } from './schema.ts';
import { jsonRecords } from './rowWriters.ts';

export interface ProjectionInput {
  hlc: string;
  entryId: string;
}

function isFullEntry(e: ProjectionInput): e is ProjectionInput & ChangeEntry {
  return 'resourceType' in e && 'baseVersionId' in e && 'op' in e;
}

/** The entry that is the current version, given all entries of one resource (any order). */
export function currentEntry<T extends ProjectionInput>(entries: readonly T[]): T | undefined {
  if (entries.length && entries.every(isFullEntry)) {
    const head = project(entries as unknown as ChangeEntry[])?.head;
    return entries.find((e) => e.entryId === head?.entryId);
  }
  let best: T | undefined;
  for (const e of entries) {
    if (!best || e.hlc > best.hlc || (e.hlc === best.hlc && e.entryId > best.entryId)) best = e;
  }
  return best;
}

/** Check an incoming entry's shape before anything of its batch is applied. */
export function checkRemoteEntry(e: ChangeEntry, practice: string): string | undefined {
  if (e.practice !== practice) return `entry ${e.entryId} belongs to practice ${e.practice}, not ${practice}`;
  if (e.op === 'put' && (!e.resource || e.resource.resourceType !== e.resourceType || e.resource.id !== e.resourceId)) {
    return `entry ${e.entryId} body does not match ${e.resourceType}/${e.resourceId}`;
  }
  if (e.op === 'delete' && e.resource !== null) return `delete entry ${e.entryId} must not carry a body`;
  return undefined;
}

/** Rows per IN (...) list: well under SQLite's bound-parameter limit. */
const LOOKUP_CHUNK = 500;

/**
 * The current row (seq, hlc) of each resource named, keyed `Type/id`. PostgreSQL: one query for the
 * whole batch (a hub applies thousands of entries of a dozen types at once); SQLite: per type.
 */
async function currentVersions(trx: Kysely<Database>, dialect: 'sqlite' | 'postgres', practice: string, idsByType: Map<string, Set<string>>): Promise<Map<string, { seq: number; hlc: string }>> {
  const out = new Map<string, { seq: number; hlc: string }>();
  if (dialect === 'postgres') {
    const keys = [...idsByType].flatMap(([type, ids]) => [...ids].map((id) => ({ resource_type: type, id })));
    if (!keys.length) return out;
    const rows = await sql<{ resource_type: string; id: string; seq: number | string; hlc: string }>`
      SELECT r.resource_type, r.id, r.seq, r.hlc FROM json_to_recordset(${jsonRecords(['resource_type', 'id'], keys)}::json) AS k(resource_type text, id text)
      JOIN resources r ON r.practice = ${practice} AND r.resource_type = k.resource_type AND r.id = k.id`.execute(trx);
    for (const r of rows.rows) out.set(`${r.resource_type}/${r.id}`, { seq: Number(r.seq), hlc: r.hlc });
    return out;
  }
  for (const [type, idSet] of idsByType) {
    const ids = [...idSet];
    for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) {
      const rows = await trx.selectFrom('resources').select(['id', 'seq', 'hlc']).where('practice', '=', practice).where('resource_type', '=', type).where('id', 'in', ids.slice(i, i + LOOKUP_CHUNK)).execute();
      for (const r of rows) out.set(`${type}/${r.id}`, { seq: Number(r.seq), hlc: r.hlc });
    }
  }
  return out;
}

/**
 * After remote entries are in the log: which resources must point at a different entry now, and which
 * of them have no projection yet (so their index rows need no delete). Loads every touched resource's
 * entries and current row with a few set queries (`currentVersions`, then the log of resources with several entries), not two
 * queries per resource, so a hub applies a large backlog at close to bulk-insert speed.
 */
export async function remoteProjections(
  trx: Kysely<Database>,
  dialect: 'sqlite' | 'postgres',
  practice: string,
  fresh: ReadonlyArray<{ entry: ChangeEntry; seq: number }>,
): Promise<{ projections: Array<{ entry: ChangeEntry; seq: number }>; unprojected: Set<string> }> {
  const idsByType = new Map<string, Set<string>>();
  // Entries of this batch per resource: a resource new here with one entry needs no log lookup.
  const batchEntries = new Map<string, Array<{ entry: ChangeEntry; seq: number }>>();
  for (const f of fresh) {
    const ids = idsByType.get(f.entry.resourceType) ?? new Set<string>();
    ids.add(f.entry.resourceId);
    idsByType.set(f.entry.resourceType, ids);
    const key = `${f.entry.resourceType}/${f.entry.resourceId}`;
    batchEntries.set(key, [...(batchEntries.get(key) ?? []), f]);
  }
  const projections: Array<{ entry: ChangeEntry; seq: number }> = [];
  const unprojected = new Set<string>();
  const current = await currentVersions(trx, dialect, practice, idsByType);
  for (const [type, idSet] of idsByType) {
    const ids = [...idSet];
    for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) {
      const part = ids.slice(i, i + LOOKUP_CHUNK);
      const needLog: string[] = [];
      for (const id of part) {
        const mine = batchEntries.get(`${type}/${id}`)!;
        const only = mine.length === 1 ? mine[0]! : undefined;
        const now = current.get(`${type}/${id}`);
        if (only && !now) {
          // New here, and this batch holds its only entry: that entry is current.
          unprojected.add(`${type}/${id}`);
          projections.push(only);
        } else if (only && ruleFor(type).rule !== 'first-create-wins' && only.entry.hlc > now!.hlc) {
          // One newer entry where the latest HLC wins: it is current without reading the log.
          projections.push(only);
        } else needLog.push(id);
      }
      if (!needLog.length) continue;
      const logRows = await trx.selectFrom('change_log').selectAll().where('practice', '=', practice).where('resource_type', '=', type).where('resource_id', 'in', needLog).execute();
      const entriesById = new Map<string, LoggedEntry[]>();
      for (const r of logRows) {
        const list = entriesById.get(r.resource_id) ?? [];
        list.push(loggedEntryOf(r));
        entriesById.set(r.resource_id, list);
      }
      for (const id of needLog) {
        const winner = currentEntry(entriesById.get(id) ?? []);
        if (!winner) continue;
        const now = current.get(`${type}/${id}`)?.seq;
        if (now === undefined) unprojected.add(`${type}/${id}`);
        if (now !== winner.seq) {
          const { seq, ...entry } = winner;
          projections.push({ entry, seq });
        }
      }
    }
  }
  return { projections, unprojected };
}
