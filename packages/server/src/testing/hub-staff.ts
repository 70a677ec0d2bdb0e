/**
 * The regional hub for tests: an account of a hub role enrolled in two-factor sign-in, and a signed
 * heartbeat posted as a node would (for browser tests that need practices on the region page).
 */
import pg from 'pg';
import { TEST_PG_URL } from '@steadfast/store/testing';
import { HEARTBEAT_CONTENT_TYPE, HEARTBEAT_PATH, type Heartbeat, type HubRole } from '@steadfast/domain/region';
import type { RunningHub } from '../hub/index.ts';
import { firstSignIn } from '../region/hub-accounts.ts';
import { HEADER_DIGEST, HEADER_NODE, HEADER_SIGNATURE, sha256, signRequest } from '../sync/protocol.ts';

export { startHub, type RunningHub } from '../hub/index.ts';

export const HUB_STAFF_PASSWORD = 'a long enough hub password';

/** Create `username` with `role` at the hub, sign in, enrol and confirm two-factor: the session token and the secret. */
export async function hubStaffAccount(hub: RunningHub, username: string, role: HubRole): Promise<{ token: string; secret: string }> {
  await hub.staff.accounts.addUser({ username, password: HUB_STAFF_PASSWORD, role, name: `Test ${role}` });
  return firstSignIn(hub.url, username, HUB_STAFF_PASSWORD);
}

export async function hubStaffToken(hub: RunningHub, username: string, role: HubRole): Promise<string> {
  return (await hubStaffAccount(hub, username, role)).token;
}

/** A heartbeat with every field, for `practice`/`nodeId`, sent now; override what the test is about. */
/** One start time for every test heartbeat, so consecutive ones do not look like a restart. */
const STARTED_AT = new Date(Date.now() - 3600_000).toISOString();

export function testHeartbeat(practice: string, nodeId: string, seq: number, over: Partial<Heartbeat> = {}): Heartbeat {
  const now = new Date().toISOString();
  return {
    protocol: 1, practice, nodeId, seq, sentAt: now, reason: 'idle', version: '0.1.0', startedAt: STARTED_AT,
    standby: { configured: false, up: false, lastExchangeAt: null },
    hub: { reachable: true, lastExchangeAt: now },
    disk: { freeBytes: 60e9, totalBytes: 100e9 },
    backlog: [],
    ...over,
  };
}

/** POST a heartbeat signed with the node's key, as the node's sender does; returns the status. */
export async function postHeartbeat(hubUrl: string, key: string, heartbeat: Heartbeat): Promise<number> {
  const body = Buffer.from(JSON.stringify(heartbeat));
  const digest = sha256(body);
  const res = await fetch(`${hubUrl}${HEARTBEAT_PATH}`, {
    method: 'POST',
    headers: { 'content-type': HEARTBEAT_CONTENT_TYPE, [HEADER_NODE]: heartbeat.nodeId, [HEADER_DIGEST]: digest, [HEADER_SIGNATURE]: signRequest(key, 'POST', HEARTBEAT_PATH, heartbeat.nodeId, digest) },
    body: new Uint8Array(body),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Drop a test hub's PostgreSQL schema (after `hub.close()`). */
export async function dropHubSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
