/**
 * Worker thread for seeding: generates and checks batches while the main thread writes the previous
 * ones, so the two cores share the work. The main thread hands out credits ("more") so the worker
 * stays only a few batches ahead and memory stays flat.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isSteadfastError } from '@steadfast/domain';
import { checkedBatches } from './batches.ts';
import type { SeedWorkerData } from './seed.ts';

const port = parentPort!;
const { options, batchSize, validate } = workerData as SeedWorkerData;
let credits = 0;
let wake: (() => void) | undefined;
port.on('message', (message: unknown) => {
  if (message === 'more') {
    credits++;
    wake?.();
    wake = undefined;
  }
});

try {
  for (const batch of checkedBatches(options, batchSize, validate)) {
    while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
    credits--;
    port.postMessage({ type: 'batch', batch });
  }
  port.postMessage({ type: 'done' });
} catch (err) {
  const e = err as Error;
  port.postMessage({
    type: 'error',
    error: isSteadfastError(err)
      ? { steadfast: true, code: err.code, message: err.message, field: err.field, hint: err.hint }
      : { steadfast: false, message: e?.message ?? String(err), stack: e?.stack },
  });
}
port.close();
