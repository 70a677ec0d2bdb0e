export * from './RecordStore.ts';
export * from './schema.ts';
export { openStore, SQLITE_FILE, sqliteFileOf, type OpenStoreOptions, type SqliteFileInfo } from './openStore.ts';
export { applyKey, fsyncFileAndDir, isPlainSqlite, openSqliteFile, parseKey, CIPHER } from './cipher.ts';
export { KyselyStore } from './KyselyStore.ts';
export { currentEntry } from './replication.ts';
export { loggedEntryOf, logRow } from './logRows.ts';
export { deferWrites, type DeferredWrites } from './deferredWrites.ts';
export { statement } from './statement.ts';
