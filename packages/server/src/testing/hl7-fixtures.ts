/**
 * Synthetic ORU^R01 messages for tests and benchmarks, plus the public samples in fixtures/hl7.
 * Patients use test-range NHS numbers only.
 */
import { readFileSync } from 'node:fs';

export const FIXTURE_DIR = new URL('../../../../fixtures/hl7/', import.meta.url);

export function readFixture(name: string): string {
  return readFileSync(new URL(name, FIXTURE_DIR), 'utf8');
}

export interface OruSpec {
  messageId: string;
  nhsNumber?: string;
  family: string;
  given: string;
  birthDate: string; // YYYYMMDD
  sex?: string;
  placer?: string;
  filler: string;
  test: [code: string, display: string];
  status?: string;
  observedAt?: string;
  lab?: string;
  obx: Array<{ code: string; display: string; value: string; units?: string; range?: string; flag?: string; type?: string }>;
  notes?: string[];
}

export function buildOru(s: OruSpec, segmentEnd = '\r'): string {
  const status = s.status ?? 'F';
  const when = s.observedAt ?? '202611250930';
  const pid3 = s.nhsNumber ? `${s.nhsNumber}^^^NHS^NH` : 'X123^^^LAB^MR';
  const lines = [
    `MSH|^~\\&|WINPATH|${s.lab ?? 'RX1LAB^RX1'}|STEADFAST|A81001|202611251000||ORU^R01^ORU_R01|${s.messageId}|P|2.5.1|||AL`,
    `PID|1||${pid3}||${s.family}^${s.given}||${s.birthDate}|${s.sex ?? 'F'}|||1 Test Street^^Leeds^^LS1 1AA`,
    `OBR|1|${s.placer ?? ''}|${s.filler}|${s.test[0]}^${s.test[1]}^WINPATH|||${when}|||||||||^Smith^Jane^^^Dr||||||${when}|||${status}`,
    ...(s.notes ?? []).map((n, i) => `NTE|${i + 1}||${n}`),
    ...s.obx.map((o, i) => `OBX|${i + 1}|${o.type ?? 'NM'}|${o.code}^${o.display}^WINPATH||${o.value}|${o.units ?? ''}|${o.range ?? ''}|${o.flag ?? ''}|||${status}|||${when}`),
  ];
  return lines.join(segmentEnd);
}

/**
 * One report of `results` urea-and-electrolytes analytes for a patient: the big report that held the
 * event loop while it was filed (the soak test, the liveness test and its benchmark send it).
 */
export function buildBigOru(id: string, patient: { nhsNumber: string; family: string; given: string; birthDate: string }, results: number): string {
  return buildOru({
    messageId: id, nhsNumber: patient.nhsNumber, family: patient.family, given: patient.given, birthDate: patient.birthDate.replace(/-/g, ''),
    filler: id.replace(/-/g, ''), test: ['UE', 'Urea and electrolytes'],
    obx: Array.from({ length: results }, (_, i) => ({ code: `A${i}`, display: `Analyte ${i}`, value: String(i % 50), units: 'mmol/L', range: '1-100' })),
  });
}
