/**
 * Document intake end to end: a real IMAP server (dovecot, on loopback) with messages delivered into
 * it, the production poller (imapflow) taking them, mailparser and pdfjs-dist reading them, the
 * scanner folder, upload over real HTTP (multipart), FHIR on the API, and bad input of every kind
 * kept raw, marked with its reason and never stopping the mail behind it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '@steadfast/domain';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import { dovecotSkip, startDovecot, type Dovecot } from '../testing/dovecot.ts';
import { ALEX, email, letterPdf, passwordProtectedPdf, zipBomb } from './fixtures.ts';
import { ScanFolder } from './folder.ts';
import { ImapPoller } from './imap.ts';
import { intakeOf } from './index.ts';
import { ddb, type DocumentsTable } from './tables.ts';

describe('documents: intake from every source, raw first', { skip: dovecotSkip }, () => {
  let imap: Dovecot;
  let node: TestNode;
  let patientId: string;

  before(async () => {
    imap = await startDovecot();
    node = await startTestNode();
    const [created] = await node.store.write(
      [{ kind: 'create', resource: { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: ALEX.nhsNumber }], name: [{ given: [ALEX.given], family: ALEX.family }], birthDate: ALEX.birthDate, address: [{ postalCode: ALEX.postcode! }] } satisfies Patient }],
      { author: 'test' },
    );
    patientId = created!.resource!.id!;
  });
  after(async () => {
    await node?.close();
    await imap?.stop();
  });

  const intake = () => intakeOf(node.deps)!;
  const poller = () => new ImapPoller(intake(), { host: imap.host, port: imap.port, secure: false, user: imap.user, password: imap.password });
  const docs = async (): Promise<DocumentsTable[]> => ddb(node.store.db).selectFrom('documents').selectAll().orderBy('received_at').execute();
  const bySubject = async (subject: string) => (await docs()).filter((d) => d.subject === subject);
  async function folderCount(folder: string): Promise<number> {
    const c = imap.client();
    await c.connect();
    try {
      const s = await c.status(folder, { messages: true });
      return s ? (s.messages ?? 0) : 0;
    } finally {
      await c.logout();
    }
  }

  it('takes a letter from the mailbox, proposes the patient, and moves the message only once kept', async () => {
    await imap.deliver(email({ subject: 'Discharge summary', attachments: [{ filename: 'discharge.pdf', contentType: 'application/pdf', content: await letterPdf(ALEX) }] }));
    const p = poller();
    const round = await p.poll();
    await p.stop();
    assert.equal(round.taken, 1);
    await intake().inbox.settled();
    const [doc] = await bySubject('Discharge summary');
    assert.ok(doc, 'a document was made');
    assert.equal(doc.kind, 'pdf');
    assert.equal(doc.state, 'proposed');
    assert.equal(doc.proposed_patient_id, patientId);
    assert.match(doc.proposed_display!, /nhs-number, birth-date, name, postcode/);
    assert.equal(doc.patient_id, null, 'never filed (nor matched) without a person');
    assert.equal(doc.problem, null);
    // Raw first: the whole .eml is in the blob store under its hash, and the attachment too.
    assert.ok(intake().blobs.has(doc.source_blob) && intake().blobs.has(doc.blob));
    assert.match((await intake().blobs.read(doc.source_blob)).toString('latin1'), /^From: Discharge Team/);
    assert.equal(await folderCount('INBOX'), 0);
    assert.equal(await folderCount('Steadfast taken'), 1);
  });

  it('the same letter sent twice in two emails is one document, its copies counted', async () => {
    const pdf = await letterPdf(ALEX, 'Outpatient letter', 'Seen in cardiology clinic.');
    await imap.deliverMany([1, 2].map((n) => email({ subject: `Clinic letter ${n}`, attachments: [{ filename: 'clinic.pdf', contentType: 'application/pdf', content: pdf }] })));
    const p = poller();
    await p.poll();
    await p.stop();
    await intake().inbox.settled();
    const found = (await docs()).filter((d) => d.subject.startsWith('Clinic letter'));
    assert.equal(found.length, 1);
    assert.equal(Number(found[0]!.copies), 2);
  });

  it('bad input is kept raw, marked with the reason, and never stops the mail behind it', async () => {
    const good = await letterPdf(ALEX, 'A&E attendance', 'Attended with a sprained ankle.');
    await imap.deliverMany([
      email({ subject: 'Corrupt', attachments: [{ filename: 'broken.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage') }] }),
      email({ subject: 'Protected', attachments: [{ filename: 'protected.pdf', contentType: 'application/pdf', content: passwordProtectedPdf() }] }),
      email({ subject: 'No attachment', text: 'Please see the letter (forgot to attach). NHS 999 000 0018' }),
      email({ subject: 'Zipped', attachments: [{ filename: 'letters.zip', contentType: 'application/zip', content: zipBomb() }] }),
      email({ subject: 'Unknown type', attachments: [{ filename: 'scan.xyz', contentType: 'application/x-unknown', content: Buffer.from([0, 1, 2, 3, 250, 251, 252, 0, 0, 9]) }] }),
      // Declared ISO-8859-1 but with bytes that are not, and an encoded-word subject in an unknown charset.
      email({ subject: '=?x-unknown-charset?B?TGV0dGVy?=', bodyCharset: 'iso-8859-1', rawBody: Buffer.from([0x44, 0x72, 0x20, 0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72, 0x20, 0xff, 0xfe, 0x0a]) }),
      email({ subject: 'After the bad ones', attachments: [{ filename: 'ae.pdf', contentType: 'application/pdf', content: good }] }),
    ]);
    const p = poller();
    const round = await p.poll();
    await p.stop();
    assert.equal(round.failed, 0);
    assert.equal(round.taken, 7);
    await intake().inbox.settled();
    const problem = async (subject: string) => (await bySubject(subject))[0]?.problem ?? '(no document)';
    assert.match(await problem('Corrupt'), /PDF is damaged/);
    assert.match(await problem('Protected'), /password-protected/);
    assert.match(await problem('No attachment'), /email with no attachment/);
    assert.match(await problem('Zipped'), /archives are not opened/);
    assert.match(await problem('Unknown type'), /cannot show this type of file \(scan.xyz\)/);
    const broken = (await docs()).find((d) => d.text.includes('Dr M'));
    assert.ok(broken, 'the mail with broken encodings became a document');
    const after = (await bySubject('After the bad ones'))[0];
    assert.equal(after?.state, 'proposed', 'the letter behind the bad ones was read and matched');
    assert.equal(await folderCount('INBOX'), 0);
  });

  it('a 50 MB attachment is kept whole (streamed), and marked as too large to read here', async () => {
    const big = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(50 * 1024 * 1024, 0x20)]);
    await imap.deliverMany([
      email({ subject: 'Huge scan', attachments: [{ filename: 'huge.pdf', contentType: 'application/pdf', content: big }] }),
      email({ subject: 'Behind the huge scan', attachments: [{ filename: 'behind.pdf', contentType: 'application/pdf', content: await letterPdf(ALEX, 'Outpatient letter', 'Seen behind a 50 MB scan.') }] }),
    ]);
    const p = poller();
    const round = await p.poll();
    await p.stop();
    assert.equal(round.taken, 2, 'the letter behind the 50 MB one is taken in the same round');
    await intake().inbox.settled();
    const [doc] = await bySubject('Huge scan');
    assert.ok(doc);
    assert.equal(Number(doc.size), big.length);
    assert.equal(intake().blobs.size(doc.blob), big.length);
    assert.match(doc.problem!, /Too large to read here \(50 MB/);
    assert.equal((await bySubject('Behind the huge scan'))[0]?.state, 'proposed');
  });

  it('messages delivered straight into the Maildir (as the benchmark delivers 10,000) are taken like any other', async () => {
    imap.deliverToMaildir([1, 2, 3].map((n) => email({ subject: `Maildir letter ${n}`, attachments: [{ filename: `maildir-${n}.pdf`, contentType: 'application/pdf', content: Buffer.from(`%PDF-1.7 not really ${n}`) }] })));
    const p = poller();
    const round = await p.poll();
    await p.stop();
    assert.equal(round.taken, 3);
    await intake().inbox.settled();
    assert.equal((await docs()).filter((d) => d.subject.startsWith('Maildir letter')).length, 3);
    assert.equal(await folderCount('INBOX'), 0);
  });

  it('the scanner folder: a settled file is kept, then moved to taken/', async () => {
    const dir = join(node.dataDir, 'scans');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'scan-0001.pdf');
    writeFileSync(path, await letterPdf(ALEX, 'Out-of-hours report', 'Seen by the out-of-hours GP overnight.'));
    utimesSync(path, new Date(Date.now() - 10_000), new Date(Date.now() - 10_000));
    writeFileSync(join(dir, 'still-scanning.pdf'), '%PDF-1.7 partial');
    const folder = new ScanFolder(intake(), { dir });
    assert.equal(await folder.scan(), 1, 'the file still being written is left for the next scan');
    await folder.stop();
    await intake().inbox.settled();
    assert.ok(!existsSync(path));
    assert.equal(readdirSync(join(dir, 'taken')).length, 1);
    const doc = (await docs()).find((d) => d.filename === 'scan-0001.pdf');
    assert.equal(doc?.source, 'folder');
    assert.equal(doc?.proposed_patient_id, patientId);
  });

  it('upload in the staff app (multipart): the document and its proposal come back at once', async () => {
    const form = new FormData();
    form.append('file', new Blob([await letterPdf(ALEX, 'Test result', 'HbA1c 48 mmol/mol.')], { type: 'application/pdf' }), 'hba1c.pdf');
    const res = await node.fetchAs('receptionist', '/api/documents/upload', { method: 'POST', body: form });
    assert.equal(res.status, 201, await res.clone().text());
    const body = (await res.json()) as { documents: Array<{ filename: string; source: string; proposedPatient: { id: string } | null }> };
    assert.equal(body.documents[0]?.filename, 'hba1c.pdf');
    assert.equal(body.documents[0]?.source, 'upload');
    assert.equal(body.documents[0]?.proposedPatient?.id, patientId);
  });

  it('upload without a file is refused, naming the input and the fix', async () => {
    const form = new FormData();
    form.append('note', 'no file');
    const res = await node.fetchAs('receptionist', '/api/documents/upload', { method: 'POST', body: form });
    assert.equal(res.status, 400);
    const outcome = (await res.json()) as { issue: Array<{ diagnostics?: string; expression?: string[] }> };
    assert.match(JSON.stringify(outcome), /Choose a file to upload/);
  });

  it('FHIR DocumentReference on the API: kept as sent, its attachment read and matched', async () => {
    const pdf = await letterPdf(ALEX, 'Discharge summary (FHIR)', 'Discharged home.');
    const ref = { resourceType: 'DocumentReference', status: 'current', description: 'Inpatient discharge', content: [{ attachment: { contentType: 'application/pdf', title: 'discharge-fhir.pdf', data: pdf.toString('base64') } }] };
    const res = await node.fetchAs('clinician', '/api/documents/fhir', { method: 'POST', json: ref });
    assert.equal(res.status, 201, await res.clone().text());
    const body = (await res.json()) as { documents: Array<{ filename: string; proposedPatient: { id: string } | null }> };
    assert.equal(body.documents[0]?.filename, 'discharge-fhir.pdf');
    assert.equal(body.documents[0]?.proposedPatient?.id, patientId);
    const again = await node.fetchAs('clinician', '/api/documents/fhir', { method: 'POST', json: ref });
    assert.equal(((await again.json()) as { state: string }).state, 'duplicate');
  });

  it('FHIR that is not a DocumentReference or Bundle is refused with the field named', async () => {
    const res = await node.fetchAs('clinician', '/api/documents/fhir', { method: 'POST', json: { resourceType: 'Patient' } });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /Expected a DocumentReference or Bundle/);
  });

  it('attachments are served so the browser never runs what the sender put in them', async () => {
    const html = '<html><body><script>alert(document.cookie)</script><svg onload="alert(1)"></svg>NHS 999 000 0018</body></html>';
    const form = new FormData();
    form.append('file', new Blob([html], { type: 'text/html' }), 'letter.html');
    const up = (await (await node.fetchAs('receptionist', '/api/documents/upload', { method: 'POST', body: form })).json()) as { documents: Array<{ id: string; kind: string }> };
    const doc = up.documents[0]!;
    assert.equal(doc.kind, 'html');
    const res = await node.fetchAs('receptionist', `/api/documents/${doc.id}/content`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    assert.match(res.headers.get('content-disposition')!, /^attachment;/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.headers.get('content-security-policy')!, /sandbox/);
    assert.equal(await res.text(), html, 'the bytes as received');
    const pdf = (await docs()).find((d) => d.kind === 'pdf' && !d.problem)!;
    const pdfRes = await node.fetchAs('receptionist', `/api/documents/${pdf.id}/content`);
    assert.equal(pdfRes.headers.get('content-type'), 'application/pdf');
    assert.match(pdfRes.headers.get('content-disposition')!, /^inline;/);
    assert.equal(pdfRes.headers.get('x-content-type-options'), 'nosniff');
    // Sniffed from the bytes: a file named .pdf that is really HTML is never served as a PDF inline.
    const fake = new FormData();
    fake.append('file', new Blob(['<html><script>alert(1)</script></html>'], { type: 'application/pdf' }), 'fake.pdf');
    const faked = (await (await node.fetchAs('receptionist', '/api/documents/upload', { method: 'POST', body: fake })).json()) as { documents: Array<{ id: string }> };
    const fakeRes = await node.fetchAs('receptionist', `/api/documents/${faked.documents[0]!.id}/content`);
    assert.equal(fakeRes.headers.get('content-type'), 'text/plain');
    assert.match(fakeRes.headers.get('content-disposition')!, /^attachment;/);
  });

  it('the backlog counts by state, source and kind, with the oldest unworked, and gives figures for the hub', async () => {
    const res = await node.fetchAs('practice-admin', '/api/documents/backlog');
    const b = (await res.json()) as { unworked: number; bySource: Record<string, number>; withProblem: number; oldestUnworked: { receivedAt: string } | null };
    const all = await docs();
    assert.equal(b.unworked, all.length);
    assert.equal(b.bySource.imap, all.filter((d) => d.source === 'imap').length);
    assert.equal(b.withProblem, all.filter((d) => d.problem).length);
    assert.equal(b.oldestUnworked?.receivedAt, all[0]!.received_at);
    const figures = (await (await node.fetchAs('practice-admin', '/api/backlog')).json()) as { figures: Array<{ kind: string; count: number }> };
    assert.equal(figures.figures.find((f) => f.kind === 'documents-unfiled')?.count, all.length);
  });
});
