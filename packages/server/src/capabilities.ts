/**
 * Every capability of the node, in the order their routes are registered. A capability is a folder
 * exporting one `Capability` (capability.ts): its tables, routes, services, options, status and
 * backlog. To add one, add its folder and one line here; nothing else needs editing.
 */
import type { Capability } from './capability.ts';
import { admin } from './admin/index.ts';
import { alarm } from './alarm/index.ts';
import { appointments } from './appointments/index.ts';
import { atRest } from './atrest/index.ts';
import { audit } from './audit/index.ts';
import { auth } from './auth/routes.ts';
import { twoFactor } from './auth/twofactor-routes.ts';
import { breakGlass } from './breakglass/index.ts';
import { documents } from './documents/index.ts';
import { inbox } from './inbox/index.ts';
import { incidents } from './incidents/index.ts';
import { onlineConsultations } from './online-consultations/index.ts';
import { medicines } from './medicines/index.ts';
import { messaging } from './messaging/index.ts';
import { outbox } from './outbox/index.ts';
import { pathology } from './pathology/index.ts';
import { records } from './records/index.ts';
import { reception } from './reception/index.ts';
import { region } from './region/index.ts';
import { sharing } from './sharing/index.ts';
import { status } from './status/index.ts';
import { sync } from './sync/index.ts';
import { tasks } from './tasks/index.ts';
import { webapp } from './webapp/index.ts';

export type { Capability } from './capability.ts';

export const capabilities: readonly Capability[] = [
  auth,
  // Straight after auth: its enrol-only gate must run before every other capability's routes.
  twoFactor,
  audit,
  records,
  reception,
  appointments,
  admin,
  tasks,
  status,
  alarm,
  inbox,
  outbox,
  onlineConsultations,
  pathology,
  messaging,
  documents,
  medicines,
  sync,
  // After sync: its heartbeat reads the sync client's view of the hub.
  region,
  // After region: incidents from the regional hub, and the practice's answers through the outbox.
  incidents,
  sharing,
  breakGlass,
  atRest,
  // Last: serves the staff app at / and answers unknown non-API paths with it.
  webapp,
];
