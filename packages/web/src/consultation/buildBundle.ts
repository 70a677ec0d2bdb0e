/**
 * A consultation becomes one FHIR transaction Bundle: the Encounter (with the free text), a Condition
 * for each coded problem or finding, and an Observation for each measurement, all referring to the
 * Encounter by its bundle-local urn:uuid. The node writes it all or nothing.
 */
import type { Bundle, BundleEntry, Condition, Encounter, Observation } from '../fhirTypes.ts';
import { checkVitals, hasErrors, vitalObservations, type VitalInput } from './observations.ts';
import { CONSULTATION_NOTE_EXTENSION } from '@steadfast/domain/systems';

const SNOMED = 'http://snomed.info/sct';

export const consultationTypes = [
  { code: '11429006', display: 'Consultation' },
  { code: '185317003', display: 'Telephone encounter' },
  { code: '439708006', display: 'Home visit' },
] as const;

export interface CodedEntry {
  code: string;
  display: string;
  /** A problem goes on the problem list; a finding belongs to this consultation only. */
  kind: 'problem' | 'finding';
}

export interface ConsultationDraft {
  version: 1;
  patientId: string;
  /** Shown when the draft is restored, so the clinician can see whose draft it is. */
  patientName: string;
  userId: string;
  savedAt: string;
  type: string;
  history: string;
  examination: string;
  plan: string;
  vitals: VitalInput;
  coded: CodedEntry[];
}

export function emptyDraft(patientId: string, patientName: string, userId: string): ConsultationDraft {
  return { version: 1, patientId, patientName, userId, savedAt: '', type: consultationTypes[0].code, history: '', examination: '', plan: '', vitals: {}, coded: [] };
}

export function isDraftEmpty(d: ConsultationDraft): boolean {
  return !d.history.trim() && !d.examination.trim() && !d.plan.trim() && !d.coded.length && !Object.values(d.vitals).some((v) => v?.trim());
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface BuildOptions {
  author: { name: string };
  now: string;
  /** Random UUIDs for the bundle-local references (injected for tests). */
  uuid: () => string;
}

/** Problems the clinician must fix before the consultation can be saved (empty when it can). */
export function consultationProblems(d: ConsultationDraft): string[] {
  const problems: string[] = [];
  if (isDraftEmpty(d)) problems.push('Write something in history, examination or plan, or add a code or a measurement');
  const checks = checkVitals(d.vitals);
  if (hasErrors(checks)) for (const c of Object.values(checks)) if (c.error) problems.push(c.error);
  return problems;
}

export function buildConsultationBundle(d: ConsultationDraft, o: BuildOptions): Bundle {
  const subject = { reference: `Patient/${d.patientId}` };
  const encounterUrl = `urn:uuid:${o.uuid()}`;
  const type = consultationTypes.find((t) => t.code === d.type) ?? consultationTypes[0];
  const parts = (['history', 'examination', 'plan'] as const).filter((k) => d[k].trim());
  const encounter: Encounter = {
    resourceType: 'Encounter',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: type.code === '439708006' ? 'HH' : 'AMB', display: type.code === '439708006' ? 'home health' : 'ambulatory' },
    type: [{ coding: [{ system: SNOMED, code: type.code, display: type.display }], text: type.display }],
    subject,
    participant: [{ individual: { display: o.author.name } }],
    period: { start: o.now, end: o.now },
    ...(parts.length
      ? {
          extension: [{ url: CONSULTATION_NOTE_EXTENSION, extension: parts.map((k) => ({ url: k, valueString: d[k].trim() })) }],
          text: {
            status: 'generated' as const,
            div: `<div xmlns="http://www.w3.org/1999/xhtml">${parts.map((k) => `<p><b>${k[0]!.toUpperCase()}${k.slice(1)}:</b> ${escapeXml(d[k].trim())}</p>`).join('')}</div>`,
          },
        }
      : {}),
  };
  const entries: BundleEntry[] = [{ fullUrl: encounterUrl, resource: encounter, request: { method: 'POST', url: 'Encounter' } }];
  for (const c of d.coded) {
    const condition: Condition = {
      resourceType: 'Condition',
      subject,
      encounter: { reference: encounterUrl },
      code: { coding: [{ system: SNOMED, code: c.code, display: c.display }], text: c.display },
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
      category: [
        {
          coding: [
            c.kind === 'problem'
              ? { system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item', display: 'Problem List Item' }
              : { system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis', display: 'Encounter Diagnosis' },
          ],
        },
      ],
      recordedDate: o.now,
      onsetDateTime: o.now,
      recorder: { display: o.author.name },
    };
    entries.push({ fullUrl: `urn:uuid:${o.uuid()}`, resource: condition, request: { method: 'POST', url: 'Condition' } });
  }
  const observations: Observation[] = vitalObservations(checkVitals(d.vitals), {
    subject,
    encounter: { reference: encounterUrl },
    effectiveDateTime: o.now,
    performer: [{ display: o.author.name }],
  });
  for (const obs of observations) entries.push({ fullUrl: `urn:uuid:${o.uuid()}`, resource: obs, request: { method: 'POST', url: 'Observation' } });
  return { resourceType: 'Bundle', type: 'transaction', entry: entries };
}
