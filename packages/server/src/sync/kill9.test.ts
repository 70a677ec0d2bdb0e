/**
 * A real process killed with SIGKILL while it syncs: a practice node (`steadfast serve`, its own
 * process and SQLite file) pushes a backlog to its upstream in small batches and is killed at random
 * moments, then restarted, several times, with more writes between. At the end everything it ever
 * committed is at the upstream exactly once.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import { openNode } from '../node/open.ts';
import { newNodeKey } from './protocol.ts';
import { registerPeer } from './receiver.ts';
import { SYNC_CONFIG_FILE } from './index.ts';
import { mulberry32 } from './simulation.ts';
import { STEADFAST_BIN } from '../testing/cli.ts';

const PRACTICE = 'B82005';

function startNode(dataDir: string): Promise<{ child: ChildProcess; exited: Promise<void> }> {
  const child = spawn(process.execPath, [STEADFAST_BIN, 'serve', '--data', dataDir, '--port', '0', '--mllp-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(' at http://')) resolve({ child, exited });
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`node exited (${code}) before it was ready: ${err || out}`)));
  });
}

async function upstreamIds(upstream: TestNode): Promise<string[]> {
  const rows = await upstream.store.db.selectFrom('change_log').select('entry_id').where('practice', '=', PRACTICE).execute();
  return rows.map((r) => r.entry_id);
}

describe('kill -9 during sync', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'steadfast-kill9-'));
  let upstream: TestNode;
  after(async () => {
    await upstream?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a node killed at random points while pushing loses nothing and duplicates nothing', async () => {
    upstream = await startTestNode({ practice: PRACTICE });
    const key = newNodeKey();
    const written = new Set<string>();
    const writeLocally = async (count: number, round: number) => {
      // While the node process is down: open its data directory and commit a backlog.
      const node = await openNode({ dataDir, practice: PRACTICE });
      try {
        for (let i = 0; i < count; i += 50) {
          const outcomes = await node.store.write(
            Array.from({ length: 50 }, (_, j) => ({ kind: 'create' as const, resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, identifier: [{ value: `r${round}-${i + j}` }] } as unknown as Resource })),
            { author: 'gp' },
          );
          for (const o of outcomes) written.add(o.entry!.entryId);
        }
        return node.identity.nodeId;
      } finally {
        await node.close();
      }
    };
    const nodeId = await writeLocally(400, 0);
    await registerPeer(upstream.store.db, { practice: PRACTICE, nodeId, key });
    writeFileSync(join(dataDir, SYNC_CONFIG_FILE), JSON.stringify({ upstream: { url: upstream.url, key, name: 'primary' }, pollMs: 20, batchSize: 20 }));

    const rand = mulberry32(9);
    let killedMidway = 0;
    for (let round = 1; round <= 4; round++) {
      const { child, exited } = await startNode(dataDir);
      // Let it sync for a random moment, then kill it without warning.
      await new Promise((r) => setTimeout(r, 50 + Math.floor(rand() * 400)));
      const before = (await upstreamIds(upstream)).length;
      child.kill('SIGKILL');
      await exited;
      if (before > 0 && before < written.size) killedMidway++;
      await writeLocally(100, round);
    }
    // Finally let it run until everything is across.
    const { child, exited } = await startNode(dataDir);
    const deadline = Date.now() + 60_000;
    while ((await upstreamIds(upstream)).filter((id) => written.has(id)).length < written.size && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGTERM');
    await exited;

    const ids = await upstreamIds(upstream);
    const missing = [...written].filter((id) => !ids.includes(id));
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} committed entries never reached the upstream`);
    assert.equal(ids.length, new Set(ids).size, 'an entry arrived twice');
    const encounters = await upstream.store.search({ resourceType: 'Encounter', params: [], count: 1000, offset: 0, total: true });
    assert.equal(encounters.total, written.size, 'each encounter exists exactly once');
    assert.ok(killedMidway > 0, 'at least one kill landed in the middle of a sync');
  });
});
