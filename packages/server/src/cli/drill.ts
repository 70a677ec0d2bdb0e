/**
 * `steadfast drill`: the outage drill (packages/server/src/drill/). Owned by the drill engineer; the
 * CLI only registers it. Exits non-zero when anything acknowledged was lost or duplicated, a fork got
 * no review Task, or the region did not converge.
 */
import { Command, Option } from 'commander';
import { SteadfastError } from '@steadfast/domain';
import { runDrill } from '../drill/drill.ts';

const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

function positive(raw: string, name: string, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new SteadfastError('invalid', `${name} ${raw} is not a whole number from 1 to ${max}`, { field: name });
  return n;
}

export function registerDrillCommand(program: Command): void {
  program
    .command('drill')
    .description('outage drill: a hub and practice nodes as processes, the hub cut off, scripted days, then verify nothing was lost')
    .option('--days <n>', 'simulated working days of outage', '6')
    .option('--practices <n>', 'practices (the first gets a second node, for concurrent edits)', '3')
    .option('--seed <s>', 'random seed (same seed, same drill)', '1')
    .option('--patients-per-day <n>', 'new patients per practice per day (the rest of the day scales with it)', '2')
    .addOption(new Option('--database-url <url>', 'PostgreSQL server where the drill creates (and drops) a database of its own (env STEADFAST_DRILL_PG_URL)'))
    .option('--timeout <s>', 'seconds to wait for convergence after the hub is restored', '90')
    .option('--ledger <file>', 'also write the ledger of acknowledged writes here (JSON lines)')
    .option('--keep', 'keep the temp data dirs and logs (the database is always dropped)')
    .action(async (options: { days: string; practices: string; seed: string; patientsPerDay: string; databaseUrl?: string; timeout: string; ledger?: string; keep?: boolean }) => {
      const started = Date.now();
      const stamp = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s]`;
      const result = await runDrill({
        days: positive(options.days, '--days', 60),
        practices: positive(options.practices, '--practices', 50),
        seed: options.seed,
        patientsPerDay: positive(options.patientsPerDay, '--patients-per-day', 1000),
        pgUrl: options.databaseUrl ?? process.env.STEADFAST_DRILL_PG_URL ?? DEFAULT_PG_URL,
        convergeTimeoutMs: positive(options.timeout, '--timeout', 3600) * 1000,
        ...(options.ledger ? { ledgerFile: options.ledger } : {}),
        ...(options.keep ? { keepTemp: true } : {}),
        log: (line) => process.stdout.write(`${stamp()} ${line}\n`),
      });
      process.stdout.write(`${result.summary}\n`);
      if (!result.ok) process.exitCode = 1;
    });
}
