// The walls between the packages (.dependency-cruiser.cjs): the repository keeps them, and the check
// can fail (a fixture tree with a deliberate cycle and deliberate layering breaches is reported).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const config = join(root, '.dependency-cruiser.cjs');
const depcruise = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

/** Runs the check as `npm test` does (the "err" reporter, whose exit status is the number of errors). */
function cruise(cwd: string, paths: string[]): { status: number | null; report: string } {
  const r = spawnSync(process.execPath, [depcruise, ...paths, '--config', config, '--output-type', 'err'], { cwd, encoding: 'utf8' });
  return { status: r.status, report: `${r.stdout}${r.stderr}` };
}

test('the repository has no import cycle (beyond the listed known ones) and no import against the layering', () => {
  const { status, report } = cruise(root, ['packages', 'bench', 'scripts']);
  assert.equal(status, 0, report);
  assert.match(report, /no dependency violations found/);
});

test('the dependency check reports a cycle and imports against the layering in a fixture tree', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-walls-'));
  try {
    const files: Record<string, string> = {
      'package.json': JSON.stringify({ name: 'fixture', private: true, type: 'module' }),
      'packages/domain/package.json': JSON.stringify({ name: '@fixture/domain', type: 'module' }),
      'packages/store/package.json': JSON.stringify({ name: '@fixture/store', type: 'module' }),
      'packages/server/package.json': JSON.stringify({ name: '@fixture/server', type: 'module' }),
      'packages/web/package.json': JSON.stringify({ name: '@fixture/web', type: 'module' }),
      // A cycle inside the domain.
      'packages/domain/src/a.ts': "import { b } from './b.ts';\nexport const a = (): number => b() + 1;\n",
      'packages/domain/src/b.ts': "import { a } from './a.ts';\nexport const b = (): number => (a.length > 0 ? 1 : 0);\n",
      // The domain reaching into the store, by relative path.
      'packages/domain/src/c.ts': "import { s } from '../../store/src/s.ts';\nexport const c = s;\n",
      'packages/store/src/s.ts': 'export const s = 1;\n',
      // The web app importing the server.
      'packages/web/src/w.ts': "import { x } from '../../server/src/x.ts';\nexport const w = x;\n",
      'packages/server/src/x.ts': 'export const x = 1;\n',
      // A package imported and never declared.
      'packages/server/src/y.ts': "import { z } from 'zod';\nexport const y = z.string();\n",
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    // The repository's installed packages, so that 'zod' resolves (and is found undeclared).
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const { status, report } = cruise(dir, ['packages']);
    // The cycle (reported once), the domain's relative import into the store (two rules), the web
    // app's relative import of the server (two rules), the undeclared package.
    assert.equal(status, 6, report);
    const has = (rule: string, ...path: string[]) =>
      assert.match(report, new RegExp(`error ${rule}: ${path.map((p) => p.replace(/[.]/g, '\\.')).join('\\s*→\\s*')}`), report);
    has('no-cycle', 'packages/domain/src/a.ts', 'packages/domain/src/b.ts');
    has('domain-imports-nothing-of-ours', 'packages/domain/src/c.ts', 'packages/store/src/s.ts');
    has('no-relative-path-into-another-package', 'packages/domain/src/c.ts', 'packages/store/src/s.ts');
    has('web-app-imports-only-domain', 'packages/web/src/w.ts', 'packages/server/src/x.ts');
    assert.match(report, /error no-undeclared-package: packages\/server\/src\/y\.ts → \S*node_modules\/zod\//, report);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
