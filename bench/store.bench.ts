/**
 * Record store: patient search and opening a patient's summary, at BENCH_PATIENTS patients
 * (default 10,000; the full size is 1,000,000). Baselines in the same run: the same queries
 * on flat, hand-indexed better-sqlite3 tables holding the same rows (what a purpose-built schema with
 * no change log or generic index would cost).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import type { Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber, testNhsNumberCapacity } from '@steadfast/domain';
import { openStore, type SearchRequest, type WriteRequest } from '@steadfast/store';
import { Random } from '@steadfast/domain/random';
import { percentile, round, type BenchResult } from './types.ts';

const FAMILIES = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Patel', 'Robinson', 'Wright', 'Thompson', 'Evans', 'Walker', 'White', 'Roberts', 'Green', 'Hall', 'Khan', 'Wood', 'Jackson', 'Clarke', 'Hughes', 'Edwards', 'Ahmed', 'Lewis', 'Harris', 'Martin', 'Cooper', 'Morris', 'Okafor', 'Nowak', 'Begum', 'Ali', 'Singh', 'Kaur', 'Murphy', 'Kelly', 'Campbell', 'Stewart'];
const GIVEN = ['Oliver', 'Amelia', 'George', 'Isla', 'Harry', 'Ava', 'Noah', 'Mia', 'Jack', 'Ivy', 'Leo', 'Lily', 'Arthur', 'Freya', 'Muhammad', 'Grace', 'Oscar', 'Sophia', 'Charlie', 'Florence', 'Jacob', 'Evie', 'Thomas', 'Ella', 'Henry', 'Willow', 'Alfie', 'Rosie', 'Theo', 'Aisha'];

// mulberry32 from the domain: a plain LCG in doubles loses precision and repeats, which at a million
// patients gave thousands of patients one name and birth date.
const random = new Random(42);
const rand = () => random.next();
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
const day = (y0: number, span: number) => new Date(Date.UTC(y0, 0, 1) + Math.floor(rand() * span * 365) * 86_400_000).toISOString().slice(0, 10);

function time<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const r = fn();
  return [r, performance.now() - t];
}

export async function run(): Promise<BenchResult[]> {
  const patients = Number(process.env.BENCH_PATIENTS ?? 10_000);
  const richEvery = 100; // 1% of patients get a full record of problems, medicines, consultations and results
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-bench-store-'));
  const store = await openStore({ dataDir: dir, nodeId: 'bench', practice: 'Y99999' });
  const raw = new BetterSqlite3(join(dir, 'flat.db'));
  raw.pragma('journal_mode = WAL');
  raw.exec(`CREATE TABLE flat_patient (id TEXT PRIMARY KEY, nhs TEXT, family TEXT, given TEXT, birthdate TEXT, body TEXT);
    CREATE INDEX flat_nhs ON flat_patient(nhs); CREATE INDEX flat_family ON flat_patient(family, birthdate);
    CREATE TABLE flat_clinical (id TEXT PRIMARY KEY, patient TEXT, type TEXT, date TEXT, body TEXT);
    CREATE INDEX flat_by_patient ON flat_clinical(patient, type, date);`);
  const insPatient = raw.prepare('INSERT INTO flat_patient VALUES (?,?,?,?,?,?)');
  const insClinical = raw.prepare('INSERT INTO flat_clinical VALUES (?,?,?,?,?)');

  const nhsCapacity = testNhsNumberCapacity();
  const samples: Array<{ id: string; nhs: string; family: string; birthDate: string; rich: boolean }> = [];
  const t0 = performance.now();
  let batch: WriteRequest[] = [];
  let written = 0;
  const flush = async () => {
    if (!batch.length) return;
    await store.write(batch, { author: 'system:bench' });
    raw.transaction(() => {
      for (const w of batch) {
        if (w.kind !== 'update') continue;
        const r = w.resource as any;
        if (r.resourceType === 'Patient') insPatient.run(r.id, r.identifier[0].value, r.name[0].family.toLowerCase(), r.name[0].given[0].toLowerCase(), r.birthDate, JSON.stringify(r));
        else insClinical.run(r.id, (r.subject ?? r.patient).reference, r.resourceType, r.effectiveDateTime ?? r.period?.start ?? r.authoredOn ?? r.recordedDate ?? '', JSON.stringify(r));
      }
    })();
    written += batch.length;
    batch = [];
  };
  for (let n = 0; n < patients; n++) {
    const id = randomUUID();
    const family = pick(FAMILIES);
    const birthDate = day(1930, 90);
    const p: Resource = {
      resourceType: 'Patient',
      id,
      // The 999 test range holds ~909,000 valid numbers; patients past it (1M run only) have none.
      identifier: n < nhsCapacity ? [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(n) }] : [{ system: 'https://steadfast.example/Id/bench', value: String(n) }],
      name: [{ family, given: [pick(GIVEN)] }],
      birthDate,
      gender: rand() < 0.5 ? 'female' : 'male',
      address: [{ line: [`${1 + Math.floor(rand() * 200)} High Street`], city: 'Leeds', postalCode: `LS${1 + Math.floor(rand() * 28)} ${Math.floor(rand() * 9)}AB` }],
      telecom: [{ system: 'phone', value: `07700 900${String(Math.floor(rand() * 1000)).padStart(3, '0')}` }],
    };
    batch.push({ kind: 'update', resource: p });
    const rich = n % richEvery === 0;
    if (n < nhsCapacity && samples.length < 2000 && (rich || rand() < 0.01)) samples.push({ id, nhs: testNhsNumber(n), family, birthDate, rich });
    if (rich) {
      const subject = { reference: `Patient/${id}` };
      for (let k = 0; k < 3; k++) batch.push({ kind: 'update', resource: { resourceType: 'Condition', id: randomUUID(), subject, code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003' }] }, clinicalStatus: { coding: [{ code: 'active' }] }, recordedDate: day(2000, 20) } as Resource });
      for (let k = 0; k < 4; k++) batch.push({ kind: 'update', resource: { resourceType: 'MedicationRequest', id: randomUUID(), subject, status: 'active', intent: 'order', medicationCodeableConcept: { text: 'Ramipril 5mg capsules' }, authoredOn: day(2015, 10) } as Resource });
      batch.push({ kind: 'update', resource: { resourceType: 'AllergyIntolerance', id: randomUUID(), patient: subject, code: { coding: [{ system: 'http://snomed.info/sct', code: '91936005' }] }, recordedDate: day(2000, 20) } as Resource });
      for (let k = 0; k < 30; k++) batch.push({ kind: 'update', resource: { resourceType: 'Encounter', id: randomUUID(), subject, status: 'finished', class: { code: 'AMB' }, period: { start: `${day(2010, 15)}T10:00:00Z` } } as Resource });
      for (let k = 0; k < 30; k++) batch.push({ kind: 'update', resource: { resourceType: 'Observation', id: randomUUID(), subject, status: 'final', code: { coding: [{ system: 'http://snomed.info/sct', code: '271649006' }] }, valueQuantity: { value: 110 + Math.floor(rand() * 50), unit: 'mm[Hg]' }, effectiveDateTime: `${day(2010, 15)}T10:00:00Z` } as Resource });
    }
    if (batch.length >= 1000) await flush();
  }
  await flush();
  const loadSeconds = (performance.now() - t0) / 1000;

  const req = (type: string, params: Record<string, string>, extra: Partial<SearchRequest> = {}): SearchRequest => ({
    resourceType: type,
    params: Object.entries(params).map(([name, v]) => ({ name, values: [v] })),
    count: 20,
    offset: 0,
    ...extra,
  });

  const nameDob: number[] = [];
  const nameDobRaw: number[] = [];
  const nhs: number[] = [];
  const nhsRaw: number[] = [];
  const qNameDob = raw.prepare('SELECT body FROM flat_patient WHERE family >= ? AND family < ? AND birthdate = ? LIMIT 20');
  const qNhs = raw.prepare('SELECT body FROM flat_patient WHERE nhs = ?');
  for (const s of samples) {
    const prefix = s.family.slice(0, 3).toLowerCase();
    let t = performance.now();
    const found = await store.search(req('Patient', { family: prefix, birthdate: s.birthDate }));
    nameDob.push(performance.now() - t);
    if (!found.resources.some((r) => r.id === s.id)) throw new Error(`search did not find ${s.id}`);
    nameDobRaw.push(time(() => qNameDob.all(prefix, `${prefix}~`, s.birthDate).map((r: any) => JSON.parse(r.body)))[1]);
    t = performance.now();
    const byNhs = await store.search(req('Patient', { identifier: `${NHS_NUMBER_SYSTEM}|${s.nhs}` }));
    nhs.push(performance.now() - t);
    if (byNhs.resources[0]?.id !== s.id) throw new Error(`NHS number search did not find ${s.id}`);
    nhsRaw.push(time(() => qNhs.all(s.nhs).map((r: any) => JSON.parse(r.body)))[1]);
  }

  const summary: number[] = [];
  const summaryRaw: number[] = [];
  const qFlatPatient = raw.prepare('SELECT body FROM flat_patient WHERE id = ?');
  const qFlat = raw.prepare('SELECT body FROM flat_clinical WHERE patient = ? AND type = ? ORDER BY date DESC LIMIT ?');
  for (const s of samples.filter((x) => x.rich)) {
    const t = performance.now();
    const patient = `Patient/${s.id}`;
    const parts = await Promise.all([
      store.read('Patient', s.id),
      store.search(req('Condition', { patient }, { count: 100 })),
      store.search(req('MedicationRequest', { patient, status: 'active' }, { count: 100 })),
      store.search(req('AllergyIntolerance', { patient }, { count: 100 })),
      store.search(req('Encounter', { patient }, { sort: [{ param: 'date', descending: true }] })),
      store.search(req('Observation', { patient }, { sort: [{ param: 'date', descending: true }] })),
    ]);
    summary.push(performance.now() - t);
    if ((parts[4] as any).resources.length !== 20) throw new Error('summary did not return 20 encounters');
    summaryRaw.push(
      time(() => {
        JSON.parse((qFlatPatient.get(s.id) as any).body);
        for (const [type, n] of [['Condition', 100], ['MedicationRequest', 100], ['AllergyIntolerance', 100], ['Encounter', 20], ['Observation', 20]] as const) {
          qFlat.all(patient, type, n).map((r: any) => JSON.parse(r.body));
        }
      })[1],
    );
  }
  await store.close();
  raw.close();
  rmSync(dir, { recursive: true, force: true });

  const ms = (x: number) => round(x, 3);
  const line = (name: string, mine: number[], base: number[], baseName: string, target?: string): BenchResult[] => [
    { name: `${name} p50`, value: ms(percentile(mine, 50)), unit: 'ms', baseline: { name: `${baseName} p50`, value: ms(percentile(base, 50)) }, ratio: round(percentile(mine, 50) / percentile(base, 50)) },
    { name: `${name} p95`, value: ms(percentile(mine, 95)), unit: 'ms', baseline: { name: `${baseName} p95`, value: ms(percentile(base, 95)) }, ratio: round(percentile(mine, 95) / percentile(base, 95)), ...(target ? { target } : {}) },
  ];
  return [
    { name: `load ${patients} patients (${written} resources) through the store`, value: round(written / loadSeconds, 0), unit: 'resources/s', note: 'write path incl. change log, projection and index rows; validation excluded (measured in import bench)' },
    ...line(`patient search, name prefix + birth date, ${patients} patients`, nameDob, nameDobRaw, 'flat indexed table', 'p95 < 20 ms at 1,000,000'),
    ...line(`patient search, NHS number, ${patients} patients`, nhs, nhsRaw, 'flat indexed table', 'p95 < 20 ms at 1,000,000'),
    ...line(`patient summary (patient, problems, meds, allergies, 20 encounters, 20 results), ${patients} patients`, summary, summaryRaw, 'flat indexed tables', 'p95 < 30 ms at 1,000,000'),
  ];
}
