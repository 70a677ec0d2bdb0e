// A small bounded HTTP load client for the at-rest bench, run on a worker thread so it does not share
// the server's event loop: `connections` keep-alive sockets on loopback, each sending one request at a
// time until `durationMs` has passed or `maxRequests` were sent. Reports every latency (ms).
import { Agent, request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { url, connections, durationMs, maxRequests, readPaths, writePath, writeBodies, writeEvery, token } = workerData;
const target = new URL(url);
const agent = new Agent({ keepAlive: true, maxSockets: connections });
const headers = { authorization: `Bearer ${token}` };
const latencies = [];
let sent = 0;
let errors = 0;
let firstError;
const end = Date.now() + durationMs;

function once(i) {
  const write = writeEvery > 0 && i % writeEvery === 0;
  const body = write ? writeBodies[i % writeBodies.length] : undefined;
  return new Promise((resolve) => {
    const t = performance.now();
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        agent,
        method: write ? 'POST' : 'GET',
        path: write ? writePath : readPaths[i % readPaths.length],
        headers: write ? { ...headers, 'content-type': 'application/fhir+json', 'content-length': Buffer.byteLength(body) } : headers,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - t);
          if (res.statusCode >= 300) {
            errors += 1;
            firstError ??= `${res.statusCode} for ${write ? 'POST' : 'GET'}`;
          }
          resolve();
        });
      },
    );
    req.on('error', (err) => {
      errors += 1;
      firstError ??= err.message;
      resolve();
    });
    if (body) req.write(body);
    req.end();
  });
}

async function loop() {
  while (Date.now() < end && sent < maxRequests) {
    const i = sent;
    sent += 1;
    await once(i);
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: connections }, loop));
const seconds = (performance.now() - started) / 1000;
agent.destroy();
parentPort.postMessage({ count: latencies.length, errors, firstError, seconds, latencies });
