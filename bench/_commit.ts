import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
const raw = 'x'.repeat(640);
for (const variant of ['pk+state index', 'pk only', 'pk+partial state index']) {
  const db = new Database(join(mkdtempSync(join(tmpdir(), 'c-')), 'x.db'));
  db.pragma('journal_mode = WAL'); db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (id TEXT NOT NULL, practice TEXT NOT NULL, state TEXT, received_at TEXT, raw TEXT, PRIMARY KEY (practice, id))');
  if (variant === 'pk+state index') db.exec('CREATE INDEX s ON t (practice, state, received_at)');
  if (variant === 'pk+partial state index') db.exec("CREATE INDEX s ON t (practice, state, received_at) WHERE state <> 'duplicate'");
  const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?)');
  const tx = db.transaction((s: string) => ins.run(randomUUID(), 'Y', s, new Date().toISOString(), raw));
  for (let i = 0; i < 2000; i++) tx('received');
  for (const state of ['received', 'duplicate']) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < 3000; i++) tx(state);
    const c = process.cpuUsage(c0);
    console.log(variant.padEnd(24), state.padEnd(10), 'cpu ms/commit', ((c.user + c.system) / 1000 / 3000).toFixed(3), 'sys', (c.system / 1000 / 3000).toFixed(3));
  }
}
