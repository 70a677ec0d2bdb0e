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
import { CompiledQuery, sql, type Insertable, type Kysely } from 'kysely';
import { project, ruleFor, type ChangeEntry } from '@steadfast/domain';
import type { LoggedEntry } from './RecordStore.ts';
import { loggedEntryOf } from './logRows.ts';
import type { ChangeLogTable, Database, ResourceTable, SearchIndexTable } from './schema.ts';

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

/**
 * Many rows as one JSON parameter (an array of objects) for PostgreSQL's json_to_recordset, which
 * parses each row once: V8 writes it natively, where text-array parameters are escaped element by
 * element in JavaScript (most of the hub's CPU when it applies a large backlog).
 */
function jsonRecords(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  const keys = columns.map((c) => JSON.stringify(c));
  const parts: string[] = [];
  for (const row of rows) {
    const cells = columns.map((c, i) => `${keys[i]}:${JSON.stringify(pgText(row[c] ?? null))}`);
    parts.push(`{${cells.join(',')}}`);
  }
  return `[${parts.join(',')}]`;
}

/**
 * PostgreSQL text holds neither NUL nor half a UTF-16 surrogate pair, and one such character would
 * fail a whole replication batch again on every retry. Index values and names are cleaned (NUL
 * dropped, a lone surrogate becomes U+FFFD); the resource body itself stays exactly as written.
 */
function pgText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return value.replace(/\u0000/g, '').replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/**
 * Insert many search index rows. On PostgreSQL one statement with one JSON parameter (`json_to_recordset`),
 * which parses and plans once instead of once per 500 rows of thousands of parameters;
 * this is most of the cost of applying a large replication backlog at a hub.
 */
export async function insertIndexRows(trx: Kysely<Database>, dialect: 'sqlite' | 'postgres', rows: ReadonlyArray<Insertable<SearchIndexTable>>): Promise<void> {
  if (!rows.length) return;
  if (dialect === 'postgres') {
    const json = jsonRecords(['practice', 'resource_type', 'rkey', 'param', 'system', 'value', 'value_end'], rows as ReadonlyArray<Record<string, unknown>>);
    await sql`INSERT INTO search_index (practice, resource_type, rkey, param, system, value, value_end)
      SELECT * FROM json_to_recordset(${json}::json)
        AS x(practice text, resource_type text, rkey bigint, param text, system text, value text, value_end text)`.execute(trx);
    return;
  }
  for (let i = 0; i < rows.length; i += LOOKUP_CHUNK) {
    const part = rows.slice(i, i + LOOKUP_CHUNK);
    const params: unknown[] = [];
    for (const r of part) params.push(r.practice, r.resource_type, r.rkey, r.param, r.system, r.value, r.value_end);
    await trx.executeQuery(CompiledQuery.raw(sqliteInsert('INSERT INTO search_index (practice, resource_type, rkey, param, system, value, value_end) VALUES', 7, part.length), params));
  }
}

/**
 * SQLite multi-row INSERT text for `rows` rows of `columns` values, built once per shape. The hot
 * inserts (log, current rows, index) bypass the query builder: building and compiling a 500-row
 * insert value by value cost more CPU than SQLite spent executing it.
 */
const insertTexts = new Map<string, string>();
function sqliteInsert(head: string, columns: number, rows: number, tail = ''): string {
  const key = `${head}|${columns}|${rows}|${tail}`;
  let text = insertTexts.get(key);
  if (!text) {
    const tuple = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
    text = `${head} ${Array.from({ length: rows }, () => tuple).join(', ')}${tail ? ` ${tail}` : ''}`;
    insertTexts.set(key, text);
  }
  return text;
}

/**
 * Append change-log rows; returns each row's seq, in the order given. PostgreSQL: one statement,
 * seqs matched back by entry id (not by the order RETURNING happens to use).
 */
