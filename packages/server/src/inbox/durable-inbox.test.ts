/**
 * The generic durable inbox with a toy capability ("notes": JSON `{ key, text }`), on a real store
 * (SQLite, and PostgreSQL when reachable).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SteadfastError } from '@steadfast/domain';
import type { RecordStore } from '@steadfast/store';
import { openTestStore } from '@steadfast/store/testing';
import { backends } from '../testing/harness.ts';
import { DurableInbox, type InboxCapability } from './durable-inbox.ts';
import { inboxMigrations } from './tables.ts';

interface Note {
  key: string;
  text: string;
}

/** The toy capability: what it processed, in order; `failing` makes its store writes fail. */
function notes(options: { failing?: () => boolean } = {}) {
  const processed: string[] = [];
  const capability: InboxCapability<Note> = {
    name: 'notes',
    parse(raw) {
      let v: unknown;
      try {
        v = JSON.parse(raw);
      } catch {
        throw new SteadfastError('invalid', 'A note must be JSON', { field: 'body', hint: 'Send { "key": "...", "text": "..." }' });
      }
      const n = v as Partial<Note>;
      if (typeof n?.key !== 'string' || typeof n.text !== 'string') throw new SteadfastError('invalid', 'A note needs key and text', { field: 'key', hint: 'Send { "key": "...", "text": "..." }' });
      return { key: n.key, text: n.text };
    },
    dedupeKeys: (n) => [n.key],
    async process(batch, inbox) {
      const done: string[] = [];
      await inbox.store.transaction({ author: 'system:notes' }, async (tx) => {
        if (options.failing?.()) throw new Error('disk full');
        for (const item of batch) {
          if (!item.parsed) await inbox.quarantine(tx, item.id, 'unreadable');
          else if (item.parsed.text === 'poison') await inbox.quarantine(tx, item.id, 'poison is not a note');
          else {
            await inbox.settle(tx, item.id, 'done', 'noted', { keys: inbox.capability.dedupeKeys(item.parsed) });
            done.push(item.parsed.text);
          }
        }
      });
      processed.push(...done);
    },
  };
  return { capability, processed };
}

const note = (key: string, text: string) => JSON.stringify({ key, text });

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 10_000, what: () => string = () => 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const rawOf = async (store: RecordStore, id: string) => (await store.db.selectFrom('inbox_items' as never).selectAll().where('id' as never, '=', id as never).executeTakeFirst()) as Record<string, unknown> | undefined;

