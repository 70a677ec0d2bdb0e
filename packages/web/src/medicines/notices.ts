/**
 * What was just prescribed or issued, kept for the page's life: the record reloads after a write
 * (its screens unmount while it does), and the prescriber must still see the prescription id and
 * how it goes out afterwards.
 */
import { useState } from 'react';

const notices = new Map<string, unknown>();

export function useNotice<T>(key: string): [T | undefined, (v: T | undefined) => void] {
  const [value, setValue] = useState<T | undefined>(() => notices.get(key) as T | undefined);
  return [
    value,
    (v) => {
      if (v === undefined) notices.delete(key);
      else notices.set(key, v);
      setValue(v);
    },
  ];
}
