/**
 * `npm run bench`: runs every bench/*.bench.ts (or those named on the command line), prints each
 * figure with its same-run baseline, and rewrites docs/benchmarks.md with the results and the machine.
 * Sizes: BENCH_PATIENTS (default 10000) for store benchmarks; set 1000000 for the full-size run.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchResult } from './types.ts';

const dir = new URL('.', import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !filters.length || filters.some((x) => f.includes(x)))
  .sort();

const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${process.platform}`;
const sections: string[] = [];
for (const file of files) {
  const name = file.replace('.bench.ts', '');
  console.log(`\n## ${name}`);
  const started = Date.now();
  let results: BenchResult[];
  try {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as { run(): Promise<BenchResult[]> };
    results = await mod.run();
  } catch (err) {
    console.error(`bench ${name} failed:`, err);
    process.exitCode = 1;
    continue;
  }
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.value} ${r.unit} | ${r.baseline ? `${r.baseline.name}: ${r.baseline.value} ${r.unit}` : '—'} | ${r.ratio ?? '—'} | ${r.target ?? ''} | ${r.note ?? ''} |`,
  );
  const table = ['| figure | value | same-run baseline | ratio | target | note |', '|---|---|---|---|---|---|', ...rows].join('\n');
  console.log(table);
  sections.push(`### ${name}\n\nRun ${new Date().toISOString().slice(0, 16)}Z in ${Math.round((Date.now() - started) / 1000)} s.\n\n${table}\n`);
}

const docPath = new URL('../docs/benchmarks.md', import.meta.url).pathname;
const marker = '<!-- bench:results -->';
let doc = '';
try {
  doc = readFileSync(docPath, 'utf8');
} catch {
  doc = `# Benchmarks\n\n${marker}\n`;
}
const head = doc.includes(marker) ? doc.slice(0, doc.indexOf(marker)) : `${doc}\n`;
if (!filters.length || process.env.BENCH_WRITE === '1') {
  writeFileSync(docPath, `${head}${marker}\n\n## Latest \`npm run bench\`\n\nMachine: ${machine}.\n\n${sections.join('\n')}`);
  console.log(`\nwrote ${docPath}`);
}
