import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Hl7Message } from '@medplum/core';
import { Hl7Client } from '@medplum/hl7';
import type { DiagnosticReport } from '@medplum/fhirtypes';
import { startPathologyMllp } from './routes.ts';
import { buildOru, readFixture } from '../testing/hl7-fixtures.ts';
import { addPatients, openPathologyStore } from '../testing/pathology-store.ts';
import { pdb } from './tables.ts';
import { FS, CR, VT, frame, startMllpListener } from './mllp.ts';
import { backends } from '../testing/harness.ts';

/** Send raw bytes and collect the ACK frames that come back until `expected` arrived or the socket closes. */
function rawExchange(port: number, bytes: Buffer[], expected: number, endAfter = false): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const acks: string[] = [];
    let buf = Buffer.alloc(0);
    const s = net.connect({ port, host: '127.0.0.1' }, () => {
      for (const b of bytes) s.write(b);
      if (endAfter) s.end();
    });
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      let end: number;
      while ((end = buf.indexOf(Buffer.from([FS, CR]))) !== -1) {
        acks.push(buf.subarray(buf.indexOf(VT) + 1, end).toString('utf8'));
        buf = buf.subarray(end + 2);
      }
      if (acks.length >= expected) s.end();
    });
    s.on('error', reject);
    s.on('close', () => resolve(acks));
  });
}

const msa = (ack: string) => Hl7Message.parse(ack).getSegment('MSA')!;

test('a day\'s feed of 50 reports replayed three times in shuffled order through a real MLLP client is filed once each', async () => {
  const { store, close } = await openPathologyStore();
  const listener = await startPathologyMllp(store, { port: 0, host: '127.0.0.1' });
  const client = new Hl7Client({ host: '127.0.0.1', port: listener.port });
  try {
    const patients = await addPatients(store, Array.from({ length: 10 }, (_, i) => 100 + i));
    const feed = Array.from({ length: 50 }, (_, i) => {
      const p = patients[i % patients.length]!;
      return { i, p };
    });
    let seq = 0;
    const build = ({ i, p }: { i: number; p: (typeof patients)[number] }) =>
      buildOru({
        messageId: `RUN-${seq++}`, // a new message id on every send: de-dup must not rely on it
        nhsNumber: p.nhsNumber, family: p.family, given: p.given, birthDate: p.birthDate.replace(/-/g, ''),
        filler: `ACC${1000 + i}`, test: i % 2 ? ['B0001', 'Full blood count'] : ['UE', 'Urea and electrolytes'],
        obx: [{ code: 'X', display: 'Analyte', value: String(i), units: 'mmol/L', range: '1-100' }],
      });
    const order = [...feed, ...feed, ...feed];
    // deterministic shuffle (seeded LCG) so a failure can be replayed
    let r = 42;
    for (let k = order.length - 1; k > 0; k--) {
      r = (r * 1103515245 + 12345) % 2 ** 31;
      const j = r % (k + 1);
      [order[k], order[j]] = [order[j]!, order[k]!];
    }
    const codes: string[] = [];
    for (const item of order) {
      const ack = await client.sendAndWait(Hl7Message.parse(build(item)), { timeoutMs: 20_000 });
      codes.push(ack.getSegment('MSA')!.getField(1).toString());
    }
    assert.deepEqual(new Set(codes), new Set(['AA']), 'every send, duplicates included, is acknowledged AA');
    await listener.settled();
    const reports = await store.search({ resourceType: 'DiagnosticReport', params: [], count: 1000, offset: 0, total: true });
    assert.equal(reports.total, 50);
    const ids = new Set((reports.resources as DiagnosticReport[]).map((d) => d.identifier?.[0]?.value));
    assert.equal(ids.size, 50);
    const inbox = await pdb(store.db).selectFrom('pathology_inbox').select(['state']).execute();
    assert.equal(inbox.length, 150, 'every raw message kept');
    assert.equal(inbox.filter((x) => x.state === 'duplicate').length, 100);
    const counts = await pdb(store.db).selectFrom('pathology_duplicate_counts').selectAll().execute();
    assert.equal(counts.reduce((n, c) => n + Number(c.count), 0), 100);
  } finally {
    await client.close();
    await listener.close();
    await close();
  }
});

