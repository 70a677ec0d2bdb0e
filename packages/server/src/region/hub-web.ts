/**
 * The staff app at the hub, for hub staff: the same built files a practice node serves
 * (packages/web/dist); signed in with a hub role, the app shows the region's pages. Every other
 * non-API path is answered with index.html; /api paths never are, so a mistyped API path is a 404.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import { SteadfastError } from '@steadfast/domain';
import { BUILD_COMMAND, DEFAULT_IDLE_LOCK_MINUTES, WEB_DIST } from '../webapp/index.ts';

export async function registerHubWebApp(app: FastifyInstance, dist = WEB_DIST): Promise<void> {
  // The idle lock applies at the hub as at a practice.
  app.get('/api/webapp/config', async () => ({ idleLockMinutes: DEFAULT_IDLE_LOCK_MINUTES }));
  const indexFile = join(dist, 'index.html');
  // The patient's form may have registered @fastify/static already; every sendFile here names its root.
  if (!app.hasReplyDecorator('sendFile')) await app.register(fastifyStatic, { root: dist, serve: false });
  const handler = async (request: { url: string }, reply: FastifyReply) => {
    const path = decodeURIComponent(request.url.split('?')[0] ?? '/');
    if (path === '/api' || path.startsWith('/api/') || path === '/fhir' || path.startsWith('/fhir/')) {
      throw new SteadfastError('not-found', `No route for GET ${path}`, { hint: 'The hub serves /api/region, /api/auth, /api/hub and /api/sync' });
    }
    if (!existsSync(indexFile)) return reply.code(503).type('text/plain; charset=utf-8').send(`The staff web app is not built: run ${BUILD_COMMAND}`);
    if (path.startsWith('/assets/')) return reply.sendFile(path.slice(1), dist, { maxAge: 365 * 86_400_000, immutable: true });
    if (/\.[a-z0-9]+$/i.test(path)) return reply.sendFile(path.slice(1), dist);
    void reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html', dist, { cacheControl: false });
  };
  app.get('/', { config: { public: true } }, handler);
  app.get('/*', { config: { public: true } }, handler);
}
