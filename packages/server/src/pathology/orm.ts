/**
 * Outgoing orders as HL7 v2.5.1 ORM^O01 (or OML^O21, the laboratory order message that replaced it,
 * for laboratories that ask for it) and the durable outbox they leave through. A row is queued
 * in the same transaction as the ServiceRequests; the drainer claims a row before sending (so two
 * drainers never send it twice), marks it sent on AA, retries with backoff on AE or no answer, and
 * stops (state `failed`, for a person) on AR.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { escapeHl7, hl7Now } from './hl7.ts';
import { sendMllp, type MllpClientTls } from './mllp-client.ts';
import { pdb, type PathologyDb } from './tables.ts';
import type { Transaction } from 'kysely';

export interface LabConnection {
  name: string;
  host: string;
  port: number;
  /** Order message the laboratory takes: ORM^O01 (default) or OML^O21. */
  message?: 'ORM' | 'OML';
  /** Send orders inside TLS, trusting this CA (PEM) or the system's CAs (`--lab-tls`, `--lab-ca FILE`). */
  tls?: MllpClientTls;
}

/** The sender for a laboratory: MLLP, inside TLS when the connection asks for it. */
export function senderFor(lab: LabConnection): Sender {
  const tls = lab.tls;
  return tls ? (host, port, message) => sendMllp(host, port, message, 10_000, { tls }) : (host, port, message) => sendMllp(host, port, message);
}

export interface OrmInput {
  orderNumber: string;
  practice: string;
  patient: { nhsNumber: string; family: string; given: string[]; birthDate: string; sex: string; address: string[] };
  requester: { id: string; name: string };
  tests: Array<{ code: string; display: string }>;
  clinicalDetails: string;
  fasting: boolean;
  urgency: 'routine' | 'urgent';
  authoredOn: string;
}

/** The order as the laboratory's configured message type. */
export function buildOrder(o: OrmInput, lab: LabConnection): string {
  return lab.message === 'OML' ? buildOml(o, lab) : buildOrm(o, lab);
}

export function buildOrm(o: OrmInput, lab: LabConnection): string {
  const e = escapeHl7;
  const when = hl7Now(new Date(o.authoredOn));
  const sex = o.patient.sex === 'male' ? 'M' : o.patient.sex === 'female' ? 'F' : 'U';
  const priority = o.urgency === 'urgent' ? 'S' : 'R';
  const segments = [
    `MSH|^~\\&|STEADFAST|${e(o.practice)}|${e(lab.name)}||${when}||ORM^O01^ORM_O01|${e(o.orderNumber)}|P|2.5.1|||AL`,
    `PID|1||${o.patient.nhsNumber}^^^NHS^NH||${e(o.patient.family)}^${e(o.patient.given.join(' '))}||${o.patient.birthDate.replace(/-/g, '')}|${sex}|||${o.patient.address.map(e).join('^')}`,
    `ORC|NW|${e(o.orderNumber)}|||||^^^^^${priority}||${when}|||${e(o.requester.id)}^${e(o.requester.name)}`,
    ...o.tests.map(
      (t, i) =>
        `OBR|${i + 1}|${e(o.orderNumber)}||${e(t.code)}^${e(t.display)}^L|${priority}|${when}||||||${e(o.clinicalDetails)}|||${e(o.requester.id)}^${e(o.requester.name)}`,
    ),
    ...(o.fasting ? ['NTE|1||Patient fasting'] : []),
  ];
  return segments.join('\r');
}

/**
 * OML^O21 (v2.5.1): one order group per test (ORC, TQ1 with the priority, OBR), the shared PID, and
 * fasting as a note on each request. Placer order number in ORC-2 and OBR-2, so results link back.
 */
export function buildOml(o: OrmInput, lab: LabConnection): string {
  const e = escapeHl7;
  const when = hl7Now(new Date(o.authoredOn));
  const sex = o.patient.sex === 'male' ? 'M' : o.patient.sex === 'female' ? 'F' : 'U';
  const priority = o.urgency === 'urgent' ? 'S' : 'R';
  const requester = `${e(o.requester.id)}^${e(o.requester.name)}`;
  return [
    `MSH|^~\\&|STEADFAST|${e(o.practice)}|${e(lab.name)}||${when}||OML^O21^OML_O21|${e(o.orderNumber)}|P|2.5.1|||AL`,
    `PID|1||${o.patient.nhsNumber}^^^NHS^NH||${e(o.patient.family)}^${e(o.patient.given.join(' '))}||${o.patient.birthDate.replace(/-/g, '')}|${sex}|||${o.patient.address.map(e).join('^')}`,
    ...o.tests.flatMap((t, i) => [
      `ORC|NW|${e(o.orderNumber)}|||||||${when}|||${requester}`,
      `TQ1|1||||||||${priority}`,
      `OBR|${i + 1}|${e(o.orderNumber)}||${e(t.code)}^${e(t.display)}^L|||${when}||||||${e(o.clinicalDetails)}|||${requester}`,
      ...(o.fasting ? [`NTE|1||Patient fasting`] : []),
    ]),
  ].join('\r');
}

