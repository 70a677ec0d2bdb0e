import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation, simulationDir } from './simulation.ts';
import { failed, SEEDS, simulateSeeds } from './simulation-seeds.ts';

describe('sync fault simulation (real SQLite stores), first half of the seeds', () => {
  simulateSeeds(1, Math.ceil(SEEDS / 2));

  test('the checks catch a hub that acknowledges without a durable commit (sabotaged run)', async () => {
    const scratch = simulationDir();
    try {
      let caught = 0;
      for (let seed = 1; seed <= 30; seed++) {
        const r = await runSimulation({ seed: 100_000 + seed, dir: scratch.dir, sabotage: 'hub-forgets' });
        if (r.faults['hub crash'] && failed(r)) caught++;
      }
      assert.ok(caught > 0, 'no sabotaged seed was caught');
    } finally {
      scratch.dispose();
    }
  });
});
