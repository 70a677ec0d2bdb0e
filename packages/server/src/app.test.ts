import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SteadfastError } from '@steadfast/domain';
import { capabilities } from './capabilities.ts';
import { startTestNode, type TestNode } from './testing/harness.ts';

describe('app error handling', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({
      capabilities: [
        ...capabilities,
        {
          name: 'test-failures',
          async routes(app) {
            app.get('/api/test/boom', async () => {
              throw new Error('secret database password is hunter2');
            });
            app.get('/api/test/conflict', async () => {
              throw new SteadfastError('conflict', 'Slot already booked', { field: 'Appointment.slot', hint: 'Pick another slot' });
            });
          },
        },
      ],
    });
  });
  after(() => node.close());

  it('an unexpected error is a 500 OperationOutcome that leaks nothing', async () => {
    const res = await node.fetchAs('clinician', '/api/test/boom');
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.ok(!text.includes('hunter2'));
    assert.equal(JSON.parse(text).resourceType, 'OperationOutcome');
  });

  it('a SteadfastError keeps its status, field and hint', async () => {
    const res = await node.fetchAs('clinician', '/api/test/conflict');
    assert.equal(res.status, 409);
    const oo = (await res.json()) as any;
    assert.deepEqual(oo.issue[0].expression, ['Appointment.slot']);
    assert.match(oo.issue[0].diagnostics, /Pick another slot/);
  });

  it('routes of other capabilities need sign-in by default', async () => {
    assert.equal((await node.fetch('/api/test/conflict')).status, 401);
  });

  it('an unknown route is a 404 OperationOutcome', async () => {
    const res = await node.fetchAs('clinician', '/api/nothing-here');
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as any).resourceType, 'OperationOutcome');
  });

  it('accepts application/json as well as application/fhir+json and answers application/fhir+json', async () => {
    const res = await node.fetchAs('clinician', '/fhir/R4/Practitioner', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceType: 'Practitioner', name: [{ family: 'Okafor' }] }),
    });
    assert.equal(res.status, 201);
    assert.match(res.headers.get('content-type')!, /^application\/fhir\+json/);
  });
});
