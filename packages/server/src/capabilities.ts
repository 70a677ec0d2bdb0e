/**
 * Every capability of the node, registered in this order. Each is a folder with an
 * `async function register<Name>(app, deps)`; add yours here.
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from './app.ts';
import { registerAuth } from './auth/routes.ts';
import { registerTwoFactor } from './auth/twofactor-routes.ts';
import { registerAudit } from './audit/index.ts';
import { registerRecords } from './records/index.ts';
import { registerAppointments } from './appointments/index.ts';
import { registerTasks } from './tasks/index.ts';
import { registerStatus } from './status/index.ts';
import { registerAlarm } from './alarm/index.ts';
import { registerWebApp } from './webapp/index.ts';
import { registerPathology } from './pathology/index.ts';
import { registerSync } from './sync/index.ts';
import { registerSharing } from './sharing/index.ts';
import { registerBreakGlass } from './breakglass/index.ts';
import { registerAtRest } from './atrest/index.ts';

export interface Capability {
  name: string;
  register(app: FastifyInstance, deps: AppDeps): Promise<void>;
}

export const capabilities: Capability[] = [
  { name: 'auth', register: registerAuth },
  // Straight after auth: its enrol-only gate must run before every other capability's routes.
  { name: 'two-factor', register: registerTwoFactor },
  { name: 'audit', register: registerAudit },
  { name: 'records', register: registerRecords },
  { name: 'appointments', register: registerAppointments },
  { name: 'tasks', register: registerTasks },
  { name: 'status', register: registerStatus },
  { name: 'alarm', register: registerAlarm },
  { name: 'pathology', register: registerPathology },
  { name: 'sync', register: registerSync },
  { name: 'sharing', register: registerSharing },
  { name: 'break-glass', register: registerBreakGlass },
  { name: 'atrest', register: registerAtRest },
  // Last: serves the staff app at / and answers unknown non-API paths with it.
  { name: 'webapp', register: registerWebApp },
];
