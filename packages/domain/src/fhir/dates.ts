/**
 * FHIR date, dateTime and instant values checked against the calendar. The FHIR regular expressions
 * (enforced by the structure validation) allow "2020-02-30" and "2021-02-29"; these functions do not.
 * Partial dates ("2020", "2020-02") are real dates in FHIR and pass.
 */

const DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

export interface DateParts {
  year: number;
  month?: number;
  day?: number;
  hour?: number;
  minute?: number;
  second?: number;
  fraction?: string;
  zone?: string;
}

/** The parts of a FHIR date/dateTime/instant, or the reason it is not a real one. */
export function parseFhirDate(value: string): { parts: DateParts } | { problem: string } {
  const m = DATE_TIME.exec(value);
  if (!m) return { problem: 'is not in FHIR date format' };
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const parts: DateParts = { year: Number(y) };
  if (parts.year < 1) return { problem: 'has year 0000, which does not exist' };
  if (mo !== undefined) {
    parts.month = Number(mo);
    if (parts.month < 1 || parts.month > 12) return { problem: `has month ${mo}; months run 01 to 12` };
  }
  if (d !== undefined) {
    parts.day = Number(d);
    const last = daysInMonth(parts.year, parts.month!);
    if (parts.day < 1 || parts.day > last) return { problem: `has day ${d}, but ${y}-${mo} has ${last} days` };
  }
  if (h !== undefined) {
    parts.hour = Number(h);
    parts.minute = Number(mi);
    if (parts.hour > 23) return { problem: `has hour ${h}; hours run 00 to 23` };
    if (parts.minute > 59) return { problem: `has minute ${mi}; minutes run 00 to 59` };
    if (s !== undefined) {
      parts.second = Number(s);
      // 60 is allowed by FHIR for a leap second.
      if (parts.second > 60) return { problem: `has second ${s}; seconds run 00 to 59` };
    }
    if (frac !== undefined) parts.fraction = frac;
    if (zone !== undefined) {
      parts.zone = zone;
      if (zone !== 'Z') {
        const zh = Number(zone.slice(1, 3));
        const zm = Number(zone.slice(4, 6));
        if (zh > 14 || zm > 59 || (zh === 14 && zm > 0)) return { problem: `has time zone ${zone}; offsets run -12:00 to +14:00` };
      }
    }
  }
  return { parts };
}

/** Why the value is not a real calendar date/time, or undefined when it is. */
export function calendarProblem(value: string): string | undefined {
  const r = parseFhirDate(value);
  return 'problem' in r ? r.problem : undefined;
}
