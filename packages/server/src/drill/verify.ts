/**
 * What the drill proves, read straight from the databases (the hub's PostgreSQL, each node's SQLite
 * file, read-only) rather than from anything the sync code says about itself:
 *
 * - lost: an acknowledged write (ledger) whose entry is not in the hub's change log;
 * - duplicated: an entry id twice in one change log, or one logical record (drill identifier, or NHS
 *   number for a Patient) stored as two resources;
 * - conflicts: review Tasks (sync-review, double-booking) at the hub, and whether every fork the
 *   workload made has one;
 * - converged: every node holds exactly the hub's entries for its practice.
 */
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { NHS_NUMBER_SYSTEM } from '@steadfast/domain';
import { SQLITE_FILE } from '@steadfast/store';
import { type LedgerEntry } from './workload.ts';
import { DRILL_IDENTIFIER_SYSTEM } from '@steadfast/domain/systems';

export interface HubEntry {
  practice: string;
  entryId: string;
  resourceType: string;
  resourceId: string;
  body: any;
}

export async function readHubEntries(databaseUrl: string, practices: string[]): Promise<HubEntry[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ practice: string; entry_id: string; resource_type: string; resource_id: string; body: string | null }>(
      'SELECT practice, entry_id, resource_type, resource_id, body FROM change_log WHERE practice = ANY($1) ORDER BY seq',
      [practices],
    );
    return rows.map((r) => ({ practice: r.practice, entryId: r.entry_id, resourceType: r.resource_type, resourceId: r.resource_id, body: typeof r.body === 'string' ? JSON.parse(r.body) : r.body }));
  } finally {
    await client.end();
  }
}

/** Entry ids in a node's own log for its practice (read-only; the node may still be running). */
export function readNodeEntryIds(dataDir: string, practice: string): string[] {
  const db = new BetterSqlite3(join(dataDir, SQLITE_FILE), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT entry_id FROM change_log WHERE practice = ?').all(practice) as Array<{ entry_id: string }>).map((r) => r.entry_id);
  } finally {
    db.close();
  }
}

export interface Verdict {
  written: number;
  atHub: number;
  lost: LedgerEntry[];
  /** Descriptions of each duplicate found. */
  duplicated: string[];
  conflicts: { review: number; doubleBooking: number };
  /** Forked resources (Type/id) with no review Task at the hub. */
  unreviewedForks: string[];
  /** Slots booked twice (Slot/id) with no double-booking Task at the hub. */
  unflaggedDoubleBookings: string[];
  hubEntries: number;
}

/** forks and doubleBookings as `practice|Type/id`. */
export function verify(ledger: LedgerEntry[], hub: HubEntry[], forks: string[], doubleBookings: string[] = []): Verdict {
  const byEntry = new Map<string, HubEntry[]>();
  for (const e of hub) byEntry.set(`${e.practice}|${e.entryId}`, [...(byEntry.get(`${e.practice}|${e.entryId}`) ?? []), e]);
  const lost: LedgerEntry[] = [];
  let atHub = 0;
  for (const w of ledger) {
    const found = byEntry.get(`${w.practice}|${w.versionId}`)?.[0];
    if (found && found.resourceType === w.resourceType && found.resourceId === w.id) atHub++;
    else lost.push(w);
  }
  const duplicated: string[] = [];
  for (const [key, list] of byEntry) if (list.length > 1) duplicated.push(`entry ${key} is ${list.length} times in the hub's log`);

  // One logical record, one resource: by drill identifier (every type) and NHS number (Patients).
  const identities = new Map<string, Set<string>>();
  const note = (identity: string, resource: string) => identities.set(identity, (identities.get(identity) ?? new Set()).add(resource));
  for (const e of hub) {
    if (!e.body) continue;
    // Most resources carry a list of identifiers; some (QuestionnaireResponse, the online
    // consultations the drill submits) carry one.
    const identifiers = e.body.identifier === undefined ? [] : Array.isArray(e.body.identifier) ? e.body.identifier : [e.body.identifier];
    for (const id of identifiers as Array<{ system?: string; value?: string }>) {
      if (id.system === DRILL_IDENTIFIER_SYSTEM) note(`${e.practice} ${e.resourceType} drill ${id.value}`, e.resourceId);
      if (id.system === NHS_NUMBER_SYSTEM && e.resourceType === 'Patient') note(`${e.practice} Patient NHS ${id.value}`, e.resourceId);
    }
  }
  for (const [identity, resources] of identities) if (resources.size > 1) duplicated.push(`${identity} is stored as ${resources.size} resources (${[...resources].join(', ')})`);

  const taskCode = (body: any): string | undefined => body?.code?.coding?.[0]?.code;
  const latestTask = new Map<string, any>();
  for (const e of hub) if (e.resourceType === 'Task' && e.body) latestTask.set(`${e.practice}|${e.resourceId}`, e.body);
  let review = 0;
  let doubleBooking = 0;
  const reviewed = new Set<string>();
  const flagged = new Set<string>();
  for (const [key, body] of latestTask) {
    const code = taskCode(body);
    if (code === 'sync-review') {
      review++;
      reviewed.add(`${key.split('|')[0]}|${body.focus?.reference}`);
    } else if (code === 'double-booking') {
      doubleBooking++;
      flagged.add(`${key.split('|')[0]}|${body.focus?.reference}`);
    }
  }
  const unreviewedForks = forks.filter((f) => !reviewed.has(f));
  const unflaggedDoubleBookings = doubleBookings.filter((d) => !flagged.has(d));
  return { written: ledger.length, atHub, lost, duplicated, conflicts: { review, doubleBooking }, unreviewedForks, unflaggedDoubleBookings, hubEntries: hub.length };
}