export async function enqueueOrder(db: Transaction<PathologyDb>, practice: string, lab: LabConnection, orderNumber: string, payload: string, now: string): Promise<void> {
  await db
    .insertInto('pathology_outbox')
    .values({
      id: randomUUID(),
      practice,
      created_at: now,
      destination: `${lab.host}:${lab.port}`,
      order_number: orderNumber,
      payload,
      state: 'pending',
      attempts: 0,
      next_attempt_at: now,
      last_error: '',
      sent_at: null,
    })
    .onConflict((oc) => oc.columns(['practice', 'destination', 'order_number']).doNothing())
    .execute();
}

export type Sender = (host: string, port: number, message: string) => Promise<{ code: string; text: string }>;

/** Delay before the next attempt: 5 s, 10 s, 20 s, ... up to an hour. */
export function backoffMs(attempts: number): number {
  return Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

/** Send every due order once. Returns how many were sent. */
export async function drainOutbox(db: Kysely<any>, practice: string, options: { send?: Sender; now?: () => Date } = {}): Promise<{ sent: number; retried: number; failed: number }> {
  const p = pdb(db);
  const send = options.send ?? sendMllp;
  const now = () => (options.now?.() ?? new Date()).toISOString();
  const due = await p
    .selectFrom('pathology_outbox')
    .selectAll()
    .where('practice', '=', practice)
    .where('state', '=', 'pending')
    .where('next_attempt_at', '<=', now())
    .orderBy('created_at')
    .limit(100)
    .execute();
  const result = { sent: 0, retried: 0, failed: 0 };
  for (const row of due) {
    // Claim: only one drainer moves a row from pending to sending.
    const claimed = await p
      .updateTable('pathology_outbox')
      .set({ state: 'sending', attempts: row.attempts + 1 })
      .where('practice', '=', practice)
      .where('id', '=', row.id)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) continue;
    const [host, portText] = [row.destination.slice(0, row.destination.lastIndexOf(':')), row.destination.slice(row.destination.lastIndexOf(':') + 1)];
    let update: { state: 'sent' | 'pending' | 'failed'; last_error: string; sent_at?: string; next_attempt_at?: string };
    try {
      const ack = await send(host, Number(portText), row.payload);
      if (ack.code === 'AA' || ack.code === 'CA') update = { state: 'sent', last_error: '', sent_at: now() };
      else if (ack.code === 'AR' || ack.code === 'CR') update = { state: 'failed', last_error: `Rejected by the laboratory (${ack.code}): ${ack.text}` };
      else update = { state: 'pending', last_error: `Laboratory error (${ack.code}): ${ack.text}`, next_attempt_at: new Date(Date.now() + backoffMs(row.attempts + 1)).toISOString() };
    } catch (err) {
      update = { state: 'pending', last_error: (err as Error).message, next_attempt_at: new Date((options.now?.() ?? new Date()).getTime() + backoffMs(row.attempts + 1)).toISOString() };
    }
    await p.updateTable('pathology_outbox').set(update).where('practice', '=', practice).where('id', '=', row.id).execute();
    if (update.state === 'sent') result.sent++;
    else if (update.state === 'failed') result.failed++;
    else result.retried++;
  }
  return result;
}

/** After a crash, rows left `sending` may or may not have reached the lab: send again (the lab de-duplicates by order number). */
export async function recoverOutbox(db: Kysely<any>, practice: string): Promise<void> {
  await pdb(db).updateTable('pathology_outbox').set({ state: 'pending', last_error: 'Resent after restart: delivery unknown' }).where('practice', '=', practice).where('state', '=', 'sending').execute();
}

export function startOutboxDrainer(db: Kysely<any>, practice: string, intervalMs = 5000, onError?: (err: unknown) => void, send?: Sender): { close(): Promise<void> } {
  let running: Promise<unknown> = recoverOutbox(db, practice).catch(onError);
  const timer = setInterval(() => {
    running = running.then(() => drainOutbox(db, practice, send ? { send } : {})).catch(onError);
  }, intervalMs);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
      await running;
    },
  };
}
