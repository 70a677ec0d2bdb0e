import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { postgresAvailable, PG_SKIP_REASON, startTestNode, type TestNode } from '../testing/harness.ts';

const pgOk = await postgresAvailable();

let nhsCounter = 1000;
const nextNhs = () => testNhsNumber(nhsCounter++);
const patient = (nhs = nextNhs(), family = 'Smith', birthDate = '1970-03-04'): Patient => ({
  resourceType: 'Patient',
  identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhs }],
  name: [{ family, given: ['Ann'] }],
  birthDate,
  gender: 'female',
});
const observation = (patientId: string) => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://snomed.info/sct', code: '271649006', display: 'Systolic blood pressure' }] },
  subject: { reference: `Patient/${patientId}` },
  effectiveDateTime: '2024-05-01T10:00:00Z',
  valueQuantity: { value: 130, unit: 'mmHg' },
});

async function logSize(node: TestNode): Promise<number> {
  return (await node.store.changesSince(0, 1_000_000)).length;
}

async function expectOutcome(res: Response, status: number, expression?: RegExp): Promise<OperationOutcome> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.match(res.headers.get('content-type') ?? '', /application\/fhir\+json/);
  const oo = JSON.parse(text) as OperationOutcome;
  assert.equal(oo.resourceType, 'OperationOutcome');
  if (expression) {
    const exprs = (oo.issue ?? []).flatMap((i) => i.expression ?? []);
    assert.ok(exprs.some((e) => expression.test(e)), `expected an issue naming ${expression}, got ${JSON.stringify(oo.issue)}`);
  }
  return oo;
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`FHIR REST (${backend})`, { skip: backend === 'postgres' && !pgOk ? PG_SKIP_REASON : false }, () => {
    let node: TestNode;
    before(async () => {
      node = await startTestNode({ backend, bodyLimit: 256 * 1024 });
    });
    after(() => node?.close());

    it('create, read, vread and history with ETag, Last-Modified and Location', async () => {
      const res = await node.fetchAs('clinician', '/fhir/R4/Patient', { method: 'POST', json: patient() });
      assert.equal(res.status, 201);
      const created = (await res.json()) as Patient;
      const vid = created.meta!.versionId!;
      assert.equal(res.headers.get('etag'), `W/"${vid}"`);
      assert.ok(res.headers.get('last-modified'));
      assert.match(res.headers.get('location')!, new RegExp(`/fhir/R4/Patient/${created.id}/_history/${vid}$`));

      const read = await node.fetchAs('receptionist', `/fhir/R4/Patient/${created.id}`);
      assert.equal(read.status, 200);
      assert.equal(read.headers.get('etag'), `W/"${vid}"`);

      const put = await node.fetchAs('clinician', `/fhir/R4/Patient/${created.id}`, { method: 'PUT', json: { ...created, gender: 'other' }, headers: { 'if-match': `W/"${vid}"` } });
      assert.equal(put.status, 200);
      const v2 = (await put.json()) as Patient;
      assert.notEqual(v2.meta!.versionId, vid);

      const old = await node.fetchAs('clinician', `/fhir/R4/Patient/${created.id}/_history/${vid}`);
      assert.equal(((await old.json()) as Patient).gender, 'female');
      const history = (await (await node.fetchAs('clinician', `/fhir/R4/Patient/${created.id}/_history`)).json()) as Bundle;
      assert.equal(history.type, 'history');
      assert.equal(history.entry?.length, 2);
    });

    it('read of an unknown id is 404, of a deleted one 410', async () => {
      await expectOutcome(await node.fetchAs('clinician', '/fhir/R4/Patient/does-not-exist'), 404);
      const p = await node.create('clinician', patient());
      assert.equal((await node.fetchAs('clinician', `/fhir/R4/Patient/${p.id}`, { method: 'DELETE' })).status, 204);
      await expectOutcome(await node.fetchAs('clinician', `/fhir/R4/Patient/${p.id}`), 410);
    });

    it('a Patient who still has records cannot be deleted (409); their records stay attached', async () => {
      const p = await node.create('clinician', patient());
      await node.create('clinician', observation(p.id) as any);
      const before = await logSize(node);
      const oo = await expectOutcome(await node.fetchAs('clinician', `/fhir/R4/Patient/${p.id}`, { method: 'DELETE' }), 409);
      assert.match(oo.issue![0]!.diagnostics!, /Observation/);
      assert.equal(await logSize(node), before);
    });

    describe('bad input is a 4xx OperationOutcome naming the problem, and nothing is written', () => {
      const cases: Array<{ name: string; path: string; init: () => Promise<RequestInit & { json?: unknown }>; status: number; expr?: RegExp }> = [
        { name: 'invalid NHS number', path: '/fhir/R4/Patient', init: async () => ({ method: 'POST', json: patient('9991234567') }), status: 400, expr: /Patient\.identifier\[0\]\.value/ },
        {
          name: 'malformed JSON',
          path: '/fhir/R4/Patient',
          init: async () => ({ method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: '{"resourceType": "Patient", "name": [' }),
          status: 400,
        },
        { name: 'unknown resource type in the URL', path: '/fhir/R4/Spaceship', init: async () => ({ method: 'POST', json: { resourceType: 'Spaceship' } }), status: 404, expr: /resourceType/ },
        { name: 'body type differs from the URL', path: '/fhir/R4/Patient', init: async () => ({ method: 'POST', json: { resourceType: 'Practitioner' } }), status: 400, expr: /resourceType/ },
        { name: 'missing required field (Observation.code)', path: '/fhir/R4/Observation', init: async () => ({ method: 'POST', json: { resourceType: 'Observation', status: 'final' } }), status: 400, expr: /code/ },
        { name: 'Patient without a family name', path: '/fhir/R4/Patient', init: async () => ({ method: 'POST', json: { resourceType: 'Patient', name: [{ given: ['X'] }] } }), status: 400, expr: /Patient\.name/ },
        { name: 'reference to a Patient that does not exist', path: '/fhir/R4/Observation', init: async () => ({ method: 'POST', json: observation('no-such-patient') }), status: 400, expr: /Observation\.subject/ },
        {
          name: 'oversized body',
          path: '/fhir/R4/Patient',
          init: async () => ({ method: 'POST', json: { ...patient(), text: { status: 'generated', div: `<div>${'x'.repeat(300 * 1024)}</div>` } } }),
          status: 413,
        },
        { name: 'wrong element type', path: '/fhir/R4/Patient', init: async () => ({ method: 'POST', json: { ...patient(), birthDate: 12 } }), status: 400, expr: /birthDate/ },
      ];
      for (const c of cases) {
        it(c.name, async () => {
          const before = await logSize(node);
          await expectOutcome(await node.fetchAs('clinician', c.path, await c.init()), c.status, c.expr);
          assert.equal(await logSize(node), before, 'nothing written');
        });
      }

      it('unknown search parameter is 400 naming it and listing the valid ones', async () => {
        const oo = await expectOutcome(await node.fetchAs('clinician', '/fhir/R4/Patient?nickname=bob'), 400, /nickname/);
        assert.match(oo.issue![0]!.diagnostics!, /birthdate/);
        assert.match(oo.issue![0]!.diagnostics!, /address-postalcode/);
      });

      it('a bad date and a bad _count are 400', async () => {
        await expectOutcome(await node.fetchAs('clinician', '/fhir/R4/Patient?birthdate=yesterday'), 400);
        await expectOutcome(await node.fetchAs('clinician', '/fhir/R4/Patient?_count=5000'), 400, /_count/);
      });
    });

    it('If-Match with a stale version is 412 and writes nothing', async () => {
      const p = await node.create('clinician', patient());
      const ok = await node.fetchAs('clinician', `/fhir/R4/Patient/${p.id}`, { method: 'PUT', json: { ...p, gender: 'male' }, headers: { 'if-match': `W/"${p.meta!.versionId}"` } });
      assert.equal(ok.status, 200);
      const before = await logSize(node);
      await expectOutcome(
        await node.fetchAs('clinician', `/fhir/R4/Patient/${p.id}`, { method: 'PUT', json: { ...p, gender: 'other' }, headers: { 'if-match': `W/"${p.meta!.versionId}"` } }),
        412,
      );
      assert.equal(await logSize(node), before);
      const now = (await (await node.fetchAs('clinician', `/fhir/R4/Patient/${p.id}`)).json()) as Patient;
      assert.equal(now.gender, 'male', 'the later change is kept');
    });

    it('an update based on an old version without If-Match is 409, not a lost write', async () => {
      const p = await node.create('clinician', patient());
      const first = (await (await node.fetchAs('clinician', `/fhir/R4/Patient/${p.id}`, { method: 'PUT', json: { ...p, gender: 'male' } })).json()) as Patient;
      assert.equal(first.gender, 'male');
      await expectOutcome(await node.fetchAs('clinician', `/fhir/R4/Patient/${p.id}`, { method: 'PUT', json: { ...p, gender: 'other' } }), 409, /meta\.versionId/);
    });

    it('a Patient whose NHS number exists is not duplicated: same details → 200 with the existing one; clashing details → 409', async () => {
      const nhs = nextNhs();
      const first = await node.create('receptionist', patient(nhs, 'Jones', '1980-01-01'));
      const before = await logSize(node);
      const again = await node.fetchAs('receptionist', '/fhir/R4/Patient', { method: 'POST', json: patient(nhs, 'Jones', '1980-01-01') });
      assert.equal(again.status, 200);
      assert.equal(((await again.json()) as Patient).id, first.id);
      await expectOutcome(await node.fetchAs('receptionist', '/fhir/R4/Patient', { method: 'POST', json: patient(nhs, 'Brown', '1990-02-02') }), 409, /Patient\.identifier/);
      assert.equal(await logSize(node), before);
      const found = (await (await node.fetchAs('receptionist', `/fhir/R4/Patient?identifier=${NHS_NUMBER_SYSTEM}|${nhs}&_total=accurate`)).json()) as Bundle;
      assert.equal(found.total, 1);
    });

    it('updating a Patient to an NHS number another Patient has is 409', async () => {
      const a = await node.create('clinician', patient());
      const b = await node.create('clinician', patient());
      await expectOutcome(await node.fetchAs('clinician', `/fhir/R4/Patient/${b.id}`, { method: 'PUT', json: { ...b, identifier: a.identifier } }), 409, /identifier/);
    });

    it('conditional create with If-None-Exist returns the existing resource', async () => {
      const p = await node.create('clinician', patient());
      const practitioner = { resourceType: 'Practitioner', identifier: [{ system: 'https://fhir.hl7.org.uk/Id/gmc-number', value: 'G1234567' }], name: [{ family: 'Patel' }] };
      const headers = { 'if-none-exist': 'identifier=https://fhir.hl7.org.uk/Id/gmc-number|G1234567' };
      const one = await node.fetchAs('clinician', '/fhir/R4/Practitioner', { method: 'POST', json: practitioner, headers });
      assert.equal(one.status, 201);
      const two = await node.fetchAs('clinician', '/fhir/R4/Practitioner', { method: 'POST', json: practitioner, headers });
      assert.equal(two.status, 200);
      assert.equal(((await two.json()) as { id: string }).id, ((await one.json()) as { id: string }).id);
      await expectOutcome(await node.fetchAs('clinician', '/fhir/R4/Practitioner', { method: 'POST', json: practitioner, headers: { 'if-none-exist': 'name=Patel' } }), 400, /If-None-Exist/);
      void p;
    });

    it('transaction Bundle: urn:uuid references are rewritten and everything is written', async () => {
      const bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          // The Observation comes first and refers forward to the Patient.
          { fullUrl: 'urn:uuid:obs-1', resource: { ...observation('x'), subject: { reference: 'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a' } }, request: { method: 'POST', url: 'Observation' } },
          { fullUrl: 'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a', resource: patient(), request: { method: 'POST', url: 'Patient' } },
        ],
      };
      const res = await node.fetchAs('clinician', '/fhir/R4', { method: 'POST', json: bundle });
      const body = (await res.json()) as Bundle;
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.type, 'transaction-response');
      const [obsEntry, patEntry] = body.entry!;
      assert.equal(obsEntry!.response!.status, '201 Created');
      const patientId = patEntry!.resource!.id;
      assert.equal((obsEntry!.resource as any).subject.reference, `Patient/${patientId}`);
      const search = (await (await node.fetchAs('clinician', `/fhir/R4/Observation?patient=${patientId}`)).json()) as Bundle;
      assert.equal(search.entry?.length, 1);
    });

    it('transaction Bundle is all or nothing: one bad entry writes nothing', async () => {
      const before = await logSize(node);
      const bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: 'urn:uuid:6b0e7a3c-1d1e-4b52-9d3c-4a8b2f6d9e01', resource: patient(), request: { method: 'POST', url: 'Patient' } },
          { resource: observation('no-such-patient'), request: { method: 'POST', url: 'Observation' } },
        ],
      };
      const oo = await expectOutcome(await node.fetchAs('clinician', '/fhir/R4', { method: 'POST', json: bundle }), 400, /Bundle\.entry\[1\]/);
      assert.match(oo.issue![0]!.diagnostics!, /does not exist/);
      assert.equal(await logSize(node), before);
      const invalid = { ...bundle, entry: [bundle.entry[0], { resource: patient('9991234567'), request: { method: 'POST', url: 'Patient' } }] };
      await expectOutcome(await node.fetchAs('clinician', '/fhir/R4', { method: 'POST', json: invalid }), 400, /Bundle\.entry\[1\]/);
      assert.equal(await logSize(node), before);
    });

    it('batch Bundle: each entry succeeds or fails on its own', async () => {
      const bundle = {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { resource: patient(), request: { method: 'POST', url: 'Patient' } },
          { resource: patient('9991234567'), request: { method: 'POST', url: 'Patient' } },
        ],
      };
      const res = await node.fetchAs('clinician', '/fhir/R4', { method: 'POST', json: bundle });
      assert.equal(res.status, 200);
      const body = (await res.json()) as Bundle;
      assert.equal(body.type, 'batch-response');
      assert.equal(body.entry![0]!.response!.status, '201 Created');
      assert.equal(body.entry![1]!.response!.status, '400');
      const oo = body.entry![1]!.response!.outcome as OperationOutcome;
      assert.ok(oo.issue!.some((i) => (i.expression ?? []).some((e) => e.startsWith('Bundle.entry[1]'))), JSON.stringify(oo));
    });

    it('a receptionist cannot slip a clinical resource in through a transaction', async () => {
      const before = await logSize(node);
      const p = patient();
      const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: p, request: { method: 'POST', url: 'Patient' } }, { resource: observation('x'), request: { method: 'POST', url: 'Observation' } }] };
      await expectOutcome(await node.fetchAs('receptionist', '/fhir/R4', { method: 'POST', json: bundle }), 403);
      assert.equal(await logSize(node), before);
    });

    it('search pages with next links until the end, without repeats', async () => {
      const family = `Pagetest${backend}`;
      for (let i = 0; i < 7; i++) await node.create('clinician', patient(nextNhs(), family, `1950-01-0${i + 1}`));
      const seen: string[] = [];
      let url: string | undefined = `/fhir/R4/Patient?family=${family}&_count=3&_total=accurate&_sort=birthdate`;
      let pages = 0;
      while (url) {
        const bundle = (await (await node.fetchAs('receptionist', url)).json()) as Bundle;
        assert.equal(bundle.type, 'searchset');
        assert.equal(bundle.total, 7);
        assert.ok(bundle.link?.some((l) => l.relation === 'self'));
        seen.push(...(bundle.entry ?? []).map((e) => (e.resource as Patient).birthDate!));
        const next = bundle.link?.find((l) => l.relation === 'next')?.url;
        url = next ? next.slice(node.url.length) : undefined;
        pages += 1;
      }
      assert.equal(pages, 3);
      assert.deepEqual(seen, [...seen].sort());
      assert.equal(new Set(seen).size, 7);
    });

    it('search finds patients by name prefix, birth date, postcode-free NHS number; clinical resources by patient', async () => {
      const nhs = nextNhs();
      const p = await node.create('clinician', patient(nhs, 'Featherstonehaugh', '1966-06-16'));
      const byName = (await (await node.fetchAs('receptionist', '/fhir/R4/Patient?family=feather&birthdate=1966-06-16')).json()) as Bundle;
      assert.deepEqual(byName.entry?.map((e) => e.resource!.id), [p.id]);
      const byNhs = (await (await node.fetchAs('receptionist', `/fhir/R4/Patient?identifier=${nhs}`)).json()) as Bundle;
      assert.deepEqual(byNhs.entry?.map((e) => e.resource!.id), [p.id]);
      await node.create('clinician', observation(p.id) as any);
      const obs = (await (await node.fetchAs('clinician', `/fhir/R4/Observation?patient=Patient/${p.id}&date=ge2024-01-01`)).json()) as Bundle;
      assert.equal(obs.entry?.length, 1);
    });

    it('every read and search of a patient is audited with the patient, user and workstation', async () => {
      const p = await node.create('clinician', patient());
      await node.fetchAs('receptionist', `/fhir/R4/Patient/${p.id}`);
      await node.fetchAs('receptionist', `/fhir/R4/Patient?identifier=${p.identifier![0]!.value}`);
      const entries = await node.audit.list({ patient: `Patient/${p.id}` });
      const events = entries.map((e) => `${e.event}:${e.userRole}`).reverse();
      assert.deepEqual(events, ['create:clinician', 'read:receptionist', 'search:receptionist']);
      assert.ok(entries.every((e) => e.workstation.startsWith('test-')));
      const fhir = (await (await node.fetchAs('practice-admin', `/fhir/R4/AuditEvent?patient=${p.id}`)).json()) as Bundle;
      assert.equal(fhir.entry?.length, 3);
      assert.equal(fhir.entry![0]!.resource!.resourceType, 'AuditEvent');
      const byAgent = (await (await node.fetchAs('practice-admin', `/fhir/R4/AuditEvent?agent=${node.users.receptionist.username}&_count=1000`)).json()) as Bundle;
      assert.ok((byAgent.entry?.length ?? 0) >= 2);
      assert.equal((await node.fetchAs('clinician', `/fhir/R4/AuditEvent?patient=${p.id}`)).status, 403);
      assert.ok((await node.audit.verify()).ok);
    });

    it('the CapabilityStatement lists every type and its search parameters', async () => {
      const cs = (await (await node.fetch('/fhir/R4/metadata')).json()) as any;
      const patientRes = cs.rest[0].resource.find((r: any) => r.type === 'Patient');
      assert.ok(patientRes.searchParam.some((s: any) => s.name === 'address-postalcode'));
      assert.ok(cs.rest[0].resource.some((r: any) => r.type === 'QuestionnaireResponse'));
    });
  });
}
