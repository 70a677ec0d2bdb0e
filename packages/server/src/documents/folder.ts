/**
 * The scanner drop folder: a scanner (or a person) saves files into `dir`; each file is streamed into
 * the blob store, kept by the inbox, and only then moved to `taken/`. A crash in between leaves the
 * file where it was; the next scan keeps the same bytes again, recognised as the same document.
 * Files still being written are left for the next scan (their size or time changed since the last look).
 */
import { createReadStream, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DocumentIntake } from './intake.ts';

export interface ScanFolderOptions {
  dir: string;
  intervalMs?: number;
  /** A file is taken once unchanged for this long (default 2 s), so a scan in progress is not cut short. */
  settleMs?: number;
  onError?: (err: unknown) => void;
}

export class ScanFolder {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private readonly taken: string;
  private readonly failed: string;

  constructor(
    private readonly intake: DocumentIntake,
    private readonly options: ScanFolderOptions,
  ) {
    this.taken = join(options.dir, 'taken');
    this.failed = join(options.dir, 'not-taken');
    mkdirSync(this.taken, { recursive: true });
  }

  start(): void {
    this.timer = setInterval(() => void this.scan().catch((err) => this.options.onError?.(err)), this.options.intervalMs ?? 5000);
    this.timer.unref();
  }

  /** Take every settled file now; resolves to how many were taken. */
  scan(): Promise<number> {
    this.running ??= this.scanOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async scanOnce(): Promise<number> {
    const settle = this.options.settleMs ?? 2000;
    let n = 0;
    for (const name of readdirSync(this.options.dir).sort()) {
      if (name.startsWith('.')) continue;
      const path = join(this.options.dir, name);
      try {
        const st = statSync(path);
        if (!st.isFile() || Date.now() - st.mtimeMs < settle) continue;
        const r = await this.intake.receiveStream(createReadStream(path), 'file', 'folder', { filename: name, origin: { folder: this.options.dir } });
        if (r.state === 'refused') throw r.error ?? new Error(r.reason);
        // Kept: the moved copy is only for people looking at the folder.
        renameSync(path, join(this.taken, `${r.id}-${name}`));
        n++;
      } catch (err) {
        this.options.onError?.(err);
        if ((err as { code?: string }).code === 'too-large') {
          mkdirSync(this.failed, { recursive: true });
          renameSync(path, join(this.failed, name));
        }
      }
    }
    return n;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }
}