export async function insertLogRows(trx: Kysely<Database>, dialect: 'sqlite' | 'postgres', rows: ReadonlyArray<Insertable<ChangeLogTable>>): Promise<number[]>;
/** With `skipExisting`, a row whose entry id is already in the log is not inserted: its seq is undefined. */
export async function insertLogRows(
  trx: Kysely<Database>,
  dialect: 'sqlite' | 'postgres',
  rows: ReadonlyArray<Insertable<ChangeLogTable>>,
  options: { skipExisting: true },
): Promise<Array<number | undefined>>;
export async function insertLogRows(
  trx: Kysely<Database>,
  dialect: 'sqlite' | 'postgres',
  rows: ReadonlyArray<Insertable<ChangeLogTable>>,
  options: { skipExisting?: boolean } = {},
): Promise<Array<number | undefined>> {
  if (!rows.length) return [];
  const onConflict = options.skipExisting ? 'ON CONFLICT (practice, entry_id) DO NOTHING' : '';
  if (dialect === 'postgres') {
    // The body travels as a JSON string (its text exactly): embedded as raw JSON instead, PostgreSQL
    // would refuse a body holding an escaped NUL or half a surrogate pair when it reads the record.
    const columns = ['practice', 'entry_id', 'origin_node', 'hlc', 'resource_type', 'resource_id', 'version_id', 'base_version_id', 'op', 'body', 'author', 'recorded_at'];
    const json = jsonRecords(columns, rows as ReadonlyArray<Record<string, unknown>>);
    const result = await sql<{ entry_id: string; seq: number | string }>`
      INSERT INTO change_log (practice, entry_id, origin_node, hlc, resource_type, resource_id, version_id, base_version_id, op, body, author, recorded_at)
      SELECT * FROM json_to_recordset(${json}::json) AS x(practice text, entry_id text, origin_node text, hlc text, resource_type text, resource_id text,
             version_id text, base_version_id text, op text, body text, author text, recorded_at text)
      ${sql.raw(onConflict)}
      RETURNING entry_id, seq`.execute(trx);
    const seqOf = new Map(result.rows.map((r) => [r.entry_id, Number(r.seq)]));
    return rows.map((r) => seqOf.get(r.entry_id));
  }
  const seqs: Array<number | undefined> = [];
  for (let i = 0; i < rows.length; i += LOOKUP_CHUNK) {
    const part = rows.slice(i, i + LOOKUP_CHUNK);
    const params: unknown[] = [];
    for (const r of part) {
      params.push(r.practice, r.entry_id, r.origin_node, r.hlc, r.resource_type, r.resource_id, r.version_id, r.base_version_id ?? null, r.op, r.body ?? null, r.author, r.recorded_at);
    }
    const text = sqliteInsert(
      'INSERT INTO change_log (practice, entry_id, origin_node, hlc, resource_type, resource_id, version_id, base_version_id, op, body, author, recorded_at) VALUES',
      12,
      part.length,
      `${onConflict} RETURNING entry_id, seq`,
    );
    const out = await trx.executeQuery<{ entry_id: string; seq: number }>(CompiledQuery.raw(text, params));
    const seqOf = new Map(out.rows.map((r) => [r.entry_id, Number(r.seq)]));
    for (const r of part) seqs.push(seqOf.get(r.entry_id));
  }
  return seqs;
}

/** Insert or update current-version rows; returns `Type/id` → rkey. PostgreSQL: one statement. */
export async function upsertResourceRows(
  trx: Kysely<Database>,
  dialect: 'sqlite' | 'postgres',
  rows: ReadonlyArray<Omit<Insertable<ResourceTable>, 'rkey'>>,
): Promise<Map<string, number>> {
  const rkeys = new Map<string, number>();
  if (!rows.length) return rkeys;
  if (dialect === 'postgres') {
    const json = jsonRecords(['practice', 'resource_type', 'id', 'version_id', 'seq', 'hlc', 'last_updated', 'deleted'], rows as ReadonlyArray<Record<string, unknown>>);
    const result = await sql<{ resource_type: string; id: string; rkey: number | string }>`
      INSERT INTO resources (practice, resource_type, id, version_id, seq, hlc, last_updated, deleted)
      SELECT * FROM json_to_recordset(${json}::json)
        AS x(practice text, resource_type text, id text, version_id text, seq bigint, hlc text, last_updated text, deleted smallint)
      ON CONFLICT (practice, resource_type, id) DO UPDATE SET version_id = excluded.version_id, seq = excluded.seq, hlc = excluded.hlc,
        last_updated = excluded.last_updated, deleted = excluded.deleted
      RETURNING resource_type, id, rkey`.execute(trx);
    for (const r of result.rows) rkeys.set(`${r.resource_type}/${r.id}`, Number(r.rkey));
    return rkeys;
  }
  for (let i = 0; i < rows.length; i += LOOKUP_CHUNK) {
    const part = rows.slice(i, i + LOOKUP_CHUNK);
    const params: unknown[] = [];
    for (const r of part) params.push(r.practice, r.resource_type, r.id, r.version_id, r.seq, r.hlc, r.last_updated, r.deleted);
    const text = sqliteInsert(
      'INSERT INTO resources (practice, resource_type, id, version_id, seq, hlc, last_updated, deleted) VALUES',
      8,
      part.length,
      `ON CONFLICT (practice, resource_type, id) DO UPDATE SET version_id = excluded.version_id, seq = excluded.seq, hlc = excluded.hlc,
        last_updated = excluded.last_updated, deleted = excluded.deleted RETURNING resource_type, id, rkey`,
    );
    const out = await trx.executeQuery<{ resource_type: string; id: string; rkey: number }>(CompiledQuery.raw(text, params));
    for (const r of out.rows) rkeys.set(`${r.resource_type}/${r.id}`, Number(r.rkey));
  }
  return rkeys;
}
