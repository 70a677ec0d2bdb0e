/**
 * Prescriptions out against a real node (SQLite, and PostgreSQL where it runs), the one outbox and the
 * local EPS server over real sockets (the production client talks to it): queued while EPS is down,
 * drained once when it returns, a duplicate send is not a second prescription, a lost answer is not a
 * second prescription, bad input is refused with EPS's OperationOutcome; printing withdraws the EPS
 * message, a sent prescription is not printed, a reprint is a copy; the form's text and barcode.
 */
import { DMD_SYSTEM } from '@steadfast/domain/medicines';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, MedicationRequest, Organization, Patient } from '@medplum/fhirtypes';
import { testNhsNumber } from '@steadfast/domain/nhs-number';
import { createOutboxDrainer, type OutboxDrainer } from '../outbox/drainer.ts';
import { odb } from '../outbox/tables.ts';
import { backends, startTestNode, type TestNode } from '../testing/harness.ts';
import { startFakeEps, type FakeEps } from '../testing/fake-eps.ts';
import { buildEpsMessage, epsChannel, prescriberOfIssue } from './eps.ts';
import { checkEpsMessage, EPS_PROCESS_PATH } from './eps-contract.ts';
import { catchUpEpsQueue, epsChannelHooks, practiceOrgOf, queueIssueForEps } from './prescriptions-out.ts';
import { outdb } from './out-tables.ts';
import { EPS_PATIENT, issueFor } from './out-fixtures.ts';

const hasTools = spawnSync('pdftoppm', ['-v']).status === 0 && spawnSync('zbarimg', ['--version']).status === 0 && spawnSync('pdftotext', ['-v']).status === 0;

