/** `steadfast import FILE.ndjson`: bulk import with a progress bar and line-numbered errors. */
import { createReadStream, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import cliProgress from 'cli-progress';
import type { OpenedNode } from '../http/node.ts';
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
  const stream = createReadStream(file, { encoding: 'utf8' });
  let bytes = 0;
  stream.on('data', (chunk) => (bytes += Buffer.byteLength(chunk as string)));
  const showBar = options.progress ?? Boolean(process.stderr.isTTY);
  const bar = showBar
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: 'importing [{bar}] {percentage}% | {lines} lines | {eta_formatted} left', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(size, 0, { lines: 0 });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    return await importNdjson(node, lines, {
      onError: options.onError,
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      actor: { ...SYSTEM_IMPORT_ACTOR, workstation: hostname() },
      validator,
      onProgress: (n) => bar?.update(Math.min(bytes, size), { lines: n }),
    });
  } finally {
    await validator.close();
    bar?.update(size);
    bar?.stop();
    lines.close();
    stream.destroy();
  }
}
