/**
 * The incidents capability's tables.
 *
 * At the hub:
 * - region_incidents: one row per incident (title, status, the affected practices resolved when it was
 *   opened, the PCNs named).
 * - region_incident_updates: every update posted, the opening and the closing one included, numbered.
 * - region_incident_messages: what practices sent (acknowledgements and reports), each recorded once by
 *   (practice, message id): the outbox key at the node, so a redelivery is a replay and records nothing.
 *
 * On a practice node:
 * - incident_view: the last answer the hub gave about incidents affecting this practice and when the
 *   hub last answered, so the banner survives the hub going away and the node restarting.
 *   Acknowledgements and reports wait in the outbox (channel `region-incident`), nowhere else.
 */
import type { Kysely } from 'kysely';
import type { Migration } from '@steadfast/store';

export interface RegionIncidentsTable {
  id: string;
  title: string;
  status: 'open' | 'closed';
  opened_at: string;
  opened_by: string;
  closed_at: string | null;
  /** JSON array of ODS codes. */
  practices: string;
  /** JSON array of PCN names. */
  pcns: string;
}

export interface RegionIncidentUpdatesTable {
  id: string;
  incident_id: string;
  seq: number;
  kind: 'opened' | 'update' | 'closed';
  known: string;
  practices_should: string;
  next_update_at: string | null;
  expected_restoration_at: string | null;
  posted_at: string;
  posted_by: string;
}

export interface RegionIncidentMessagesTable {
  practice: string;
  message_id: string;
  incident_id: string;
  kind: 'acknowledgement' | 'report';
  node_id: string;
  update_id: string | null;
  by_name: string;
  by_role: string;
  at: string;
  received_at: string;
  /** A report's body (JSON), null for an acknowledgement. */
  report: string | null;
}

export interface IncidentViewTable {
  practice: string;
  /** The hub's last answer (JSON PracticeIncidentsAnswer). */
  answer: string;
  revision: string;
  last_contact_at: string;
}

export interface IncidentTables {
  region_incidents: RegionIncidentsTable;
  region_incident_updates: RegionIncidentUpdatesTable;
  region_incident_messages: RegionIncidentMessagesTable;
  incident_view: IncidentViewTable;
}

export function incidentsDb(db: Kysely<any>): Kysely<IncidentTables> {
  return db as unknown as Kysely<IncidentTables>;
}

export const incidentHubMigrations: Migration[] = [
  {
    name: '1350-region-incidents',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('region_incidents')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('opened_at', 'text', (c) => c.notNull())
        .addColumn('opened_by', 'text', (c) => c.notNull())
        .addColumn('closed_at', 'text')
        .addColumn('practices', 'text', (c) => c.notNull())
        .addColumn('pcns', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('region_incident_updates')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('incident_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('known', 'text', (c) => c.notNull())
        .addColumn('practices_should', 'text', (c) => c.notNull())
        .addColumn('next_update_at', 'text')
        .addColumn('expected_restoration_at', 'text')
        .addColumn('posted_at', 'text', (c) => c.notNull())
        .addColumn('posted_by', 'text', (c) => c.notNull())
        .addUniqueConstraint('region_incident_updates_seq', ['incident_id', 'seq'])
        .execute();
      await db.schema
        .createTable('region_incident_messages')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('incident_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('update_id', 'text')
        .addColumn('by_name', 'text', (c) => c.notNull())
        .addColumn('by_role', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('report', 'text')
        .addPrimaryKeyConstraint('region_incident_messages_pk', ['practice', 'message_id'])
        .execute();
      await db.schema.createIndex('region_incident_messages_incident').ifNotExists().on('region_incident_messages').columns(['incident_id', 'practice']).execute();
    },
  },
];

export const incidentNodeMigrations: Migration[] = [
  {
    name: '1351-incident-view',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('incident_view')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.primaryKey())
        .addColumn('answer', 'text', (c) => c.notNull())
        .addColumn('revision', 'text', (c) => c.notNull())
        .addColumn('last_contact_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
];
