import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import { newNodeKey } from './protocol.ts';
import { registerPeer } from './receiver.ts';
import { syncClientOf } from './index.ts';

const PRACTICE = 'B82005';

describe('standby node: a second machine of one practice replicates with the primary', () => {
  let primary: TestNode;
  let standby: TestNode;
  let primaryClosed = false;

  before(async () => {
    primary = await startTestNode({ practice: PRACTICE });
    const key = newNodeKey();
    // The standby's upstream is the primary (configured like a hub, through the environment here).
    process.env.STEADFAST_SYNC_URL = primary.url;
    process.env.STEADFAST_SYNC_KEY = key;
    try {
      standby = await startTestNode({ practice: PRACTICE });
    } finally {
      delete process.env.STEADFAST_SYNC_URL;
      delete process.env.STEADFAST_SYNC_KEY;
    }
    await registerPeer(primary.store.db, { practice: PRACTICE, nodeId: standby.store.nodeId, key });
  });

  after(async () => {
    await standby?.close();
    if (!primaryClosed) await primary?.close();
  });

  test('writes on either machine reach the other, and the status says connected only after an exchange', async () => {
    const client = syncClientOf(standby.store);
    assert.ok(client, 'the standby started a sync client from its configuration');
    const atStandby = await standby.create('receptionist', { resourceType: 'Patient', name: [{ family: 'Standby' }], birthDate: '1990-01-01' });
    const atPrimary = await primary.create('receptionist', { resourceType: 'Patient', name: [{ family: 'Primary' }], birthDate: '1991-01-01' });
    await client.exchange();
    assert.equal((await primary.fetchAs('receptionist', `/fhir/R4/Patient/${atStandby.id}`)).status, 200);
    assert.equal((await standby.fetchAs('receptionist', `/fhir/R4/Patient/${atPrimary.id}`)).status, 200);

    const status = (await (await standby.fetchAs('receptionist', '/api/sync/status')).json()) as any;
    assert.equal(status.configured, true);
    assert.equal(status.reachable, true);
    assert.equal(status.waitingToPush, 0);
    const bar = (await (await standby.fetchAs('receptionist', '/api/status')).json()) as any;
    assert.equal(bar.services.find((s: any) => s.name === 'hub').state, 'connected');
  });

  test('when the primary is lost, the standby holds every acknowledged write and shows disconnected', async () => {
    const client = syncClientOf(standby.store)!;
    const late = await primary.create('clinician', { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' } } as any);
    await client.exchange();
    await primary.close();
    primaryClosed = true;
    await assert.rejects(client.exchange());
    assert.equal((await standby.fetchAs('clinician', `/fhir/R4/Encounter/${late.id}`)).status, 200);
    const status = (await (await standby.fetchAs('receptionist', '/api/sync/status')).json()) as any;
    assert.equal(status.reachable, false);
    assert.equal(status.state, 'disconnected');
    const bar = (await (await standby.fetchAs('receptionist', '/api/status')).json()) as any;
    assert.equal(bar.services.find((s: any) => s.name === 'hub').state, 'disconnected');
  });

  test('GET /api/sync/status needs a signed-in user', async () => {
    assert.equal((await standby.fetch('/api/sync/status')).status, 401);
  });
});
