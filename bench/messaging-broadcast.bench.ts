/**
 * The service disruption broadcast at BENCH_BROADCAST_PATIENTS booked patients (default 10,000; the
 * issue's target: queued in under 10 s while the rest of the node stays responsive). Patients and one
 * appointment each are written through the record store (a tenth cannot be texted: no consent, no
 * mobile or do not contact). Measured against a real node over loopback HTTP:
 *   - the preview the practice manager sees first (each patient once, the unreachable by reason),
 *     against listing the same day's appointments through FHIR search in the same run;
 *   - queuing the whole broadcast (POST, then polled until queued), against the preview;
 *   - p95 of a patient read while the broadcast queues, against the same read on the idle node.
 * The outbox drainer is off: this measures queuing, not Notify.
 */
import type { Appointment, Patient } from '@medplum/fhirtypes';
import type { Broadcast, BroadcastPreview } from '@steadfast/domain/api';
import { SMS_CONSENT_EXTENSION } from '@steadfast/domain/systems';
import { startTestNode } from '../packages/server/src/testing/harness.ts';
import { percentile, round, type BenchResult } from './types.ts';

const N = Number(process.env.BENCH_BROADCAST_PATIENTS ?? 10_000);
const DAY = '2031-03-04';
const BATCH = 500;

export async function run(): Promise<BenchResult[]> {
  const node = await startTestNode({ config: { outbox: { disabled: true }, messaging: { practiceName: 'Bench Surgery' } } });
  try {
    const seedStarted = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < N; i += BATCH) {
      const patients: Patient[] = [];
      for (let j = i; j < Math.min(N, i + BATCH); j++) {
        const reachable = j % 10 !== 0;
        patients.push({
          resourceType: 'Patient',
          name: [{ given: [`Pat${j}`], family: 'Broadcast' }],
          telecom: [{ system: 'phone', use: 'mobile', value: `07700${String(900000 + (j % 1000)).padStart(6, '0')}` }],
          ...(reachable ? { extension: [{ url: SMS_CONSENT_EXTENSION, valueBoolean: true }] } : {}),
        });
      }
      const written = await node.store.write(patients.map((resource) => ({ kind: 'create' as const, resource })), { author: 'bench:seed' });
      ids.push(...written.map((w) => w.resource!.id!));
    }
    for (let i = 0; i < N; i += BATCH) {
      const appts: Appointment[] = ids.slice(i, i + BATCH).map((id, k) => {
        const minute = (i + k) % 600;
        const at = `${DAY}T${String(8 + Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:00Z`;
        return { resourceType: 'Appointment', status: 'booked', start: at, end: at, participant: [{ actor: { reference: `Patient/${id}` }, status: 'accepted' }] };
      });
      await node.store.write(appts.map((resource) => ({ kind: 'create' as const, resource })), { author: 'bench:seed' });
    }
    const seedSeconds = (Date.now() - seedStarted) / 1000;

    // Baseline: the day's appointments listed through FHIR search, every page.
    let t = performance.now();
    let url = `/fhir/R4/Appointment?date=ge${DAY}&date=lt2031-03-05&_count=1000`;
    let listed = 0;
    for (;;) {
      const bundle = (await (await node.fetchAs('practice-admin', url)).json()) as { entry?: unknown[]; link?: Array<{ relation: string; url: string }> };
      listed += bundle.entry?.length ?? 0;
      const next = bundle.link?.find((l) => l.relation === 'next')?.url;
      if (!next) break;
      url = next.replace(/^https?:\/\/[^/]+/, '');
    }
    const listMs = performance.now() - t;

    t = performance.now();
    const previewRes = await node.fetchAs('practice-admin', '/api/messaging/broadcasts/preview', { method: 'POST', json: { from: DAY, to: DAY } });
    const preview = (await previewRes.json()) as BroadcastPreview;
    const previewMs = performance.now() - t;
    if (preview.patients !== N) throw new Error(`preview counted ${preview.patients} patients, expected ${N}`);

    const readPatient = async () => {
      const s = performance.now();
      const r = await node.fetchAs('receptionist', `/fhir/R4/Patient/${ids[Math.floor(Math.random() * ids.length)]}`);
      await r.json();
      return performance.now() - s;
    };
    const idle: number[] = [];
    for (let i = 0; i < 50; i++) idle.push(await readPatient());

    t = performance.now();
    const started = (await (await node.fetchAs('practice-admin', '/api/messaging/broadcasts', { method: 'POST', json: { from: DAY, to: DAY, reason: 'the surgery is closed for a power cut' } })).json()) as Broadcast;
    const busy: number[] = [];
    let state: Broadcast = started;
    while (state.state === 'queuing') {
      busy.push(await readPatient());
      state = (await (await node.fetchAs('practice-admin', `/api/messaging/broadcasts/${started.id}`)).json()) as Broadcast;
    }
    const queueMs = performance.now() - t;
    if (state.state !== 'queued' || state.queued !== preview.reachable) throw new Error(`broadcast ended ${state.state} with ${state.queued} queued, expected ${preview.reachable}`);
    // Then the recorder writes the Communications into the record; staff reads go on meanwhile.
    const recording: number[] = [];
    while ((state.unrecorded ?? 0) > 0) {
      recording.push(await readPatient());
      state = (await (await node.fetchAs('practice-admin', `/api/messaging/broadcasts/${started.id}`)).json()) as Broadcast;
    }
    const recordedMs = performance.now() - t;

    const idleP95 = round(percentile(idle, 95), 1);
    const busyP95 = round(percentile(busy, 95), 1);
    const recordingP95 = round(percentile(recording.length ? recording : [0], 95), 1);
    return [
      { name: `broadcast preview, ${N} booked patients`, value: round(previewMs, 0), unit: 'ms', baseline: { name: `the same ${listed} appointments listed by FHIR search`, value: round(listMs, 0) }, ratio: round(previewMs / listMs, 1), note: `${preview.reachable} textable, ${N - preview.reachable} not; seeded in ${round(seedSeconds, 0)} s` },
      { name: `broadcast queued, ${preview.reachable} texts`, value: round(queueMs / 1000, 1), unit: 's', baseline: { name: 'the preview of the same range', value: round(previewMs / 1000, 1) }, ratio: round(queueMs / previewMs, 1), target: `< 10 s: ${queueMs < 10_000 ? 'met' : 'NOT met'}` },
      { name: `every Communication in the record (from the POST)`, value: round(recordedMs / 1000, 1), unit: 's', baseline: { name: 'the preview of the same range', value: round(previewMs / 1000, 1) }, ratio: round(recordedMs / previewMs, 1), note: 'the recorder, in transactions of 100 through the one write path, after queuing' },
      { name: `patient read p95 while the broadcast queues (${busy.length} reads)`, value: busyP95, unit: 'ms', baseline: { name: 'the same read on the idle node, p95 of 50', value: idleP95 }, ratio: round(busyP95 / idleP95, 1), note: 'the rest of the node stays responsive' },
      { name: `patient read p95 while its Communications are recorded (${recording.length} reads)`, value: recordingP95, unit: 'ms', baseline: { name: 'the same read on the idle node, p95 of 50', value: idleP95 }, ratio: round(recordingP95 / idleP95, 1) },
    ];
  } finally {
    await node.close();
  }
}
