/**
 * Issue 16: time to open the prescribing screen and run the safety checks, in Chromium against a real
 * node (target p95 < 200 ms). One round: press Prescribe on the Medications tab, type "amoxicillin 500"
 * into the dm+d search, press Enter on the result, and wait until the allergy alert is shown (the
 * patient has a penicillin allergy and two current medicines, so every check runs). Baseline in the
 * same run and browser: opening the Medications tab alone (Summary -> Medications shown). Also the bare
 * checkPrescription call in Node, for scale. Timed in the page (performance.now from the click to
 * the element shown, seen by a MutationObserver; the search text is put in at once, as a paste), and
 * also from Node around Playwright's actions, which adds the round trips of driving the browser.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { bundledKnowledge, bundledSubset, checkPrescription, DMD_SYSTEM } from '@steadfast/domain/medicines';
import type { AllergyIntolerance, MedicationRequest, Resource } from '@medplum/fhirtypes';
import { startTestNode, TEST_PASSWORD, testUsernames } from '../packages/server/src/testing/harness.ts';
import { percentile, round, type BenchResult } from './types.ts';

const CHROMIUM = '/usr/bin/chromium';
const ROUNDS = Number(process.env.BENCH_RX_ROUNDS ?? 40);

/** In-page helpers, as strings (this file has no DOM types): wait for a selector, put text in a React input. */
const HELPERS = `
  const waitFor = (sel) => new Promise((resolve) => {
    const seen = () => { const el = document.querySelector(sel); if (el) { obs.disconnect(); resolve(el); return true; } return false; };
    const obs = new MutationObserver(seen);
    obs.observe(document.body, { subtree: true, childList: true, attributes: true });
    seen();
  });
  const type = (el, text) => {
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, text);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  };`;
const IN_PAGE_TAB = `(async () => { ${HELPERS}
  const t = performance.now();
  document.querySelector('#tab-medications').click();
  await waitFor('[data-testid=medications]');
  return performance.now() - t;
})()`;
const IN_PAGE_RX = `(async () => { ${HELPERS}
  const t = performance.now();
  document.querySelector('[data-testid=prescribe-open]').click();
  const input = await waitFor('#rx-search');
  type(input, 'amoxicillin 500');
  await waitFor('[data-testid=rx-result]');
  input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  await waitFor('[data-testid=rx-alert][data-kind=allergy]');
  return performance.now() - t;
})()`;

