import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { submissionRecordId } from '@steadfast/domain/online-consultations';
import { startTestNode, postgresAvailable, PG_SKIP_REASON, type TestNode } from '../testing/harness.ts';
import { onlineConsultations } from './index.ts';
import { ALWAYS_OPEN, PNG_1x1, sampleSubmission, submitFrom } from './fixtures.ts';

const PRACTICE = 'B82005';
const pgUp = await postgresAvailable();
const path = `/api/public/online-consultations/${PRACTICE}`;

const submit = (node: TestNode, body: unknown, client: { client: number } = { client: 1 }) => submitFrom(node.url, body, client.client, path);

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`online consultations on ${backend}`, { skip: backend === 'postgres' && !pgUp ? PG_SKIP_REASON : false }, () => {
    let node: TestNode;
    before(async () => {
      node = await startTestNode({ backend, practice: PRACTICE, config: { onlineConsultations: { ...ALWAYS_OPEN, rateLimit: { max: 5, windowMs: 60_000 } } } });
    });
    after(async () => node?.close());
    const ip = (n: number) => ({ client: n });

    test('opening and questionnaire are public; a submission is stored as a QuestionnaireResponse with its photo and answered with its reference', async () => {
      const opening = (await (await fetch(`${node.url}${path}/opening`)).json()) as any;
      assert.equal(opening.open, true);
      assert.equal(opening.answeredBy, 'node');
      assert.equal(((await (await fetch(`${node.url}${path}/questionnaire`)).json()) as any).version, '1.0.0');
      const s = sampleSubmission({ photos: [{ contentType: 'image/png', data: PNG_1x1, filename: 'rash.png' }] });
      const r = await submit(node, s);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.match(r.body.reference, /^OC-/);
      const qr = await node.store.read('QuestionnaireResponse', submissionRecordId(PRACTICE, s.submissionId));
      assert.ok(qr, 'stored before it was acknowledged');
      const list = (await (await node.fetchAs('receptionist', '/api/online-consultations')).json()) as any;
      const item = list.items.find((i: any) => i.reference === r.body.reference);
      assert.ok(item);
      const detail = (await (await node.fetchAs('clinician', `/api/online-consultations/${item.id}`)).json()) as any;
      assert.equal(detail.photos.length, 1);
      const photo = await node.fetchAs('clinician', `/api/online-consultations/${item.id}/photos/${detail.photos[0].id}`);
      assert.equal(photo.headers.get('content-type'), 'image/png');
      assert.equal(photo.headers.get('content-disposition'), 'attachment');
    });

    test('a retry with the same device id is stored once and gets the same reference', async () => {
      const s = sampleSubmission();
      const first = await submit(node, s, ip(2));
      const again = await submit(node, s, ip(2));
      assert.equal(first.status, 201);
      assert.equal(again.status, 200);
      assert.equal(again.body.duplicate, true);
      assert.equal(again.body.reference, first.body.reference);
      const history = await node.store.history('QuestionnaireResponse', submissionRecordId(PRACTICE, s.submissionId));
      assert.equal(history.length, 1);
    });

    test('bad input from the issue: 4xx OperationOutcome naming each field, nothing stored, raw kept', async () => {
      const s = sampleSubmission({
        answers: { duration: 'days', want: 'x' },
        identity: { givenName: 'Ada', familyName: 'Testperson', birthDate: '1984-02-30', postcode: 'LS1 4AP', mobile: '07700 900123', nhsNumber: '9990000019' },
        photos: [{ contentType: 'image/png', data: Buffer.from('%PDF-1.7 not a picture').toString('base64') }],
      });
      const r = await submit(node, s, ip(3));
      assert.equal(r.status, 400);
      assert.equal(r.body.resourceType, 'OperationOutcome');
      const fields = r.body.issue.flatMap((i: any) => i.expression ?? []);
      for (const f of ['answers.symptoms', 'identity.birthDate', 'identity.nhsNumber']) assert.ok(fields.includes(f), `${f} named in ${fields}`);
      assert.equal(await node.store.read('QuestionnaireResponse', submissionRecordId(PRACTICE, s.submissionId)), undefined);
      const kept = await (node.store.db as any).selectFrom('inbox_items').select('state').where('capability', '=', 'online-consultations').where('state', '=', 'quarantined').execute();
      assert.ok(kept.length >= 1, 'the rejected submission is kept raw');
      // Not an image although declared as one: refused by its bytes.
      const fake = await submit(node, sampleSubmission({ photos: [{ contentType: 'image/png', data: Buffer.from('%PDF-1.7 not a picture').toString('base64') }] }), ip(3));
      assert.equal(fake.status, 400);
      assert.deepEqual(fake.body.issue.flatMap((i: any) => i.expression ?? []), ['photos[0]']);
    });

    test('a 30 MB photo is refused with 413 naming photos', async () => {
      const big = sampleSubmission({ photos: [{ contentType: 'image/jpeg', data: Buffer.alloc(30 * 1024 * 1024, 0xff).toString('base64') }] });
      const r = await submit(node, big, ip(4));
      assert.equal(r.status, 413);
      assert.deepEqual(r.body.issue[0].expression, ['photos']);
    });

    test('a script in a text field is stored as inert text and comes back as text', async () => {
      const s = sampleSubmission({ answers: { symptoms: '<script>alert("x")</script>', duration: 'days', want: '<img src=x onerror=alert(1)>' } });
      const r = await submit(node, s, ip(5));
      assert.equal(r.status, 201);
      const detail = (await (await node.fetchAs('clinician', `/api/online-consultations/${submissionRecordId(PRACTICE, s.submissionId)}`)).json()) as any;
      assert.equal(detail.answers.find((a: any) => a.linkId === 'symptoms').answer, '<script>alert("x")</script>');
    });

    test('a flood from one address is limited while another address still gets through', async () => {
      const codes = [];
      for (let i = 0; i < 8; i++) codes.push((await submit(node, sampleSubmission(), ip(66))).status);
      assert.deepEqual(codes.slice(0, 5), [201, 201, 201, 201, 201]);
      assert.ok(codes.slice(5).every((c) => c === 429), codes.join(','));
      assert.equal((await submit(node, sampleSubmission(), ip(67))).status, 201);
    });

    test('triage: red flags first, match proposed and confirmed, triaged, reply queued in the outbox, repeat prescription Task, closed; all audited', async () => {
      const flagged = sampleSubmission({ redFlags: { ...sampleSubmission().redFlags, 'rf-sepsis': true } });
      const r = await submit(node, flagged, ip(7));
      assert.equal(r.body.urgentAdvice.advice, 'call-111');
      const list = (await (await node.fetchAs('receptionist', '/api/online-consultations?limit=2')).json()) as any;
      assert.deepEqual(list.items[0].redFlags, ['rf-sepsis'], 'red-flagged request first');
      assert.ok(list.nextCursor && list.total > 2);
      const page2 = (await (await node.fetchAs('receptionist', `/api/online-consultations?limit=2&cursor=${list.nextCursor}`)).json()) as any;
      assert.ok(!page2.items.some((i: any) => list.items.some((j: any) => j.id === i.id)));
      const id = list.items[0].id;

      const patient = await node.create('receptionist', { resourceType: 'Patient', name: [{ family: 'Testperson', given: ['Ada'] }], birthDate: '1984-03-27', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000018' }] });
      const cands = (await (await node.fetchAs('receptionist', `/api/online-consultations/${id}/match-candidates`)).json()) as any;
      const c = cands.candidates.find((x: any) => x.patientId === patient.id);
      assert.equal(c.proposed, true);
      let d = (await (await node.fetchAs('receptionist', `/api/online-consultations/${id}`)).json()) as any;
      assert.equal(d.matchedPatient, undefined, 'never matched silently');
      d = (await (await node.fetchAs('receptionist', `/api/online-consultations/${id}/match`, { method: 'POST', json: { patientId: patient.id } })).json()) as any;
      assert.equal(d.matchedPatient.id, patient.id);

      // A red-flagged request is clinical: the receptionist (care navigator) routes it, a clinician triages it.
      const refused = await node.fetchAs('receptionist', `/api/online-consultations/${id}/triage`, { method: 'POST', json: { urgency: 'routine' } });
      assert.equal(refused.status, 403);
      assert.match(((await refused.json()) as any).issue[0].diagnostics, /clinical request \(it has red flags\)/);
      const res = await node.fetchAs('clinician', `/api/online-consultations/${id}/triage`, { method: 'POST', json: { category: 'repeat-prescription', urgency: 'soon', assigneeId: node.users.clinician.id } });
      d = await res.json();
      assert.equal(res.status, 200, JSON.stringify(d));
      assert.equal(d.assignee.id, node.users.clinician.id);
      assert.ok(d.prescriptionTaskId);
      assert.ok(await node.store.read('Task', d.prescriptionTaskId));

      const reply = await node.fetchAs('clinician', `/api/online-consultations/${id}/respond`, { method: 'POST', json: { channel: 'sms', text: 'Please collect your prescription tomorrow.' } });
      const rb = (await reply.json()) as any;
      assert.equal(reply.status, 200, JSON.stringify(rb));
      const row = await (node.store.db as any).selectFrom('outbox_messages').selectAll().where('id', '=', rb.messageId).executeTakeFirst();
      assert.equal(row.channel, 'notify-sms');
      assert.deepEqual(JSON.parse(row.payload).to, '+447700900123');
      assert.match(JSON.parse(row.payload).body, /^Please collect your prescription tomorrow\.\n/);
      assert.equal(JSON.parse(row.payload).kind, 'sms');
      // Recorded in the matched patient's record, about this request.
      const delivery = await (node.store.db as any).selectFrom('messaging_deliveries').selectAll().where('outbox_id', '=', rb.messageId).executeTakeFirst();
      assert.equal(delivery.patient_id, patient.id);
      const comm = (await node.store.read('Communication', delivery.communication_id))!.resource as any;
      assert.equal(comm.subject.reference, `Patient/${patient.id}`);
      assert.deepEqual(comm.about, [{ reference: `QuestionnaireResponse/${id}` }]);

      const bad = await node.fetchAs('receptionist', `/api/online-consultations/${id}/close`, { method: 'POST', json: { outcome: 'whatever' } });
      assert.equal(bad.status, 400);
      assert.equal((await node.fetchAs('receptionist', `/api/online-consultations/${id}/close`, { method: 'POST', json: { outcome: 'prescription-issued' } })).status, 403);
      d = await (await node.fetchAs('clinician', `/api/online-consultations/${id}/close`, { method: 'POST', json: { outcome: 'prescription-issued' } })).json();
      assert.equal(d.status, 'closed');
      assert.deepEqual(d.history.map((h: any) => h.action), ['received', 'matched', 'triaged', 'responded', 'closed']);
      const trail = await node.audit.list({});
      assert.ok(trail.some((e: any) => e.detail?.includes('online consultation responded')));
      assert.equal((await node.fetch('/api/online-consultations')).status, 401, 'staff only');
    });

    test('care navigation over HTTP: a receptionist deals with an admin request end to end, and only routes a medical one', async () => {
      const adminReq = sampleSubmission({ kind: 'admin', answers: { 'admin-type': 'fit-note', details: 'I need a fit note for work' } });
      const medical = sampleSubmission();
      assert.equal((await submit(node, adminReq, ip(9))).status, 201);
      assert.equal((await submit(node, medical, ip(9))).status, 201);
      const adminId = submissionRecordId(PRACTICE, adminReq.submissionId);
      const medicalId = submissionRecordId(PRACTICE, medical.submissionId);
      const patient = await node.create('receptionist', { resourceType: 'Patient', name: [{ family: 'Testperson', given: ['Ada'] }], birthDate: '1984-03-27' });
      const post = (role: 'receptionist' | 'clinician', id: string, what: string, json: unknown) => node.fetchAs(role, `/api/online-consultations/${id}/${what}`, { method: 'POST', json });
      for (const id of [adminId, medicalId]) assert.equal((await post('receptionist', id, 'match', { patientId: patient.id })).status, 200);
      // Admin: categorise, reply with a template, close.
      assert.equal((await post('receptionist', adminId, 'triage', { category: 'fit-note', urgency: 'routine' })).status, 200);
      const replied = await post('receptionist', adminId, 'respond', { channel: 'email', template: 'oc-will-call' });
      assert.equal(replied.status, 200, await replied.clone().text());
      const outbox = await (node.store.db as any).selectFrom('outbox_messages').selectAll().where('id', '=', ((await replied.json()) as any).messageId).executeTakeFirst();
      const payload = JSON.parse(outbox.payload);
      assert.equal(payload.to, 'ada@example.com');
      assert.match(payload.body, /^Dear Ada, about your online request OC-/);
      assert.equal((await post('receptionist', adminId, 'close', { outcome: 'advice-given' })).status, 200);
      // Medical: assign to a clinician yes; urgency, category, reply, close no.
      assert.equal((await post('receptionist', medicalId, 'triage', { assigneeId: node.users.clinician.id })).status, 200);
      for (const [what, json] of [['triage', { urgency: 'soon' }], ['triage', { category: 'fit-note' }], ['triage', { assigneeId: node.users.clinician.id, urgency: 'soon' }], ['respond', { channel: 'sms', template: 'oc-self-care' }], ['close', { outcome: 'no-action' }]] as const) {
        assert.equal((await post('receptionist', medicalId, what, json)).status, 403, `${what} ${JSON.stringify(json)}`);
      }
      // Free text is checked like every message to a patient (no links), naming the field.
      const link = await post('clinician', medicalId, 'respond', { channel: 'sms', text: 'See https://example.com' });
      assert.equal(link.status, 400);
      assert.deepEqual(((await link.json()) as any).issue[0].expression, ['text']);
      assert.equal((await post('clinician', medicalId, 'respond', { channel: 'sms', template: 'no-such' })).status, 400);
    });

    test('a reply goes to the contact details on the request, never to those on the matched record (reply to the wrong patient)', async () => {
      const s = sampleSubmission({ identity: { ...sampleSubmission().identity, mobile: '07700 900456', email: 'asker@example.com' } });
      await submit(node, s, ip(10));
      const id = submissionRecordId(PRACTICE, s.submissionId);
      const unmatched = await node.fetchAs('clinician', `/api/online-consultations/${id}/respond`, { method: 'POST', json: { channel: 'sms', template: 'oc-please-book' } });
      assert.equal(unmatched.status, 400, 'no reply before a person has matched the request');
      const other = await node.create('receptionist', { resourceType: 'Patient', name: [{ family: 'Testperson', given: ['Ada'] }], birthDate: '1984-03-27', telecom: [{ system: 'phone', use: 'mobile', value: '07700 900999' }, { system: 'email', value: 'record@example.com' }] });
      await node.fetchAs('receptionist', `/api/online-consultations/${id}/match`, { method: 'POST', json: { patientId: other.id } });
      const r = (await (await node.fetchAs('clinician', `/api/online-consultations/${id}/respond`, { method: 'POST', json: { channel: 'sms', template: 'oc-please-book' } })).json()) as any;
      const row = await (node.store.db as any).selectFrom('outbox_messages').selectAll().where('id', '=', r.messageId).executeTakeFirst();
      assert.equal(JSON.parse(row.payload).to, '+447700900456');
      assert.equal(r.toMasked, '+4477*****456');
    });

    test('consultation from a request (clinician) and backlog figures', async () => {
      const s = sampleSubmission();
      await submit(node, s, ip(8));
      const id = submissionRecordId(PRACTICE, s.submissionId);
      const refused = await node.fetchAs('clinician', `/api/online-consultations/${id}/consult`, { method: 'POST', json: {} });
      assert.equal(refused.status, 400, 'must be matched first');
      const p = await node.create('receptionist', { resourceType: 'Patient', name: [{ family: 'Testperson', given: ['Ada'] }], birthDate: '1984-03-27' });
      await node.fetchAs('receptionist', `/api/online-consultations/${id}/match`, { method: 'POST', json: { patientId: p.id } });
      assert.equal((await node.fetchAs('receptionist', `/api/online-consultations/${id}/consult`, { method: 'POST', json: {} })).status, 403);
      const c = (await (await node.fetchAs('clinician', `/api/online-consultations/${id}/consult`, { method: 'POST', json: {} })).json()) as any;
      assert.ok(await node.store.read('Encounter', c.encounterId), JSON.stringify(c));
      const backlog = (await (await node.fetchAs('receptionist', '/api/online-consultations/backlog')).json()) as any;
      assert.ok(backlog.untriaged >= 1 && backlog.oldestUntriaged, JSON.stringify(backlog));
      // The capability's figure for GET /api/backlog and the hub (called directly: /api/backlog on this
      // branch fails on the tasks capability's _count=10000, a defect outside this capability).
      const figures = await onlineConsultations.backlog!(node.deps);
      assert.deepEqual(figures.filter((f) => f.kind === 'consultations-untriaged').map((f) => f.count), [backlog.untriaged]);
    });
  });
}

