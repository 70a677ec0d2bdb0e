/**
 * The staff web app, served by the practice node on its own port so it keeps working with no wider
 * network: the built files from packages/web/dist at `/`, with every other non-API path answered by
 * index.html (client-side routes such as /patient/<id>). /api and /fhir paths are never answered
 * with the app, so a mistyped API path still gets a 404 OperationOutcome.
 *
 * Also: GET /api/webapp/config (idle lock), PUT /api/webapp/config (practice-admin), and
 * GET /api/codes?q=&kind= (the bundled SNOMED CT subset for coded entry).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { Kysely } from 'kysely';
import type { Migration } from '@steadfast/store';
import { SteadfastError, searchConcepts, type ConceptKind } from '@steadfast/domain';
import type { AppDeps } from '../capability.ts';
import { requireRole } from '../auth/index.ts';
import type { Capability } from '../capability.ts';
import { registerPatientForm } from './patient-form.ts';

export const WEB_DIST = process.env.STEADFAST_WEB_DIST ? resolve(process.env.STEADFAST_WEB_DIST) : fileURLToPath(new URL('../../../web/dist/', import.meta.url));
export const BUILD_COMMAND = 'npm run build -w @steadfast/web';
export const DEFAULT_IDLE_LOCK_MINUTES = 10;

interface SettingsTable {
  practice: string;
  key: string;
  value: string;
}

export const webappMigrations: Migration[] = [
  {
    name: '0260-webapp-settings',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('webapp_settings')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('webapp_settings_pk', ['practice', 'key'])
        .execute();
    },
  },
];

const conceptKinds: readonly ConceptKind[] = ['condition', 'finding', 'observable', 'lab', 'allergy', 'procedure'];

function notBuiltPage(dist: string): string {
  return `<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>Steadfast: web app not built</title></head>
<body>
<h1>The staff web app has not been built</h1>
<p>This node serves the app from <code>${dist}</code>, which has no <code>index.html</code>.</p>
<p>Build it from the Steadfast folder with:</p><pre>${BUILD_COMMAND}</pre>
<p>then reload this page. The FHIR API at <code>/fhir/R4</code> and <code>/api</code> work without it.</p></body></html>`;
}

export async function registerWebApp(app: FastifyInstance, deps: AppDeps, options: { dist?: string } = {}): Promise<void> {
  const dist = options.dist ?? WEB_DIST;
  const db = deps.store.db as unknown as Kysely<{ webapp_settings: SettingsTable }>;
  const practice = deps.store.practice;

  async function idleLockMinutes(): Promise<number> {
    const row = await db.selectFrom('webapp_settings').select('value').where('practice', '=', practice).where('key', '=', 'idleLockMinutes').executeTakeFirst();
    const fromEnv = Number(process.env.STEADFAST_IDLE_LOCK_MINUTES);
    if (row) return Number(row.value);
    return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_IDLE_LOCK_MINUTES;
  }

  app.get('/api/webapp/config', async () => ({ idleLockMinutes: await idleLockMinutes() }));

  app.put<{ Body: { idleLockMinutes?: unknown } }>('/api/webapp/config', { preHandler: requireRole('practice-admin') }, async (request) => {
    const m = request.body?.idleLockMinutes;
    if (typeof m !== 'number' || !Number.isFinite(m) || m < 0.05 || m > 240) {
      throw new SteadfastError('invalid', 'idleLockMinutes must be a number from 0.05 to 240', { field: 'idleLockMinutes', hint: 'Send {"idleLockMinutes": 10}' });
    }
    await db
      .insertInto('webapp_settings')
      .values({ practice, key: 'idleLockMinutes', value: String(m) })
      .onConflict((oc) => oc.columns(['practice', 'key']).doUpdateSet({ value: String(m) }))
      .execute();
    return { idleLockMinutes: m };
  });

  app.get<{ Querystring: { q?: string; kind?: string; limit?: string } }>('/api/codes', async (request) => {
    const q = (request.query.q ?? '').trim();
    if (!q) throw new SteadfastError('required', 'q is required', { field: 'q', hint: 'e.g. /api/codes?q=hypert' });
    const limit = Math.min(Math.max(Number(request.query.limit ?? 20) || 20, 1), 100);
    const kinds = request.query.kind ? request.query.kind.split(',') : undefined;
    const bad = kinds?.find((k) => !(conceptKinds as readonly string[]).includes(k));
    if (bad) throw new SteadfastError('invalid', `Unknown concept kind "${bad}"`, { field: 'kind', hint: `Use ${conceptKinds.join(', ')}` });
    const found = searchConcepts(q, { limit, ...(kinds ? { kind: kinds as ConceptKind[] } : {}) });
    return { concepts: found.map((c) => ({ code: c.code, display: c.display, semanticTag: c.kind, ...(c.unit ? { unit: c.unit } : {}) })) };
  });

  const indexFile = join(dist, 'index.html');
  if (!existsSync(indexFile)) app.log.warn(`The staff web app is not built (${indexFile} missing): run \`${BUILD_COMMAND}\``);
  await app.register(fastifyStatic, { root: dist, serve: false });

  const sendApp = (reply: FastifyReply) => {
    if (!existsSync(indexFile)) return reply.code(503).type('text/html; charset=utf-8').send(notBuiltPage(dist));
    // index.html names the current asset files, so it is always revalidated.
    void reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html', { cacheControl: false });
  };

  await registerPatientForm(app, practice);

  const handler = async (request: { url: string }, reply: FastifyReply) => {
    const path = decodeURIComponent(request.url.split('?')[0] ?? '/');
    if (path === '/api' || path.startsWith('/api/') || path === '/fhir' || path.startsWith('/fhir/')) {
      throw new SteadfastError('not-found', `No route for GET ${path}`, { hint: 'FHIR lives under /fhir/R4; other APIs under /api' });
    }
    // Built assets have content hashes in their names and never change; cache them hard.
    if (path.startsWith('/assets/')) return reply.sendFile(path.slice(1), { maxAge: 365 * 86_400_000, immutable: true });
    if (/\.[a-z0-9]+$/i.test(path)) return reply.sendFile(path.slice(1));
    return sendApp(reply);
  };
  app.get('/', { config: { public: true } }, handler);
  app.get('/*', { config: { public: true } }, handler);
}

/** Last: serves the staff app at / and answers unknown non-API paths with it. */
export const webapp: Capability = { name: 'webapp', migrations: webappMigrations, routes: (app, deps) => registerWebApp(app, deps) };
