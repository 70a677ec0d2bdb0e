/**
 * The RecordStore on kysely: one implementation for SQLite (better-sqlite3, WAL) and PostgreSQL (pg),
 * differing only where the two dialects must.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Resource } from '@medplum/fhirtypes';
import {
  decodeHlc,
  extractIndexRows,
  HybridLogicalClock,
  SteadfastError,
  type ChangeEntry,
  type StoredResource,
} from '@steadfast/domain';
import type {
  LoggedEntry,
  RecordStore,
  SearchPage,
  SearchRequest,
  StoreTransaction,
  WriteCheck,
  WriteContext,
  WriteOutcome,
  WriteRequest,
} from './RecordStore.ts';
import type { Database, Dialect } from './schema.ts';
import { buildSearch, sortKey } from './search.ts';
import { logRow, loggedEntryOf } from './logRows.ts';
import { checkRemoteEntry, remoteProjections } from './replication.ts';
import { insertIndexRows, insertLogRows, upsertResourceRows } from './rowWriters.ts';

/** Rows per multi-row INSERT: well under SQLite's 32,766 bound parameters. */
const INSERT_CHUNK = 500;

interface CurrentRow {
  version_id: string;
  seq: number;
  hlc: string;
  deleted: number;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function toStored(body: string | null, versionId: string, lastUpdated: string, deleted: boolean, type: string, id: string): StoredResource {
  const resource = body ? (JSON.parse(body) as Resource) : ({ resourceType: type, id } as Resource);
  return { resource, versionId, lastUpdated, deleted };
}

export class KyselyStore implements RecordStore {
  private readonly clock: HybridLogicalClock;

  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    readonly nodeId: string,
    readonly practice: string,
    private readonly onClose: () => Promise<void>,
  ) {
    this.clock = new HybridLogicalClock(nodeId);
  }

  /** Make later local writes order after everything already in the log (e.g. after a restart). */
  async initClock(): Promise<void> {
    const row = await this.db.selectFrom('change_log').select(sql<string>`max(hlc)`.as('hlc')).where('practice', '=', this.practice).executeTakeFirst();
    if (row?.hlc) this.clock.observe(row.hlc);
  }

  // ---- writes ---------------------------------------------------------------------------------

  async write(requests: WriteRequest[], ctx: WriteContext): Promise<WriteOutcome[]> {
    return this.transaction(ctx, (tx) => tx.write(requests));
  }

  private writeCheck: WriteCheck | undefined;

  setWriteCheck(check: WriteCheck | undefined): void {
    this.writeCheck = check;
  }

