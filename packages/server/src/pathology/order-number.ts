/**
 * Placer order numbers: practice ODS code, date, node letter + daily sequence, and a check
 * character, e.g. `A81001-261125-K0007-Q`. The node letter keeps two nodes of one practice (working
 * apart during an outage) from issuing the same number; the check character catches a mistyped or
 * misread number before it is matched to the wrong request.
 */
import { createHash } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Luhn mod 36 check character over letters and digits (dashes ignored). */
export function checkCharacter(body: string): string {
  const chars = body.toUpperCase().replace(/-/g, '');
  let factor = 2;
  let sum = 0;
  for (let i = chars.length - 1; i >= 0; i--) {
    const code = ALPHABET.indexOf(chars[i]!);
    if (code < 0) throw new Error(`checkCharacter: "${chars[i]}" is not a letter or digit`);
    let addend = factor * code;
    factor = factor === 2 ? 1 : 2;
    addend = Math.floor(addend / 36) + (addend % 36);
    sum += addend;
  }
  return ALPHABET[(36 - (sum % 36)) % 36]!;
}

export function isValidOrderNumber(value: string): boolean {
  const m = /^([A-Z0-9]{3,10})-(\d{6})-([A-Z]\d{4,})-([A-Z0-9])$/.exec(value);
  if (!m) return false;
  return checkCharacter(`${m[1]}${m[2]}${m[3]}`) === m[4];
}

export function nodeLetter(nodeId: string): string {
  return ALPHABET[10 + (createHash('sha256').update(nodeId).digest()[0]! % 26)]!;
}

export function formatOrderNumber(practice: string, date: Date, nodeId: string, seq: number): string {
  const ymd = date.toISOString().slice(2, 10).replace(/-/g, '');
  const body = `${practice.toUpperCase()}-${ymd}-${nodeLetter(nodeId)}${String(seq).padStart(4, '0')}`;
  return `${body}-${checkCharacter(body)}`;
}
