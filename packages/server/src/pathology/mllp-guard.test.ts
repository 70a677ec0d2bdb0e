/**
 * The MLLP listener's guards (idle timeout, connection cap, address allow-list), the processing id
 * of its ACKs, and MLLP inside TLS: all over real TCP sockets on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { Hl7Message } from '@medplum/core';
import { startPathologyMllp } from './routes.ts';
import { buildOru } from '../testing/hl7-fixtures.ts';
import { addPatients, openPathologyStore, type TestPatient } from '../testing/pathology-store.ts';
import { pdb } from './tables.ts';
import { CR, FS, VT, frame, processingIdOf } from './mllp.ts';
import { parseAllowList, parseMllpLimits } from './mllp-limits.ts';
import { sendMllp } from './mllp-client.ts';
import { generateSelfSigned } from '../http/tls.ts';

const msh = (ack: string) => Hl7Message.parse(ack).getSegment('MSH')!;
const msa = (ack: string) => Hl7Message.parse(ack).getSegment('MSA')!;

function oru(p: TestPatient, id: string, processingId = 'P'): string {
  return buildOru({
    messageId: id,
    nhsNumber: p.nhsNumber,
    family: p.family,
    given: p.given,
    birthDate: p.birthDate.replace(/-/g, ''),
    filler: `F-${id}`,
    test: ['CRP', 'CRP'],
    obx: [{ code: 'CRP', display: 'CRP', value: '4', units: 'mg/L' }],
  }).replace(`|${id}|P|2.5.1`, `|${id}|${processingId}|2.5.1`);
}

/** A connected client socket that collects ACK frames, and tells when the server closed it. */
function connect(port: number): Promise<{ socket: net.Socket; acks: string[]; received: () => number; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const acks: string[] = [];
    let bytes = 0;
    let buf = Buffer.alloc(0);
    const started = Date.now();
    const socket = net.connect({ port, host: '127.0.0.1' });
    const closed = new Promise<number>((done) => socket.on('close', () => done(Date.now() - started)));
    socket.on('data', (d: Buffer) => {
      bytes += d.length;
      buf = Buffer.concat([buf, d]);
      let end: number;
      while ((end = buf.indexOf(Buffer.from([FS, CR]))) !== -1) {
        acks.push(buf.subarray(buf.indexOf(VT) + 1, end).toString('utf8'));
        buf = buf.subarray(end + 2);
      }
    });
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, acks, received: () => bytes, closed }));
    socket.once('error', reject);
  });
}