  async transaction<T>(ctx: WriteContext, fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      // One writer per practice at a time on PostgreSQL, so log seq order is commit order and a
      // replication cursor never skips an entry that commits late.
      if (this.dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(hashtext(${this.practice}))`.execute(trx);
      const check = ctx.prevalidated ? undefined : this.writeCheck;
      const tx: StoreTransaction = {
        db: trx,
        write: async (requests) => {
          if (check) await check(requests, tx);
          return this.writeIn(trx, requests, ctx);
        },
        read: (type, id) => this.readIn(trx, type, id),
        search: (request) => this.searchIn(trx, request),
      };
      return fn(tx);
    });
  }

  /** Current rows of every resource a batch updates or deletes, fetched in a few set queries. */
  private async currentRows(trx: Kysely<Database>, requests: WriteRequest[]): Promise<Map<string, CurrentRow>> {
    const idsByType = new Map<string, Set<string>>();
    for (const req of requests) {
      if (req.kind === 'create') continue;
      const type = req.kind === 'delete' ? req.resourceType : req.resource.resourceType;
      const id = req.kind === 'delete' ? req.id : req.resource.id;
      if (!id) continue;
      if (!idsByType.has(type)) idsByType.set(type, new Set());
      idsByType.get(type)!.add(id);
    }
    const rows = new Map<string, CurrentRow>();
    for (const [type, ids] of idsByType) {
      for (const part of chunks([...ids], INSERT_CHUNK)) {
        const found = await trx
          .selectFrom('resources')
          .select(['id', 'version_id', 'seq', 'hlc', 'deleted'])
          .where('practice', '=', this.practice)
          .where('resource_type', '=', type)
          .where('id', 'in', part)
          .execute();
        for (const { id, ...row } of found) rows.set(`${type}/${id}`, row);
      }
    }
    return rows;
  }

  private async writeIn(trx: Transaction<Database>, requests: WriteRequest[], ctx: WriteContext): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = [];
    const entries: ChangeEntry[] = [];
    // Resources written earlier in this batch, so later requests in it see them.
    const pending = new Map<string, CurrentRow & { resource: Resource | null }>();
    const created = new Set<string>();
    const tokensCreated = new Map<string, Resource>();
    const stored = await this.currentRows(trx, requests);

    for (const [i, req] of requests.entries()) {
      const where = requests.length > 1 ? ` (request ${i + 1} of ${requests.length})` : '';
      if (req.kind === 'create' && req.ifNoneExist) {
        const t = req.ifNoneExist;
        const key = `${req.resource.resourceType}|${t.param}|${t.system}|${t.value}`;
        const inBatch = tokensCreated.get(key);
        const existing = inBatch ? { resource: inBatch } : await this.findByToken(trx, req.resource.resourceType, t);
        if (existing) {
          outcomes.push({ status: 'existing', resource: existing.resource });
          continue;
        }
      }
      const type = req.kind === 'delete' ? req.resourceType : req.resource.resourceType;
      const id = req.kind === 'create' ? randomUUID() : req.kind === 'delete' ? req.id : req.resource.id;
      if (!id) throw new SteadfastError('required', `An update needs the resource id${where}`, { field: `${type}.id`, hint: 'PUT to /fhir/R4/Type/id with the same id in the body' });
      const key = `${type}/${id}`;
      const current = req.kind === 'create' ? undefined : (pending.get(key) ?? stored.get(key));
      const ifMatch = req.kind === 'create' ? undefined : req.ifMatch;
      if (ifMatch !== undefined && (!current || current.version_id !== ifMatch)) {
        throw new SteadfastError('precondition-failed', `${key} is at version ${current?.version_id ?? '(none)'}, not ${ifMatch}${where}`, {
          field: 'If-Match',
          hint: 'Someone else changed this record; reload it, re-apply your change and save again',
        });
      }
      if (req.kind === 'delete' && (!current || current.deleted)) {
        throw new SteadfastError('not-found', `${key} was not found${where}`);
      }
      const hlc = this.clock.tick();
      const entryId = randomUUID();
      const lastUpdated = new Date(decodeHlc(hlc).wallMs).toISOString();
      let resource: Resource | null = null;
      if (req.kind !== 'delete') {
        resource = { ...req.resource, id, meta: { ...req.resource.meta, versionId: entryId, lastUpdated } } as Resource;
      }
      const entry: ChangeEntry = {
        entryId,
        originNode: this.nodeId,
        practice: this.practice,
        hlc,
        resourceType: type,
        resourceId: id,
        versionId: entryId,
        baseVersionId: current && !current.deleted ? current.version_id : null,
        op: req.kind === 'delete' ? 'delete' : 'put',
        resource,
        author: ctx.author,
      };
      entries.push(entry);
      if (!current && !pending.has(key)) created.add(key);
      pending.set(key, { version_id: entryId, seq: 0, hlc, deleted: req.kind === 'delete' ? 1 : 0, resource });
      if (req.kind === 'create' && req.ifNoneExist && resource) {
        const t = req.ifNoneExist;
        tokensCreated.set(`${type}|${t.param}|${t.system}|${t.value}`, resource);
      }
      outcomes.push({
        status: req.kind === 'delete' ? 'deleted' : current && !current.deleted ? 'updated' : 'created',
        resource,
        entry,
      });
    }
    await this.appendAndProject(trx, entries, created);
    return outcomes;
  }

  private async findByToken(trx: Kysely<Database>, type: string, t: { param: string; system: string; value: string }) {
    const row = await trx
      .selectFrom('search_index as s')
      .innerJoin('resources as r', (j) =>
        j.onRef('r.rkey', '=', 's.rkey'),
      )
      .innerJoin('change_log as c', (j) => j.onRef('c.practice', '=', 'r.practice').onRef('c.seq', '=', 'r.seq'))
      .select(['c.body'])
      .where('s.practice', '=', this.practice)
      .where('s.resource_type', '=', type)
      .where('s.param', '=', t.param)
      .where('s.system', '=', t.system)
      .where('s.value', '=', t.value)
      .where('r.deleted', '=', 0)
      .executeTakeFirst();
    return row?.body ? { resource: JSON.parse(row.body) as Resource } : undefined;
  }

  /**
   * Append entries to the log and make the last entry of each resource its current version, with its
   * search index rows. `fresh` names resources known to have no rows yet (skips the index delete).
   */
  private async appendAndProject(trx: Kysely<Database>, entries: ChangeEntry[], fresh: Set<string>): Promise<void> {
    if (!entries.length) return;
    const now = new Date().toISOString();
    const seqs = await insertLogRows(trx, this.dialect, entries.map((e) => logRow(e, now)));
    const last = new Map<string, { entry: ChangeEntry; seq: number }>();
    entries.forEach((entry, i) => last.set(`${entry.resourceType}/${entry.resourceId}`, { entry, seq: seqs[i]! }));
    await this.project(trx, [...last.values()], fresh);
  }

  /** Point each resource at its current entry and rebuild its index rows. */
  private async project(trx: Kysely<Database>, current: Array<{ entry: ChangeEntry; seq: number }>, fresh: Set<string>): Promise<void> {
    const rkeys = await upsertResourceRows(
      trx,
      this.dialect,
      current.map(({ entry, seq }) => ({
        practice: this.practice,
        resource_type: entry.resourceType,
        id: entry.resourceId,
        version_id: entry.versionId,
        seq,
        hlc: entry.hlc,
        last_updated: new Date(decodeHlc(entry.hlc).wallMs).toISOString(),
        deleted: entry.op === 'delete' ? 1 : 0,
      })),
    );
    const rkeyOf = (e: ChangeEntry) => rkeys.get(`${e.resourceType}/${e.resourceId}`)!;
    const stale = current.filter(({ entry }) => !fresh.has(`${entry.resourceType}/${entry.resourceId}`)).map(({ entry }) => rkeyOf(entry));
    for (const part of chunks(stale, INSERT_CHUNK)) await trx.deleteFrom('search_index').where('rkey', 'in', part).execute();
    const indexRows = current.flatMap(({ entry }) =>
      entry.op === 'put' && entry.resource
        ? extractIndexRows(entry.resource).map((r) => ({
            practice: this.practice,
            resource_type: entry.resourceType,
            rkey: rkeyOf(entry),
            param: r.param,
            system: r.system,
            value: r.value,
            value_end: r.valueEnd,
          }))
        : [],
    );
    await insertIndexRows(trx, this.dialect, indexRows);
  }

  // ---- reads ----------------------------------------------------------------------------------

  read(type: string, id: string): Promise<StoredResource | undefined> {
    return this.readIn(this.db, type, id);
  }

  private async readIn(db: Kysely<Database>, type: string, id: string): Promise<StoredResource | undefined> {
    const row = await db
      .selectFrom('resources as r')
      .innerJoin('change_log as c', (j) => j.onRef('c.practice', '=', 'r.practice').onRef('c.seq', '=', 'r.seq'))
      .select(['c.body', 'r.version_id', 'r.last_updated', 'r.deleted'])
      .where('r.practice', '=', this.practice)
      .where('r.resource_type', '=', type)
      .where('r.id', '=', id)
      .executeTakeFirst();
    return row ? toStored(row.body, row.version_id, row.last_updated, row.deleted === 1, type, id) : undefined;
  }

  async vread(type: string, id: string, versionId: string): Promise<StoredResource | undefined> {
    const row = await this.db
      .selectFrom('change_log')
      .select(['body', 'version_id', 'hlc', 'op'])
      .where('practice', '=', this.practice)
      .where('resource_type', '=', type)
      .where('resource_id', '=', id)
      .where('version_id', '=', versionId)
      .executeTakeFirst();
    if (!row) return undefined;
    return toStored(row.body, row.version_id, new Date(decodeHlc(row.hlc).wallMs).toISOString(), row.op === 'delete', type, id);
  }

  async history(type: string, id: string, options: { count?: number; offset?: number } = {}): Promise<StoredResource[]> {
    const rows = await this.db
      .selectFrom('change_log')
      .select(['body', 'version_id', 'hlc', 'op'])
      .where('practice', '=', this.practice)
      .where('resource_type', '=', type)
      .where('resource_id', '=', id)
      .orderBy('hlc', 'desc')
      .limit(options.count ?? 100)
      .offset(options.offset ?? 0)
      .execute();
    return rows.map((r) => toStored(r.body, r.version_id, new Date(decodeHlc(r.hlc).wallMs).toISOString(), r.op === 'delete', type, id));
  }

  search(request: SearchRequest): Promise<SearchPage> {
    return this.searchIn(this.db, request);
  }

  private async searchIn(db: Kysely<Database>, req: SearchRequest): Promise<SearchPage> {
    if (!Number.isInteger(req.count) || req.count < 1 || req.count > 1000) {
      throw new SteadfastError('invalid', `_count ${req.count} is out of range`, { field: '_count', hint: 'Use a whole number from 1 to 1000' });
    }
    const base = buildSearch(db, this.practice, req);
    let q = base
      .innerJoin('change_log as c', (j) => j.onRef('c.practice', '=', 'r.practice').onRef('c.seq', '=', 'r.seq'))
      .select(['r.id', 'c.body']);
    for (const s of req.sort ?? []) {
      const dir = s.descending ? 'desc' : 'asc';
      if (s.param === '_lastUpdated') q = q.orderBy('r.last_updated', dir);
      else if (s.param === '_id') q = q.orderBy('r.id', dir);
      else {
        sortKey(this.practice, req.resourceType, s.param);
        const agg = s.descending ? 'max' : 'min';
        q = q.orderBy(
          sql`(SELECT ${sql.raw(agg)}(si.value) FROM search_index si WHERE si.rkey = r.rkey AND si.param = ${s.param})`,
          dir,
        );
      }
    }
    q = q.orderBy('r.last_updated', 'desc').orderBy('r.id', 'asc');
    const rows = await q.limit(req.count + 1).offset(req.offset).execute();
    const page: SearchPage = {
      resources: rows.slice(0, req.count).map((r) => JSON.parse(r.body ?? '{}') as Resource),
      hasMore: rows.length > req.count,
    };
    if (req.total) {
      const t = await base.select(sql<number>`count(*)`.as('n')).executeTakeFirst();
      page.total = Number(t?.n ?? 0);
    }
    return page;
  }

  // ---- replication ----------------------------------------------------------------------------

  async changesSince(afterSeq: number, limit: number): Promise<LoggedEntry[]> {
    const rows = await this.db
      .selectFrom('change_log')
      .selectAll()
      .where('practice', '=', this.practice)
      .where('seq', '>', afterSeq)
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
    return rows.map(loggedEntryOf);
  }

  async applyRemote(entries: ChangeEntry[]): Promise<{ applied: number; skipped: number }> {
    for (const e of entries) {
      const problem = checkRemoteEntry(e, this.practice);
      if (problem) throw new SteadfastError('invalid', `Replication batch rejected: ${problem}`, { hint: 'Nothing of the batch was applied; resend it from the cursor' });
    }
    return this.db.transaction().execute(async (trx) => {
      if (this.dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(hashtext(${this.practice}))`.execute(trx);
      const unique = new Map<string, ChangeEntry>();
      for (const e of entries) if (!unique.has(e.entryId)) unique.set(e.entryId, e);
      // Entries already held are skipped by the insert itself (unique per practice and entry id).
      const now = new Date().toISOString();
      const candidates = [...unique.values()];
      const seqs = await insertLogRows(trx, this.dialect, candidates.map((e) => logRow(e, now)), { skipExisting: true });
      const inserted: Array<{ entry: ChangeEntry; seq: number }> = [];
      candidates.forEach((entry, i) => {
        if (seqs[i] === undefined) return;
        inserted.push({ entry, seq: seqs[i]! });
        this.clock.observe(entry.hlc);
      });
      if (!inserted.length) return { applied: 0, skipped: entries.length };
      // Re-project every touched resource from all of its entries (replication.ts, set queries).
      const { projections, unprojected } = await remoteProjections(trx, this.dialect, this.practice, inserted);
      await this.project(trx, projections, unprojected);
      return { applied: inserted.length, skipped: entries.length - inserted.length };
    });
  }

  practiceView(practice: string): KyselyStore {
    return new KyselyStore(this.db, this.dialect, this.nodeId, practice, async () => undefined);
  }

  async forget(resources: ReadonlyArray<{ resourceType: string; id: string }>): Promise<number> {
    if (!resources.length) return 0;
    return this.db.transaction().execute(async (trx) => {
      let removed = 0;
      for (const { resourceType, id } of resources) {
        const row = await trx.selectFrom('resources').select('rkey').where('practice', '=', this.practice).where('resource_type', '=', resourceType).where('id', '=', id).executeTakeFirst();
        if (row) {
          await trx.deleteFrom('search_index').where('rkey', '=', row.rkey).execute();
          await trx.deleteFrom('resources').where('practice', '=', this.practice).where('rkey', '=', row.rkey).execute();
        }
        const gone = await trx.deleteFrom('change_log').where('practice', '=', this.practice).where('resource_type', '=', resourceType).where('resource_id', '=', id).executeTakeFirst();
        removed += Number(gone.numDeletedRows);
      }
      return removed;
    });
  }

  async close(): Promise<void> {
    await this.onClose();
  }
}
