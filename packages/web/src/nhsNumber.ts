/**
 * NHS number helpers for the browser. The app must not bundle @steadfast/domain (it pulls in the FHIR
 * definitions), so these mirror packages/domain/src/nhs-number.ts; nhsNumber.test.ts proves they agree.
 */
export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

export function isValidNhsNumber(input: string): boolean {
  const d = input.replace(/[\s-]/g, '');
  if (!/^\d{10}$/.test(d)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(d[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return false;
  return (check === 11 ? 0 : check) === Number(d[9]);
}

/** 3-3-4, the way staff and patients read it aloud: "999 123 4564". */
export function formatNhsNumber(input: string | undefined): string {
  if (!input) return '';
  const d = input.replace(/[\s-]/g, '');
  return d.length === 10 ? `${d.slice(0, 3)} ${d.slice(3, 6)} ${d.slice(6)}` : input;
}
