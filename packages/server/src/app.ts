/**
 * The HTTP application of a practice node or hub: fastify with one error handler, the auth hook, and
 * every capability registered from capabilities.ts. Opening the store and listening live elsewhere
 * (http/node.ts, cli/serve.ts, testing/harness.ts) so that tests can build the app around any store.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import type { RecordStore } from '@steadfast/store';
import type { AuditLog } from './audit/log.ts';
import type { Accounts } from './auth/accounts.ts';
import { installAuthHook } from './auth/index.ts';
import { capabilities, type Capability } from './capabilities.ts';
import { registerErrorHandling } from './http/errors.ts';
import { installCrossSiteCheck, registerBodyParsers, registerSecurityHeaders } from './http/security.ts';
import type { NodeRole } from './http/config.ts';
import type { LabConnection } from './pathology/orm.ts';
import type { SignInRateLimit } from './auth/sign-in.ts';
import type { MllpLimits } from './pathology/mllp.ts';
import type { TlsMaterial } from './http/tls.ts';
import type { BreakGlassConfig } from './breakglass/grants.ts';
import type { BackupConfig } from './atrest/index.ts';

export interface AppConfig {
  /** ODS code of the practice. */
  practice: string;
  nodeId: string;
  role: NodeRole;
  /** The data directory (files other than the database may live here), when there is one. */
  dataDir?: string;
  /** Largest request body accepted, in bytes (default 5 MB); larger bodies get 413. */
  bodyLimit?: number;
  /** Port of the HL7 MLLP listener, when one should run (pathology). */
  mllpPort?: number;
  /** Address the MLLP listener binds to (default 0.0.0.0, so a laboratory link can reach it). */
  mllpHost?: string;
  /** Idle timeout, connection cap and address allow-list of the MLLP listener (pathology). */
  mllpLimits?: MllpLimits;
  /** Run the MLLP listener inside TLS with the node's certificate (`tls` must be set). */
  mllpTls?: boolean;
  /** A folder watched for HL7 v2 result files (pathology), when the laboratory delivers files. */
  pathologyDropDir?: string;
  /** Where HL7 v2 orders are sent over MLLP (pathology), when the practice has a lab link. */
  pathologyLab?: LabConnection;
  /** How often the order outbox retries (default 5 s). */
  pathologyOutboxIntervalMs?: number;
  /** Sign-in attempts per client address and window (auth; default 30 a minute). */
  signInRateLimit?: SignInRateLimit;
  /**
   * Practice administrators must enrol in two-factor sign-in before anything else (default true).
   * Only the test harness turns it off, for suites that drive the API as an administrator by password.
   */
  requireTwoFactorForAdmins?: boolean;
  /** Break-glass grant lengths and clock (defaults: 30 minutes, at most 4 hours). */
  breakGlass?: BreakGlassConfig;
  /** Log requests (pino) to stdout. */
  logger?: boolean;
  /** The node's certificate and key (http/tls.ts): HTTPS only, with HSTS. */
  tls?: TlsMaterial;
  /** Scheduled backups of a SQLite practice node (atrest); none when absent. */
  backup?: BackupConfig;
}

export interface AppDeps {
  store: RecordStore;
  config: AppConfig;
  audit: AuditLog;
  accounts: Accounts;
}

export const DEFAULT_BODY_LIMIT = 5 * 1024 * 1024;

export async function buildApp(deps: AppDeps, options: { capabilities?: Capability[] } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: deps.config.bodyLimit ?? DEFAULT_BODY_LIMIT,
    logger: deps.config.logger ? { level: 'info' } : false,
    // Search parameters repeat (date=ge..&date=le..) and carry commas; parse them as FHIR expects.
    routerOptions: { maxParamLength: 200 },
    forceCloseConnections: true,
    ...(deps.config.tls ? { https: { cert: deps.config.tls.cert, key: deps.config.tls.key } } : {}),
  }) as unknown as FastifyInstance;
  registerErrorHandling(app);
  // JSON and FHIR JSON only, depth-limited; no text/plain (http/security.ts).
  registerBodyParsers(app);
  await registerSecurityHeaders(app);
  await app.register(cookie);
  installCrossSiteCheck(app);
  installAuthHook(app, deps.accounts);
  for (const capability of options.capabilities ?? capabilities) {
    await capability.register(app, deps);
  }
  return app;
}
