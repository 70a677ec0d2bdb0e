/**
 * The patient's online consultation form (packages/patient-web, built to its dist/), served publicly
 * at /consult/<practice>/ under the same security headers (CSP) as the staff app, by a practice node
 * and by the regional hub (whichever the patient can reach). /consult/ on a practice node goes to its
 * own practice's form; the hub serves every practice it knows, so it has no default. The form talks only to the public routes of
 * online-consultations (/api/public/online-consultations/<practice>/...). No patient data in a URL.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

export const PATIENT_WEB_DIST = process.env.STEADFAST_PATIENT_WEB_DIST
  ? resolve(process.env.STEADFAST_PATIENT_WEB_DIST)
  : fileURLToPath(new URL('../../../patient-web/dist/', import.meta.url));

const notBuilt = `<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>Online consultation form not built</title></head>
<body><h1>The online consultation form has not been built</h1><p>Build it with: <code>node scripts/build-web.mjs</code></p>
<p>If you need help now, call 111. In an emergency call 999.</p></body></html>`;

export async function registerPatientForm(app: FastifyInstance, practice: string | undefined, dist: string = PATIENT_WEB_DIST): Promise<void> {
  const index = join(dist, 'index.html');
  // The hub has no staff app, so no @fastify/static of its own yet.
  if (!app.hasReplyDecorator('sendFile')) await app.register(fastifyStatic, { root: dist, serve: false });
  // reply.sendFile is the staff app's @fastify/static (registered first), given this app's folder as
  // the root (it refuses paths outside it). Hashed asset names never change: cached hard.
  app.get<{ Params: { '*': string } }>('/consult/assets/*', { config: { public: true } }, async (request, reply) =>
    reply.sendFile(request.params['*'], join(dist, 'assets'), { maxAge: 365 * 86_400_000, immutable: true }),
  );
  if (practice) {
    app.get('/consult', { config: { public: true } }, async (_request, reply) => reply.redirect(`/consult/${encodeURIComponent(practice)}/`));
    app.get('/consult/', { config: { public: true } }, async (_request, reply) => reply.redirect(`/consult/${encodeURIComponent(practice)}/`));
  }
  const page = async (_request: unknown, reply: import('fastify').FastifyReply) => {
    if (!existsSync(index)) return reply.code(503).type('text/html; charset=utf-8').send(notBuilt);
    const { readFile } = await import('node:fs/promises');
    return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(await readFile(index, 'utf8'));
  };
  app.get<{ Params: { practice: string } }>('/consult/:practice', { config: { public: true } }, async (request, reply) => reply.redirect(`/consult/${encodeURIComponent(request.params.practice)}/`));
  app.get('/consult/:practice/', { config: { public: true } }, page);
}
