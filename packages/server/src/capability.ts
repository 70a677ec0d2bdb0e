/**
 * The capability contract: what a capability of the node (records, pathology, sync, ...) declares,
 * and what every capability is given. This module is a leaf: capabilities import it, and it imports
 * no capability, so the list of capabilities (capabilities.ts) can import them all without a cycle.
 *
 * Adding a capability means adding a folder that exports one `Capability` and one line in
 * capabilities.ts: its tables, routes, background services, options (and their command-line flags),
 * status-bar entries and backlog figures all come from that object.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { BacklogFigure } from '@steadfast/domain/api';
import type { Migration, RecordStore } from '@steadfast/store';
import type { AuditLog } from './audit/log.ts';
import type { Accounts } from './auth/accounts.ts';
import type { NodeRole } from './node/identity.ts';
import type { TlsMaterial } from './http/tls.ts';
import type { StatusProvider } from './status/providers.ts';
import type { OutboxChannel } from './outbox/contract.ts';

/** The node's own settings, not any capability's. */
export interface NodeConfig {
  /** ODS code of the practice. */
  practice: string;
  nodeId: string;
  role: NodeRole;
  /** The data directory (files other than the database may live here), when there is one. */
  dataDir?: string;
  /** Largest request body accepted, in bytes (default 5 MB); larger bodies get 413. */
  bodyLimit?: number;
  /** Log requests (pino) to stdout. */
  logger?: boolean;
  /** The node's certificate and key (http/tls.ts): HTTPS only, with HSTS. */
  tls?: TlsMaterial;
}

/**
 * Each capability's options, under its own key, declared beside the capability by augmenting this
 * interface, e.g. in pathology/options.ts:
 *
 *   declare module '../capability.ts' { interface CapabilityOptions { pathology?: PathologyOptions } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by each capability
export interface CapabilityOptions {}

export type AppConfig = NodeConfig & CapabilityOptions;

/** What every capability is given: the node's store, audit trail, accounts and configuration. */
export interface AppDeps {
  store: RecordStore;
  config: AppConfig;
  audit: AuditLog;
  accounts: Accounts;
}

/** Something that runs beside the HTTP routes for as long as the node listens (a listener, a poller). */
export interface BackgroundService {
  /** Shown in logs, e.g. "HL7 MLLP listener". */
  name: string;
  /**
   * Start it. A service that cannot start (a port in use) should log and return rather than throw,
   * so the rest of the node (the record, the staff app) still serves; a throw is logged the same way.
   */
  start(): Promise<void>;
  /** Stop it, finishing (draining) work under way; always completes. */
  stop(): Promise<void>;
  /** Its entry in the status bar, while it runs. */
  status?: { name: string; provider: StatusProvider };
}

/** What the app gathers from every capability and gives each capability's services. */
export interface ServiceContext {
  /** Every capability's outbox channels (`outboxChannels`), for the outbox drainer. */
  outboxChannels: readonly OutboxChannel[];
  /** Every capability's backlog figures now (what `GET /api/backlog` answers), for the region heartbeat. */
  backlog(): Promise<BacklogFigure[]>;
}

/** One command-line flag of `steadfast serve`, e.g. `--mllp-port <port>`. */
export interface CliFlag {
  /** commander syntax: '--mllp-port <port>' or '--mllp-tls'. */
  flags: string;
  description: string;
}

export interface CapabilityCli {
  flags: CliFlag[];
  /**
   * Turn the parsed flags (camel-cased by commander: `mllpPort`) into this capability's options;
   * throws a SteadfastError naming the flag and the fix for a bad value.
   */
  configure(values: Record<string, unknown>, node: { role: NodeRole; dataDir: string; dialect: 'sqlite' | 'postgres' }): Partial<CapabilityOptions>;
}

export interface Capability {
  name: string;
  /** Schema changes of the capability's own tables (global names; the store applies them in name order). */
  migrations?: readonly Migration[];
  /** Routes, hooks and parsers, registered in the order of capabilities.ts. */
  routes?(app: FastifyInstance, deps: AppDeps): Promise<void>;
  /** Background services: started when the app is ready (before it listens), stopped (drained) when it closes. */
  services?(deps: AppDeps, log: FastifyBaseLogger, context: ServiceContext): BackgroundService[] | Promise<BackgroundService[]>;
  /** Status-bar entries that exist as long as the capability does (by name). */
  status?(deps: AppDeps): Record<string, StatusProvider>;
  /** What is waiting (counts only, never patient data): for the status bar, `GET /api/backlog` and the hub. */
  backlog?(deps: AppDeps): Promise<BacklogFigure[]>;
  /** Flags of `steadfast serve` that set this capability's options. */
  cli?: CapabilityCli;
  /**
   * The ways out of the node this capability owns (outbox/contract.ts), e.g. pathology's HL7 order
   * channel or messaging's GOV.UK Notify channels. The outbox capability's drainer delivers through them.
   */
  outboxChannels?(deps: AppDeps): OutboxChannel[];
}
