import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statement } from './statement.ts';

test('statement: ? placeholders stay for SQLite and become $1, $2, … for PostgreSQL', () => {
  const text = 'SELECT x FROM t WHERE a = ? AND b IN (?, ?)';
  assert.equal(statement('sqlite', text, [1, 2, 3]).sql, text);
  const pg = statement('postgres', text, [1, 2, 3]);
  assert.equal(pg.sql, 'SELECT x FROM t WHERE a = $1 AND b IN ($2, $3)');
  assert.deepEqual(pg.parameters, [1, 2, 3]);
});
