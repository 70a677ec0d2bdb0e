/**
 * What the capability that queued a message does when a person retries or cancels it on the outbox
 * screen (routes.ts), inside the same transaction: messaging puts its Communication back to "queued"
 * or marks it cancelled. A leaf: owners register here (by `source`), the outbox imports none of them.
 */
import type { StoreTransaction } from '@steadfast/store';

export interface OutboxOwner {
  /** A failed message was put back in the queue by a person. */
  retried?(tx: StoreTransaction, practice: string, outboxId: string): Promise<void>;
  /** A failed or waiting message was cancelled by a person. */
  cancelled?(tx: StoreTransaction, practice: string, outboxId: string, previousState: 'pending' | 'failed'): Promise<void>;
}

const owners = new Map<string, OutboxOwner>();

/** Register what `source` does on retry and cancel (called once, when the owner's module loads). */
export function registerOutboxOwner(source: string, owner: OutboxOwner): void {
  owners.set(source, owner);
}

export function outboxOwnerOf(source: string): OutboxOwner | undefined {
  return owners.get(source);
}
