/**
 * Observation entry: what each measurement is, the values a human body can have (entry outside these
 * is almost certainly a typing slip and is refused), and the usual adult reference range (outside it
 * the value is saved but flagged High/Low). Pure; observations.test.ts pins the limits.
 */
import type { Observation } from '../fhirTypes.ts';

export type VitalKey = 'systolic' | 'diastolic' | 'pulse' | 'weight' | 'height' | 'temperature' | 'spo2';

export interface VitalDef {
  label: string;
  unit: string;
  ucum: string;
  snomed: { code: string; display: string };
  loinc: string;
  /** Plausible: outside this the entry is refused as a likely typing error. */
  min: number;
  max: number;
  /** Reference range: outside this the value is flagged. */
  low?: number;
  high?: number;
  decimals: number;
}

export const vitals: Record<VitalKey, VitalDef> = {
  systolic: { label: 'Systolic blood pressure', unit: 'mmHg', ucum: 'mm[Hg]', snomed: { code: '271649006', display: 'Systolic blood pressure' }, loinc: '8480-6', min: 50, max: 300, low: 90, high: 140, decimals: 0 },
  diastolic: { label: 'Diastolic blood pressure', unit: 'mmHg', ucum: 'mm[Hg]', snomed: { code: '271650006', display: 'Diastolic blood pressure' }, loinc: '8462-4', min: 20, max: 200, low: 60, high: 90, decimals: 0 },
  pulse: { label: 'Pulse rate', unit: 'beats/min', ucum: '/min', snomed: { code: '78564009', display: 'Pulse rate' }, loinc: '8867-4', min: 20, max: 250, low: 50, high: 100, decimals: 0 },
  weight: { label: 'Body weight', unit: 'kg', ucum: 'kg', snomed: { code: '27113001', display: 'Body weight' }, loinc: '29463-7', min: 0.3, max: 350, decimals: 1 },
  height: { label: 'Body height', unit: 'cm', ucum: 'cm', snomed: { code: '50373000', display: 'Body height' }, loinc: '8302-2', min: 25, max: 250, decimals: 1 },
  temperature: { label: 'Body temperature', unit: '°C', ucum: 'Cel', snomed: { code: '276885007', display: 'Core body temperature' }, loinc: '8310-5', min: 25, max: 45, low: 35, high: 37.9, decimals: 1 },
  spo2: { label: 'Oxygen saturation (SpO2)', unit: '%', ucum: '%', snomed: { code: '431314004', display: 'Peripheral oxygen saturation' }, loinc: '59408-5', min: 50, max: 100, low: 94, decimals: 0 },
};

const BMI = { snomed: { code: '60621009', display: 'Body mass index' }, loinc: '39156-5', low: 18.5, high: 30 };
const BLOOD_PRESSURE = { snomed: { code: '75367002', display: 'Blood pressure' }, loinc: '85354-9' };

export type VitalInput = Partial<Record<VitalKey, string>>;

export interface VitalCheck {
  key: VitalKey | 'bmi' | 'bp';
  value?: number;
  /** Refuses saving. */
  error?: string;
  /** Saved, but flagged to the clinician and in the record. */
  flag?: 'H' | 'L';
}

/** BMI = kg / m², one decimal; undefined unless both weight and height are valid. */
export function bmi(weightKg: number | undefined, heightCm: number | undefined): number | undefined {
  if (!weightKg || !heightCm) return undefined;
  const m = heightCm / 100;
  return Math.round((weightKg / (m * m)) * 10) / 10;
}

