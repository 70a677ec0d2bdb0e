/**
 * Validation of import lines, on worker threads when the machine has a core to spare (validation is
 * the largest CPU cost of an import and is independent per line), else on the main thread.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { checkLines } from './lines.ts';

export interface LineValidator {
  /** Problems per line (undefined when the line is valid), in the order given. */
  check(texts: string[]): Promise<Array<string | undefined>>;
  /** How many chunks may usefully be in flight. */
  readonly width: number;
  close(): Promise<void>;
}

export const inlineValidator: LineValidator = {
  check: async (texts) => checkLines(texts),
  width: 1,
  close: async () => {},
};

export async function createWorkerValidator(workers = Math.min(3, availableParallelism() - 1)): Promise<LineValidator> {
  if (workers < 1) return inlineValidator;
  const pool: Worker[] = [];
  const waiting = new Map<number, { resolve: (p: Array<string | undefined>) => void; reject: (e: unknown) => void }>();
  let nextId = 0;
  const started: Array<Promise<void>> = [];
  for (let i = 0; i < workers; i++) {
    const worker = new Worker(new URL('./validate-worker.mjs', import.meta.url));
    worker.unref();
    started.push(
      new Promise<void>((resolve, reject) => {
        worker.once('error', reject);
        worker.on('message', (msg: { ready?: boolean; id?: number; problems?: Array<string | undefined> }) => {
          if (msg.ready) return resolve();
          const w = waiting.get(msg.id!);
          waiting.delete(msg.id!);
          w?.resolve(msg.problems!);
        });
      }),
    );
    worker.on('error', (err) => {
      for (const w of waiting.values()) w.reject(err);
      waiting.clear();
    });
    pool.push(worker);
  }
  try {
    await Promise.all(started);
  } catch {
    await Promise.all(pool.map((w) => w.terminate()));
    return inlineValidator;
  }
  return {
    width: workers + 1,
    check(texts) {
      const id = nextId++;
      const worker = pool[id % pool.length]!;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, texts });
      });
    },
    async close() {
      await Promise.all(pool.map((w) => w.terminate()));
    },
  };
}
