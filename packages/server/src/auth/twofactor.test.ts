import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSync } from 'otplib';
import { openNode } from '../node/open.ts';
import { backends, startTestNode, TEST_PASSWORD, testUsernames, type TestNode } from '../testing/harness.ts';
import { MAX_FAILED_LOGINS } from './accounts.ts';
import { KEY_FILE, RECOVERY_CODE_COUNT, TOTP_PERIOD_S, TwoFactor } from './twofactor.ts';

const PASSWORD = 'a long enough password';
/** The code an authenticator app would show `steps` time steps from `now`. */
const codeAt = (secret: string, now = Date.now(), steps = 0) => generateSync({ secret, epoch: Math.floor(now / 1000) + steps * TOTP_PERIOD_S });

const json = (body: unknown, token?: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
});
const login = (node: TestNode, username: string, password = PASSWORD) => node.fetch('/api/auth/login', json({ username, password }));
const secondStep = (node: TestNode, body: Record<string, unknown>) => node.fetch('/api/auth/login/2fa', json(body));

/** Enrol a signed-in user over HTTP; returns the secret, recovery codes and the confirming time. */
async function enrolOverHttp(node: TestNode, token: string) {
  const res = await node.fetch('/api/auth/2fa/enrol', json({}, token));
  assert.equal(res.status, 200);
  const enrolment = (await res.json()) as { secret: string; otpauthUri: string; qrDataUrl: string };
  const now = Date.now();
  const confirm = await node.fetch('/api/auth/2fa/confirm', json({ code: codeAt(enrolment.secret, now) }, token));
  assert.equal(confirm.status, 200, await confirm.clone().text());
  const { recoveryCodes } = (await confirm.json()) as { recoveryCodes: string[] };
  return { ...enrolment, recoveryCodes, confirmedAt: now };
}

async function tokenOf(res: Response): Promise<string> {
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { token: string }).token;
}

