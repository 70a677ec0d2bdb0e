/**
 * A real node for tests: a temp data dir with SQLite (or a fresh PostgreSQL schema), the full app
 * listening on 127.0.0.1 port 0, and one user per role.
 *
 *   const node = await startTestNode();
 *   const res = await node.fetchAs('clinician', '/fhir/R4/Patient?name=smi');
 *   await node.close();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import type { Resource } from '@medplum/fhirtypes';
import type { Role } from '@steadfast/domain';
import type { RecordStore } from '@steadfast/store';
import { buildApp } from '../app.ts';
import type { AppConfig, AppDeps } from '../capability.ts';
import type { Capability } from '../capabilities.ts';
import { appDepsOf, openNode, type OpenedNode } from '../node/open.ts';
import type { AuditLog } from '../audit/log.ts';
import type { Accounts, User } from '../auth/accounts.ts';

// One definition of "is PostgreSQL here, and must it be" for every test suite.
import { PG_SKIP_REASON, postgresAvailable, TEST_PG_URL } from '@steadfast/store/testing';
export { PG_SKIP_REASON, postgresAvailable, TEST_PG_URL };

export const TEST_PASSWORD = 'correct horse battery';
export const testUsernames: Record<Role, string> = { receptionist: 'rita', clinician: 'dr.chen', 'practice-admin': 'pam' };

export interface TestNodeOptions {
  backend?: 'sqlite' | 'postgres';
  /** Only these capabilities (default: all of capabilities.ts). */
  capabilities?: Capability[];
  bodyLimit?: number;
  practice?: string;
  /** Extra config for capabilities. */
  config?: Partial<AppConfig>;
}

export interface TestNode {
  url: string;
  dataDir: string;
  store: RecordStore;
  audit: AuditLog;
  accounts: Accounts;
  app: FastifyInstance;
  deps: AppDeps;
  node: OpenedNode;
  users: Record<Role, User>;
  /** Sign in as the test user of a role; returns the bearer token (cached per role). */
  login(role: Role): Promise<string>;
  /** fetch against the node as the test user of a role (JSON bodies are sent as application/fhir+json). */
  fetchAs(role: Role, path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  /** fetch with no credentials. */
  fetch(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  /** POST a resource as a role and return the stored resource (throws on a non-2xx answer). */
  create<T extends Resource>(role: Role, resource: T): Promise<T & { id: string }>;
  close(): Promise<void>;
}

let schemaCounter = 0;

function withJson(init: (RequestInit & { json?: unknown }) | undefined): RequestInit {
  if (!init || init.json === undefined) return init ?? {};
  const { json, headers, ...rest } = init;
  return { ...rest, headers: { 'content-type': 'application/fhir+json', ...(headers as Record<string, string> | undefined) }, body: JSON.stringify(json) };
}

export async function startTestNode(options: TestNodeOptions = {}): Promise<TestNode> {
  const backend = options.backend ?? 'sqlite';
  const dataDir = mkdtempSync(join(tmpdir(), 'steadfast-node-'));
  const pgSchema = backend === 'postgres' ? `t_srv_${process.pid}_${Date.now().toString(36)}_${schemaCounter++}` : undefined;
  const node = await openNode({
    dataDir,
    ...(options.practice ? { practice: options.practice } : {}),
    ...(pgSchema ? { databaseUrl: TEST_PG_URL, pgSchema } : {}),
  });
  // Tests sign in far more often than a workstation does (the rate-limit tests set their own limit),
  // and drive the API as the practice administrator by password (two-factor tests turn that back on).
  const deps: AppDeps = appDepsOf(node, {
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    ...options.config,
    auth: { signInRateLimit: { max: 100_000, windowMs: 60_000 }, requireTwoFactorForAdmins: false, ...options.config?.auth },
  });
  const app = await buildApp(deps, options.capabilities ? { capabilities: options.capabilities } : {});
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('test node did not get a TCP port');
  const url = `http://127.0.0.1:${address.port}`;

  const users = {} as Record<Role, User>;
  for (const role of ['receptionist', 'clinician', 'practice-admin'] as const) {
    users[role] = await node.accounts.addUser({ username: testUsernames[role], password: TEST_PASSWORD, role, name: `Test ${role}` });
  }

  const tokens = new Map<Role, string>();
  async function login(role: Role): Promise<string> {
    const cached = tokens.get(role);
    if (cached) return cached;
    const res = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-steadfast-workstation': `test-${role}` },
      body: JSON.stringify({ username: testUsernames[role], password: TEST_PASSWORD }),
    });
    if (res.status !== 200) throw new Error(`login as ${role} failed: ${res.status} ${await res.text()}`);
    const { token } = (await res.json()) as { token: string };
    tokens.set(role, token);
    return token;
  }

  async function fetchAs(role: Role, path: string, init?: RequestInit & { json?: unknown }): Promise<Response> {
    const token = await login(role);
    const req = withJson(init);
    return fetch(`${url}${path}`, { ...req, headers: { authorization: `Bearer ${token}`, ...(req.headers as Record<string, string> | undefined) } });
  }

  let closed = false;
  return {
    url,
    dataDir,
    store: node.store,
    audit: node.audit,
    accounts: node.accounts,
    app,
    deps,
    node,
    users,
    login,
    fetchAs,
    fetch: (path, init) => fetch(`${url}${path}`, withJson(init)),
    async create<T extends Resource>(role: Role, resource: T) {
      const res = await fetchAs(role, `/fhir/R4/${resource.resourceType}`, { method: 'POST', json: resource });
      // The server's answer is JSON: this helper asserts it is the resource it created (checked by status below).
      const body = (await res.json()) as T & { id: string };
      if (res.status !== 201 && res.status !== 200) throw new Error(`create ${resource.resourceType} as ${role} failed: ${res.status} ${JSON.stringify(body)}`);
      return body;
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await node.close();
      if (pgSchema) {
        const client = new pg.Client({ connectionString: TEST_PG_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
        await client.end();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Run a suite body against SQLite, and PostgreSQL when reachable (required under CI=true). */
export async function backends(): Promise<Array<{ backend: 'sqlite' | 'postgres'; skip: string | false }>> {
  const pgOk = await postgresAvailable();
  return [
    { backend: 'sqlite', skip: false },
    { backend: 'postgres', skip: pgOk ? false : PG_SKIP_REASON },
  ];
}
