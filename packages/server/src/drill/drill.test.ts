/**
 * Real-process tests of sync under failure: separate hub and node processes on loopback, PostgreSQL
 * for the hub (required under CI=true, skipped with one line otherwise).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import pg from 'pg';
import { postgresAvailable, PG_SKIP_REASON, TEST_PG_URL } from '../testing/harness.ts';
import { runDrill, waitConverged } from './drill.ts';
import { DrillCluster, DRILL_PASSWORD, DRILL_USERS } from './processes.ts';
import { Random } from '@steadfast/domain/random';
import { readHubEntries, verify } from './verify.ts';
import { ApiError, Ledger, PracticeWorkload, StaffClient } from './workload.ts';
import { DRILL_IDENTIFIER_SYSTEM } from '@steadfast/domain/systems';

const available = await postgresAvailable();
const quiet = process.env.STEADFAST_DRILL_VERBOSE ? (l: string) => console.log(l) : () => undefined;

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

describe('outage drill (hub and nodes as real processes)', { skip: available ? false : PG_SKIP_REASON }, () => {
  test('2 practices, 2 days: every acknowledged write reaches the hub once, replicas converge, every fork gets a review Task, nothing left behind', async () => {
    const result = await runDrill({ days: 2, practices: 2, seed: 'drill-test', pgUrl: TEST_PG_URL, log: quiet });
    const v = result.verdict;
    assert.ok(v.written > 20, `the workload wrote only ${v.written} records`);
    assert.deepEqual(v.lost, [], 'acknowledged writes missing at the hub');
    assert.equal(v.atHub, v.written);
    assert.deepEqual(v.duplicated, []);
    assert.notEqual(result.convergedSeconds, null, 'the region did not converge');
    // The first practice has two nodes that both edit one medication/allergy during the outage.
    assert.ok(result.forks.length >= 1, 'the workload made no concurrent edit during the outage');
    assert.deepEqual(v.unreviewedForks, []);
    assert.ok(result.doubleBookings.length >= 1, 'no slot was booked at both nodes during the outage');
    assert.deepEqual(v.unflaggedDoubleBookings, []);
    assert.ok(v.conflicts.review >= 1);
    // Online consultations: taken at the node, the hub and both during the cut; each in triage once, closed once.
    const oc = result.consultations!;
    assert.ok(oc.byVia.node >= 1 && oc.byVia.hub + oc.byVia.both >= 1, JSON.stringify(oc));
    assert.equal(oc.triaged, oc.acknowledged);
    // Letters taken in at each practice during the cut (some filed then): each once at the hub with
    // its bytes, and the documents backlog the hub heard equals the practice's (documents.test.ts
    // proves this check fails on a missing or duplicated letter).
    const letters = result.letters!;
    assert.ok(letters.taken >= 8 && letters.filedInCut >= 4, JSON.stringify(letters));
    assert.deepEqual([letters.missing, letters.duplicated, letters.notFiled, letters.bytes, letters.backlog], [[], [], [], [], []]);
    assert.equal(letters.atHub, letters.taken);
    assert.ok(result.messages.queued >= 6, `the practices texted only ${result.messages.queued} times while Notify was cut`);
    assert.deepEqual(result.messages.missing, [], 'texts queued in the outage never reached Notify');
    assert.deepEqual(result.messages.duplicated, [], 'texts reached Notify twice');
    assert.equal(result.messages.delivered, result.messages.queued);
    // The region's view: unreachable with the last known backlog during the cut, the hub's backlog the
    // practices' own after, a curve up and down, and the incident's timeline whole (drill/region.ts).
    const region = result.region!;
    assert.deepEqual(region.failures, []);
    assert.deepEqual(Object.keys(region.curves).sort(), ['D80001', 'D80002']);
    for (const [p, c] of Object.entries(region.curves)) assert.ok(c.peak > c.before && c.last < c.peak, `${p}: ${JSON.stringify(c)}`);
    assert.ok(region.incidentId);
    assert.equal(result.ok, true, result.failures.join('; '));
    assert.match(result.summary, /^drill: written \d+, at hub \d+, lost 0, duplicated 0, conflicts \d+, converged in \d+\.\d s$/);
    assert.equal(existsSync(result.tempDir), false, 'temp data left behind');
    assert.equal(await databaseExists(result.databaseName), false, 'drill database left behind');
  });
});

describe('kill -9 of a practice node while it syncs (real processes)', { skip: available ? false : PG_SKIP_REASON }, () => {
  test('killed at seeded random points mid-exchange and restarted (then the hub too): nothing acknowledged is lost or duplicated, and it converges', async () => {
    const seed = 'kill-test';
    const practice = 'D89001';
    const cluster = await DrillCluster.start({ practices: [practice], nodesPerPractice: () => 1, pgUrl: TEST_PG_URL, seed, log: quiet });
    try {
      const node = cluster.nodes[0]!;
      const ledger = new Ledger();
      const workload = new PracticeWorkload({
        practice,
        practiceNumber: 7,
        nodes: [{ practice, index: 0, url: () => node.process.url }],
        seed,
        ledger,
        users: { clinician: DRILL_USERS.clinician, receptionist: DRILL_USERS.receptionist, password: DRILL_PASSWORD },
      });
      await workload.setup();
      // A backlog built while the hub is out of reach...
      await cluster.proxy.setMode('down');
      await workload.day(1);
      await workload.day(2);
      // ...then a slow network, so each exchange lasts long enough to be killed in the middle of.
      cluster.proxy.delayMs = [5, 40];
      await cluster.proxy.setMode('delay');

      const random = Random.for(seed, 'kills');
      const writer = new StaffClient(() => node.process.url, DRILL_USERS.clinician, DRILL_PASSWORD);
      const { body: anyPatient } = await writer.call<{ entry: Array<{ resource: { id: string } }> }>('GET', '/fhir/R4/Patient?_count=1');
      const patientId = anyPatient.entry[0]!.resource.id;
      let next = 0;
      const unacknowledged: string[] = [];
      /** Write messages one after another until one fails (the node was killed); failed keys are retried later. */
      const writeMessages = async (keys: string[]) => {
        for (const [i, key] of keys.entries()) {
          try {
            const { body } = await writer.call<{ id: string; meta: { versionId: string } }>(
              'POST',
              '/fhir/R4/Communication',
              { resourceType: 'Communication', identifier: [{ system: DRILL_IDENTIFIER_SYSTEM, value: key }], status: 'completed', subject: { reference: `Patient/${patientId}` }, payload: [{ contentString: `message ${key}` }] },
              { 'if-none-exist': `identifier=${DRILL_IDENTIFIER_SYSTEM}|${key}` },
            );
            ledger.record({ practice, node: 0, day: 3, action: 'message', resourceType: 'Communication', id: body.id, versionId: body.meta.versionId, key });
          } catch (err) {
            if (err instanceof ApiError) throw err; // an answer that is not 2xx is a real failure
            // The node died under the request: unknown whether it committed. Retry it and the rest later.
            unacknowledged.push(...keys.slice(i));
            return;
          }
        }
      };

      const KILLS = 4;
      let midExchange = 0;
      // KILLS kills of the node, then one of the hub, each while the node is exchanging with the hub.
      for (let k = 0; k <= KILLS; k++) {
        const exchanging = once(cluster.proxy, 'connection', { signal: AbortSignal.timeout(60_000) });
        if (!node.process.running) await cluster.startNode(node);
        // Retry what the last kill left unacknowledged: a conditional create, so never a second copy.
        const retry = unacknowledged.splice(0);
        const batch = [...retry, ...Array.from({ length: 15 }, () => `${seed}/${practice}/msg/${next++}`)];
        const writing = writeMessages(batch);
        await exchanging; // the restarted node has opened a connection to the hub: it is syncing
        await new Promise((r) => setTimeout(r, random.int(0, 250)));
        if (cluster.proxy.openConnections > 0) midExchange++;
        if (k < KILLS) {
          await node.process.kill9();
          await writing;
        } else {
          await cluster.killHub();
          await writing;
          await cluster.restartHub();
        }
      }
      quiet(`${KILLS + 1} kills, ${midExchange} with an exchange open; ${unacknowledged.length} writes unacknowledged at the end`);
      if (!node.process.running) await cluster.startNode(node);
      await writeMessages(unacknowledged.splice(0));
      await cluster.proxy.setMode('pass');

      const views = [{ node, staff: writer }];
      const converged = await waitConverged(cluster, views, [practice], Date.now(), 120_000, quiet);
      assert.notEqual(converged, null, 'the node and the hub did not converge after the kills');
      const verdict = verify(ledger.entries, await readHubEntries(cluster.database!.url, [practice]), []);
      assert.deepEqual(verdict.lost, [], 'acknowledged writes missing at the hub');
      assert.deepEqual(verdict.duplicated, []);
      assert.equal(verdict.atHub, ledger.entries.length);
      assert.ok(ledger.entries.filter((e) => e.action === 'message').length >= KILLS, 'too few writes acknowledged around the kills');
      assert.equal(node.process.starts, KILLS + 1);
      assert.equal(cluster.hub.starts, 2);
    } finally {
      await cluster.close();
    }
  });
});