/** Resolves true when `p` settles within ms, false otherwise. */
async function within(ms: number, p: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([p.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
  clearTimeout(timer);
  return result;
}

const until = async (check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return check();
};

test('regression: a slow sender held an MLLP connection open forever (no idle timeout); its half-sent message is dropped, nothing stored', async () => {
  const { store, close } = await openPathologyStore();
  const notices: string[] = [];
  const listener = await startPathologyMllp(store, { port: 0, host: '127.0.0.1', limits: { idleTimeoutMs: 1500 }, onNotice: (m) => notices.push(m) });
  try {
    const [p] = await addPatients(store, [410]);
    const message = frame(oru(p!, 'SLOW1'));
    const slow = await connect(listener.port);
    // Half a message, then nothing: a trickling or stalled sender.
    slow.socket.write(message.subarray(0, 60));
    assert.ok(await within(8000, slow.closed), 'the listener closes a connection that has sent nothing for the idle timeout');
    assert.equal(slow.acks.length, 0);
    assert.equal(listener.counters().closedIdle, 1);
    assert.ok(notices.some((n) => /closed after 1500 ms without data/.test(n) && /dropped/.test(n)), notices.join('\n'));
    const rows = await pdb(store.db).selectFrom('pathology_inbox').select(['state']).execute();
    assert.equal(rows.length, 0, 'nothing is stored from a half-sent message cut off by the idle timeout');
    // A sender that keeps talking within the timeout is never cut off, even across several timeouts
    // (pauses of a tenth of it: the filer shares this process's event loop and can hold it up; with a
    // 600 ms timeout a loaded CI machine (load 26) let the gaps between messages run past it).
    const steady = await connect(listener.port);
    for (let i = 0; i < 6; i++) {
      steady.socket.write(frame(oru(p!, `STEADY${i}`)));
      await until(() => steady.acks.length === i + 1);
      await new Promise((r) => setTimeout(r, 150));
    }
    assert.equal(steady.acks.length, 6, notices.join('\n'));
    assert.deepEqual(steady.acks.map((a) => msa(a).getField(1).toString()), ['AA', 'AA', 'AA', 'AA', 'AA', 'AA']);
    assert.equal(steady.socket.destroyed, false);
    steady.socket.end();
  } finally {
    await listener.close();
    await close();
  }
});

test('regression: any number of MLLP connections were accepted at once (no cap); one too many is closed at once, counted and logged', async () => {
  const { store, close } = await openPathologyStore();
  const notices: string[] = [];
  const listener = await startPathologyMllp(store, { port: 0, host: '127.0.0.1', limits: { maxConnections: 2, idleTimeoutMs: 10_000 }, onNotice: (m) => notices.push(m) });
  const open: net.Socket[] = [];
  try {
    const [p] = await addPatients(store, [420]);
    const a = await connect(listener.port);
    const b = await connect(listener.port);
    open.push(a.socket, b.socket);
    // Give the listener a moment to have both counted.
    await new Promise((r) => setTimeout(r, 50));
    const c = await connect(listener.port);
    open.push(c.socket);
    c.socket.write(frame(oru(p!, 'OVER1')));
    assert.ok(await within(1000, c.closed), 'a connection over the cap is closed at once');
    assert.equal(c.received(), 0, 'and answered nothing');
    assert.equal(listener.counters().refusedOverLimit, 1);
    assert.ok(notices.some((n) => /refused: 2 connections already open \(limit 2/.test(n)), notices.join('\n'));
    // The connections within the cap are served.
    a.socket.write(frame(oru(p!, 'IN1')));
    assert.ok(await until(() => a.acks.length === 1));
    assert.equal(msa(a.acks[0]!).getField(1).toString(), 'AA');
    // Once one closes, a new connection is served again.
    b.socket.end();
    await b.closed;
    await new Promise((r) => setTimeout(r, 50));
    const d = await connect(listener.port);
    open.push(d.socket);
    d.socket.write(frame(oru(p!, 'IN2')));
    assert.ok(await until(() => d.acks.length === 1), 'a connection is served once there is room');
    const ids = (await pdb(store.db).selectFrom('pathology_inbox').select(['message_id']).execute()).map((r) => r.message_id).sort();
    assert.deepEqual(ids, ['IN1', 'IN2'], 'nothing from the refused connection was stored');
  } finally {
    for (const s of open) s.destroy();
    await listener.close();
    await close();
  }
});

test('regression: the MLLP ACK always said processing id P, even for a test message (MSH-11 T)', async () => {
  const { store, close } = await openPathologyStore();
  const listener = await startPathologyMllp(store, { port: 0, host: '127.0.0.1' });
  try {
    const [p] = await addPatients(store, [430]);
    const c = await connect(listener.port);
    c.socket.write(frame(oru(p!, 'PID-T', 'T')));
    c.socket.write(frame(oru(p!, 'PID-D', 'D')));
    c.socket.write(frame(oru(p!, 'PID-P', 'P')));
    // Unparseable, but with a readable MSH-11: the hand-built ACK echoes it too.
    c.socket.write(frame('MSH|^~\\&|LAB|X|STEADFAST|A81001|20261125||ORU^R01|BROKEN|T|2.5.1\rthis is not a segment'));
    assert.ok(await until(() => c.acks.length === 4));
    assert.deepEqual(
      c.acks.map((a) => [msa(a).getField(2).toString(), msh(a).getField(11).toString()]),
      [
        ['PID-T', 'T'],
        ['PID-D', 'D'],
        ['PID-P', 'P'],
        ['BROKEN', 'T'],
      ],
    );
    assert.ok(c.acks.every((a) => a.split('\r')[0]!.split('|')[10] === a.split('\r')[0]!.split('|')[10]!.trim()));
    assert.equal(c.acks[0]!.split('\r')[0]!.split('|')[10], 'T', 'MSH-11 is the 11th field of the ACK as sent on the wire');
    c.socket.end();
  } finally {
    await listener.close();
    await close();
  }
});

test('processing id: read from MSH-11 whatever the separators; P when absent or unknown', () => {
  assert.equal(processingIdOf('MSH|^~\\&|A|B|C|D|2026||ORU^R01|1|T|2.5.1'), 'T');
  assert.equal(processingIdOf('MSH|^~\\&|A|B|C|D|2026||ORU^R01|1|D^T|2.5.1'), 'D');
  assert.equal(processingIdOf('MSH#^~\\&#A#B#C#D#2026##ORU^R01#1#T#2.5.1'), 'T');
  assert.equal(processingIdOf('MSH|^~\\&|A|B|C|D|2026||ORU^R01|1||2.5.1'), 'P');
  assert.equal(processingIdOf('MSH|^~\\&|A|B|C|D|2026||ORU^R01|1|X|2.5.1'), 'P');
  assert.equal(processingIdOf('not hl7'), 'P');
});

test('regression: MLLP took connections from any address (no allow-list); one from elsewhere is closed before a byte is read, and logged', async () => {
  const { store, close } = await openPathologyStore();
  const notices: string[] = [];
  // Loopback is not on this list: the test's own connection comes from elsewhere.
  const refusing = await startPathologyMllp(store, { port: 0, host: '127.0.0.1', limits: { allow: ['10.20.0.5', '10.20.1.0/24', 'fd00::/8'] }, onNotice: (m) => notices.push(m) });
  const allowing = await startPathologyMllp(store, { port: 0, host: '127.0.0.1', limits: { allow: ['10.20.0.5', '127.0.0.0/8'] } });
  try {
    const [p] = await addPatients(store, [440]);
    const c = await connect(refusing.port);
    c.socket.write(frame(oru(p!, 'STRANGER')));
    assert.ok(await within(1000, c.closed), 'a connection from an address not on the list is closed at once');
    assert.equal(c.received(), 0);
    assert.equal(refusing.counters().refusedNotAllowed, 1);
    assert.ok(notices.some((n) => /127\.0\.0\.1:\d+ refused: the address is not on the allow-list/.test(n)), notices.join('\n'));
    const ok = await connect(allowing.port);
    ok.socket.write(frame(oru(p!, 'FRIEND')));
    assert.ok(await until(() => ok.acks.length === 1), 'an address inside an allowed range is served');
    ok.socket.end();
    const ids = (await pdb(store.db).selectFrom('pathology_inbox').select(['message_id']).execute()).map((r) => r.message_id);
    assert.deepEqual(ids, ['FRIEND'], 'nothing from the refused address was stored');
  } finally {
    await refusing.close();
    await allowing.close();
    await close();
  }
});

test('allow-list and limits from serve flags: addresses and CIDR ranges (v4, v6, v4-mapped), bad entries refused with the flag named', () => {
  const allowed = parseAllowList(['10.20.0.5', '10.20.1.0/24', 'fd00::/8']);
  assert.equal(allowed('10.20.0.5'), true);
  assert.equal(allowed('::ffff:10.20.1.77'), true);
  assert.equal(allowed('10.20.2.1'), false);
  assert.equal(allowed('fd12::1'), true);
  assert.equal(allowed('fe80::1'), false);
  assert.equal(allowed(undefined), false);
  for (const bad of ['lab.example', '10.0.0.0/33', '10.0.0.0/x', '10.0.0.1/24/1', '']) {
    assert.throws(() => parseAllowList([bad]), (e: any) => e.code === 'invalid' && e.field === '--mllp-allow', bad);
  }
  assert.deepEqual(parseMllpLimits({ idleTimeout: '90', maxConnections: '4', allow: '10.0.0.5, 10.1.0.0/16' }), { idleTimeoutMs: 90_000, maxConnections: 4, allow: ['10.0.0.5', '10.1.0.0/16'] });
  assert.equal(parseMllpLimits({}), undefined);
  assert.throws(() => parseMllpLimits({ idleTimeout: 'soon' }), /--mllp-idle-timeout "soon"/);
  assert.throws(() => parseMllpLimits({ maxConnections: '0' }), /--mllp-max-connections "0"/);
  assert.throws(() => parseMllpLimits({ allow: '10.0.0.5,lab' }), /"lab" is not an IP address/);
});

test('MLLP over TLS: a result sent inside TLS (trusting the node certificate) is stored and acknowledged; plain MLLP and an untrusted client get nothing', async () => {
  const { store, close } = await openPathologyStore();
  const material = await generateSelfSigned({ commonName: 'steadfast-test', hosts: ['127.0.0.1'] });
  const listener = await startPathologyMllp(store, { port: 0, host: '127.0.0.1', tls: material, limits: { idleTimeoutMs: 2000 } });
  try {
    assert.equal(listener.tls, true);
    const [p] = await addPatients(store, [450]);
    const ack = await sendMllp('127.0.0.1', listener.port, oru(p!, 'TLS1'), 10_000, { tls: { ca: material.cert } });
    assert.equal(ack.code, 'AA');
    assert.equal(msa(ack.raw).getField(2).toString(), 'TLS1');
    await listener.settled();
    const rows = await pdb(store.db).selectFrom('pathology_inbox').select(['message_id', 'state']).execute();
    assert.deepEqual(rows.map((r) => r.message_id), ['TLS1']);
    // A client that does not trust the certificate refuses to send anything.
    await assert.rejects(sendMllp('127.0.0.1', listener.port, oru(p!, 'TLS2'), 5000, { tls: {} }), /self[- ]signed|certificate/i);
    // Plain MLLP on the TLS port is never read as a message.
    const plain = await connect(listener.port);
    plain.socket.write(frame(oru(p!, 'PLAIN1')));
    assert.ok(await within(3000, plain.closed), 'plain MLLP on the TLS port is closed');
    assert.equal(plain.acks.length, 0);
    // A peer that connects and never starts the handshake is closed by the idle timeout.
    const silent = await connect(listener.port);
    assert.ok(await within(6000, silent.closed), 'a connection that never starts the TLS handshake is closed when idle');
    assert.ok(listener.counters().closedIdle >= 1);
    // A TLS socket sees the certificate the node will print: its fingerprint can be pinned.
    const peer = await new Promise<tls.PeerCertificate>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: listener.port, ca: material.cert }, () => {
        resolve(s.getPeerCertificate());
        s.end();
      });
      s.on('error', reject);
    });
    assert.match(peer.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const ids = (await pdb(store.db).selectFrom('pathology_inbox').select(['message_id']).execute()).map((r) => r.message_id);
    assert.deepEqual(ids, ['TLS1']);
  } finally {
    await listener.close();
    await close();
  }
});
