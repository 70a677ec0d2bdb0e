/**
 * The status capability: `GET /api/status`, what the node can reach and how much is waiting, for the
 * status bar on every page. The providers' registry is in providers.ts (capabilities add theirs there
 * through the capability contract's `status` and services' `status`).
 */
import type { FastifyInstance } from 'fastify';
import type { StatusResponse } from '@steadfast/domain/api';
import { collectStatus } from './providers.ts';
import type { AppDeps, Capability } from '../capability.ts';

export { collectStatus, registerStatusProvider, sanitise, type ProviderReport, type ServiceState, type ServiceStatus, type StatusProvider } from './providers.ts';

async function registerStatus(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get('/api/status', async (_request, reply): Promise<StatusResponse> => {
    void reply.header('cache-control', 'no-store');
    return {
      checkedAt: new Date().toISOString(),
      node: { practice: deps.config.practice, nodeId: deps.config.nodeId, role: deps.config.role },
      services: await collectStatus(deps.store),
    };
  });
}

export const status: Capability = { name: 'status', routes: registerStatus };
