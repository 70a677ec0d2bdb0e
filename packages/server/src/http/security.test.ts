import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { Kysely } from 'kysely';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import { registerSecurityHeaders } from './security.ts';

const nested = (depth: number) => `{"resourceType":"Patient","extension":[${'{"extension":['.repeat(depth)}${']}'.repeat(depth)}]}`;

describe('HTTP hardening', () => {
  let node: TestNode;
  let cookie: string;
  const alarms = async () => Number((await (node.store.db as unknown as Kysely<any>).selectFrom('alarm_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  before(async () => {
    node = await startTestNode();
    cookie = `steadfast_session=${await node.login('receptionist')}`;
  });
  after(() => node.close());

  it('regression: a cross-site text/plain POST with the session cookie raised a panic alarm', async () => {
    const res = await node.fetch('/api/alarm/raise', {
      method: 'POST',
      headers: { cookie, 'content-type': 'text/plain', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      body: 'x',
    });
    assert.equal(res.status, 403);
    const oo = (await res.json()) as { resourceType: string; issue: Array<{ diagnostics: string }> };
    assert.equal(oo.resourceType, 'OperationOutcome');
    assert.match(oo.issue[0]!.diagnostics, /another site/);
    assert.equal(await alarms(), 0, 'no alarm was raised');
  });

  it('a cookie-authenticated change is refused from another origin, a sibling site, or with no origin at all', async () => {
    const cases: Array<Record<string, string>> = [
      { origin: 'http://evil.example' }, // an older browser: Origin only
      { 'sec-fetch-site': 'same-site' },
      { origin: 'null' },
      {}, // neither header: not a browser page of this node
    ];
    for (const headers of cases) {
      for (const [method, path] of [['POST', '/api/tasks'], ['PUT', '/fhir/R4/Patient/x'], ['DELETE', '/fhir/R4/Patient/x'], ['POST', '/api/auth/logout']] as const) {
        const res = await node.fetch(path, { method, headers: { cookie, ...headers }, json: { description: 'forged' } });
        assert.equal(res.status, 403, `${method} ${path} with ${JSON.stringify(headers)}`);
      }
    }
    assert.equal((await (await node.fetch('/api/auth/me', { headers: { cookie } })).json() as { user: { username: string } }).user.username, 'rita', 'the forged logout did not end the session');
  });

  it('same-origin requests with the cookie, and Bearer-only machine clients from anywhere, pass', async () => {
    const host = new URL(node.url).host;
    const sameOrigin = await node.fetch('/api/tasks', { method: 'POST', headers: { cookie, 'sec-fetch-site': 'same-origin', origin: node.url }, json: { description: 'Call back about appointment' } });
    assert.equal(sameOrigin.status, 201);
    const originOnly = await node.fetch('/api/tasks', { method: 'POST', headers: { cookie, origin: `http://${host}` }, json: { description: 'Post a letter' } });
    assert.equal(originOnly.status, 201);
    const typedUrl = await node.fetch('/api/tasks', { method: 'POST', headers: { cookie, 'sec-fetch-site': 'none' }, json: { description: 'From the address bar' } });
    assert.equal(typedUrl.status, 201);
    const machine = await node.fetchAs('receptionist', '/api/tasks', { method: 'POST', headers: { origin: 'https://elsewhere.example', 'sec-fetch-site': 'cross-site' }, json: { description: 'From a script' } });
    assert.equal(machine.status, 201);
    const read = await node.fetch('/api/tasks', { headers: { cookie, 'sec-fetch-site': 'cross-site' } });
    assert.equal(read.status, 200, 'reads are not state-changing and stay allowed (CORS keeps their answers from the other site)');
  });

  it('regression: a text/plain body was accepted on a JSON route', async () => {
    const res = await node.fetchAs('receptionist', '/api/tasks', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ description: 'smuggled' }) });
    assert.equal(res.status, 415);
    assert.equal(((await res.json()) as { resourceType: string }).resourceType, 'OperationOutcome');
  });

  it('regression: deeply nested JSON answered 500', async () => {
    for (const contentType of ['application/fhir+json', 'application/json']) {
      const res = await node.fetchAs('clinician', '/fhir/R4/Patient', { method: 'POST', headers: { 'content-type': contentType }, body: nested(20_000) });
      assert.equal(res.status, 400, contentType);
      const oo = (await res.json()) as { resourceType: string; issue: Array<{ diagnostics: string }> };
      assert.equal(oo.resourceType, 'OperationOutcome');
      assert.match(oo.issue[0]!.diagnostics, /nested deeper than 64/);
    }
    const justOver = await node.fetchAs('clinician', '/api/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"description":"x","focus":${'['.repeat(64)}${']'.repeat(64)}}` });
    assert.equal(justOver.status, 400);
    // Brackets inside strings are text, not nesting.
    const inString = await node.fetchAs('receptionist', '/api/tasks', { method: 'POST', json: { description: `${'[{'.repeat(200)} "quoted \\" [` } });
    assert.equal(inString.status, 201);
    const atLimit = await node.fetchAs('receptionist', '/api/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"description":"deep","x":${'['.repeat(63)}${']'.repeat(63)}}` });
    assert.equal(atLimit.status, 201, 'depth 64 is allowed');
  });

  it('a body that sets __proto__ is refused', async () => {
    const res = await node.fetchAs('receptionist', '/api/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"description":"x","__proto__":{"admin":true}}' });
    assert.equal(res.status, 400);
  });

  it('regression: an unsupported Content-Type answered 400 instead of 415', async () => {
    for (const contentType of ['application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await node.fetchAs('clinician', '/fhir/R4/Patient', { method: 'POST', headers: { 'content-type': contentType }, body: '<Patient/>' });
      assert.equal(res.status, 415, contentType);
      const oo = (await res.json()) as { resourceType: string; issue: Array<{ code: string; diagnostics: string }> };
      assert.equal(oo.resourceType, 'OperationOutcome');
      assert.equal(oo.issue[0]!.code, 'not-supported');
      assert.match(oo.issue[0]!.diagnostics, /application\/fhir\+json/);
    }
    // The HL7 route keeps its own text parser.
    const hl7 = await node.fetchAs('clinician', '/api/pathology/hl7', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'not hl7' });
    assert.notEqual(hl7.status, 415);
  });

  it('regression: no security headers were sent', async () => {
    for (const path of ['/', '/api/auth/me', '/fhir/R4/metadata', '/no-such-page']) {
      const res = await node.fetch(path);
      const csp = res.headers.get('content-security-policy') ?? '';
      for (const directive of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'"]) {
        assert.ok(csp.includes(directive), `${path}: CSP has ${directive}: ${csp}`);
      }
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|upgrade-insecure-requests/, path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
      assert.equal(res.headers.get('strict-transport-security'), null, `${path}: no HSTS over plain http`);
    }
    const error = await node.fetch('/api/tasks');
    assert.equal(error.status, 401);
    assert.equal(error.headers.get('x-frame-options'), 'DENY', 'error answers carry the headers too');
  });
});

