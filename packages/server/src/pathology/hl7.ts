/**
 * HL7 v2 helpers around `Hl7Message` from @medplum/core: a parse that fails with a SteadfastError
 * naming the problem (never anything else), escape decoding, and HL7 timestamps to FHIR dateTimes.
 */
import { Hl7Message } from '@medplum/core';
import type { Hl7Field, Hl7Segment } from '@medplum/core';
import { SteadfastError } from '@steadfast/domain';

export const SUPPORTED_VERSIONS = ['2.3', '2.3.1', '2.4', '2.5', '2.5.1'];

/** Parse raw text (CR, LF or CRLF segment ends; optional MLLP bytes and BOM) into a message. */
export function parseHl7(raw: string): Hl7Message {
  const text = raw
    .replace(/^\uFEFF/, '')
    .replace(/^[\x0b\s]+/, '')
    .replace(/[\x1c\r\n\s]+$/, '');
  if (!text.startsWith('MSH')) {
    throw new SteadfastError('invalid', 'Not an HL7 v2 message: it does not start with an MSH segment', {
      field: 'MSH',
      hint: 'Send one HL7 v2 message beginning "MSH|^~\\&|"',
    });
  }
  const fieldSep = text.charAt(3);
  const encoding = text.slice(4, 8);
  if (!fieldSep || /[A-Za-z0-9\r\n\s]/.test(fieldSep) || encoding.length < 4 || /[A-Za-z0-9\r\n]/.test(encoding) || new Set(fieldSep + encoding).size !== 5) {
    throw new SteadfastError('invalid', 'MSH-1/MSH-2 separators are missing or invalid', {
      field: 'MSH-2',
      hint: 'The message must start "MSH|^~\\&|" (five distinct separator characters)',
    });
  }
  try {
    const msg = Hl7Message.parse(text);
    // Segments must have a three-character name; anything else is a broken line, not data to guess at.
    msg.segments.forEach((s, i) => {
      if (!/^[A-Z][A-Z0-9]{2}$/.test(s.name)) {
        throw new SteadfastError('invalid', `Segment ${i + 1} has no valid segment name ("${s.name.slice(0, 10)}")`, {
          field: `segment ${i + 1}`,
          hint: 'Each line must start with a three-letter segment name such as OBX; a line may have been split by a wrapped field',
        });
      }
    });
    return msg;
  } catch (err) {
    if (err instanceof SteadfastError) throw err;
    throw new SteadfastError('invalid', `HL7 message could not be parsed: ${(err as Error)?.message ?? String(err)}`, {
      field: 'message',
      hint: 'Check the segment separators and MSH header',
    });
  }
}

const escapePatterns = new Map<string, RegExp>();

/** Decode HL7 escape sequences (\F\ \S\ \T\ \R\ \E\ \.br\ \Xhh\); unknown escapes are kept as written. */
export function unescapeHl7(value: string, msg: Hl7Message): string {
  const c = msg.context;
  const esc = c.escapeCharacter;
  if (!value.includes(esc)) return value;
  let pattern = escapePatterns.get(esc);
  if (!pattern) {
    pattern = new RegExp(`${escapeRegex(esc)}([^${escapeRegex(esc)}]{1,64})${escapeRegex(esc)}`, 'g');
    escapePatterns.set(esc, pattern);
  }
  return value.replace(pattern, (whole, body: string) => {
    switch (body) {
      case 'F':
        return c.fieldSeparator;
      case 'S':
        return c.componentSeparator;
      case 'T':
        return c.subcomponentSeparator;
      case 'R':
        return c.repetitionSeparator;
      case 'E':
        return esc;
      case '.br':
        return '\n';
    }
    if (/^X([0-9A-Fa-f]{2})+$/.test(body)) {
      return Buffer.from(body.slice(1), 'hex').toString('latin1');
    }
    return whole;
  });
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}

/** A field's component (1-based) from the first repetition, unescaped and trimmed. */
export function comp(seg: Hl7Segment | undefined, field: number, component = 1, msg?: Hl7Message, repetition = 0): string {
  if (!seg) return '';
  const f: Hl7Field | undefined = seg.getField(field);
  if (!f) return '';
  const v = f.components[repetition]?.[component - 1] ?? '';
  return (msg ? unescapeHl7(v, msg) : v).trim();
}