describe('two-factor sign-in (TOTP)', () => {
  let node: TestNode;
  let tf: TwoFactor;
  before(async () => {
    node = await startTestNode({ practice: 'B82005', config: { auth: { requireTwoFactorForAdmins: true } } });
    tf = await new TwoFactor(node.store, { dataDir: node.dataDir }).ready();
  });
  after(() => node.close());

  it('enrolment: otpauth URI with issuer "Steadfast (<ODS>)" and a QR code, off until a first right code, 10 single-use recovery codes kept hashed, the secret kept encrypted', async () => {
    const user = await node.accounts.addUser({ username: 'enrolee', password: PASSWORD, role: 'clinician' });
    const e = await tf.beginEnrolment(user);
    assert.match(e.secret, /^[A-Z2-7]{32}$/);
    const uri = new URL(e.otpauthUri);
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.searchParams.get('issuer'), 'Steadfast (B82005)');
    assert.equal(uri.searchParams.get('secret'), e.secret);
    assert.match(decodeURIComponent(uri.pathname), /Steadfast \(B82005\):enrolee$/);
    assert.match(Buffer.from(e.qrDataUrl.replace(/^data:image\/svg\+xml;base64,/, ''), 'base64').toString(), /^<svg /);
    assert.equal(await tf.isEnabled(user.id), false, 'not on before the first code');
    await assert.rejects(tf.confirmEnrolment(user.id, '000000' === codeAt(e.secret) ? '111111' : '000000'), /does not match/);
    assert.equal(await tf.isEnabled(user.id), false);

    const { recoveryCodes } = await tf.confirmEnrolment(user.id, codeAt(e.secret));
    assert.equal(await tf.isEnabled(user.id), true);
    assert.equal(recoveryCodes.length, RECOVERY_CODE_COUNT);
    assert.equal(new Set(recoveryCodes).size, RECOVERY_CODE_COUNT);
    for (const c of recoveryCodes) assert.match(c, /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);

    const db = node.store.db as any;
    const stored = JSON.stringify([await db.selectFrom('two_factor').selectAll().execute(), await db.selectFrom('two_factor_recovery').selectAll().execute()]);
    assert.ok(!stored.includes(e.secret), 'secret not stored in plain text');
    for (const c of recoveryCodes) assert.ok(!stored.includes(c) && !stored.includes(c.replace(/-/g, '')), 'recovery code not stored');
    assert.equal(statSync(join(node.dataDir, KEY_FILE)).mode & 0o777, 0o600, 'the key file is readable by its owner only');
    await assert.rejects(tf.beginEnrolment(user), /already on/);
    assert.equal((await tf.status(user)).recoveryCodesLeft, RECOVERY_CODE_COUNT);
  });

  it('codes are accepted one time step either side of now and not two, a code is never accepted twice (replay), a recovery code works once', async () => {
    const user = await node.accounts.addUser({ username: 'stepper', password: PASSWORD, role: 'receptionist' });
    const e = await tf.beginEnrolment(user);
    const t0 = Date.now();
    const { recoveryCodes } = await tf.confirmEnrolment(user.id, codeAt(e.secret, t0, -1), t0);
    const attempt = async (code: string, now: number) => {
      const ch = (await tf.challengeFor(user, 'ws', now))!;
      assert.equal(ch.twoFactorRequired, true);
      return tf.completeChallenge(ch.challenge, { code }, now).then(
        () => 'ok',
        (err: Error) => err.message,
      );
    };
    const later = t0 + 10 * TOTP_PERIOD_S * 1000;
    assert.match(await attempt(codeAt(e.secret, later, -2), later), /not right/, 'two steps old is refused');
    assert.match(await attempt(codeAt(e.secret, later, 2), later), /not right/, 'two steps ahead is refused');
    assert.equal(await attempt(codeAt(e.secret, later, -1), later), 'ok', 'one step old is accepted');
    assert.match(await attempt(codeAt(e.secret, later, -1), later), /used already|not right/, 'the same code again is refused');
    assert.equal(await attempt(codeAt(e.secret, later, 1), later), 'ok', 'one step ahead is accepted');
    assert.match(await attempt(codeAt(e.secret, later, 0), later), /not right/, 'a code older than the last accepted one is refused');

    const ch = (await tf.challengeFor(user, 'ws'))!;
    assert.equal((await tf.completeChallenge(ch.challenge, { recoveryCode: recoveryCodes[3]!.toUpperCase() })).method, 'recovery-code');
    const ch2 = (await tf.challengeFor(user, 'ws'))!;
    await assert.rejects(tf.completeChallenge(ch2.challenge, { recoveryCode: recoveryCodes[3]! }), /not right/, 'a recovery code works once');
    await assert.rejects(tf.completeChallenge(ch.challenge, { recoveryCode: recoveryCodes[4]! }), /expired or was not started/, 'a challenge works once');
    assert.equal((await tf.status(user)).recoveryCodesLeft, RECOVERY_CODE_COUNT - 1);
  });

  it('a challenge expires after 5 minutes', async () => {
    const user = await node.accounts.addUser({ username: 'slowcoach', password: PASSWORD, role: 'receptionist' });
    const e = await tf.beginEnrolment(user);
    const t0 = Date.now();
    await tf.confirmEnrolment(user.id, codeAt(e.secret, t0, -1), t0);
    const ch = (await tf.challengeFor(user, 'ws', t0))!;
    const late = t0 + 5 * 60_000 + 1;
    await assert.rejects(tf.completeChallenge(ch.challenge, { code: codeAt(e.secret, late) }, late), /expired/);
  });

  it('sign-in over HTTP: the password step gives a challenge and no session, then the code step gives the session', async () => {
    const user = await node.accounts.addUser({ username: 'twostep', password: PASSWORD, role: 'clinician' });
    const token = await tokenOf(await login(node, user.username));
    const { secret } = await enrolOverHttp(node, token);

    const first = await login(node, user.username);
    assert.equal(first.status, 200);
    assert.deepEqual(first.headers.getSetCookie(), [], 'no session cookie before the code');
    const body = (await first.json()) as { twoFactorRequired?: boolean; challenge?: string; token?: string };
    assert.equal(body.twoFactorRequired, true);
    assert.equal(body.token, undefined);
    assert.ok(body.challenge);

    const missing = await secondStep(node, { challenge: body.challenge });
    assert.equal(missing.status, 400);
    // The confirming code's step is used; the app's next code (one step ahead) is accepted.
    const res = await secondStep(node, { challenge: body.challenge, code: codeAt(secret, Date.now(), 1) });
    const session = await tokenOf(res.clone());
    assert.ok(res.headers.getSetCookie().some((c) => c.startsWith('steadfast_session=') && /HttpOnly/i.test(c)));
    assert.equal((await node.fetch('/fhir/R4/Patient', { headers: { authorization: `Bearer ${session}` } })).status, 200);

    const status = (await (await node.fetch('/api/auth/2fa', { headers: { authorization: `Bearer ${session}` } })).json()) as Record<string, unknown>;
    assert.equal(status.enabled, true);
    assert.ok(!JSON.stringify(status).includes(secret), 'the secret is never returned after enrolment');
    const again = await node.fetch('/api/auth/2fa/enrol', json({}, session));
    assert.equal(again.status, 409);
    assert.ok(!(await again.text()).includes(secret));

    const audit = await node.audit.list({ limit: 1000 });
    assert.ok(audit.some((a) => a.event === 'two-factor-enrolled' && a.userName === user.name));
    assert.ok(audit.some((a) => a.event === 'login' && a.detail === 'two-factor totp' && a.userName === user.name));
  });

  it('wrong codes in a row lock the account like wrong passwords (423, and the right password is refused too)', async () => {
    const user = await node.accounts.addUser({ username: 'guesser', password: PASSWORD, role: 'receptionist' });
    const token = await tokenOf(await login(node, user.username));
    const { secret } = await enrolOverHttp(node, token);
    const right = codeAt(secret, Date.now(), 1);
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    const statuses: number[] = [];
    for (let i = 0; i < MAX_FAILED_LOGINS; i++) {
      // A fresh password step each time: a right password must not clear the count of wrong codes.
      const { challenge } = (await (await login(node, user.username)).json()) as { challenge: string };
      statuses.push((await secondStep(node, { challenge, code: wrong })).status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 423]);
    assert.equal((await login(node, user.username)).status, 423, 'locked for the password step too');
    const failed = (await node.audit.list({ limit: 1000 })).filter((a) => a.event === 'login-failed' && a.userName === user.username);
    assert.ok(failed.length >= MAX_FAILED_LOGINS, 'failed codes are audited under the username');
  });

  it('a practice-admin without 2FA gets a session that can only enrol: everything else is 403 with a clear OperationOutcome until enrolled', async () => {
    const token = await tokenOf(await login(node, testUsernames['practice-admin'], TEST_PASSWORD));
    const as = (path: string) => node.fetch(path, { headers: { authorization: `Bearer ${token}` } });
    for (const path of ['/fhir/R4/Patient', '/api/audit', '/api/auth/2fa/policy']) {
      const res = await as(path);
      assert.equal(res.status, 403, path);
      const oo = (await res.json()) as { resourceType: string; issue: Array<{ diagnostics: string; code: string }> };
      assert.equal(oo.resourceType, 'OperationOutcome');
      assert.equal(oo.issue[0]?.code, 'forbidden');
      assert.match(oo.issue[0]!.diagnostics, /must set up two-factor sign-in/);
    }
    assert.equal((await as('/api/auth/me')).status, 200);
    const status = (await (await as('/api/auth/2fa')).json()) as { mustEnrol: boolean; required: boolean };
    assert.deepEqual([status.required, status.mustEnrol], [true, true]);
    await enrolOverHttp(node, token);
    assert.equal((await as('/fhir/R4/Patient')).status, 200, 'the same session works once enrolled');
    assert.equal((await as('/api/audit')).status, 200);

    // A machine token minted at the console is not a sign-in and is not held back.
    const other = await node.accounts.addUser({ username: 'admin2', password: PASSWORD, role: 'practice-admin' });
    const api = await node.accounts.createSession(other.id, 'api-client', 'api');
    assert.equal((await node.fetch('/fhir/R4/Patient', { headers: { authorization: `Bearer ${api.token}` } })).status, 200);
  });

  it('a practice-admin can require 2FA for all (audited), a clinician without it is then held to enrolment, other roles are optional otherwise', async () => {
    const clinician = await node.accounts.addUser({ username: 'optional', password: PASSWORD, role: 'clinician' });
    const before = await tokenOf(await login(node, clinician.username));
    assert.equal((await node.fetch('/fhir/R4/Patient', { headers: { authorization: `Bearer ${before}` } })).status, 200, 'optional for a clinician by default');

    const admin = await node.accounts.addUser({ username: 'policyadmin', password: PASSWORD, role: 'practice-admin' });
    const adminToken = await tokenOf(await login(node, admin.username));
    await enrolOverHttp(node, adminToken);
    const clinicianPut = await node.fetch('/api/auth/2fa/policy', { ...json({ requireForAll: true }, before), method: 'PUT' });
    assert.equal(clinicianPut.status, 403, 'only a practice-admin sets the policy');
    const put = await node.fetch('/api/auth/2fa/policy', { ...json({ requireForAll: true }, adminToken), method: 'PUT' });
    assert.equal(put.status, 200);
    try {
      const res = await node.fetch('/fhir/R4/Patient', { headers: { authorization: `Bearer ${before}` } });
      assert.equal(res.status, 403);
      assert.match(((await res.json()) as any).issue[0].diagnostics, /Everyone at this practice must set up two-factor/);
      assert.ok((await node.audit.list({ limit: 1000 })).some((a) => a.event === 'two-factor-policy' && a.detail === 'required for all'));
    } finally {
      assert.equal((await node.fetch('/api/auth/2fa/policy', { ...json({ requireForAll: false }, adminToken), method: 'PUT' })).status, 200);
    }
    assert.equal((await node.fetch('/fhir/R4/Patient', { headers: { authorization: `Bearer ${before}` } })).status, 200);
  });

  it("a practice-admin resets another user's 2FA (audited), not their own, and not as a clinician", async () => {
    const lost = await node.accounts.addUser({ username: 'lostphone', password: PASSWORD, role: 'clinician' });
    const lostToken = await tokenOf(await login(node, lost.username));
    await enrolOverHttp(node, lostToken);
    assert.equal(((await (await login(node, lost.username)).json()) as any).twoFactorRequired, true);

    const admin = await node.accounts.addUser({ username: 'resetadmin', password: PASSWORD, role: 'practice-admin' });
    const adminToken = await tokenOf(await login(node, admin.username));
    await enrolOverHttp(node, adminToken);
    assert.equal((await node.fetch('/api/auth/2fa/reset', json({ username: lost.username }, lostToken))).status, 403);
    assert.equal((await node.fetch('/api/auth/2fa/reset', json({ username: admin.username }, adminToken))).status, 400);
    assert.equal((await node.fetch('/api/auth/2fa/reset', json({ username: 'nobody-here' }, adminToken))).status, 404);
    const reset = await node.fetch('/api/auth/2fa/reset', json({ username: lost.username }, adminToken));
    assert.equal(reset.status, 200);
    assert.deepEqual(await reset.json(), { username: lost.username, reset: true });
    assert.ok((await login(node, lost.username).then((r) => r.json()) as any).token, 'signs in with the password alone again');
    assert.ok((await node.audit.list({ limit: 1000 })).some((a) => a.event === 'two-factor-reset' && a.detail === lost.username && a.userName === admin.name));
  });
});

