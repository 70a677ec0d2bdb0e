/**
 * The outbox screen's JSON API (GET /api/outbox, POST /api/outbox/:id/retry, POST /api/outbox/:id/cancel),
 * shared by the server (packages/server/src/outbox/routes.ts) and the staff web app. Types only.
 */

/** Where an outbox message is: waiting (`pending`), in flight (`sending`), handed over (`sent`), stopped for a person (`failed`), or withdrawn (`cancelled`). */
export type OutboxState = 'pending' | 'sending' | 'sent' | 'failed' | 'cancelled';

/** How many messages of one channel are in one state. */
export interface OutboxCount {
  /** 'notify-sms', 'notify-email', 'notify-letter', 'hl7-order', ... */
  channel: string;
  state: OutboxState;
  count: number;
}

/**
 * One message on the outbox screen. Never the message's text for non-clinical roles: `body` is there
 * only for clinicians, and only for channels whose payload carries a text.
 */
export interface OutboxRow {
  id: string;
  channel: string;
  /** The capability that queued it: 'messaging', 'pathology', ... */
  source: string;
  state: OutboxState;
  /** Delivery attempts so far. */
  attempts: number;
  createdAt: string;
  /** Not sent before this instant (a reminder for the day before). */
  notBefore: string;
  /** When the drainer tries next (pending rows). */
  nextAttemptAt?: string;
  sentAt?: string;
  updatedAt: string;
  /** The last attempt's error, for a person (e.g. "GOV.UK Notify 400 BadRequestError: ..."). */
  lastError?: string;
  /** The record resource the message belongs to, e.g. `Communication/123`. */
  about?: string;
  /** The service's id for it once sent (Notify's notification id). */
  providerRef?: string;
  /** Clinicians only. */
  body?: string;
}

/** GET /api/outbox?state=&channel=&limit=&offset= */
export interface OutboxResponse {
  checkedAt: string;
  /** Every channel and state with at least one message (the whole table, not just this page). */
  counts: OutboxCount[];
  /** Age of the oldest message waiting to leave (pending or sending), or null when none waits. */
  oldestWaitingSeconds: number | null;
  /** Newest first, filtered by `state` / `channel` when given. */
  rows: OutboxRow[];
  /** Rows matching the filter (for paging). */
  total: number;
  limit: number;
  offset: number;
}

/** POST /api/outbox/:id/retry (a failed row) and POST /api/outbox/:id/cancel (a failed or pending row). */
export interface OutboxActionResponse {
  row: OutboxRow;
}
