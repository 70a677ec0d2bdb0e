/**
 * Collects items arriving at the same time (several connections, a drop folder) into batches for
 * `run`, so they share one commit; each caller still gets its own outcome, after its batch committed.
 */
export function createBatcher<T, S extends string = string>(
  run: (items: Array<{ raw: string; source: S }>) => Promise<T[]>,
  maxBatch = 50,
): (raw: string, source: S) => Promise<T> {
  let queue: Array<{ raw: string; source: S; resolve: (o: T) => void; reject: (e: unknown) => void }> = [];
  let running = false;
  const flush = async () => {
    running = true;
    try {
      while (queue.length) {
        const batch = queue.slice(0, maxBatch);
        queue = queue.slice(batch.length);
        try {
          const outcomes = await run(batch);
          batch.forEach((b, i) => b.resolve(outcomes[i]!));
        } catch (err) {
          batch.forEach((b) => b.reject(err));
        }
      }
    } finally {
      running = false;
    }
  };
  return (raw, source) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ raw, source, resolve, reject });
      if (!running) setImmediate(() => void (running ? undefined : flush()));
    });
}
