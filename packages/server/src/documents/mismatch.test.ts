/**
 * A blob kept as a mismatch becomes one review Task for practice administrators, naming the document
 * and what to do, on real sockets against a real hub (PostgreSQL):
 * - the node's own copy damaged on disk: the hub refuses it; sent again by the running node and by a
 *   new replicator (as after a restart): every refusal kept, one Task;
 * - bytes sent to the node under a document's name by its registered standby (twice): refused, kept
 *   apart, never replacing the document's bytes, one Task.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { Task } from '@medplum/fhirtypes';
import { TASK_CODE_SYSTEM } from '@steadfast/domain/systems';
import { startHub, type RunningHub } from '../hub/index.ts';
import { newNodeKey, signRequest } from '../sync/protocol.ts';
import { registerPeer } from '../sync/receiver.ts';
import { startTestNode, postgresAvailable, PG_SKIP_REASON, TEST_PG_URL, type TestNode } from '../testing/harness.ts';
import { dropHubSchema } from '../testing/hub-staff.ts';
import { BLOB_CONTENT_TYPE, BLOB_PATH, BlobReplicator } from './blob-sync.ts';
import { ALEX, letterPdf } from './fixtures.ts';
import { hubBlobSink } from './hub-blobs.ts';
import { intakeOf } from './index.ts';
import { MISMATCH_TASK_CODE, mismatchTaskId } from './mismatch.ts';
import { ddb } from './tables.ts';

const PRACTICE = 'B82006';
const available = await postgresAvailable();
if (!available && process.env.CI === 'true') throw new Error(PG_SKIP_REASON);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('documents: a blob kept as a mismatch is one review Task', { skip: available ? false : PG_SKIP_REASON }, () => {
  const schema = `docmis_${process.pid}_${Date.now().toString(36)}`;
  let hub: RunningHub;
  let node: TestNode;
  let key: string;

  before(async () => {
    hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0 });
    key = newNodeKey();
    process.env.STEADFAST_SYNC_URL = hub.url;
    process.env.STEADFAST_SYNC_KEY = key;
    try {
      // Rounds only when the test runs them (the background one runs at start, then hourly).
      node = await startTestNode({ practice: PRACTICE, config: { documents: { replicationIntervalMs: 3_600_000 } } });
    } finally {
      delete process.env.STEADFAST_SYNC_URL;
      delete process.env.STEADFAST_SYNC_KEY;
    }
    await hub.addNode(PRACTICE, node.store.nodeId, key);
  });
  after(async () => {
    await node?.close();
    await hub?.close();
    await dropHubSchema(schema);
  });

  async function upload(title: string) {
    const bytes = await letterPdf(ALEX, title, 'Seen in clinic.');
    const form = new FormData();
    form.append('file', new Blob([bytes], { type: 'application/pdf' }), `${title.toLowerCase().replace(/ /g, '-')}.pdf`);
    const res = await node.fetchAs('practice-admin', '/api/documents/upload', { method: 'POST', body: form });
    assert.equal(res.status, 201, await res.clone().text());
    const name = sha(bytes);
    for (let i = 0; i < 600; i++) {
      const row = await ddb(node.store.db).selectFrom('documents').selectAll().where('blob', '=', name).executeTakeFirst();
      if (row) return { row, bytes };
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${title} was never read into a document`);
  }

  const tasksFor = async (claimed: string) => {
    const res = await node.fetchAs('practice-admin', '/api/tasks?status=open');
    assert.equal(res.status, 200);
    const { tasks } = (await res.json()) as { tasks: Task[] };
    return tasks.filter((t) => t.code?.coding?.some((c) => c.system === TASK_CODE_SYSTEM && c.code === MISMATCH_TASK_CODE) && t.description?.includes(claimed));
  };
  const rejects = (claimed: string) => ddb(node.store.db).selectFrom('document_blob_rejects').selectAll().where('claimed', '=', claimed).execute();

  it('the node’s copy damaged on disk: refused by the hub at every send, across a restart of the sender, and one Task names the document', async () => {
    const { row } = await upload('Outpatient letter');
    const blobs = intakeOf(node.deps)!.blobs;
    writeFileSync(blobs.pathOf(row.blob), 'a disk that lost the letter');
    const replicator = () => new BlobReplicator({ store: node.store, blobs, peer: 'hub', url: hub.url, key });
    const first = replicator();
    await first.round();
    assert.match((await first.status()).lastError ?? '', /400/);
    await first.round(); // waits (backoff): not refused again within the minute
    assert.equal((await rejects(row.blob)).length, 1);
    await replicator().round(); // a restarted node sends it again
    const kept = await rejects(row.blob);
    assert.equal(kept.length, 2, 'each refusal is kept');
    assert.match(kept[0]!.reason, /refused by hub; this node's copy hashes to [0-9a-f]{64}/);
    assert.equal(await hubBlobSink(hub.db, PRACTICE).has(row.blob), undefined, 'the damaged bytes are not at the hub under the name');

    const tasks = await tasksFor(row.blob);
    assert.equal(tasks.length, 1, 'one Task for the blob, whatever the retries and restarts');
    const t = tasks[0]!;
    assert.equal(t.id, mismatchTaskId(PRACTICE, row.blob));
    assert.deepEqual(t.performerType, [{ text: 'practice-admin' }]);
    assert.equal(t.focus?.reference, `DocumentReference/${row.id}`);
    assert.match(t.description ?? '', /document outpatient-letter\.pdf \(received \d{4}-\d{2}-\d{2} by upload\) was refused by hub/);
    assert.match(t.description ?? '', /ask the sender for the letter again and upload it/);
    const versions = await node.store.history('Task', t.id!);
    assert.equal(versions.length, 1, 'created once, never rewritten');
  });

  it('damaged bytes sent by the standby under a document’s name: refused twice, kept apart, the document’s bytes intact, one Task', async () => {
    const { row, bytes } = await upload('Discharge summary');
    const standbyId = 'standby-of-b82006';
    const standbyKey = newNodeKey();
    await registerPeer(node.store.db, { practice: PRACTICE, nodeId: standbyId, key: standbyKey });
    const put = (body: Buffer) =>
      new Promise<number>((resolve, reject) => {
        const path = `${BLOB_PATH}${row.blob}`;
        const req = request(new URL(path, node.url), {
          method: 'PUT',
          headers: { 'content-type': BLOB_CONTENT_TYPE, 'x-steadfast-node': standbyId, 'x-steadfast-digest': row.blob, 'x-steadfast-signature': signRequest(standbyKey, 'PUT', path, standbyId, row.blob) },
        }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(body);
      });
    assert.equal(await put(Buffer.from('damaged on the way')), 400);
    assert.equal(await put(Buffer.from('damaged again')), 400);
    assert.equal((await rejects(row.blob)).length, 2);
    assert.equal(sha(await intakeOf(node.deps)!.blobs.read(row.blob)), sha(bytes), 'the document’s bytes are untouched');
    const tasks = await tasksFor(row.blob);
    assert.equal(tasks.length, 1);
    assert.match(tasks[0]!.description ?? '', /document discharge-summary\.pdf \(received .*\) sent by node standby-of-b82006 did not match/);
  });
});
