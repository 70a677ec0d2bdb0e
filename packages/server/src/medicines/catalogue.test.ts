/** The dm+d subset and rule routes at a real node: who may read them, search, the limit, and a replacement subset. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProductsResponse, RulesResponse } from '@steadfast/domain/api';
import { bundledSubset } from '@steadfast/domain/medicines';
import { startTestNode } from '../testing/harness.ts';

test('GET /api/medicines/products and /rules: clinicians and practice admins read them, receptionists may not', async () => {
  const node = await startTestNode();
  try {
    const res = await node.fetchAs('clinician', '/api/medicines/products?q=amox%20500');
    assert.equal(res.status, 200);
    const body = (await res.json()) as ProductsResponse;
    assert.equal(body.products[0]?.name, 'Amoxicillin 500mg capsules');
    assert.ok(body.products.every((p) => /500mg/.test(p.name)), body.products.map((p) => p.name).join());
    assert.match(body.subset.source, /NOT a dm\+d release/);
    assert.equal(((await (await node.fetchAs('clinician', '/api/medicines/products?q=m')).json()) as ProductsResponse).products.length <= 20, true);
    assert.equal((await node.fetchAs('clinician', '/api/medicines/products?q=m&limit=500')).status, 400);
    const rules = (await (await node.fetchAs('practice-admin', '/api/medicines/rules')).json()) as RulesResponse;
    assert.ok(rules.rules.interaction.rules.length > 0 && rules.products.length === bundledSubset.products.length);
    assert.equal((await node.fetchAs('receptionist', '/api/medicines/products?q=amox')).status, 403);
    assert.equal((await node.fetch('/api/medicines/rules')).status, 401);
  } finally {
    await node.close();
  }
});

test('a replacement dm+d subset named in the options is what the node serves', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sf-dmd-'));
  const file = join(dir, 'subset.json');
  writeFileSync(file, JSON.stringify({ ...bundledSubset, source: 'Replacement for the test', products: bundledSubset.products.filter((p) => p.name.startsWith('Paracetamol')) }));
  const node = await startTestNode({ config: { medicines: { dmdSubsetFile: file } } });
  try {
    const body = (await (await node.fetchAs('clinician', '/api/medicines/products?q=tablets')).json()) as ProductsResponse;
    assert.equal(body.subset.source, 'Replacement for the test');
    assert.ok(body.products.length > 0 && body.products.every((p) => p.name.startsWith('Paracetamol')), body.products.map((p) => p.name).join());
  } finally {
    await node.close();
  }
});
