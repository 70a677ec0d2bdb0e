/**
 * `steadfast encrypt`, `steadfast backup` and `steadfast restore`: encryption at rest and backups of a
 * practice node's SQLite file (packages/server/src/atrest, docs/server.md "Encryption and backups").
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { SteadfastError } from '@steadfast/domain';
import { SQLITE_FILE } from '@steadfast/store';
import { resolveDataDir } from '../node/identity.ts';
import { openNode } from '../node/open.ts';
import { BACKUP_DIR, DEFAULT_RETENTION, encryptDatabase, listBackups, pruneBackups, restoreBackup, writeBackupSync } from '../atrest/backup.ts';
import { createKeyFile, KEY_WARNING, readKeyFile, resolveKey } from '../atrest/key.ts';
import type { DataOptions } from './common.ts';

function whole(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new SteadfastError('invalid', `${name} ${raw} is not a whole number`, { field: name });
  return n;
}

export const keyFileOption = () => new Option('--key-file <file>', 'database key file (else env STEADFAST_DB_KEY, else DATA/steadfast.key)');

/** The option `steadfast serve` takes for encryption (opening the store); backups' flags are the atrest capability's. */
export function addServeAtRestOptions(serve: Command): Command {
  return serve
    .option('--encrypt', 'encrypt a new data directory (creates DATA/steadfast.key, or the --key-file, on first start)');
}

type AtRestOptions = DataOptions & { backupDir?: string; backupKeepHours?: string; backupKeepDays?: string };

function sqliteOnly(options: DataOptions): string {
  if (options.databaseUrl ?? process.env.STEADFAST_DATABASE_URL) {
    throw new SteadfastError('not-supported', 'This command is for a SQLite practice node; a PostgreSQL database is backed up with its own tools (pg_dump, base backups)', { field: '--database-url' });
  }
  const dataDir = resolveDataDir(options.data);
  if (!existsSync(join(dataDir, SQLITE_FILE))) throw new SteadfastError('not-found', `There is no database in ${dataDir}`, { field: '--data', hint: 'Give the data directory of the practice node with --data DIR' });
  return dataDir;
}

const size = (n: number) => `${(n / (1 << 20)).toFixed(1)} MB`;

export function registerAtRestCommands(program: Command, dataCommand: (name: string, description: string) => Command): void {
  dataCommand('encrypt', 'encrypt the unencrypted database of a stopped practice node (creates the key file when it does not exist)')
    .addOption(keyFileOption().makeOptionMandatory())
    .action(async (options: AtRestOptions) => {
      const dataDir = sqliteOnly(options);
      const keyFile = options.keyFile!;
      const created = !existsSync(keyFile);
      const key = created ? createKeyFile(keyFile) : readKeyFile(keyFile);
      const check = encryptDatabase(dataDir, key);
      if (created) process.stderr.write(KEY_WARNING(keyFile));
      process.stdout.write(`encrypted ${join(dataDir, SQLITE_FILE)} (${check.changeLogEntries} change log entries, ${check.auditEntries} audit entries); start the node with --key-file ${keyFile}\n`);
      const plain = listBackups(options.backupDir ?? join(dataDir, BACKUP_DIR));
      if (plain.length) process.stderr.write(`warning: ${plain.length} earlier backup(s) in ${options.backupDir ?? join(dataDir, BACKUP_DIR)} are NOT encrypted; delete them once a new backup is written\n`);
    });

  dataCommand('backup', 'back up the practice database now (safe while the node is serving), checked after writing')
    .addOption(keyFileOption())
    .option('--backup-dir <dir>', 'folder for backups (default DATA/backups)')
    .option('--backup-keep-hours <n>', 'keep every backup this many hours (default 24)')
    .option('--backup-keep-days <n>', 'and the newest backup of each of this many days (default 14)')
    .option('--list', 'list the backups instead of writing one')
    .action(async (options: AtRestOptions & { list?: boolean }) => {
      const dataDir = sqliteOnly(options);
      const dir = options.backupDir ?? join(dataDir, BACKUP_DIR);
      if (options.list) {
        for (const b of listBackups(dir)) process.stdout.write(`${b.at}  ${size(b.bytes).padStart(10)}  ${b.file}\n`);
        return;
      }
      const { key } = resolveKey(dataDir, options.keyFile ? { keyFile: options.keyFile } : {});
      const info = writeBackupSync(join(dataDir, SQLITE_FILE), key, dir);
      const pruned = pruneBackups(dir, { keepHours: whole(options.backupKeepHours, '--backup-keep-hours', DEFAULT_RETENTION.keepHours), keepDays: whole(options.backupKeepDays, '--backup-keep-days', DEFAULT_RETENTION.keepDays) });
      process.stdout.write(
        `backed up to ${info.file} (${size(info.bytes)}${info.encrypted ? ', encrypted' : ''}): integrity ${info.integrity}, ${info.changeLogEntries} change log entries, ${info.auditEntries} audit entries` +
          (pruned.length ? `; removed ${pruned.length} old backup(s)` : '') +
          '\n',
      );
    });

  dataCommand('restore', 'replace the database of a stopped practice node with a backup (the replaced file is kept in DATA/replaced-<time>/)')
    .addOption(keyFileOption())
    .requiredOption('--from <file>', 'the backup file (see steadfast backup --list)')
    .option('--discard-newer', 'restore even though the current database holds entries newer than the backup')
    .action(async (options: AtRestOptions & { from: string; discardNewer?: boolean }) => {
      const dataDir = resolveDataDir(options.data);
      if (options.databaseUrl ?? process.env.STEADFAST_DATABASE_URL) sqliteOnly(options);
      const { key } = resolveKey(dataDir, options.keyFile ? { keyFile: options.keyFile } : {});
      const result = restoreBackup(dataDir, options.from, key, options.discardNewer ? { discardNewer: true } : {});
      process.stdout.write(`restored ${options.from}: ${result.restored.changeLogEntries} change log entries, ${result.restored.auditEntries} audit entries\n`);
      if (result.replacedDir) process.stdout.write(`  the replaced database is in ${result.replacedDir}${result.newerEntries ? ` (it held ${result.newerEntries} newer entries; run steadfast sync to take back those the hub has)` : ''}\n`);
      const node = await openNode({ dataDir, ...(key ? { key } : {}) });
      try {
        const verified = await node.audit.verify();
        process.stdout.write(verified.ok ? `  audit chain intact: ${verified.checked} entries\n` : `  audit chain BROKEN at seq ${verified.brokenSeq}: ${verified.reason}\n`);
        if (!verified.ok) process.exitCode = 2;
      } finally {
        await node.close();
      }
    });
}
