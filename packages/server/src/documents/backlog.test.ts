/**
 * The documents backlog over real HTTP: counts by state, source, type and person with the oldest
 * unworked (and its id, for the link); arrivals and filings per London day; the "arrived since" filter
 * from the start of the London day; the list a page at a time by keyset.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DocumentBacklog, DocumentDaily, DocumentListPage } from '@steadfast/domain/api';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import { syntheticDocumentRow } from './fixtures.ts';
import { ddb } from './tables.ts';

describe('documents: the backlog', () => {
  let node: TestNode;
  const get = async <T>(path: string): Promise<T> => {
    const res = await node.fetchAs('receptionist', path);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as T;
  };

  before(async () => {
    node = await startTestNode();
    const p = node.store.practice;
    await ddb(node.store.db)
      .insertInto('documents')
      .values([
        // 30 June 23:30 UTC is 1 July 00:30 in London (BST): a July arrival.
        syntheticDocumentRow(p, 1, '2026-06-30T23:30:00.000Z'),
        syntheticDocumentRow(p, 2, '2026-07-01T09:00:00.000Z', { source: 'folder', doc_type: 'discharge-summary', state: 'matched' }),
        syntheticDocumentRow(p, 3, '2026-07-01T10:00:00.000Z', { state: 'with-clinician', assignee_id: 'u1', assignee_name: 'Dr Test', doc_type: 'outpatient-letter' }),
        syntheticDocumentRow(p, 4, '2026-07-03T08:00:00.000Z', { state: 'filed', filed_at: '2026-07-03T12:00:00.000Z' }),
        syntheticDocumentRow(p, 5, '2026-07-03T08:00:00.000Z', { problem: 'The PDF is damaged' }),
        syntheticDocumentRow(p, 6, '2026-06-29T12:00:00.000Z', { state: 'filed', filed_at: '2026-07-01T08:00:00.000Z' }),
      ])
      .execute();
  });
  after(async () => node?.close());

  it('counts by state, source, type and person, with the oldest unworked and its id', async () => {
    const b = await get<DocumentBacklog>('/api/documents/backlog');
    assert.equal(b.unworked, 4);
    assert.equal(b.byState.filed?.count, 2);
    assert.equal(b.byState.unmatched?.count, 2);
    assert.equal(b.byState.unmatched?.oldest, '2026-06-30T23:30:00.000Z');
    assert.deepEqual(b.bySource, { imap: 3, folder: 1 });
    assert.deepEqual(b.byType, { untyped: 2, 'discharge-summary': 1, 'outpatient-letter': 1 });
    assert.deepEqual(b.byPerson, { 'Dr Test': 1 });
    assert.equal(b.withProblem, 1);
    assert.equal(b.oldestUnworked?.receivedAt, '2026-06-30T23:30:00.000Z');
    assert.equal(b.oldestUnworked?.id, 'synthetic-1', 'the oldest unworked (not the older filed one)');
  });

  it('arrivals and filings per London day, every day in the range present, zeros included', async () => {
    const d = await get<DocumentDaily>('/api/documents/backlog/daily?from=2026-06-30&to=2026-07-04');
    assert.deepEqual(d.days, [
      { date: '2026-06-30', arrived: 0, filed: 0 },
      { date: '2026-07-01', arrived: 3, filed: 1 },
      { date: '2026-07-02', arrived: 0, filed: 0 },
      { date: '2026-07-03', arrived: 2, filed: 1 },
      { date: '2026-07-04', arrived: 0, filed: 0 },
    ]);
  });

  it('a daily request with a bad date or range is refused, naming the field and the fix', async () => {
    for (const [query, field] of [['from=2026-13-01&to=2026-07-04', 'from'], ['from=2026-07-04&to=2026-07-01', 'from'], ['from=2024-01-01&to=2026-07-01', 'from'], ['to=yesterday', 'to']] as const) {
      const res = await node.fetchAs('receptionist', `/api/documents/backlog/daily?${query}`);
      assert.equal(res.status, 400, query);
      const text = await res.text();
      assert.match(text, new RegExp(`"${field}"`), `${query} names ${field}: ${text}`);
    }
  });

  it('"arrived since" starts at midnight in London, so a BST late-evening arrival is the next day', async () => {
    const page = await get<DocumentListPage<{ id: string }>>('/api/documents?state=unmatched,proposed,matched,with-clinician&since=2026-07-01');
    assert.deepEqual(page.documents.map((d) => d.id), ['synthetic-1', 'synthetic-2', 'synthetic-3', 'synthetic-5']);
    assert.equal(page.total, 4);
    const later = await get<DocumentListPage<{ id: string }>>('/api/documents?state=unmatched,proposed,matched,with-clinician&since=2026-07-02');
    assert.deepEqual(later.documents.map((d) => d.id), ['synthetic-5']);
    const bad = await node.fetchAs('receptionist', '/api/documents?since=01/07/2026');
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /YYYY-MM-DD/);
  });

  it('the list pages by keyset: every document once, in order, the total on the first page only', async () => {
    const seen: string[] = [];
    let page = await get<DocumentListPage<{ id: string }>>('/api/documents?limit=2');
    assert.equal(page.total, 6);
    seen.push(...page.documents.map((d) => d.id));
    while (page.next) {
      page = await get<DocumentListPage<{ id: string }>>(`/api/documents?limit=2&after=${encodeURIComponent(page.next)}`);
      assert.equal(page.total, undefined);
      seen.push(...page.documents.map((d) => d.id));
    }
    // Two arrivals share 2026-07-03T08:00: the id breaks the tie, so neither is skipped nor repeated.
    assert.deepEqual(seen, ['synthetic-6', 'synthetic-1', 'synthetic-2', 'synthetic-3', 'synthetic-4', 'synthetic-5']);
    const bad = await node.fetchAs('receptionist', '/api/documents?after=nonsense');
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /after/);
  });
});