test('the public samples go through the listener: AA for well-formed (filed or queued), AR for garbage', async () => {
  const { store, close } = await openPathologyStore();
  const listener = await startPathologyMllp(store, { port: 0, host: '127.0.0.1' });
  const client = new Hl7Client({ host: '127.0.0.1', port: listener.port });
  try {
    for (const name of ['uk-wales-hba1c-fbc-oru-r01-v2.5.1.hl7', 'uk-nw-genomics-oru-r01-v2.5.1.hl7', 'us-cerner-oru-r01-v2.3.hl7', 'us-epic-oru-r01-v2.3.hl7']) {
      const ack = await client.sendAndWait(Hl7Message.parse(readFixture(name).replace(/\r?\n/g, '\r').trim()), { timeoutMs: 20_000 });
      assert.equal(ack.getSegment('MSA')!.getField(1).toString(), 'AA', name);
    }
    const adt = 'MSH|^~\\&|A|B|C|D|20200101||ADT^A01|ADT1|P|2.5.1\rPID|1||x||A^B';
    const ack = await client.sendAndWait(Hl7Message.parse(adt), { timeoutMs: 20_000 });
    assert.equal(ack.getSegment('MSA')!.getField(1).toString(), 'AR');
    assert.match(ack.getSegment('MSA')!.getField(3).toString(), /ADT/);
  } finally {
    await client.close();
    await listener.close();
    await close();
  }
});

test('bad frames: garbage gets AR, oversized frames AR and quarantined, truncated frames quarantined; the listener keeps serving', async () => {
  const { store, close } = await openPathologyStore();
  // Frames that never became messages are kept asynchronously; count them as they commit.
  const kept: string[] = [];
  let onKept: () => void = () => {};
  const listener = await startPathologyMllp(store, { port: 0, host: '127.0.0.1', onQuarantined: (_id, reason) => (kept.push(reason), onKept()) });
  try {
    const [p] = await addPatients(store, [300]);
    const good = buildOru({ messageId: 'G1', nhsNumber: p!.nhsNumber, family: p!.family, given: p!.given, birthDate: p!.birthDate.replace(/-/g, ''), filler: 'F1', test: ['CRP', 'CRP'], obx: [{ code: 'CRP', display: 'CRP', value: '4', units: 'mg/L' }] });
    const garbage = await rawExchange(listener.port, [frame('\u0000\u00ff not hl7 at all')], 1);
    assert.equal(msa(garbage[0]!).getField(1).toString(), 'AR');
    const huge = `${good}\rNTE|1||${'x'.repeat(1_100_000)}`;
    // split the frame across many writes, and send a good message after it on the same connection
    const hugeFrame = frame(huge);
    const parts = [hugeFrame.subarray(0, 5000), hugeFrame.subarray(5000, 700_000), hugeFrame.subarray(700_000), frame(good)];
    const acks = await rawExchange(listener.port, parts, 2);
    assert.equal(msa(acks[0]!).getField(1).toString(), 'AR');
    assert.match(msa(acks[0]!).getField(3).toString(), /exceeds/);
    assert.equal(msa(acks[1]!).getField(1).toString(), 'AA');
    assert.equal(msa(acks[1]!).getField(2).toString(), 'G1');
    // truncated: a start block, half a message, then the connection closes
    const truncated = await rawExchange(listener.port, [Buffer.concat([Buffer.from([VT]), Buffer.from(good.slice(0, 80))])], 0, true);
    assert.equal(truncated.length, 0);
    // end block split across two writes (0x1C | 0x0D) still works
    const f = frame(good.replace('G1', 'G2'));
    const split = await rawExchange(listener.port, [f.subarray(0, f.length - 1), f.subarray(f.length - 1)], 1);
    assert.equal(msa(split[0]!).getField(1).toString(), 'AA');
    // the quarantine list shows the oversized, truncated and garbage frames
    // oversized and truncated frames are kept by the listener; the garbage frame was quarantined by ingest
    if (kept.length < 2) await new Promise<void>((resolve) => (onKept = () => kept.length >= 2 && resolve()));
    const rows = await pdb(store.db).selectFrom('pathology_inbox').select(['reason']).where('state', '=', 'quarantined').execute();
    assert.equal(rows.length, 3);
    assert.ok(rows.some((r) => /exceeds/.test(r.reason)));
    assert.ok(rows.some((r) => /Truncated/.test(r.reason)));
    await listener.settled();
    assert.equal((await store.search({ resourceType: 'DiagnosticReport', params: [], count: 10, offset: 0 })).resources.length, 1);
  } finally {
    await listener.close();
    await close();
  }
});

