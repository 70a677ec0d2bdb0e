/**
 * End-to-end: a practice manager runs the practice's administration in Chromium: staff accounts (add,
 * disable with confirmation, reset a password, unlock), the audit trail search, diary sessions (an
 * overlapping session refused with an error naming the field) and rooms for the workstations staff
 * signed in from. A receptionist is refused these screens. Axe on each.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Resource } from '@medplum/fhirtypes';
import { startTestNode, TEST_PASSWORD, testUsernames, type TestNode } from '@steadfast/server/testing';
import { axeSource, chromiumSkip, launchChromium } from './browser.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const screens = join(root, 'test-artifacts', 'screens');
const skip = chromiumSkip;

function today(): string {
  const t = new Date();
  return `${t.getFullYear()}-${String(t.getMonth() + 1).padStart(2, '0')}-${String(t.getDate()).padStart(2, '0')}`;
}

describe('practice manager screens in Chromium', { skip }, () => {
  let node: TestNode;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  const login = (username: string, password: string, workstation: string) =>
    node.fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json', 'x-steadfast-workstation': workstation }, body: JSON.stringify({ username, password }) });

  async function signIn(role: 'receptionist' | 'practice-admin', workstation = 'OFFICE-1'): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[browser ${role}] ${err.message}`));
    await page.goto(node.url);
    await page.fill('#username', testUsernames[role]);
    await page.fill('#password', TEST_PASSWORD);
    await page.fill('#workstation', workstation);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signed-in-user]');
    return page;
  }

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

  const stateOf = (page: Page, username: string) => page.locator(`[data-testid=staff-row][data-username="${username}"] [data-testid=staff-state]`).textContent();

  before(async () => {
    mkdirSync(screens, { recursive: true });
    const build = spawnSync(process.execPath, [join(root, 'scripts/build-web.mjs')], { stdio: 'inherit', cwd: root });
    assert.equal(build.status, 0, 'the web app builds');
    node = await startTestNode();
    const write = (resources: Resource[]) => node.store.write(resources.map((resource) => ({ kind: 'create' as const, resource })), { author: 'test:seed' });
    const [gp] = await write([{ resourceType: 'Practitioner', name: [{ prefix: ['Dr'], given: ['Lena'], family: 'Wood' }] }]);
    await write([{ resourceType: 'Schedule', active: true, actor: [{ reference: `Practitioner/${gp!.resource!.id}` }] } as Resource]);
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await node?.close();
  });

  test('staff accounts: add, disable after a confirmation (signed out at once), reset a password, unlock; each audited', async () => {
    const page = await signIn('practice-admin');
    await page.click('a.nhsuk-header__navigation-link:has-text("Practice admin")');
    await page.click('a:has-text("Staff accounts")');
    await page.waitForSelector('[data-testid=staff-row]');
    await axe(page, 'staff accounts');

    // A mistake first: the error summary names it and links to the input.
    await page.fill('#staff-name', 'Sam Lee');
    await page.fill('#staff-username', 'sam.lee');
    await page.fill('#staff-password', 'short');
    await page.click('button:has-text("Add staff member")');
    await page.waitForSelector('[data-testid=staff-error]:has-text("at least 8 characters")');
    assert.equal(await page.getAttribute('[data-testid=staff-error] a', 'href'), '#staff-password');
    await page.fill('#staff-password', 'orange river tuesday');
    await page.selectOption('#staff-role', 'receptionist');
    await page.click('button:has-text("Add staff member")');
    await page.waitForSelector('[data-testid=staff-done]:has-text("Added Sam Lee (sam.lee)")');
    assert.equal((await login('sam.lee', 'orange river tuesday', 'RECEPTION-9')).status, 200);

    // Disabling asks first; "Keep it enabled" keeps it.
    await page.click('[data-testid=staff-row][data-username="sam.lee"] button:has-text("Disable")');
    await page.waitForSelector('[data-testid=disable-confirm]');
    await page.click('button:has-text("Keep it enabled")');
    assert.match((await stateOf(page, 'sam.lee')) ?? '', /Active/);
    await page.click('[data-testid=staff-row][data-username="sam.lee"] button:has-text("Disable")');
    await page.click('[data-testid=disable-confirm] button:has-text("Disable account")');
    await page.waitForSelector('[data-testid=staff-done]:has-text("Disabled sam.lee")');
    assert.match((await stateOf(page, 'sam.lee')) ?? '', /Disabled/);
    assert.equal((await login('sam.lee', 'orange river tuesday', 'RECEPTION-9')).status, 401, 'a disabled account cannot sign in');
    assert.equal(await page.locator(`[data-testid=staff-row][data-username="${testUsernames['practice-admin']}"] button:has-text("Disable")`).count(), 0, 'no way to disable yourself');

    // A receptionist locked out after mistyping: unlocked from the list.
    for (let i = 0; i < 5; i++) await login(testUsernames.receptionist, 'not the password', 'RECEPTION-1');
    await page.reload();
    await page.waitForSelector('[data-testid=staff-row]');
    assert.match((await stateOf(page, testUsernames.receptionist)) ?? '', /Locked until/);
    await page.click(`[data-testid=staff-row][data-username="${testUsernames.receptionist}"] button:has-text("Unlock")`);
    await page.waitForSelector(`[data-testid=staff-done]:has-text("Unlocked ${testUsernames.receptionist}")`);
    assert.match((await stateOf(page, testUsernames.receptionist)) ?? '', /Active/);

    // Reset the clinician's password.
    await page.click(`[data-testid=staff-row][data-username="${testUsernames.clinician}"] button:has-text("Reset password")`);
    await page.fill('#reset-password-input', 'purple window friday');
    await page.click('[data-testid=reset-password] button:has-text("Set password")');
    await page.waitForSelector(`[data-testid=staff-done]:has-text("Password reset for ${testUsernames.clinician}")`);
    assert.equal((await login(testUsernames.clinician, 'purple window friday', 'CONSULT-4')).status, 200);
    await page.screenshot({ path: join(screens, 'admin-staff.png'), fullPage: true });

    // The audit trail says who did each of these.
    await page.click('a.nhsuk-header__navigation-link:has-text("Practice admin")');
    await page.click('a:has-text("Audit trail")');
    await page.selectOption('#audit-event', 'account-disabled');
    await page.click('button:has-text("Search the audit trail")');
    await page.waitForSelector('[data-testid=audit-row]');
    const rows = await page.locator('[data-testid=audit-row]').allTextContents();
    assert.equal(rows.length, 1);
    assert.match(rows[0]!, /Staff account disabled.*sam\.lee: disabled; sessions ended/);
    await page.selectOption('#audit-event', 'login-failed');
    await page.fill('#audit-from', today());
    await page.fill('#audit-to', today());
    await page.click('button:has-text("Search the audit trail")');
    // Five mistyped passwords at RECEPTION-1, and the disabled account's attempt at RECEPTION-9.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=audit-row]').length === 6);
    const failed = await page.locator('[data-testid=audit-row]').allTextContents();
    assert.equal(failed.filter((r) => /RECEPTION-1.*Sign-in failed/.test(r)).length, 5);
    assert.match(failed.at(-1)!, /sam\.lee.*RECEPTION-9.*Sign-in failed/);
    await axe(page, 'audit trail');
  });

  test('diary sessions: set one up, an overlapping one is refused naming the session, and the board shows it', async () => {
    const page = await signIn('practice-admin');
    await page.goto(`${node.url}/admin/sessions`);
    await page.waitForSelector('#session-clinician option', { state: 'attached' });
    await page.fill('#session-date', today());
    await page.fill('#session-start', '09:00');
    await page.fill('#session-end', '11:00');
    await page.selectOption('#session-minutes', '15');
    await page.selectOption('#session-type', 'urgent');
    await page.click('button:has-text("Set up session")');
    await page.waitForSelector('[data-testid=session-done]:has-text("8 slots")');
    assert.match((await page.textContent('[data-testid=sessions-table]')) ?? '', /Dr Lena Wood.*09:00 to 11:00.*8 × 15 min Urgent/);

    await page.fill('#session-start', '10:30');
    await page.fill('#session-end', '12:00');
    await page.click('button:has-text("Set up session")');
    await page.waitForSelector('[data-testid=session-error]');
    assert.match((await page.textContent('[data-testid=session-error]')) ?? '', /Dr Lena Wood already has a session from 09:00 to 11:00 .* which overlaps 10:30 to 12:00/);
    assert.equal(await page.getAttribute('[data-testid=session-error] a', 'href'), '#session-start');
    assert.equal(await page.locator('[data-testid=session-row]').count(), 1, 'nothing half-written');
    await axe(page, 'diary sessions');
    await page.screenshot({ path: join(screens, 'admin-sessions.png'), fullPage: true });

    await page.goto(`${node.url}/appointments`);
    await page.waitForSelector('[data-testid=board-column]');
    assert.match((await page.textContent('[data-testid=board-summary]')) ?? '', /8 free of 8 slots across 1 clinician/);

    // An empty session can be removed.
    await page.goto(`${node.url}/admin/sessions`);
    await page.click('[data-testid=session-row] button:has-text("Remove")');
    await page.waitForSelector('[data-testid=session-done]:has-text("Removed the session for Dr Lena Wood")');
  });

  test('rooms: workstations staff signed in from with no room are listed for setting', async () => {
    await login(testUsernames.receptionist, TEST_PASSWORD, 'RECEPTION-7');
    const page = await signIn('practice-admin', 'OFFICE-1');
    await page.goto(`${node.url}/admin/rooms`);
    await page.waitForSelector('[data-testid=rooms-missing]');
    const missing = await page.locator('[data-testid=room-missing]').allTextContents();
    assert.ok(missing.some((m) => m.startsWith('RECEPTION-7')), missing.join(' | '));
    await page.click('[data-testid=room-missing]:has-text("RECEPTION-7") button');
    assert.equal(await page.inputValue('#room-ws'), 'RECEPTION-7');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'room-name');
    await page.keyboard.type('Front desk');
    await page.click('button:has-text("Save room")');
    await page.waitForFunction(() => ![...document.querySelectorAll('[data-testid=room-missing]')].some((e) => e.textContent?.startsWith('RECEPTION-7')));
    await axe(page, 'rooms');
  });

  test('a receptionist is refused the practice manager screens and the API behind them', async () => {
    const page = await signIn('receptionist', 'RECEPTION-1');
    assert.equal(await page.locator('a.nhsuk-header__navigation-link:has-text("Practice admin")').count(), 0);
    for (const path of ['/admin', '/admin/staff', '/admin/audit', '/admin/sessions']) {
      await page.goto(`${node.url}${path}`);
      await page.waitForSelector('.sf-not-available');
    }
    const status = await page.evaluate(async () => (await fetch('/api/admin/staff')).status);
    assert.equal(status, 403);
  });
});
