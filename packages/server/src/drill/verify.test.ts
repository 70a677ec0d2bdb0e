/**
 * The drill's verdict must be able to fail: each invariant is shown catching the defect it exists for,
 * so a drill reporting "lost 0, duplicated 0" means something.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NHS_NUMBER_SYSTEM } from '@steadfast/domain';
import { faultSchedule } from './drill.ts';
import { verify, type HubEntry } from './verify.ts';
import { type LedgerEntry } from './workload.ts';
import { DRILL_IDENTIFIER_SYSTEM } from '@steadfast/domain/systems';

const P = 'D80001';
const written = (id: string, versionId: string, resourceType = 'Encounter'): LedgerEntry => ({ practice: P, node: 0, day: 1, action: 'test', resourceType, id, versionId });
const atHub = (entryId: string, resourceId: string, body: any = {}, resourceType = 'Encounter', practice = P): HubEntry => ({ practice, entryId, resourceType, resourceId, body: { resourceType, id: resourceId, ...body } });
const drillKey = (value: string) => ({ identifier: [{ system: DRILL_IDENTIFIER_SYSTEM, value }] });

describe('drill verdict', () => {
  test('every acknowledged write found at the hub: nothing lost, nothing duplicated', () => {
    const v = verify([written('e1', 'v1'), written('e1', 'v2')], [atHub('v1', 'e1', drillKey('k1')), atHub('v2', 'e1', drillKey('k1'))], []);
    assert.equal(v.written, 2);
    assert.equal(v.atHub, 2);
    assert.deepEqual(v.lost, []);
    assert.deepEqual(v.duplicated, []);
  });

  test('an acknowledged write missing at the hub is lost, also when only its resource is there in another version or practice', () => {
    const v = verify(
      [written('e1', 'v1'), written('e2', 'v3'), written('e3', 'v4')],
      [atHub('v1', 'e1'), atHub('v2', 'e2'), atHub('v4', 'e3', {}, 'Encounter', 'D80002')],
      [],
    );
    assert.equal(v.atHub, 1);
    assert.deepEqual(v.lost.map((l) => l.versionId), ['v3', 'v4']);
  });

  test('a QuestionnaireResponse with its single identifier (not a list) does not break the verdict', () => {
    const qr = atHub('v1', 'q1', { identifier: { system: 'https://example.org/submission', value: 's1' } }, 'QuestionnaireResponse');
    const v = verify([written('q1', 'v1', 'QuestionnaireResponse')], [qr, atHub('v2', 'q1', { identifier: { system: 'https://example.org/submission', value: 's1' } }, 'QuestionnaireResponse')], []);
    assert.deepEqual(v.lost, []);
    assert.deepEqual(v.duplicated, []);
  });

  test('an entry twice in the hub log is a duplicate', () => {
    const v = verify([written('e1', 'v1')], [atHub('v1', 'e1'), atHub('v1', 'e1')], []);
    assert.equal(v.duplicated.length, 1);
    assert.match(v.duplicated[0]!, /v1 is 2 times/);
  });

  test('one logical record stored as two resources is a duplicate (drill identifier, or NHS number for a Patient)', () => {
    const nhs = { identifier: [{ system: NHS_NUMBER_SYSTEM, value: '9990000018' }], name: [{ family: 'Twice' }] };
    const v = verify(
      [],
      [atHub('v1', 'c1', drillKey('k1'), 'Communication'), atHub('v2', 'c2', drillKey('k1'), 'Communication'), atHub('v3', 'p1', nhs, 'Patient'), atHub('v4', 'p2', nhs, 'Patient')],
      [],
    );
    assert.equal(v.duplicated.length, 2);
    assert.ok(v.duplicated.some((d) => d.includes('drill k1') && d.includes('c1') && d.includes('c2')));
    assert.ok(v.duplicated.some((d) => d.includes('NHS 9990000018')));
  });

  test('a fork with no review Task, or a double booking with no Task for reception, is reported; with the Tasks it is not', () => {
    const review = { code: { coding: [{ code: 'sync-review' }] }, focus: { reference: 'MedicationRequest/m1' } };
    const doubleBooking = { code: { coding: [{ code: 'double-booking' }] }, focus: { reference: 'Slot/s1' } };
    const forks = [`${P}|MedicationRequest/m1`];
    const slots = [`${P}|Slot/s1`];
    const without = verify([], [], forks, slots);
    assert.deepEqual(without.unreviewedForks, forks);
    assert.deepEqual(without.unflaggedDoubleBookings, slots);
    const withTasks = verify([], [atHub('t1', 'task-1', review, 'Task'), atHub('t2', 'task-2', doubleBooking, 'Task')], forks, slots);
    assert.deepEqual(withTasks.unreviewedForks, []);
    assert.deepEqual(withTasks.unflaggedDoubleBookings, []);
    assert.deepEqual(withTasks.conflicts, { review: 1, doubleBooking: 1 });
    // A review Task for another record does not cover this fork.
    const other = verify([], [atHub('t3', 'task-3', { ...review, focus: { reference: 'MedicationRequest/m2' } }, 'Task')], forks);
    assert.deepEqual(other.unreviewedForks, forks);
  });
});

describe('fault schedule', () => {
  test('the hub is down from day 1 and back (behind faults) from mid-outage; the same seed gives the same schedule', () => {
    const s = faultSchedule(6, 'x');
    assert.deepEqual(s.map((d) => d.hub), ['down', 'down', 'down', 'up', 'up', 'up']);
    assert.equal(s[0]!.proxy, 'down');
    assert.ok(s.filter((d) => d.hub === 'up').every((d) => d.proxy !== 'pass'), 'the network must stay faulty while the outage lasts');
    assert.deepEqual(new Set(s.map((d) => d.proxy)), new Set(['down', 'drop', 'reset', 'delay']));
    assert.deepEqual(faultSchedule(6, 'x'), s);
    assert.deepEqual(faultSchedule(1, 'x').map((d) => d.hub), ['down']);
  });
});