export function checkVitals(input: VitalInput): Record<string, VitalCheck> {
  const out: Record<string, VitalCheck> = {};
  for (const key of Object.keys(vitals) as VitalKey[]) {
    const raw = input[key]?.trim();
    if (!raw) continue;
    const def = vitals[key];
    const value = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(value)) {
      out[key] = { key, error: `${def.label} must be a number in ${def.unit}, e.g. ${def.min + Math.round((def.max - def.min) / 3)}` };
      continue;
    }
    if (value < def.min || value > def.max) {
      out[key] = { key, value, error: `${def.label} of ${raw} ${def.unit} is not possible; check the reading (allowed ${def.min} to ${def.max} ${def.unit})` };
      continue;
    }
    const check: VitalCheck = { key, value };
    if (def.high !== undefined && value > def.high) check.flag = 'H';
    if (def.low !== undefined && value < def.low) check.flag = 'L';
    out[key] = check;
  }
  const sys = out.systolic;
  const dia = out.diastolic;
  if ((sys && !dia) || (!sys && dia)) out.bp = { key: 'bp', error: 'Blood pressure needs both the systolic and the diastolic reading' };
  else if (sys?.value !== undefined && dia?.value !== undefined && !sys.error && !dia.error && dia.value >= sys.value) {
    out.bp = { key: 'bp', error: `Diastolic (${dia.value}) must be lower than systolic (${sys.value}); are they the wrong way round?` };
  }
  const w = out.weight;
  const h = out.height;
  const b = bmi(w && !w.error ? w.value : undefined, h && !h.error ? h.value : undefined);
  if (b !== undefined) {
    const check: VitalCheck = { key: 'bmi', value: b };
    if (b < 8 || b > 150) check.error = `BMI ${b} is not possible; check weight and height (height in cm)`;
    else if (b >= BMI.high) check.flag = 'H';
    else if (b < BMI.low) check.flag = 'L';
    out.bmi = check;
  }
  return out;
}

export function hasErrors(checks: Record<string, VitalCheck>): boolean {
  return Object.values(checks).some((c) => c.error);
}

const interpretation = (flag: 'H' | 'L' | undefined) =>
  flag
    ? [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: flag, display: flag === 'H' ? 'High' : 'Low' }] }]
    : undefined;

const code = (c: { snomed: { code: string; display: string }; loinc: string }) => ({
  coding: [
    { system: 'http://snomed.info/sct', code: c.snomed.code, display: c.snomed.display },
    { system: 'http://loinc.org', code: c.loinc },
  ],
  text: c.snomed.display,
});

const quantity = (value: number, unit: string, ucum: string) => ({ value, unit, system: 'http://unitsofmeasure.org', code: ucum });

/** FHIR vital-signs Observations for the valid readings (blood pressure as one with two components). */
export function vitalObservations(checks: Record<string, VitalCheck>, base: Pick<Observation, 'subject' | 'encounter' | 'effectiveDateTime' | 'performer'>): Observation[] {
  const common = { resourceType: 'Observation' as const, status: 'final' as const, category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' }] }], ...base };
  const out: Observation[] = [];
  const sys = checks.systolic;
  const dia = checks.diastolic;
  if (sys?.value !== undefined && dia?.value !== undefined && !sys.error && !dia.error && !checks.bp?.error) {
    const flag = sys.flag === 'H' || dia.flag === 'H' ? 'H' : sys.flag === 'L' || dia.flag === 'L' ? 'L' : undefined;
    const interp = interpretation(flag);
    out.push({
      ...common,
      code: code(BLOOD_PRESSURE),
      component: [
        { code: code(vitals.systolic), valueQuantity: quantity(sys.value, 'mmHg', 'mm[Hg]'), ...(sys.flag ? { interpretation: interpretation(sys.flag) } : {}) },
        { code: code(vitals.diastolic), valueQuantity: quantity(dia.value, 'mmHg', 'mm[Hg]'), ...(dia.flag ? { interpretation: interpretation(dia.flag) } : {}) },
      ],
      ...(interp ? { interpretation: interp } : {}),
    });
  }
  for (const key of ['pulse', 'weight', 'height', 'temperature', 'spo2'] as const) {
    const c = checks[key];
    if (c?.value === undefined || c.error) continue;
    const def = vitals[key];
    const interp = interpretation(c.flag);
    out.push({ ...common, code: code(def), valueQuantity: quantity(c.value, def.unit, def.ucum), ...(interp ? { interpretation: interp } : {}) });
  }
  const b = checks.bmi;
  if (b?.value !== undefined && !b.error) {
    const interp = interpretation(b.flag);
    out.push({ ...common, code: code(BMI), valueQuantity: quantity(b.value, 'kg/m2', 'kg/m2'), ...(interp ? { interpretation: interp } : {}) });
  }
  return out;
}
