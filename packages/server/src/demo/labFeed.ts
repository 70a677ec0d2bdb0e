/**
 * A morning's laboratory feed for the demo practice, so its Results page has work on it: a few tests
 * the demo clinician requested last week come back (one of them later corrected), others arrive for
 * the unassigned pool, the laboratory resends one report three times, and one result carries a
 * family name that disagrees with the record. Everything goes through the real paths (the request
 * through `createRequest`, each message through `receiveHl7Batch` and the filer), deterministic for a
 * seed. Synthetic patients only; what is filed for them carries their test-data label.
 */
import type { Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '@steadfast/domain';
import { Random } from '@steadfast/domain/random';
import type { RecordStore } from '@steadfast/store';
import { buildOru, type OruSpec } from '../testing/hl7-fixtures.ts';
import { fileReceived, receiveHl7Batch } from '../pathology/ingest.ts';
import { createRequest } from '../pathology/requests.ts';
import { pdb } from '../pathology/tables.ts';

export interface LabFeedResult {
  requested: number;
  messages: number;
  filed: number;
  duplicates: number;
  heldForAPerson: number;
}

type Analyte = [code: string, display: string, units: string, low: number, high: number];
const PANELS: Record<string, { test: [string, string]; analytes: Analyte[] }> = {
  FBC: { test: ['FBC', 'Full blood count'], analytes: [['HB', 'Haemoglobin', 'g/L', 115, 165], ['WBC', 'White cell count', '10*9/L', 4, 11], ['PLT', 'Platelets', '10*9/L', 150, 400]] },
  UE: { test: ['UE', 'Urea and electrolytes'], analytes: [['NA', 'Sodium', 'mmol/L', 133, 146], ['K', 'Potassium', 'mmol/L', 3.5, 5.3], ['CREA', 'Creatinine', 'umol/L', 45, 110]] },
  HBA1C: { test: ['HBA1C', 'HbA1c'], analytes: [['HBA1C', 'HbA1c (IFCC)', 'mmol/mol', 20, 41]] },
};

function hl7Time(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 12);
}

export async function seedLabFeed(store: RecordStore, options: { clinician: { id: string; name: string }; seed: string; now?: Date }): Promise<LabFeedResult> {
  const rng = Random.for(options.seed, 'lab-feed');
  const now = options.now ?? new Date();
  const page = await store.search({ resourceType: 'Patient', params: [], sort: [{ param: '_id', descending: false }], count: 60, offset: 0 });
  const patients = (page.resources as Patient[]).filter((p) => p.identifier?.some((i) => i.system === NHS_NUMBER_SYSTEM) && p.name?.[0]?.family && p.birthDate).slice(0, 14);
  if (patients.length < 14) return { requested: 0, messages: 0, filed: 0, duplicates: 0, heldForAPerson: 0 };
  const spec = (p: Patient, panel: keyof typeof PANELS, n: number, over: Partial<OruSpec> = {}): OruSpec => {
    const { test, analytes } = PANELS[panel]!;
    return {
      messageId: `DEMO-${n}`,
      nhsNumber: p.identifier!.find((i) => i.system === NHS_NUMBER_SYSTEM)!.value!,
      family: p.name![0]!.family!,
      given: p.name![0]!.given?.[0] ?? '',
      birthDate: p.birthDate!.replace(/-/g, ''),
      sex: p.gender === 'male' ? 'M' : 'F',
      filler: `DEMO${String(n).padStart(5, '0')}`,
      test,
      observedAt: hl7Time(new Date(now.getTime() - (2 + rng.int(0, 20)) * 3_600_000)),
      lab: 'LEEDSPATH^RR8',
      obx: analytes.map(([code, display, units, low, high]) => {
        // Mostly within range; now and then low or high, and once in a while far out.
        const roll = rng.next();
        const value = roll < 0.7 ? low + (high - low) * rng.next() : roll < 0.85 ? low * (0.75 + 0.2 * rng.next()) : roll < 0.97 ? high * (1.05 + 0.3 * rng.next()) : high * 1.8;
        const flag = value < low ? 'L' : value > high * 1.5 ? 'HH' : value > high ? 'H' : '';
        return { code, display, value: value.toFixed(1), units, range: `${low}-${high}`, ...(flag ? { flag } : {}) };
      }),
      ...over,
    };
  };

  // Last week's requests by the demo clinician; their results come back to the clinician's inbox.
  const requested: Array<{ patient: Patient; panel: keyof typeof PANELS; orderNumber: string }> = [];
  const weekAgo = new Date(now.getTime() - 6 * 86_400_000);
  for (const [i, panel] of (['FBC', 'UE', 'HBA1C', 'FBC', 'UE', 'HBA1C'] as const).entries()) {
    const created = await createRequest(store, options.clinician, { patientId: patients[i]!.id, tests: [panel], clinicalDetails: 'Annual review', urgency: 'routine' }, { now: weekAgo });
    requested.push({ patient: patients[i]!, panel, orderNumber: created.orderNumber });
  }
  let n = 0;
  const messages: string[] = [];
  for (const r of requested) messages.push(buildOru(spec(r.patient, r.panel, ++n, { placer: r.orderNumber })));
  // Results nobody here requested (a hospital clinic's, say): the unassigned pool.
  for (let i = 6; i < 12; i++) messages.push(buildOru(spec(patients[i]!, (['FBC', 'UE', 'HBA1C'] as const)[i % 3]!, ++n)));
  // The first result corrected by the laboratory.
  const first = spec(requested[0]!.patient, requested[0]!.panel, 1, { placer: requested[0]!.orderNumber, status: 'C', messageId: `DEMO-${++n}` });
  first.obx = first.obx.map((o, i) => (i === 0 ? { ...o, value: (Number(o.value) * 0.8).toFixed(1), flag: 'L' } : o));
  // A resend of one report, three times with new message ids; and a name that disagrees with the record.
  const resent = messages[7]!;
  const resends = [1, 2, 3].map((k) => resent.replace(/\|DEMO-(\d+)\|P\|/, `|DEMO-$1-R${k}|P|`));
  const mismatch = buildOru(spec(patients[12]!, 'FBC', ++n, { family: `${patients[12]!.name![0]!.family!}E` }));
  const feed = [...messages, ...resends, buildOru(first), mismatch];

  // As the MLLP listener does: receive (stored raw, checked for resends), then file.
  let duplicates = 0;
  for (const raw of feed) {
    const [received] = await receiveHl7Batch({ store }, [{ raw, source: 'mllp' }]);
    if (received!.state === 'duplicate') duplicates++;
    while ((await fileReceived({ store })) > 0);
  }
  const states = await pdb(store.db).selectFrom('pathology_inbox').select('state').where('practice', '=', store.practice).execute();
  const count = (s: string) => states.filter((r) => r.state === s).length;
  return { requested: requested.length, messages: feed.length, filed: count('filed'), duplicates, heldForAPerson: count('unmatched') + count('quarantined') };
}
