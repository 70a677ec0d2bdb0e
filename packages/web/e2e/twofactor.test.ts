/**
 * End-to-end: two-factor sign-in in Debian's Chromium against a real node (administrators must
 * enrol). A practice administrator is held to enrolment, scans (reads) the secret, confirms with a
 * code computed here from it, saves the recovery codes, signs out, signs in with a code, then with
 * a recovery code once (the second use is refused).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page } from 'playwright-core';
import { generateSync } from 'otplib';
import { startTestNode, TwoFactor, type TestNode } from '@steadfast/server/testing';
import { axeSource, chromiumSkip, launchChromium } from './browser.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const screens = join(root, 'test-artifacts', 'screens');
const skip = chromiumSkip;

const USERNAME = 'office.manager';
const PASSWORD = 'a long admin passphrase';
const codeAt = (secret: string, steps = 0) => generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + steps * 30 });

describe('two-factor sign-in in Chromium', { skip }, () => {
  let node: TestNode;
  let browser: Browser;

  before(async () => {
    mkdirSync(screens, { recursive: true });
    const build = spawnSync(process.execPath, [join(root, 'scripts/build-web.mjs')], { stdio: 'inherit', cwd: root });
    assert.equal(build.status, 0, 'the web app builds');
    node = await startTestNode({ config: { auth: { requireTwoFactorForAdmins: true } } });
    await node.accounts.addUser({ username: USERNAME, password: PASSWORD, role: 'practice-admin', name: 'Olive Office' });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await node?.close();
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: join(screens, `${name}.png`), fullPage: true });

  async function axe(page: Page, label: string) {
    await page.evaluate(axeSource);
    const result = await page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    assert.deepEqual(result.filter((v) => v.impact === 'serious' || v.impact === 'critical'), [], `${label}: serious or critical accessibility violations`);
  }

  async function passwordStep(page: Page) {
    await page.fill('#username', USERNAME);
    await page.fill('#password', PASSWORD);
    await page.fill('#workstation', 'OFFICE-1');
    await page.keyboard.press('Enter');
  }

  async function signOut(page: Page) {
    await page.click('button:has-text("Sign out")');
    await page.waitForSelector('#username');
  }

  test('an administrator enrols, signs out, signs in with a code, and uses a recovery code once', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[browser] ${err.message}`));
    await page.goto(node.url);

    // First sign-in: the password alone, then held to enrolment (nothing else is shown).
    await passwordStep(page);
    await page.waitForSelector('[data-testid=two-factor-forced]');
    assert.equal(await page.locator('[data-testid=signed-in-user]').count(), 0, 'the normal app is not shown before enrolment');
    await page.click('[data-testid=two-factor-start]');
    await page.waitForSelector('[data-testid=two-factor-qr]');
    assert.match((await page.getAttribute('[data-testid=two-factor-qr]', 'src')) ?? '', /^data:image\/svg\+xml;base64,/);
    await page.click('summary:has-text("I cannot scan the code")');
    const grouped = (await page.textContent('[data-testid=two-factor-secret]')) ?? '';
    assert.match(grouped, /^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/, 'the secret is shown in groups of four');
    const secret = grouped.replace(/\s+/g, '');
    await shot(page, '2fa-01-enrol');
    await axe(page, 'two-factor enrolment');
    await page.fill('#confirm-code', codeAt(secret));
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=recovery-codes]');
    const recoveryCodes = (await page.locator('.sf-recovery-codes code').allTextContents()).map((c) => c.trim());
    assert.equal(recoveryCodes.length, 10);
    await shot(page, '2fa-02-recovery-codes');
    await page.click('[data-testid=two-factor-done]');
    await page.waitForSelector('[data-testid=signed-in-user]');
    await signOut(page);

    // Second sign-in: password, then the code (the next step's code: the confirming one is spent).
    await passwordStep(page);
    const codeInput = page.locator('#two-factor-code');
    await codeInput.waitFor();
    assert.equal(await codeInput.getAttribute('autocomplete'), 'one-time-code');
    assert.equal(await codeInput.getAttribute('inputmode'), 'numeric');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'two-factor-code', 'the code box has the focus');
    await shot(page, '2fa-03-code-step');
    await axe(page, 'two-factor code step');
    await page.keyboard.type(codeAt(secret, 1));
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=signed-in-user]');

    // The administrator's page: 2FA on, and a colleague's lost phone reset (audited).
    const nurse = await node.accounts.addUser({ username: 'nurse.ng', password: PASSWORD, role: 'clinician' });
    const tf = await new TwoFactor(node.store, { dataDir: node.dataDir }).ready();
    await tf.confirmEnrolment(nurse.id, codeAt((await tf.beginEnrolment(nurse)).secret));
    await page.click('a:has-text("Sign-in security")');
    await page.waitForSelector('[data-testid=two-factor-on]');
    assert.match((await page.textContent('[data-testid=two-factor-on]')) ?? '', /10 unused recovery codes/);
    await page.fill('#reset-username', 'nurse.ng');
    await page.click('button:has-text("Reset two-factor sign-in")');
    await page.waitForSelector('text=Two-factor sign-in reset for nurse.ng');
    assert.equal(await tf.isEnabled(nurse.id), false);
    assert.ok((await node.audit.list({ limit: 100 })).some((a) => a.event === 'two-factor-reset' && a.detail === 'nurse.ng' && a.userName === 'Olive Office'));
    await shot(page, '2fa-05-admin');
    await axe(page, 'sign-in security page');
    await signOut(page);

    // Third: a recovery code, once.
    await passwordStep(page);
    await page.click('[data-testid=toggle-recovery]');
    await page.fill('#recovery-code', recoveryCodes[0]!);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=signed-in-user]');
    await signOut(page);

    await passwordStep(page);
    await page.click('[data-testid=toggle-recovery]');
    await page.fill('#recovery-code', recoveryCodes[0]!);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=code-error]');
    assert.match((await page.textContent('[data-testid=code-error]')) ?? '', /not right or has been used already/);
    assert.equal(await page.locator('[data-testid=signed-in-user]').count(), 0);
    await shot(page, '2fa-04-recovery-code-reused');
    await context.close();
  });
});
