/**
 * Pathology's HTTP API under /api/pathology, and the services that run with the node (MLLP
 * listener, drop folder). Clinical content (results, raw messages) is for clinicians and practice
 * administrators; duplicate counts and the catalogue's edits are for practice administrators.
 */
import type { FastifyInstance } from 'fastify';
import { SteadfastError } from '@steadfast/domain';
import type { RecordStore } from '@steadfast/store';
import type { AppDeps } from '../capability.ts';
import { requireRole } from '../auth/index.ts';
import { actorOf } from '../audit/index.ts';
import { loadCatalogue, parseCatalogueEdit, retireCatalogueEntry, saveCatalogueEdit } from './catalogue.ts';
import { ingestFhirBundle } from './fhir-ingest.ts';
import { createBatcher, ingestHl7, quarantineRaw, receiveHl7Batch, reprocessInbox, ResultFiler, type IngestOutcome } from './ingest.ts';
import { ackFor } from './outcome.ts';
import { pathologyInbox } from './receive.ts';
import { startMllpListener, type MllpLimits, type MllpListener, type MllpTls } from './mllp.ts';
import { startFolderWatch, type FolderWatch } from './folder.ts';
import { pdb } from './tables.ts';
import { registerRequestRoutes } from './requests.ts';
import { registerInboxRoutes } from './inbox.ts';

const staff = requireRole('clinician', 'practice-admin');
const admin = requireRole('practice-admin');

function statusFor(o: IngestOutcome): number {
  return o.state === 'unmatched' ? 202 : 200;
}

/**
 * A result kept in quarantine is an error of the request that sent it: answered as an
 * OperationOutcome (400 for input that cannot be filed, 500 when the store failed), naming the
 * quarantine entry, like every other error of the API.
 */
function notQuarantined(o: IngestOutcome, field: string, hint: string): IngestOutcome {
  if (o.state !== 'quarantined') return o;
  throw new SteadfastError(o.ack === 'AR' ? 'invalid' : 'internal', `Result not filed (kept in quarantine ${o.inboxId}): ${o.reason}`, { field, hint });
}

function summary(o: IngestOutcome) {
  return { inboxId: o.inboxId, state: o.state, reason: o.reason, ack: o.ack, reports: o.reports };
}

