import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { postgresAvailable, PG_SKIP_REASON, startTestNode, type TestNode } from '../testing/harness.ts';
import type { AuditInput } from './log.ts';

const pgOk = await postgresAvailable();
const actor = { id: 'u1', name: 'Ursula', role: 'clinician', workstation: 'WS-1' };
const input = (n: number): AuditInput => ({ actor, event: 'read', resource: `Patient/p${n}`, patient: `Patient/p${n}`, outcome: 'success' });

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`audit chain (${backend})`, { skip: backend === 'postgres' && !pgOk ? PG_SKIP_REASON : false }, () => {
    let node: TestNode;
    before(async () => {
      node = await startTestNode({ backend });
    });
    after(() => node?.close());

    it('concurrent appends get strictly increasing seqs with no gaps and an intact chain', async () => {
      await Promise.all(Array.from({ length: 50 }, (_, i) => node.audit.append([input(i), input(i + 100)])));
      const entries = (await node.audit.list({ limit: 1000 })).reverse();
      assert.equal(entries.length, 100);
      entries.forEach((e, i) => assert.equal(e.seq, i + 1));
      entries.slice(1).forEach((e, i) => assert.equal(e.prevHash, entries[i]!.hash));
      assert.deepEqual(await node.audit.verify(), { ok: true, checked: 100, head: { seq: 100, hash: entries[99]!.hash } });
    });

    it('verify finds a changed row and names its seq', async () => {
      await sql`update audit_log set user_name = 'Someone Else' where seq = 37`.execute(node.store.db);
      const result = await node.audit.verify();
      assert.equal(result.ok, false);
      assert.equal(result.brokenSeq, 37);
      assert.match(result.reason!, /changed/);
      await sql`update audit_log set user_name = 'Ursula' where seq = 37`.execute(node.store.db);
      assert.equal((await node.audit.verify()).ok, true);
    });

    it('verify finds a deleted row', async () => {
      await sql`delete from audit_log where seq = 50`.execute(node.store.db);
      const result = await node.audit.verify();
      assert.equal(result.ok, false);
      assert.equal(result.brokenSeq, 50);
      assert.match(result.reason!, /missing/);
    });

    it('verify finds a row whose hash was recomputed after an edit (the next row no longer follows)', async () => {
      const { auditHash } = await import('./log.ts');
      const row = (await sql<any>`select * from audit_log where seq = 10`.execute(node.store.db)).rows[0];
      const edited = { ...row, patient: 'Patient/someone-else' };
      delete edited.hash;
      const newHash = auditHash(edited);
      await sql`update audit_log set patient = ${edited.patient}, hash = ${newHash} where seq = 10`.execute(node.store.db);
      const result = await node.audit.verify();
      assert.equal(result.ok, false);
      assert.equal(result.brokenSeq, 11);
    });
  });
}

describe('audit API', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
  });
  after(() => node.close());

  it('GET /api/audit filters by patient and user, for practice-admins only', async () => {
    await node.audit.append([input(1), input(2), { ...input(1), actor: { ...actor, id: 'u2' } }]);
    const byPatient = (await (await node.fetchAs('practice-admin', '/api/audit?patient=Patient/p1')).json()) as { entries: Array<{ patient: string }> };
    assert.equal(byPatient.entries.length, 2);
    assert.ok(byPatient.entries.every((e) => e.patient === 'Patient/p1'));
    const byUser = (await (await node.fetchAs('practice-admin', '/api/audit?user=u2')).json()) as { entries: unknown[] };
    assert.equal(byUser.entries.length, 1);
    assert.equal((await node.fetchAs('receptionist', '/api/audit')).status, 403);
  });

  it('AuditEvent cannot be written through the API', async () => {
    const res = await node.fetchAs('practice-admin', '/fhir/R4/AuditEvent', { method: 'POST', json: { resourceType: 'AuditEvent' } });
    assert.equal(res.status, 403);
  });

  it('AuditEvent read by seq renders a FHIR AuditEvent with the hash chain', async () => {
    const entries = await node.audit.list({ limit: 1 });
    const res = await node.fetchAs('practice-admin', `/fhir/R4/AuditEvent/${entries[0]!.seq}`);
    assert.equal(res.status, 200);
    const ev = (await res.json()) as any;
    assert.equal(ev.resourceType, 'AuditEvent');
    assert.equal(ev.agent[0].requestor, true);
    assert.ok(ev.extension.some((x: any) => x.valueString === entries[0]!.hash));
  });
});
