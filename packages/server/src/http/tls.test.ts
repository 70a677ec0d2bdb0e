/**
 * TLS on the node: real HTTPS and MLLP-over-TLS requests on loopback against `startServer` (what
 * `steadfast serve` runs), trusting the generated certificate explicitly, and the CLI printing its
 * fingerprint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../cli/serve.ts';
import { sendMllp } from '../pathology/mllp-client.ts';
import { generateSelfSigned, loadOrCreateTls } from './tls.ts';
import { STEADFAST_BIN } from '../testing/cli.ts';


function get(url: string, options: https.RequestOptions = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; fingerprint?: string }> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.get(url, { ...options, agent: false }, (res) => {
      let body = '';
      const fingerprint = url.startsWith('https:') ? (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256 : undefined;
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ...(fingerprint ? { fingerprint } : {}) }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const ORU = 'MSH|^~\\&|LAB|RX1|STEADFAST|A81001|20261125||ORU^R01^ORU_R01|TLS-NODE-1|P|2.5.1\rPID|1||X1^^^LAB^MR||Test^Tess||19700101|F\rOBR|1||F1|CRP^CRP\rOBX|1|NM|CRP^CRP||4|mg/L|||||F';

test('HTTPS with a generated self-signed certificate: a real request trusting it is answered with HSTS; plain HTTP on the port is refused; the same certificate is kept across restarts', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'steadfast-tls-'));
  try {
    const mllpPort = await freePort();
    const server = await startServer({ data: dataDir, port: '0', host: '127.0.0.1', mllpPort: String(mllpPort), mllpHost: '127.0.0.1', tls: true, mllpTls: true });
    let fingerprint: string;
    try {
      assert.ok(server.tls, 'the server reports its certificate');
      assert.equal(server.tls.generated, true);
      assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const certPath = join(dataDir, 'tls', 'cert.pem');
      const cert = readFileSync(certPath, 'utf8');
      assert.equal(statSync(join(dataDir, 'tls', 'key.pem')).mode & 0o077, 0, 'the key is readable by its owner only');
      fingerprint = new X509Certificate(cert).fingerprint256;
      assert.equal(server.tls.fingerprint256, fingerprint);

      const res = await get(`${server.url}/fhir/R4/metadata`, { ca: cert });
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.body).resourceType, 'CapabilityStatement');
      assert.equal(res.headers['strict-transport-security'], 'max-age=31536000');
      assert.equal(res.fingerprint, fingerprint, 'the certificate served is the one whose fingerprint is printed');
      // Error answers carry HSTS too.
      const missing = await get(`${server.url}/fhir/R4/Patient/nope`, { ca: cert });
      assert.equal(missing.headers['strict-transport-security'], 'max-age=31536000');

      // Without trusting it explicitly, a client refuses the self-signed certificate.
      await assert.rejects(get(`${server.url}/fhir/R4/metadata`), /self[- ]signed/i);
      // Plain HTTP on the HTTPS port: refused (no answer at all, so nothing is ever sent in clear).
      const plainUrl = server.url.replace('https:', 'http:');
      await assert.rejects(get(`${plainUrl}/fhir/R4/metadata`), (err: any) => ['ECONNRESET', 'EPIPE'].includes(err.code) || /socket hang up|Parse Error/i.test(err.message));

      // MLLP over TLS with the same certificate, through the wiring `serve --mllp-tls` uses.
      const ack = await sendMllp('127.0.0.1', mllpPort, ORU, 10_000, { tls: { ca: cert } });
      assert.equal(ack.code, 'AA');
      await assert.rejects(sendMllp('127.0.0.1', mllpPort, ORU, 3000), /closed before an acknowledgement|ECONNRESET|No acknowledgement/);
    } finally {
      await server.close();
    }
    // Restart: the files in DATA/tls are used again (and turn TLS on without --tls).
    const again = await startServer({ data: dataDir, port: '0', host: '127.0.0.1', mllpPort: '0' });
    try {
      assert.equal(again.tls?.generated, false);
      assert.equal(again.tls?.fingerprint256, fingerprint);
      assert.match(again.url, /^https:/);
    } finally {
      await again.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('without TLS the node answers plain HTTP and sends no HSTS header', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'steadfast-notls-'));
  try {
    const server = await startServer({ data: dataDir, port: '0', host: '127.0.0.1', mllpPort: '0' });
    try {
      assert.equal(server.tls, undefined);
      const res = await get(`${server.url}/fhir/R4/metadata`);
      assert.equal(res.status, 200);
      assert.equal(res.headers['strict-transport-security'], undefined);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("a practice's own certificate and key (--tls-cert/--tls-key) are served as given; a missing half is refused with the flag named", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'steadfast-owncert-'));
  try {
    const own = await generateSelfSigned({ commonName: 'node.practice.example', hosts: ['127.0.0.1'] });
    mkdirSync(join(dataDir, 'own'));
    writeFileSync(join(dataDir, 'own', 'c.pem'), own.cert);
    writeFileSync(join(dataDir, 'own', 'k.pem'), own.key);
    const loaded = await loadOrCreateTls({ dataDir, certFile: join(dataDir, 'own', 'c.pem'), keyFile: join(dataDir, 'own', 'k.pem') });
    assert.equal(loaded.generated, false);
    assert.match(loaded.subject, /CN=node\.practice\.example/);
    const server = await startServer({ data: dataDir, port: '0', host: '127.0.0.1', mllpPort: '0', tlsCert: join(dataDir, 'own', 'c.pem'), tlsKey: join(dataDir, 'own', 'k.pem') });
    try {
      const res = await get(`${server.url}/fhir/R4/metadata`, { ca: own.cert });
      assert.equal(res.status, 200);
      assert.equal(res.fingerprint, new X509Certificate(own.cert).fingerprint256);
    } finally {
      await server.close();
    }
    await assert.rejects(loadOrCreateTls({ dataDir, certFile: join(dataDir, 'own', 'c.pem') }), (e: any) => e.field === '--tls-key' && /both a certificate and its key/.test(e.message));
    await assert.rejects(loadOrCreateTls({ dataDir, certFile: join(dataDir, 'nope.pem'), keyFile: join(dataDir, 'own', 'k.pem') }), (e: any) => e.field === '--tls-cert' && /could not be read/.test(e.message));
    // Half a pair in DATA/tls is refused rather than silently replaced.
    mkdirSync(join(dataDir, 'tls'));
    writeFileSync(join(dataDir, 'tls', 'cert.pem'), own.cert);
    await assert.rejects(loadOrCreateTls({ dataDir }), (e: any) => /key\.pem is missing/.test(e.message));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('`steadfast serve --tls` prints the SHA-256 fingerprint of the certificate it serves', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'steadfast-tlscli-'));
  const child = spawn(process.execPath, [STEADFAST_BIN, 'serve', '--data', dataDir, '--tls', '--port', '0', '--host', '127.0.0.1', '--mllp-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STEADFAST_DATA: '' } });
  try {
    let out = '';
    const printed = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no fingerprint printed:\n${out}`)), 30_000);
      child.stdout.on('data', (d) => {
        out += d;
        const m = /SHA-256 fingerprint: ([0-9A-F:]+)/.exec(out);
        if (m && /at (https:\/\/\S+)/.test(out)) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
    });
    const cert = readFileSync(join(dataDir, 'tls', 'cert.pem'), 'utf8');
    assert.equal(printed, new X509Certificate(cert).fingerprint256);
    const url = /at (https:\/\/\S+)/.exec(out)![1]!;
    const res = await get(`${url}/fhir/R4/metadata`, { ca: cert });
    assert.equal(res.fingerprint, printed);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
});