for (const { backend, skip } of await backends()) {
  test(`${backend}: the same report sent at once on five connections is filed once`, { skip }, async () => {
    const { store, close } = await openPathologyStore(backend);
    const listener = await startPathologyMllp(store, { port: 0, host: '127.0.0.1' });
    const clients = Array.from({ length: 5 }, () => new Hl7Client({ host: '127.0.0.1', port: listener.port }));
    try {
      const [p] = await addPatients(store, [400]);
      const acks = await Promise.all(
        clients.map((c, i) =>
          c.sendAndWait(
            Hl7Message.parse(buildOru({ messageId: `PAR-${i}`, nhsNumber: p!.nhsNumber, family: p!.family, given: p!.given, birthDate: p!.birthDate.replace(/-/g, ''), filler: 'PAR1', test: ['FBC', 'FBC'], obx: [{ code: 'HB', display: 'Hb', value: '150', units: 'g/L' }] })),
            { timeoutMs: 20_000 },
          ),
        ),
      );
      assert.deepEqual(acks.map((a) => a.getSegment('MSA')!.getField(1).toString()), ['AA', 'AA', 'AA', 'AA', 'AA']);
      await listener.settled();
      assert.equal((await store.search({ resourceType: 'DiagnosticReport', params: [], count: 10, offset: 0, total: true })).total, 1);
      const states = (await pdb(store.db).selectFrom('pathology_inbox').select('state').execute()).map((r) => r.state).sort();
      assert.deepEqual(states, ['duplicate', 'duplicate', 'duplicate', 'duplicate', 'filed']);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await listener.close();
      await close();
    }
  });
}

test('property: however the byte stream is split into TCP writes, each frame gets exactly one ACK, in order', async () => {
  const fc = (await import('fast-check')).default;
  const seen: string[] = [];
  const listener = await startMllpListener({
    port: 0,
    host: '127.0.0.1',
    ingest: async (raw) => {
      seen.push(raw);
      return { ack: 'AA', reason: 'OK' };
    },
  });
  try {
    const messages = ['A1', 'B22', 'C333'].map((id) => `MSH|^~\\&|L|F|S|A|20261125||ORU^R01|${id}|P|2.5.1\rPID|1||x||Y^Z`);
    const stream = Buffer.concat([Buffer.from('\r\n'), ...messages.map(frame)]);
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 12 }), async (cuts) => {
        seen.length = 0;
        const points = [0, ...[...cuts].sort((a, b) => a - b), stream.length];
        const parts = points.slice(1).map((end, i) => stream.subarray(points[i]!, end));
        const acks = await rawExchange(listener.port, parts, 3);
        assert.deepEqual(acks.map((a) => msa(a).getField(2).toString()), ['A1', 'B22', 'C333']);
        assert.deepEqual(seen, messages);
      }),
      { numRuns: 60 },
    );
  } finally {
    await listener.close();
  }
});

