/**
 * One search box, many kinds of input. Staff type whatever the patient in front of them says:
 * an NHS number (with or without spaces), a date of birth in whatever format, a postcode, a name, or
 * a mix ("smith 1/2/1980"). This turns the text into FHIR Patient search parameters and a plain
 * description of what was understood, so the person can see how their words were read.
 *
 * Pure: no I/O, `today` is passed in (two-digit years depend on it).
 */
import { NHS_NUMBER_SYSTEM, formatNhsNumber, isValidNhsNumber } from '@steadfast/domain/nhs-number';

export interface ParsedQuery {
  /** FHIR Patient search parameters, ANDed; empty when there is nothing to search for. */
  params: Array<[name: string, value: string]>;
  /** What was understood, in words ("NHS number 999 123 4564", "surname Smith"). */
  understood: string[];
  /** Input that looks like something but is not valid (e.g. a bad check digit, 31/02/1980). */
  problems: string[];
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** A real calendar date as YYYY-MM-DD, or undefined (e.g. 31 February). */
function isoDate(year: number, month: number, day: number): string | undefined {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > 31 || year < 1850 || year > 2200) return undefined;
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** "80" → 1980, "05" → 2005: a two-digit year is the most recent one not in the future. */
function expandYear(yy: string, today: Date): number {
  if (yy.length === 4) return Number(yy);
  const century = Math.floor(today.getUTCFullYear() / 100) * 100;
  const y = century + Number(yy);
  return y > today.getUTCFullYear() ? y - 100 : y;
}

function describeDate(iso: string): string {
  const [y, m, d] = iso.split('-').map(Number);
  return `${d} ${MONTH_NAMES[(m ?? 1) - 1]} ${y}`;
}

function titleCase(word: string): string {
  return word
    .toLowerCase()
    .replace(/(^|[\s'-])(\p{L})/gu, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
}

export function parseQuery(input: string, today: Date = new Date()): ParsedQuery {
  const result: ParsedQuery = { params: [], understood: [], problems: [] };
  // Each recognised piece is cut out of `rest`; whatever is left over is read as a name.
  let rest = ` ${input.trim()} `;
  const cut = (match: RegExpExecArray) => {
    rest = rest.slice(0, match.index) + ' ' + rest.slice(match.index + match[0].length);
  };
  let m: RegExpExecArray | null;

  // NHS number: ten digits, optionally grouped 3-3-4 with spaces or dashes.
  m = /(?<=\s)(\d{3})[\s-]?(\d{3})[\s-]?(\d{4})(?=\s)/.exec(rest);
  if (m) {
    const digits = `${m[1]}${m[2]}${m[3]}`;
    cut(m);
    if (isValidNhsNumber(digits)) {
      result.params.push(['identifier', `${NHS_NUMBER_SYSTEM}|${digits}`]);
      result.understood.push(`NHS number ${formatNhsNumber(digits)}`);
    } else {
      result.problems.push(`${formatNhsNumber(digits)} is not a valid NHS number (the check digit is wrong); check the number with the patient`);
    }
  }

  // UK phone number: 07..., 01..., 02... (11 digits) or +44 ...
  m = /(?<=\s)(\+44\s?\d[\d\s]{8,12}\d|0\d{2,4}[\s-]?\d{3,4}[\s-]?\d{3,4})(?=\s)/.exec(rest);
  if (m) {
    let digits = m[1]!.replace(/\D/g, '');
    if (digits.startsWith('44')) digits = `0${digits.slice(2)}`;
    if (digits.length === 11) {
      cut(m);
      result.params.push(['phone', digits]);
      result.understood.push(`phone ${digits}`);
    }
  }

  // Dates written with a month name: "1 Feb 1980", "1st February 80", "1-Feb-1980".
  m = /(?<=\s)(\d{1,2})(?:st|nd|rd|th)?[\s-]+([a-z]{3,9})\.?[\s-]+(\d{4}|\d{2})(?=\s)/i.exec(rest);
  if (m && MONTHS.includes(m[2]!.slice(0, 3).toLowerCase())) {
    const month = MONTHS.indexOf(m[2]!.slice(0, 3).toLowerCase()) + 1;
    addDate(result, m[0], expandYear(m[3]!, today), month, Number(m[1]));
    cut(m);
  }

  // ISO dates: 1980-02-01.
  m = /(?<=\s)(\d{4})-(\d{1,2})-(\d{1,2})(?=\s)/.exec(rest);
  if (m) {
    addDate(result, m[0], Number(m[1]), Number(m[2]), Number(m[3]));
    cut(m);
  }

  // UK numeric dates, day first: 01/02/1980, 1-2-1980, 1.2.80, 01021980 is not accepted (too ambiguous).
  m = /(?<=\s)(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?=\s)/.exec(rest);
  if (m) {
    addDate(result, m[0], expandYear(m[3]!, today), Number(m[2]), Number(m[1]));
    cut(m);
  }

  // Full postcode, with or without the space: "LS1 4AP", "ls14ap", "SW1A 1AA".
  m = /(?<=\s)([a-z]{1,2}\d[a-z\d]?)\s*(\d[a-z]{2})(?=\s)/i.exec(rest);
  if (m) {
    const postcode = `${m[1]} ${m[2]}`.toUpperCase();
    result.params.push(['address-postalcode', postcode.replace(/\s/g, '')]);
    result.understood.push(`postcode ${postcode}`);
    cut(m);
  } else {
    // Outward code alone ("LS1", "SW1A") searches by prefix.
    m = /(?<=\s)([a-z]{1,2}\d[a-z\d]?)(?=\s)/i.exec(rest);
    if (m) {
      const outward = m[1]!.toUpperCase();
      result.params.push(['address-postalcode', outward]);
      result.understood.push(`postcode starting ${outward}`);
      cut(m);
    }
  }

  // A year alone: "1980".
  m = /(?<=\s)(1[89]\d{2}|2\d{3})(?=\s)/.exec(rest);
  if (m && Number(m[1]) <= today.getUTCFullYear() && !result.params.some(([p]) => p === 'birthdate')) {
    result.params.push(['birthdate', m[1]!]);
    result.understood.push(`born in ${m[1]}`);
    cut(m);
  }

  // Anything else with digits is not understood; say so instead of searching for it as a name.
  const leftovers = rest.trim();
  if (!leftovers) return result;
  const digitWords = leftovers.split(/\s+/).filter((w) => /\d/.test(w));
  if (digitWords.length) {
    result.problems.push(`Not understood: "${digitWords.join(' ')}". Type an NHS number (10 digits), a date of birth like 01/02/1980, or a postcode`);
  }
  const nameText = leftovers
    .split(/\s+/)
    .filter((w) => !/\d/.test(w))
    .join(' ')
    .trim();
  if (nameText) addNames(result, nameText);
  return result;
}

function addDate(result: ParsedQuery, text: string, year: number, month: number, day: number): void {
  const iso = isoDate(year, month, day);
  if (iso) {
    result.params.push(['birthdate', iso]);
    result.understood.push(`born ${describeDate(iso)}`);
  } else {
    result.problems.push(`"${text.trim()}" is not a real date; dates are read day first, e.g. 01/02/1980 is 1 February 1980`);
  }
}

/** "smith" → surname; "john smith" → given + surname; "smith, john" → surname + given. */
function addNames(result: ParsedQuery, text: string): void {
  const cleaned = text.replace(/[^\p{L}\s,'-]/gu, ' ').trim();
  if (!cleaned) return;
  let family: string;
  let given: string | undefined;
  if (cleaned.includes(',')) {
    const [before, ...after] = cleaned.split(',');
    family = before!.trim();
    given = after.join(' ').trim().split(/\s+/)[0] || undefined;
  } else {
    const words = cleaned.split(/\s+/);
    family = words[words.length - 1]!;
    given = words.length > 1 ? words[0] : undefined;
  }
  family = family.replace(/,/g, '').trim();
  if (family) {
    result.params.push(['family', family]);
    result.understood.push(`surname ${titleCase(family)}`);
  }
  if (given) {
    result.params.push(['given', given]);
    result.understood.push(`first name ${titleCase(given)}`);
  }
}

/** The query string for GET /fhir/R4/Patient. */
export function toSearchString(parsed: ParsedQuery, count = 20): string {
  const q = new URLSearchParams(parsed.params);
  q.set('_count', String(count));
  return q.toString();
}
