/**
 * Units of measure shown one way. Laboratories send UCUM-ish text ("umol/L", "mmol/l", "10*9/L",
 * "g/l"); the catalogue writes "µmol/L". A clinician comparing today's creatinine with last year's
 * must not see two spellings of one unit and wonder whether they differ. Pure: browser and Node.
 */

/** Spellings seen from laboratories (lower-cased, spaces removed) and the one way we show each. */
const DISPLAY: Record<string, string> = {
  'umol/l': 'µmol/L',
  'µmol/l': 'µmol/L',
  'μmol/l': 'µmol/L', // Greek mu (U+03BC) as well as the micro sign (U+00B5)
  'mmol/l': 'mmol/L',
  'nmol/l': 'nmol/L',
  'pmol/l': 'pmol/L',
  'mol/l': 'mol/L',
  'g/l': 'g/L',
  'mg/l': 'mg/L',
  'ug/l': 'µg/L',
  'µg/l': 'µg/L',
  'ng/l': 'ng/L',
  'iu/l': 'IU/L',
  'u/l': 'U/L',
  'miu/l': 'mIU/L',
  'mu/l': 'mU/L',
  '10*9/l': '× 10⁹/L',
  '10^9/l': '× 10⁹/L',
  'x10*9/l': '× 10⁹/L',
  'x10^9/l': '× 10⁹/L',
  '10*12/l': '× 10¹²/L',
  '10^12/l': '× 10¹²/L',
  'x10*12/l': '× 10¹²/L',
  'x10^12/l': '× 10¹²/L',
  'ml/min/1.73m2': 'mL/min/1.73m²',
  'ml/min/{1.73_m2}': 'mL/min/1.73m²',
  'mmol/mol': 'mmol/mol',
  '%': '%',
  'l/l': 'L/L',
  fl: 'fL',
  pg: 'pg',
  'mm[hg]': 'mmHg',
  mmhg: 'mmHg',
  'kg/m2': 'kg/m²',
};

/** The one way a unit is shown ("umol/L" → "µmol/L"); an unknown unit is shown as sent, trimmed. */
export function displayUnit(unit: string | undefined | null): string {
  if (!unit) return '';
  const trimmed = unit.trim();
  return DISPLAY[trimmed.toLowerCase().replace(/\s+/g, '')] ?? trimmed;
}

/** A quantity as people read it: "<5 µmol/L", "6.8 mmol/L". */
export function displayQuantity(q: { value?: number; unit?: string; code?: string; comparator?: string } | undefined): string {
  if (!q || q.value === undefined) return '';
  return `${q.comparator ?? ''}${q.value} ${displayUnit(q.unit ?? q.code)}`.trim();
}
