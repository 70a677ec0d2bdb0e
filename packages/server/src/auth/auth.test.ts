import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNode, TEST_PASSWORD, testUsernames, type TestNode } from '../testing/harness.ts';
import { MAX_FAILED_LOGINS } from './accounts.ts';

const login = (node: TestNode, username: string, password: string, headers: Record<string, string> = {}) =>
  node.fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ username, password }) });

describe('auth', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
  });
  after(() => node.close());

  it('login sets an HttpOnly SameSite=Strict session cookie and returns a token usable as Bearer', async () => {
    const res = await login(node, testUsernames.clinician, TEST_PASSWORD, { 'x-steadfast-workstation': 'ROOM-3' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { token: string; user: { role: string; workstation: string } };
    assert.equal(body.user.role, 'clinician');
    assert.equal(body.user.workstation, 'ROOM-3');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('steadfast_session='));
    assert.ok(cookie, 'session cookie set');
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Strict/i);
    assert.match(cookie, /Path=\//);
    assert.ok(cookie.includes(body.token));

    const byBearer = await node.fetch('/api/auth/me', { headers: { authorization: `Bearer ${body.token}` } });
    assert.equal(byBearer.status, 200);
    assert.equal(((await byBearer.json()) as { user: { username: string } }).user.username, testUsernames.clinician);
    const byCookie = await node.fetch('/api/auth/me', { headers: { cookie: `steadfast_session=${body.token}` } });
    assert.equal(byCookie.status, 200);
  });

  it('regression: the logout cookie dropped HttpOnly and SameSite=Strict', async () => {
    const res = await login(node, testUsernames.clinician, TEST_PASSWORD);
    const { token } = (await res.json()) as { token: string };
    const out = await node.fetch('/api/auth/logout', { method: 'POST', headers: { cookie: `steadfast_session=${token}`, 'sec-fetch-site': 'same-origin' } });
    assert.equal(out.status, 200);
    const cleared = out.headers.getSetCookie().find((c) => c.startsWith('steadfast_session='));
    assert.ok(cleared, 'the session cookie is cleared');
    assert.match(cleared, /^steadfast_session=;/);
    assert.match(cleared, /Expires=Thu, 01 Jan 1970/i);
    assert.match(cleared, /HttpOnly/i);
    assert.match(cleared, /SameSite=Strict/i);
    assert.match(cleared, /Path=\//);
    assert.equal((await node.fetch('/api/auth/me', { headers: { cookie: `steadfast_session=${token}` } })).status, 401, 'the session has ended');
  });

  it('stores only a hash of the session token', async () => {
    const res = await login(node, testUsernames.receptionist, TEST_PASSWORD);
    const { token } = (await res.json()) as { token: string };
    const rows = await (node.store.db as any).selectFrom('sessions').selectAll().execute();
    assert.ok(rows.length > 0);
    for (const row of rows) assert.ok(!JSON.stringify(row).includes(token), 'raw token must not be stored');
  });

  it('unauthenticated requests get 401 OperationOutcome; a bad token too', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-a-real-token' }] as Array<Record<string, string>>) {
      const res = await node.fetch('/fhir/R4/Patient', { headers });
      assert.equal(res.status, 401);
      const oo = (await res.json()) as { resourceType: string; issue: Array<{ code: string }> };
      assert.equal(oo.resourceType, 'OperationOutcome');
      assert.equal(oo.issue[0]?.code, 'login');
    }
    assert.equal((await node.fetch('/api/auth/me')).status, 401);
  });

  it('metadata needs no sign-in', async () => {
    const res = await node.fetch('/fhir/R4/metadata');
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { resourceType: string }).resourceType, 'CapabilityStatement');
  });

  it('wrong role gets 403: receptionist on clinical types and the audit trail; clinician on the audit trail', async () => {
    for (const path of ['/fhir/R4/Observation', '/fhir/R4/Encounter', '/fhir/R4/Condition', '/fhir/R4/DiagnosticReport', '/fhir/R4/DocumentReference', '/fhir/R4/QuestionnaireResponse', '/api/audit']) {
      const res = await node.fetchAs('receptionist', path);
      assert.equal(res.status, 403, path);
      assert.equal(((await res.json()) as { resourceType: string }).resourceType, 'OperationOutcome');
    }
    assert.equal((await node.fetchAs('clinician', '/api/audit')).status, 403);
    assert.equal((await node.fetchAs('clinician', '/fhir/R4/Observation')).status, 200);
    assert.equal((await node.fetchAs('receptionist', '/fhir/R4/AllergyIntolerance')).status, 200);
    assert.equal((await node.fetchAs('practice-admin', '/api/audit')).status, 200);
  });

  it('logout ends the session: the token stops working', async () => {
    const res = await login(node, testUsernames['practice-admin'], TEST_PASSWORD);
    const { token } = (await res.json()) as { token: string };
    const out = await node.fetch('/api/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(out.status, 200);
    assert.equal((await node.fetch('/api/auth/me', { headers: { authorization: `Bearer ${token}` } })).status, 401);
  });

  it(`locks a username after ${MAX_FAILED_LOGINS} failures in a row, even for the right password, without revealing whether it exists`, async () => {
    await node.accounts.addUser({ username: 'locky', password: 'right-password', role: 'receptionist' });
    const real: number[] = [];
    const ghost: number[] = [];
    const realMessages: string[] = [];
    const ghostMessages: string[] = [];
    for (let i = 0; i < MAX_FAILED_LOGINS; i++) {
      const a = await login(node, 'locky', 'wrong-password');
      real.push(a.status);
      realMessages.push(JSON.stringify(((await a.json()) as any).issue[0].code));
      const b = await login(node, 'no-such-user', 'wrong-password');
      ghost.push(b.status);
      ghostMessages.push(JSON.stringify(((await b.json()) as any).issue[0].code));
    }
    assert.deepEqual(real, [401, 401, 401, 401, 423]);
    assert.deepEqual(ghost, real, 'an unknown username is answered exactly like a real one');
    assert.deepEqual(ghostMessages, realMessages);
    const locked = await login(node, 'locky', 'right-password');
    assert.equal(locked.status, 423);
    const oo = (await locked.json()) as { issue: Array<{ diagnostics: string }> };
    assert.match(oo.issue[0]!.diagnostics, /locked/);
    await node.accounts.unlock('locky');
    assert.equal((await login(node, 'locky', 'right-password')).status, 200);
  });

  it('a success resets the failure count', async () => {
    await node.accounts.addUser({ username: 'resetty', password: 'right-password', role: 'receptionist' });
    for (let i = 0; i < MAX_FAILED_LOGINS - 1; i++) assert.equal((await login(node, 'resetty', 'nope')).status, 401);
    assert.equal((await login(node, 'resetty', 'right-password')).status, 200);
    for (let i = 0; i < MAX_FAILED_LOGINS - 1; i++) assert.equal((await login(node, 'resetty', 'nope')).status, 401);
    assert.equal((await login(node, 'resetty', 'right-password')).status, 200);
  });

  it('a session ends after 12 hours without use; use keeps it alive', async () => {
    const { SESSION_IDLE_MS } = await import('./accounts.ts');
    const t0 = Date.now();
    const user = node.users.clinician;
    const { token } = await node.accounts.createSession(user.id, 'ws', 'session', t0);
    assert.ok(await node.accounts.resolveToken(token, t0 + SESSION_IDLE_MS - 60_000 * 5));
    // That use (more than a minute after the last) moved the expiry on.
    assert.ok(await node.accounts.resolveToken(token, t0 + SESSION_IDLE_MS + 60_000));
    assert.equal(await node.accounts.resolveToken(token, t0 + 3 * SESSION_IDLE_MS), undefined);
  });

  it('login with a missing field is 400 naming it', async () => {
    const res = await node.fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'x' }) });
    assert.equal(res.status, 400);
    const oo = (await res.json()) as { issue: Array<{ expression?: string[] }> };
    assert.deepEqual(oo.issue[0]?.expression, ['password']);
  });

  it('logins and failed logins are audited', async () => {
    const entries = await node.audit.list({ limit: 1000 });
    assert.ok(entries.some((e) => e.event === 'login' && e.workstation === 'ROOM-3'));
    assert.ok(entries.some((e) => e.event === 'login-failed' && e.userName === 'no-such-user'));
  });

  it('rejects weak passwords and unknown roles when adding users', async () => {
    await assert.rejects(node.accounts.addUser({ username: 'weak', password: 'short', role: 'clinician' }), /at least 8/);
    await assert.rejects(node.accounts.addUser({ username: 'odd', password: 'long-enough', role: 'doctor' }), /not a Steadfast role/);
    await assert.rejects(node.accounts.addUser({ username: testUsernames.clinician, password: 'long-enough', role: 'clinician' }), /already exists/);
  });
});
