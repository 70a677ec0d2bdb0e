import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Resource } from '@medplum/fhirtypes';
import type { ChangeEntry } from '../changes.ts';
import { encodeHlc } from '../hlc.ts';
import {
  canonicalJson,
  conflictRules,
  doubleBookingTask,
  findDoubleBookings,
  project,
  reviewTask,
  reviewTaskId,
  type BookedAppointment,
  SYNC_MERGE_AUTHOR,
} from './conflict-rules.ts';
import { resourceTypes } from '../fhir/resource-types.ts';

let n = 0;
function entry(
  resourceType: string,
  resourceId: string,
  opts: { node: string; wall: number; base: string | null; body?: Record<string, unknown>; op?: 'put' | 'delete'; id?: string },
): ChangeEntry {
  const entryId = opts.id ?? `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  const op = opts.op ?? 'put';
  return {
    entryId,
    originNode: opts.node,
    practice: 'B82005',
    hlc: encodeHlc({ wallMs: opts.wall, counter: 0, node: opts.node }),
    resourceType,
    resourceId,
    versionId: entryId,
    baseVersionId: opts.base,
    op,
    resource: op === 'delete' ? null : ({ resourceType, id: resourceId, meta: { versionId: entryId }, ...opts.body } as Resource),
    author: `user-${opts.node}`,
  };
}

describe('conflict rules table', () => {
  test('every supported resource type has a rule, and the issue-5 rules are as specified', () => {
    for (const t of resourceTypes) assert.ok(conflictRules[t], `${t} has no rule`);
    for (const t of ['Encounter', 'Observation', 'DiagnosticReport', 'DocumentReference', 'Communication', 'QuestionnaireResponse'] as const)
      assert.equal(conflictRules[t].rule, 'append-only');
    for (const t of ['MedicationRequest', 'AllergyIntolerance', 'Condition'] as const) assert.equal(conflictRules[t].rule, 'review');
    assert.equal(conflictRules.Patient.rule, 'field-merge');
    assert.equal(conflictRules.Appointment.rule, 'slot-booking');
  });
});

describe('project: demographics merge field by field', () => {
  test('a phone change on one node and an address change on another both survive', () => {
    const v1 = entry('Patient', 'p1', { node: 'a', wall: 1000, base: null, body: { name: [{ family: 'Smith' }], birthDate: '1970-01-01' } });
    const phone = entry('Patient', 'p1', {
      node: 'a',
      wall: 2000,
      base: v1.versionId,
      body: { name: [{ family: 'Smith' }], birthDate: '1970-01-01', telecom: [{ system: 'phone', value: '07700900000' }] },
    });
    const address = entry('Patient', 'p1', {
      node: 'b',
      wall: 1500,
      base: v1.versionId,
      body: { name: [{ family: 'Smith' }], birthDate: '1970-01-01', address: [{ postalCode: 'LS1 4AP' }] },
    });
    const p = project([v1, phone, address])!;
    const r = p.resource as unknown as Record<string, unknown>;
    assert.deepEqual(r.telecom, [{ system: 'phone', value: '07700900000' }]);
    assert.deepEqual(r.address, [{ postalCode: 'LS1 4AP' }]);
    assert.equal(p.head.entryId, phone.entryId);
    assert.equal(p.merged, true);
    assert.deepEqual(p.conflicts, []);
  });

  test('when both nodes change the same field, the later HLC wins that field; a removed field stays removed', () => {
    const v1 = entry('Patient', 'p1', { node: 'a', wall: 1000, base: null, body: { gender: 'female', birthDate: '1970-01-01' } });
    const a = entry('Patient', 'p1', { node: 'a', wall: 3000, base: v1.versionId, body: { gender: 'female', birthDate: '1971-02-02' } });
    const b = entry('Patient', 'p1', { node: 'b', wall: 2000, base: v1.versionId, body: { birthDate: '1972-03-03' } });
    const r = project([b, a, v1])!.resource as unknown as Record<string, unknown>;
    assert.equal(r.birthDate, '1971-02-02');
    assert.equal('gender' in r, false, 'node b removed gender and node a did not touch it');
  });

  test('a materialised merge entry is not an edit: a later concurrent edit still wins its field', () => {
    const v1 = entry('Patient', 'p1', { node: 'a', wall: 1000, base: null, body: { gender: 'female', birthDate: '1970-01-01' } });
    const a = entry('Patient', 'p1', { node: 'a', wall: 2000, base: v1.versionId, body: { gender: 'male', birthDate: '1970-01-01' } });
    const b = entry('Patient', 'p1', { node: 'b', wall: 2100, base: v1.versionId, body: { gender: 'female', birthDate: '1971-01-01' } });
    const first = project([v1, a, b])!;
    assert.equal(first.merged, true);
    const m = { ...entry('Patient', 'p1', { node: 'b', wall: 3000, base: b.versionId, body: { gender: 'male', birthDate: '1971-01-01' } }), author: SYNC_MERGE_AUTHOR };
    assert.equal(project([v1, a, b, m])!.merged, false, 'once the merge is materialised the head is current');
    // Node c changed gender again (based on a) before it saw the merge, at an HLC between b and m.
    const c = entry('Patient', 'p1', { node: 'c', wall: 2500, base: a.versionId, body: { gender: 'other', birthDate: '1970-01-01' } });
    const p = project([v1, a, b, m, c])!;
    assert.equal((p.resource as any).gender, 'other');
    assert.equal((p.resource as any).birthDate, '1971-01-01');
    assert.equal(p.merged, true, 'a new merge must be materialised');
  });

  test('a sequential edit (based on the previous version) replaces the field', () => {
    const v1 = entry('Patient', 'p1', { node: 'a', wall: 1000, base: null, body: { birthDate: '1970-01-01' } });
    const v2 = entry('Patient', 'p1', { node: 'b', wall: 2000, base: v1.versionId, body: { birthDate: '1980-01-01' } });
    const p = project([v2, v1])!;
    assert.equal((p.resource as unknown as Record<string, unknown>).birthDate, '1980-01-01');
    assert.equal(p.merged, false);
  });
});

describe('project: medication, allergy and problem changes are reviewed, never merged', () => {
  for (const type of ['MedicationRequest', 'AllergyIntolerance', 'Condition']) {
    test(`${type}: concurrent edits give the higher HLC provisionally and one review Task with a deterministic id`, () => {
      const v1 = entry(type, 'r1', { node: 'a', wall: 1000, base: null, body: { status: 'active', subject: { reference: 'Patient/p1' }, note: [{ text: 'x' }] } });
      const a = entry(type, 'r1', { node: 'a', wall: 2000, base: v1.versionId, body: { status: 'stopped', subject: { reference: 'Patient/p1' } } });
      const b = entry(type, 'r1', { node: 'b', wall: 2500, base: v1.versionId, body: { status: 'active', subject: { reference: 'Patient/p1' }, dosage: 'twice' } });
      const p = project([a, v1, b])!;
      assert.equal(p.head.entryId, b.entryId);
      assert.deepEqual(p.resource, b.resource, 'the provisional winner is one whole version, not a merge');
      assert.equal(p.conflicts.length, 1);
      const c = p.conflicts[0]!;
      assert.equal(c.winner.entryId, b.entryId);
      assert.equal(c.other.entryId, a.entryId);
      assert.equal(c.taskId, reviewTaskId(a.entryId, b.entryId));
      assert.equal(c.taskId, reviewTaskId(b.entryId, a.entryId));
      const task = reviewTask(c) as any;
      assert.equal(task.id, c.taskId);
      assert.equal(task.for.reference, 'Patient/p1');
      assert.deepEqual(
        task.input.map((i: any) => i.valueReference.reference),
        [`${type}/r1/_history/${b.versionId}`, `${type}/r1/_history/${a.versionId}`],
      );
      assert.equal(canonicalJson(reviewTask(project([b, a, v1])!.conflicts[0]!)), canonicalJson(task), 'same Task from any arrival order');
    });
  }

  test('a sequential edit is not a conflict, and an identical concurrent change is agreement', () => {
    const v1 = entry('Condition', 'c1', { node: 'a', wall: 1000, base: null, body: { clinicalStatus: 'active' } });
    const v2 = entry('Condition', 'c1', { node: 'b', wall: 2000, base: v1.versionId, body: { clinicalStatus: 'resolved' } });
    assert.deepEqual(project([v1, v2])!.conflicts, []);
    const same = entry('Condition', 'c1', { node: 'c', wall: 2100, base: v1.versionId, body: { clinicalStatus: 'resolved' } });
    assert.deepEqual(project([v1, v2, same])!.conflicts, []);
  });

  test('a delete concurrent with an edit is a conflict too', () => {
    const v1 = entry('AllergyIntolerance', 'x', { node: 'a', wall: 1000, base: null, body: { code: { text: 'penicillin' } } });
    const del = entry('AllergyIntolerance', 'x', { node: 'a', wall: 2000, base: v1.versionId, op: 'delete' });
    const edit = entry('AllergyIntolerance', 'x', { node: 'b', wall: 1900, base: v1.versionId, body: { code: { text: 'penicillin' }, criticality: 'high' } });
    const p = project([v1, edit, del])!;
    assert.equal(p.deleted, true);
    assert.equal(p.conflicts.length, 1);
  });
});

describe('project: append-only and tasks', () => {
  test('new observations never conflict; an amendment is last-writer-wins', () => {
    const v1 = entry('Observation', 'o1', { node: 'a', wall: 1000, base: null, body: { status: 'final', valueQuantity: { value: 5 } } });
    const a = entry('Observation', 'o1', { node: 'a', wall: 2000, base: v1.versionId, body: { status: 'amended', valueQuantity: { value: 6 } } });
    const b = entry('Observation', 'o1', { node: 'b', wall: 3000, base: v1.versionId, body: { status: 'amended', valueQuantity: { value: 7 } } });
    const p = project([a, b, v1])!;
    assert.equal(p.head.entryId, b.entryId);
    assert.deepEqual(p.conflicts, []);
  });

  test('a second node raising the same Task later does not reopen a Task a clinician completed', () => {
    const raisedA = entry('Task', 't1', { node: 'a', wall: 1000, base: null, body: { status: 'requested' } });
    const done = entry('Task', 't1', { node: 'a', wall: 2000, base: raisedA.versionId, body: { status: 'completed' } });
    const raisedB = entry('Task', 't1', { node: 'b', wall: 3000, base: null, body: { status: 'requested' } });
    const p = project([raisedB, done, raisedA])!;
    assert.equal((p.resource as any).status, 'completed');
  });
});

describe('double bookings', () => {
  const appt = (id: string, slot: string, node: string, wall: number, status = 'booked'): BookedAppointment => {
    const e = entry('Appointment', id, { node, wall, base: null, body: { status, slot: [{ reference: slot }], participant: [{ actor: { reference: `Patient/${id}-p` } }] } });
    return { id, created: e, resource: e.resource! };
  };

  test('two bookings of one slot on different nodes are both kept and flagged once, with the same Task from any order', () => {
    const x = appt('x', 'Slot/s1', 'a', 1000);
    const y = appt('y', 'Slot/s1', 'b', 1100);
    const z = appt('z', 'Slot/s2', 'b', 1200);
    const found = findDoubleBookings([y, z, x]);
    assert.equal(found.length, 1);
    assert.equal(found[0]!.first.id, 'x');
    assert.deepEqual(findDoubleBookings([x, y, z]).map((d) => d.taskId), [found[0]!.taskId]);
    const task = doubleBookingTask(found[0]!) as any;
    assert.equal(task.focus.reference, 'Slot/s1');
    assert.deepEqual(task.input.map((i: any) => i.valueReference.reference), ['Appointment/x', 'Appointment/y']);
  });

  test('a cancelled booking and bookings made on the same node are not flagged', () => {
    assert.deepEqual(findDoubleBookings([appt('x', 'Slot/s1', 'a', 1), appt('y', 'Slot/s1', 'b', 2, 'cancelled')]), []);
    assert.deepEqual(findDoubleBookings([appt('x', 'Slot/s1', 'a', 1), appt('y', 'Slot/s1', 'a', 2)]), []);
  });
});

describe('project converges whatever the arrival order', () => {
  // Random version trees: each new entry is based on a random earlier version (or is the create),
  // written by a random node at a random (skewed) time, for each rule's resource type.
  const history = fc.record({
    type: fc.constantFrom('Patient', 'MedicationRequest', 'Observation', 'Task', 'Slot'),
    steps: fc.array(
      fc.record({
        node: fc.constantFrom('a', 'b', 'c'),
        wall: fc.integer({ min: 1, max: 50 }),
        baseIndex: fc.nat(),
        del: fc.boolean(),
        fields: fc.dictionary(fc.constantFrom('gender', 'birthDate', 'status', 'note'), fc.constantFrom('x', 'y', 'z'), { maxKeys: 3 }),
      }),
      { minLength: 1, maxLength: 8 },
    ),
  });

  test('the same entries in any order and with duplicates give the same projection and the same conflicts', () => {
    fc.assert(
      fc.property(history, fc.integer(), ({ type, steps }, shuffleSeed) => {
        const entries: ChangeEntry[] = [];
        steps.forEach((s, i) => {
          const base = i === 0 ? null : entries[s.baseIndex % entries.length]!.versionId;
          entries.push(entry(type, 'r', { node: s.node, wall: s.wall * 10 + i, base, body: s.fields, op: i > 0 && s.del ? 'delete' : 'put' }));
        });
        const shuffled = [...entries, ...entries.slice(0, 2)];
        let seed = shuffleSeed;
        for (let i = shuffled.length - 1; i > 0; i--) {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff;
          const j = seed % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const a = project(entries)!;
        const b = project(shuffled)!;
        assert.equal(canonicalJson(b.resource), canonicalJson(a.resource));
        assert.equal(b.head.entryId, a.head.entryId);
        assert.equal(b.deleted, a.deleted);
        assert.deepEqual(b.conflicts.map((c) => c.taskId).sort(), a.conflicts.map((c) => c.taskId).sort());
      }),
      { numRuns: 500, seed: 5 },
    );
  });
});
