import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePort } from '../node/identity.ts';
import { DEFAULT_MLLP_PORT, parseLab } from '../pathology/options.ts';

test('ports: a default when absent, 0 allowed (turns a listener off), nonsense refused with the flag named', () => {
  assert.equal(parsePort(undefined, '--mllp-port', DEFAULT_MLLP_PORT), 2575);
  assert.equal(parsePort('0', '--mllp-port', DEFAULT_MLLP_PORT), 0);
  assert.equal(parsePort('12575', '--mllp-port', DEFAULT_MLLP_PORT), 12575);
  assert.throws(() => parsePort('70000', '--mllp-port', DEFAULT_MLLP_PORT), /--mllp-port "70000" is not a port number/);
  assert.throws(() => parsePort('http', '--port', 8080), /--port "http"/);
});

test('--lab takes NAME@HOST:PORT or HOST:PORT and names the expected form when wrong', () => {
  assert.deepEqual(parseLab('leeds-path@127.0.0.1:2576'), { name: 'leeds-path', host: '127.0.0.1', port: 2576 });
  assert.deepEqual(parseLab('lab.example:2575'), { name: 'laboratory', host: 'lab.example', port: 2575 });
  assert.throws(() => parseLab('lab.example'), /NAME@HOST:PORT/);
  assert.deepEqual(parseLab('leeds-path@127.0.0.1:2576/OML'), { name: 'leeds-path', host: '127.0.0.1', port: 2576, message: 'OML' });
  assert.throws(() => parseLab('leeds-path@127.0.0.1:2576/ADT'), /OML\^O21/);
});

test('serve --mllp-allow / --mllp-max-connections reach the MLLP listener; a bad entry stops the start with the flag named', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const net = await import('node:net');
  const { startServer } = await import('./serve.ts');
  const dataDir = mkdtempSync(join(tmpdir(), 'steadfast-serve-mllp-'));
  try {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const mllpPort = (probe.address() as import('node:net').AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    await assert.rejects(startServer({ data: dataDir, port: '0', host: '127.0.0.1', mllpPort: String(mllpPort), mllpAllow: '10.9.9.9,lab-host' }), (e: any) => e.field === '--mllp-allow');
    const server = await startServer({ data: dataDir, port: '0', host: '127.0.0.1', mllpPort: String(mllpPort), mllpHost: '127.0.0.1', mllpAllow: '10.9.9.9', mllpMaxConnections: '4', mllpIdleTimeout: '30' });
    try {
      const closedAt = await new Promise<number>((resolve, reject) => {
        const started = Date.now();
        const s = net.connect({ port: mllpPort, host: '127.0.0.1' }, () => s.write('\x0bMSH|^~\\&|X\x1c\r'));
        s.on('data', () => reject(new Error('a refused address was answered')));
        s.on('error', () => {});
        s.on('close', () => resolve(Date.now() - started));
      });
      assert.ok(closedAt < 2000, `closed at once (${closedAt} ms)`);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
