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

/** One row per diary session (sessions.ts); its slots carry its id on Slot.identifier. */
export interface DiarySessionsTable {
  practice: string;
  id: string;
  schedule_id: string;
  /** The London day, YYYY-MM-DD, and clock times HH:MM: what the practice manager typed. */
  date: string;
  start_time: string;
  end_time: string;
  minutes: number;
  slot_type: string;
  created_at: string;
  created_by: string;
}

/** One row per clinician (Schedule): claimed by each session set-up so overlap checks run one at a time. */
export interface DiarySessionLocksTable {
  practice: string;
  schedule_id: string;
  touched_at: string;
}

export interface AppointmentTables {
  slot_bookings: SlotBookingsTable;
  diary_sessions: DiarySessionsTable;
  diary_session_locks: DiarySessionLocksTable;
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
  {
    name: '0201-appointments-diary-sessions',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('diary_sessions')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('schedule_id', 'text', (c) => c.notNull())
        .addColumn('date', 'text', (c) => c.notNull())
        .addColumn('start_time', 'text', (c) => c.notNull())
        .addColumn('end_time', 'text', (c) => c.notNull())
        .addColumn('minutes', 'integer', (c) => c.notNull())
        .addColumn('slot_type', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('diary_sessions_pk', ['practice', 'id'])
        .execute();
      await db.schema.createIndex('diary_sessions_schedule_date').ifNotExists().on('diary_sessions').columns(['practice', 'schedule_id', 'date']).execute();
      await db.schema.createIndex('diary_sessions_date').ifNotExists().on('diary_sessions').columns(['practice', 'date']).execute();
      await db.schema
        .createTable('diary_session_locks')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('schedule_id', 'text', (c) => c.notNull())
        .addColumn('touched_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('diary_session_locks_pk', ['practice', 'schedule_id'])
        .execute();
    },
  },
];
