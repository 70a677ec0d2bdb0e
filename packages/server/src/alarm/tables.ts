/** Rooms of workstations and the record of alarms raised, kept on the node so both work offline. */
import type { Kysely } from 'kysely';
import type { Migration } from '@steadfast/store';

export interface AlarmRoomsTable {
  practice: string;
  workstation: string;
  room: string;
  updated_at: string;
  updated_by: string;
}

export interface AlarmEventsTable {
  practice: string;
  id: string;
  raised_at: string;
  user_id: string;
  user_name: string;
  workstation: string;
  room: string;
  room_known: number;
  delivered: number;
  resolved_at: string | null;
  resolved_by: string | null;
}

export interface AlarmTables {
  alarm_rooms: AlarmRoomsTable;
  alarm_events: AlarmEventsTable;
}

export const alarmMigrations: Migration[] = [
  {
    name: '0250-alarm-rooms',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('alarm_rooms')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('workstation', 'text', (c) => c.notNull())
        .addColumn('room', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('alarm_rooms_pk', ['practice', 'workstation'])
        .execute();
      await db.schema
        .createTable('alarm_events')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('raised_at', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('workstation', 'text', (c) => c.notNull())
        .addColumn('room', 'text', (c) => c.notNull())
        .addColumn('room_known', 'integer', (c) => c.notNull())
        .addColumn('delivered', 'integer', (c) => c.notNull())
        .addColumn('resolved_at', 'text')
        .addColumn('resolved_by', 'text')
        .addPrimaryKeyConstraint('alarm_events_pk', ['practice', 'id'])
        .execute();
    },
  },
];
