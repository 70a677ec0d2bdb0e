import type { KeyboardEvent } from 'react';

/**
 * The key handler of a search box with a listbox of results (patients, SNOMED CT codes, dm+d
 * products): arrows move the highlighted option, Enter picks it.
 */
export function listboxKeys<T>(items: readonly T[], active: number, setActive: (next: (i: number) => number) => void, pick: (item: T) => void) {
  return (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setActive((i) => Math.min(i + 1, items.length - 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((i) => Math.max(i - 1, 0));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const item = items[active];
      if (item !== undefined) pick(item);
    }
  };
}
