/**
 * Soak: the busy period that stalled sign-in (issue 9, defect 1), driven for a bounded time against a
 * real node: FHIR reads and searches, laboratory results over MLLP (one with 5,000 OBX segments),
 * request forms printed, and sign-ins, all at once. Afterwards every sign-in has answered, none took
 * long enough to look hung, and every read that was served has its audit row.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startTestNode, TEST_PASSWORD, type TestNode } from '../testing/harness.ts';
import { startPathologyMllp, type PathologyMllp } from '../pathology/routes.ts';
import { sendMllp } from '../pathology/mllp-client.ts';
import { buildBigOru, buildOru } from '../testing/hl7-fixtures.ts';
import { addPatients, type TestPatient } from '../testing/pathology-store.ts';

// Long enough that sign-ins go on after the 5,000-OBX report: storing it holds the node's one
// database connection for seconds (8.2 s once on a CI machine at load 5, when the soak was 6 s and
// the bound 5 s, so only one sign-in was tried). The defect this pins was sign-in hung indefinitely
// behind a stalled audit queue; the bound is for "hung", and the report's speed is the benchmark's.
const SOAK_MS = 15_000;
/**
 * The soak also goes on until the big report is stored and sign-ins have answered after it: on a
 * machine at load 38 the report alone took longer than SOAK_MS, so only one sign-in was tried and the
 * test failed on its own driver, not on the node. Bounded, so a node that never stores it still fails.
 */
const SIGN_INS_AFTER_BIG_REPORT = 3;
const SOAK_HARD_LIMIT_MS = 240_000;
/** A sign-in slower than this under the soak is treated as hung (a liveness bound, not a speed target). */
const SIGN_IN_LIVENESS_MS = 20_000;