test('outside opening hours a submission is refused with the closed message and urgent advice', async () => {
  const node = await startTestNode({ practice: PRACTICE, config: { onlineConsultations: { hours: [], closedMessage: 'Closed for the holiday' } } });
  try {
    const opening = (await (await fetch(`${node.url}${path}/opening`)).json()) as any;
    assert.equal(opening.open, false);
    assert.equal(opening.closedReason, 'hours');
    const r = await submit(node, sampleSubmission());
    assert.equal(r.status, 503);
    assert.match(r.body.issue[0].diagnostics, /Closed for the holiday.*111/);
  } finally {
    await node.close();
  }
});

test('an urgent request left in a queue: counts and oldest age in the backlog figures and the status bar, which turns degraded past the threshold', async () => {
  const node = await startTestNode({ practice: PRACTICE, config: { onlineConsultations: { ...ALWAYS_OPEN, urgentThresholdMinutes: 0 } } });
  try {
    const routine = sampleSubmission();
    const flagged = sampleSubmission({ redFlags: { ...sampleSubmission().redFlags, 'rf-sepsis': true } });
    const first = await submit(node, routine);
    await submit(node, flagged);
    const figures = await onlineConsultations.backlog!(node.deps);
    const byKind = Object.fromEntries(figures.map((f) => [f.kind, f]));
    assert.equal(byKind['consultations-untriaged']!.count, 2);
    assert.equal(byKind['consultations-untriaged']!.oldest, first.body.receivedAt, 'the oldest is the first received');
    assert.equal(byKind['consultations-urgent-open']!.count, 1);
    await new Promise((r) => setTimeout(r, 5));
    const status = (await (await node.fetchAs('receptionist', '/api/status')).json()) as { services: Array<{ name: string; state: string; queued?: number; detail?: string }> };
    const entry = status.services.find((s) => s.name === 'online-consultations')!;
    assert.equal(entry.queued, 2);
    assert.equal(entry.state, 'degraded');
    assert.match(entry.detail ?? '', /1 urgent request\(s\) waiting over 0 minutes/);
    // Triaging without closing keeps the urgent one counted until it is closed.
    const id = submissionRecordId(PRACTICE, flagged.submissionId);
    await node.fetchAs('clinician', `/api/online-consultations/${id}/triage`, { method: 'POST', json: { urgency: 'urgent' } });
    const after1 = Object.fromEntries((await onlineConsultations.backlog!(node.deps)).map((f) => [f.kind, f.count]));
    assert.deepEqual([after1['consultations-untriaged'], after1['consultations-urgent-open']], [1, 1]);
    await node.fetchAs('clinician', `/api/online-consultations/${id}/close`, { method: 'POST', json: { outcome: 'advice-given' } });
    const after2 = Object.fromEntries((await onlineConsultations.backlog!(node.deps)).map((f) => [f.kind, f.count]));
    assert.equal(after2['consultations-urgent-open'], 0);
  } finally {
    await node.close();
  }
});
