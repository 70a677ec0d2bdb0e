/**
 * Booking confirmations and reminders: queued in the booking transaction, withdrawn when the
 * appointment is cancelled or moved, one of each however many times they are asked for (booking,
 * the sweeper after a restart, an appointment arriving by sync), never sent once the appointment has
 * started, and delivered through the production Notify channel to the local Notify server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Appointment, Communication, Patient, Practitioner, Schedule, Slot } from '@medplum/fhirtypes';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import { createOutboxDrainer } from '../outbox/drainer.ts';
import { odb } from '../outbox/tables.ts';
import { appointmentMessageSettingsOf, confirmationKey, reminderKey, sweepReminders, type AppointmentMessageSettings } from './appointment-messages.ts';
import { DEFAULT_TEMPLATES as NOTIFY_TEMPLATES, DEMO_TEST_KEY, startFakeNotify, type FakeNotify } from './fake-notify/server.ts';
import { messaging } from './index.ts';
import { mdb } from './tables.ts';

const DAY = 24 * 60 * 60_000;

/** A London date `days` from now, YYYY-MM-DD. */
function londonDate(days: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date(Date.now() + days * DAY));
}

describe('appointment confirmations and reminders', () => {
  let fake: FakeNotify;
  let node: TestNode;
  let settings: AppointmentMessageSettings;
  let slots: Slot[];
  let reachable: string;
  let noMobile: string;
  let scheduleId: string;
  let first: Appointment;

  before(async () => {
    fake = await startFakeNotify({ deliveryDelayMs: 5 });
    node = await startTestNode({ config: { outbox: { disabled: true }, messaging: { practiceName: 'Test Surgery', reminderIntervalMs: 60 * 60_000, notify: { baseUrl: fake.url, apiKey: DEMO_TEST_KEY, templates: { sms: NOTIFY_TEMPLATES[0]!.id, email: NOTIFY_TEMPLATES[1]!.id } } } } });
    settings = appointmentMessageSettingsOf(node.deps.config)!;
    const gp = await node.create<Practitioner>('practice-admin', { resourceType: 'Practitioner', name: [{ prefix: ['Dr'], given: ['Ann'], family: 'Jones' }] });
    const schedule = await node.create<Schedule>('practice-admin', { resourceType: 'Schedule', active: true, actor: [{ reference: `Practitioner/${gp.id}`, display: 'Dr Ann Jones' }] });
    scheduleId = schedule.id;
    const res = await node.fetchAs('practice-admin', '/api/appointments/sessions', { method: 'POST', json: { schedule: schedule.id, date: londonDate(3), start: '09:00', end: '10:00', minutes: 10 } });
    slots = ((await res.json()) as { slots: Slot[] }).slots;
    reachable = (await node.create<Patient>('receptionist', { resourceType: 'Patient', name: [{ given: ['Alex'], family: 'Testpatient' }], birthDate: '1980-01-01' })).id;
    noMobile = (await node.create<Patient>('receptionist', { resourceType: 'Patient', name: [{ given: ['Bo'], family: 'Nophone' }], birthDate: '1981-01-01' })).id;
    const contact = await node.fetchAs('receptionist', `/api/messaging/patients/${reachable}/contact`, { method: 'PUT', json: { mobile: '07700 900111', smsConsent: true } });
    assert.equal(contact.status, 200, await contact.clone().text());
  });
  after(async () => {
    await node?.close();
    await fake?.stop();
  });

  const book = async (slot: string, patient: string) => {
    const res = await node.fetchAs('receptionist', '/api/appointments/book', { method: 'POST', json: { slot, patient } });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as Appointment;
  };
  const outboxRow = (key: string) => odb(node.store.db).selectFrom('outbox_messages').selectAll().where('message_key', '=', key).executeTakeFirst();

  it('booking queues the confirmation now and the reminder for the day before, each with its Communication', async () => {
    const a = await book(slots[0]!.id!, reachable);
    first = a;
    const confirmation = await outboxRow(confirmationKey(a.id!, a.start!));
    const reminder = await outboxRow(reminderKey(a.id!, a.start!));
    assert.ok(confirmation && reminder, 'both queued with the booking');
    assert.equal(confirmation.state, 'pending');
    assert.ok(Date.parse(confirmation.not_before) <= Date.now());
    assert.equal(reminder.not_before, new Date(Date.parse(a.start!) - DAY).toISOString());
    const payload = JSON.parse(reminder.payload) as { body: string; to: string; expiresAt: string };
    assert.match(payload.body, /^Reminder: you have an appointment at Test Surgery on .+ with Dr Ann Jones/);
    assert.equal(payload.expiresAt, a.start);
    const delivery = await mdb(node.store.db).selectFrom('messaging_deliveries').selectAll().where('outbox_id', '=', reminder.id).executeTakeFirstOrThrow();
    const comm = (await node.store.read('Communication', delivery.communication_id))!.resource as Communication;
    assert.equal(comm.status, 'preparation');
    assert.equal(comm.about?.[0]?.reference, `Appointment/${a.id}`);
  });

  it('no duplicate reminder: the sweeper after a restart finds the booked one already queued', async () => {
    const before = await odb(node.store.db).selectFrom('outbox_messages').select('id').execute();
    const a = first;
    const dueSoon = new Date(Date.parse(a.start!) - DAY - 5 * 60_000);
    assert.equal(await sweepReminders(node.store, settings, dueSoon), 0);
    assert.equal(await sweepReminders(node.store, appointmentMessageSettingsOf(node.deps.config)!, dueSoon), 0, 'a new node process reads the same settings and keys');
    assert.equal((await odb(node.store.db).selectFrom('outbox_messages').select('id').execute()).length, before.length);
  });

  it('an appointment that arrived without the booking API (sync, FHIR) gets its reminder from the sweeper, once', async () => {
    const slot = slots[1]!;
    const [written] = await node.store.write(
      [{ kind: 'create', resource: { resourceType: 'Appointment', status: 'booked', start: slot.start, end: slot.end, slot: [{ reference: `Slot/${slot.id}` }], participant: [{ actor: { reference: `Patient/${reachable}` }, status: 'accepted' }, { actor: { reference: 'Practitioner/x', display: 'Nurse Kay' }, status: 'accepted' }] } satisfies Appointment }],
      { author: 'sync' },
    );
    const a = written!.resource as Appointment;
    const dueSoon = new Date(Date.parse(a.start!) - DAY - 5 * 60_000);
    assert.equal(await sweepReminders(node.store, settings, dueSoon), 1);
    assert.equal(await sweepReminders(node.store, settings, dueSoon), 0, 'the second sweep queues nothing');
    assert.equal(await sweepReminders(node.store, settings, new Date(dueSoon.getTime() + 60_000)), 0);
    const reminder = await outboxRow(reminderKey(a.id!, a.start!));
    assert.ok(reminder);
    assert.match(JSON.parse(reminder.payload).body, /with Nurse Kay/);
    assert.equal(await outboxRow(confirmationKey(a.id!, a.start!)), undefined, 'no confirmation for a booking made elsewhere');
  });

  it('cancelling the appointment cancels its waiting reminder and confirmation, in the record too', async () => {
    const a = await book(slots[2]!.id!, reachable);
    const res = await node.fetchAs('receptionist', `/api/appointments/${a.id}/cancel`, { method: 'POST', json: { reasonCode: 'pat', reason: 'Patient called' } });
    assert.equal(res.status, 200);
    for (const key of [reminderKey(a.id!, a.start!), confirmationKey(a.id!, a.start!)]) {
      const row = (await outboxRow(key))!;
      assert.equal(row.state, 'cancelled', key);
      const delivery = await mdb(node.store.db).selectFrom('messaging_deliveries').selectAll().where('outbox_id', '=', row.id).executeTakeFirstOrThrow();
      assert.equal(delivery.status, 'cancelled');
      assert.equal(((await node.store.read('Communication', delivery.communication_id))!.resource as Communication).status, 'stopped');
    }
    assert.equal(await sweepReminders(node.store, settings, new Date(Date.parse(a.start!) - DAY - 60_000)), 0, 'the sweeper does not bring it back');
  });

  it('moving the appointment withdraws the old time and confirms and reminds the new one', async () => {
    const a = await book(slots[3]!.id!, reachable);
    const res = await node.fetchAs('receptionist', `/api/appointments/${a.id}/move`, { method: 'POST', json: { slot: slots[4]!.id } });
    assert.equal(res.status, 200, await res.clone().text());
    const moved = (await res.json()) as Appointment;
    assert.equal((await outboxRow(reminderKey(a.id!, a.start!)))!.state, 'cancelled');
    assert.equal((await outboxRow(reminderKey(a.id!, moved.start!)))!.state, 'pending');
    assert.equal((await outboxRow(confirmationKey(a.id!, moved.start!)))!.state, 'pending');
  });

  it('a patient with no mobile is booked all the same, and nothing is queued for them', async () => {
    const a = await book(slots[5]!.id!, noMobile);
    assert.equal(await outboxRow(reminderKey(a.id!, a.start!)), undefined);
    assert.equal(await outboxRow(confirmationKey(a.id!, a.start!)), undefined);
  });

  it('booked for later today: a confirmation, and no reminder a minute after it', async () => {
    const start = new Date(Date.now() + 3 * 60 * 60_000);
    const [slot] = await node.store.write([{ kind: 'create', resource: { resourceType: 'Slot', schedule: { reference: `Schedule/${scheduleId}` }, status: 'free', start: start.toISOString(), end: new Date(start.getTime() + 600_000).toISOString() } satisfies Slot }], { author: 'test' });
    const a = await book(slot!.resource!.id!, reachable);
    assert.ok(await outboxRow(confirmationKey(a.id!, a.start!)));
    assert.equal(await outboxRow(reminderKey(a.id!, a.start!)), undefined);
    assert.equal(await sweepReminders(node.store, settings), 0);
  });

  it('delivers through the local Notify server, and a reminder that waited past the start is withdrawn, never sent late', async () => {
    const channels = messaging.outboxChannels!(node.deps);
    const drainer = createOutboxDrainer(node.store.db, node.store.practice, channels);
    const confirmation = (await outboxRow(confirmationKey(first.id!, first.start!)))!;
    await drainer.drainAll();
    assert.equal(fake.byReference(confirmation.id).length, 1, 'the confirmation reached Notify once');
    assert.match(fake.byReference(confirmation.id)[0]!.body, /Your appointment at Test Surgery is booked for/);

    // As if Notify had been unreachable until after the appointment: the reminder is due and stale.
    const reminder = (await outboxRow(reminderKey(first.id!, first.start!)))!;
    const payload = JSON.parse(reminder.payload) as { expiresAt: string };
    payload.expiresAt = new Date(Date.now() - 60_000).toISOString();
    await odb(node.store.db).updateTable('outbox_messages').set({ next_attempt_at: new Date(0).toISOString(), payload: JSON.stringify(payload) }).where('id', '=', reminder.id).execute();
    await drainer.drainAll();
    assert.equal(fake.byReference(reminder.id).length, 0, 'never sent');
    const delivery = await mdb(node.store.db).selectFrom('messaging_deliveries').selectAll().where('outbox_id', '=', reminder.id).executeTakeFirstOrThrow();
    assert.equal(delivery.status, 'cancelled', 'withdrawn, not a failure for reception to chase');
  });
});
