import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Appointment, Patient, Practitioner, Schedule, Slot } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { backends, startTestNode, type TestNode } from '../testing/harness.ts';

const DAY = '2026-12-01';

async function clinician(node: TestNode, family: string) {
  const gp = await node.create<Practitioner>('practice-admin', { resourceType: 'Practitioner', name: [{ prefix: ['Dr'], given: ['Ann'], family }] });
  return node.create<Schedule>('practice-admin', { resourceType: 'Schedule', active: true, actor: [{ reference: `Practitioner/${gp.id}` }] });
}

const session = (node: TestNode, schedule: string, start: string, end: string, extra: Record<string, unknown> = {}) =>
  node.fetchAs('practice-admin', '/api/appointments/sessions', { method: 'POST', json: { schedule, date: DAY, start, end, minutes: 15, slotType: 'routine', ...extra } });

type Outcome = { issue: Array<{ diagnostics: string; expression?: string[] }> };

async function patient(node: TestNode, n: number) {
  return node.create<Patient>('receptionist', { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(7200 + n) }], name: [{ family: `Board${n}`, given: ['Test'] }], birthDate: '1970-01-01', gender: 'male' });
}

for (const { backend, skip } of await backends()) {
  describe(`diary sessions and the board on ${backend}`, { skip }, () => {
    test('a double-booked clinician: an overlapping session is refused with a 409 naming the session it overlaps', async () => {
      const node = await startTestNode({ backend });
      try {
        const jones = await clinician(node, 'Jones');
        const first = await session(node, jones.id!, '09:00', '12:00');
        assert.equal(first.status, 201, await first.clone().text());
        const body = (await first.json()) as { created: number; session: { slotTypeLabel: string }; slots: Slot[] };
        assert.equal(body.created, 12);
        assert.equal(body.slots[0]!.appointmentType?.coding?.[0]?.code, 'ROUTINE');
        const clash = await session(node, jones.id!, '11:30', '13:00');
        assert.equal(clash.status, 409);
        const outcome = (await clash.json()) as Outcome;
        assert.match(outcome.issue[0]!.diagnostics, /Dr Ann Jones already has a session from 09:00 to 12:00 on Tue, 1 Dec 2026, which overlaps 11:30 to 13:00/);
        assert.deepEqual(outcome.issue[0]!.expression, ['start']);
        // Touching is fine, and another clinician may work the same hours.
        assert.equal((await session(node, jones.id!, '12:00', '13:00')).status, 201);
        const smith = await clinician(node, 'Smith');
        assert.equal((await session(node, smith.id!, '09:00', '12:00')).status, 201);
        const slots = await node.store.search({ resourceType: 'Slot', params: [{ name: 'schedule', values: [`Schedule/${jones.id}`] }], count: 100, offset: 0 });
        assert.equal(slots.resources.length, 16, 'the refused session wrote no slots');
      } finally {
        await node.close();
      }
    });

    test('concurrent overlapping sessions for one clinician: exactly one is created', async () => {
      const node = await startTestNode({ backend });
      try {
        const jones = await clinician(node, 'Jones');
        const results = await Promise.all([session(node, jones.id!, '09:00', '10:00'), session(node, jones.id!, '09:30', '10:30'), session(node, jones.id!, '09:45', '11:00'), session(node, jones.id!, '09:15', '09:45')]);
        assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409, 409]);
      } finally {
        await node.close();
      }
    });

    test('slots made before sessions were recorded also count as the clinician being busy', async () => {
      const node = await startTestNode({ backend });
      try {
        const jones = await clinician(node, 'Jones');
        await node.store.write([{ kind: 'create', resource: { resourceType: 'Slot', schedule: { reference: `Schedule/${jones.id}` }, status: 'free', start: '2026-12-01T10:00:00.000Z', end: '2026-12-01T10:15:00.000Z' } }], { author: 'system:import' });
        const clash = await session(node, jones.id!, '09:00', '11:00');
        assert.equal(clash.status, 409);
        assert.match(((await clash.json()) as Outcome).issue[0]!.diagnostics, /from 10:00 to 10:15/);
      } finally {
        await node.close();
      }
    });

    test('bad session input names the field and the fix', async () => {
      const node = await startTestNode({ backend });
      try {
        const jones = await clinician(node, 'Jones');
        const cases: Array<[Record<string, unknown>, string]> = [
          [{ start: '12:00', end: '09:00' }, 'end'],
          [{ start: '9am', end: '12:00' }, 'start'],
          [{ start: '09:00', end: '12:00', minutes: 3 }, 'minutes'],
          [{ start: '09:00', end: '12:00', slotType: 'massage' }, 'slotType'],
          [{ start: '09:00', end: '12:00', date: '1 Dec' }, 'date'],
        ];
        for (const [input, field] of cases) {
          const r = await session(node, jones.id!, input.start as string, input.end as string, input);
          assert.equal(r.status, 400, JSON.stringify(input));
          assert.deepEqual(((await r.json()) as Outcome).issue[0]!.expression, [field]);
        }
        assert.equal((await node.fetchAs('receptionist', '/api/appointments/sessions', { method: 'POST', json: { schedule: jones.id, date: DAY, start: '09:00', end: '10:00' } })).status, 403);
      } finally {
        await node.close();
      }
    });

    test('a booking lost by removing a session: a session with a booked appointment cannot be removed; an empty one can', async () => {
      const node = await startTestNode({ backend });
      try {
        const jones = await clinician(node, 'Jones');
        const made = (await (await session(node, jones.id!, '09:00', '10:00')).json()) as { session: { id: string }; slots: Slot[] };
        const p = await patient(node, 1);
        assert.equal((await node.fetchAs('receptionist', '/api/appointments/book', { method: 'POST', json: { slot: made.slots[1]!.id, patient: p.id } })).status, 201);
        const refused = await node.fetchAs('practice-admin', `/api/appointments/sessions/${made.session.id}`, { method: 'DELETE' });
        assert.equal(refused.status, 409);
        assert.match(((await refused.json()) as Outcome).issue[0]!.diagnostics, /1 booked appointment/);
        assert.equal(((await node.store.read('Slot', made.slots[0]!.id!))!.deleted ?? false), false);
        const empty = (await (await session(node, jones.id!, '14:00', '15:00')).json()) as { session: { id: string }; slots: Slot[] };
        assert.equal((await node.fetchAs('receptionist', `/api/appointments/sessions/${empty.session.id}`, { method: 'DELETE' })).status, 403);
        assert.equal((await node.fetchAs('practice-admin', `/api/appointments/sessions/${empty.session.id}`, { method: 'DELETE' })).status, 200);
        assert.equal((await node.store.read('Slot', empty.slots[0]!.id!))?.deleted, true);
        const list = (await (await node.fetchAs('practice-admin', `/api/appointments/sessions?from=${DAY}&days=1`)).json()) as { sessions: Array<{ start: string; booked: number; slots: number; clinician: string }> };
        assert.deepEqual(list.sessions.map((s) => [s.clinician, s.start, s.booked, s.slots]), [['Dr Ann Jones', '09:00', 1, 4]]);
        const audit = (await (await node.fetchAs('practice-admin', '/api/audit?limit=50')).json()) as { entries: Array<{ event: string; detail: string | null }> };
        assert.ok(audit.entries.some((e) => e.event === 'delete' && /diary session 2026-12-01 14:00-15:00 removed/.test(e.detail ?? '')), 'removing a session is audited');
        assert.ok(audit.entries.some((e) => e.event === 'create' && /diary session 2026-12-01 09:00-10:00/.test(e.detail ?? '')), 'creating a session is audited');
      } finally {
        await node.close();
      }
    });

    test('the board shows every clinician side by side and says who is fully booked; NHS numbers are 3-3-4', async () => {
      const node = await startTestNode({ backend });
      try {
        const jones = await clinician(node, 'Jones');
        const smith = await clinician(node, 'Smith');
        await clinician(node, 'Away');
        const j = (await (await session(node, jones.id!, '09:00', '09:30')).json()) as { slots: Slot[] };
        await session(node, smith.id!, '09:00', '09:30', { slotType: 'telephone' });
        for (const [i, slot] of j.slots.entries()) {
          const p = await patient(node, i);
          assert.equal((await node.fetchAs('receptionist', '/api/appointments/book', { method: 'POST', json: { slot: slot.id, patient: p.id } })).status, 201);
        }
        const board = (await (await node.fetchAs('receptionist', `/api/appointments/board?date=${DAY}`)).json()) as {
          columns: Array<{ name: string; fullyBooked: boolean; counts: { total: number; free: number }; slots: Array<{ slotType?: string; appointment?: { patient: { display: string } } }> }>;
          summary: { clinicians: number; fullyBooked: string[]; free: number; total: number };
        };
        assert.deepEqual(board.columns.map((c) => [c.name, c.fullyBooked, c.counts.total]), [['Dr Ann Jones', true, 2], ['Dr Ann Smith', false, 2], ['Dr Ann Away', false, 0]]);
        assert.deepEqual(board.summary, { ...board.summary, clinicians: 2, fullyBooked: ['Dr Ann Jones'], free: 2, total: 4 });
        assert.match(board.columns[0]!.slots[0]!.appointment!.patient.display, /^BOARD0, Test \(999 \d{3} \d{4}\)$/);
        assert.equal(board.columns[1]!.slots[0]!.slotType, 'Telephone');
      } finally {
        await node.close();
      }
    });

    test('cancelling needs a reason, recorded on the FHIR Appointment as a coded cancelationReason', async () => {
      const node = await startTestNode({ backend });
      try {
        const jones = await clinician(node, 'Jones');
        const made = (await (await session(node, jones.id!, '09:00', '09:30')).json()) as { slots: Slot[] };
        const p = await patient(node, 9);
        const appt = (await (await node.fetchAs('receptionist', '/api/appointments/book', { method: 'POST', json: { slot: made.slots[0]!.id, patient: p.id } })).json()) as Appointment;
        const none = await node.fetchAs('receptionist', `/api/appointments/${appt.id}/cancel`, { method: 'POST', json: {} });
        assert.equal(none.status, 400);
        assert.deepEqual(((await none.json()) as Outcome).issue[0]!.expression, ['reasonCode']);
        const otherWithoutWords = await node.fetchAs('receptionist', `/api/appointments/${appt.id}/cancel`, { method: 'POST', json: { reasonCode: 'other' } });
        assert.deepEqual(((await otherWithoutWords.json()) as Outcome).issue[0]!.expression, ['reason']);
        assert.equal(((await node.store.read('Appointment', appt.id!))!.resource as Appointment).status, 'booked', 'a refused cancel leaves the booking');
        const ok = await node.fetchAs('receptionist', `/api/appointments/${appt.id}/cancel`, { method: 'POST', json: { reasonCode: 'pat', reason: 'Rang to say she is better' } });
        assert.equal(ok.status, 200);
        const stored = (await node.store.read('Appointment', appt.id!))!.resource as Appointment;
        assert.equal(stored.status, 'cancelled');
        assert.deepEqual(stored.cancelationReason, {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason', code: 'pat', display: 'The patient cancelled' }],
          text: 'Rang to say she is better',
        });
      } finally {
        await node.close();
      }
    });
  });
}
