/**
 * The change log is the one way in for every write. An entry is immutable once written, and carries
 * everything another node needs to apply it: who wrote it where and when (origin node, hybrid logical
 * clock time), which version of which resource it creates, the version it was based on (so that
 * concurrent edits can be told apart from sequential ones), and the whole resource body.
 */
import type { Resource } from '@medplum/fhirtypes';

export type ChangeOp = 'put' | 'delete';

export interface ChangeEntry {
  /** Globally unique id of this entry (a UUID); replication is idempotent on it. */
  entryId: string;
  /** The node that made the write. */
  originNode: string;
  /** ODS code of the practice that owns the record. */
  practice: string;
  /** Hybrid logical clock time of the write (string order is time order). */
  hlc: string;
  resourceType: string;
  resourceId: string;
  /** Version this entry creates; equal to entryId so that it is unique across nodes. */
  versionId: string;
  /** The version the writer saw when it wrote, or null for a create. */
  baseVersionId: string | null;
  op: ChangeOp;
  /** The resource as written (meta.versionId and meta.lastUpdated set); null for a delete. */
  resource: Resource | null;
  /** User id of the author, or a system actor such as `system:mllp`. */
  author: string;
}

/** A resource as the store holds it now. */
export interface StoredResource {
  resource: Resource;
  versionId: string;
  lastUpdated: string;
  deleted: boolean;
}
