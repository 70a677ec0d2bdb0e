/**
 * Documents (issue 11). Two figures, each against a same-run baseline:
 *
 * 1. Intake of BENCH_DOCUMENT_EMAILS emails (default 10,000, the size) each carrying a
 *    one-page PDF letter, from a real IMAP server (dovecot on loopback): the production poller and
 *    worker (stream each .eml into the blob store, keep it, move it, take it apart, read the PDF,
 *    propose a patient) until every document exists. Baseline: fetching every message and parsing it
 *    (imapflow download + mailparser + pdfjs text), with nothing kept.
 * 2. The documents screen in Chromium at BENCH_DOCUMENTS (default 50,000) documents: from navigating
 *    to the list to its rows shown (p95 of 30; target under 300 ms); the screen asks for the backlog and a first page of 50. Rows are inserted straight into
 *    the documents table (intake of 50,000 would take the run's whole budget); baseline: the same two
 *    requests (backlog + list) from Node.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { simpleParser } from 'mailparser';
import { startTestNode, TEST_PASSWORD, testUsernames } from '../packages/server/src/testing/harness.ts';
import { startDovecot } from '../packages/server/src/testing/dovecot.ts';
import { ALEX, email, letterPdf, syntheticDocumentRow } from '../packages/server/src/documents/fixtures.ts';
import { ImapPoller } from '../packages/server/src/documents/imap.ts';
import { intakeOf } from '../packages/server/src/documents/index.ts';
import { ddb, type DocumentsTable } from '../packages/server/src/documents/tables.ts';
import { percentile, round, type BenchResult } from './types.ts';

const EMAILS = Number(process.env.BENCH_DOCUMENT_EMAILS ?? 10_000);
const DOCS = Number(process.env.BENCH_DOCUMENTS ?? 50_000);
const CHROMIUM = '/usr/bin/chromium';
const ROUNDS = 30;
/** The screen's first page (FIRST_PAGE in packages/web/src/documents/DocumentsPage.tsx). */
const FIRST_PAGE = 50;
const go = (path: string) => `history.pushState(null, '', ${JSON.stringify(path)}); dispatchEvent(new PopStateEvent('popstate'))`;

async function intakeBench(): Promise<BenchResult[]> {
  if (EMAILS === 0) return [];
  if (!existsSync('/usr/sbin/dovecot')) return [{ name: 'IMAP intake', value: NaN, unit: 'docs/s', note: 'skipped: no dovecot' }];
  const imap = await startDovecot();
  const node = await startTestNode();
  try {
    // Straight into the Maildir (IMAP APPEND managed 154 in five minutes on a loaded machine); dovecot
    // indexes them when the baseline's client first opens the INBOX (inside neither timing).
    for (let i = 0; i < EMAILS; i += 500) {
      const emls: Buffer[] = [];
      for (let j = i; j < Math.min(EMAILS, i + 500); j++) emls.push(email({ subject: `Letter ${j}`, attachments: [{ filename: `letter-${j}.pdf`, contentType: 'application/pdf', content: await letterPdf(ALEX, 'Outpatient letter', `Clinic letter number ${j}.`) }] }));
      imap.deliverToMaildir(emls);
    }

    // Baseline: fetch and parse alone.
    const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
    const client = imap.client();
    await client.connect();
    const lock = await client.getMailboxLock('INBOX');
    const indexed = client.mailbox ? client.mailbox.exists : 0;
    if (indexed !== EMAILS) throw new Error(`dovecot shows ${indexed} of ${EMAILS} delivered messages`);
    let t = performance.now();
    let parsed = 0;
    const uids = ((await client.search({ all: true }, { uid: true })) || []) as number[];
    for (const uid of uids) {
      const dl = await client.download(String(uid), undefined, { uid: true });
      const mail = await simpleParser(dl.content!);
      const data = mail.attachments[0]!.content;
      const doc = await pdfjs.getDocument({ data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), isEvalSupported: false, disableFontFace: true, verbosity: 0 }).promise;
      await (await doc.getPage(1)).getTextContent();
      await doc.destroy();
      parsed++;
    }
    const baselineRate = parsed / ((performance.now() - t) / 1000);
    lock.release();
    await client.logout();

    // The production intake.
    const intake = intakeOf(node.deps)!;
    const poller = new ImapPoller(intake, { host: imap.host, port: imap.port, secure: false, user: imap.user, password: imap.password, batch: 500 });
    t = performance.now();
    for (;;) {
      const round = await poller.poll();
      if (round.left === 0 && round.taken + round.duplicates + round.failed === 0) break;
    }
    await intake.inbox.settled();
    const made = await ddb(node.store.db).selectFrom('documents').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const seconds = (performance.now() - t) / 1000;
    await poller.stop();
    if (Number(made.n) !== EMAILS) throw new Error(`intake made ${made.n} documents from ${EMAILS} emails`);
    const rate = EMAILS / seconds;
    return [
      {
        name: `IMAP intake, ${EMAILS} emails with a PDF each (kept raw, moved, read, matched)`,
        value: round(rate, 1),
        unit: 'docs/s',
        baseline: { name: 'fetch + parse alone (imapflow + mailparser + pdfjs)', value: round(baselineRate, 1) },
        ratio: round(rate / baselineRate, 2),
        note: `ratio = intake rate / fetch-and-parse rate; ${round(seconds, 1)} s in all`,
      },
    ];
  } finally {
    await node.close();
    await imap.stop();
  }
}

