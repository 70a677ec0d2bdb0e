/**
 * The cost of TLS on HTTP reads: one node, its app served twice in the same process (plain HTTP and
 * HTTPS with a generated self-signed certificate), the same authenticated FHIR read (GET
 * /fhir/R4/Patient/:id, audited) sent to each in alternating rounds. Baseline: the plain-HTTP rate
 * of the same run. Two figures: keep-alive connections (the handshake paid once per connection, what
 * a browser does) and a new connection per request (a full TLS handshake on every read, the worst case).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../packages/server/src/app.ts';
import { appDepsOf, openNode } from '../packages/server/src/node/open.ts';
import { generateSelfSigned } from '../packages/server/src/http/tls.ts';
import { round, type BenchResult } from './types.ts';

const CONCURRENCY = 8;

function rate(url: string, token: string, count: number, agent: http.Agent | false, ca?: string): Promise<number> {
  const lib = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    let started = 0;
    let done = 0;
    const t0 = process.hrtime.bigint();
    const next = () => {
      if (started >= count) return;
      started++;
      const req = lib.get(url, { agent, headers: { authorization: `Bearer ${token}` }, ...(ca ? { ca } : {}) }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`${url}: ${res.statusCode}`));
        res.resume();
        res.on('end', () => {
          done++;
          if (done === count) resolve(count / (Number(process.hrtime.bigint() - t0) / 1e9));
          else next();
        });
      });
      req.on('error', reject);
    };
    for (let i = 0; i < CONCURRENCY; i++) next();
  });
}

export async function run(): Promise<BenchResult[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'steadfast-bench-tls-'));
  const node = await openNode({ dataDir });
  const material = await generateSelfSigned({ commonName: 'bench', hosts: ['127.0.0.1'] });
  const plain = await buildApp(appDepsOf(node));
  const secure = await buildApp(appDepsOf(node, { tls: material }));
  try {
    await plain.listen({ host: '127.0.0.1', port: 0 });
    await secure.listen({ host: '127.0.0.1', port: 0 });
    const port = (app: typeof plain) => (app.server.address() as { port: number }).port;
    const user = await node.accounts.addUser({ username: 'bench-clinician', password: 'bench-password-1', role: 'clinician', name: 'Bench Clinician' });
    const { token } = await node.accounts.createSession(user.id, 'bench', 'api');
    const [out] = await node.store.write([{ kind: 'create', resource: { resourceType: 'Patient', name: [{ family: 'Bench', given: ['Tess'] }], birthDate: '1970-01-01', gender: 'female' } }], { author: 'bench' });
    const path = `/fhir/R4/Patient/${(out!.resource as { id: string }).id}`;
    const httpUrl = `http://127.0.0.1:${port(plain)}${path}`;
    const httpsUrl = `https://127.0.0.1:${port(secure)}${path}`;

    const measure = async (keepAlive: boolean, count: number, rounds: number) => {
      const httpAgent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY }) : false;
      const httpsAgent = keepAlive ? new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: material.cert }) : false;
      // Warm-up (JIT, caches), then rounds in ABBA order so that a drift in speed (the machine's load,
      // the process warming up) falls on both alike.
      for (let w = 0; w < 2; w++) {
        await rate(httpUrl, token, count, httpAgent);
        await rate(httpsUrl, token, count, httpsAgent, material.cert);
      }
      const h: number[] = [];
      const s: number[] = [];
      for (let r = 0; r < rounds; r++) {
        if (r % 2 === 0) {
          h.push(await rate(httpUrl, token, count, httpAgent));
          s.push(await rate(httpsUrl, token, count, httpsAgent, material.cert));
        } else {
          s.push(await rate(httpsUrl, token, count, httpsAgent, material.cert));
          h.push(await rate(httpUrl, token, count, httpAgent));
        }
      }
      if (httpAgent) httpAgent.destroy();
      if (httpsAgent) httpsAgent.destroy();
      const median = (xs: number[]) => {
        const o = [...xs].sort((a, b) => a - b);
        return (o[(o.length - 1) >> 1]! + o[o.length >> 1]!) / 2;
      };
      return { http: median(h), https: median(s) };
    };

    const kept = await measure(true, 2000, 6);
    const fresh = await measure(false, 500, 6);
    return [
      {
        name: 'FHIR Patient read over HTTPS, keep-alive (8 in flight)',
        value: round(kept.https, 0),
        unit: 'requests/s',
        baseline: { name: 'same read over plain HTTP', value: round(kept.http, 0) },
        ratio: round(kept.https / kept.http),
        note: 'median of 6 rounds of 2,000 in ABBA order; RSA 2048 self-signed; each read audited',
      },
      {
        name: 'FHIR Patient read over HTTPS, new connection per request (8 in flight)',
        value: round(fresh.https, 0),
        unit: 'requests/s',
        baseline: { name: 'same read over plain HTTP, new connection per request', value: round(fresh.http, 0) },
        ratio: round(fresh.https / fresh.http),
        note: 'median of 6 rounds of 500 in ABBA order; a full TLS handshake on every read (worst case)',
      },
    ];
  } finally {
    await plain.close();
    await secure.close();
    await node.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
