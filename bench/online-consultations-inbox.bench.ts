/**
 * The staff triage inbox in Chromium at BENCH_OC_REQUESTS open online consultation requests (default
 * 20,000; the target: p95 under 300 ms). Requests are seeded through the public submission API
 * (the real write path). Measured: from navigating to the inbox to its first page of rows shown, and
 * a "Next page" click to the next page shown. Baseline in the same run: the same list request from Node.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { CURRENT_QUESTIONNAIRE } from '@steadfast/domain/online-consultations';
import { startTestNode, TEST_PASSWORD, testUsernames } from '../packages/server/src/testing/harness.ts';
import { percentile, round, type BenchResult } from './types.ts';

const CHROMIUM = '/usr/bin/chromium';
const N = Number(process.env.BENCH_OC_REQUESTS ?? 20_000);
const ROUNDS = 30;
/** In-app navigation (the app's router listens to popstate), as a string: this file has no DOM types. */
const go = (path: string) => `history.pushState(null, '', ${JSON.stringify(path)}); dispatchEvent(new PopStateEvent('popstate'))`;

export async function run(): Promise<BenchResult[]> {
  if (!existsSync(CHROMIUM)) return [{ name: 'triage inbox', value: NaN, unit: 'ms', note: `skipped: no Chromium at ${CHROMIUM}` }];
  const hours = ([0, 1, 2, 3, 4, 5, 6] as const).map((day) => ({ day, opens: '00:00', closes: '24:00' }));
  const node = await startTestNode({ config: { onlineConsultations: { hours, rateLimit: { max: 10_000_000, windowMs: 60_000 } } } });
  try {
    const redFlags = Object.fromEntries(CURRENT_QUESTIONNAIRE.redFlags.filter((q) => q.kinds.includes('medical')).map((q) => [q.linkId, false]));
    const url = `${node.url}/api/public/online-consultations/${node.store.practice}/submissions`;
    let next = 0;
    const seedStarted = Date.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = next++; i < N; i = next++) {
          const flags = i % 50 === 0 ? { ...redFlags, 'rf-sepsis': true } : redFlags;
          const r = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ submissionId: crypto.randomUUID(), questionnaireVersion: CURRENT_QUESTIONNAIRE.version, kind: 'medical', redFlags: flags, answers: { symptoms: `Cough number ${i}`, duration: 'days', want: 'Advice' }, identity: { givenName: 'Pat', familyName: `Bench${i % 500}`, birthDate: '1980-02-01', postcode: 'LS1 4AP', mobile: '07700900123' }, contactPreference: 'sms' }),
          });
          if (r.status !== 201) throw new Error(`seed ${i}: ${r.status} ${await r.text()}`);
        }
      }),
    );
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    const apiSamples: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t = performance.now();
      const r = await node.fetchAs('clinician', '/api/online-consultations?status=open&limit=50');
      await r.json();
      apiSamples.push(performance.now() - t);
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(node.url);
    await page.fill('#username', testUsernames.clinician);
    await page.fill('#password', TEST_PASSWORD);
    await page.fill('#workstation', 'BENCH');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signed-in-user]');
    const open: number[] = [];
    const paging: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await page.evaluate(go('/tasks'));
      await page.waitForSelector('[data-testid=oc-inbox]', { state: 'detached' });
      const t = Date.now();
      await page.evaluate(go('/online-consultations'));
      await page.waitForSelector('[data-testid=oc-row]');
      open.push(Date.now() - t);
      const first = await page.textContent('[data-testid=oc-row] a');
      const t2 = Date.now();
      await page.click('button:has-text("Next page")');
      await page.waitForFunction(`document.querySelector('[data-testid=oc-row] a')?.textContent !== ${JSON.stringify(first)}`);
      paging.push(Date.now() - t2);
    }
    await browser.close();
    const p95 = round(percentile(open, 95), 1);
    const base = round(percentile(apiSamples, 95), 1);
    return [
      { name: `triage inbox shown, ${N} open requests (p95 of ${ROUNDS})`, value: p95, unit: 'ms', baseline: { name: 'same list request from Node, p95', value: base }, ratio: round(p95 / base, 1), target: `p95 < 300 ms: ${p95 < 300 ? 'met' : 'NOT met'}`, note: `seeded through the public API in ${round(seedSeconds, 0)} s` },
      { name: `triage inbox next page (p95 of ${ROUNDS})`, value: round(percentile(paging, 95), 1), unit: 'ms', target: `p95 < 300 ms: ${percentile(paging, 95) < 300 ? 'met' : 'NOT met'}` },
    ];
  } finally {
    await node.close();
  }
}
