import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeHlc, encodeHlc, HybridLogicalClock } from './hlc.ts';

test('ticks are strictly increasing even when the wall clock stands still or goes back', () => {
  let now = 1_000;
  const clock = new HybridLogicalClock('a', () => now);
  const t1 = clock.tick();
  const t2 = clock.tick();
  now = 500; // clock stepped back
  const t3 = clock.tick();
  assert.ok(t1 < t2 && t2 < t3, `${t1} < ${t2} < ${t3}`);
  assert.equal(decodeHlc(t3).wallMs, 1_000);
});

test('observing a remote time from a fast clock orders later local events after it', () => {
  const local = new HybridLogicalClock('local', () => 1_000);
  const remote = new HybridLogicalClock('remote', () => 9_000_000);
  const r = remote.tick();
  local.observe(r);
  const l = local.tick();
  assert.ok(l > r, `${l} > ${r}`);
});

test('encoding round-trips and sorts as time', () => {
  const t = { wallMs: 1732540000000, counter: 7, node: 'node-1' };
  assert.deepEqual(decodeHlc(encodeHlc(t)), t);
  assert.ok(encodeHlc({ ...t, wallMs: 999 }) < encodeHlc(t));
  assert.throws(() => decodeHlc('yesterday'), /not a hybrid logical clock/);
  assert.throws(() => new HybridLogicalClock('bad node!'), /node id/);
});
