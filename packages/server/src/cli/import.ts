/** `steadfast import FILE.ndjson`: bulk import with a progress bar and line-numbered errors. */
import { createReadStream, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import cliProgress from 'cli-progress';
import type { OpenedNode } from '../node/open.ts';
import { createWorkerValidator, importNdjson, inlineValidator, SYSTEM_IMPORT_ACTOR, type ImportReport } from '../records/import.ts';

export interface ImportFileOptions {
  onError: 'stop' | 'skip';
  batchSize?: number;
  /** Show a progress bar on stderr (default: when stderr is a terminal). */
  progress?: boolean;
  /**
   * Worker threads that validate lines beside the writes (default 0: validate on this thread). Helps
   * only with an idle core to spare; on a busy 2-core machine it measured slower.
   */
  workers?: number;
}

export async function importFile(node: OpenedNode, file: string, options: ImportFileOptions): Promise<ImportReport> {
  const size = statSync(file).size;
  // Before the file is opened: readline drops lines emitted before iteration starts, so nothing may
  // be awaited between creating the stream and reading it.
  const validator = options.workers ? await createWorkerValidator(options.workers) : inlineValidator;
  let bytes = 0;
  const showBar = options.progress ?? Boolean(process.stderr.isTTY);
  const bar = showBar
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: 'importing{pass} [{bar}] {percentage}% | line {lines} | {eta_formatted} left', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(size, 0, { lines: 0, pass: '' });
  const opened: Array<{ destroy(): void }> = [];
  /** Opens the file afresh for each pass; called only when the pass starts reading. */
  const openLines = () => {
    const stream = createReadStream(file, { encoding: 'utf8' });
    bytes = 0;
    stream.on('data', (chunk) => (bytes += Buffer.byteLength(chunk as string)));
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    opened.push({ destroy: () => (lines.close(), stream.destroy()) });
    return lines;
  };
  try {
    return await importNdjson(node, openLines, {
      onError: options.onError,
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      actor: { ...SYSTEM_IMPORT_ACTOR, workstation: hostname() },
      validator,
      onProgress: (n) => bar?.update(Math.min(bytes, size), { lines: n }),
      onPass: (pass, of) => bar?.update(0, { pass: of > 1 ? ` (pass ${pass} of ${of}: ${pass === 1 ? 'patients' : 'the rest'})` : '' }),
    });
  } finally {
    await validator.close();
    bar?.update(size);
    bar?.stop();
    for (const o of opened) o.destroy();
  }
}
