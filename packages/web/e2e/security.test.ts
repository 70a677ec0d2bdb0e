/**
 * The built staff app in Chromium under the node's Content-Security-Policy: every main screen is used
 * with no CSP violation, the policy is really enforced (an injected inline script is blocked and
 * reported), and no other page can frame the app (clickjacking).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { buildOru, ingestHl7, startTestNode, TEST_PASSWORD, testUsernames, type TestNode } from '@steadfast/server/testing';
import { chromiumSkip, launchChromium } from './browser.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const skip = chromiumSkip;

const ann = { nhs: testNhsNumber(5101), family: 'Okoro', given: 'Ann', birthDate: '1971-07-09' };

describe('staff web app under the Content-Security-Policy', { skip }, () => {
  let node: TestNode;
  let browser: Browser;
  let patientId: string;
  const contexts: BrowserContext[] = [];
  /** Every CSP violation any page reported (securitypolicyviolation events and console errors). */
  const violations: string[] = [];

  async function newPage(label: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
    contexts.push(context);
    // Injected by the browser itself (not an inline script), so the policy does not apply to it.
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
      });
    });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|CSP violation/i.test(m.text())) violations.push(`[${label}] ${m.text()}`);
    });
    page.on('pageerror', (err) => console.error(`[browser ${label}] ${err.message}`));
    return page;
  }

  async function signIn(role: 'receptionist' | 'clinician' | 'practice-admin'): Promise<Page> {
    const page = await newPage(role);
    await page.goto(node.url);
    await page.fill('#username', testUsernames[role]);
    await page.fill('#password', TEST_PASSWORD);
    await page.fill('#workstation', `CSP-${role}`);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signed-in-user]');
    await page.waitForSelector('[data-testid=status-alarm]:has-text("listening")');
    return page;
  }

  before(async () => {
    const build = spawnSync(process.execPath, [join(root, 'scripts/build-web.mjs')], { stdio: 'inherit', cwd: root });
    assert.equal(build.status, 0, 'the web app builds');
    node = await startTestNode();
    const write = (resources: Resource[]) => node.store.write(resources.map((resource) => ({ kind: 'create' as const, resource })), { author: 'test:seed' });
    const [patient] = await write([
      { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: ann.nhs }], name: [{ use: 'official', family: ann.family, given: [ann.given] }], birthDate: ann.birthDate, gender: 'female' },
    ]);
    patientId = patient!.resource!.id!;
    await write([
      { resourceType: 'Condition', subject: { reference: `Patient/${patientId}` }, code: { text: 'Asthma' }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] } },
      { resourceType: 'Flag', status: 'active', subject: { reference: `Patient/${patientId}` }, code: { text: 'Hearing impaired' } },
    ] as Resource[]);
    const oru = buildOru({ messageId: 'CSP-1', nhsNumber: ann.nhs, family: ann.family, given: ann.given, birthDate: ann.birthDate.replace(/-/g, ''), filler: 'CSP-F1', test: ['UE', 'Urea and electrolytes'], obx: [{ code: 'K', display: 'Potassium', value: '6.8', units: 'mmol/L', range: '3.5-5.3', flag: 'HH' }] });
    assert.equal((await ingestHl7({ store: node.store }, oru, 'folder')).state, 'filed');
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await node?.close();
  });

  test('the policy is enforced: an injected inline script is blocked and reported', async () => {
    const page = await newPage('probe');
    await page.goto(node.url);
    await page.waitForSelector('#username');
    const ran = await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true';
      document.body.appendChild(s);
      return (window as unknown as { __inlineRan?: boolean }).__inlineRan === true;
    });
    assert.equal(ran, false, 'the inline script did not run');
    await page.waitForFunction(() => true);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(violations.some((v) => v.startsWith('[probe]') && /script-src/.test(v)), `the violation was reported: ${violations.join('\n')}`);
    violations.length = 0;
  });

  test('regression: the app could be framed by another page (clickjacking)', async () => {
    // A page of another origin (localhost, not 127.0.0.1) with no policy of its own that frames the node.
    const framer = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><title>Win a prize</title><iframe id="f" src="${node.url}/" width="800" height="600"></iframe>`);
    });
    await new Promise<void>((resolve) => framer.listen(0, '127.0.0.1', resolve));
    try {
      const page = await newPage('framer');
      await page.goto(`http://localhost:${(framer.address() as AddressInfo).port}/`);
      const frame = page.frames().find((f) => f !== page.mainFrame());
      assert.ok(frame, 'the iframe exists');
      await frame.waitForLoadState('load').catch(() => undefined);
      const framed = frame.url().startsWith(node.url) && (await frame.evaluate(() => Boolean(document.querySelector('#root'))).catch(() => false));
      assert.equal(framed, false, `the app did not load inside another site's page (frame at ${frame.url()})`);
    } finally {
      framer.close();
    }
    violations.length = 0;
  });

  test('signing in and using the main screens reports no CSP violation', async () => {
    const clinician = await signIn('clinician');
    await clinician.fill('#patient-search', ann.nhs);
    await clinician.waitForSelector('[data-testid=search-result]');
    await clinician.press('#patient-search', 'Enter');
    await clinician.waitForSelector('[data-testid=patient-banner]');
    for (const tab of ['timeline', 'documents', 'appointments', 'sharing', 'summary']) {
      await clinician.click(`#tab-${tab}`);
      await clinician.waitForTimeout(150);
    }
    await clinician.goto(`${node.url}/patient/${patientId}/consultation`);
    await clinician.waitForSelector('text=Save consultation');
    await clinician.goto(`${node.url}/patient/${patientId}/pathology-request`);
    await clinician.waitForSelector('[data-testid=request-submit]');
    await clinician.click('a.nhsuk-header__navigation-link:has-text("Results")');
    await clinician.waitForSelector('[data-testid=results-backlog]');
    await clinician.click('.sf-scope-tabs button:has-text("Unassigned")');
    await clinician.waitForSelector('[data-testid=results-list]');
    await clinician.click('[data-testid=results-list] a');
    await clinician.waitForSelector('[data-testid=result-title]');
    await clinician.goto(`${node.url}/appointments`);
    await clinician.waitForSelector('#view-week');
    await clinician.click('#view-week');
    await clinician.waitForTimeout(200);
    await clinician.goto(`${node.url}/tasks`);
    await clinician.waitForSelector('[data-testid=task-list][aria-busy=false]');
    await clinician.goto(`${node.url}/shared`);
    await clinician.waitForTimeout(300);

    const admin = await signIn('practice-admin');
    await admin.goto(`${node.url}/admin/rooms`);
    await admin.waitForTimeout(300);

    const receptionist = await signIn('receptionist');
    await receptionist.goto(`${node.url}/tasks`);
    // The list is busy until its first answer; reading it before then found only the header (CI, stop 19).
    await receptionist.waitForSelector('[data-testid=task-list][aria-busy=false]');
    const taskText = (await receptionist.textContent('[data-testid=task-list]')) ?? '';
    assert.match(taskText, /Result for clinician review/);
    assert.doesNotMatch(taskText, /Urea|Potassium/i, 'a receptionist sees no result detail in the task list');
    await receptionist.click('button:has-text("Panic alarm")');
    await receptionist.click('button:has-text("Confirm panic alarm")');
    await receptionist.waitForSelector('button:has-text("Stand down")');
    await receptionist.click('button:has-text("Stand down")');
    await receptionist.click('button:has-text("Sign out")').catch(() => undefined);
    await receptionist.waitForTimeout(300);

    assert.deepEqual(violations, [], 'no Content-Security-Policy violation on any screen');
  });
});
