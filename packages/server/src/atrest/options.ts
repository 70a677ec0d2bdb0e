/** The `steadfast serve` flags of scheduled backups (the capability contract's `cli`). */
import { SteadfastError } from '@steadfast/domain';
import type { CapabilityCli } from '../capability.ts';
import { DEFAULT_RETENTION } from './backup.ts';

function whole(raw: unknown, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new SteadfastError('invalid', `${name} ${String(raw)} is not a whole number`, { field: name, hint: `e.g. ${name} ${fallback}` });
  return n;
}

export const atRestCli: CapabilityCli = {
  flags: [
    { flags: '--backup-every <minutes>', description: 'minutes between scheduled backups (env STEADFAST_BACKUP_EVERY; default 60; 0 = off)' },
    { flags: '--backup-dir <dir>', description: 'folder for backups (default DATA/backups)' },
    { flags: '--backup-keep-hours <n>', description: 'keep every backup this many hours (default 24)' },
    { flags: '--backup-keep-days <n>', description: 'and the newest backup of each of this many days (default 14)' },
  ],
  // Scheduled backups are on by default for a SQLite practice node (hourly, DATA/backups); a
  // PostgreSQL store is backed up with PostgreSQL's own tools.
  configure(values, node) {
    if (node.dialect !== 'sqlite' || node.role !== 'node') return {};
    return {
      backup: {
        everyMinutes: whole(values.backupEvery ?? process.env.STEADFAST_BACKUP_EVERY, '--backup-every', 60),
        ...(typeof values.backupDir === 'string' ? { dir: values.backupDir } : {}),
        keepHours: whole(values.backupKeepHours, '--backup-keep-hours', DEFAULT_RETENTION.keepHours),
        keepDays: whole(values.backupKeepDays, '--backup-keep-days', DEFAULT_RETENTION.keepDays),
      },
    };
  },
};
