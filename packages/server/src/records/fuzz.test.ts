/**
 * Property-based tests of the FHIR API (fast-check) through real HTTP on a real SQLite node: request
 * bodies for create, update and transaction (arbitrary JSON, and valid resources with random edits)
 * and search parameters. Whatever arrives, the answer is never a 5xx, a refusal is an
 * OperationOutcome, and a refused request leaves the change log exactly as it was.
 *
 * The run is bounded and deterministic (fixed seed). To replay or explore: FUZZ_SEED=<n> FUZZ_RUNS=<n>.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, searchParameters, testNhsNumber } from '@steadfast/domain';
import { startTestNode, type TestNode } from '../testing/harness.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20250609);
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

type Json = unknown;

/** Strings that are nearly dates: real, impossible (month 13, 30 February), partial, with times and zones. */
const nearDate = fc
  .tuple(fc.integer({ min: 0, max: 2999 }), fc.integer({ min: 0, max: 14 }), fc.integer({ min: 0, max: 33 }), fc.constantFrom('', 'T10:00:00Z', 'T24:00:00Z', 'T10:61', 'T10:00:00+15:00', 'T23:59:60Z'), fc.integer({ min: 0, max: 3 }))
  .map(([y, m, d, t, precision]) => {
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    return precision === 0 ? p(y, 4) : precision === 1 ? `${p(y, 4)}-${p(m)}` : `${p(y, 4)}-${p(m)}-${p(d)}${precision === 3 ? t : ''}`;
  });
const nearCode = fc.constantFrom('final', 'bogus', '', 'FINAL', 'female', 'banana', 'unknown', 'entered-in-error', ' final');
const nearReference = fc.oneof(
  fc.constantFrom('Patient/PATIENT', 'Observation/x', 'Patient/', 'Patient/a b', 'urn:uuid:e1', 'urn:uuid:nope', '#c', 'http://x/fhir/Group/1', 'Patient'),
  fc.string(),
);
const leaf: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(null, 0, '', [], {}, [null], 'POST', 'PUT', 'DELETE', 'GET', 'Patient', 'Patient/x', 'transaction', 'batch'),
  nearDate,
  nearCode,
  nearReference.map((reference) => ({ reference })),
);

/** A path into a resource: a key (existing or new) or an array index at each step. */
const editPath = fc.array(fc.oneof(fc.constantFrom('status', 'gender', 'birthDate', 'subject', 'reference', 'code', 'coding', 'system', 'name', 'identifier', 'value', 'effectiveDateTime', 'resourceType', 'id', 'meta', 'period', 'start', 'end', 'deceasedDateTime', 'telecom', 'use', 'entry', 'request', 'method', 'url', 'fullUrl', 'type', 'resource', 'ifMatch', 'ifNoneExist'), fc.nat(2)), { minLength: 1, maxLength: 4 });
type Edit = { path: Array<string | number>; value: Json; remove: boolean };
const edit: fc.Arbitrary<Edit> = fc.record({ path: editPath, value: leaf, remove: fc.boolean() });
/** Edits of a Bundle: of its shape (entry, entry[i], request, method, url) as often as of a resource inside it. */
const bundleEdit: fc.Arbitrary<Edit> = fc
  .tuple(
    fc.constantFrom<Array<string | number>>(['entry'], ['entry', 0], ['entry', 1], ['entry', 0, 'request'], ['entry', 0, 'request', 'method'], ['entry', 0, 'request', 'url'], ['entry', 1, 'fullUrl'], ['type'], ['entry', 0, 'resource'], ['entry', 1, 'resource']),
    fc.oneof(fc.constant([]), editPath),
    leaf,
    fc.boolean(),
  )
  .map(([prefix, rest, value, remove]) => ({ path: [...prefix, ...rest], value, remove }));