test('a sender pipelining 300 frames without waiting gets 300 ACKs in order (back-pressure, no loss)', async () => {
  let calls = 0;
  const listener = await startMllpListener({
    port: 0,
    host: '127.0.0.1',
    ingest: async () => {
      calls++;
      await new Promise((r) => setImmediate(r));
      return { ack: 'AA', reason: 'OK' };
    },
  });
  try {
    const frames = Array.from({ length: 300 }, (_, i) => frame(`MSH|^~\\&|L|F|S|A|20261125||ORU^R01|P${i}|P|2.5.1\rPID|1||x||Y^Z`));
    const acks = await rawExchange(listener.port, [Buffer.concat(frames)], 300);
    assert.equal(acks.length, 300);
    assert.deepEqual(acks.map((a) => msa(a).getField(2).toString()), frames.map((_, i) => `P${i}`));
    assert.equal(calls, 300);
  } finally {
    await listener.close();
  }
});

test('property: random bytes never crash the listener; a good message afterwards on a new connection is still acknowledged', async () => {
  const fc = (await import('fast-check')).default;
  const errors: unknown[] = [];
  const listener = await startMllpListener({
    port: 0,
    host: '127.0.0.1',
    maxFrameBytes: 2048,
    ingest: async (raw) => ({ ack: raw.startsWith('MSH') ? 'AA' : 'AR', reason: 'x' }),
    quarantine: async () => {},
    onError: (err) => errors.push(err),
  });
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 5 }), async (chunks) => {
        await rawExchange(listener.port, chunks.map((c) => Buffer.from(c)), 0, true);
      }),
      { numRuns: 80 },
    );
    const ok = await rawExchange(listener.port, [frame('MSH|^~\\&|L|F|S|A|20261125||ORU^R01|OK1|P|2.5.1\rPID|1')], 1);
    assert.equal(msa(ok[0]!).getField(1).toString(), 'AA');
  } finally {
    await listener.close();
  }
});

test('a processing error (order number filed for another patient) is acknowledged on receipt, then quarantined with the reason and never filed', async () => {
  const { store, close } = await openPathologyStore();
  const listener = await startPathologyMllp(store, { port: 0, host: '127.0.0.1' });
  const client = new Hl7Client({ host: '127.0.0.1', port: listener.port });
  try {
    const [a, b] = await addPatients(store, [600, 601]);
    const oru = (p: typeof a, id: string) => buildOru({ messageId: id, nhsNumber: p!.nhsNumber, family: p!.family, given: p!.given, birthDate: p!.birthDate.replace(/-/g, ''), filler: 'SAME', test: ['CRP', 'CRP'], obx: [{ code: 'CRP', display: 'CRP', value: '3' }] });
    const first = await client.sendAndWait(Hl7Message.parse(oru(a, 'E1')), { timeoutMs: 20_000 });
    assert.equal(first.getSegment('MSA')!.getField(1).toString(), 'AA');
    await listener.settled();
    // The laboratory's ACK confirms custody: the message is stored raw before AA goes back.
    const second = await client.sendAndWait(Hl7Message.parse(oru(b, 'E2')), { timeoutMs: 20_000 });
    assert.equal(second.getSegment('MSA')!.getField(1).toString(), 'AA');
    await listener.settled();
    const row = await pdb(store.db).selectFrom('pathology_inbox').selectAll().where('message_id', '=', 'E2').executeTakeFirstOrThrow();
    assert.equal(row.state, 'quarantined');
    assert.match(row.reason, /different patient/);
    const forB = await store.search({ resourceType: 'DiagnosticReport', params: [{ name: 'patient', values: [`Patient/${b!.id}`] }], count: 10, offset: 0 });
    assert.equal(forB.resources.length, 0, 'nothing was filed for the second patient');
  } finally {
    await client.close();
    await listener.close();
    await close();
  }
});

