/**
 * Outgoing orders as HL7 v2.5.1 ORM^O01 (or OML^O21, the laboratory order message that replaced it,
 * for laboratories that ask for it), queued on the node's one outbox in the same transaction as the
 * ServiceRequests and delivered by the outbox drainer through the `hl7-order` channel below: sent on
 * AA, retried with backoff on AE or no answer, stopped (state `failed`, for a person) on AR.
 */
import type { Transaction } from 'kysely';
import type { OutboxChannel } from '../outbox/contract.ts';
import { enqueue } from '../outbox/queue.ts';
import { escapeHl7, hl7Now } from './hl7.ts';
import { sendMllp, type MllpClientTls } from './mllp-client.ts';

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

/** The outbox channel that carries laboratory orders (outbox/contract.ts). */
export const LAB_ORDER_CHANNEL = 'hl7-order';

/** The payload of an hl7-order outbox message. */
export interface LabOrderPayload {
  /** host:port of the laboratory's MLLP endpoint when the order was made. */
  destination: string;
  laboratory: string;
  orderNumber: string;
  /** The ORM^O01 or OML^O21 message. */
  message: string;
}

/**
 * Queue an order for the laboratory on the node's one outbox, in the caller's transaction (the one
 * that writes the ServiceRequests). The same order number to the same laboratory is one message.
 */
export async function enqueueOrder(db: Transaction<any>, practice: string, lab: LabConnection, orderNumber: string, message: string, now: string): Promise<void> {
  const destination = `${lab.host}:${lab.port}`;
  const payload: LabOrderPayload = { destination, laboratory: lab.name, orderNumber, message };
  await enqueue(db, practice, { channel: LAB_ORDER_CHANNEL, key: `lab-order:${destination}:${orderNumber}`, source: 'pathology', payload }, new Date(now));
}

export type Sender = (host: string, port: number, message: string) => Promise<{ code: string; text: string }>;

/**
 * Orders to the laboratory over MLLP, behind the outbox contract: AA/CA sent; AR/CR failed (for a
 * person); AE or no answer retried. No `reconcile`: a message whose attempt was interrupted is sent
 * again, which is safe because the laboratory de-duplicates by placer order number (ORC-2).
 */
export function labOrderChannel(lab: LabConnection, send: Sender = senderFor(lab)): OutboxChannel {
  return {
    name: LAB_ORDER_CHANNEL,
    label: `Laboratory orders (${lab.name})`,
    async deliver(queued) {
      const p = queued.payload as LabOrderPayload;
      const cut = p.destination.lastIndexOf(':');
      try {
        const ack = await send(p.destination.slice(0, cut), Number(p.destination.slice(cut + 1)), p.message);
        if (ack.code === 'AA' || ack.code === 'CA') return { outcome: 'sent' };
        if (ack.code === 'AR' || ack.code === 'CR') return { outcome: 'failed', error: `Rejected by the laboratory (${ack.code}): ${ack.text}` };
        return { outcome: 'retry', error: `Laboratory error (${ack.code}): ${ack.text}` };
      } catch (err) {
        return { outcome: 'retry', error: (err as Error).message };
      }
    },
  };
}
