/**
 * The EPS short-form prescription order number (FHIR identifier system
 * https://fhir.nhs.uk/Id/prescription-order-number), as NHS England publishes it for the
 * MedicationRequest.groupIdentifier of an EPS prescription:
 *
 *   RRRRRR-OOOOOO-SSSSSC   (18 characters with the two hyphens, always three blocks of six)
 *
 * - R: six hexadecimal characters, random each time an id is made;
 * - O: the prescriber's ODS code (practice or clinic cost centre), zero-padded at the start to six;
 * - S: five hexadecimal characters: the practice's sequence number (00000..FFFFF, then back to 0), or
 *      random when the caller keeps no sequence (NHS England's own reference code does that);
 * - C: the check character over the 17 characters before it (hyphens removed), ISO/IEC 7064:2003
 *      MOD 37-2, with "+" in place of "*" for the value 36 (as EPS Release 1 and 2 use it).
 *
 * Known ids from the published material (tests): 83C40E-A23856-00123W (the specification's example),
 * 9AD427-A83008-2E461K and 18B064-A99968-4BCAA3 (NHS England's EPS FHIR API examples).
 * Pure: the randomness is passed in.
 */

export const PRESCRIPTION_ORDER_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/prescription-order-number';

/** The 37 check characters, by value: 0-9, A-Z, then "+" for 36. */
const CHECK_CHARACTERS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ+';

const SHAPE = /^[0-9A-F]{6}-[0-9A-Z]{6}-[0-9A-F]{5}[0-9A-Z+]$/;

/** ISO 7064 MOD 37-2 running total over alphanumeric characters (0-9 -> 0-9, A-Z -> 10-35). */
function mod37Total(body: string): number {
  let total = 0;
  for (const ch of body) {
    const value = CHECK_CHARACTERS.indexOf(ch);
    if (value < 0 || value > 35) throw new Error(`prescription id character "${ch}" is not 0-9 or A-Z`);
    total = ((total + value) * 2) % 37;
  }
  return total;
}

/** The check character for the 17 characters of an id without hyphens and without its check character. */
export function prescriptionIdCheckCharacter(body: string): string {
  const raw = body.replace(/-/g, '').toUpperCase();
  if (!/^[0-9A-Z]{17}$/.test(raw)) {
    throw new Error(`prescription id body "${body}" must be 17 characters 0-9 or A-Z (hyphens are ignored)`);
  }
  return CHECK_CHARACTERS[(38 - mod37Total(raw)) % 37]!;
}

/** An ODS code as it appears inside the id: upper case, zero-padded at the start to six characters. */
export function prescriptionIdOdsPart(ods: string): string {
  const code = ods.trim().toUpperCase();
  if (!/^[0-9A-Z]{1,6}$/.test(code)) {
    throw new Error(`ODS code "${ods}" must be 1 to 6 letters or digits to go in a prescription id (e.g. "A83008")`);
  }
  return code.padStart(6, '0');
}

function hex(random: () => number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    const r = random();
    if (!(r >= 0 && r < 1)) throw new Error(`newPrescriptionId: random() must return a number in [0, 1), got ${r}`);
    out += Math.floor(r * 16).toString(16).toUpperCase();
  }
  return out;
}

export interface PrescriptionIdOptions {
  /** The practice's sequence number (any non-negative integer; taken modulo 0x100000). Random when absent. */
  sequence?: number;
}

/**
 * A new short-form prescription id for a prescriber at `ods`. `random` returns uniform numbers in [0, 1)
 * (a seeded `Random`'s `next` in tests and the demo, a crypto source on a node).
 */
export function newPrescriptionId(ods: string, random: () => number, options: PrescriptionIdOptions = {}): string {
  const first = hex(random, 6);
  const odsPart = prescriptionIdOdsPart(ods);
  let sequence: string;
  if (options.sequence === undefined) sequence = hex(random, 5);
  else {
    if (!Number.isSafeInteger(options.sequence) || options.sequence < 0) {
      throw new Error(`prescription id sequence must be a non-negative integer, got ${options.sequence}`);
    }
    sequence = (options.sequence % 0x100000).toString(16).toUpperCase().padStart(5, '0');
  }
  const body = `${first}${odsPart}${sequence}`;
  return `${first}-${odsPart}-${sequence}${prescriptionIdCheckCharacter(body)}`;
}

/** Why `id` is not a valid short-form prescription id, or undefined when it is. */
export function explainInvalidPrescriptionId(id: string): string | undefined {
  if (typeof id !== 'string') return 'a prescription id must be a string like "83C40E-A23856-00123W"';
  if (id.length !== 20 && id.replace(/-/g, '').length === 18) {
    return `prescription id "${id}" must be written as three blocks of six separated by hyphens, e.g. "83C40E-A23856-00123W"`;
  }
  if (!SHAPE.test(id)) {
    return `prescription id "${id}" must look like "83C40E-A23856-00123W": six hex characters, the six-character ODS code, five hex characters and a check character, upper case`;
  }
  const raw = id.replace(/-/g, '');
  const expected = prescriptionIdCheckCharacter(raw.slice(0, 17));
  if (raw[17] !== expected) return `prescription id "${id}" fails the ISO 7064 MOD 37-2 check (last character should be "${expected}")`;
  return undefined;
}

export function isValidPrescriptionId(id: string): boolean {
  return explainInvalidPrescriptionId(id) === undefined;
}

/** The (zero-padded) ODS code inside a valid id, e.g. "A83008" from "9AD427-A83008-2E461K". */
export function prescriptionIdOds(id: string): string {
  const why = explainInvalidPrescriptionId(id);
  if (why) throw new Error(why);
  return id.slice(7, 13);
}
