/**
 * Records shared between practices, at the hub. A practice shares one patient's record with another
 * by writing a Consent (domain `sync/sharing.ts`); when that entry reaches the hub, the current
 * version of the Consent is indexed in `hub_shares`. A node of the receiving practice then pulls the
 * patient's compartment from the owner's log (POST /api/sync/pull-shared): only entries of patients
 * actively shared with its own practice, scanned from its cursor, and it is told of withdrawn shares
 * so it deletes its copy.
 */
import { sql, type Kysely } from 'kysely';
import { patientsOf, readShareConsent, type ChangeEntry } from '@steadfast/domain';
import { loggedEntryOf, type Migration, type RecordStore } from '@steadfast/store';
import { PROTOCOL_VERSION, type SharedBatch, type SharedPullRequest } from '../sync/protocol.ts';
import { anchorHolds, countAfter } from '../sync/receiver.ts';

export interface HubSharesTable {
  /** The practice that holds the record (owner), first like every table. */
  practice: string;
  consent_id: string;
  patient_id: string;
  shared_with: string;
  active: number;
  /** End of the permission (Consent.provision.period.end), checked whenever a node pulls. */
  ends_at: string | null;
  reason: string;
  updated_at: string;
}

export const hubMigrations: Migration[] = [
  {
    name: '0500-hub-shares',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('hub_shares')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('consent_id', 'text', (c) => c.notNull())
        .addColumn('patient_id', 'text', (c) => c.notNull())
        .addColumn('shared_with', 'text', (c) => c.notNull())
        .addColumn('active', 'integer', (c) => c.notNull())
        .addColumn('ends_at', 'text')
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('hub_shares_pk', ['practice', 'consent_id'])
        .execute();
      await sql`CREATE INDEX IF NOT EXISTS hub_shares_with ON hub_shares (shared_with, practice, patient_id)`.execute(db);
    },
  },
];

function sharesDb(db: Kysely<any>): Kysely<{ hub_shares: HubSharesTable }> {
  return db as unknown as Kysely<{ hub_shares: HubSharesTable }>;
}

/** After a push is applied: index the current version of every sharing Consent it touched. */
export async function indexShares(db: Kysely<any>, store: RecordStore, entries: readonly ChangeEntry[], now = new Date()): Promise<void> {
  const consentIds = [...new Set(entries.filter((e) => e.resourceType === 'Consent').map((e) => e.resourceId))];
  for (const id of consentIds) {
    const current = await store.read('Consent', id);
    // A deleted Consent shares nothing; its last body still says with whom it was shared.
    const share = readShareConsent(current?.deleted ? (await store.history('Consent', id, { count: 2 })).find((v) => !v.deleted)?.resource : current?.resource, now);
    if (!share) continue;
    const row: HubSharesTable = {
      practice: store.practice,
      consent_id: id,
      patient_id: share.patientId,
      shared_with: share.withPractice,
      active: share.active && !current?.deleted ? 1 : 0,
      ends_at: share.endsAt ?? null,
      reason: share.reason,
      updated_at: now.toISOString(),
    };
    const before = await sharesDb(db).selectFrom('hub_shares').selectAll().where('practice', '=', store.practice).where('consent_id', '=', id).executeTakeFirst();
    if (before && (before.patient_id !== row.patient_id || before.shared_with !== row.shared_with)) {
      // The Consent now names another patient or practice: the old grant is withdrawn, not forgotten,
      // so the practice that had it is told to delete its copy.
      await sharesDb(db)
        .insertInto('hub_shares')
        .values({ ...before, consent_id: `${id}~${before.patient_id}~${before.shared_with}`, active: 0, updated_at: row.updated_at })
        .onConflict((oc) => oc.columns(['practice', 'consent_id']).doUpdateSet({ active: 0, updated_at: row.updated_at }))
        .execute();
    }
    await sharesDb(db)
      .insertInto('hub_shares')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['practice', 'consent_id']).doUpdateSet({ patient_id: row.patient_id, shared_with: row.shared_with, active: row.active, ends_at: row.ends_at, reason: row.reason, updated_at: row.updated_at }),
      )
      .execute();
  }
}

/** Owner entries scanned per shared record per answer, whatever matched. */
const SCAN_LIMIT = 5000;

/**
 * The answer to a shared-records pull from `practice`: for every record actively shared with it, the
 * owner's entries of that patient after the node's cursor; and every share withdrawn since.
 */
