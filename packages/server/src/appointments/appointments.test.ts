import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Appointment, Patient, Practitioner, Schedule, Slot } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { backends, startTestNode, type TestNode } from '../testing/harness.ts';
import { slotBookings } from './index.ts';

async function seed(node: TestNode, patients = 2) {
  const gp = await node.create<Practitioner>('practice-admin', { resourceType: 'Practitioner', name: [{ prefix: ['Dr'], given: ['Ann'], family: 'Jones' }] });
  const schedule = await node.create<Schedule>('practice-admin', { resourceType: 'Schedule', active: true, actor: [{ reference: `Practitioner/${gp.id}` }] });
  const res = await node.fetchAs('practice-admin', '/api/appointments/sessions', { method: 'POST', json: { schedule: schedule.id, date: '2026-12-01', start: '09:00', end: '10:00', minutes: 10 } });
  assert.equal(res.status, 201, await res.clone().text());
  const { slots } = (await res.json()) as { slots: Slot[] };
  const people: Patient[] = [];
  for (let i = 0; i < patients; i++) {
    people.push(
      await node.create<Patient>('receptionist', {
        resourceType: 'Patient',
        identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(7000 + i) }],
        name: [{ family: `Patient${String.fromCharCode(65 + (i % 26))}`, given: ['Test'] }],
        birthDate: '1980-02-01',
        gender: 'female',
      }),
    );
  }
  return { gp, schedule, slots, people };
}

const book = (node: TestNode, slot: string, patient: string) => node.fetchAs('receptionist', '/api/appointments/book', { method: 'POST', json: { slot, patient } });

