/**
 * The HTTP application of a practice node or hub: fastify with one error handler, the auth hook, and
 * every capability registered from capabilities.ts. Opening the store and listening live elsewhere
 * (node/open.ts, cli/serve.ts, testing/harness.ts) so that tests can build the app around any store.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import type { BacklogFigure, BacklogResponse } from '@steadfast/domain/api';
import type { AppDeps, BackgroundService, Capability, ServiceContext } from './capability.ts';
import { installAuthHook } from './auth/index.ts';
import { capabilities } from './capabilities.ts';
import { registerErrorHandling } from './http/errors.ts';
import { installCrossSiteCheck, registerBodyParsers, registerSecurityHeaders } from './http/security.ts';
import { registerStatusProvider } from './status/providers.ts';

export type { AppConfig, AppDeps, NodeConfig } from './capability.ts';

export const DEFAULT_BODY_LIMIT = 5 * 1024 * 1024;

export async function buildApp(deps: AppDeps, options: { capabilities?: readonly Capability[] } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: deps.config.bodyLimit ?? DEFAULT_BODY_LIMIT,
    logger: deps.config.logger ? { level: 'info' } : false,
    // Search parameters repeat (date=ge..&date=le..) and carry commas; parse them as FHIR expects.
    routerOptions: { maxParamLength: 200 },
    forceCloseConnections: true,
    ...(deps.config.tls ? { https: { cert: deps.config.tls.cert, key: deps.config.tls.key } } : {}),
  }) as unknown as FastifyInstance;
  registerErrorHandling(app);
  // JSON and FHIR JSON only, depth-limited; no text/plain (http/security.ts).
  registerBodyParsers(app);
  await registerSecurityHeaders(app);
  await app.register(cookie);
  installCrossSiteCheck(app);
  installAuthHook(app, deps.accounts);
  const list = options.capabilities ?? capabilities;
  for (const capability of list) await capability.routes?.(app, deps);
  registerCapabilityStatus(app, deps, list);
  runServices(app, deps, list);
  registerBacklog(app, deps, list);
  return app;
}

/** Status-bar entries a capability declares, for as long as the app is open. */
function registerCapabilityStatus(app: FastifyInstance, deps: AppDeps, list: readonly Capability[]): void {
  const removers = list.flatMap((c) => Object.entries(c.status?.(deps) ?? {}).map(([name, provider]) => registerStatusProvider(name, provider, deps.store)));
  app.addHook('onClose', async () => removers.forEach((remove) => remove()));
}

/**
 * Background services start when the app is ready, which `listen` awaits (fastify's onListen hooks
 * are not awaited, so a caller could see the node up before its MLLP listener), and stop, in reverse
 * order, when it closes; a service that fails to start is logged and the node serves on.
 */
function runServices(app: FastifyInstance, deps: AppDeps, list: readonly Capability[]): void {
  const running: Array<{ service: BackgroundService; removeStatus?: () => void }> = [];
  app.addHook('onReady', async () => {
    const context: ServiceContext = { outboxChannels: list.flatMap((c) => c.outboxChannels?.(deps) ?? []), backlog: () => collectBacklog(deps, list) };
    for (const capability of list) {
      let services: BackgroundService[];
      try {
        services = (await capability.services?.(deps, app.log, context)) ?? [];
      } catch (err) {
        app.log.error({ err }, `${capability.name}: its services could not be set up`);
        process.stderr.write(`steadfast: ${capability.name}: its services could not be set up: ${(err as Error).message}\n`);
        continue;
      }
      for (const service of services) {
        try {
          await service.start();
        } catch (err) {
          app.log.error({ err }, `${service.name} could not start`);
          process.stderr.write(`steadfast: ${service.name} could not start: ${(err as Error).message}\n`);
          continue;
        }
        running.push({ service, ...(service.status ? { removeStatus: registerStatusProvider(service.status.name, service.status.provider, deps.store) } : {}) });
      }
    }
  });
  app.addHook('onClose', async () => {
    for (const { service, removeStatus } of running.reverse()) {
      removeStatus?.();
      try {
        await service.stop();
      } catch (err) {
        app.log.error({ err }, `${service.name} did not stop cleanly`);
      }
    }
    running.length = 0;
  });
}

/** `GET /api/backlog`: every capability's waiting work, counts only (the status bar and the hub read it). */
function registerBacklog(app: FastifyInstance, deps: AppDeps, list: readonly Capability[]): void {
  app.get('/api/backlog', async (_request, reply): Promise<BacklogResponse> => {
    void reply.header('cache-control', 'no-store');
    return { checkedAt: new Date().toISOString(), practice: deps.config.practice, figures: await collectBacklog(deps, list) };
  });
}

async function collectBacklog(deps: AppDeps, list: readonly Capability[]): Promise<BacklogFigure[]> {
  return (await Promise.all(list.map((c) => c.backlog?.(deps) ?? Promise.resolve([])))).flat();
}