for (const { backend, skip } of (await backends()).filter((b) => b.backend === 'postgres')) {
  describe(`two-factor sign-in on ${backend}`, { skip }, () => {
    it('enrol, sign in with the next code, the same code refused again, a recovery code once', async () => {
      const node = await startTestNode({ backend, config: { auth: { requireTwoFactorForAdmins: true } } });
      try {
        const token = await tokenOf(await login(node, testUsernames['practice-admin'], TEST_PASSWORD));
        assert.equal((await node.fetch('/fhir/R4/Patient', { headers: { authorization: `Bearer ${token}` } })).status, 403);
        const { secret, recoveryCodes } = await enrolOverHttp(node, token);
        const code = codeAt(secret, Date.now(), 1);
        const step = async (proof: Record<string, string>) => {
          const { challenge } = (await (await login(node, testUsernames['practice-admin'], TEST_PASSWORD)).json()) as { challenge: string };
          return (await secondStep(node, { challenge, ...proof })).status;
        };
        assert.equal(await step({ code }), 200);
        assert.equal(await step({ code }), 401, 'replay refused');
        assert.equal(await step({ recoveryCode: recoveryCodes[0]! }), 200);
        assert.equal(await step({ recoveryCode: recoveryCodes[0]! }), 401, 'a recovery code works once');
        const status = (await (await node.fetch('/api/auth/2fa', { headers: { authorization: `Bearer ${token}` } })).json()) as { recoveryCodesLeft: number; mustEnrol: boolean };
        assert.deepEqual([status.recoveryCodesLeft, status.mustEnrol], [RECOVERY_CODE_COUNT - 1, false]);
      } finally {
        await node.close();
      }
    });
  });
}

