/**
 * The drill's documents part (issue 11): hospital letters keep arriving at every practice while the
 * hub is cut off (FHIR DocumentReference posts to the node's staff API, each sent twice as a sender's
 * retry would be), some are filed during the cut, and once the network is back:
 * - every letter is at the hub exactly once: its DocumentReference, by the id derived from the bytes,
 *   and no other DocumentReference naming the same bytes; a letter filed in the cut is filed there;
 * - its bytes are at the hub once, and hash to their name;
 * - the practice's documents backlog as the hub last heard it (region heartbeat) equals the
 *   practice's own (`GET /api/backlog` at the node).
 * Read from the hub's PostgreSQL, not from anything the sync code says about itself.
 */
import { createHash } from 'node:crypto';
import type { Patient } from '@medplum/fhirtypes';
import pg from 'pg';
import { letterPdf } from '../documents/fixtures.ts';
import { documentId, rowOf } from '../documents/replica.ts';
import type { HubEntry } from './verify.ts';
import type { StaffClient } from './workload.ts';

const DOCUMENT_KINDS = ['documents-unfiled', 'documents-unmatched', 'documents-with-problem'];

export interface DrillLetter {
  practice: string;
  day: number;
  sha256: string;
  /** The DocumentReference id the bytes give (documentId). */
  id: string;
  filed: boolean;
}

/** A DocumentReference at the hub, as its latest version there has it. */
export interface HubDocument {
  practice: string;
  resourceId: string;
  blob: string;
  docStatus: string | undefined;
}

/** A blob at the hub: how many times it is stored under the name, and the hash of its bytes. */
export interface HubBlob {
  copies: number;
  actual: string | null;
}

export interface DrillLetterVerdict {
  taken: number;
  filedInCut: number;
  atHub: number;
  missing: string[];
  duplicated: string[];
  notFiled: string[];
  bytes: string[];
  /** Practices whose documents backlog at the hub differs from their own. */
  backlog: string[];
  failures: string[];
}

const label = (l: DrillLetter) => `${l.practice} day ${l.day} letter ${l.id}`;

/** The check (pure): each letter once at the hub, by id and by bytes, filed when it was filed, its bytes whole. */
export function checkLetters(letters: readonly DrillLetter[], docs: readonly HubDocument[], blobs: ReadonlyMap<string, HubBlob>): Omit<DrillLetterVerdict, 'backlog' | 'failures'> {
  const byBlob = new Map<string, HubDocument[]>();
  for (const d of docs) byBlob.set(`${d.practice}|${d.blob}`, [...(byBlob.get(`${d.practice}|${d.blob}`) ?? []), d]);
  const missing: string[] = [];
  const duplicated: string[] = [];
  const notFiled: string[] = [];
  const bytes: string[] = [];
  let atHub = 0;
  for (const l of letters) {
    const same = byBlob.get(`${l.practice}|${l.sha256}`) ?? [];
    const own = same.find((d) => d.resourceId === l.id);
    if (!own) missing.push(label(l));
    else atHub++;
    if (same.length > 1) duplicated.push(`${label(l)} is ${same.length} DocumentReferences at the hub (${same.map((d) => d.resourceId).join(', ')})`);
    if (own && l.filed && own.docStatus !== 'final') notFiled.push(`${label(l)} was filed in the cut, at the hub it is ${own.docStatus ?? 'without a status'}`);
    const blob = blobs.get(`${l.practice}|${l.sha256}`);
    if (!blob || blob.copies === 0) bytes.push(`${label(l)}: its bytes are not at the hub`);
    else if (blob.copies > 1) bytes.push(`${label(l)}: its bytes are stored ${blob.copies} times at the hub`);
    else if (blob.actual !== l.sha256) bytes.push(`${label(l)}: the hub's bytes hash to ${blob.actual}`);
  }
  return { taken: letters.length, filedInCut: letters.filter((l) => l.filed).length, atHub, missing, duplicated, notFiled, bytes };
}

