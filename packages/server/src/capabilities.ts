/**
 * Every capability of the node, registered in this order. Each is a folder with an
 * `async function register<Name>(app, deps)`; add yours here.
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from './app.ts';
import { registerAuth } from './auth/routes.ts';
import { registerAudit } from './audit/index.ts';
import { registerRecords } from './records/index.ts';
import { registerPathology } from './pathology/index.ts';

export interface Capability {
  name: string;
  register(app: FastifyInstance, deps: AppDeps): Promise<void>;
}

export const capabilities: Capability[] = [
  { name: 'auth', register: registerAuth },
  { name: 'audit', register: registerAudit },
  { name: 'records', register: registerRecords },
  { name: 'pathology', register: registerPathology },
];
