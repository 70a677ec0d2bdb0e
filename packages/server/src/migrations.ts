/**
 * Schema changes of every capability's own tables, applied by the store at open in name order.
 * Names are global: 01xx server core, 02xx appointments/tasks, 03xx pathology, 04xx sync, 06xx inbox, ...
 */
import type { Migration } from '@steadfast/store';
import { authMigrations } from './auth/tables.ts';
import { auditMigrations } from './audit/tables.ts';
import { appointmentMigrations } from './appointments/tables.ts';
import { alarmMigrations } from './alarm/tables.ts';
import { webappMigrations } from './webapp/index.ts';
import { pathologyMigrations } from './pathology/schema.ts';
import { syncMigrations } from './sync/tables.ts';
import { breakGlassMigrations } from './breakglass/tables.ts';
import { inboxMigrations } from './inbox/tables.ts';

export const migrations: Migration[] = [...authMigrations, ...auditMigrations, ...appointmentMigrations, ...alarmMigrations, ...webappMigrations, ...pathologyMigrations, ...syncMigrations, ...breakGlassMigrations, ...inboxMigrations];