for (const { backend, skip } of await backends()) {
  test(`inbox: stored raw exactly as received with source and time, duplicates by content key once processed, unreadable quarantined at once (${backend})`, { skip }, async () => {
    const t = await openTestStore(backend, { migrations: inboxMigrations });
    try {
      const { capability, processed } = notes();
      const inbox = new DurableInbox(t.store, capability, { now: () => new Date('2025-03-01T09:00:00.000Z') });
      const raw = '{"key":"k1",  "text":"first"}\r\n';
      const first = await inbox.receive(raw, 'api');
      assert.equal(first.state, 'received');
      const row = await rawOf(t.store, first.id);
      assert.equal(row?.raw, raw, 'raw kept byte for byte');
      assert.equal(row?.source, 'api');
      assert.equal(row?.received_at, '2025-03-01T09:00:00.000Z');
      // A copy before processing is still received (the first may yet fail); once processed, a copy is a duplicate.
      assert.equal((await inbox.receive(note('k1', 'first'), 'api')).state, 'received');
      assert.equal(await inbox.processNext(), 2);
      assert.deepEqual(processed, ['first', 'first']);
      const copy = await inbox.receive(note('k1', 'again'), 'folder');
      assert.equal(copy.state, 'duplicate');
      assert.equal(await inbox.processNext(), 0, 'a duplicate is never processed');
      const bad = await inbox.receive('not json', 'api');
      assert.equal(bad.state, 'quarantined');
      assert.match(bad.reason, /must be JSON/);
      assert.equal((await rawOf(t.store, bad.id))?.raw, 'not json');
      const backlog = await inbox.backlog();
      assert.deepEqual(backlog.done, { count: 2, oldest: '2025-03-01T09:00:00.000Z' });
      assert.equal(backlog.duplicate?.count, 1);
      assert.equal(backlog.quarantined?.count, 1);
      assert.equal(backlog.received, undefined);
      assert.deepEqual(Object.keys(await inbox.backlog(['quarantined', 'received'])), ['quarantined'], 'only the states asked for');
    } finally {
      await t.dispose();
    }
  });

  test(`inbox: processed in arrival order, also within one millisecond and across batches (${backend})`, { skip }, async () => {
    const t = await openTestStore(backend, { migrations: inboxMigrations });
    try {
      const { capability, processed } = notes();
      const errors: unknown[] = [];
      const inbox = new DurableInbox(t.store, capability, { now: () => new Date('2025-03-01T09:00:00.000Z'), batchSize: 7, onError: (e) => errors.push(e) });
      try {
        const texts = Array.from({ length: 40 }, (_, i) => `n${i}`);
        const receive = inbox.receiver(9);
        // Concurrent receipts share commits; each caller still gets its own answer after its commit.
        const results = await Promise.all(texts.map((x) => receive(note(x, x), 'mllp')));
        assert.ok(results.every((r) => r.state === 'received'));
        // Generous: on a loaded 2-core machine six PostgreSQL batches have taken over 10 s.
        await waitFor(async () => processed.length === 40, 60_000, () => `${processed.length} of 40 processed; worker errors: ${errors.map(String).join('; ') || 'none'}`);
        await inbox.settled();
        assert.deepEqual(processed, texts);
      } finally {
        // Stop the worker before the store goes: a drain left running held PostgreSQL until the file timed out.
        await inbox.close();
      }
    } finally {
      await t.dispose();
    }
  });

  test(`inbox: a restart resumes with what was received and not processed, oldest first (${backend})`, { skip }, async () => {
    const t = await openTestStore(backend, { migrations: inboxMigrations });
    try {
      const before = new DurableInbox(t.store, notes().capability);
      for (const x of ['a', 'b', 'c']) assert.equal((await before.receive(note(x, x), 'mllp')).state, 'received');
      const reopened = await t.reopen();
      const { capability, processed } = notes();
      const after = new DurableInbox(reopened, capability);
      after.nudge();
      await after.settled();
      assert.deepEqual(processed, ['a', 'b', 'c']);
      assert.deepEqual((await after.backlog()).done?.count, 3);
      await after.close();
    } finally {
      await t.dispose();
    }
  });

  test(`inbox: a processor whose store refuses leaves items received, reports it, backs off and then processes them (${backend})`, { skip }, async () => {
    const t = await openTestStore(backend, { migrations: inboxMigrations });
    try {
      let failures = 0;
      let refuse = true;
      const errors: unknown[] = [];
      const { capability, processed } = notes({ failing: () => refuse && ++failures > 0 });
      const inbox = new DurableInbox(t.store, capability, { retryMs: 50, maxRetryMs: 200, onError: (e) => errors.push(e) });
      await inbox.receive(note('x', 'x'), 'api');
      await assert.rejects(inbox.processNext(), /disk full/);
      assert.equal((await inbox.backlog()).received?.count, 1, 'nothing lost');
      inbox.nudge();
      await waitFor(() => failures >= 4);
      // Backing off: four attempts take at least 50 + 100 + 200 ms of pauses.
      assert.ok(errors.length >= 3);
      assert.equal(processed.length, 0);
      refuse = false;
      await waitFor(() => processed.length === 1, 5_000);
      await inbox.settled();
      assert.equal((await inbox.backlog()).done?.count, 1);
      await inbox.close();
    } finally {
      await t.dispose();
    }
  });

  test(`inbox: a processor that settles nothing is reported as refused, not taken again at once (${backend})`, { skip }, async () => {
    const t = await openTestStore(backend, { migrations: inboxMigrations });
    try {
      const { capability } = notes();
      const inbox = new DurableInbox(t.store, { ...capability, process: async () => {} });
      await inbox.receive(note('y', 'y'), 'api');
      await assert.rejects(inbox.processNext(), /1 received notes item\(s\) could not be processed or quarantined/);
    } finally {
      await t.dispose();
    }
  });

  test(`inbox: quarantine keeps the item and the reason for a person, who re-processes it after the fix (${backend})`, { skip }, async () => {
    const t = await openTestStore(backend, { migrations: inboxMigrations });
    try {
      let poisonFixed = false;
      const { capability, processed } = notes();
      const fixed: InboxCapability<Note> = { ...capability, parse: (raw) => ({ ...capability.parse(raw), ...(poisonFixed ? { text: 'cured' } : {}) }) };
      const inbox = new DurableInbox(t.store, fixed);
      const r = await inbox.receive(note('p', 'poison'), 'api');
      await inbox.processNext();
      assert.deepEqual(await inbox.item(r.id).then((i) => [i?.state, i?.reason]), ['quarantined', 'poison is not a note']);
      await assert.rejects(inbox.reprocess('no-such-id'), /not found/);
      poisonFixed = true;
      assert.deepEqual(await inbox.reprocess(r.id), { state: 'done', reason: 'noted' });
      assert.deepEqual(processed, ['cured']);
      await assert.rejects(inbox.reprocess(r.id), (err: unknown) => err instanceof SteadfastError && err.code === 'conflict');
    } finally {
      await t.dispose();
    }
  });
}
