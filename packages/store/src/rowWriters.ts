/**
 * Writing the store's rows (change log, current versions, search index) in bulk, for local writes
 * and for entries applied from other nodes alike: one multi-row statement per table, and on
 * PostgreSQL one JSON parameter per statement.
 */
import { CompiledQuery, sql, type Insertable, type Kysely } from 'kysely';
import type { ChangeLogTable, Database, ResourceTable, SearchIndexTable } from './schema.ts';

/** Rows per SQLite statement: well under its limit on bound parameters. */
const LOOKUP_CHUNK = 500;

/**
 * Many rows as one JSON parameter (an array of objects) for PostgreSQL's json_to_recordset, which
 * parses each row once: V8 writes it natively, where text-array parameters are escaped element by
 * element in JavaScript (most of the hub's CPU when it applies a large backlog).
 */
export function jsonRecords(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
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
