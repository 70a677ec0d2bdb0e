/**
 * Group many small units of work into one set write. Inside one store transaction, `write` only
 * queues; the queue is written as one batch (one multi-row insert per table instead of one per unit)
 * at `flush`, or earlier, before any read or search of a resource type that has writes queued, so
 * every unit still reads exactly what it would have read had each write gone straight in.
 *
 * Outcomes are not returned by `write` (they do not exist until the flush): use it only for writes
 * whose caller already knows the ids (updates, or creates it does not need to read back).
 */
import type { StoreTransaction, WriteRequest } from './RecordStore.ts';

export interface DeferredWrites extends StoreTransaction {
  /** Write everything queued, in the order queued. */
  flush(): Promise<void>;
}

export function deferWrites(tx: StoreTransaction): DeferredWrites {
  let queued: WriteRequest[] = [];
  const queuedTypes = new Set<string>();
  const flush = async () => {
    if (!queued.length) return;
    const requests = queued;
    queued = [];
    queuedTypes.clear();
    await tx.write(requests);
  };
  const flushIfQueued = async (resourceType: string) => {
    if (queuedTypes.has(resourceType)) await flush();
  };
  return {
    db: tx.db,
    flush,
    async write(requests) {
      for (const r of requests) queuedTypes.add(r.kind === 'delete' ? r.resourceType : r.resource.resourceType);
      queued.push(...requests);
      return [];
    },
    async read(resourceType, id) {
      await flushIfQueued(resourceType);
      return tx.read(resourceType, id);
    },
    async search(request) {
      await flushIfQueued(request.resourceType);
      return tx.search(request);
    },
  };
}
