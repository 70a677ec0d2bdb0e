/**
 * Test helper: run a range of simulation seeds as one node:test test. SYNC_SIM_SEEDS (default 1,000)
 * seeds are split between simulation.test.ts and simulation-second-half.test.ts so the runner can run
 * the halves at once.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation, simulationDir, type SimulationResult } from './simulation.ts';

export const SEEDS = Number(process.env.SYNC_SIM_SEEDS ?? 1000);

export const failed = (r: SimulationResult) => r.lost.length + r.duplicated.length + r.diverged.length > 0;

/** Run seeds first..last and check the invariants (and that the faults really happened). */
export function simulateSeeds(first: number, last: number): void {
  const scratch = simulationDir();
  after(() => scratch.dispose());
  const count = last - first + 1;
  test(`seeds ${first}-${last}: no acknowledged write lost, no duplicates, all replicas converge`, async () => {
    const failures: SimulationResult[] = [];
    let written = 0;
    let conflicts = 0;
    const faults: Record<string, number> = {};
    for (let seed = first; seed <= last; seed++) {
      const r = await runSimulation({ seed, dir: scratch.dir });
      written += r.written;
      conflicts += r.conflicts;
      for (const [k, v] of Object.entries(r.faults)) faults[k] = (faults[k] ?? 0) + v;
      if (failed(r)) failures.push(r);
    }
    assert.deepEqual(
      failures.slice(0, 3).map((r) => ({ seed: r.seed, lost: r.lost.slice(0, 3), duplicated: r.duplicated.slice(0, 3), diverged: r.diverged.slice(0, 3) })),
      [],
      `failing seeds (rerun one with runSimulation({ seed })): ${failures.map((r) => r.seed).join(', ')}`,
    );
    assert.ok(written > count * 3, 'the workload wrote entries');
    // The faults really happened (otherwise the test proves nothing).
    for (const k of ['request lost', 'answer lost', 'delivered twice', 'old request replayed', 'truncated', 'tampered', 'node crash', 'hub crash', 'crash after apply, before cursor']) {
      if (count >= 100) assert.ok((faults[k] ?? 0) > 0, `fault "${k}" never happened`);
    }
    if (count >= 100) assert.ok(conflicts > 0, 'some conflicts were raised');
  });
}

