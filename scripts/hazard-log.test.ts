import { test } from 'node:test';
import assert from 'node:assert/strict';
// @ts-expect-error plain ESM script without type declarations
import { check, references } from './hazard-log.mjs';

test('every hazard names a test that exists, by file and test name', () => {
  const { problems, hazards } = check();
  assert.ok(hazards > 0, 'the hazard log has hazards');
  assert.deepEqual(problems, []);
});

test('references are read as file › name, and › name reuses the file before it', () => {
  assert.deepEqual(references('a.test.ts › one; › two; b.test.ts › three'), [
    { file: 'a.test.ts', name: 'one' },
    { file: 'a.test.ts', name: 'two' },
    { file: 'b.test.ts', name: 'three' },
  ]);
});
