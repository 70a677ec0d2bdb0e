/**
 * The documents backlog: counts and the oldest by state, by source and by kind, documents with a
 * problem, and items received but not yet read. Counts only, never patient data: these figures go to
 * the status bar, `GET /api/backlog` and the regional hub.
 */
import type { RecordStore } from '@steadfast/store';
import { ddb } from './tables.ts';

/** Documents still to be worked (everything short of filed). */
export const UNWORKED_STATES = ['unmatched', 'proposed', 'matched', 'with-clinician'];

export interface DocumentBacklog {
  byState: Record<string, { count: number; oldest: string | null }>;
  bySource: Record<string, number>;
  byKind: Record<string, number>;
  withProblem: number;
  unworked: number;
  oldestUnworked: { receivedAt: string; ageHours: number } | null;
  /** Items kept (raw) and not yet read into documents. */
  waitingToBeRead: number;
}

export async function documentBacklog(store: RecordStore, now = new Date()): Promise<DocumentBacklog> {
  const db = ddb(store.db);
  const base = () => db.selectFrom('documents').where('practice', '=', store.practice);
  const [states, sources, kinds, problems, waiting] = await Promise.all([
    base().select((eb) => ['state', eb.fn.countAll<number>().as('n'), eb.fn.min('received_at').as('oldest')]).groupBy('state').execute(),
    base().select((eb) => ['source', eb.fn.countAll<number>().as('n')]).where('state', 'in', UNWORKED_STATES).groupBy('source').execute(),
    base().select((eb) => ['kind', eb.fn.countAll<number>().as('n')]).where('state', 'in', UNWORKED_STATES).groupBy('kind').execute(),
    base().select((eb) => eb.fn.countAll<number>().as('n')).where('state', 'in', UNWORKED_STATES).where('problem', 'is not', null).executeTakeFirst(),
    (db as any).selectFrom('inbox_items').select((eb: any) => eb.fn.countAll().as('n')).where('practice', '=', store.practice).where('capability', '=', 'documents').where('state', '=', 'received').executeTakeFirst(),
  ]);
  const byState = Object.fromEntries(states.map((r) => [r.state, { count: Number(r.n), oldest: (r.oldest as string | null) ?? null }]));
  const unworkedRows = states.filter((r) => UNWORKED_STATES.includes(r.state));
  const oldest = unworkedRows.map((r) => r.oldest as string | null).filter((o): o is string => !!o).sort()[0];
  return {
    byState,
    bySource: Object.fromEntries(sources.map((r) => [r.source, Number(r.n)])),
    byKind: Object.fromEntries(kinds.map((r) => [r.kind, Number(r.n)])),
    withProblem: Number(problems?.n ?? 0),
    unworked: unworkedRows.reduce((n, r) => n + Number(r.n), 0),
    oldestUnworked: oldest ? { receivedAt: oldest, ageHours: Math.floor((now.getTime() - Date.parse(oldest)) / 3_600_000) } : null,
    waitingToBeRead: Number(waiting?.n ?? 0),
  };
}
