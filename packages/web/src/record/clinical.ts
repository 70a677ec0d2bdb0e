/** Pure helpers for reading clinical resources the way the record screens show them. */
import type { Encounter, Observation } from '../fhirTypes.ts';

/** Where Steadfast keeps the free text of a consultation on its Encounter (history, examination, plan). */
export const CONSULTATION_NOTE_URL = 'https://fhir.steadfast.health/StructureDefinition/consultation-note';

export interface ConsultationNote {
  history?: string;
  examination?: string;
  plan?: string;
}

export function consultationNote(e: Encounter): ConsultationNote {
  const ext = e.extension?.find((x) => x.url === CONSULTATION_NOTE_URL);
  if (ext?.extension) {
    const part = (name: string) => ext.extension?.find((x) => x.url === name)?.valueString;
    const note: ConsultationNote = {};
    const h = part('history');
    const x = part('examination');
    const p = part('plan');
    if (h) note.history = h;
    if (x) note.examination = x;
    if (p) note.plan = p;
    return note;
  }
  // Encounters from elsewhere may carry only a narrative.
  const div = e.text?.div;
  if (div) return { history: div.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim() };
  return {};
}

const ABNORMAL = new Set(['H', 'HH', 'L', 'LL', 'A', 'AA', 'HU', 'LU', '>', '<']);

/** Abnormal by the lab's flag, or by the reference range when the lab gave no flag. */
export function abnormalFlag(o: Observation): string | undefined {
  const codes = (o.interpretation ?? []).flatMap((i) => i.coding ?? []).map((c) => c.code ?? '');
  const flagged = codes.find((c) => ABNORMAL.has(c));
  if (flagged) return flagged;
  const v = o.valueQuantity?.value;
  const range = o.referenceRange?.[0];
  if (typeof v === 'number' && range) {
    if (typeof range.high?.value === 'number' && v > range.high.value) return 'H';
    if (typeof range.low?.value === 'number' && v < range.low.value) return 'L';
  }
  return undefined;
}

export function abnormalText(flag: string): string {
  if (flag.startsWith('H') || flag === '>') return flag === 'HH' ? 'Very high' : 'High';
  if (flag.startsWith('L') || flag === '<') return flag === 'LL' ? 'Very low' : 'Low';
  return 'Abnormal';
}

export function observationValue(o: Observation): string {
  if (o.valueQuantity) return `${o.valueQuantity.value ?? ''} ${o.valueQuantity.unit ?? o.valueQuantity.code ?? ''}`.trim();
  if (o.component?.length) {
    // Blood pressure: "142/88 mmHg".
    const vals = o.component.map((c) => c.valueQuantity?.value).filter((v) => v !== undefined);
    const unit = o.component[0]?.valueQuantity?.unit ?? '';
    return `${vals.join('/')} ${unit}`.trim();
  }
  if (o.valueString) return o.valueString;
  if (o.valueCodeableConcept) return o.valueCodeableConcept.text ?? o.valueCodeableConcept.coding?.[0]?.display ?? '';
  if (typeof o.valueBoolean === 'boolean') return o.valueBoolean ? 'Yes' : 'No';
  return '';
}

export function observationDate(o: Observation): string | undefined {
  return o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.issued;
}

export function isVitalSign(o: Observation): boolean {
  return (o.category ?? []).some((c) => c.coding?.some((x) => x.code === 'vital-signs'));
}

/** Newest first by the given date getter; undated entries last. */
export function newestFirst<T>(items: T[], dateOf: (t: T) => string | undefined): T[] {
  return [...items].sort((a, b) => (dateOf(b) ?? '').localeCompare(dateOf(a) ?? ''));
}
