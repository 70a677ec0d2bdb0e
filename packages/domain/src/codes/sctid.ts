/**
 * SNOMED CT identifiers (SCTIDs): 6-18 digits, ending in a two-digit partition identifier and a
 * Verhoeff check digit. Checking the form catches a mistyped or truncated code before it is stored;
 * it cannot prove that the code means what its display text says (see the bundled subset's tests).
 */

/** Multiplication in the dihedral group D5. */
const D5: readonly (readonly number[])[] = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const INVERSE = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9] as const;

/** Position permutations: row 1 is Verhoeff's F, each further row applies it once more (as SNOMED's guide builds it). */
const F: number[][] = (() => {
  const rows: number[][] = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4]];
  for (let i = 2; i < 8; i++) rows.push(rows[1]!.map((_, j) => rows[i - 1]![rows[1]![j]!]!));
  return rows;
})();

/** The Verhoeff check digit for a string of digits (the SCTID without its last digit). */
export function verhoeffCheckDigit(digits: string): number {
  if (!/^\d+$/.test(digits)) throw new Error(`verhoeffCheckDigit needs digits only, got "${digits}"`);
  let check = 0;
  for (let i = 0; i < digits.length; i++) {
    const digit = Number(digits[digits.length - 1 - i]);
    check = D5[check]![F[(i + 1) % 8]![digit]!]!;
  }
  return INVERSE[check as 0]!;
}

/** True when the whole string (check digit included) passes Verhoeff's check. */
export function passesVerhoeff(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let check = 0;
  for (let i = 0; i < digits.length; i++) {
    const digit = Number(digits[digits.length - 1 - i]);
    check = D5[check]![F[i % 8]![digit]!]!;
  }
  return check === 0;
}

export type SctIdPartition = 'concept' | 'description' | 'relationship';

const PARTITIONS: Record<string, { component: SctIdPartition; extension: boolean }> = {
  '00': { component: 'concept', extension: false },
  '01': { component: 'description', extension: false },
  '02': { component: 'relationship', extension: false },
  '10': { component: 'concept', extension: true },
  '11': { component: 'description', extension: true },
  '12': { component: 'relationship', extension: true },
};

/** What an SCTID identifies, or undefined when it is not a well-formed SCTID. */
export function describeSctId(id: string): { component: SctIdPartition; extension: boolean } | undefined {
  if (!/^[1-9]\d{5,17}$/.test(id)) return undefined;
  const partition = PARTITIONS[id.slice(-3, -1)];
  if (!partition || !passesVerhoeff(id)) return undefined;
  // An extension id carries a seven-digit namespace before the partition, so it has at least 11 digits.
  if (partition.extension && id.length < 11) return undefined;
  return partition;
}

/** A well-formed SCTID: 6-18 digits, no leading zero, a known partition and a valid Verhoeff check digit. */
export function isValidSctId(id: string): boolean {
  return describeSctId(id) !== undefined;
}

/** A well-formed SCTID that identifies a concept (not a description or relationship). */
export function isValidConceptId(id: string): boolean {
  return describeSctId(id)?.component === 'concept';
}
