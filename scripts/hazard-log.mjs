#!/usr/bin/env node
// The clinical safety hazard log: docs/safety/hazard-log.md is built from one table per capability in
// docs/safety/hazards/*.md, and every "test that proves it" reference is checked against the real test
// files, so the log cannot quietly point at a test that was renamed or deleted.
//   node scripts/hazard-log.mjs build   rewrite docs/safety/hazard-log.md
//   node scripts/hazard-log.mjs check   exit 1 listing references that name no existing test
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const hazardsDir = join(root, 'docs/safety/hazards');
/** Short names some tables use for a test file. */
const aliases = { E2E: 'packages/web/e2e/webapp.test.ts' };

function testFiles(dir = join(root, 'packages'), out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) testFiles(full, out);
    // Test names may live in a helper module that test files call (e.g. a seeded simulation).
    else if (/\.test\.tsx?$/.test(name) || /-seeds\.ts$/.test(name)) out.push(full);
  }
  return out;
}

export function hazardRows() {
  const rows = [];
  for (const file of readdirSync(hazardsDir).filter((f) => f.endsWith('.md')).sort()) {
    const text = readFileSync(join(hazardsDir, file), 'utf8');
    for (const line of text.split('\n')) {
      const cells = line.split('|').slice(1, -1).map((c) => c.trim());
      if (cells.length >= 5 && /^[A-Z]+-\d+/.test(cells[0])) rows.push({ file, id: cells[0], cells, proof: cells[cells.length - 1] });
    }
  }
  return rows;
}

/** Each "file › test name" reference in a proof cell; a "› name" without a file reuses the last file. */
export function references(proof) {
  const refs = [];
  let file;
  for (const part of proof.split(';').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(?:(\S+?)\s*)?›\s*(.+)$/.exec(part);
    if (!m) continue;
    if (m[1]) file = m[1];
    if (file) refs.push({ file, name: m[2].trim() });
  }
  return refs;
}

export function check() {
  const files = testFiles();
  const problems = [];
  const manual = [];
  let checked = 0;
  for (const row of hazardRows()) {
    const refs = references(row.proof);
    // A mitigation that is procedure, not software, says so plainly and is listed, not failed.
    if (!refs.length && /not automated/i.test(row.proof)) {
      manual.push(row.id);
      continue;
    }
    if (!refs.length) problems.push(`${row.id} (${row.file}): no "file › test name" reference in "${row.proof}"`);
    for (const ref of refs) {
      const wanted = aliases[ref.file] ?? ref.file;
      const candidates = files.filter((f) => relative(root, f) === wanted || basename(f) === basename(wanted));
      if (!candidates.length) {
        problems.push(`${row.id} (${row.file}): test file ${ref.file} does not exist`);
        continue;
      }
      // Names may be shortened with "…" or followed by a note in brackets; match the part before.
      const key = ref.name.split('…')[0].replace(/\s*\(.*$/, '').trim().slice(0, 50);
      checked++;
      // Cite a literal part of a parameterised name (`${backend}: never twice: …` → "never twice: …").
      const source = (f) => readFileSync(f, 'utf8').replace(/\\(['"`])/g, '$1');
      if (!candidates.some((f) => source(f).includes(key))) problems.push(`${row.id} (${row.file}): no test named "${key}" in ${ref.file}`);
    }
  }
  return { problems, checked, manual, hazards: hazardRows().length };
}

function build() {
  const parts = readdirSync(hazardsDir).filter((f) => f.endsWith('.md')).sort();
  const intro = `# Clinical safety hazard log

Steadfast's hazard log in the sense of DCB0129 (the manufacturer's clinical risk management): each way
the software could harm a patient, its cause, the mitigation built into the software, and the automated
test that proves the mitigation works. A deploying organisation keeps its own log for its use (DCB0160).

This file is built by \`node scripts/hazard-log.mjs build\` from one table per capability in
[hazards/](hazards/); \`npm test\` checks that every referenced test exists (scripts/hazard-log.test.ts).
Edit the capability's table, not this file. Hazards are reviewed with every capability change.

Capabilities: ${parts.map((p) => `[${p.replace('.md', '')}](#${p.replace('.md', '')})`).join(', ')}.
`;
  const body = parts.map((p) => {
    const text = readFileSync(join(hazardsDir, p), 'utf8').replace(/^# .*\n/, '');
    return `\n## ${p.replace('.md', '')}\n\nSource: [hazards/${p}](hazards/${p})\n${text}`;
  });
  writeFileSync(join(root, 'docs/safety/hazard-log.md'), intro + body.join('\n'));
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  const mode = process.argv[2] ?? 'check';
  if (mode === 'build') build();
  const { problems, checked, manual, hazards } = check();
  for (const p of problems) console.error(p);
  console.log(`${hazards} hazards, ${checked} test references checked, ${manual.length} procedural (${manual.join(', ') || 'none'}), ${problems.length} problems`);
  if (problems.length) process.exit(1);
}