/** The latest version of every DocumentReference in the hub's log (entries in log order). */
export function hubDocuments(entries: readonly HubEntry[]): HubDocument[] {
  const latest = new Map<string, HubEntry>();
  for (const e of entries) if (e.resourceType === 'DocumentReference') latest.set(`${e.practice}|${e.resourceId}`, e);
  return [...latest.values()].flatMap((e) => {
    const row = e.body ? rowOf(e.body, e.practice) : undefined;
    return row ? [{ practice: e.practice, resourceId: e.resourceId, blob: row.blob, docStatus: e.body.docStatus as string | undefined }] : [];
  });
}

async function hubBlobs(client: pg.Client, letters: readonly DrillLetter[]): Promise<Map<string, HubBlob>> {
  const out = new Map<string, HubBlob>();
  for (const l of letters) {
    const { rows } = await client.query<{ upload_id: string }>('SELECT upload_id FROM hub_blobs WHERE practice = $1 AND sha256 = $2', [l.practice, l.sha256]);
    let actual: string | null = null;
    if (rows[0]) {
      const hash = createHash('sha256');
      for (const c of (await client.query<{ data: Buffer }>('SELECT data FROM hub_blob_chunks WHERE upload_id = $1 ORDER BY n', [rows[0].upload_id])).rows) hash.update(c.data);
      actual = hash.digest('hex');
    }
    out.set(`${l.practice}|${l.sha256}`, { copies: rows.length, actual });
  }
  return out;
}

const documentFigures = (figures: Array<{ kind: string; count: number }>) => Object.fromEntries(DOCUMENT_KINDS.map((k) => [k, figures.filter((f) => f.kind === k).reduce((n, f) => n + f.count, 0)]));

export class DrillDocuments {
  readonly letters: DrillLetter[] = [];
  private readonly patients = new Map<string, string>();
  private readonly failures: string[] = [];

  /** `staffOf`: a clinician at the practice's main node (clinicians have the document-workflow right). */
  constructor(
    private readonly practices: string[],
    private readonly staffOf: (practice: string) => StaffClient,
  ) {}

  /** Day 0: the patient each practice files its letters to. */
  async setup(): Promise<void> {
    await Promise.all(this.practices.map(async (practice, i) => {
      const { body } = await this.staffOf(practice).call<Patient>('POST', '/fhir/R4/Patient', { resourceType: 'Patient', name: [{ given: ['Letter'], family: `Drill${i}` }], birthDate: '1968-02-02' });
      this.patients.set(practice, body.id!);
    }));
  }

  /** An outage day: per practice `count` letters posted (each twice), the first of them filed. */
  async day(day: number, count = 2): Promise<void> {
    await Promise.all(this.practices.map(async (practice, p) => {
      const staff = this.staffOf(practice);
      for (let i = 0; i < count; i++) {
        const pdf = await letterPdf({ nhsNumber: '9990000018', given: 'Letter', family: `Drill${p}`, birthDate: '1968-02-02' }, i === 0 ? 'Discharge summary' : 'Outpatient letter', `Drill ${practice} day ${day} letter ${i + 1}.`);
        const sha256 = createHash('sha256').update(pdf).digest('hex');
        const id = documentId(practice, sha256);
        const ref = { resourceType: 'DocumentReference', status: 'current', description: `Drill day ${day} letter ${i + 1}`, content: [{ attachment: { contentType: 'application/pdf', title: `drill-${day}-${i + 1}.pdf`, data: pdf.toString('base64') } }] };
        try {
          const first = await staff.call<{ documents: Array<{ id: string }> }>('POST', '/api/documents/fhir', ref);
          const again = await staff.call<{ state: string; documents: Array<{ id: string }> }>('POST', '/api/documents/fhir', ref);
          if (!first.body.documents.some((d) => d.id === id)) this.failures.push(`${practice} day ${day} letter ${i + 1}: the node made ${first.body.documents.map((d) => d.id).join(', ') || 'no document'}, not ${id}`);
          if (again.body.state !== 'duplicate') this.failures.push(`${practice} day ${day} letter ${i + 1} sent again was taken as ${again.body.state}, not as the same letter`);
          const filed = i === 0 && (await this.file(staff, practice, id, day));
          this.letters.push({ practice, day, sha256, id, filed });
        } catch (err) {
          this.failures.push(`${practice} day ${day} letter ${i + 1} was not taken in during the cut: ${(err as Error).message.slice(0, 300)}`);
        }
      }
    }));
  }

