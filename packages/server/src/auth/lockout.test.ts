/** Sign-in lockout holds under parallel attempts, backs off, and one client cannot lock every account. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import { FIRST_LOCKOUT_MS, LOCKOUT_MS, lockoutFor, MAX_FAILED_LOGINS } from './accounts.ts';

const login = (node: TestNode, username: string, password: string) =>
  node.fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });

describe('sign-in lockout', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
  });
  after(() => node?.close());

  it('regression: 100 wrong passwords sent at once all got 401 and the right one then succeeded', async () => {
    await node.accounts.addUser({ username: 'parallel', password: 'the-right-password', role: 'clinician' });
    const answers = await Promise.all(Array.from({ length: 100 }, () => login(node, 'parallel', 'wrong-password')));
    const statuses = answers.map((a) => a.status);
    assert.equal(statuses.filter((s) => s === 401).length, MAX_FAILED_LOGINS - 1, 'only the attempts before the lock are checked');
    assert.equal(statuses.filter((s) => s === 423).length, 100 - (MAX_FAILED_LOGINS - 1));
    assert.equal((await login(node, 'parallel', 'the-right-password')).status, 423, 'the account is locked');
    const row = await sql<{ failed_count: number }>`select failed_count from users where username = 'parallel'`.execute(node.store.db);
    assert.equal(Number(row.rows[0]!.failed_count), MAX_FAILED_LOGINS, 'attempts refused while locked are not counted again');
  });

  it('parallel guesses at an unknown username lock it exactly as a real one', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, () => login(node, 'nobody-here', 'guess')));
    assert.equal(answers.filter((a) => a.status === 401).length, MAX_FAILED_LOGINS - 1);
  });

  it('parallel attempts with the right password among wrong ones: the account still locks after five failures', async () => {
    await node.accounts.addUser({ username: 'mixed', password: 'the-right-password', role: 'clinician' });
    const wrong = Array.from({ length: 30 }, () => node.accounts.verifyLogin('mixed', 'wrong').then(() => 'ok', (e: { code?: string }) => e.code));
    const outcomes = await Promise.all(wrong);
    assert.equal(outcomes.filter((o) => o === 'unauthenticated').length, MAX_FAILED_LOGINS - 1);
    await assert.rejects(node.accounts.verifyLogin('mixed', 'the-right-password'), (e: { code?: string }) => e.code === 'locked');
  });

  it('the lock backs off: a minute at first, doubling with each further failure, never over 15 minutes', () => {
    assert.equal(lockoutFor(MAX_FAILED_LOGINS), FIRST_LOCKOUT_MS);
    assert.equal(lockoutFor(MAX_FAILED_LOGINS + 1), 2 * FIRST_LOCKOUT_MS);
    assert.equal(lockoutFor(MAX_FAILED_LOGINS + 2), 4 * FIRST_LOCKOUT_MS);
    assert.equal(lockoutFor(MAX_FAILED_LOGINS + 10), LOCKOUT_MS);
  });

  it('after a lock ends, the next failure locks again for longer; the right password clears it', async () => {
    await node.accounts.addUser({ username: 'backoff', password: 'the-right-password', role: 'clinician' });
    const t0 = Date.parse('2026-12-02T09:00:00Z');
    for (let i = 0; i < MAX_FAILED_LOGINS; i++) await assert.rejects(node.accounts.verifyLogin('backoff', 'wrong', t0));
    await assert.rejects(node.accounts.verifyLogin('backoff', 'the-right-password', t0 + FIRST_LOCKOUT_MS - 1), (e: { code?: string }) => e.code === 'locked');
    // The first lock has ended: one more failure locks for two minutes.
    const t1 = t0 + FIRST_LOCKOUT_MS + 1;
    await assert.rejects(node.accounts.verifyLogin('backoff', 'wrong', t1), (e: { code?: string }) => e.code === 'locked');
    await assert.rejects(node.accounts.verifyLogin('backoff', 'the-right-password', t1 + 2 * FIRST_LOCKOUT_MS - 1), (e: { code?: string }) => e.code === 'locked');
    const user = await node.accounts.verifyLogin('backoff', 'the-right-password', t1 + 2 * FIRST_LOCKOUT_MS + 1);
    assert.equal(user.username, 'backoff');
    for (let i = 0; i < MAX_FAILED_LOGINS - 1; i++) await assert.rejects(node.accounts.verifyLogin('backoff', 'wrong', t1 + 3 * FIRST_LOCKOUT_MS), (e: { code?: string }) => e.code === 'unauthenticated');
  });
});

describe('sign-in rate limit per client', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({ config: { auth: { signInRateLimit: { max: 8, windowMs: 60_000 } } } });
  });
  after(() => node?.close());

  it('one workstation cannot lock every account: its sign-in attempts are limited, with 429 OperationOutcome', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `victim${i}`);
    for (const username of names) await node.accounts.addUser({ username, password: 'the-right-password', role: 'clinician' });
    const statuses: number[] = [];
    for (let round = 0; round < 3; round++) for (const username of names) statuses.push((await login(node, username, 'wrong')).status);
    assert.deepEqual(statuses.slice(0, 8), Array(8).fill(401));
    assert.ok(statuses.slice(8).every((s) => s === 429), statuses.join(','));
    const limited = await login(node, 'victim0', 'the-right-password');
    assert.equal(limited.status, 429);
    const outcome = (await limited.json()) as { resourceType: string; issue: Array<{ code: string; diagnostics: string }> };
    assert.equal(outcome.resourceType, 'OperationOutcome');
    assert.equal(outcome.issue[0]!.code, 'throttled');
    assert.match(outcome.issue[0]!.diagnostics, /Too many sign-in attempts from this computer.*Wait \d+ seconds/);
    // No account reached its lock: each was tried at most twice before the limit.
    const rows = await sql<{ failed_count: number }>`select failed_count from users where username like 'victim%'`.execute(node.store.db);
    assert.ok(rows.rows.every((r) => Number(r.failed_count) < MAX_FAILED_LOGINS));
  });
});
