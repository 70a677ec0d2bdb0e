/**
 * The outbox contract: one way out of the node for everything (laboratory orders, SMS, email and
 * letters through GOV.UK Notify, prescriptions to EPS, ...). This module is a leaf: capabilities that
 * queue messages or deliver them import it, and it imports none of them.
 *
 *   queue:    enqueue(tx.db, practice, { channel, key, source, payload })  (queue.ts), inside the same
 *             transaction as the clinical change that caused the message, so both commit or neither.
 *   deliver:  the outbox drainer (a background service of the outbox capability) claims due messages
 *             and hands each to the `OutboxChannel` named by `channel`, retrying with jittered backoff
 *             while the service is unreachable.
 *
 * Exactly once: `key` names what the message *is* (the same key queued twice is one message), every
 * attempt carries `idempotencyKey` (the message id), and a message found `sending` after a crash is
 * given to the channel's `reconcile` before it is sent again.
 */

/** A message to queue. */
export interface OutgoingMessage {
  /** The channel that delivers it: 'hl7-order', 'notify-sms', 'notify-email', 'notify-letter', 'eps', ... */
  channel: string;
  /**
   * What this message is, stable across retries, restarts and nodes, e.g. `lab-order:RX1LAB:ORD-123`
   * or `appointment-reminder:<appointment id>:<start>`. Queuing the same key again does nothing.
   */
  key: string;
  /** The capability that queued it (for the backlog and the outbox screen), e.g. 'pathology'. */
  source: string;
  /**
   * What the channel needs to deliver it (JSON). The outbox never looks inside, except that a string
   * `body` field is shown to clinicians on the outbox screen (never to other roles).
   */
  payload: unknown;
  /** Do not send before this instant (ISO 8601), e.g. a reminder for the day before. Default: now. */
  notBefore?: string;
  /** The record resource the message belongs to, e.g. `Communication/123`, for the owner to update. */
  about?: string;
}

export type { OutboxState } from '@steadfast/domain/api';

/** A message as the drainer hands it to a channel. */
export interface QueuedMessage {
  id: string;
  practice: string;
  channel: string;
  key: string;
  source: string;
  payload: unknown;
  about: string | null;
  /** Send with every attempt where the service takes one (Notify: `reference`; HL7: MSH-10 is the order's). */
  idempotencyKey: string;
  /** Attempts so far, including this one. */
  attempts: number;
  createdAt: string;
}

/** What one delivery attempt came to. */
export type DeliveryResult =
  /** The service has it. `providerRef` is its id for the message (Notify's notification id). */
  | { outcome: 'sent'; providerRef?: string; detail?: string }
  /** Not delivered, try again later (unreachable, 5xx, 429, HL7 AE). */
  | { outcome: 'retry'; error: string; retryAfterMs?: number }
  /** Never deliverable as it is (4xx validation, HL7 AR): stops, for a person to see. */
  | { outcome: 'failed'; error: string };

/** One way of delivering messages. Registered by the capability that owns the integration. */
export interface OutboxChannel {
  /** Matches `OutgoingMessage.channel`. */
  name: string;
  /** The service it reaches, for the status bar ("GOV.UK Notify", "Laboratory orders"); channels with one label share an entry. */
  label?: string;
  deliver(message: QueuedMessage): Promise<DeliveryResult>;
  /**
   * For a message left `sending` by a crash: did that attempt reach the service? Return its result
   * when the service can say (Notify: look the notification up by reference), or `undefined` to send
   * again, which is only safe where the receiver de-duplicates (a laboratory, by order number).
   * A channel without `reconcile` is sent again.
   */
  reconcile?(message: QueuedMessage): Promise<DeliveryResult | undefined>;
  /** The most the service accepts (GOV.UK Notify: 3,000 a minute, and the service's daily limit). */
  limits?: { perMinute?: number; perDay?: number };
  /** After a message's final state is recorded (sent or failed): e.g. the owner updates its Communication. */
  settled?(message: QueuedMessage, result: DeliveryResult): Promise<void>;
}
