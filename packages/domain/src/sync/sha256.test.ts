import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { deterministicUuid, sha256Hex } from './sha256.ts';

test('sha256Hex matches node:crypto for empty, short, multi-block and non-ASCII input', () => {
  for (const text of ['', 'abc', 'a'.repeat(55), 'a'.repeat(56), 'a'.repeat(64), 'x'.repeat(1000), 'Zoë Ó Briain – 999 123 4564']) {
    assert.equal(sha256Hex(text), createHash('sha256').update(text, 'utf8').digest('hex'), `input of length ${text.length}`);
  }
});

test('deterministicUuid is a stable, well-formed UUID that differs by input', () => {
  const a = deterministicUuid('steadfast:x');
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(deterministicUuid('steadfast:x'), a);
  assert.notEqual(deterministicUuid('steadfast:y'), a);
});
