/**
 * The appointment board (GET /api/appointments/board): every clinician's day in one request, at
 * BENCH_BOARD_CLINICIANS clinicians (default 12) with a morning and an afternoon session of 10-minute
 * slots each (36 slots a clinician), 70% booked through the booking API (the real write path).
 * Baseline in the same run: the one-clinician diary requests the old screen needed for the same view
 * (one GET /api/appointments/diary per clinician, one after another).
 */
import type { Patient, Practitioner, Schedule, Slot } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { startTestNode } from '../packages/server/src/testing/harness.ts';
import { percentile, round, type BenchResult } from './types.ts';

const CLINICIANS = Number(process.env.BENCH_BOARD_CLINICIANS ?? 12);
const ROUNDS = 30;
const DATE = '2026-12-01';

export async function run(): Promise<BenchResult[]> {
  const node = await startTestNode();
  try {
    const schedules: string[] = [];
    const slots: Slot[] = [];
    for (let c = 0; c < CLINICIANS; c++) {
      const gp = await node.create<Practitioner>('practice-admin', { resourceType: 'Practitioner', name: [{ prefix: ['Dr'], given: ['Bench'], family: `Clinician${c}` }] });
      const schedule = await node.create<Schedule>('practice-admin', { resourceType: 'Schedule', active: true, actor: [{ reference: `Practitioner/${gp.id}` }] });
      schedules.push(schedule.id);
      for (const [start, end] of [['08:30', '11:30'], ['14:00', '17:00']]) {
        const r = await node.fetchAs('practice-admin', '/api/appointments/sessions', { method: 'POST', json: { schedule: schedule.id, date: DATE, start, end, minutes: 10 } });
        if (r.status !== 201) throw new Error(`session: ${r.status} ${await r.text()}`);
        slots.push(...((await r.json()) as { slots: Slot[] }).slots);
      }
    }
    const patient = await node.create<Patient>('receptionist', { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(8801) }], name: [{ family: 'Bench', given: ['Pat'] }], birthDate: '1980-01-01', gender: 'female' });
    let booked = 0;
    for (const [i, slot] of slots.entries()) {
      if (i % 10 >= 7) continue;
      const r = await node.fetchAs('receptionist', '/api/appointments/book', { method: 'POST', json: { slot: slot.id, patient: patient.id } });
      if (r.status !== 201) throw new Error(`book: ${r.status}`);
      booked++;
    }
    const time = async (fn: () => Promise<void>) => {
      const samples: number[] = [];
      await fn(); // warm
      for (let i = 0; i < ROUNDS; i++) {
        const t = performance.now();
        await fn();
        samples.push(performance.now() - t);
      }
      return samples;
    };
    const boardSamples = await time(async () => {
      const r = await node.fetchAs('receptionist', `/api/appointments/board?date=${DATE}`);
      await r.json();
    });
    const diarySamples = await time(async () => {
      for (const s of schedules) await (await node.fetchAs('receptionist', `/api/appointments/diary?schedule=${s}&from=${DATE}&days=1`)).json();
    });
    const note = `${CLINICIANS} clinicians, ${slots.length} slots, ${booked} booked, SQLite, ${ROUNDS} rounds`;
    const b50 = percentile(boardSamples, 50);
    const d50 = percentile(diarySamples, 50);
    const b95 = percentile(boardSamples, 95);
    const d95 = percentile(diarySamples, 95);
    return [
      { name: 'board, p50', value: round(b50), unit: 'ms', baseline: { name: `${CLINICIANS} diary requests, p50`, value: round(d50) }, ratio: round(b50 / d50), note },
      { name: 'board, p95', value: round(b95), unit: 'ms', baseline: { name: `${CLINICIANS} diary requests, p95`, value: round(d95) }, ratio: round(b95 / d95), note },
    ];
  } finally {
    await node.close();
  }
}
