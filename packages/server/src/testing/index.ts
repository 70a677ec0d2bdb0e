/**
 * What other packages' tests may use from the server (`@steadfast/server/testing`): a real node on
 * loopback with signed-in users, the pathology helpers the web app's e2e tests use to put a result
 * in the inbox, the two-factor codes a browser test types, and a regional hub with hub staff and heartbeats. Tests outside packages/server import this, never the server's src by path.
 */
export * from './harness.ts';
export { buildOru } from './hl7-fixtures.ts';
export { ingestHl7 } from '../pathology/ingest.ts';
export { TwoFactor } from '../auth/twofactor.ts';
// The local GOV.UK Notify server, for browser tests that send messages through the real client.
export { DEFAULT_TEMPLATES as NOTIFY_TEMPLATES, DEMO_TEST_KEY, startFakeNotify, type FakeNotify } from '../messaging/fake-notify/server.ts';
export { letterPdf, insertSyntheticDocuments, ALEX as LETTER_PATIENT } from '../documents/fixtures.ts';
export * from './hub-staff.ts';
export { newNodeKey } from '../sync/protocol.ts';
