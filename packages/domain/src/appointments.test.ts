import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countSlots, isFullyBooked, sessionsOverlap } from './appointments.ts';

test('sessions overlap when they share a minute; touching sessions and other days do not', () => {
  const morning = { date: '2026-12-01', start: '09:00', end: '12:00' };
  assert.equal(sessionsOverlap(morning, { date: '2026-12-01', start: '11:50', end: '13:00' }), true);
  assert.equal(sessionsOverlap(morning, { date: '2026-12-01', start: '08:00', end: '18:00' }), true, 'a session around another overlaps it');
  assert.equal(sessionsOverlap(morning, { date: '2026-12-01', start: '12:00', end: '13:00' }), false);
  assert.equal(sessionsOverlap(morning, { date: '2026-12-02', start: '09:00', end: '12:00' }), false);
});

test('fully booked means sessions with no free slot; no sessions is not fully booked', () => {
  assert.equal(isFullyBooked(countSlots([{ status: 'busy' }, { status: 'busy-unavailable' }])), true);
  assert.equal(isFullyBooked(countSlots([{ status: 'busy' }, { status: 'free' }])), false);
  assert.equal(isFullyBooked(countSlots([])), false);
  assert.deepEqual(countSlots([{ status: 'busy' }, { status: 'free' }, { status: 'busy-unavailable' }]), { total: 3, booked: 1, free: 1 });
});