function applyEdits(base: Json, edits: Edit[]): Json {
  const copy = structuredClone(base) as Record<string | number, any>;
  for (const e of edits) {
    let at: any = copy;
    for (const key of e.path.slice(0, -1)) {
      if (at[key] === null || typeof at[key] !== 'object') at[key] = typeof key === 'number' ? [] : {};
      at = at[key];
    }
    const last = e.path.at(-1)!;
    if (e.remove) delete at[last];
    else at[last] = e.value;
  }
  return copy;
}

describe('fuzz: the FHIR API never answers 5xx and never half-writes', () => {
  let node: TestNode;
  let patientId: string;
  let nhs = 6000;
  const patient = () => ({ resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(nhs++) }], name: [{ family: 'Fuzz', given: ['Ann'] }], birthDate: '1970-03-04', gender: 'female' });
  const observation = () => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://snomed.info/sct', code: '271649006' }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: '2024-05-01T10:00:00Z',
    valueQuantity: { value: 130, unit: 'mmHg' },
  });
  const condition = () => ({
    resourceType: 'Condition',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { text: 'Asthma' },
    subject: { reference: `Patient/${patientId}` },
    onsetDateTime: '2001',
  });
  /** With PATIENT replaced by the real id, so edits can produce valid references too. */
  const withIds = (v: Json): Json => JSON.parse(JSON.stringify(v).replaceAll('Patient/PATIENT', `Patient/${patientId}`));

  before(async () => {
    node = await startTestNode();
    patientId = (await node.create('clinician', patient() as Patient)).id;
  });
  after(() => node?.close());

  const logSize = async () => (await node.store.changesSince(0, 1_000_000)).length;

  /** Send one request; check no 5xx, a refusal is an OperationOutcome, and a refusal wrote nothing. */
  async function check(method: string, path: string, body: Json | undefined, raw = false): Promise<{ status: number; text: string }> {
    const before = await logSize();
    const init: RequestInit & { json?: unknown } = { method };
    if (body !== undefined) {
      if (raw) Object.assign(init, { body: String(body), headers: { 'content-type': 'application/fhir+json' } });
      else init.json = body;
    }
    const res = await node.fetchAs('clinician', path, init);
    const text = await res.text();
    assert.ok(res.status < 500, `${method} ${path} answered ${res.status}: ${text.slice(0, 500)}\nbody: ${JSON.stringify(body)?.slice(0, 1000)}`);
    if (res.status >= 400) {
      assert.equal(JSON.parse(text).resourceType, 'OperationOutcome', text.slice(0, 300));
      assert.equal(await logSize(), before, `${method} ${path} was refused (${res.status}) but changed the log: ${text.slice(0, 300)}`);
    }
    return { status: res.status, text };
  }

  /** fast-check with the fixed seed; on failure the seed and the shrunk case are printed. */
  async function run<T>(name: string, arb: fc.Arbitrary<T>, predicate: (t: T) => Promise<void>, runs = RUNS): Promise<void> {
    try {
      await fc.assert(fc.asyncProperty(arb, predicate), { seed: SEED, numRuns: runs, endOnFailure: true });
    } catch (err) {
      console.error(`fuzz "${name}" failed with seed ${SEED} (replay: FUZZ_SEED=${SEED} node scripts/run-tests.mjs records/fuzz)`);
      throw err;
    }
  }

  it('regression: a Bundle whose entry was not an array of objects answered 500', async () => {
    // Found by the transaction property below; kept as fixed cases so they stay fixed.
    const cases: Json[] = [
      { resourceType: 'Bundle', type: 'batch', entry: { 0: [], 1: [] } },
      { resourceType: 'Bundle', type: 'transaction', entry: 5 },
      { resourceType: 'Bundle', type: 'transaction', entry: [null] },
      { resourceType: 'Bundle', type: 'transaction', entry: [{ request: 'POST Patient' }] },
      { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'POST', url: 5 } }] },
    ];
    for (const b of cases) {
      const { status, text } = await check('POST', '/fhir/R4', b);
      assert.equal(status, 400, text);
    }
  });

  it('create and update: arbitrary and nearly valid bodies', async () => {
    const templates = [patient, observation, condition];
    const body = fc.oneof(
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
      { weight: 4, arbitrary: fc.tuple(fc.nat(templates.length - 1), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([t, edits]) => withIds(applyEdits(templates[t]!(), edits))) },
    );
    await run('create/update', fc.tuple(body, fc.constantFrom('POST', 'PUT'), fc.constantFrom('Patient', 'Observation', 'Condition')), async ([b, method, type]) => {
      const path = method === 'POST' ? `/fhir/R4/${type}` : `/fhir/R4/${type}/${type === 'Patient' ? patientId : 'fuzz-1'}`;
      await check(method, path, b);
    });
  });

  it('create: bodies that are not JSON or not objects', async () => {
    await run('raw bodies', fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v)), fc.constant('{"resourceType":"Patient",'), fc.constant('[]'), fc.constant('null')), async (text) => {
      await check('POST', '/fhir/R4/Patient', text, true);
    }, Math.ceil(RUNS / 2));
  });

  it('transaction and batch Bundles with arbitrary and nearly valid entries', async () => {
    const goodEntry = () => ({ fullUrl: 'urn:uuid:e1', resource: patient(), request: { method: 'POST', url: 'Patient' } });
    const obsEntry = () => ({ resource: { ...observation(), subject: { reference: 'urn:uuid:e1' } }, request: { method: 'POST', url: 'Observation' } });
    const bundle = fc.oneof(
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
      {
        weight: 4,
        arbitrary: fc
          .tuple(fc.constantFrom('transaction', 'batch', 'collection'), fc.array(bundleEdit, { maxLength: 4 }), fc.array(fc.constantFrom(0, 1), { minLength: 1, maxLength: 4 }))
          .map(([type, edits, which]) => {
            const entries = which.map((w) => (w === 0 ? goodEntry() : obsEntry()));
            // Edits land on one entry's resource or request, or on the Bundle itself.
            const b: Record<string, unknown> = { resourceType: 'Bundle', type, entry: entries };
            return withIds(applyEdits(b, edits));
          }),
      },
    );
    await run('transaction', bundle, async (b) => {
      const before = await logSize();
      const { status, text } = await check('POST', '/fhir/R4', b);
      // A batch answers 200 with each entry's own status: none may be a 5xx either.
      if (status === 200 && (b as { type?: unknown })?.type === 'batch') {
        for (const e of JSON.parse(text).entry ?? []) assert.ok(!String(e.response?.status).startsWith('5'), `batch entry answered ${JSON.stringify(e.response).slice(0, 400)}\nbody: ${JSON.stringify(b).slice(0, 1000)}`);
      }
      // A transaction is all or nothing: when it succeeds, every entry was written (or matched).
      if (status < 300 && (b as { type?: unknown })?.type === 'transaction') assert.ok((await logSize()) >= before);
    });
  });

  it('search: arbitrary parameter names and values', async () => {
    const types = ['Patient', 'Observation', 'Appointment', 'Task'] as const;
    const names = [...new Set(types.flatMap((t) => Object.keys(searchParameters[t])))].concat(['_id', '_lastUpdated', '_count', '_offset', '_sort', '_total', 'status:not', 'name:exact', 'birthdate:missing']);
    const value = fc.oneof(fc.string(), nearDate, nearDate.map((d) => `ge${d}`), nearCode, nearReference, fc.constantFrom('', ',', '|', 'a|', '|b', 'x'.repeat(300)));
    const query = fc.array(fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.string() }), value), { minLength: 1, maxLength: 3 });
    await run('search', fc.tuple(fc.constantFrom(...types), query), async ([type, q]) => {
      const params = new URLSearchParams(q);
      await check('GET', `/fhir/R4/${type}?${params}`, undefined);
    });
  });
});
