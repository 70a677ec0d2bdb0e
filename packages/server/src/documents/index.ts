/**
 * Documents: every letter that arrives (practice mailbox over IMAP, the scanner folder, upload in the
 * staff app, FHIR on the API) is kept raw first, read, matched to a proposed patient for a person to
 * confirm, and counted in the backlog. See docs/documents.md.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { AppDeps, BackgroundService, Capability } from '../capability.ts';
import { documentBacklog } from './backlog.ts';
import { BlobReplicator, fileSink, registerBlobRoutes } from './blob-sync.ts';
import { DocumentProjector } from './replica.ts';
import { loadSyncConfig } from '../sync/index.ts';
import { requireRole } from '../auth/index.ts';
import { BlobStore } from './blobs.ts';
import { ScanFolder } from './folder.ts';
import { ImapPoller } from './imap.ts';
import { DocumentIntake } from './intake.ts';
import { documentsCli } from './options.ts';
import { registerDocumentRoutes } from './routes.ts';
import { documentMigrations } from './tables.ts';
import { registerWorkflowRoutes } from './workflow.ts';

export { DocumentIntake } from './intake.ts';
export { BlobStore } from './blobs.ts';

const intakes = new WeakMap<object, DocumentIntake>();
const replicators = new WeakMap<object, BlobReplicator>();
const projectors = new WeakMap<object, DocumentProjector>();

/** The node's sender and fetcher of document bytes (when it has an upstream), per store. */
export function blobReplicatorOf(deps: AppDeps): BlobReplicator | undefined {
  let r = replicators.get(deps.store);
  const intake = intakeOf(deps);
  const upstream = deps.config.role === 'node' && deps.config.dataDir ? loadSyncConfig(deps.config.dataDir).upstream : undefined;
  if (!r && intake && upstream) {
    r = new BlobReplicator({ store: deps.store, blobs: intake.blobs, peer: upstream.name ?? 'hub', url: upstream.url, key: upstream.key });
    replicators.set(deps.store, r);
  }
  return r;
}

/** Rebuilds documents rows from replicated DocumentReferences, per store. */
export function documentProjectorOf(deps: AppDeps): DocumentProjector {
  let p = projectors.get(deps.store);
  if (!p) projectors.set(deps.store, (p = new DocumentProjector(deps.store)));
  return p;
}

/** The node's one intake (per store), or undefined when there is no data dir for the files. */
export function intakeOf(deps: AppDeps, log?: FastifyBaseLogger): DocumentIntake | undefined {
  let intake = intakes.get(deps.store);
  if (!intake && deps.config.dataDir) {
    intake = new DocumentIntake(deps.store, new BlobStore(deps.config.dataDir, deps.config.documents?.maxBlobBytes), {
      onError: (err) => log?.warn({ err }, 'documents: reading a received item failed; it stays received and is tried again'),
    });
    intakes.set(deps.store, intake);
  }
  return intake;
}

function services(deps: AppDeps, log: FastifyBaseLogger): BackgroundService[] {
  const intake = intakeOf(deps, log);
  if (!intake) return [];
  const out: BackgroundService[] = [
    {
      name: 'document intake',
      async start() {
        intake.blobs.sweepIncoming();
        intake.inbox.nudge(); // whatever was kept before a restart
      },
      async stop() {
        await intake.inbox.close();
      },
    },
  ];
  // Replication: rows rebuilt from what other nodes wrote; bytes sent to and fetched from the upstream.
  const replicator = blobReplicatorOf(deps);
  const projector = documentProjectorOf(deps);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const everyMs = deps.config.documents?.replicationIntervalMs ?? 2000;
  const tick = () => {
    running = (async () => {
      await projector.round().catch((err) => log.warn({ err }, 'documents: rebuilding replicated documents failed; tried again'));
      await replicator?.round().catch((err) => log.warn({ err }, 'documents: sending document bytes failed; tried again'));
    })().finally(() => {
      if (timer) timer = setTimeout(tick, everyMs);
    });
  };
  out.push({
    name: 'documents replication',
    async start() {
      timer = setTimeout(tick, 0);
    },
    async stop() {
      clearTimeout(timer);
      timer = undefined;
      await running;
    },
  });
  const imap = deps.config.documents?.imap;
  if (imap) {
    const poller = new ImapPoller(intake, imap, (err) => log.warn({ err }, 'documents: IMAP'));
    out.push({
      name: 'documents mailbox (IMAP)',
      async start() {
        poller.start();
      },
      stop: () => poller.stop(),
      status: {
        name: 'documents-imap',
        provider: {
          label: 'Documents mailbox',
          report: () => ({
            state: poller.status.connected && !poller.status.lastError ? 'connected' : poller.status.lastRoundAt ? 'degraded' : 'disconnected',
            ...(poller.status.lastRoundAt ? { lastContact: poller.status.lastRoundAt } : {}),
            detail: poller.status.lastError ?? `${poller.status.taken} message(s) taken since start`,
          }),
          staleAfterMs: Math.max(120_000, (imap.intervalMs ?? 60_000) * 3),
        },
      },
    });
  }
  const scanDir = deps.config.documents?.scanDir;
  if (scanDir) {
    const folder = new ScanFolder(intake, { dir: scanDir, intervalMs: deps.config.documents?.scanIntervalMs ?? 5000, onError: (err) => log.warn({ err }, 'documents: scan folder') });
    out.push({ name: 'documents scan folder', start: async () => folder.start(), stop: () => folder.stop() });
  }
  return out;
}

export const documents: Capability = {
  name: 'documents',
  migrations: documentMigrations,
  routes: async (app, deps) => {
    await registerDocumentRoutes(app, deps, () => intakeOf(deps, app.log));
    await registerWorkflowRoutes(app, deps, () => intakeOf(deps, app.log));
    const intake = intakeOf(deps, app.log);
    // A standby sends its documents' bytes here, and fetches ours (documents/blob-sync.ts).
    if (intake) await registerBlobRoutes(app, { db: deps.store.db, sinkFor: async (p) => (p === deps.store.practice ? fileSink(intake.blobs, deps.store) : undefined) });
    app.get('/api/documents/replication', { preHandler: requireRole('clinician', 'practice-admin') }, async () => {
      const r = blobReplicatorOf(deps);
      return r ? { configured: true, ...(await r.status()) } : { configured: false };
    });
  },
  services,
  cli: documentsCli,
  backlog: async (deps) => {
    const b = await documentBacklog(deps.store);
    const unmatched = (b.byState.unmatched?.count ?? 0) + (b.byState.proposed?.count ?? 0);
    const oldestUnmatched = [b.byState.unmatched?.oldest, b.byState.proposed?.oldest].filter((o): o is string => !!o).sort()[0];
    return [
      { kind: 'documents-unfiled', label: 'Documents not yet filed', count: b.unworked + b.waitingToBeRead, ...(b.oldestUnworked ? { oldest: b.oldestUnworked.receivedAt } : {}) },
      { kind: 'documents-unmatched', label: 'Documents waiting for a patient to be confirmed', count: unmatched, ...(oldestUnmatched ? { oldest: oldestUnmatched } : {}) },
      { kind: 'documents-with-problem', label: 'Documents that could not be read (a person must look)', count: b.withProblem },
    ];
  },
};