  private async file(staff: StaffClient, practice: string, id: string, day: number): Promise<boolean> {
    await staff.call('POST', `/api/documents/${id}/patient`, { patientId: this.patients.get(practice) });
    await staff.call('PUT', `/api/documents/${id}/coding`, { type: 'discharge-summary', date: new Date().toISOString().slice(0, 10), suggestions: [] });
    const { body } = await staff.call<{ state: string }>('POST', `/api/documents/${id}/file`);
    if (body.state !== 'filed') this.failures.push(`${practice} day ${day} letter ${id} was not filed: ${body.state}`);
    return body.state === 'filed';
  }

  /**
   * After convergence: wait (up to `timeoutMs`) until every letter and its bytes are at the hub and
   * the hub's documents backlog of each practice equals the practice's own; then judge.
   */
  async verify(databaseUrl: string, readEntries: () => Promise<HubEntry[]>, mainNodeId: (practice: string) => string, timeoutMs: number): Promise<DrillLetterVerdict> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const letters = checkLetters(this.letters, hubDocuments(await readEntries()), await hubBlobs(client, this.letters));
        const backlog = await this.backlogDifferences(client, mainNodeId);
        const problems = [...letters.missing, ...letters.duplicated, ...letters.notFiled, ...letters.bytes, ...backlog];
        if (!problems.length || Date.now() > deadline) {
          const failures = [...this.failures];
          if (letters.missing.length) failures.push(`${letters.missing.length} of ${letters.taken} letters taken in the cut are not at the hub, e.g. ${letters.missing.slice(0, 3).join('; ')}`);
          if (letters.duplicated.length) failures.push(`${letters.duplicated.length} letters duplicated at the hub: ${letters.duplicated.slice(0, 3).join('; ')}`);
          if (letters.notFiled.length) failures.push(`${letters.notFiled.length} letters filed in the cut are not filed at the hub: ${letters.notFiled.slice(0, 3).join('; ')}`);
          if (letters.bytes.length) failures.push(`${letters.bytes.length} letters' bytes wrong at the hub: ${letters.bytes.slice(0, 3).join('; ')}`);
          if (backlog.length) failures.push(`documents backlog at the hub differs from the practice's: ${backlog.join('; ')}`);
          return { ...letters, backlog, failures };
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    } finally {
      await client.end();
    }
  }

  private async backlogDifferences(client: pg.Client, mainNodeId: (practice: string) => string): Promise<string[]> {
    const out: string[] = [];
    for (const practice of this.practices) {
      const { body } = await this.staffOf(practice).call<{ figures: Array<{ kind: string; count: number }> }>('GET', '/api/backlog');
      const own = documentFigures(body.figures);
      const { rows } = await client.query<{ backlog: string | unknown[] }>('SELECT backlog FROM region_heartbeats WHERE practice = $1 AND node_id = $2 ORDER BY seq DESC LIMIT 1', [practice, mainNodeId(practice)]);
      const raw = rows[0]?.backlog;
      const atHub = raw === undefined ? undefined : documentFigures((typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{ kind: string; count: number }>);
      if (!atHub) out.push(`${practice}: no heartbeat at the hub`);
      else if (JSON.stringify(atHub) !== JSON.stringify(own)) out.push(`${practice}: hub ${JSON.stringify(atHub)}, practice ${JSON.stringify(own)}`);
    }
    return out;
  }
}