export async function run(): Promise<BenchResult[]> {
  if (!existsSync(CHROMIUM)) return [{ name: 'prescribing screen', value: NaN, unit: 'ms', note: `skipped: no Chromium at ${CHROMIUM}` }];
  const node = await startTestNode();
  try {
    const write = async (resources: Resource[]) => (await node.store.write(resources.map((resource) => ({ kind: 'create' as const, resource })), { author: 'bench:seed' })).map((r) => r.resource!);
    const [p] = await write([{ resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(7190) }], name: [{ given: ['Bea'], family: 'Benchmark' }], birthDate: '1960-01-01' }]);
    const subject = { reference: `Patient/${p!.id}` };
    const coded = (name: string) => {
      const vmp = bundledSubset.products.find((x) => x.name === name)!.vmp;
      return { coding: [{ system: DMD_SYSTEM, code: vmp, display: name }], text: name };
    };
    const allergy: AllergyIntolerance = { resourceType: 'AllergyIntolerance', patient: subject, type: 'allergy', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, code: { coding: [{ system: 'http://snomed.info/sct', code: '91936005', display: 'Allergy to penicillin' }] } };
    const meds: MedicationRequest[] = [
      { resourceType: 'MedicationRequest', status: 'active', intent: 'plan', subject, courseOfTherapyType: { coding: [{ code: 'continuous' }] }, medicationCodeableConcept: coded('Diazepam 2mg tablets'), dispenseRequest: { numberOfRepeatsAllowed: 6 } },
      { resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject, authoredOn: new Date().toISOString().slice(0, 10), medicationCodeableConcept: coded('Paracetamol 500mg tablets') },
    ];
    await write([allergy, ...meds]);

    // The bare check, in Node: what the browser runs on every change.
    const vmp = bundledSubset.products.find((x) => x.name === 'Amoxicillin 500mg capsules')!.vmp;
    const checkSamples: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t = performance.now();
      checkPrescription({ vmp, dosePerAdministration: 1, frequencyPerDay: 3 }, { allergies: [allergy], medications: meds, today: '2026-12-04' }, bundledKnowledge);
      checkSamples.push(performance.now() - t);
    }

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' })).newPage();
    await page.goto(node.url);
    await page.fill('#username', testUsernames.clinician);
    await page.fill('#password', TEST_PASSWORD);
    await page.fill('#workstation', 'BENCH');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signed-in-user]');
    await page.goto(`${node.url}/patient/${p!.id}`);
    await page.waitForSelector('#tab-medications');
    const tab: number[] = [];
    const rx: number[] = [];
    const tabInPage: number[] = [];
    const rxInPage: number[] = [];
    const reset = async () => {
      if (await page.$('[data-testid=prescribe-form]')) await page.click('[data-testid=prescribe-form] button:has-text("Cancel")');
      await page.click('#tab-summary');
      await page.waitForSelector('[data-testid=medications]', { state: 'detached' });
    };
    for (let i = 0; i < ROUNDS; i++) {
      await reset();
      tabInPage.push(await page.evaluate<number>(IN_PAGE_TAB));
      await page.waitForSelector('[data-testid=prescribe-open]:not([disabled])');
      rxInPage.push(await page.evaluate<number>(IN_PAGE_RX));
    }
    for (let i = 0; i < ROUNDS; i++) {
      await reset();
      let t = Date.now();
      await page.click('#tab-medications');
      await page.waitForSelector('[data-testid=medications]');
      tab.push(Date.now() - t);
      await page.waitForSelector('[data-testid=prescribe-open]:not([disabled])');
      t = Date.now();
      await page.click('[data-testid=prescribe-open]');
      await page.fill('#rx-search', 'amoxicillin 500');
      await page.waitForSelector('[data-testid=rx-result]');
      await page.press('#rx-search', 'Enter');
      await page.waitForSelector('[data-testid=rx-alert][data-kind=allergy]');
      rx.push(Date.now() - t);
    }
    await browser.close();
    const p95 = round(percentile(rxInPage, 95), 1);
    const base = round(percentile(tabInPage, 95), 1);
    const p95Driven = round(percentile(rx, 95), 1);
    const baseDriven = round(percentile(tab, 95), 1);
    return [
      { name: `open prescribing, search, pick, alerts shown, timed in the page (p95 of ${ROUNDS})`, value: p95, unit: 'ms', baseline: { name: 'Medications tab opened alone, in the page, p95', value: base }, ratio: round(p95 / base, 2), target: `p95 < 200 ms: ${p95 < 200 ? 'met' : 'NOT met'}`, note: `median ${round(percentile(rxInPage, 50), 1)} ms; first round (rules fetched) ${round(rxInPage[0]!, 1)} ms` },
      { name: `the same driven by Playwright, timed from Node (p95 of ${ROUNDS})`, value: p95Driven, unit: 'ms', baseline: { name: 'Medications tab opened alone, from Node, p95', value: baseDriven }, ratio: round(p95Driven / baseDriven, 2), note: `median ${round(percentile(rx, 50), 1)} ms; includes ~7 Playwright round trips` },
      { name: 'checkPrescription in Node (p95 of 2000)', value: round(percentile(checkSamples, 95), 3), unit: 'ms', note: 'allergy + 2 current medicines; the browser runs the same code' },
    ];
  } finally {
    await node.close();
  }
}
