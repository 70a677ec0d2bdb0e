/**
 * The durable inbox that every capability taking things in uses (README.md): as a capability it owns
 * only its tables; each user of it (pathology, documents, online consultations) runs its own worker.
 */
import type { Capability } from '../capability.ts';
import { inboxMigrations } from './tables.ts';

export { DurableInbox, genericStorage } from './durable-inbox.ts';
export type { InboxCapability, InboxHandle, InboxItem, InboxOptions, ReceiveResult } from './contract.ts';

export const inbox: Capability = { name: 'inbox', migrations: inboxMigrations };