for (const { backend, skip } of await backends()) {
  describe(`prescriptions out (${backend})`, { skip }, () => {
    let node: TestNode;
    let eps: FakeEps;
    let drainer: OutboxDrainer;
    let patientId: string;
    let clock = Date.parse('2026-12-04T10:20:00Z');
    const now = () => new Date(clock);
    const dir = mkdtempSync(join(tmpdir(), 'steadfast-fp10-'));

    before(async () => {
      eps = await startFakeEps({ token: 'eps-test-token' });
      node = await startTestNode({
        backend,
        config: { outbox: { disabled: true }, prescriptionsOut: { eps: { baseUrl: eps.url, token: 'eps-test-token', timeoutMs: 1_000 }, queueDisabled: true } },
      });
      const org: Organization = { resourceType: 'Organization', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: node.store.practice }], name: 'Hallgarth Surgery', address: [{ line: ['Cheapside'], city: 'Shildon', postalCode: 'DL4 2HP' }], telecom: [{ system: 'phone', value: '01388 777000' }] };
      await node.create('practice-admin', org);
      patientId = (await node.create('clinician', EPS_PATIENT)).id;
      const channel = epsChannel(node.deps.config.prescriptionsOut!.eps!, { ...epsChannelHooks(node.store, now), now });
      drainer = createOutboxDrainer(node.store.db, node.store.practice, [channel], { now, random: () => 0.5 });
    });
    after(async () => {
      await node?.close();
      await eps?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    async function issue(overrides: Partial<MedicationRequest> = {}): Promise<MedicationRequest & { id: string }> {
      return node.create('clinician', issueFor(patientId, node.users.clinician, node.store.practice, overrides));
    }
    const status = async (id: string) => (await (await node.fetchAs('clinician', `/api/prescriptions/${id}`)).json()) as { eps: string; prescriptionId: string; lastError?: string; printCount: number };
    const later = (ms: number) => {
      clock += ms;
    };

    it('regression: a prescription the prescribing route coded with dm+d failed the EPS contract (no SNOMED CT code for the medicine)', async () => {
      // Not written to the node (the other tests count what it sends): the message is built from it alone.
      const mr = { ...issueFor(patientId, node.users.clinician, node.store.practice, { medicationCodeableConcept: { coding: [{ system: DMD_SYSTEM, code: '323509004', display: 'Amoxicillin 500mg capsules' }], text: 'Amoxicillin 500mg capsules' } }), id: 'dmd-coded-issue' } as MedicationRequest & { id: string };
      const org = await practiceOrgOf(node.store, node.store.practice);
      const bundle = buildEpsMessage({ issue: mr, patient: { ...EPS_PATIENT, id: patientId }, prescriber: prescriberOfIssue(mr), org });
      assert.deepEqual(checkEpsMessage(bundle, { signed: false }), []);
      const sent = bundle.entry!.map((e) => e.resource).find((r) => r?.resourceType === 'MedicationRequest') as MedicationRequest;
      assert.deepEqual(sent.medicationCodeableConcept?.coding, [{ system: 'http://snomed.info/sct', code: '323509004', display: 'Amoxicillin 500mg capsules' }]);
    });

    it('the message follows the EPS contract, and one that does not is refused with EPS OperationOutcome words', async () => {
      const mr = await issue();
      const org = await practiceOrgOf(node.store, node.store.practice);
      const bundle = buildEpsMessage({ issue: mr, patient: { ...EPS_PATIENT, id: patientId }, prescriber: prescriberOfIssue(mr), org });
      assert.deepEqual(checkEpsMessage(bundle, { signed: false }), []);
      assert.equal(org.name, 'Hallgarth Surgery');
      // No quantity, and an NHS number that fails Modulus 11: EPS answers 400 naming both.
      const bad = structuredClone(bundle) as Bundle;
      delete (bad.entry![1]!.resource as MedicationRequest).dispenseRequest!.quantity;
      (bad.entry![2]!.resource as Patient).identifier![0]!.value = '9991234560';
      const res = await fetch(`${eps.url}/FHIR/R4/$prepare`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', 'x-request-id': crypto.randomUUID(), authorization: 'Bearer eps-test-token' }, body: JSON.stringify(bad) });
      assert.equal(res.status, 400);
      const outcome = (await res.json()) as { resourceType: string; issue: Array<{ expression: string[]; details: { coding: Array<{ code: string }> } }> };
      assert.equal(outcome.resourceType, 'OperationOutcome');
      assert.deepEqual(outcome.issue.map((i) => i.expression[0]).sort(), ['MedicationRequest[0].dispenseRequest.quantity', 'Patient.identifier']);
      assert.equal((await fetch(`${eps.url}${EPS_PROCESS_PATH}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', authorization: 'Bearer eps-test-token' }, body: JSON.stringify(bundle) })).status, 400, 'no X-Request-ID');
      assert.equal((await fetch(`${eps.url}${EPS_PROCESS_PATH}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', 'x-request-id': crypto.randomUUID() }, body: JSON.stringify(bundle) })).status, 401, 'no token');
      // Unsigned at $process-message: refused.
      const unsigned = await fetch(`${eps.url}${EPS_PROCESS_PATH}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', 'x-request-id': crypto.randomUUID(), authorization: 'Bearer eps-test-token' }, body: JSON.stringify(bundle) });
      assert.equal(unsigned.status, 400);
      assert.match(await unsigned.text(), /must be signed/);
    });

    it('queued while EPS is down, drained once when it returns, queuing again or re-sending is not a second prescription', async () => {
      const mr = await issue();
      const pid = mr.identifier![0]!.value!;
      eps.down();
      assert.equal(await catchUpEpsQueue(node.store, now), 2, 'this issue and the one of the first test');
      assert.equal(await catchUpEpsQueue(node.store, now), 0, 'the cursor moved: nothing queued twice');
      const round = await drainer.drainOnce();
      assert.equal(round.retried, 2);
      const waiting = await status(mr.id);
      assert.equal(waiting.eps, 'queued');
      assert.equal(waiting.prescriptionId, pid);
      assert.match(waiting.lastError ?? '', /EPS could not be reached/);
      // Queuing the same issue again (the prescribing route and the catch-up both) does nothing.
      const again = await node.store.transaction({ author: 'test' }, (tx) => queueIssueForEps(tx, node.store.practice, mr.id));
      assert.equal(again.queued, false);
      const rows = await odb(node.store.db).selectFrom('outbox_messages').selectAll().where('channel', '=', 'eps').execute();
      assert.equal(rows.length, 2);

      eps.up();
      later(60_000);
      const back = await drainer.drainAll();
      assert.equal(back.sent, 2);
      assert.equal(eps.prescriptions.size, 2);
      const held = eps.prescriptions.get(pid)!;
      assert.equal(held.status, 'active');
      assert.equal((await status(mr.id)).eps, 'sent');
      later(60_000);
      assert.equal((await drainer.drainAll()).sent, 0, 'nothing left to send');

      // A crash after EPS took it but before "sent" was recorded: the message is sent again with the
      // same X-Request-ID; EPS answers as it did, and still holds one prescription.
      const row = rows.find((r) => r.message_key === `eps:${pid}`)!;
      await odb(node.store.db).updateTable('outbox_messages').set({ state: 'pending', next_attempt_at: now().toISOString() }).where('id', '=', row.id).execute();
      const resent = await drainer.drainAll();
      assert.equal(resent.sent, 1);
      assert.equal(eps.prescriptions.size, 2);
      const process = eps.requests.filter((r) => r.path === EPS_PROCESS_PATH && r.requestId === row.id);
      assert.deepEqual(process.map((r) => r.status), [200, 200], 'the same request id answered the same way');
    });

    it('an answer lost to a timeout is retried with the same X-Request-ID and makes one prescription', async () => {
      const mr = await issue();
      const pid = mr.identifier![0]!.value!;
      await catchUpEpsQueue(node.store, now);
      eps.hang();
      const lost = await drainer.drainOnce();
      eps.release();
      assert.equal(lost.retried, 1, 'no answer within the timeout: retried later');
      assert.ok(eps.prescriptions.has(pid), 'EPS did receive it');
      later(60_000);
      assert.equal((await drainer.drainAll()).sent, 1);
      assert.equal([...eps.prescriptions.keys()].filter((k) => k === pid).length, 1);
      assert.equal((await status(mr.id)).eps, 'sent');
      // A different message claiming the same prescription id is EPS's duplicate (0002): treated as "EPS has it".
      const msg = (await odb(node.store.db).selectFrom('outbox_messages').selectAll().where('message_key', '=', `eps:${pid}`).executeTakeFirstOrThrow());
      const channel = epsChannel(node.deps.config.prescriptionsOut!.eps!, { ...epsChannelHooks(node.store, now), whyNotWanted: async () => undefined, now });
      const dup = await channel.deliver({ id: crypto.randomUUID(), practice: node.store.practice, channel: 'eps', key: msg.message_key, source: msg.source, payload: JSON.parse(msg.payload), about: null, idempotencyKey: crypto.randomUUID(), attempts: 1, createdAt: msg.created_at });
      assert.equal(dup.outcome, 'sent');
      assert.match((dup as { detail?: string }).detail ?? '', /already held/);
      assert.equal(eps.prescriptions.size, 3);
    });

    it('one prescription dispensable twice: a timed-out EPS send (EPS took it, the answer was lost) is not printed; a definite EPS refusal is', async () => {
      const mr = await issue();
      const pid = mr.identifier![0]!.value!;
      await catchUpEpsQueue(node.store, now);
      eps.hang();
      const lost = await drainer.drainOnce();
      eps.release();
      assert.equal(lost.retried, 1);
      assert.ok(eps.prescriptions.has(pid), 'EPS holds it although the node never heard');
      const row = await odb(node.store.db).selectFrom('outbox_messages').select(['id', 'state']).where('message_key', '=', `eps:${pid}`).executeTakeFirstOrThrow();
      assert.equal(row.state, 'pending', 'back in the queue: the state that printing used to withdraw');
      const refused = await node.fetchAs('clinician', `/api/prescriptions/${mr.id}/print.pdf`);
      const words = await refused.text();
      assert.equal(refused.status, 409, words);
      assert.match(words, /may already be held by EPS/);
      assert.equal((await odb(node.store.db).selectFrom('outbox_messages').select('state').where('id', '=', row.id).executeTakeFirstOrThrow()).state, 'pending', 'the EPS message was not withdrawn');
      assert.equal((await status(mr.id)).printCount, 0);

      // A crash after the marker was written but before any answer: still "EPS may hold it".
      const crashed = await issue();
      await catchUpEpsQueue(node.store, now);
      await outdb(node.store.db).updateTable('prescriptions_out').set({ eps_process: 'in-flight' }).where('issue_id', '=', crashed.id).execute();
      assert.equal((await node.fetchAs('clinician', `/api/prescriptions/${crashed.id}/print.pdf`)).status, 409);

      // EPS definitely refused the only attempt (a 4xx at $process-message): it may be printed.
      later(60_000);
      await drainer.drainAll();
      const bad = await issue();
      const badPid = bad.identifier![0]!.value!;
      await catchUpEpsQueue(node.store, now);
      const msg = await odb(node.store.db).selectFrom('outbox_messages').select('id').where('message_key', '=', `eps:${badPid}`).executeTakeFirstOrThrow();
      eps.failNext(1, 422, EPS_PROCESS_PATH);
      assert.equal((await drainer.drainOnce()).failed, 1);
      const process = eps.requests.filter((r) => r.path === EPS_PROCESS_PATH && r.requestId === msg.id);
      assert.ok(process.length >= 1 && process.every((r) => r.status >= 400 && r.status < 500), 'every $process-message attempt got a 4xx');
      const printed = await node.fetchAs('clinician', `/api/prescriptions/${bad.id}/print.pdf`);
      assert.equal(printed.status, 200, await printed.clone().text());
      assert.equal((await status(bad.id)).eps, 'printed');
    });

    it('EPS errors: 5xx is retried with backoff, a refused message fails for a person with EPS words', async () => {
      const mr = await issue();
      await catchUpEpsQueue(node.store, now);
      eps.failNext(1, 503);
      assert.equal((await drainer.drainOnce()).retried, 1);
      const row = await odb(node.store.db).selectFrom('outbox_messages').selectAll().where('message_key', '=', `eps:${mr.identifier![0]!.value}`).executeTakeFirstOrThrow();
      assert.ok(Date.parse(row.next_attempt_at) > clock, 'backed off');
      assert.match(row.last_error, /503/);
      // The stored message broken (as if built by an older version): refused by EPS, failed, shown.
      const payload = JSON.parse(row.payload) as { bundle: Bundle };
      (payload.bundle.entry![1]!.resource as MedicationRequest).groupIdentifier!.value = '9AD427-A83008-2E461J';
      await odb(node.store.db).updateTable('outbox_messages').set({ payload: JSON.stringify(payload), next_attempt_at: now().toISOString() }).where('id', '=', row.id).execute();
      assert.equal((await drainer.drainOnce()).failed, 1);
      const st = await status(mr.id);
      assert.equal(st.eps, 'failed');
      assert.match(st.lastError ?? '', /MOD 37-2/);
    });

    it('printing withdraws the waiting EPS message (never both), a sent prescription is not printed, a reprint is a copy, audited', async () => {
      eps.down();
      const mr = await issue();
      const pid = mr.identifier![0]!.value!;
      await catchUpEpsQueue(node.store, now);
      await drainer.drainOnce();
      const res = await node.fetchAs('clinician', `/api/prescriptions/${mr.id}/print.pdf`);
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(res.headers.get('content-type'), 'application/pdf');
      const pdf = Buffer.from(await res.arrayBuffer());
      assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
      const st = await status(mr.id);
      assert.equal(st.eps, 'printed');
      assert.equal(st.printCount, 1);
      const out = await odb(node.store.db).selectFrom('outbox_messages').select(['state', 'last_error']).where('message_key', '=', `eps:${pid}`).executeTakeFirstOrThrow();
      assert.equal(out.state, 'cancelled');
      eps.up();
      later(3_600_000);
      await drainer.drainAll();
      assert.equal(eps.prescriptions.has(pid), false, 'printed, so never sent to EPS');
      // The outbox screen cannot put it back.
      const row = await odb(node.store.db).selectFrom('outbox_messages').select('id').where('message_key', '=', `eps:${pid}`).executeTakeFirstOrThrow();
      await odb(node.store.db).updateTable('outbox_messages').set({ state: 'failed' }).where('id', '=', row.id).execute();
      const retry = await node.fetchAs('practice-admin', `/api/outbox/${row.id}/retry`, { method: 'POST', json: {} });
      assert.equal(retry.status, 409);
      assert.match(await retry.text(), /was printed/);

      // A reprint is a copy without the barcode.
      const copy = Buffer.from(await (await node.fetchAs('clinician', `/api/prescriptions/${mr.id}/print.pdf`)).arrayBuffer());
      assert.equal((await status(mr.id)).printCount, 2);

      // A prescription EPS has is not printed.
      const sentIssue = await issue();
      await catchUpEpsQueue(node.store, now);
      await drainer.drainAll();
      assert.equal((await status(sentIssue.id)).eps, 'sent');
      const refused = await node.fetchAs('clinician', `/api/prescriptions/${sentIssue.id}/print.pdf`);
      assert.equal(refused.status, 409);
      assert.match(await refused.text(), /sent to EPS/);
      // Receptionists neither print nor read the state; a template or unknown id is not a prescription.
      assert.equal((await node.fetchAs('receptionist', `/api/prescriptions/${mr.id}/print.pdf`)).status, 403);
      assert.equal((await node.fetchAs('receptionist', `/api/prescriptions/${mr.id}`)).status, 403);
      assert.equal((await node.fetchAs('clinician', `/api/prescriptions/nope/print.pdf`)).status, 404);

      const audit = await (await node.fetchAs('practice-admin', '/api/audit?event=export&limit=200')).text();
      assert.match(audit, new RegExp(`prescription ${pid} printed \\(original\\)`));
      assert.match(audit, new RegExp(`prescription ${pid} printed \\(copy 1, not valid for dispensing\\)`));

      if (!hasTools) {
        if (process.env.CI === 'true') assert.fail('pdftoppm, pdftotext and zbarimg are required under CI=true');
        return;
      }
      writeFileSync(join(dir, 'rx.pdf'), pdf);
      writeFileSync(join(dir, 'copy.pdf'), copy);
      execFileSync('pdftoppm', ['-r', '300', '-png', '-singlefile', join(dir, 'rx.pdf'), join(dir, 'rx')]);
      const decoded = execFileSync('zbarimg', ['-q', join(dir, 'rx.png')]).toString().trim().split('\n');
      assert.deepEqual(decoded, [`CODE-128:${pid}`]);
      const text = execFileSync('pdftotext', ['-layout', join(dir, 'rx.pdf'), '-']).toString();
      for (const expected of ['Ms Adaeze OKAFOR', '4 Mill Lane', 'DL4 2HP', '09-Mar-1961', testNhsNumber(5150).replace(/(\d{3})(\d{3})(\d{4})/, '$1 $2 $3'), 'Amoxicillin 500mg capsules', 'One capsule three times a day', 'Supply: 15 capsule', 'Test clinician', 'Hallgarth Surgery', '04-Dec-2026', pid]) {
        assert.ok(text.includes(expected), `the form shows ${expected}:\n${text}`);
      }
      execFileSync('pdftoppm', ['-r', '300', '-png', '-singlefile', join(dir, 'copy.pdf'), join(dir, 'copy')]);
      const copyCodes = spawnSync('zbarimg', ['-q', join(dir, 'copy.png')]);
      assert.equal(copyCodes.stdout.toString().trim(), '', 'a copy carries no barcode');
      assert.match(execFileSync('pdftotext', [join(dir, 'copy.pdf'), '-']).toString(), /COPY - NOT VALID FOR DISPENSING/);
    });

    it('stopping an issue EPS has (or may have, after a lost answer) cancels it at EPS through the outbox, once', async () => {
      const stop = async (mr: MedicationRequest & { id: string }) => {
        const stored = (await node.store.read('MedicationRequest', mr.id))!.resource as MedicationRequest;
        await node.store.transaction({ author: node.users.clinician.id }, (tx) => tx.write([{ kind: 'update', resource: { ...stored, status: 'stopped', statusReason: { text: 'Rash: amoxicillin stopped' } } }]));
      };
      const cancelOf = (pid: string) => odb(node.store.db).selectFrom('outbox_messages').selectAll().where('message_key', '=', `eps-cancel:${pid}`).executeTakeFirst();
      later(3_600_000);
      await drainer.drainAll();
      // Sent, then stopped.
      const sent = await issue();
      const sentPid = sent.identifier![0]!.value!;
      await catchUpEpsQueue(node.store, now);
      await drainer.drainAll();
      assert.equal(eps.prescriptions.get(sentPid)?.status, 'active');
      await stop(sent);
      await catchUpEpsQueue(node.store, now);
      assert.ok(await cancelOf(sentPid), 'a cancel queued in the outbox');
      // A send whose answer was lost (EPS took it), then stopped.
      const lost = await issue();
      const lostPid = lost.identifier![0]!.value!;
      await catchUpEpsQueue(node.store, now);
      eps.hang();
      await drainer.drainOnce();
      eps.release();
      assert.equal(eps.prescriptions.get(lostPid)?.status, 'active', 'EPS holds it; the node does not know');
      await stop(lost);
      // A stopped issue EPS surely never had (still waiting, never attempted): no cancel, the order is not sent.
      eps.down();
      const waiting = await issue();
      await catchUpEpsQueue(node.store, now);
      await drainer.drainOnce();
      eps.up();
      await stop(waiting);
      await catchUpEpsQueue(node.store, now);
      assert.equal(await cancelOf(waiting.identifier![0]!.value!), undefined);

      later(3_600_000);
      await drainer.drainAll();
      for (const pid of [sentPid, lostPid]) {
        assert.equal(eps.prescriptions.get(pid)?.status, 'cancelled', `EPS cancelled ${pid}`);
        assert.equal((await cancelOf(pid))?.state, 'sent');
      }
      assert.equal(eps.prescriptions.has(waiting.identifier![0]!.value!), false);
      const markers = await outdb(node.store.db).selectFrom('prescriptions_out').select(['issue_id', 'eps_process']).where('issue_id', 'in', [sent.id, lost.id]).execute();
      assert.deepEqual(markers.map((m) => m.eps_process), ['cancelled', 'cancelled']);
      assert.match((await odb(node.store.db).selectFrom('outbox_messages').select('last_error').where('message_key', '=', `eps:${lostPid}`).executeTakeFirstOrThrow()).last_error, /Not sent: the prescription is stopped/);
      // Stopped again (another edit): still one cancel.
      await stop(sent);
      await catchUpEpsQueue(node.store, now);
      assert.equal((await odb(node.store.db).selectFrom('outbox_messages').select('id').where('message_key', '=', `eps-cancel:${sentPid}`).execute()).length, 1);
      // The first cancel went out while answers were held (a lost answer too): resent with the same X-Request-ID.
      const cancels = new Set(eps.requests.filter((r) => r.path === EPS_PROCESS_PATH && r.event === 'prescription-order-update' && r.status === 200).map((r) => r.requestId));
      assert.equal(cancels.size, 2, 'one cancel per stopped prescription');
    });

    it('a stopped issue is neither sent nor printed, an issue synced from another node is not queued or printed here', async () => {
      eps.down();
      const mr = await issue();
      await catchUpEpsQueue(node.store, now);
      const stopped = { ...mr, status: 'stopped' as const, statusReason: { text: 'Prescribed in error' } };
      await node.store.transaction({ author: node.users.clinician.id }, (tx) => tx.write([{ kind: 'update', resource: stopped }]));
      eps.up();
      later(3_600_000);
      await drainer.drainAll();
      assert.equal(eps.prescriptions.has(mr.identifier![0]!.value!), false);
      assert.match((await status(mr.id)).lastError ?? '', /Not sent: the prescription is stopped/);
      assert.equal((await node.fetchAs('clinician', `/api/prescriptions/${mr.id}/print.pdf`)).status, 409);
      const before = (await outdb(node.store.db).selectFrom('prescriptions_out').select('issue_id').execute()).length;
      const remote = issueFor(patientId, node.users.clinician, node.store.practice);
      remote.id = crypto.randomUUID();
      await node.store.applyRemote([{ entryId: crypto.randomUUID(), originNode: 'another-node', practice: node.store.practice, hlc: `${String(Date.parse('2026-12-04T10:30:00Z')).padStart(15, '0')}-00000-another-node`, resourceType: 'MedicationRequest', resourceId: remote.id, versionId: crypto.randomUUID(), baseVersionId: null, op: 'put', resource: remote, author: 'someone' }]);
      await catchUpEpsQueue(node.store, now);
      assert.equal((await outdb(node.store.db).selectFrom('prescriptions_out').select('issue_id').execute()).length, before, 'not queued on this node');
      const elsewhere = await node.fetchAs('clinician', `/api/prescriptions/${remote.id}/print.pdf`);
      assert.equal(elsewhere.status, 409);
      assert.match(await elsewhere.text(), /issued on another node/);
      // The same prescribe retried at this node and another during a partition: the other may have sent it.
      const twice = await issue();
      await node.store.applyRemote([{ entryId: crypto.randomUUID(), originNode: 'another-node', practice: node.store.practice, hlc: `${String(Date.parse('2026-12-04T10:31:00Z')).padStart(15, '0')}-00000-another-node`, resourceType: 'MedicationRequest', resourceId: twice.id, versionId: crypto.randomUUID(), baseVersionId: null, op: 'put', resource: twice, author: 'someone' }]);
      const partitioned = await node.fetchAs('clinician', `/api/prescriptions/${twice.id}/print.pdf`);
      assert.equal(partitioned.status, 409);
      assert.match(await partitioned.text(), /also issued on another node/);
    });
  });
}
