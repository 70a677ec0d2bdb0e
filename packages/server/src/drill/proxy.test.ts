import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { FaultProxy } from './proxy.ts';

/** A real echo server on 127.0.0.1 that counts the connections it saw. */
async function startEcho(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Send `payload` and collect `expected` bytes of answer. */
async function roundTrip(port: number, payload: Buffer): Promise<Buffer> {
  const socket = await connect(port);
  const chunks: Buffer[] = [];
  let got = 0;
  const done = new Promise<Buffer>((resolve, reject) => {
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (got >= payload.length) resolve(Buffer.concat(chunks));
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed after ${got} of ${payload.length} bytes`)));
  });
  socket.write(payload);
  try {
    return await done;
  } finally {
    socket.destroy();
  }
}

/** What happens to a connection: the error code it ends with, or 'closed' / 'open'. */
function fate(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    socket.once('close', () => resolve('closed'));
  });
}

const payload = Buffer.from(Array.from({ length: 20_000 }, (_, i) => i % 251));

describe('FaultProxy over a real echo server', () => {
  let echo: Awaited<ReturnType<typeof startEcho>>;
  before(async () => {
    echo = await startEcho();
  });
  after(async () => {
    await echo.close();
  });

  test('pass forwards both ways byte for byte', async () => {
    const proxy = await FaultProxy.start({ targetPort: echo.port, seed: 1 });
    try {
      assert.deepEqual(await roundTrip(proxy.port, payload), payload);
      assert.equal(proxy.stats.forwarded, 1);
    } finally {
      await proxy.close();
    }
  });

  test('delay still delivers every byte in order, and delays each chunk', async () => {
    const proxy = await FaultProxy.start({ targetPort: echo.port, seed: 2, mode: 'delay', delayMs: [1, 5] });
    try {
      assert.deepEqual(await roundTrip(proxy.port, payload), payload);
      assert.ok(proxy.stats.delayedChunks >= 2, `expected chunks delayed both ways, saw ${proxy.stats.delayedChunks}`);
      assert.match(proxy.decisions[0] ?? '', /^delay [1-5]$/);
    } finally {
      await proxy.close();
    }
  });

  test('drop accepts but never reaches the target; switching back to pass resets the held connection', async () => {
    const proxy = await FaultProxy.start({ targetPort: echo.port, seed: 3, mode: 'drop' });
    try {
      const before = echo.connections();
      const dropped = once(proxy, 'dropped');
      const socket = await connect(proxy.port);
      await dropped;
      let answered = false;
      socket.on('data', () => (answered = true));
      socket.write('hello?');
      const ending = fate(socket);
      await proxy.setMode('pass');
      assert.equal(await ending, 'ECONNRESET');
      assert.equal(answered, false);
      assert.equal(echo.connections(), before, 'a dropped connection must not reach the target');
      // and the network is back
      assert.deepEqual(await roundTrip(proxy.port, Buffer.from('back')), Buffer.from('back'));
    } finally {
      await proxy.close();
    }
  });

  test('reset cuts a connection with an RST after a seeded number of bytes, the same for the same seed', async () => {
    const runs: string[][] = [];
    for (let run = 0; run < 2; run++) {
      const proxy = await FaultProxy.start({ targetPort: echo.port, seed: 'same', mode: 'reset', resetAfterBytes: [100, 5000] });
      try {
        for (let i = 0; i < 3; i++) {
          await assert.rejects(roundTrip(proxy.port, payload), (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET' || /closed after/.test(err.message));
        }
        assert.equal(proxy.stats.reset, 3);
        assert.ok(proxy.stats.bytesToTarget <= 3 * 5000);
        runs.push([...proxy.decisions]);
      } finally {
        await proxy.close();
      }
    }
    assert.equal(runs[0]!.length, 3);
    assert.deepEqual(runs[0], runs[1]);
  });

  test('down refuses connections on the same port, and pass listens there again', async () => {
    const proxy = await FaultProxy.start({ targetPort: echo.port, seed: 4 });
    try {
      const port = proxy.port;
      const open = await connect(port);
      const ending = fate(open);
      await proxy.setMode('down');
      assert.equal(await ending, 'ECONNRESET', 'links open when the network goes down are reset');
      await assert.rejects(connect(port), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
      await proxy.setMode('pass');
      assert.equal(proxy.port, port);
      assert.deepEqual(await roundTrip(port, Buffer.from('up again')), Buffer.from('up again'));
    } finally {
      await proxy.close();
    }
  });

  test('setTarget follows a restarted target and resets links to the old one', async () => {
    const second = await startEcho();
    const proxy = await FaultProxy.start({ targetPort: echo.port, seed: 5 });
    try {
      const open = await connect(proxy.port);
      open.write('x');
      await once(open, 'data');
      const ending = fate(open);
      proxy.setTarget(second.port);
      assert.equal(await ending, 'ECONNRESET');
      const before = second.connections();
      assert.deepEqual(await roundTrip(proxy.port, Buffer.from('new')), Buffer.from('new'));
      assert.equal(second.connections(), before + 1);
    } finally {
      await proxy.close();
      await second.close();
    }
  });

  test('a target that refuses makes the proxy reset the client rather than hang it', async () => {
    const gone = await startEcho();
    const port = gone.port;
    await gone.close();
    const proxy = await FaultProxy.start({ targetPort: port, seed: 6 });
    try {
      const socket = await connect(proxy.port);
      assert.equal(await fate(socket), 'ECONNRESET');
    } finally {
      await proxy.close();
    }
  });
});