export async function sharedBatchFor(
  db: Kysely<any>,
  storeFor: (practice: string) => Promise<RecordStore | undefined>,
  practice: string,
  request: SharedPullRequest,
): Promise<SharedBatch> {
  const nowIso = new Date().toISOString();
  // A share with an end date stops at that date, whenever the Consent was indexed.
  const shares = (await sharesDb(db).selectFrom('hub_shares').selectAll().where('shared_with', '=', practice).orderBy('practice').orderBy('patient_id').execute()).map((s) => ({
    ...s,
    active: s.active && (!s.ends_at || s.ends_at > nowIso) ? 1 : 0,
  }));
  let budget = request.limit;
  const activeKeys = new Set(shares.filter((s) => s.active).map((s) => `${s.practice}/${s.patient_id}`));
  const cursors = new Map(request.streams.map((c) => [`${c.owner}/${c.patientId}`, c]));
  const batch: SharedBatch = { protocol: PROTOCOL_VERSION, practice, streams: [], withdrawn: [] };
  // Several Consents may name one patient: one stream, or one withdrawal (only when none is active).
  const answered = new Set<string>();
  for (const share of shares) {
    const key = `${share.practice}/${share.patient_id}`;
    if (answered.has(key) || (!share.active && activeKeys.has(key))) continue;
    answered.add(key);
    if (!share.active) {
      batch.withdrawn.push({ owner: share.practice, patientId: share.patient_id });
      continue;
    }
    const owner = await storeFor(share.practice);
    if (!owner) continue;
    const cursor = cursors.get(key);
    let from = cursor?.fromCursor ?? 0;
    // The hub's log went back (restored): scan this record again from the start; the node skips what it holds.
    if (from > 0 && cursor?.fromEntryId && !(await anchorHolds(owner, from, cursor.fromEntryId))) from = 0;
    // One answer carries at most `limit` entries across all shares; the rest come in later answers.
    const { entries, toCursor, toEntryId, forget } = budget > 0 ? await compartmentEntries(owner, share.patient_id, from, budget) : { entries: [], toCursor: from, toEntryId: cursor?.fromEntryId ?? null, forget: [] };
    budget -= entries.length;
    const remaining = await countAfter(owner, toCursor);
    batch.streams.push({
      owner: share.practice,
      patientId: share.patient_id,
      consentId: share.consent_id,
      reason: share.reason,
      fromCursor: from,
      toCursor,
      toEntryId,
      entries,
      remaining,
      ...(forget.length ? { forget } : {}),
    });
  }
  return batch;
}

/** The owner's entries of one patient's compartment after `from`, scanning at most SCAN_LIMIT entries. */
async function compartmentEntries(
  owner: RecordStore,
  patientId: string,
  from: number,
  limit: number,
): Promise<{ entries: ChangeEntry[]; toCursor: number; toEntryId: string | null; forget: Array<{ resourceType: string; id: string }> }> {
  const rows = await owner.db.selectFrom('change_log').selectAll().where('practice', '=', owner.practice).where('seq', '>', from).orderBy('seq').limit(SCAN_LIMIT).execute();
  const logged = rows.map(loggedEntryOf);
  // An update that no longer belongs to this patient may have belonged before (a result moved to the
  // right patient): the copy must go, without the new version (it is someone else's now) going out.
  const bases = logged.filter((e) => e.resource && e.baseVersionId && !patientsOf(e.resource).includes(patientId)).map((e) => e.baseVersionId!);
  const wasHere = new Set<string>();
  for (let i = 0; i < bases.length; i += 500) {
    const previous = await owner.db.selectFrom('change_log').select(['entry_id', 'body']).where('practice', '=', owner.practice).where('entry_id', 'in', bases.slice(i, i + 500)).execute();
    for (const p of previous) if (p.body && patientsOf(JSON.parse(p.body)).includes(patientId)) wasHere.add(p.entry_id);
  }
  const entries: ChangeEntry[] = [];
  const forget: Array<{ resourceType: string; id: string }> = [];
  let toCursor = from;
  let toEntryId: string | null = null;
  for (const { seq, ...entry } of logged) {
    if (await inCompartment(owner, entry, patientId)) entries.push(entry);
    else if (entry.baseVersionId && wasHere.has(entry.baseVersionId)) forget.push({ resourceType: entry.resourceType, id: entry.resourceId });
    toCursor = seq;
    toEntryId = entry.entryId;
    if (entries.length >= limit) break;
  }
  return { entries, toCursor, toEntryId, forget };
}

async function inCompartment(owner: RecordStore, entry: ChangeEntry, patientId: string): Promise<boolean> {
  if (entry.resource) return patientsOf(entry.resource).includes(patientId);
  // A delete carries no body: it belongs where the resource's last version did.
  const versions = await owner.history(entry.resourceType, entry.resourceId, { count: 10 });
  const last = versions.find((v) => !v.deleted);
  return !!last && patientsOf(last.resource).includes(patientId);
}