describe('steadfast users 2fa-reset', () => {
  it('resets a locked-out admin from the command line and audits it', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const data = mkdtempSync(join(tmpdir(), 'steadfast-2fa-cli-'));
    try {
      let opened = await openNode({ dataDir: data });
      const admin = await opened.accounts.addUser({ username: 'boss', password: PASSWORD, role: 'practice-admin' });
      const tf = await new TwoFactor(opened.store, { dataDir: data }).ready();
      const e = await tf.beginEnrolment(admin);
      await tf.confirmEnrolment(admin.id, codeAt(e.secret));
      assert.ok(readFileSync(join(data, KEY_FILE), 'utf8').trim().length > 40);
      await opened.close();

      const bin = fileURLToPath(new URL('../../bin/steadfast.js', import.meta.url));
      const result = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [bin, 'users', '2fa-reset', '--data', data, '--username', 'boss'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout }));
      });
      assert.equal(result.code, 0);
      assert.match(result.stdout, /two-factor sign-in reset for boss/);

      opened = await openNode({ dataDir: data });
      try {
        assert.equal(await new TwoFactor(opened.store).isEnabled(admin.id), false);
        const entries = await opened.audit.list({ limit: 100 });
        assert.ok(entries.some((a) => a.event === 'two-factor-reset' && a.detail === 'boss'));
      } finally {
        await opened.close();
      }
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});
