import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { withStatementCache } from './statementCache.ts';

test('statement cache: the same SQL reuses one prepared statement; the least recently used is dropped at capacity', () => {
  const raw = new Database(':memory:');
  let prepared = 0;
  const counting = new Proxy(raw, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => (prepared++, target.prepare(sql));
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const db = withStatementCache(counting, 2);
  db.prepare('CREATE TABLE t (x)').run([]);
  const insert = db.prepare('INSERT INTO t VALUES (?)');
  insert.run([1]);
  assert.equal(db.prepare('INSERT INTO t VALUES (?)'), insert);
  assert.equal(prepared, 2);
  db.prepare('SELECT x FROM t'); // capacity 2: CREATE TABLE is the least recently used and goes
  db.prepare('INSERT INTO t VALUES (?)');
  assert.equal(prepared, 3);
  db.prepare('CREATE TABLE IF NOT EXISTS t (x)');
  assert.equal(prepared, 4);
  assert.deepEqual(db.prepare('SELECT x FROM t').all([]), [{ x: 1 }]);
  db.close();
});
