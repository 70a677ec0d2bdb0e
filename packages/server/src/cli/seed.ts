/** `steadfast seed`: the demo-data engineer's generator, run against an opened node. */
import { seedPractice, type SeedResult } from '../demo/index.ts';
import type { OpenedNode } from '../node/open.ts';

export async function seedData(node: OpenedNode, options: { patients: number; seed: string; progress?: boolean }): Promise<SeedResult> {
  const seed = /^\d+$/.test(options.seed) ? Number(options.seed) : options.seed;
  const tty = options.progress ?? Boolean(process.stderr.isTTY);
  let lastShown = 0;
  const result = await seedPractice(node.store, {
    patients: options.patients,
    seed,
    onProgress: ({ patients, totalPatients, resources }) => {
      if (!tty) return;
      const now = Date.now();
      if (now - lastShown < 200 && patients < totalPatients) return;
      lastShown = now;
      process.stderr.write(`\rseeding: ${patients}/${totalPatients} patients, ${resources} resources`);
    },
  });
  if (tty) process.stderr.write('\n');
  return result;
}

export function describeSeed(result: SeedResult): string {
  const types = Object.entries(result.byType)
    .sort((a, b) => b[1] - a[1])
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
  return `${result.patients} patients, ${result.resources} resources in ${(result.ms / 1000).toFixed(1)} s (${types})`;
}
