/**
 * Everyday words for pathology tests: what a GP or nurse types when requesting ("U&E", "bloods for
 * kidneys", "TFTs") beside the catalogue's own names. Keyed by the catalogue's test code; used by the
 * request screen's search, kept apart from a test's `aliases` (those are laboratory codes the filer
 * matches on incoming results, and must not grow by everyday words).
 */
export const EVERYDAY_TEST_TERMS: Readonly<Record<string, readonly string[]>> = {
  UE: ['U&E', 'U and E', 'U+E', 'U&Es', 'renal function', 'kidney function', 'renal profile', 'electrolytes'],
  LFT: ['LFTs', 'liver function', 'liver test'],
  FBC: ['full blood count', 'blood count', 'haemoglobin', 'Hb', 'anaemia'],
  TFT: ['TFTs', 'thyroid'],
  HBA1C: ['diabetes test', 'sugar', 'glycated haemoglobin'],
  LIPID: ['cholesterol', 'lipids'],
  CRP: ['inflammation'],
  FERR: ['iron stores', 'iron'],
  B12F: ['B12', 'folate'],
  VITD: ['vitamin D', 'vit D'],
  EGFR: ['kidney function', 'renal function'],
  UACR: ['ACR', 'urine albumin', 'kidney protein'],
  INR: ['warfarin', 'clotting'],
  MSU: ['urine culture', 'urine infection', 'water infection', 'urine sample', 'MSU'],
  PSA: ['prostate'],
  GLUF: ['fasting sugar', 'fasting glucose'],
};

/** Lower case, "&" and "+" read as "and", punctuation dropped: how typed search text is compared. */
export function normaliseSearchText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\s*[&+]\s*/g, ' and ')
    .replace(/[^a-z0-9 ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Whether a catalogue test or profile matches what was typed: every word typed appears in its code,
 * name, contents, or the everyday words for it (or for any test a profile holds).
 */
export function matchesTestQuery(item: { code: string; display: string; includes?: readonly string[]; tests?: readonly string[] }, query: string): boolean {
  const words = normaliseSearchText(query).split(' ').filter(Boolean);
  if (!words.length) return true;
  const everyday = [item.code, ...(item.tests ?? [])].flatMap((c) => EVERYDAY_TEST_TERMS[c] ?? []);
  const haystack = normaliseSearchText([item.code, item.display, ...(item.includes ?? []), ...everyday].join(' | '));
  const tokens = haystack.split(' ');
  // A typed word matches the start of a word ("elec" → "electrolytes"); a single letter only a whole
  // word ("u", "e" of "U&E"), or it would match nearly everything.
  return words.every((w) => tokens.some((t) => (w.length === 1 ? t === w : t.startsWith(w))));
}
