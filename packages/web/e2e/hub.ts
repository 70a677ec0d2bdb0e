/**
 * What the region's browser tests share: a hub staff member signing in at the hub's URL (password,
 * then a two-factor code, as every hub account must), and a practice's name and PCN in the hub's directory.
 */
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { generateSync } from 'otplib';
import { HUB_STAFF_PASSWORD } from '@steadfast/server/testing';

export async function signInAtHub(browser: Browser, hubUrl: string, username: string, secret: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[browser] ${err.message}`));
  await page.goto(hubUrl);
  await page.fill('#username', username);
  await page.fill('#password', HUB_STAFF_PASSWORD);
  await page.fill('#workstation', 'ICB-1');
  await page.keyboard.press('Enter');
  await page.locator('#two-factor-code').waitFor();
  await page.keyboard.type(generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid=signed-in-user]');
  return page;
}

/** PUT the practice's name and PCN with the hub admin token. */
export async function putPractice(hubUrl: string, adminToken: string, practice: string, name: string, pcn: string): Promise<void> {
  const res = await fetch(`${hubUrl}/api/hub/practices/${practice}`, { method: 'PUT', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, pcn }) });
  assert.equal(res.status, 200);
}
