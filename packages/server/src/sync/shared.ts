/**
 * Records other practices share with this one, on a practice node. Each shared patient is a stream
 * pulled from the hub (POST /api/sync/pull-shared) with its own cursor in sync_cursors (peer
 * `shared:<owner ODS>:<patient id>`); its entries are kept under the owner's practice key in this
 * node's database (`store.practiceView(owner)`), apart from the practice's own record and read-only
 * here. When the owner withdraws the share, the copy is deleted.
 */
import { patientsOf, type ChangeEntry } from '@steadfast/domain';
import type { RecordStore } from '@steadfast/store';
import type { SharedBatch } from './protocol.ts';
import { syncDb } from './tables.ts';

const PREFIX = 'shared:';

export interface SharedStream {
  owner: string;
  patientId: string;
  /** The owner's log position at the hub, scanned through. */
  cursor: number;
  anchor: string | null;
  lastExchangeAt: string | null;
}

function peerName(owner: string, patientId: string): string {
  return `${PREFIX}${owner}:${patientId}`;
}

/** Every shared record this node holds a copy of. */
export async function sharedStreams(store: RecordStore): Promise<SharedStream[]> {
  const rows = await syncDb(store.db).selectFrom('sync_cursors').selectAll().where('practice', '=', store.practice).where('peer', 'like', `${PREFIX}%`).orderBy('peer').execute();
  return rows.map((r) => {
    const [owner, patientId] = r.peer.slice(PREFIX.length).split(':') as [string, string];
    return { owner, patientId, cursor: Number(r.pull_cursor), anchor: r.pull_anchor, lastExchangeAt: r.last_exchange_at };
  });
}

/**
 * Apply one answer: each stream's entries into the owner's view (idempotent by entry id), then its
 * cursor; each withdrawn share's copy deleted, then its cursor. A crash in between repeats the step.
 */
export async function applySharedBatch(store: RecordStore, batch: SharedBatch, now = new Date()): Promise<{ received: number; remaining: number; forgotten: number }> {
  let received = 0;
  let remaining = 0;
  let forgotten = 0;
  for (const stream of batch.streams) {
    if (stream.owner === store.practice) continue; // never let a stream write into our own record
    const relevant = stream.entries.filter((e) => belongsTo(e, stream.patientId));
    const view = store.practiceView(stream.owner);
    if (relevant.length) await view.applyRemote(relevant);
    // Moved to another patient at the owner (e.g. a result filed to the wrong record and corrected).
    if (stream.forget?.length) forgotten += await view.forget(stream.forget);
    received += relevant.length;
    remaining = Math.max(remaining, stream.remaining);
    await syncDb(store.db)
      .insertInto('sync_cursors')
      .values({ practice: store.practice, peer: peerName(stream.owner, stream.patientId), push_cursor: 0, pull_cursor: stream.toCursor, pull_anchor: stream.toEntryId, last_exchange_at: now.toISOString() })
      .onConflict((oc) => oc.columns(['practice', 'peer']).doUpdateSet({ pull_cursor: stream.toCursor, pull_anchor: stream.toEntryId, last_exchange_at: now.toISOString() }))
      .execute();
  }
  const held = new Set((await sharedStreams(store)).map((s) => `${s.owner}/${s.patientId}`));
  for (const w of batch.withdrawn) {
    if (!held.has(`${w.owner}/${w.patientId}`) || w.owner === store.practice) continue;
    forgotten += await forgetSharedRecord(store, w.owner, w.patientId);
  }
  return { received, remaining, forgotten };
}

/** A delete has no body; the hub only sends it for a resource of this compartment. */
function belongsTo(entry: ChangeEntry, patientId: string): boolean {
  return !entry.resource || patientsOf(entry.resource).includes(patientId);
}

/** Delete this node's copy of one shared record (every version of every resource of the patient). */
async function forgetSharedRecord(store: RecordStore, owner: string, patientId: string): Promise<number> {
  const view = store.practiceView(owner);
  // A resource of two patients (an appointment for both, say) stays while the other is still shared.
  const stillShared = new Set((await sharedStreams(store)).filter((s) => s.owner === owner && s.patientId !== patientId).map((s) => s.patientId));
  const resources = new Map<string, { resourceType: string; id: string }>();
  for (let after = 0; ; ) {
    const page = await view.changesSince(after, 5000);
    if (!page.length) break;
    for (const e of page) {
      if (!e.resource) continue;
      const patients = patientsOf(e.resource);
      if (patients.includes(patientId) && !patients.some((p) => stillShared.has(p))) resources.set(`${e.resourceType}/${e.resourceId}`, { resourceType: e.resourceType, id: e.resourceId });
    }
    after = page[page.length - 1]!.seq;
  }
  const removed = await view.forget([...resources.values()]);
  await syncDb(store.db).deleteFrom('sync_cursors').where('practice', '=', store.practice).where('peer', '=', peerName(owner, patientId)).execute();
  return removed;
}