async function screenBench(): Promise<BenchResult[]> {
  if (!existsSync(CHROMIUM)) return [{ name: 'documents screen', value: NaN, unit: 'ms', note: `skipped: no Chromium at ${CHROMIUM}` }];
  const node = await startTestNode();
  try {
    const states = ['unmatched', 'proposed', 'matched', 'with-clinician', 'filed'];
    const sources = ['imap', 'folder', 'upload', 'fhir'];
    const base = Date.parse('2026-11-01T08:00:00Z');
    const rows: DocumentsTable[] = [];
    for (let i = 0; i < DOCS; i++) {
      rows.push(syntheticDocumentRow(node.store.practice, i, new Date(base + i * 30_000).toISOString(), { source: sources[i % 4]!, state: states[i % 5]!, problem: i % 97 === 0 ? 'The PDF is damaged' : null }));
      if (rows.length === 500 || i === DOCS - 1) {
        await ddb(node.store.db).insertInto('documents').values(rows).execute();
        rows.length = 0;
      }
    }
    const apiSamples: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t = performance.now();
      await Promise.all([
        node.fetchAs('receptionist', '/api/documents/backlog').then((r) => r.json()),
        node.fetchAs('receptionist', `/api/documents?state=unmatched,proposed,matched,with-clinician&limit=${FIRST_PAGE}`).then((r) => r.json()),
      ]);
      apiSamples.push(performance.now() - t);
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    try {
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
      await page.goto(node.url);
      await page.fill('#username', testUsernames.receptionist);
      await page.fill('#password', TEST_PASSWORD);
      await page.fill('#workstation', 'BENCH');
      await page.click('button[type=submit]');
      await page.waitForSelector('[data-testid=signed-in-user]');
      const open: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        await page.evaluate(go('/tasks'));
        await page.waitForSelector('[data-testid=documents-list]', { state: 'detached' });
        const t = performance.now();
        await page.evaluate(go('/documents'));
        await page.waitForSelector('[data-testid=documents-row]');
        await page.waitForSelector('[data-testid=documents-oldest]');
        open.push(performance.now() - t);
      }
      const p95 = round(percentile(open, 95), 0);
      return [
        {
          name: `documents screen shown, ${DOCS} documents (p95 of ${ROUNDS})`,
          value: p95,
          unit: 'ms',
          baseline: { name: 'same backlog + list requests from Node, p95', value: round(percentile(apiSamples, 95), 0) },
          ratio: round(p95 / percentile(apiSamples, 95), 2),
          target: `p95 < 300 ms: ${p95 < 300 ? 'met' : 'not met'}`,
        },
      ];
    } finally {
      await browser.close();
    }
  } finally {
    await node.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  return [...(await intakeBench()), ...(await screenBench())];
}