describe('soak: mixed load keeps sign-in answering and every read audited', () => {
  let node: TestNode;
  let mllp: PathologyMllp;
  let patients: TestPatient[];
  before(async () => {
    node = await startTestNode();
    mllp = await startPathologyMllp(node.store, { port: 0, host: '127.0.0.1' });
    patients = await addPatients(node.store, [11, 12, 13, 14, 15, 16]);
  });
  after(async () => {
    await mllp?.close();
    await node?.close();
  });

  it('sign-ins answer throughout and after, and reads served == read audit rows', async () => {
    const clinicianToken = await node.login('clinician');
    const order = await node.fetchAs('clinician', '/api/pathology/requests', { method: 'POST', json: { patientId: patients[0]!.id, tests: ['FBC', 'UE'], urgency: 'routine' } });
    assert.equal(order.status, 201, await order.clone().text());
    const { orderNumber } = (await order.json()) as { orderNumber: string };
    const startedAt = Date.now();
    let bigReportStored = false;
    let signInsAfterBigReport = 0;
    const soaking = () =>
      Date.now() - startedAt < SOAK_HARD_LIMIT_MS &&
      (Date.now() - startedAt < SOAK_MS || !bigReportStored || signInsAfterBigReport < SIGN_INS_AFTER_BIG_REPORT);
    let servedReads = 0;
    let servedSearches = 0;
    let refusedReads = 0;
    const signIns: number[] = [];
    let results = 0;
    let forms = 0;

    const reader = async () => {
      while (soaking()) {
        const p = patients[servedReads % patients.length]!;
        const res = await fetch(`${node.url}/fhir/R4/Patient/${p.id}`, { headers: { authorization: `Bearer ${clinicianToken}` } });
        if (res.status === 200) servedReads++;
        else refusedReads++;
        await res.arrayBuffer();
      }
    };
    const searcher = async () => {
      while (soaking()) {
        const res = await fetch(`${node.url}/fhir/R4/Patient?birthdate=ge1900-01-01&_count=5`, { headers: { authorization: `Bearer ${clinicianToken}` } });
        if (res.status === 200) servedSearches++;
        await res.arrayBuffer();
      }
    };
    const lab = async () => {
      let n = 0;
      // The big report first: 5,000 OBX segments.
      const big = patients[1]!;
      const bigOru = buildBigOru('SOAK-BIG', big, 5000);
      // A generous bound: on a loaded CI machine (load 16 on 2 cores) storing this report took over 30 s.
      // The soak proves sign-in stays live; the speed of intake is the pathology benchmark's business.
      const ack = await sendMllp('127.0.0.1', mllp.port, bigOru, 120_000);
      assert.equal(ack.code, 'AA', ack.text);
      bigReportStored = true;
      results++;
      while (soaking()) {
        const p = patients[n % patients.length]!;
        const oru = buildOru({
          messageId: `SOAK-${n}`, nhsNumber: p.nhsNumber, family: p.family, given: p.given, birthDate: p.birthDate.replace(/-/g, ''),
          filler: `SOAK${n}`, test: ['CRP', 'C-reactive protein'], obx: [{ code: 'CRP', display: 'CRP', value: String(n % 20), units: 'mg/L', range: '0-5' }],
        });
        // A resend of every third message, as a faulty laboratory system sends them.
        const a = await sendMllp('127.0.0.1', mllp.port, oru);
        if (n % 3 === 0) await sendMllp('127.0.0.1', mllp.port, oru);
        assert.equal(a.code, 'AA', a.text);
        results++;
        n++;
      }
    };
    const printer = async () => {
      while (soaking()) {
        const res = await node.fetchAs('receptionist', `/api/pathology/requests/${orderNumber}/form.pdf`);
        assert.equal(res.status, 200);
        await res.arrayBuffer();
        forms++;
      }
    };
    const signer = async () => {
      while (soaking()) {
        const started = performance.now();
        const res = await node.fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'dr.chen', password: TEST_PASSWORD }), signal: AbortSignal.timeout(SIGN_IN_LIVENESS_MS * 4) });
        assert.equal(res.status, 200, await res.clone().text());
        await res.arrayBuffer();
        signIns.push(performance.now() - started);
        if (bigReportStored) signInsAfterBigReport++;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await Promise.all([reader(), reader(), searcher(), lab(), printer(), signer()]);
    await mllp.settled();

    // After the load: sign-in and the audit page answer at once.
    const afterStart = performance.now();
    const afterLogin = await node.fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'pam', password: TEST_PASSWORD }), signal: AbortSignal.timeout(SIGN_IN_LIVENESS_MS * 4) });
    assert.equal(afterLogin.status, 200);
    const auditPage = await node.fetchAs('practice-admin', '/api/audit?limit=5', { signal: AbortSignal.timeout(SIGN_IN_LIVENESS_MS * 4) });
    assert.equal(auditPage.status, 200);
    assert.ok(performance.now() - afterStart < SIGN_IN_LIVENESS_MS, 'sign-in and the audit page answer after the load');

    assert.ok(signIns.length >= 3, `sign-ins were attempted throughout (${signIns.length})`);
    assert.ok(signInsAfterBigReport >= SIGN_INS_AFTER_BIG_REPORT, `sign-ins answered after the 5,000-OBX report (${signInsAfterBigReport})`);
    const slowest = Math.max(...signIns);
    assert.ok(slowest < SIGN_IN_LIVENESS_MS, `slowest sign-in under load took ${Math.round(slowest)} ms`);
    assert.ok(results > 1 && forms > 0 && servedSearches > 0, `the load ran: ${results} results, ${forms} forms, ${servedSearches} searches`);
    assert.equal(refusedReads, 0, 'the audit trail stayed healthy, so no read was refused');

    await node.audit.drain();
    const clinicianId = node.users.clinician.id;
    const reads = await sql<{ n: number }>`select count(*) as n from audit_log where user_id = ${clinicianId} and event = 'read' and resource like 'Patient/%'`.execute(node.store.db);
    assert.equal(Number(reads.rows[0]!.n), servedReads, 'every read served has exactly one audit row');
    const signInRows = await sql<{ n: number }>`select count(*) as n from audit_log where user_id = ${clinicianId} and event = 'login'`.execute(node.store.db);
    assert.ok(Number(signInRows.rows[0]!.n) >= signIns.length, 'every sign-in is audited');
    assert.equal((await node.audit.verify()).ok, true, 'the chain is intact');
    console.log(`# soak: ${servedReads} reads, ${servedSearches} searches, ${results} results (one of 5,000 OBX), ${forms} forms, ${signIns.length} sign-ins (slowest ${Math.round(slowest)} ms)`);
  });
});
