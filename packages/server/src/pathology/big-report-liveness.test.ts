/**
 * Regression (soak test, load 38 on 2 cores: one sign-in took 46 s): a 5,000-OBX report blocked
 * sign-in while it was filed. Filing validated its 5,000 Observations inside the filing transaction,
 * synchronously (better-sqlite3 never gives way inside a transaction), so the node's event loop and
 * its one database connection were held for the whole filing. Not a speed target: the assertions are
 * on what happens while the report is filed, relative to that filing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DiagnosticReport } from '@medplum/fhirtypes';
import { startTestNode, TEST_PASSWORD, type TestNode } from '../testing/harness.ts';
import { startPathologyMllp, type PathologyMllp } from './routes.ts';
import { sendMllp } from './mllp-client.ts';
import { buildBigOru } from '../testing/hl7-fixtures.ts';
import { addPatients, type TestPatient } from '../testing/pathology-store.ts';

const OBX = 5000;
/** A timer this often: a gap between its ticks much longer than this is the event loop blocked. */
const TICK_MS = 5;

describe('pathology: a big report is filed without locking staff out', () => {
  let node: TestNode;
  let mllp: PathologyMllp;
  let patient: TestPatient;
  before(async () => {
    node = await startTestNode();
    mllp = await startPathologyMllp(node.store, { port: 0, host: '127.0.0.1' });
    patient = (await addPatients(node.store, [21]))[0]!;
  });
  after(async () => {
    await mllp?.close();
    await node?.close();
  });

  it('regression: a 5,000-OBX report blocked sign-in while it was filed', async () => {
    const signIn = async () => {
      const res = await node.fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'dr.chen', password: TEST_PASSWORD }) });
      assert.equal(res.status, 200, await res.clone().text());
      await res.arrayBuffer();
    };
    await signIn(); // warm: the first sign-in loads what every later one reuses

    const oru = buildBigOru('BIG-LIVE', patient, OBX);

    // The longest the event loop went without running a timer, from sending the report to its filing.
    let longestBlock = 0;
    let lastTick = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longestBlock = Math.max(longestBlock, now - lastTick - TICK_MS);
      lastTick = now;
    }, TICK_MS);

    const sentAt = performance.now();
    let filedAt = Infinity;
    const signedInAt: number[] = [];
    let filing = true;
    const signer = (async () => {
      while (filing) {
        await signIn();
        signedInAt.push(performance.now());
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      const ack = await sendMllp('127.0.0.1', mllp.port, oru, 600_000);
      assert.equal(ack.code, 'AA', ack.text);
      await mllp.settled();
      filedAt = performance.now();
    } finally {
      filing = false;
      clearInterval(ticker);
      await signer;
    }
    const filingMs = filedAt - sentAt;
    const duringFiling = signedInAt.filter((t) => t < filedAt).length;

    // Filed whole: the report, every one of its results, the inbox row settled.
    const row = (await node.store.db.selectFrom('pathology_inbox' as never).select(['state', 'reason'] as never).where('message_id' as never, '=', 'BIG-LIVE' as never).executeTakeFirstOrThrow()) as { state: string; reason: string };
    assert.equal(row.state, 'filed', row.reason);
    const reports = await node.store.search({ resourceType: 'DiagnosticReport', params: [{ name: 'patient', values: [`Patient/${patient.id}`] }], count: 5, offset: 0 });
    assert.equal(reports.resources.length, 1);
    assert.equal((reports.resources[0] as DiagnosticReport).result?.length, OBX);
    const observations = await node.store.search({ resourceType: 'Observation', params: [{ name: 'patient', values: [`Patient/${patient.id}`] }], count: 1, offset: 0, total: true });
    assert.equal(observations.total, OBX);

    const summary = `filing took ${Math.round(filingMs)} ms; the event loop was blocked for up to ${Math.round(longestBlock)} ms; ${duringFiling} sign-in(s) answered before it was filed`;
    console.log(`# ${summary}`);
    // Before the fix the loop was blocked for the whole filing (about 99% of it) and no sign-in answered until it was filed.
    assert.ok(duringFiling >= 3, `sign-ins answer while a big report is being filed (${summary})`);
    assert.ok(longestBlock < filingMs / 2, `no single block of the event loop takes most of the filing (${summary})`);
  });
});
