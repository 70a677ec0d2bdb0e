import { describe } from 'node:test';
import { SEEDS, simulateSeeds } from './simulation-seeds.ts';

describe('sync fault simulation (real SQLite stores), second half of the seeds', () => {
  simulateSeeds(Math.ceil(SEEDS / 2) + 1, SEEDS);
});