test('a resend of a filed report is recognised on receipt and never reaches the filer; the raw message is kept and counted', async () => {
  const { store, close } = await openPathologyStore();
  const listener = await startPathologyMllp(store, { port: 0, host: '127.0.0.1' });
  const client = new Hl7Client({ host: '127.0.0.1', port: listener.port });
  try {
    const [p] = await addPatients(store, [610]);
    const oru = (id: string, family = p!.family) => buildOru({ messageId: id, nhsNumber: p!.nhsNumber, family, given: p!.given, birthDate: p!.birthDate.replace(/-/g, ''), filler: 'RES1', test: ['CRP', 'CRP'], obx: [{ code: 'CRP', display: 'CRP', value: '7' }] });
    await client.sendAndWait(Hl7Message.parse(oru('R1')), { timeoutMs: 20_000 });
    await listener.settled();
    for (const id of ['R2', 'R3', 'R4']) {
      const ack = await client.sendAndWait(Hl7Message.parse(oru(id)), { timeoutMs: 20_000 });
      assert.equal(ack.getSegment('MSA')!.getField(1).toString(), 'AA');
      // Already decided when the ACK came back: no filing was needed.
      const row = await pdb(store.db).selectFrom('pathology_inbox').select(['state', 'raw']).where('message_id', '=', id).executeTakeFirstOrThrow();
      assert.equal(row.state, 'duplicate');
      assert.match(row.raw, new RegExp(`\\|${id}\\|`));
    }
    // The same content for a different identity is not a resend: it goes to the filer, which holds it for a person.
    await client.sendAndWait(Hl7Message.parse(oru('R5', 'Someone-Else')), { timeoutMs: 20_000 });
    assert.notEqual((await pdb(store.db).selectFrom('pathology_inbox').select('state').where('message_id', '=', 'R5').executeTakeFirstOrThrow()).state, 'duplicate');
    await listener.settled();
    assert.equal((await pdb(store.db).selectFrom('pathology_inbox').select('state').where('message_id', '=', 'R5').executeTakeFirstOrThrow()).state, 'unmatched');
    const counts = await pdb(store.db).selectFrom('pathology_duplicate_counts').selectAll().execute();
    assert.equal(counts.reduce((n, c) => n + Number(c.count), 0), 3);
    assert.equal((await store.search({ resourceType: 'DiagnosticReport', params: [], count: 10, offset: 0, total: true })).total, 1);
  } finally {
    await client.close();
    await listener.close();
    await close();
  }
});

test('messages received but not yet filed when the node stops are filed when it starts again', async () => {
  const { store, close } = await openPathologyStore();
  try {
    const [p] = await addPatients(store, [620]);
    const { receiveHl7Batch } = await import('./ingest.ts');
    const raws = ['C1', 'C2', 'C3'].map((id, i) => buildOru({ messageId: id, nhsNumber: p!.nhsNumber, family: p!.family, given: p!.given, birthDate: p!.birthDate.replace(/-/g, ''), filler: `CR${i}`, test: ['CRP', 'CRP'], obx: [{ code: 'CRP', display: 'CRP', value: String(i) }] }));
    // Received (and acknowledged) by a listener that then died before its filer ran.
    const received = await receiveHl7Batch({ store }, raws.map((raw) => ({ raw, source: 'mllp' as const })));
    assert.deepEqual(received.map((r) => r.state), ['received', 'received', 'received']);
    assert.equal((await store.search({ resourceType: 'DiagnosticReport', params: [], count: 10, offset: 0 })).resources.length, 0);
    const listener = await startPathologyMllp(store, { port: 0, host: '127.0.0.1' });
    await listener.settled();
    await listener.close();
    const states = (await pdb(store.db).selectFrom('pathology_inbox').select('state').execute()).map((r) => r.state);
    assert.deepEqual(states, ['filed', 'filed', 'filed']);
    assert.equal((await store.search({ resourceType: 'DiagnosticReport', params: [], count: 10, offset: 0, total: true })).total, 3);
  } finally {
    await close();
  }
});
