/**
 * The hub's side of online consultations (real hub on PostgreSQL): it serves the patient's form for
 * every practice it knows (so a patient whose practice node cannot be reached can still ask), and its
 * write check lets it create submissions only: no triage writes meant for the practice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import { submissionRecordId } from '@steadfast/domain/online-consultations';
import { postgresAvailable, PG_SKIP_REASON, TEST_PG_URL } from '../testing/harness.ts';
import { startHub, type RunningHub } from '../hub/index.ts';
import { PATIENT_WEB_DIST } from '../webapp/patient-form.ts';
import { ALWAYS_OPEN, sampleSubmission, submitFrom } from './fixtures.ts';
import { dropHubSchema } from '../testing/hub-staff.ts';

const available = await postgresAvailable();
const PRACTICE = 'D81001';
const path = `/api/public/online-consultations/${PRACTICE}`;

describe('online consultations at the hub (real hub on PostgreSQL)', { skip: available ? false : PG_SKIP_REASON }, () => {
  let hub: RunningHub;
  const schema = `oc_hubw_${process.pid}_${Date.now().toString(36)}`;

  before(async () => {
    hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0, onlineConsultations: ALWAYS_OPEN });
    await hub.addNode(PRACTICE, 'node-d81001-1');
  });
  after(async () => {
    await hub?.close();
    await dropHubSchema(schema);
  });

  test('the hub serves the patient form at /consult/<practice>/ with its assets and the staff app\u2019s security headers', async () => {
    const page = await fetch(`${hub.url}/consult/${PRACTICE}/`);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const built = existsSync(join(PATIENT_WEB_DIST, 'index.html'));
    if (!built) {
      assert.equal(page.status, 503, 'explains that the form is not built');
      return;
    }
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.equal(html, readFileSync(join(PATIENT_WEB_DIST, 'index.html'), 'utf8'));
    const asset = /src="(\/consult\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, html);
    const js = await fetch(`${hub.url}${asset}`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.equal((await fetch(`${hub.url}/consult/${PRACTICE}`, { redirect: 'manual' })).status, 302);
  });

  test('a hub must not accept triage writes meant for the practice: only new submissions are written; no triage routes', async () => {
    const s = sampleSubmission();
    const taken = await submitFrom(hub.url, s, 1, path);
    assert.equal(taken.status, 201, JSON.stringify(taken.body));
    const store = (await hub.storeFor(PRACTICE))!;
    const id = submissionRecordId(PRACTICE, s.submissionId);
    const stored = (await store.read('QuestionnaireResponse', id))!;
    const refusedWith = async (fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        return (err as { code?: string; message?: string });
      }
      assert.fail('the hub accepted the write');
    };
    // A match (or any change) to a request that exists.
    const match = await refusedWith(() => store.write([{ kind: 'update', resource: { ...(stored.resource as QuestionnaireResponse), subject: { reference: 'Patient/x' } }, ifMatch: stored.versionId }], { author: 'test' }));
    assert.equal(match.code, 'forbidden');
    assert.match(match.message ?? '', /match to a registered patient/);
    const change = await refusedWith(() => store.write([{ kind: 'update', resource: { ...(stored.resource as QuestionnaireResponse), status: 'amended' }, ifMatch: stored.versionId }], { author: 'test' }));
    assert.match(change.message ?? '', /already exists/);
    // A Task, a delete, an Encounter: practice work.
    assert.match((await refusedWith(() => store.write([{ kind: 'create', resource: { resourceType: 'Task', status: 'requested', intent: 'order' } }], { author: 'test' }))).message ?? '', /Task resources/);
    assert.match((await refusedWith(() => store.write([{ kind: 'delete', resourceType: 'QuestionnaireResponse', id }], { author: 'test' }))).message ?? '', /deletes/);
    assert.equal((await store.history('QuestionnaireResponse', id)).length, 1, 'nothing was changed');
    // The triage API is the practice's: the hub has none.
    const triage = await fetch(`${hub.url}/api/online-consultations/${id}/triage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ urgency: 'routine' }) });
    assert.equal(triage.status, 404);
  });
});
