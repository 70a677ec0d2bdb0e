/**
 * The documents backlog: counts and the oldest by state, by source and by kind, documents with a
 * problem, and items received but not yet read. Counts only, never patient data: these figures go to
 * the status bar, `GET /api/backlog` and the regional hub.
 */
import { sql } from 'kysely';
import type { DocumentBacklog, DocumentDaily } from '@steadfast/domain/api';
import { foldDays } from '@steadfast/domain/documents';
import { londonDayStart } from '@steadfast/domain/london-time';
import type { RecordStore } from '@steadfast/store';
import { ddb } from './tables.ts';

/** Documents still to be worked (everything short of filed). */
export const UNWORKED_STATES = ['unmatched', 'proposed', 'matched', 'with-clinician'];

export type { DocumentBacklog } from '@steadfast/domain/api';

export async function documentBacklog(store: RecordStore, now = new Date()): Promise<DocumentBacklog> {
  const db = ddb(store.db);
  // One pass over the documents (a few hundred groups at most), summed here: at 50,000 documents
  // several GROUP BYs each scanning the table cost seconds on a loaded machine.
  const [groups, waiting] = await Promise.all([
    db
      .selectFrom('documents')
      .where('practice', '=', store.practice)
      .select((eb) => ['state', 'source', 'kind', 'doc_type', 'assignee_name', eb.fn.count<number>('problem').as('problems'), eb.fn.countAll<number>().as('n'), eb.fn.min('received_at').as('oldest')])
      .groupBy(['state', 'source', 'kind', 'doc_type', 'assignee_name'])
      .execute(),
    (db as any).selectFrom('inbox_items').select((eb: any) => eb.fn.countAll().as('n')).where('practice', '=', store.practice).where('capability', '=', 'documents').where('state', '=', 'received').executeTakeFirst(),
  ]);
  const byState: Record<string, { count: number; oldest: string | null }> = {};
  const bySource: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  const byPerson: Record<string, number> = {};
  const byType: Record<string, number> = {};
  let withProblem = 0;
  let unworked = 0;
  let oldest: string | undefined;
  for (const g of groups) {
    const n = Number(g.n);
    const o = (g.oldest as string | null) ?? null;
    const s = (byState[g.state] ??= { count: 0, oldest: null });
    s.count += n;
    if (o && (!s.oldest || o < s.oldest)) s.oldest = o;
    if (g.state === 'with-clinician') byPerson[g.assignee_name ?? '(unknown)'] = (byPerson[g.assignee_name ?? '(unknown)'] ?? 0) + n;
    if (!UNWORKED_STATES.includes(g.state)) continue;
    unworked += n;
    withProblem += Number(g.problems);
    bySource[g.source] = (bySource[g.source] ?? 0) + n;
    byKind[g.kind] = (byKind[g.kind] ?? 0) + n;
    byType[g.doc_type ?? 'untyped'] = (byType[g.doc_type ?? 'untyped'] ?? 0) + n;
    if (o && (!oldest || o < oldest)) oldest = o;
  }
  // Its id too, so the screen links to it (the oldest instant read by the index, then its row).
  const oldestRow = oldest
    ? await db.selectFrom('documents').select('id').where('practice', '=', store.practice).where('received_at', '=', oldest).where('state', 'in', UNWORKED_STATES).orderBy('id').limit(1).executeTakeFirst()
    : undefined;
  return {
    byState,
    bySource,
    byKind,
    byPerson,
    byType,
    withProblem,
    unworked,
    oldestUnworked: oldest ? { id: oldestRow?.id ?? null, receivedAt: oldest, ageHours: Math.floor((now.getTime() - Date.parse(oldest)) / 3_600_000) } : null,
    waitingToBeRead: Number(waiting?.n ?? 0),
  };
}

/** Days a daily backlog request may span (a year: an outage and the weeks around it). */
export const MAX_DAILY_DAYS = 366;

/**
 * Arrivals and filings per London day from `from` to `to` (YYYY-MM-DD, both included): two grouped
 * passes, by the hour, over the (practice, received_at) and (practice, filed_at) indexes, folded into
 * London days here (domain/documents foldDays), so a summer day is midnight to midnight BST.
 */
export async function documentDaily(store: RecordStore, from: string, to: string): Promise<DocumentDaily> {
  const db = ddb(store.db);
  const start = londonDayStart(from, 0);
  const end = londonDayStart(to, 1);
  const byHour = (column: 'received_at' | 'filed_at') =>
    db
      .selectFrom('documents')
      .select([sql<string>`substr(${sql.ref(column)}, 1, 13)`.as('hour'), sql<number>`count(*)`.as('n')])
      .where('practice', '=', store.practice)
      .where(column, '>=', start)
      .where(column, '<', end)
      .groupBy(sql`substr(${sql.ref(column)}, 1, 13)`)
      .execute();
  const [arrived, filed] = await Promise.all([byHour('received_at'), byHour('filed_at')]);
  return { from, to, days: foldDays(from, to, arrived, filed) };
}
