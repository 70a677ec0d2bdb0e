/**
 * The documents backlog's JSON API (GET /api/documents/backlog, GET /api/documents/backlog/daily,
 * the list's page), shared by the server (packages/server/src/documents/) and the staff web app.
 * Types only. Counts and staff names, never patient data: these figures also go to the hub.
 */

/** GET /api/documents/backlog */
export interface DocumentBacklog {
  /** Every state (filed too): how many, and when the oldest of them arrived. */
  byState: Record<string, { count: number; oldest: string | null }>;
  /** Unworked documents by source (imap, folder, upload, fhir). */
  bySource: Record<string, number>;
  /** Unworked documents by the kind sniffed from their bytes (pdf, image...). */
  byKind: Record<string, number>;
  /** Documents with each clinician (staff names, never patient data). */
  byPerson: Record<string, number>;
  /** Unworked documents by the type a person set ("untyped" before). */
  byType: Record<string, number>;
  withProblem: number;
  unworked: number;
  /** The oldest document still to be worked: always on the screen. */
  oldestUnworked: { id: string | null; receivedAt: string; ageHours: number } | null;
  /** Items kept (raw) and not yet read into documents. */
  waitingToBeRead: number;
}

/** One London day of GET /api/documents/backlog/daily. */
export interface DocumentDay {
  /** YYYY-MM-DD, the practice's (London) calendar day. */
  date: string;
  /** Documents received that day. */
  arrived: number;
  /** Documents filed to a record that day. */
  filed: number;
}

/** GET /api/documents/backlog/daily?from=YYYY-MM-DD&to=YYYY-MM-DD: every day in the range, zeros included. */
export interface DocumentDaily {
  from: string;
  to: string;
  days: DocumentDay[];
}

/** GET /api/documents: one page, oldest first; `next` is the cursor for the page after (absent on the last). */
export interface DocumentListPage<T> {
  documents: T[];
  /** Pass as `after` for the next page. */
  next?: string;
  /** On the first page only: how many documents match the filter in all. */
  total?: number;
}
