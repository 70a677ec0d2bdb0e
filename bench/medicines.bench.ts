/**
 * Prescribing at a node: the time to prescribe an acute item (POST /api/patients/:id/prescriptions:
 * the server re-reads the patient's allergies and medicines, runs every check, writes and audits),
 * against a plain FHIR create of the same MedicationRequest (POST /fhir/R4/MedicationRequest, same
 * write path, no checks) in the same run; and checkPrescription alone on a busy record (40 current
 * medicines, 3 allergies), against searchProducts over the subset in the same run.
 * Every prescription is written (the duplicate alert each repeat raises is overridden with a reason).
 * BENCH_MEDICINES_N prescriptions per figure (default 200), one client, sequential.
 */
import { randomUUID } from 'node:crypto';
import type { AllergyIntolerance, MedicationRequest } from '@medplum/fhirtypes';
import { bundledKnowledge, checkPrescription, searchProducts } from '@steadfast/domain/medicines';
import { startTestNode } from '../packages/server/src/testing/harness.ts';
import { acute, patient, penicillinAllergy, repeat, VMP } from '../packages/server/src/medicines/fixtures.ts';
import { percentile, round, type BenchResult } from './types.ts';

const N = Number(process.env.BENCH_MEDICINES_N ?? 200);

async function timed(n: number, f: (i: number) => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f(i);
    out.push(performance.now() - t);
  }
  return out;
}

export async function run(): Promise<BenchResult[]> {
  const node = await startTestNode();
  try {
    const p = await node.create('clinician', patient('Bench'));
    await node.create('clinician', { ...penicillinAllergy(p.id), code: { text: 'Codeine' } });
    // A record with current repeats, so every check has something to compare against.
    for (const vmp of [VMP.salbutamol, VMP.diazepam]) {
      const r = await node.fetchAs('clinician', `/api/patients/${p.id}/prescriptions`, { method: 'POST', json: repeat(vmp, vmp === VMP.diazepam ? { dosageText: 'One tablet at night', dosePerAdministration: 1, frequencyPerDay: 1, quantity: { value: 28, unit: 'tablet' } } : {}) });
      if (r.status !== 201) throw new Error(`seed repeat: ${r.status} ${await r.text()}`);
    }
    const body = () => acute(VMP.paracetamol, { dosageText: 'Two tablets up to four times a day', dosePerAdministration: 2, frequencyPerDay: 4, quantity: { value: 32, unit: 'tablet' }, days: undefined, idempotencyKey: randomUUID(), overrides: [{ alertId: `duplicate:same-product:${VMP.paracetamol}`, reason: 'bench: prescribed again on purpose' }] });
    const plain = (): MedicationRequest => ({ resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: `Patient/${p.id}` }, medicationCodeableConcept: { coding: [{ system: 'https://dmd.nhs.uk', code: VMP.paracetamol, display: 'Paracetamol 500mg tablets' }] }, authoredOn: new Date().toISOString(), dosageInstruction: [{ text: 'Two tablets up to four times a day' }], dispenseRequest: { quantity: { value: 32, unit: 'tablet' } } });
    // Warm both paths (validation definitions, prepared statements).
    for (let i = 0; i < 10; i++) {
      await (await node.fetchAs('clinician', '/fhir/R4/MedicationRequest', { method: 'POST', json: plain() })).arrayBuffer();
      await (await node.fetchAs('clinician', `/api/patients/${p.id}/prescriptions`, { method: 'POST', json: body() })).arrayBuffer();
    }
    const fhir = await timed(N, async () => {
      const r = await node.fetchAs('clinician', '/fhir/R4/MedicationRequest', { method: 'POST', json: plain() });
      await r.arrayBuffer();
      if (r.status !== 201) throw new Error(`FHIR create ${r.status}`);
    });
    const prescribe = await timed(N, async () => {
      const r = await node.fetchAs('clinician', `/api/patients/${p.id}/prescriptions`, { method: 'POST', json: body() });
      await r.arrayBuffer();
      if (r.status !== 201) throw new Error(`prescribe ${r.status}`);
    });

    // The pure check on a busy record, against product search.
    const meds: MedicationRequest[] = bundledKnowledge.products.slice(0, 40).map((pr, i) => ({ resourceType: 'MedicationRequest', id: `m${i}`, status: 'active', intent: 'plan', subject: { reference: 'Patient/x' }, courseOfTherapyType: { coding: [{ code: 'continuous' }] }, medicationCodeableConcept: { coding: [{ system: 'https://dmd.nhs.uk', code: pr.vmp }] } }));
    const allergies: AllergyIntolerance[] = [penicillinAllergy('x'), { ...penicillinAllergy('x'), code: { text: 'Codeine' } }, { ...penicillinAllergy('x'), code: { text: 'Peanut' } }];
    const today = new Date().toISOString().slice(0, 10);
    const sample = (f: () => void) => Array.from({ length: 2000 }, () => { const t = performance.now(); f(); return performance.now() - t; });
    const checks = sample(() => void checkPrescription({ vmp: '329653008', dosePerAdministration: 1, frequencyPerDay: 3 }, { allergies, medications: meds, today }, bundledKnowledge));
    const search = sample(() => void searchProducts('amox', bundledKnowledge.products));

    const p95 = (s: number[]) => round(percentile(s, 95), 3);
    return [
      { name: 'prescribe acute (checks + write + audit), p95', value: p95(prescribe), unit: 'ms', baseline: { name: 'FHIR create of the same MedicationRequest, p95', value: p95(fhir) }, ratio: round(p95(prescribe) / p95(fhir)), note: `${N} each, sequential; the record has 2 repeats, 2 allergies and the prescriptions made so far (up to ${2 * N + 20} MedicationRequests)` },
      { name: 'checkPrescription, 40 current medicines, 3 allergies, p95', value: p95(checks), unit: 'ms', baseline: { name: 'searchProducts("amox") over the subset, p95', value: p95(search) }, ratio: round(p95(checks) / p95(search)), target: 'contract: < 5 ms', note: '2,000 runs each' },
    ];
  } finally {
    await node.close();
  }
}
