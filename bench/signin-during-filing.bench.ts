/**
 * Sign-in while a 5,000-OBX pathology report is filed (the soak-test defect: one sign-in took 46 s at
 * load 38 on 2 cores, because filing held the event loop and the node's one SQLite connection for the
 * whole of the report's validation). Against baselines measured in the same run on the same node:
 *   - sign-in p95 and worst while the report is filed, against sign-in p95 on the idle node;
 *   - the longest the event loop went without running a 5 ms timer while filing, against the filing
 *     time (send to filed); 1.0 means one block covered the whole filing;
 *   - how many sign-ins answered before the report was filed.
 * BENCH_BIG_OBX (default 5000) sets the report's size.
 */
import { startTestNode, TEST_PASSWORD } from '../packages/server/src/testing/harness.ts';
import { startPathologyMllp } from '../packages/server/src/pathology/routes.ts';
import { sendMllp } from '../packages/server/src/pathology/mllp-client.ts';
import { buildBigOru } from '../packages/server/src/testing/hl7-fixtures.ts';
import { addPatients } from '../packages/server/src/testing/pathology-store.ts';
import { percentile, round, type BenchResult } from './types.ts';

const OBX = Number(process.env.BENCH_BIG_OBX ?? 5000);
const TICK_MS = 5;

export async function run(): Promise<BenchResult[]> {
  const node = await startTestNode();
  const mllp = await startPathologyMllp(node.store, { port: 0, host: '127.0.0.1' });
  try {
    const [patient] = await addPatients(node.store, [31]);
    const signIn = async (): Promise<number> => {
      const started = performance.now();
      const res = await node.fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'dr.chen', password: TEST_PASSWORD }) });
      if (res.status !== 200) throw new Error(`sign-in answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
      return performance.now() - started;
    };
    await signIn();
    const idle: number[] = [];
    for (let i = 0; i < 20; i++) idle.push(await signIn());

    const oru = buildBigOru('BENCH-BIG', patient!, OBX);
    let longestBlock = 0;
    let lastTick = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longestBlock = Math.max(longestBlock, now - lastTick - TICK_MS);
      lastTick = now;
    }, TICK_MS);
    const during: Array<{ ms: number; at: number }> = [];
    let filing = true;
    const signer = (async () => {
      while (filing) {
        const ms = await signIn();
        during.push({ ms, at: performance.now() });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const sentAt = performance.now();
    const ack = await sendMllp('127.0.0.1', mllp.port, oru, 600_000);
    if (ack.code !== 'AA') throw new Error(`the report was answered ${ack.code}: ${ack.text}`);
    await mllp.settled();
    const filedAt = performance.now();
    filing = false;
    clearInterval(ticker);
    await signer;
    const filingMs = filedAt - sentAt;
    const overlapping = during.map((d) => d.ms);
    const idleP95 = percentile(idle, 95);
    const duringP95 = percentile(overlapping, 95);
    const worst = Math.max(...overlapping);
    const answeredBefore = during.filter((d) => d.at < filedAt).length;
    return [
      { name: `sign-in p95 while a ${OBX}-OBX report is filed`, value: round(duringP95, 0), unit: 'ms', baseline: { name: 'sign-in p95, idle node', value: round(idleP95, 0) }, ratio: round(duringP95 / idleP95, 1) },
      { name: `slowest sign-in while a ${OBX}-OBX report is filed`, value: round(worst, 0), unit: 'ms', baseline: { name: 'filing time (send to filed)', value: round(filingMs, 0) }, ratio: round(worst / filingMs, 2), note: `${overlapping.length} sign-ins overlapped the filing` },
      { name: 'longest event-loop block while filing', value: round(longestBlock, 0), unit: 'ms', baseline: { name: 'filing time (send to filed)', value: round(filingMs, 0) }, ratio: round(longestBlock / filingMs, 2), target: 'well under 1 (1 = one block covered the filing)' },
      { name: 'sign-ins answered before the report was filed', value: answeredBefore, unit: 'sign-ins', note: `idle sign-in p50 ${round(percentile(idle, 50), 0)} ms` },
    ];
  } finally {
    await mllp.close();
    await node.close();
  }
}
