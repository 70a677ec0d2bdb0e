import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNode, postgresAvailable, PG_SKIP_REASON, TEST_PG_URL, type TestNode } from '../testing/harness.ts';
import { HUB_STAFF_PASSWORD, hubStaffToken, dropHubSchema } from '../testing/hub-staff.ts';
import { startHub, type RunningHub } from '../hub/index.ts';
import { HttpTransport } from '../sync/http.ts';
import { SyncClient } from '../sync/client.ts';

const available = await postgresAvailable();
const PRACTICE = 'B82005';
const SECRET_FAMILY = 'Zanzibarova';
const NHS_NUMBER = '9990000018';

describe('hub staff accounts', { skip: available ? false : PG_SKIP_REASON }, () => {
  let hub: RunningHub;
  let node: TestNode;
  let patientId: string;
  let lead: string;
  let desk: string;
  const schema = `hubstaff_${process.pid}_${Date.now().toString(36)}`;

  before(async () => {
    hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0, adminToken: 'admin-secret', signInRateLimit: { max: 10_000, windowMs: 60_000 } });
    node = await startTestNode({ practice: PRACTICE });
    const key = await hub.addNode(PRACTICE, node.store.nodeId);
    // A real patient record at the hub: the thing a hub account must never reach.
    const patient = await node.create('receptionist', {
      resourceType: 'Patient',
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: NHS_NUMBER }],
      name: [{ family: SECRET_FAMILY, given: ['Ada'] }],
      birthDate: '1980-02-03',
    });
    patientId = patient.id;
    await new SyncClient({ store: node.store, peer: 'hub', transport: new HttpTransport(hub.url), key }).exchange();
    lead = await hubStaffToken(hub, 'lena.lead', 'region-lead');
    desk = await hubStaffToken(hub, 'sam.desk', 'service-desk');
  });

  after(async () => {
    await node?.close();
    await hub?.close();
    await dropHubSchema(schema);
  });

  test('the patient record really is at the hub (so the next tests can fail)', async () => {
    const store = await hub.storeFor(PRACTICE);
    const read = await store!.read('Patient', patientId);
    assert.equal((read?.resource as any).name[0].family, SECRET_FAMILY);
  });

  test('a hub account signs in with the node sign-in, must enrol in two-factor first, and is audited', async () => {
    await hub.staff.accounts.addUser({ username: 'new.lead', password: HUB_STAFF_PASSWORD, role: 'region-lead' });
    const login = await fetch(`${hub.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'new.lead', password: HUB_STAFF_PASSWORD }) });
    assert.equal(login.status, 200);
    const { token } = (await login.json()) as { token: string };
    const held = await fetch(`${hub.url}/api/region/practices`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(held.status, 403);
    assert.match(((await held.json()) as any).issue[0].diagnostics, /two-factor/);
    const ok = await fetch(`${hub.url}/api/region/practices`, { headers: { authorization: `Bearer ${lead}` } });
    assert.equal(ok.status, 200);
    const events = await hub.db.selectFrom('audit_log').select(['event', 'user_name', 'outcome']).where('practice', '=', 'HUB').execute();
    assert.ok(events.some((e: any) => e.event === 'login' && e.outcome === 'success'), JSON.stringify(events));
  });

  test('a hub account holds a hub role only: practice roles are refused at the hub', async () => {
    await assert.rejects(hub.staff.accounts.addUser({ username: 'dr.who', password: HUB_STAFF_PASSWORD, role: 'clinician' }), /not a Steadfast role here.*|Use one of: region-lead, service-desk/);
  });

  test('the service desk sees the region figures too', async () => {
    assert.equal((await fetch(`${hub.url}/api/region/practices`, { headers: { authorization: `Bearer ${desk}` } })).status, 200);
  });

  test('hub users never reach patient data by any route the hub serves', async () => {
    const routes = hub.staff.routes();
    const families = new Set(routes.map((r) => r.url.split('/').slice(0, 3).join('/')));
    for (const family of ['/api/sync', '/api/hub', '/api/region', '/api/auth']) assert.ok(families.has(family), `the hub serves ${family}`);
    let tried = 0;
    for (const token of [lead, desk]) {
      for (const route of routes) {
        const url = route.url.replace(':practice', PRACTICE).replace(/:[A-Za-z]+/g, patientId).replace('*', `Patient/${patientId}`);
        const init: RequestInit = { method: route.method, headers: { authorization: `Bearer ${token}`, ...(route.method === 'GET' ? {} : { 'content-type': 'application/json' }) } };
        if (route.method !== 'GET' && route.method !== 'DELETE') init.body = JSON.stringify({ practice: PRACTICE, patientId, id: patientId });
        if (url === '/api/auth/logout') continue; // would end the session the loop uses
        const res = await fetch(`${hub.url}${url}`, init);
        const text = await res.text();
        assert.ok(!text.includes(SECRET_FAMILY) && !text.includes(NHS_NUMBER), `${route.method} ${url} answered ${res.status} with patient data`);
        tried++;
      }
      for (const path of [`/fhir/R4/Patient/${patientId}`, '/fhir/R4/Patient', `/api/patients/${patientId}`, '/api/results']) {
        const res = await fetch(`${hub.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(res.status, 404, `${path} is not served at the hub`);
      }
    }
    assert.ok(tried > 10, `tried ${tried} routes`);
  });
});
