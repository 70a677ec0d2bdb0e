import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { isUniqueViolation } from './uniqueViolation.ts';
import { PG_SKIP_REASON, openTestStore, postgresAvailable } from './testing/backends.ts';

const pgOk = await postgresAvailable();
const backends = [
  { backend: 'sqlite' as const, skip: false as const },
  { backend: 'postgres' as const, skip: pgOk ? (false as const) : PG_SKIP_REASON },
];

for (const { backend, skip } of backends) {
  test(`isUniqueViolation: recognises a real unique and primary key violation by code, not other errors (${backend})`, { skip }, async () => {
    const t = await openTestStore(backend, {
      migrations: [
        {
          name: '9000-unique-test',
          async up(db) {
            await db.schema.createTable('uv_test').addColumn('id', 'varchar(8)', (c) => c.primaryKey()).addColumn('name', 'varchar(8)', (c) => c.notNull().unique()).execute();
          },
        },
      ],
    });
    try {
      const db = t.store.db as any;
      await db.insertInto('uv_test').values({ id: 'a', name: 'x' }).execute();
      const caught = async (fn: () => Promise<unknown>) => fn().then(() => undefined, (e: unknown) => e);
      const pk = await caught(() => db.insertInto('uv_test').values({ id: 'a', name: 'y' }).execute());
      const uq = await caught(() => db.insertInto('uv_test').values({ id: 'b', name: 'x' }).execute());
      const notNull = await caught(() => db.insertInto('uv_test').values({ id: 'c', name: null }).execute());
      const syntax = await caught(() => sql`SELEC nonsense`.execute(db));
      assert.equal(isUniqueViolation(pk), true, `primary key: ${(pk as Error)?.message}`);
      assert.equal(isUniqueViolation(uq), true, `unique: ${(uq as Error)?.message}`);
      assert.equal(isUniqueViolation(notNull), false, 'a NOT NULL violation is not a unique violation');
      assert.equal(isUniqueViolation(syntax), false);
      assert.equal(isUniqueViolation(new Error('UNIQUE constraint failed: uv_test.id')), false, 'message text alone is not evidence');
      assert.equal(isUniqueViolation(undefined), false);
    } finally {
      await t.dispose();
    }
  });
}
