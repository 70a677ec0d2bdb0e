/**
 * A statement written once as SQL with `?` placeholders, for either dialect (`$1, $2, …` on
 * PostgreSQL), run with `db.executeQuery(statement(...))`. For hot paths where building the same
 * query with the query builder for every call costs more than running it.
 */
import { CompiledQuery } from 'kysely';
import type { Dialect } from './schema.ts';

const numbered = new Map<string, string>();

export function statement(dialect: Dialect, text: string, params: readonly unknown[]): CompiledQuery {
  if (dialect === 'sqlite') return CompiledQuery.raw(text, [...params]);
  let pg = numbered.get(text);
  if (!pg) {
    let n = 0;
    pg = text.replace(/\?/g, () => `$${++n}`);
    if (numbered.size > 1000) numbered.clear();
    numbered.set(text, pg);
  }
  return CompiledQuery.raw(pg, [...params]);
}
