/**
 * FHIR bulk NDJSON import: one resource a line, each validated; lines are written a few hundred per
 * transaction for speed, yet a line is never half-imported and a bad line is reported by number.
 * With `onError: 'skip'` bad lines are reported and the rest imported; with `'stop'` everything
 * before the first bad line is imported and nothing after it.
 *
 * Resources that carry an id keep it (written as update-as-create), so an export re-imports with its
 * references intact. Patients are matched on NHS number: the same patient again is not duplicated.
 */
import type { Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, SteadfastError } from '@steadfast/domain';
import type { RecordStore, StoreTransaction, WriteRequest } from '@steadfast/store';
import type { AuditActor, AuditInput, AuditLog } from '../audit/log.ts';
import { describeError } from './lines.ts';
import { checkPatientReferences, nhsNumberOf, patientOf } from './patients.ts';
import { inlineValidator, type LineValidator } from './validators.ts';

export { createWorkerValidator, inlineValidator, type LineValidator } from './validators.ts';
import { assertSamePatient, nhsMatchFor } from './writes.ts';

export interface ImportOptions {
  onError?: 'stop' | 'skip';
  /** Lines per transaction. */
  batchSize?: number;
  actor?: AuditActor;
  /** Called after each batch with the number of lines read so far. */
  onProgress?: (linesRead: number) => void;
  /** Called as each pass over the lines starts (two passes when Patients come after other lines). */
  onPass?: (pass: number, of: number) => void;
  /** Where lines are validated (default: on this thread); see createWorkerValidator. */
  validator?: LineValidator;
}

export interface LineError {
  line: number;
  message: string;
}

export interface ImportReport {
  lines: number;
  imported: number;
  /** Lines that matched a record already there (same patient by NHS number); nothing written. */
  existing: number;
  errors: LineError[];
  /** True when `onError: 'stop'` ended the import at a bad line. */
  stopped: boolean;
}

interface Item {
  line: number;
  resource: Resource;
}

class LineFailure extends Error {
  constructor(
    readonly line: number,
    override readonly cause: unknown,
  ) {
    super(`line ${line}`);
  }
}

export const SYSTEM_IMPORT_ACTOR: AuditActor = { id: 'system:import', name: 'steadfast import', role: 'system', workstation: '' };

export type LineSource = AsyncIterable<string> | Iterable<string>;

function isPatientLine(text: string): boolean {
  if (!text.includes('"Patient"')) return false; // most lines, without parsing
  try {
    return (JSON.parse(text) as { resourceType?: unknown })?.resourceType === 'Patient';
  } catch {
    return false;
  }
}

/** True when a Patient line comes after some other resource, so a second pass is needed. */
async function needsPatientsFirst(lines: LineSource): Promise<boolean> {
  let other = false;
  for await (const text of lines) {
    if (!text.trim()) continue;
    const patient = isPatientLine(text);
    if (patient && other) return true;
    if (!patient) other = true;
  }
  return false;
}

/**
 * @param source the lines, or a function that opens them afresh (then a file that is not Patients-first
 *   is imported in two passes, Patients first)
 */
