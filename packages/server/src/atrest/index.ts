/**
 * The at-rest capability of a practice node on SQLite: scheduled backups (a background service started
 * and stopped with the app), the serving lock that makes restore and encrypt refuse to run under a live
 * node, and a "Backups" line in the status bar (last backup time and size).
 *
 * Backups run only when `config.backup` is set (steadfast serve sets it; tests opt in).
 */
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { sqliteFileOf } from '@steadfast/store';
import type { AppDeps, BackgroundService, Capability } from '../capability.ts';
import type { StatusProvider } from '../status/providers.ts';
import { atRestCli } from './options.ts';
import { BACKUP_DIR, DEFAULT_RETENTION, holdServingLock, listBackups, pruneBackups, writeBackup, type BackupInfo, type Retention } from './backup.ts';

declare module '../capability.ts' {
  interface CapabilityOptions {
    /** Scheduled backups of a SQLite practice node; none when absent (steadfast serve sets it). */
    backup?: BackupConfig;
  }
}

export interface BackupConfig extends Partial<Retention> {
  /** Minutes between backups (default 60); 0 turns scheduled backups off. */
  everyMinutes?: number;
  /** Folder for the backups (default DATA/backups). */
  dir?: string;
}

export interface BackupState {
  last?: { at: string; file: string; bytes: number; changeLogEntries?: number };
  lastError?: { at: string; message: string };
  running: boolean;
}

/** The first backup waits this long after start, so it does not compete with start-up work. */
export const FIRST_BACKUP_DELAY_MS = 60_000;

const states = new WeakMap<object, { state: BackupState; runNow: () => Promise<BackupInfo | undefined> }>();

/** The backup service of the app serving `store` (for tests and the status line). */
export function backupServiceOf(store: object): { state: BackupState; runNow: () => Promise<BackupInfo | undefined> } | undefined {
  return states.get(store);
}

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} kB`;
}

/**
 * The serving lock and scheduled backups of a SQLite practice node, as one background service: the
 * lock is held for as long as the node listens; backups run on their schedule and one under way
 * finishes before the store closes.
 */
function atRestServices(deps: AppDeps, log: FastifyBaseLogger): BackgroundService[] {
  const info = sqliteFileOf(deps.store);
  const dataDir = deps.config.dataDir;
  if (!info || !dataDir || deps.config.role !== 'node') return [];
  const config = deps.config.backup;
  const scheduled = Boolean(config && config.everyMinutes !== 0);
  const everyMs = (config?.everyMinutes ?? 60) * 60_000;
  const dir = config?.dir ?? join(dataDir, BACKUP_DIR);
  const retention: Retention = { keepHours: config?.keepHours ?? DEFAULT_RETENTION.keepHours, keepDays: config?.keepDays ?? DEFAULT_RETENTION.keepDays };
  const state: BackupState = { running: false };
  let release: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<BackupInfo | undefined> | undefined;

  const runNow = (): Promise<BackupInfo | undefined> => {
    current ??= (async () => {
      state.running = true;
      try {
        const written = await writeBackup(info.file, info.key, dir);
        state.last = { at: written.at, file: written.file, bytes: written.bytes, changeLogEntries: written.changeLogEntries };
        delete state.lastError;
        pruneBackups(dir, retention);
        return written;
      } catch (err) {
        state.lastError = { at: new Date().toISOString(), message: (err as Error).message };
        log.error({ err }, 'scheduled backup failed');
        return undefined;
      } finally {
        state.running = false;
        current = undefined;
      }
    })();
    return current;
  };

  const status: StatusProvider = {
    label: 'Backups',
    staleAfterMs: 2 * everyMs + 60_000,
    report: () => {
      if (state.lastError && (!state.last || state.lastError.at > state.last.at)) {
        return { state: 'degraded', since: state.lastError.at, ...(state.last ? { lastContact: state.last.at } : {}), detail: `last backup failed: ${state.lastError.message}` };
      }
      if (!state.last) return { state: 'unknown', detail: 'no backup yet' };
      return { state: 'connected', lastContact: state.last.at, detail: `last backup ${state.last.at.slice(0, 16).replace('T', ' ')} UTC, ${formatBytes(state.last.bytes)}` };
    },
  };

  return [
    {
      name: scheduled ? 'serving lock and scheduled backups' : 'serving lock',
      async start() {
        release = holdServingLock(dataDir);
        if (!scheduled) return;
        const newest = listBackups(dir)[0];
        if (newest) state.last = newest;
        states.set(deps.store, { state, runNow });
        // First backup soon after start when the newest is older than the interval, then every interval.
        const due = newest ? Math.max(0, Date.parse(newest.at) + everyMs - Date.now()) : 0;
        timer = setTimeout(function tick() {
          void runNow().finally(() => {
            if (timer) timer = setTimeout(tick, everyMs);
          });
        }, Math.min(due, everyMs) + FIRST_BACKUP_DELAY_MS);
        timer.unref();
      },
      async stop() {
        clearTimeout(timer);
        timer = undefined;
        await current; // a backup under way finishes (its worker holds its own connection) before the store closes
        if (states.get(deps.store)?.state === state) states.delete(deps.store);
        release?.();
        release = undefined;
      },
      ...(scheduled ? { status: { name: 'backup', provider: status } } : {}),
    },
  ];
}

export const atRest: Capability = { name: 'atrest', services: atRestServices, cli: atRestCli };