/** Repetitions of a field (each a list of components). */
export function repetitions(seg: Hl7Segment | undefined, field: number): string[][] {
  return seg?.getField(field)?.components ?? [];
}

/** The whole field text as sent (escapes kept), for fingerprints. */
export function fieldText(seg: Hl7Segment | undefined, field: number): string {
  return seg?.getField(field)?.toString() ?? '';
}

/**
 * HL7 TS/DTM (YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ]) to a FHIR date or dateTime. A time without an
 * offset is taken as UK local time (laboratories here send local time).
 */
export function hl7DateTime(value: string): string | undefined {
  // A message repeats the same few timestamps (MSH-7, OBR-7, every OBX-14): convert each once.
  if (dateTimes.has(value)) return dateTimes.get(value);
  const converted = convertDateTime(value);
  if (dateTimes.size >= 5000) dateTimes.clear();
  dateTimes.set(value, converted);
  return converted;
}

const dateTimes = new Map<string, string | undefined>();

function convertDateTime(value: string): string | undefined {
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?$/.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  if (Number(mo ?? 1) > 12 || Number(mo ?? 1) < 1 || Number(d ?? 1) > 31 || Number(d ?? 1) < 1) return undefined;
  if (!mo) return y;
  if (!d) return `${y}-${mo}`;
  if (!h) return `${y}-${mo}-${d}`;
  if (Number(h) > 23 || Number(mi ?? 0) > 59 || Number(s ?? 0) > 59) return undefined;
  const local = `${y}-${mo}-${d}T${h}:${mi ?? '00'}:${s ?? '00'}${frac ? `.${frac.padEnd(3, '0').slice(0, 3)}` : ''}`;
  const offset = tz ? `${tz.slice(0, 3)}:${tz.slice(3)}` : londonOffset(local);
  const date = new Date(`${local}${offset}`);
  return Number.isNaN(date.getTime()) ? undefined : `${local}${offset}`;
}

/** HL7 date (first 8 digits of a TS) to a FHIR date, or undefined. */
export function hl7Date(value: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(value.trim());
  if (!m) return undefined;
  const iso = `${m[1]}-${m[2]}-${m[3]}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(iso) ? iso : undefined;
}

let londonFormat: Intl.DateTimeFormat | undefined;
/** Offsets by hour: clocks change on the hour, and formatting a date costs more than parsing a whole OBX. */
const londonOffsets = new Map<string, string>();

/** "+00:00" or "+01:00" for a local Europe/London wall-clock time. */
function londonOffset(local: string): string {
  const hour = local.slice(0, 13);
  let offset = londonOffsets.get(hour);
  if (offset === undefined) {
    offset = computeLondonOffset(local);
    if (londonOffsets.size >= 10_000) londonOffsets.clear();
    londonOffsets.set(hour, offset);
  }
  return offset;
}

function computeLondonOffset(local: string): string {
  const asUtc = new Date(`${local}Z`);
  if (Number.isNaN(asUtc.getTime())) return 'Z';
  // Creating a DateTimeFormat costs about a millisecond; one is enough.
  londonFormat ??= new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', timeZoneName: 'shortOffset' });
  const parts = londonFormat.formatToParts(asUtc);
  const name = parts.find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  return name === 'GMT' || name === 'GMT+0' ? '+00:00' : '+01:00';
}

/** HL7 timestamp for now (UTC), for MSH-7. */
export function hl7Now(now = new Date()): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14) + '+0000';
}

/** Escape text for an HL7 field (the inverse of unescapeHl7 for the standard separators). */
export function escapeHl7(value: string): string {
  return value
    .replace(/\\/g, '\\E\\')
    .replace(/\|/g, '\\F\\')
    .replace(/\^/g, '\\S\\')
    .replace(/&/g, '\\T\\')
    .replace(/~/g, '\\R\\')
    .replace(/\r?\n/g, '\\.br\\');
}
