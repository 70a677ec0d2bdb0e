/**
 * What other packages' tests may use from the server (`@steadfast/server/testing`): a real node on
 * loopback with signed-in users, the pathology helpers the web app's e2e tests use to put a result
 * in the inbox, and the two-factor codes a browser test types. Tests outside packages/server import this, never the server's src by path.
 */
export * from './harness.ts';
export { buildOru } from './hl7-fixtures.ts';
export { ingestHl7 } from '../pathology/ingest.ts';
export { TwoFactor } from '../auth/twofactor.ts';
export { startFakeNotify, DEFAULT_TEMPLATES as NOTIFY_TEMPLATES, DEMO_TEST_KEY, type FakeNotify } from '../messaging/fake-notify/server.ts';
