/**
 * The walls of results-in (structure issue 14): no import cycle among pathology's and the inbox's
 * modules, the MLLP transport knows nothing of pathology, the generic inbox nothing of any
 * capability, and no module grows past ~400 lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const modules = ['pathology', 'inbox'].flatMap((dir) =>
  readdirSync(join(src, dir))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => join(src, dir, f)),
);
const text = new Map(modules.map((m) => [m, readFileSync(m, 'utf8')]));
/** Static and dynamic relative imports (type-only ones included: they still tie the modules). */
const importsOf = (m: string) =>
  [...text.get(m)!.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+\.ts)'/g)].map((x) => resolve(dirname(m), x[1]!));
const rel = (m: string) => relative(src, m);

test('results-in modules: no import cycle, the transport and the generic inbox import nothing of pathology, no file past 400 lines', () => {
  const graph = new Map(modules.map((m) => [m, importsOf(m).filter((i) => text.has(i))]));
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (m: string, path: string[]) => {
    if (state.get(m) === 'done') return;
    if (state.get(m) === 'open') {
      cycles.push([...path.slice(path.indexOf(m)), m].map(rel).join(' → '));
      return;
    }
    state.set(m, 'open');
    for (const next of graph.get(m)!) visit(next, [...path, m]);
    state.set(m, 'done');
  };
  for (const m of modules) visit(m, []);
  assert.deepEqual(cycles, []);
  const local = (file: string) => [...new Set(importsOf(join(src, file)).map(rel))].sort();
  assert.deepEqual(local('pathology/mllp.ts'), ['pathology/hl7-ack.ts', 'pathology/hl7.ts', 'pathology/mllp-limits.ts']);
  for (const m of modules.filter((x) => rel(x).startsWith('inbox/'))) {
    // The capability contract (capability.ts) is not a capability: every capability, the inbox too, declares itself with it.
    assert.deepEqual(importsOf(m).map(rel).filter((i) => !i.startsWith('inbox/') && i !== 'capability.ts'), [], `${rel(m)} imports a capability`);
  }
  const long = modules.filter((m) => text.get(m)!.split('\n').length > 420).map(rel);
  assert.deepEqual(long, []);
});