export async function importNdjson(node: { store: RecordStore; audit: AuditLog }, source: LineSource | (() => LineSource), options: ImportOptions = {}): Promise<ImportReport> {
  const { store, audit } = node;
  const onError = options.onError ?? 'stop';
  const batchSize = options.batchSize ?? 500;
  const actor = options.actor ?? SYSTEM_IMPORT_ACTOR;
  const report: ImportReport = { lines: 0, imported: 0, existing: 0, errors: [], stopped: false };
  /** Patients known to exist (committed), so each is looked up once. */
  const knownPatients = new Set<string>();
  /** NHS number → Patient id, for patients committed by this import. */
  const nhsIds = new Map<string, string>();

  /** Checks and writes inside one transaction; throws LineFailure naming the first bad line. */
  async function writeIn(tx: StoreTransaction, items: Item[]): Promise<{ imported: number; existing: number; patients: Map<string, string> }> {
    // Patients anywhere in the batch count as present, so a line may refer forward within its batch.
    // If such a Patient line then fails, the batch is retried without it and the reference fails too.
    const batchPatients = new Set<string>(items.filter((i) => i.resource.resourceType === 'Patient' && i.resource.id).map((i) => `Patient/${i.resource.id}`));
    const batchNhs = new Map<string, string>();
    // One search per batch for the NHS numbers it holds, rather than one per patient.
    const inDb = new Map<string, string>();
    const unseen = [...new Set(items.map((i) => nhsNumberOf(i.resource)).filter((n): n is string => Boolean(n) && !nhsIds.has(n!)))];
    for (let i = 0; i < unseen.length; i += 200) {
      const values = unseen.slice(i, i + 200).map((n) => `${NHS_NUMBER_SYSTEM}|${n}`);
      const page = await tx.search({ resourceType: 'Patient', params: [{ name: 'identifier', values }], count: 1000, offset: 0 });
      for (const p of page.resources) {
        const n = nhsNumberOf(p);
        if (n && p.id) inDb.set(n, p.id);
      }
    }
    const requests: WriteRequest[] = [];
    const auditRows: AuditInput[] = [];
    let existing = 0;
    for (const item of items) {
      const r = item.resource;
      try {
        const nhs = nhsNumberOf(r);
        if (nhs) {
          const ownerId = batchNhs.get(nhs) ?? nhsIds.get(nhs) ?? inDb.get(nhs);
          if (ownerId && ownerId !== r.id) {
            if (r.id) throw new SteadfastError('conflict', `NHS number ${nhs} already belongs to Patient/${ownerId}, not Patient/${r.id}`, { field: 'Patient.identifier', hint: 'Remove the duplicate line or correct the NHS number' });
            const found = await tx.read('Patient', ownerId);
            if (found && !found.deleted) assertSamePatient(found.resource, r);
            existing += 1;
            continue;
          }
        }
        // Patients found in the database are committed already, so they join knownPatients directly.
        await checkPatientReferences(tx, r, { has: (ref) => knownPatients.has(ref) || batchPatients.has(ref), add: (ref) => knownPatients.add(ref) });
        // Without an id, a Patient is created on condition of its NHS number, so that two such lines for one
        // patient in a batch make one record.
        const match = nhsMatchFor(r);
        requests.push(r.id ? { kind: 'update', resource: r } : { kind: 'create', resource: r, ...(match ? { ifNoneExist: match } : {}) });
        if (r.resourceType === 'Patient' && r.id) {
          batchPatients.add(`Patient/${r.id}`);
          if (nhs) batchNhs.set(nhs, r.id);
        }
      } catch (err) {
        throw new LineFailure(item.line, err);
      }
    }
    let outcomes;
    try {
      outcomes = await tx.write(requests);
    } catch (err) {
      throw items.length === 1 ? new LineFailure(items[0]!.line, err) : err;
    }
    const patients = new Map<string, string>();
    const concerned = new Set<string>();
    for (const o of outcomes) {
      const written = o.resource;
      if (!written) continue;
      const p = patientOf(written);
      if (p) concerned.add(p);
      const nhs = nhsNumberOf(written);
      if (written.resourceType === 'Patient' && written.id) patients.set(`Patient/${written.id}`, nhs ?? '');
    }
    for (const patient of concerned) auditRows.push({ actor, event: 'import', patient, outcome: 'success', detail: `lines ${items[0]!.line}-${items.at(-1)!.line}` });
    await audit.appendInTransaction(tx.db, auditRows);
    const matched = outcomes.filter((o) => o.status === 'existing').length;
    return { imported: requests.length - matched, existing: existing + matched, patients };
  }

  /** Write a batch; on a bad line, report it and write the rest (skip) or the lines before it (stop). */
  async function flush(items: Item[]): Promise<void> {
    if (!items.length) return;
    try {
      // Every line was validated (and numbered in its errors) before it reached this batch.
      const result = await store.transaction({ author: actor.id, prevalidated: true }, (tx) => writeIn(tx, items));
      report.imported += result.imported;
      report.existing += result.existing;
      for (const [ref, nhs] of result.patients) {
        knownPatients.add(ref);
        if (nhs) nhsIds.set(nhs, ref.slice('Patient/'.length));
      }
    } catch (err) {
      if (!(err instanceof LineFailure)) {
        // Not pinned to a line (e.g. a conflict found by the store): find the line by writing one at a time.
        if (items.length === 1) throw err;
        for (const item of items) {
          if (report.stopped) return;
          await flush([item]);
        }
        return;
      }
      report.errors.push({ line: err.line, message: describeError(err.cause) });
      const at = items.findIndex((i) => i.line === err.line);
      if (onError === 'stop') {
        await flush(items.slice(0, at));
        report.stopped = true;
        return;
      }
      await flush(items.filter((_, i) => i !== at));
    }
  }

  // Lines are validated in chunks (on worker threads when available) while earlier chunks are written.
  const validator = options.validator ?? inlineValidator;
  const inflight: Array<Promise<{ chunk: Array<{ line: number; text: string }>; problems: Array<string | undefined> }>> = [];
  let batch: Item[] = [];

  async function take(): Promise<void> {
    const { chunk, problems } = await inflight.shift()!;
    for (const [i, { line, text }] of chunk.entries()) {
      if (report.stopped) return;
      const problem = problems[i];
      if (problem !== undefined) {
        report.errors.push({ line, message: problem });
        if (onError === 'stop') {
          await flush(batch);
          batch = [];
          report.stopped = true;
          return;
        }
        continue;
      }
      batch.push({ line, resource: JSON.parse(text) as Resource });
      if (batch.length >= batchSize) {
        await flush(batch);
        batch = [];
        options.onProgress?.(line);
      }
    }
  }

  async function* numbered(lines: LineSource, keep?: (text: string) => boolean): AsyncGenerator<{ line: number; text: string }> {
    let line = 0;
    for await (const text of lines) {
      line += 1;
      if (line > report.lines) report.lines = line;
      if (keep && !keep(text)) continue;
      yield { line, text };
    }
  }

  let chunk: Array<{ line: number; text: string }> = [];
  const send = () => {
    const c = chunk;
    chunk = [];
    const texts = c.map((x) => x.text);
    inflight.push(validator.check(texts).then((problems) => ({ chunk: c, problems })));
  };
  async function pass(numberedLines: AsyncIterable<{ line: number; text: string }>): Promise<void> {
    for await (const { line, text } of numberedLines) {
      if (!text.trim()) continue;
      chunk.push({ line, text });
      if (chunk.length >= batchSize) {
        send();
        if (inflight.length > validator.width) await take();
        if (report.stopped) return;
      }
    }
  }

  // A file that is not Patients-first (e.g. resources sorted by type) is read twice: its Patients,
  // then everything else, so that every patient reference can resolve. Line numbers stay the file's.
  const reorder = typeof source === 'function' && (await needsPatientsFirst(source()));
  // Opened only when their pass starts: a line reader may drop lines emitted before it is read.
  const passes: Array<() => AsyncIterable<{ line: number; text: string }>> = reorder
    ? [() => numbered(source(), (t) => isPatientLine(t)), () => numbered(source(), (t) => !isPatientLine(t))]
    : [() => numbered(typeof source === 'function' ? source() : source)];
  for (const [i, p] of passes.entries()) {
    if (i > 0) {
      // Commit the first pass before the second starts.
      if (chunk.length && !report.stopped) send();
      while (inflight.length && !report.stopped) await take();
      if (!report.stopped) await flush(batch);
      batch = [];
    }
    if (report.stopped) break;
    options.onPass?.(i + 1, passes.length);
    await pass(p());
  }
  if (chunk.length && !report.stopped) send();
  while (inflight.length && !report.stopped) await take();
  // Let validations still running finish quietly after a stop.
  await Promise.allSettled(inflight);
  if (!report.stopped) await flush(batch);
  options.onProgress?.(report.lines);
  report.errors.sort((a, b) => a.line - b.line);
  return report;
}