for (const { backend, skip } of await backends()) {
  describe(`appointments on ${backend}`, { skip }, () => {
    test('concurrent bookings of one slot: exactly one succeeds, the rest get 409', async () => {
      const node = await startTestNode({ backend });
      try {
        const { slots, people } = await seed(node, 8);
        const slot = slots[0]!.id!;
        const results = await Promise.all(people.map((p) => book(node, slot, p.id!)));
        const statuses = results.map((r) => r.status).sort();
        assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
        const rows = await slotBookings(node.store).selectFrom('slot_bookings').selectAll().where('slot_id', '=', slot).execute();
        assert.equal(rows.length, 1);
        const booked = await node.store.search({ resourceType: 'Appointment', params: [{ name: 'slot', values: [`Slot/${slot}`] }], count: 100, offset: 0 });
        assert.equal(booked.resources.length, 1, 'only one Appointment was written');
        assert.equal(((await node.store.read('Slot', slot))!.resource as Slot).status, 'busy');
      } finally {
        await node.close();
      }
    });

    test('the booking table refuses a second booking even when the Slot resource was set back to free by hand', async () => {
      const node = await startTestNode({ backend });
      try {
        const { slots, people } = await seed(node);
        const slot = slots[1]!.id!;
        assert.equal((await book(node, slot, people[0]!.id!)).status, 201);
        const stored = await node.store.read('Slot', slot);
        await node.store.write([{ kind: 'update', resource: { ...(stored!.resource as Slot), status: 'free' } }], { author: 'test' });
        const second = await book(node, slot, people[1]!.id!);
        assert.equal(second.status, 409);
        const outcome = (await second.json()) as { issue: Array<{ diagnostics: string; expression?: string[] }> };
        assert.match(outcome.issue[0]!.diagnostics, /already booked/);
        assert.deepEqual(outcome.issue[0]!.expression, ['slot']);
      } finally {
        await node.close();
      }
    });

    test('cancel frees the slot for another booking; move frees the old slot and holds the new one', async () => {
      const node = await startTestNode({ backend });
      try {
        const { slots, people, schedule } = await seed(node);
        const [a, b] = [slots[2]!.id!, slots[3]!.id!];
        const first = (await (await book(node, a, people[0]!.id!)).json()) as Appointment;
        assert.equal(first.status, 'booked');
        assert.equal(first.start, slots[2]!.start);

        const moved = await node.fetchAs('receptionist', `/api/appointments/${first.id}/move`, { method: 'POST', json: { slot: b } });
        assert.equal(moved.status, 200);
        assert.equal(((await moved.json()) as Appointment).start, slots[3]!.start);
        assert.equal(((await node.store.read('Slot', a))!.resource as Slot).status, 'free');
        assert.equal((await book(node, b, people[1]!.id!)).status, 409);

        const cancelled = await node.fetchAs('receptionist', `/api/appointments/${first.id}/cancel`, { method: 'POST', json: { reasonCode: 'pat', reason: 'Patient rang' } });
        assert.equal(((await cancelled.json()) as Appointment).status, 'cancelled');
        assert.equal((await book(node, b, people[1]!.id!)).status, 201);

        const diary = (await (await node.fetchAs('receptionist', `/api/appointments/diary?schedule=${schedule.id}&from=2026-12-01&days=1`)).json()) as {
          slots: Array<{ id: string; appointment?: { patient: { display: string } } }>;
        };
        assert.equal(diary.slots.length, 6);
        assert.match(diary.slots.find((s) => s.id === b)!.appointment!.patient.display, /PATIENTB/);
      } finally {
        await node.close();
      }
    });

    test('an appointment booked outside this API (imported, demo) still holds its slot, and cancelling it frees the slot', async () => {
      const node = await startTestNode({ backend });
      try {
        const { slots, people } = await seed(node);
        const slot = slots[5]!;
        const [, created] = await node.store.write(
          [
            { kind: 'update', resource: { ...slot, status: 'busy' } },
            { kind: 'create', resource: { resourceType: 'Appointment', status: 'booked', start: slot.start, end: slot.end, slot: [{ reference: `Slot/${slot.id}` }], participant: [{ actor: { reference: `Patient/${people[0]!.id}` }, status: 'accepted' }] } },
          ],
          { author: 'system:import' },
        );
        assert.equal((await book(node, slot.id!, people[1]!.id!)).status, 409);
        const diary = (await (await node.fetchAs('receptionist', `/api/appointments/diary?schedule=${slot.schedule.reference}&from=2026-12-01`)).json()) as {
          slots: Array<{ id: string; appointment?: { patient: { display: string } } }>;
        };
        assert.match(diary.slots.find((s) => s.id === slot.id)!.appointment!.patient.display, /PATIENTA, Test \(999 \d{3} \d{4}\)/, 'the diary names a patient the appointment only references');
        const cancel = await node.fetchAs('receptionist', `/api/appointments/${created!.resource!.id}/cancel`, { method: 'POST', json: { reasonCode: 'oth-err' } });
        assert.equal(cancel.status, 200);
        assert.equal(((await node.store.read('Slot', slot.id!))!.resource as Slot).status, 'free');
        assert.equal((await book(node, slot.id!, people[1]!.id!)).status, 201);
      } finally {
        await node.close();
      }
    });

    test('arrived, seen and did-not-attend; a seen appointment cannot be cancelled; bad input is a 4xx that names the field', async () => {
      const node = await startTestNode({ backend });
      try {
        const { slots, people } = await seed(node);
        const appt = (await (await book(node, slots[4]!.id!, people[0]!.id!)).json()) as Appointment;
        for (const status of ['arrived', 'fulfilled']) {
          const r = await node.fetchAs('receptionist', `/api/appointments/${appt.id}/status`, { method: 'POST', json: { status } });
          assert.equal(((await r.json()) as Appointment).status, status);
        }
        assert.equal((await node.fetchAs('receptionist', `/api/appointments/${appt.id}/cancel`, { method: 'POST', json: { reasonCode: 'pat' } })).status, 400);
        const bad = await node.fetchAs('receptionist', `/api/appointments/${appt.id}/status`, { method: 'POST', json: { status: 'gone' } });
        assert.equal(bad.status, 400);
        assert.equal((await node.fetchAs('receptionist', '/api/appointments/book', { method: 'POST', json: { slot: slots[5]!.id } })).status, 400);
        assert.equal((await book(node, 'no-such-slot', people[0]!.id!)).status, 404);
        assert.equal((await node.fetch('/api/appointments/book', { method: 'POST', json: { slot: slots[5]!.id, patient: people[0]!.id } })).status, 401);
        assert.equal((await node.fetchAs('receptionist', '/api/appointments/sessions', { method: 'POST', json: {} })).status, 403);
      } finally {
        await node.close();
      }
    });
  });
}
