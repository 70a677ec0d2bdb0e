/**
 * The audit queue never stalls, never serves a read it cannot audit, and never loses an entry at
 * shutdown. Failures are made real: a trigger makes SQLite refuse every insert into audit_log, as a
 * full or read-only disk would.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { buildApp } from '../app.ts';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import { AuditLog, type AuditInput } from './log.ts';

const actor = { id: 'u-queue', name: 'Quentin', role: 'clinician', workstation: 'WS-Q' };
const read = (n: number): AuditInput => ({ actor, event: 'read', resource: `Patient/q${n}`, patient: `Patient/q${n}`, outcome: 'success' });
const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms))]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function refuseAuditWrites(node: TestNode): Promise<void> {
  await sql`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk refused the write (test)'); END`.execute(node.store.db);
}
async function acceptAuditWrites(node: TestNode): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS refuse_audit`.execute(node.store.db);
}
async function countRows(node: TestNode, userId: string): Promise<number> {
  const r = await sql<{ n: number }>`select count(*) as n from audit_log where user_id = ${userId}`.execute(node.store.db);
  return Number(r.rows[0]!.n);
}

describe('audit queue', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
  });
  after(() => node?.close());

  it('regression: a read audited just before a sign-in stalled the audit queue, and every later sign-in and audit read hung', async () => {
    // The stall: a read queued its entry (group-commit timer set), a sign-in's append flushed the
    // queue before the timer fired, the timer then started an empty flush that finished before it
    // was stored, and the queue believed a flush was running for ever.
    node.audit.record([read(1)]);
    await node.audit.append([read(2)]);
    await sleep(60);
    await within(node.audit.append([read(3)]), 3000, 'append after the timer fired on an empty queue');
    // And through HTTP, as the practice saw it: a FHIR read, sign-ins and the audit page.
    const patient = await node.create('clinician', { resourceType: 'Patient', name: [{ family: 'Stall', given: ['Ann'] }], birthDate: '1970-01-01' });
    for (let i = 0; i < 5; i++) {
      assert.equal((await node.fetchAs('clinician', `/fhir/R4/Patient/${patient.id}`)).status, 200);
      const login = await within(
        node.fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'dr.chen', password: 'correct horse battery' }) }),
        3000,
        `sign-in ${i}`,
      );
      assert.equal(login.status, 200);
      await sleep(30);
    }
    const audit = await within(node.fetchAs('practice-admin', `/api/audit?patient=Patient/${patient.id}`), 3000, 'GET /api/audit');
    assert.equal(audit.status, 200);
    const entries = ((await audit.json()) as { entries: Array<{ event: string }> }).entries;
    assert.ok(entries.filter((e) => e.event === 'read').length >= 5, 'every read left its row');
  });

  it('a failed audit commit is retried, shown in the status, and its entries are written once the disk accepts them', async () => {
    await refuseAuditWrites(node);
    try {
      node.audit.record([read(10), read(11)]);
      for (let i = 0; i < 50 && node.audit.failures === 0; i++) await sleep(20);
      assert.ok(node.audit.failures >= 1, 'the commit failed');
      const health = node.audit.health();
      assert.equal(health.queued, 2, 'the entries wait, not dropped');
      assert.match(health.lastError ?? '', /disk refused/);
      const status = (await (await node.fetchAs('clinician', '/api/status')).json()) as { services: Array<{ name: string; state: string; queued?: number; detail?: string }> };
      const auditStatus = status.services.find((s) => s.name === 'audit');
      assert.equal(auditStatus?.state, 'degraded');
      assert.equal(auditStatus?.queued, 2);
      assert.match(auditStatus?.detail ?? '', /not being written/);
    } finally {
      await acceptAuditWrites(node);
    }
    await within(node.audit.drain(), 6000, 'drain after the disk accepts again');
    assert.equal(node.audit.health().queued, 0);
    assert.equal(node.audit.health().failingSince, undefined);
    const rows = await sql<{ resource: string }>`select resource from audit_log where resource in ('Patient/q10', 'Patient/q11')`.execute(node.store.db);
    assert.equal(rows.rows.length, 2, 'written exactly once each');
    assert.equal((await node.audit.verify()).ok, true);
  });

  it('a read that cannot be audited is refused with 503, not served silently', async () => {
    const audit = new AuditLog(node.store, { unhealthyAfterMs: 100, appendTimeoutMs: 500 });
    const app = await buildApp({ ...node.deps, audit });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const token = await node.login('clinician');
    const patient = await node.create('clinician', { resourceType: 'Patient', name: [{ family: 'Unaudited', given: ['Una'] }], birthDate: '1971-01-01' });
    await refuseAuditWrites(node);
    try {
      // The first read is queued (the trail has not failed yet); once its commit has failed for longer
      // than the limit, reads are refused.
      assert.equal((await fetch(`${base}/fhir/R4/Patient/${patient.id}`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
      for (let i = 0; i < 50 && audit.healthy(); i++) await sleep(20);
      assert.equal(audit.healthy(), false);
      const refused = await fetch(`${base}/fhir/R4/Patient/${patient.id}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(refused.status, 503);
      const outcome = (await refused.json()) as { resourceType: string; issue: Array<{ diagnostics: string }> };
      assert.equal(outcome.resourceType, 'OperationOutcome');
      assert.match(outcome.issue[0]!.diagnostics, /audit trail cannot be written/);
      const search = await fetch(`${base}/fhir/R4/Patient?family=Unaudited`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(search.status, 503, 'a search is a read too');
    } finally {
      await acceptAuditWrites(node);
    }
    await within(audit.drain(), 6000, 'drain');
    assert.equal(audit.healthy(), true, 'healthy again once the disk accepts');
    assert.equal((await fetch(`${base}/fhir/R4/Patient/${patient.id}`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    await audit.close();
    await app.close();
  });

  it('sign-in does not wait on the audit queue: it commits its own entry with the session', async () => {
    const before = await countRows(node, node.users.clinician.id);
    const started = Date.now();
    const res = await node.fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'dr.chen', password: 'correct horse battery' }) });
    assert.equal(res.status, 200);
    // Committed by the time the answer arrives, without any drain of the queue.
    assert.equal(await countRows(node, node.users.clinician.id), before + 1);
    assert.ok(Date.now() - started < 5000);
  });

  it('shutdown completes while the disk refuses audit writes, and the entries are written at the next start', async () => {
    const spillDir = mkdtempSync(join(tmpdir(), 'steadfast-spill-'));
    const spillFile = join(spillDir, 'audit-pending.ndjson');
    const audit = new AuditLog(node.store, { spillFile });
    const userId = 'u-spill';
    await refuseAuditWrites(node);
    try {
      audit.record([{ ...read(20), actor: { ...actor, id: userId } }, { ...read(21), actor: { ...actor, id: userId } }]);
      await within(audit.close(400), 3000, 'close with a refusing disk');
      assert.ok(existsSync(spillFile), 'kept on disk');
      assert.equal(readFileSync(spillFile, "utf8").trim().split("\n").length, 2, readFileSync(spillFile, "utf8"));
    } finally {
      await acceptAuditWrites(node);
    }
    const next = new AuditLog(node.store, { spillFile });
    assert.equal(await next.recoverSpilled(), 2);
    assert.equal(existsSync(spillFile), false);
    assert.equal(await countRows(node, userId), 2);
    assert.equal(next.health().recovered, 2);
    assert.equal((await next.verify()).ok, true);
    await next.close();
  });
});
