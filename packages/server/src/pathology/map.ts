/**
 * The neutral result model to FHIR R4: one DiagnosticReport per OBR with one Observation per OBX.
 * Ids are derived from the report's identity (not random), so the same report mapped twice gets the
 * same ids and a new version of a report updates the same resources, keeping their history.
 */
import { deterministicUuid } from '@steadfast/domain';
import type { CodeableConcept, DiagnosticReport, Observation, Patient, Quantity, Reference, ServiceRequest } from '@medplum/fhirtypes';
import { SNOMED, type CatalogueTest } from './catalogue.ts';
import type { ResultHeader, ResultObservation, ResultReport } from './oru.ts';
import { PATHOLOGY_TEST_SYSTEM, PATHOLOGY_FLAG_SYSTEM, LAB_CODE_SYSTEM, FILLER_ORDER_SYSTEM, PLACER_ORDER_SYSTEM } from '@steadfast/domain/systems';

const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

const interpretationDisplay: Record<string, string> = {
  H: 'High',
  L: 'Low',
  HH: 'Critical high',
  LL: 'Critical low',
  A: 'Abnormal',
  AA: 'Critical abnormal',
  N: 'Normal',
  '<': 'Off scale low',
  '>': 'Off scale high',
};

/** A UUID-shaped id derived from the given parts (stable across runs and nodes). */
export function derivedId(...parts: string[]): string {
  return deterministicUuid(parts.join('\u0000'));
}

export function reportStatus(s: string): DiagnosticReport['status'] {
  switch (s) {
    case 'F':
      return 'final';
    case 'C':
      return 'corrected';
    case 'X':
      return 'cancelled';
    case 'I':
    case 'O':
    case 'S':
      return 'registered';
    default:
      return 'preliminary';
  }
}

function observationStatus(s: string): Observation['status'] {
  switch (s) {
    case 'F':
      return 'final';
    case 'C':
      return 'corrected';
    case 'X':
      return 'cancelled';
    case 'D':
    case 'W':
      return 'entered-in-error';
    case 'I':
      return 'registered';
    default:
      return 'preliminary';
  }
}

export interface MapOptions {
  practice: string;
  reportKey: string;
  patient: Reference<Patient>;
  basedOn?: Reference<ServiceRequest>;
  catalogueTest?: CatalogueTest;
  flags: Array<'unmapped-test' | 'correction' | 'amended'>;
}

export interface MappedReport {
  report: DiagnosticReport;
  observations: Observation[];
}

export function testCodeConcept(report: ResultReport, catalogueTest?: CatalogueTest): CodeableConcept {
  const coding: NonNullable<CodeableConcept['coding']> = [];
  if (catalogueTest?.snomed) coding.push({ system: SNOMED, code: catalogueTest.snomed, display: catalogueTest.snomedDisplay ?? catalogueTest.display });
  if (catalogueTest) coding.push({ system: PATHOLOGY_TEST_SYSTEM, code: catalogueTest.code, display: catalogueTest.display });
  coding.push({ system: LAB_CODE_SYSTEM, code: report.testCode, display: report.testDisplay });
  return { coding, text: report.testDisplay };
}

export function mapReport(header: ResultHeader, r: ResultReport, o: MapOptions): MappedReport {
  const reportId = derivedId(o.practice, 'DiagnosticReport', o.reportKey);
  const occurrences = new Map<string, number>();
  const observations = r.observations.map((obx) => {
    const key = obx.code.toUpperCase();
    const n = (occurrences.get(key) ?? 0) + 1;
    occurrences.set(key, n);
    return mapObservation(obx, r, o, derivedId(o.practice, 'Observation', o.reportKey, key, String(n)));
  });
  const identifier = [
    ...(r.fillerOrderNumber ? [{ system: FILLER_ORDER_SYSTEM, value: r.fillerOrderNumber }] : []),
    ...(r.placerOrderNumber ? [{ system: PLACER_ORDER_SYSTEM, value: r.placerOrderNumber }] : []),
  ];
  const notes = r.notes.filter((n) => n.trim());
  const report: DiagnosticReport = {
    resourceType: 'DiagnosticReport',
    id: reportId,
    meta: { tag: o.flags.map((f) => ({ system: PATHOLOGY_FLAG_SYSTEM, code: f })) },
    identifier,
    ...(o.basedOn ? { basedOn: [o.basedOn] } : {}),
    status: reportStatus(r.status),
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB', display: 'Laboratory' }] }],
    code: testCodeConcept(r, o.catalogueTest),
    subject: o.patient,
    ...(r.observedAt ? { effectiveDateTime: r.observedAt } : {}),
    ...(r.reportedAt ?? header.sentAt ? { issued: toInstant(r.reportedAt ?? header.sentAt!) } : {}),
    performer: [{ display: header.lab || 'Laboratory' }],
    result: observations.map((ob) => ({ reference: `Observation/${ob.id}` })),
    ...(notes.length ? { conclusion: notes.join('\n') } : {}),
    ...(r.attachments.length ? { presentedForm: r.attachments.map((a) => ({ contentType: a.contentType, data: a.data, title: a.title })) } : {}),
  };
  if (!report.meta!.tag!.length) delete report.meta;
  return { report, observations };
}

