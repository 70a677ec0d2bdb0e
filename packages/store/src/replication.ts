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
import { project, type ChangeEntry } from '@steadfast/domain';

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
