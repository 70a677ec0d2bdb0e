/**
 * slot_bookings: one row per booked Slot, with the primary key (practice, slot_id). It is the
 * store-level guard against double booking: the booking route claims the row in the same transaction
 * that marks the Slot busy and writes the Appointment, so two concurrent bookings of one slot cannot
 * both commit, whatever the Slot resource says at that moment.
 */
import type { Kysely } from 'kysely';
import type { Migration } from '@steadfast/store';

export interface SlotBookingsTable {
  practice: string;
  slot_id: string;
  appointment_id: string;
  booked_at: string;
  booked_by: string;
}

export interface AppointmentTables {
  slot_bookings: SlotBookingsTable;
}

export const appointmentMigrations: Migration[] = [
  {
    name: '0200-appointments-slot-bookings',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('slot_bookings')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('slot_id', 'text', (c) => c.notNull())
        .addColumn('appointment_id', 'text', (c) => c.notNull())
        .addColumn('booked_at', 'text', (c) => c.notNull())
        .addColumn('booked_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('slot_bookings_pk', ['practice', 'slot_id'])
        .execute();
      await db.schema.createIndex('slot_bookings_appointment').ifNotExists().on('slot_bookings').columns(['practice', 'appointment_id']).execute();
    },
  },
];
