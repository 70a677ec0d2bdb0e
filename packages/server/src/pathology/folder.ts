/**
 * A watched drop folder: laboratories (or an interface engine) write result files into `dir`; each
 * is ingested and then moved to `processed/` (filed, duplicate, unmatched: the record has it) or
 * `quarantine/` (could not be filed). A file is moved only after its ingest committed, so a crash in
 * between re-ingests it on restart, and de-duplication makes that harmless.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { IngestOutcome } from './outcome.ts';

export interface FolderWatchOptions {
  dir: string;
  /** Ingest one file's text (`format` from the extension: .json → FHIR Bundle, else HL7 v2). */
  ingest: (raw: string, format: 'hl7v2' | 'fhir') => Promise<IngestOutcome>;
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

export interface FolderWatch {
  /** Process every file now (also what each poll does); resolves to the outcomes. */
  scan(): Promise<IngestOutcome[]>;
  close(): void;
}

const RESULT_FILE = /\.(hl7|txt|oru|json)$/i;

export function startFolderWatch(options: FolderWatchOptions): FolderWatch {
  const processed = join(options.dir, 'processed');
  const quarantine = join(options.dir, 'quarantine');
  mkdirSync(processed, { recursive: true });
  mkdirSync(quarantine, { recursive: true });
  let running: Promise<IngestOutcome[]> | undefined;
  let closed = false;

  async function scanOnce(): Promise<IngestOutcome[]> {
    const out: IngestOutcome[] = [];
    const names = readdirSync(options.dir)
      .filter((n) => RESULT_FILE.test(n))
      .sort();
    // Read every file, ingest them together (the ingest function may share commits), then move each.
    const files: Array<{ name: string; path: string; raw: string }> = [];
    for (const name of names) {
      const path = join(options.dir, name);
      try {
        if (statSync(path).isFile()) files.push({ name, path, raw: readFileSync(path, 'utf8') });
      } catch (err) {
        options.onError?.(err);
      }
    }
    const settled = await Promise.allSettled(files.map((f) => options.ingest(f.raw, /\.json$/i.test(f.name) ? 'fhir' : 'hl7v2')));
    settled.forEach((r, i) => {
      const f = files[i]!;
      if (r.status === 'rejected') return options.onError?.(r.reason);
      out.push(r.value);
      try {
        // The store's inbox row is the record of this file; the moved copy is only for people looking at the folder.
        const target = r.value.state === 'quarantined' ? quarantine : processed;
        renameSync(f.path, join(target, `${r.value.inboxId}-${f.name}`));
      } catch (err) {
        options.onError?.(err);
      }
    });
    return out;
  }

  function scan(): Promise<IngestOutcome[]> {
    running = (running ?? Promise.resolve([])).then(scanOnce, scanOnce);
    return running;
  }

  const timer = setInterval(() => {
    if (!closed) scan().catch((err) => options.onError?.(err));
  }, options.intervalMs ?? 5000);
  timer.unref();
  return {
    scan,
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
