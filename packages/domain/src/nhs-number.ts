/**
 * NHS numbers: 10 digits, the last a Modulus 11 check digit. Numbers starting 999 are reserved for
 * testing and are the only ones Steadfast's synthetic data uses.
 */
export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

/** Check digit for the first nine digits, or undefined when no valid check digit exists (remainder 10). */
export function nhsCheckDigit(firstNine: string): number | undefined {
  if (!/^\d{9}$/.test(firstNine)) throw new Error(`nhsCheckDigit needs nine digits, got "${firstNine}"`);
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(firstNine[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  if (check === 10) return undefined;
  return check;
}

/** Strip the spaces and dashes people type ("999 123 4564", "999-123-4564"). */
export function normaliseNhsNumber(input: string): string {
  return input.replace(/[\s-]/g, '');
}

export function isValidNhsNumber(input: string): boolean {
  const digits = normaliseNhsNumber(input);
  if (!/^\d{10}$/.test(digits)) return false;
  const check = nhsCheckDigit(digits.slice(0, 9));
  return check !== undefined && check === Number(digits[9]);
}

/** Why a string is not a valid NHS number, or undefined when it is. */
export function explainInvalidNhsNumber(input: string): string | undefined {
  const digits = normaliseNhsNumber(input);
  if (!/^\d+$/.test(digits)) return `NHS number "${input}" must contain only digits (spaces are allowed)`;
  if (digits.length !== 10) return `NHS number "${input}" has ${digits.length} digits; it must have 10`;
  const check = nhsCheckDigit(digits.slice(0, 9));
  if (check === undefined) return `NHS number "${input}" cannot be valid: its first nine digits have no Modulus 11 check digit`;
  if (check !== Number(digits[9])) return `NHS number "${input}" fails the Modulus 11 check (last digit should be ${check})`;
  return undefined;
}

/** Shown to people as 3-3-4: "999 123 4564" (staff and patients read it aloud that way). */
export function formatNhsNumber(input: string | undefined): string {
  if (!input) return '';
  const d = normaliseNhsNumber(input);
  return d.length === 10 ? `${d.slice(0, 3)} ${d.slice(3, 6)} ${d.slice(6)}` : input;
}

let validTestStems: Int32Array | undefined;

/** How many distinct valid NHS numbers the 999 test range holds (stems with a check digit). */
export function testNhsNumberCapacity(): number {
  return testStems().length;
}

function testStems(): Int32Array {
  if (!validTestStems) {
    const stems: number[] = [];
    for (let i = 0; i < 1_000_000; i++) if (nhsCheckDigit(`999${String(i).padStart(6, '0')}`) !== undefined) stems.push(i);
    validTestStems = Int32Array.from(stems);
  }
  return validTestStems;
}

/**
 * The n-th valid test-range NHS number (999xxxxxxx), 0-based: distinct for every n below
 * testNhsNumberCapacity() (about 909,000), so seeded data is reproducible and never repeats a number.
 */
export function testNhsNumber(n: number): string {
  const stems = testStems();
  if (!Number.isInteger(n) || n < 0 || n >= stems.length) {
    throw new RangeError(`testNhsNumber(${n}): the 999 test range has ${stems.length} valid numbers (0 to ${stems.length - 1})`);
  }
  const firstNine = `999${String(stems[n]).padStart(6, '0')}`;
  return firstNine + nhsCheckDigit(firstNine);
}
