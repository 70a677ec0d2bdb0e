// The Node version in our `engines` must be one every installed dependency runs on: cookie@2.0.2
// (through @fastify/cookie 11.1.5 and light-my-request 6.8) wants Node 22 while we promise 20.19.
// This walks every installed package (npm workspaces hoist them into the root node_modules) and checks
// that the oldest Node we allow satisfies each package's own `engines.node`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

type Version = [number, number, number];

function parse(v: string): Version | undefined {
  const m = /^v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?/.exec(v.trim());
  if (!m) return undefined;
  const n = (s: string | undefined) => (s === undefined || s === 'x' || s === '*' ? 0 : Number(s));
  return [Number(m[1]), n(m[2]), n(m[3])];
}

const cmp = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** The parts given in a partial version ("20" → 1, "20.19" → 2), so "<21" and "20.x" work. */
const precision = (v: string) => v.replace(/^v/, '').split('.').filter((p) => p !== 'x' && p !== '*' && p !== '').length;

/** Whether version satisfies one comparator ("^18.18.0", ">=20", "<23", "20.x", "~14.17"). */
function satisfiesOne(version: Version, comparator: string): boolean {
  const c = comparator.trim();
  if (c === '' || c === '*' || c === 'x') return true;
  const m = /^(\^|~|>=|<=|>|<|=)?\s*(.+)$/.exec(c)!;
  const op = m[1] ?? '';
  const target = parse(m[2]!);
  if (!target) throw new Error(`cannot read the engines comparator "${comparator}"`);
  const p = precision(m[2]!);
  const upper = (bumpAt: number): Version => (bumpAt === 0 ? [target[0] + 1, 0, 0] : bumpAt === 1 ? [target[0], target[1] + 1, 0] : [target[0], target[1], target[2] + 1]);
  switch (op) {
    case '>=':
      return cmp(version, target) >= 0;
    case '>':
      return p < 3 ? cmp(version, upper(p - 1)) >= 0 : cmp(version, target) > 0;
    case '<':
      return cmp(version, target) < 0;
    case '<=':
      return p < 3 ? cmp(version, upper(p - 1)) < 0 : cmp(version, target) <= 0;
    case '^':
      return cmp(version, target) >= 0 && cmp(version, upper(target[0] > 0 || p === 1 ? 0 : target[1] > 0 || p === 2 ? 1 : 2)) < 0;
    case '~':
      return cmp(version, target) >= 0 && cmp(version, upper(p === 1 ? 0 : 1)) < 0;
    default:
      // "20", "20.x", "20.19.0": an X-range or an exact version.
      return p >= 3 ? cmp(version, target) === 0 : cmp(version, target) >= 0 && cmp(version, upper(p - 1)) < 0;
  }
}

/** npm's range grammar, as far as engines fields use it: "a || b", "a b" (and), "a - b". */
export function satisfies(version: string, range: string): boolean {
  const v = parse(version)!;
  return range.split('||').some((set) => {
    const hyphen = /^\s*(\S+)\s+-\s+(\S+)\s*$/.exec(set);
    if (hyphen) return satisfiesOne(v, `>=${hyphen[1]}`) && satisfiesOne(v, `<=${hyphen[2]}`);
    return set
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .split(/\s+/)
      .filter(Boolean)
      .every((c) => satisfiesOne(v, c));
  });
}

function installedPackages(dir: string, out: Array<{ name: string; version: string; engine: string; path: string }> = []) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    const full = join(dir, entry);
    if (entry.startsWith('@')) {
      installedPackages(full, out);
      continue;
    }
    const manifest = join(full, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string; engines?: { node?: unknown } };
      if (typeof pkg.engines?.node === 'string') out.push({ name: pkg.name ?? entry, version: pkg.version ?? '', engine: pkg.engines.node, path: full });
    }
    installedPackages(join(full, 'node_modules'), out);
  }
  return out;
}

test('the engines range reader agrees with npm on the forms dependencies use', () => {
  assert.ok(satisfies('20.19.0', '>=18'));
  assert.ok(!satisfies('20.19.0', '>=22'));
  assert.ok(satisfies('20.19.0', '^18.18.0 || ^20.9.0 || >=21.1.0'));
  assert.ok(!satisfies('20.8.0', '^18.18.0 || ^20.9.0 || >=21.1.0'));
  assert.ok(satisfies('20.19.0', '>= 14.17'));
  assert.ok(satisfies('20.19.0', '>=14.0.0 <23'));
  assert.ok(!satisfies('23.1.0', '>=14.0.0 <23'));
  assert.ok(satisfies('20.19.0', '20.x'));
  assert.ok(satisfies('20.19.0', '*'));
  assert.ok(satisfies('20.19.0', '10 - 22'));
  assert.ok(!satisfies('20.19.0', '^22.12.0 || >=24'));
  assert.ok(satisfies('20.19.0', '~20.19'));
});

test('regression: cookie@2.0.2 wanted Node 22 while engines promised >=20.19: every installed dependency runs on the oldest Node we allow', () => {
  const ours = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  const oldest = /^>=\s*(\d+\.\d+\.\d+)$/.exec(ours)?.[1];
  assert.ok(oldest, `engines.node is a ">=x.y.z" floor (it is "${ours}")`);
  const packages = installedPackages(join(root, 'node_modules'));
  for (const ws of readdirSync(join(root, 'packages'))) installedPackages(join(root, 'packages', ws, 'node_modules'), packages);
  assert.ok(packages.length > 50, 'the installed packages were found');
  const refusing = packages.filter((p) => !satisfies(oldest, p.engine)).map((p) => `${p.name}@${p.version} wants node ${p.engine} (${p.path.slice(root.length)})`);
  assert.deepEqual(refusing, [], `installed dependencies that do not run on Node ${oldest}`);
});
