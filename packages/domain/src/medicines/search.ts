/**
 * Finding a product as the prescriber types: every word typed must begin a word of the product's name,
 * substance or one of its brand (AMP) names. Best first: the name begins with what was typed, then the
 * first word matches, then the rest; shorter names first within a rank, then alphabetical. Pure.
 */
import { words } from './products.ts';
import type { DmdProduct } from './types.ts';

export function searchProducts(query: string, products: readonly DmdProduct[], limit = 20): DmdProduct[] {
  const typed = words(query);
  if (typed.length === 0) return [];
  const q = typed.join(' ');
  const ranked: Array<{ p: DmdProduct; rank: number }> = [];
  for (const p of products) {
    const name = words(p.name);
    const all = [...name, ...words(p.vtmName), ...p.amps.flatMap((a) => words(a.name))];
    if (!typed.every((t) => all.some((w) => w.startsWith(t)))) continue;
    const rank = name.join(' ').startsWith(q) ? 0 : name[0]!.startsWith(typed[0]!) ? 1 : typed.every((t) => name.some((w) => w.startsWith(t))) ? 2 : 3;
    ranked.push({ p, rank });
  }
  ranked.sort((a, b) => a.rank - b.rank || a.p.name.length - b.p.name.length || a.p.name.localeCompare(b.p.name));
  return ranked.slice(0, Math.max(0, limit)).map((r) => r.p);
}
