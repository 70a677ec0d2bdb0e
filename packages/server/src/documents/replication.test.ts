/**
 * Document replication end to end, on real sockets: letters taken in at a practice node (an upload,
 * an email with a 9 MB attachment), worked there (one filed, one with a clinician), replicate to a real
 * hub on PostgreSQL and to a standby; then the node is lost, and every document and every byte (raw
 * item and document, hash equal) is at the standby and at the hub. Bytes that do not match their name
 * are refused and kept apart, never stored under the name.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Binary, DocumentReference, Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '@steadfast/domain';
import { startHub, type RunningHub } from '../hub/index.ts';
import { newNodeKey, signRequest } from '../sync/protocol.ts';
import { registerPeer } from '../sync/receiver.ts';
import { startTestNode, postgresAvailable, PG_SKIP_REASON, TEST_PG_URL, type TestNode } from '../testing/harness.ts';
import { BLOB_CONTENT_TYPE, BLOB_PATH } from './blob-sync.ts';
import { ALEX, email, letterPdf } from './fixtures.ts';
import { hubBlobSink } from './hub-blobs.ts';
import { intakeOf } from './index.ts';
import { ddb, type DocumentsTable } from './tables.ts';
import { BLOB_TAG_SYSTEM } from './view.ts';
import { dropHubSchema } from '../testing/hub-staff.ts';

const PRACTICE = 'B82005';
const available = await postgresAvailable();
if (!available && process.env.CI === 'true') throw new Error(PG_SKIP_REASON);

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function startWithUpstream(url: string, key: string): Promise<TestNode> {
  process.env.STEADFAST_SYNC_URL = url;
  process.env.STEADFAST_SYNC_KEY = key;
  try {
    return await startTestNode({ practice: PRACTICE, config: { documents: { replicationIntervalMs: 200 } } });
  } finally {
    delete process.env.STEADFAST_SYNC_URL;
    delete process.env.STEADFAST_SYNC_KEY;
  }
}

const rows = (node: TestNode) => ddb(node.store.db).selectFrom('documents').selectAll().where('practice', '=', PRACTICE).orderBy('id').execute();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function hubBytes(hub: RunningHub, sha256: string): Promise<Buffer | undefined> {
  const stream = await hubBlobSink(hub.db, PRACTICE).open(sha256);
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('documents: replication to the hub (PostgreSQL) and the standby', { skip: available ? false : PG_SKIP_REASON }, () => {
  const schema = `docsync_${process.pid}_${Date.now().toString(36)}`;
  let hub: RunningHub;
  let primary: TestNode;
  let standby: TestNode;
  let primaryKey: string;
  let primaryClosed = false;
  const big = randomBytes(9 * 1024 * 1024); // over the 8 MB inline limit of a Binary

  before(async () => {
    hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0 });
    primaryKey = newNodeKey();
    primary = await startWithUpstream(hub.url, primaryKey);
    await hub.addNode(PRACTICE, primary.store.nodeId, primaryKey);
    const standbyKey = newNodeKey();
    standby = await startWithUpstream(primary.url, standbyKey);
    await registerPeer(primary.store.db, { practice: PRACTICE, nodeId: standby.store.nodeId, key: standbyKey });
  });

  after(async () => {
    await standby?.close();
    if (!primaryClosed) await primary?.close();
    await hub?.close();
    await dropHubSchema(schema);
  });

  it('a lost node loses no letter: every document, its state and every byte are at the standby and the hub', async () => {
    const [p] = await primary.store.write(
      [{ kind: 'create', resource: { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: ALEX.nhsNumber }], name: [{ given: [ALEX.given], family: ALEX.family }], birthDate: ALEX.birthDate } satisfies Patient }],
      { author: 'test' },
    );
    const patientId = p!.resource!.id!;
    const post = (path: string, json: unknown, method = 'POST') => primary.fetchAs('clinician', path, { method, json, headers: { 'content-type': 'application/json' } });

    // Paper uploaded at the desk.
    const form = new FormData();
    form.append('file', new Blob([await letterPdf(ALEX, 'Outpatient letter', 'Seen in clinic.')], { type: 'application/pdf' }), 'clinic.pdf');
    const up = await primary.fetchAs('practice-admin', '/api/documents/upload', { method: 'POST', body: form });
    assert.equal(up.status, 201, await up.clone().text());
    // An email with a letter and a 9 MB scan, taken from the mailbox.
    const eml = email({ subject: 'Discharge summary', attachments: [{ filename: 'discharge.pdf', contentType: 'application/pdf', content: await letterPdf(ALEX) }, { filename: 'scan.tif', contentType: 'image/tiff', content: big }] });
    await intakeOf(primary.deps)!.receiveStream(eml, 'email', 'imap', { origin: { mailbox: 'INBOX', uid: '1' } });
    const docs = await waitFor('the email read into its documents', async () => {
      const r = await rows(primary);
      return r.length === 3 && r;
    });

    // Worked at the node: the scan filed (a Binary naming its blob), the letter with a clinician, the upload left unfiled.
    const scan = docs.find((d) => d.filename === 'scan.tif')!;
    const letter = docs.find((d) => d.filename === 'discharge.pdf')!;
    assert.equal((await post(`/api/documents/${scan.id}/patient`, { patientId })).status, 200);
    assert.equal((await post(`/api/documents/${scan.id}/coding`, { type: 'other', date: '2026-11-30' }, 'PUT')).status, 200);
    const filed = await post(`/api/documents/${scan.id}/file`, {});
    assert.equal(filed.status, 200, await filed.clone().text());
    assert.equal((await post(`/api/documents/${letter.id}/patient`, { patientId })).status, 200);
    assert.equal((await post(`/api/documents/${letter.id}/route`, { clinicianId: primary.users.clinician.id, action: 'urgent' })).status, 200);

    const atPrimary = await rows(primary);
    const blobs = new Map<string, Buffer>();
    const blobStore = intakeOf(primary.deps)!.blobs;
    for (const d of atPrimary) for (const b of [d.blob, d.source_blob]) blobs.set(b, await blobStore.read(b));
    assert.equal(blobs.size, 4, 'the upload (its own raw item), the .eml and its two attachments');

    // Everything reaches the standby (through the primary) and the hub, rows, records and bytes.
    const key = (r: DocumentsTable) => `${r.id} ${r.state} ${r.patient_id} ${r.assignee_id} ${r.document_reference_id} ${r.blob} ${r.source_blob}`;
    await waitFor('the documents at the standby', async () => JSON.stringify((await rows(standby)).map(key)) === JSON.stringify(atPrimary.map(key)));
    const standbyBlobs = intakeOf(standby.deps)!.blobs;
    await waitFor('every byte at the standby', async () => [...blobs.keys()].every((b) => standbyBlobs.has(b)));
    await waitFor('every byte at the hub', async () => {
      for (const b of blobs.keys()) if (!(await hubBlobSink(hub.db, PRACTICE).has(b))) return false;
      return true;
    });

    // The node is lost.
    await primary.close();
    primaryClosed = true;

    const hubStore = (await hub.storeFor(PRACTICE))!;
    for (const d of atPrimary) {
      const ref = (await hubStore.read('DocumentReference', d.id))?.resource as DocumentReference | undefined;
      assert.ok(ref, `document ${d.filename} is a record at the hub`);
      assert.equal(ref.docStatus, d.state === 'filed' ? 'final' : 'preliminary');
      assert.equal(ref.subject?.reference, d.state === 'filed' ? `Patient/${patientId}` : undefined, 'only a filed document is on a record');
    }
    const binaryUrl = ((await hubStore.read('DocumentReference', scan.id))!.resource as DocumentReference).content[0]!.attachment.url!;
    const binary = (await hubStore.read('Binary', binaryUrl.replace('Binary/', '')))!.resource as Binary;
    assert.equal(binary.meta?.tag?.find((t) => t.system === BLOB_TAG_SYSTEM)?.code, sha(big), 'the large Binary names its blob by hash');
    for (const [b, bytes] of blobs) {
      assert.equal(sha(await standbyBlobs.read(b)), sha(bytes), `blob ${b.slice(0, 8)} whole at the standby`);
      assert.equal(sha((await hubBytes(hub, b))!), sha(bytes), `blob ${b.slice(0, 8)} whole at the hub`);
    }
    // The standby works on: the letter is in the clinician's state, the scan filed, the bytes served.
    const atStandby = await rows(standby);
    assert.equal(atStandby.find((d) => d.id === letter.id)!.state, 'with-clinician');
    assert.equal(atStandby.find((d) => d.id === scan.id)!.state, 'filed');
    const content = await standby.fetchAs('clinician', `/api/documents/${scan.id}/content`);
    assert.equal(content.status, 200);
    assert.equal(sha(Buffer.from(await content.arrayBuffer())), sha(big));
  });

  it('hash mismatch: bytes sent under another blob’s name are refused, kept apart, and never replace it', async () => {
    const good = Buffer.from('a letter that is already at the hub');
    const name = sha(good);
    const put = (bytes: Buffer) =>
      new Promise<number>((resolve, reject) => {
        const path = `${BLOB_PATH}${name}`;
        const req = request(new URL(path, hub.url), {
          method: 'PUT',
          headers: { 'content-type': BLOB_CONTENT_TYPE, 'x-steadfast-node': primary.store.nodeId, 'x-steadfast-digest': name, 'x-steadfast-signature': signRequest(primaryKey, 'PUT', path, primary.store.nodeId, name) },
        }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(bytes);
      });
    assert.equal(await put(good), 201);
    assert.equal(await put(good), 200, 'a resend is the same blob');
    assert.equal(await put(Buffer.from('damaged on the way')), 400);
    assert.equal((await hubBytes(hub, name))!.toString(), good.toString(), 'the blob under the name is the one that matches it');
    const rejects = await hub.db.selectFrom('hub_blob_rejects').selectAll().where('claimed', '=', name).execute();
    assert.equal(rejects.length, 1, 'the damaged bytes are kept apart for a person');
    const count = await hub.db.selectFrom('hub_blobs').select((eb: any) => eb.fn.countAll().as('n')).where('sha256', '=', name).executeTakeFirst();
    assert.equal(Number((count as { n: unknown }).n), 1);
  });
});
