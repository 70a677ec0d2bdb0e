/**
 * The outbox capability: the one way out of the node (contract.ts). Capabilities queue messages with
 * `enqueue` (queue.ts) in their own transactions; this capability owns the table.
 */
import type { Capability } from '../capability.ts';
import { outboxMigrations } from './tables.ts';

export const outbox: Capability = {
  name: 'outbox',
  migrations: outboxMigrations,
};
