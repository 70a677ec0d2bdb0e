/**
 * Staff web app in Chromium against a real node: patient search results shown after the last
 * keystroke, and a record fully shown after Enter. BENCH_WEB_PATIENTS patients (default 10,000; the
 * issue's target is stated at 1,000,000). Baselines in the same run: the same HTTP requests made
 * directly from Node (what the browser adds on top: rendering, React, the debounce).
 * Skipped (empty result with a note) when /usr/bin/chromium is missing.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber, testNhsNumberCapacity } from '@steadfast/domain';
import type { WriteRequest } from '@steadfast/store';
import { startTestNode, TEST_PASSWORD, testUsernames } from '../packages/server/src/testing/harness.ts';
import { Random } from '@steadfast/domain/random';
import { percentile, round, type BenchResult } from './types.ts';

const CHROMIUM = '/usr/bin/chromium';
const FAMILIES = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Patel', 'Robinson', 'Wright', 'Thompson', 'Evans', 'Walker', 'White', 'Roberts', 'Green', 'Hall', 'Khan', 'Wood', 'Jackson', 'Clarke', 'Hughes', 'Edwards', 'Ahmed', 'Lewis', 'Harris', 'Martin', 'Cooper', 'Morris'];
const GIVEN = ['Oliver', 'Amelia', 'George', 'Isla', 'Harry', 'Ava', 'Noah', 'Mia', 'Jack', 'Ivy', 'Leo', 'Lily', 'Arthur', 'Freya', 'Muhammad', 'Grace', 'Oscar', 'Sophia', 'Charlie', 'Florence'];

// mulberry32 from the domain: a plain LCG in doubles loses precision and repeats, which at a million
// patients gave thousands of patients one name and birth date.
const random = new Random(7);
const rand = () => random.next();
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
const day = () => new Date(Date.UTC(1930, 0, 1) + Math.floor(rand() * 90 * 365) * 86_400_000).toISOString().slice(0, 10);

export async function run(): Promise<BenchResult[]> {
  if (!existsSync(CHROMIUM)) return [{ name: 'web app', value: NaN, unit: 'ms', note: `skipped: ${CHROMIUM} not installed` }];
  const root = fileURLToPath(new URL('..', import.meta.url));
  spawnSync(process.execPath, [join(root, 'scripts/build-web.mjs')], { stdio: 'inherit', cwd: root });
  const total = Number(process.env.BENCH_WEB_PATIENTS ?? 10_000);
  const node = await startTestNode();
  const samples = 40;
  const rich: Array<{ id: string; family: string; given: string; birthDate: string; nhs: string }> = [];
  try {
    // Seed patients in batches; every 250th gets a record with problems, medicines, results and consultations.
    for (let start = 0; start < total; start += 500) {
      const batch: WriteRequest[] = [];
      for (let i = start; i < Math.min(total, start + 500); i++) {
        batch.push({
          kind: 'create',
          resource: {
            resourceType: 'Patient',
            // The 999 test range holds ~909,000 numbers; at 1,000,000 patients the rest go without.
            ...(100_000 + i < testNhsNumberCapacity() ? { identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(100_000 + i) }] } : {}),
            name: [{ use: 'official', family: pick(FAMILIES), given: [pick(GIVEN)] }],
            birthDate: day(),
            gender: rand() < 0.5 ? 'female' : 'male',
            address: [{ postalCode: `LS${1 + Math.floor(rand() * 28)} ${Math.floor(rand() * 9)}AB` }],
          },
        });
      }
      const out = await node.store.write(batch, { author: 'bench' });
      for (const [j, o] of out.entries()) {
        if ((start + j) % 250 !== 0 || rich.length >= samples) continue;
        const p = o.resource as { id: string; name: Array<{ family: string; given: string[] }>; birthDate: string; identifier: Array<{ value: string }> };
        rich.push({ id: p.id, family: p.name[0]!.family, given: p.name[0]!.given[0]!, birthDate: p.birthDate, nhs: p.identifier[0]!.value });
      }
    }
    for (const p of rich) {
      const subject = { reference: `Patient/${p.id}` };
      const clinical: Resource[] = [
        { resourceType: 'AllergyIntolerance', patient: subject, code: { text: 'Penicillin' } },
        ...[0, 1, 2].map((k): Resource => ({ resourceType: 'Condition', subject, code: { text: `Problem ${k}` }, clinicalStatus: { coding: [{ code: 'active' }] } })),
        ...[0, 1].map((k): Resource => ({ resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject, medicationCodeableConcept: { text: `Medicine ${k}` } })),
        ...Array.from({ length: 20 }, (_, k): Resource => ({ resourceType: 'Observation', status: 'final', subject, code: { text: `Test ${k}` }, valueQuantity: { value: k }, effectiveDateTime: `2025-0${1 + (k % 9)}-01` })),
        ...Array.from({ length: 20 }, (_, k): Resource => ({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject, period: { start: `2024-0${1 + (k % 9)}-1${k % 10}T10:00:00Z` } })),
      ];
      await node.store.write(clinical.map((resource) => ({ kind: 'create' as const, resource })), { author: 'bench' });
    }

    // Baselines: the same requests straight from Node.
    const token = await node.login('clinician');
    const get = async (path: string) => {
      const r = await fetch(`${node.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      await r.arrayBuffer();
    };
    const apiSearch: number[] = [];
    const apiRecord: number[] = [];
    for (const p of rich) {
      let t = performance.now();
      await get(`/fhir/R4/Patient?birthdate=${p.birthDate}&family=${p.family}&given=${p.given}&_count=21`);
      apiSearch.push(performance.now() - t);
      t = performance.now();
      const subject = `patient=Patient/${p.id}&_count=200`;
      await Promise.all([
        get(`/fhir/R4/Patient/${p.id}`),
        ...['AllergyIntolerance', 'Flag', 'Appointment', 'Condition', 'MedicationRequest', 'Observation', 'Encounter', 'DiagnosticReport', 'DocumentReference'].map((type) => get(`/fhir/R4/${type}?${subject}`)),
      ]);
      apiRecord.push(performance.now() - t);
    }

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const uiSearch: number[] = [];
    const uiRecord: number[] = [];
    try {
      const page = await (await browser.newContext()).newPage();
      page.on('crash', () => console.error('bench: the page crashed'));
      page.on('pageerror', (e) => console.error('bench: page error', e.message));
      await page.goto(node.url);
      await page.fill('#username', testUsernames.clinician);
      await page.fill('#password', TEST_PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForSelector('#patient-search');
      for (const p of rich) {
        await page.goto(`${node.url}/`);
        await page.waitForSelector('#patient-search');
        // Type the query (the last keystroke is the measured one) and time until the results are on screen.
        // (Passed as source text: tsx would otherwise wrap inner functions in a helper the page lacks.)
        const searchMs = (await page.evaluate(`(async (q) => {
          const input = document.querySelector('#patient-search');
          const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
          let t0 = 0;
          for (let i = 1; i <= q.length; i++) {
            if (i > 1) await new Promise((r) => setTimeout(r, 30)); // a fast typist
            setValue.call(input, q.slice(0, i));
            t0 = performance.now();
            input.dispatchEvent(new Event('input', { bubbles: true }));
          }
          await new Promise((resolve, reject) => {
            const give = performance.now() + 10000;
            const check = () => {
              if (/found/.test(document.querySelector('[data-testid=result-count]')?.textContent ?? '')) resolve();
              else if (performance.now() > give) reject(new Error('no results shown within 10 s for ' + q + ': ' + document.querySelector('main')?.textContent));
              else requestAnimationFrame(check);
            };
            check();
          });
          return performance.now() - t0;
        })(${JSON.stringify(`${p.given} ${p.family} ${p.birthDate.split('-').reverse().join('/')}`)})`)) as number;
        uiSearch.push(searchMs);
        // Press Enter on the highlighted patient and time until every section of the summary has loaded.
        const recordMs = (await page.evaluate(`(async (nhs) => {
          const input = document.querySelector('#patient-search');
          // Same name and birth date can occur twice in generated data: highlight the seeded patient first.
          for (let i = 0; i < 20 && !(document.querySelector('[aria-selected=true]')?.textContent ?? '').includes(nhs); i++) {
            input.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
            await new Promise((r) => requestAnimationFrame(r));
          }
          const t0 = performance.now();
          input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
          await new Promise((resolve, reject) => {
            const give = performance.now() + 10000;
            const check = () => {
              const banner = document.querySelector('[data-testid=banner-allergy]');
              const main = document.querySelector('main')?.textContent ?? '';
              if (banner && !/Loading/.test(main) && document.querySelector('[data-testid=active-problems]')) resolve();
              else if (performance.now() > give) reject(new Error('record not fully shown within 10 s: ' + location.pathname + ' ' + main.slice(0, 600)));
              else requestAnimationFrame(check);
            };
            check();
          });
          return performance.now() - t0;
        })(${JSON.stringify(`${p.nhs.slice(0, 3)} ${p.nhs.slice(3, 6)} ${p.nhs.slice(6)}`)})`)) as number;
        uiRecord.push(recordMs);
      }
    } finally {
      await browser.close();
    }

    const p95 = (xs: number[]) => round(percentile(xs, 95), 1);
    return [
      {
        name: `search results on screen after the last keystroke, p95 (${total} patients)`,
        value: p95(uiSearch),
        unit: 'ms',
        baseline: { name: 'same search over HTTP from Node, p95', value: p95(apiSearch) },
        ratio: round(p95(uiSearch) / p95(apiSearch), 1),
        target: `p95 < 150 ms: ${p95(uiSearch) < 150 ? 'met' : 'NOT met'}${total >= 1_000_000 ? `` : ` (at ${total} patients; the target is stated at 1,000,000)`}`,
        note: `${uiSearch.length} searches "given family dd/mm/yyyy" typed at 30 ms a key, 60 ms debounce included; p50 ${round(percentile(uiSearch, 50), 1)} ms`,
      },
      {
        name: `record fully shown after Enter, p95 (${total} patients)`,
        value: p95(uiRecord),
        unit: 'ms',
        baseline: { name: 'the same 10 requests in parallel from Node, p95', value: p95(apiRecord) },
        ratio: round(p95(uiRecord) / p95(apiRecord), 1),
        target: `p95 < 400 ms: ${p95(uiRecord) < 400 ? 'met' : 'NOT met'}${total >= 1_000_000 ? `` : ` (at ${total} patients; the target is stated at 1,000,000)`}`,
        note: `${uiRecord.length} records with 1 allergy, 3 problems, 2 medicines, 20 results, 20 consultations; p50 ${round(percentile(uiRecord, 50), 1)} ms`,
      },
    ];
  } finally {
    await node.close();
  }
}
