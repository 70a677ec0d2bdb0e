/** The change log's rows and the entries they hold: one mapping each way, used by every reader. */
import type { Selectable } from 'kysely';
import type { Resource } from '@medplum/fhirtypes';
import type { ChangeEntry } from '@steadfast/domain';
import type { LoggedEntry } from './RecordStore.ts';
import type { ChangeLogTable } from './schema.ts';

export function logRow(e: ChangeEntry, recordedAt: string): Omit<ChangeLogTable, 'seq'> {
  return {
    practice: e.practice,
    entry_id: e.entryId,
    origin_node: e.originNode,
    hlc: e.hlc,
    resource_type: e.resourceType,
    resource_id: e.resourceId,
    version_id: e.versionId,
    base_version_id: e.baseVersionId,
    op: e.op,
    body: e.resource ? JSON.stringify(e.resource) : null,
    author: e.author,
    recorded_at: recordedAt,
  };
}

export function loggedEntryOf(r: Selectable<ChangeLogTable>): LoggedEntry {
  return {
    seq: Number(r.seq),
    entryId: r.entry_id,
    originNode: r.origin_node,
    practice: r.practice,
    hlc: r.hlc,
    resourceType: r.resource_type,
    resourceId: r.resource_id,
    versionId: r.version_id,
    baseVersionId: r.base_version_id,
    op: r.op,
    resource: r.body ? (JSON.parse(r.body) as Resource) : null,
    author: r.author,
  };
}
