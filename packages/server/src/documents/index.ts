/**
 * Documents: every letter that arrives (practice mailbox over IMAP, the scanner folder, upload in the
 * staff app, FHIR on the API) is kept raw first, read, matched to a proposed patient for a person to
 * confirm, and counted in the backlog. See docs/documents.md.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { AppDeps, BackgroundService, Capability } from '../capability.ts';
import { documentBacklog } from './backlog.ts';
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
