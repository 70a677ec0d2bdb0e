/** `steadfast seed`: the demo-data engineer's generator, run against an opened node. */
import { SteadfastError } from '@steadfast/domain';
import type { OpenedNode } from '../http/node.ts';

type SeedPractice = (store: OpenedNode['store'], options: { patients: number; seed: string | number; onProgress?: (done: number, total: number) => void }) => Promise<unknown>;

export async function loadSeedPractice(): Promise<SeedPractice> {
  let mod: Record<string, unknown>;
  try {
    // Loaded by URL so that the CLI still starts (with a clear error) before the generator exists.
    mod = (await import(new URL('../demo/index.ts', import.meta.url).href)) as Record<string, unknown>;
  } catch (err) {
    throw new SteadfastError('unavailable', `The demo data generator could not be loaded (${(err as Error).message})`, {
      hint: 'packages/server/src/demo/index.ts must export seedPractice(store, { patients, seed, onProgress })',
    });
  }
  if (typeof mod.seedPractice !== 'function') {
    throw new SteadfastError('unavailable', 'packages/server/src/demo/index.ts does not export seedPractice yet', { hint: 'Seeding needs the demo data generator' });
  }
  return mod.seedPractice as SeedPractice;
}

export async function seedData(node: OpenedNode, options: { patients: number; seed: string; progress?: boolean }): Promise<string | undefined> {
  const seedPractice = await loadSeedPractice();
  const seed = /^\d+$/.test(options.seed) ? Number(options.seed) : options.seed;
  const tty = options.progress ?? Boolean(process.stderr.isTTY);
  let lastShown = 0;
  const result = await seedPractice(node.store, {
    patients: options.patients,
    seed,
    onProgress: (done, total) => {
      if (!tty) return;
      const now = Date.now();
      if (now - lastShown < 200 && done < total) return;
      lastShown = now;
      process.stderr.write(`\rseeding ${done}/${total} patients`);
      if (done >= total) process.stderr.write('\n');
    },
  });
  if (result && typeof result === 'object') {
    return Object.entries(result as Record<string, unknown>)
      .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  }
  return undefined;
}