function toInstant(dateTime: string): string | undefined {
  const d = new Date(dateTime);
  return /T/.test(dateTime) && !Number.isNaN(d.getTime()) ? d.toISOString() : undefined;
}

function mapObservation(obx: ResultObservation, r: ResultReport, o: MapOptions, id: string): Observation {
  const flags = obx.flags.filter((f) => f !== 'N' || obx.flags.length === 1);
  const notes = obx.notes.filter((n) => n.trim());
  const effective = obx.observedAt ?? r.observedAt;
  return {
    resourceType: 'Observation',
    id,
    status: observationStatus(obx.status),
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
    code: { coding: [{ system: LAB_CODE_SYSTEM, code: obx.code, display: obx.display }], text: obx.display },
    subject: o.patient,
    ...(o.basedOn ? { basedOn: [o.basedOn] } : {}),
    ...(effective ? { effectiveDateTime: effective } : {}),
    ...observationValue(obx),
    ...(flags.length
      ? { interpretation: flags.map((f) => ({ coding: [{ system: INTERPRETATION, code: f, ...(interpretationDisplay[f] ? { display: interpretationDisplay[f] } : {}) }], text: f })) }
      : {}),
    ...(obx.range ? { referenceRange: [referenceRange(obx.range, obx.units)] } : {}),
    ...(notes.length ? { note: notes.map((text) => ({ text })) } : {}),
  };
}

const NUMBER = /^([<>]=?)?\s*(-?\d+(?:\.\d+)?)$/;

function quantity(value: number, units: string, comparator?: string): Quantity {
  return {
    value,
    ...(comparator ? { comparator: comparator as Quantity['comparator'] } : {}),
    ...(units ? { unit: units } : {}),
  };
}

function observationValue(obx: ResultObservation): Partial<Observation> {
  const v = obx.value;
  if (!v) return { dataAbsentReason: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'unknown' }] } };
  if (obx.valueType === 'NM' || obx.valueType === 'SN') {
    const sn = obx.valueType === 'SN' ? v.split('^') : undefined;
    const text = sn ? `${sn[0] ?? ''}${sn[1] ?? ''}`.trim() : v;
    const m = NUMBER.exec(text);
    if (m) return { valueQuantity: quantity(Number(m[2]), obx.units, m[1]) };
    return { valueString: sn ? sn.join('') : v };
  }
  if (obx.valueType === 'CE' || obx.valueType === 'CWE') {
    const [code, display] = v.split('^');
    return { valueCodeableConcept: { coding: code ? [{ code, ...(display ? { display } : {}) }] : [], text: display || code || v } };
  }
  return { valueString: v };
}

function referenceRange(range: string, units: string): NonNullable<Observation['referenceRange']>[number] {
  const q = (n: string) => ({ value: Number(n), ...(units ? { unit: units } : {}) });
  const between = /^\s*(-?\d+(?:\.\d+)?)\s*-\s*(-?\d+(?:\.\d+)?)\s*$/.exec(range);
  if (between) return { low: q(between[1]!), high: q(between[2]!), text: range };
  const below = /^\s*<=?\s*(-?\d+(?:\.\d+)?)\s*$/.exec(range);
  if (below) return { high: q(below[1]!), text: range };
  const above = /^\s*>=?\s*(-?\d+(?:\.\d+)?)\s*$/.exec(range);
  if (above) return { low: q(above[1]!), text: range };
  return { text: range };
}