export async function registerPathology(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const store = deps.store;

  // ---- results in ------------------------------------------------------------------------------
  app.post('/api/pathology/results', { preHandler: staff }, async (request, reply) => {
    const raw = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
    const outcome = notQuarantined(await ingestFhirBundle({ store }, raw), 'Bundle', 'Fix the Bundle and send it again, or re-process it from the quarantine list');
    return reply.code(statusFor(outcome)).send(summary(outcome));
  });

  // HL7 text bodies: the parser is scoped to this route so other capabilities keep their own.
  await app.register(async (scoped) => {
    scoped.addContentTypeParser(['x-application/hl7-v2+er7', 'application/hl7-v2', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scoped.post('/api/pathology/hl7', { preHandler: staff }, async (request, reply) => {
      if (typeof request.body !== 'string') throw new SteadfastError('invalid', 'Send the HL7 v2 message as text', { field: 'body', hint: 'Content-Type: x-application/hl7-v2+er7' });
      const outcome = notQuarantined(await ingestHl7({ store }, request.body, 'api'), 'body', 'Fix the message and send it again, or re-process it from the quarantine list');
      return reply.code(statusFor(outcome)).send(summary(outcome));
    });
  });

  // ---- never twice: visible duplicate counts ----------------------------------------------------
  app.get<{ Querystring: { since?: string } }>('/api/pathology/duplicates', { preHandler: admin }, async (request) => {
    const since = request.query.since ?? '0000-00-00';
    const rows = await pdb(store.db)
      .selectFrom('pathology_duplicate_counts')
      .select(['lab', 'day', 'count'])
      .where('practice', '=', store.practice)
      .where('day', '>=', since)
      .orderBy('day', 'desc')
      .orderBy('lab')
      .execute();
    return { total: rows.reduce((n, r) => n + Number(r.count), 0), byLabAndDay: rows.map((r) => ({ lab: r.lab, day: r.day, count: Number(r.count) })) };
  });

  // ---- quarantine and unmatched: kept for a person -----------------------------------------------
  app.get<{ Querystring: { state?: string } }>('/api/pathology/quarantine', { preHandler: staff }, async (request) => {
    const states = request.query.state ? [request.query.state] : ['quarantined', 'unmatched'];
    const rows = await pdb(store.db)
      .selectFrom('pathology_inbox')
      .select(['id', 'received_at', 'source', 'lab', 'message_id', 'format', 'state', 'reason', 'raw'])
      .where('practice', '=', store.practice)
      .where('state', 'in', states as never)
      .orderBy('received_at')
      .limit(500)
      .execute();
    return { items: rows.map((r) => ({ ...r, raw: r.raw.slice(0, 20_000) })) };
  });

  app.post<{ Params: { id: string } }>('/api/pathology/quarantine/:id/reprocess', { preHandler: staff }, async (request, reply) => {
    const outcome = await reprocessInbox({ store }, request.params.id);
    await deps.audit.append([{ actor: actorOf(request.user), event: 'update', resource: `pathology-inbox/${request.params.id}`, outcome: 'success', detail: `re-processed: ${outcome.state}` }]);
    return reply.code(200).send(summary(outcome));
  });

  // A person who has checked the identity chooses the patient for an unmatched message.
  app.post<{ Params: { id: string }; Body: { patientId?: string } }>('/api/pathology/quarantine/:id/match', { preHandler: requireRole('clinician') }, async (request) => {
    const patientId = request.body?.patientId;
    if (!patientId || typeof patientId !== 'string') throw new SteadfastError('required', 'patientId is required', { field: 'patientId', hint: 'Send { "patientId": "<Patient id>" } after checking the identity' });
    const outcome = await reprocessInbox({ store }, request.params.id, { confirmedPatientId: patientId, confirmedBy: request.user.id });
    await deps.audit.append([
      { actor: actorOf(request.user), event: 'update', resource: `pathology-inbox/${request.params.id}`, patient: `Patient/${patientId}`, outcome: 'success', detail: `unmatched result matched by hand: ${outcome.state}` },
    ]);
    return summary(outcome);
  });

  // ---- catalogue --------------------------------------------------------------------------------
  app.get('/api/pathology/catalogue', async () => loadCatalogue(store.db, store.practice));
  app.put<{ Params: { code: string } }>('/api/pathology/catalogue/:code', { preHandler: admin }, async (request) => {
    const entry = parseCatalogueEdit(request.params.code.toUpperCase(), request.body);
    await saveCatalogueEdit(store.db, store.practice, entry, request.user.id);
    return entry;
  });
  app.delete<{ Params: { code: string } }>('/api/pathology/catalogue/:code', { preHandler: admin }, async (request, reply) => {
    await retireCatalogueEntry(store.db, store.practice, request.params.code.toUpperCase(), request.user.id);
    return reply.code(204).send();
  });

  await registerRequestRoutes(app, deps);
  await registerInboxRoutes(app, deps);
}

/** The node's MLLP listener and the filer behind it. */
export interface PathologyMllp extends MllpListener {
  /** Resolves once everything received so far has been filed (tests, shutdown). */
  settled(): Promise<void>;
}

/**
 * Start the MLLP listener for a node. `serve` calls this after the app listens when
 * `--mllp-port` is not 0 (default 2575), and closes the result on shutdown. Each message is
 * acknowledged once it is stored raw and checked for resends (receiveHl7Batch); the filer files new
 * ones right behind, so a laboratory is never held up by filing, and a flood of resends costs little.
 */
export async function startPathologyMllp(
  store: RecordStore,
  options: {
    port: number;
    host?: string;
    onError?: (err: unknown) => void;
    onQuarantined?: (inboxId: string, reason: string) => void;
    onNotice?: (message: string) => void;
    limits?: MllpLimits;
    tls?: MllpTls;
  },
): Promise<PathologyMllp> {
  const filer = new ResultFiler({ store }, options.onError ? { onError: options.onError } : {});
  // Messages arriving together on several connections share a commit.
  const receive = createBatcher(async (items) => {
    const outcomes = await receiveHl7Batch({ store }, items, filer.parsed);
    if (outcomes.some((o) => o.state === 'received')) filer.nudge();
    return outcomes;
  });
  // Anything received before a restart and not yet filed.
  filer.nudge();
  let listener: MllpListener;
  try {
    listener = await startMllpListener({
      port: options.port,
      host: options.host ?? '0.0.0.0',
      ingest: async (raw) => {
        const o = await receive(raw, 'mllp');
        return { ack: o.ack, reason: o.reason };
      },
      quarantine: async (raw, reason) => {
        const id = await quarantineRaw({ store }, raw, 'mllp', reason);
        options.onQuarantined?.(id, reason);
      },
      ...(options.onError ? { onError: options.onError } : {}),
      ...(options.onNotice ? { onNotice: options.onNotice } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
    });
  } catch (err) {
    await filer.close();
    throw err;
  }
  return {
    port: listener.port,
    host: listener.host,
    tls: listener.tls,
    counters: () => listener.counters(),
    settled: () => filer.settled(),
    close: async () => {
      await listener.close();
      await filer.close();
    },
  };
}

/**
 * Watch a drop folder for result files (HL7 v2 text or FHIR Bundle JSON). HL7 files go through the
 * durable inbox like MLLP messages (stored raw and checked for resends in one commit, then filed in
 * arrival order); the folder waits for each file's outcome before moving it. FHIR Bundles are stored
 * and filed in one step.
 */
export function startPathologyFolder(store: RecordStore, options: { dir: string; intervalMs?: number; onError?: (err: unknown) => void }): FolderWatch {
  const inbox = pathologyInbox({ store }, options.onError ? { onError: options.onError } : {});
  const receive = inbox.receiver();
  // Anything received before a restart and not yet filed.
  inbox.nudge();
  const watch = startFolderWatch({
    dir: options.dir,
    ...(options.intervalMs ? { intervalMs: options.intervalMs } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
    ingest: async (raw, format) => {
      if (format === 'fhir') return ingestFhirBundle({ store }, raw);
      const received = await receive(raw, 'folder');
      if (received.state === 'refused') throw received.error;
      const [after] = await inbox.awaitProcessed([received.id]);
      const state = after!.state as IngestOutcome['state'];
      return { inboxId: received.id, state, reason: after!.reason, ack: state === 'quarantined' && received.state === 'quarantined' ? ackFor(received.error) : 'AA', reports: [], messageId: received.parsed?.header.messageId ?? '' };
    },
  });
  return {
    scan: () => watch.scan(),
    close: () => {
      watch.close();
      void inbox.close();
    },
  };
}
