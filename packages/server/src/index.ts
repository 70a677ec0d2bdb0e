export { buildApp, DEFAULT_BODY_LIMIT, type AppConfig, type AppDeps } from './app.ts';
export { capabilities, type Capability } from './capabilities.ts';
export { migrations } from './migrations.ts';
export { openNode, type OpenedNode, type OpenNodeOptions } from './node/open.ts';
export { loadOrCreateIdentity, resolveDataDir, DEFAULT_PRACTICE, type NodeIdentity, type NodeRole } from './node/identity.ts';
export { requireRole, userOf, SESSION_COOKIE, type SessionUser } from './auth/index.ts';
export { Accounts } from './auth/accounts.ts';
export { AuditLog, actorOf, type AuditInput, type AuditActor } from './audit/index.ts';
export { FHIR_JSON, outcomeFor } from './http/errors.ts';
