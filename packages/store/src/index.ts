export * from './RecordStore.ts';
export * from './schema.ts';
export { openStore, SQLITE_FILE, type OpenStoreOptions } from './openStore.ts';
export { KyselyStore } from './KyselyStore.ts';
export { currentEntry } from './replication.ts';
export { loggedEntryOf, logRow } from './logRows.ts';
export { deferWrites, type DeferredWrites } from './deferredWrites.ts';
export { statement } from './statement.ts';
export { isUniqueViolation } from './uniqueViolation.ts';