test('HSTS is sent over https only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-tls-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const app = Fastify({ https: { key: readFileSync(key), cert: readFileSync(cert) } });
  await registerSecurityHeaders(app);
  app.get('/', async () => ({ ok: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const { port } = app.server.address() as { port: number };
    const hsts = await new Promise<string | undefined>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/', rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.headers['strict-transport-security']);
      });
      req.on('error', reject);
      req.end();
    });
    assert.match(hsts ?? '', /max-age=\d{7,}/);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a PDF (the printed request form) is sent without the app\'s CSP, which would break Chrome\'s PDF viewer, but keeps the other headers', async () => {
  const app = Fastify();
  await registerSecurityHeaders(app);
  app.get('/form.pdf', async (_request, reply) => reply.type('application/pdf').send(Buffer.from('%PDF-1.4\n')));
  app.get('/page', async (_request, reply) => reply.type('text/html').send('<!doctype html>'));
  try {
    const pdf = await app.inject('/form.pdf');
    assert.equal(pdf.headers['content-security-policy'], undefined);
    assert.equal(pdf.headers['x-frame-options'], 'DENY');
    assert.equal(pdf.headers['x-content-type-options'], 'nosniff');
    const page = await app.inject('/page');
    assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
  } finally {
    await app.close();
  }
});
