/**
 * The JSON API of prescriptions out (EPS and print) and patients' repeat requests, shared by the server
 * (packages/server/src/medicines/: prescriptions-out.ts, repeat-requests.ts) and the staff web app.
 * Types only.
 *
 *   GET  /api/prescriptions/:issueId                    -> PrescriptionOutStatus (clinicians, practice admins)
 *   GET  /api/prescriptions/:issueId/print.pdf          -> application/pdf (clinicians): marks the issue printed,
 *        withdraws its EPS message; 409 when EPS has it (sent) or is receiving it (sending); a reprint is a COPY
 *   GET  /api/medicines/repeat-requests?state=          -> RepeatRequestsResponse (oldest first; default state waiting)
 *   POST /api/medicines/repeat-requests/:id/issue       RepeatIssueRequest  -> 200 RepeatDecisionResponse
 *   POST /api/medicines/repeat-requests/:id/reject      RepeatRejectRequest -> 200 RepeatDecisionResponse
 */

/** Where an issue stands on its way out: waiting for EPS, at EPS, stopped for a person, or printed instead. */
export type EpsSendState = 'queued' | 'sent' | 'failed' | 'printed';

export interface PrescriptionOutStatus {
  issueId: string;
  /** The short-form prescription id, XXXXXX-XXXXXX-XXXXXC. */
  prescriptionId: string;
  eps: EpsSendState;
  /** Why the last attempt did not reach EPS, or why it stopped (EPS's words). */
  lastError?: string;
  sentAt?: string;
  printedAt?: string;
  /** Forms produced: 1 is the original, more are copies marked not valid for dispensing. */
  printCount: number;
}

export type RepeatRequestState = 'waiting' | 'issued' | 'rejected';

/** One repeat template of the patient, matched (or not) to what the patient asked for. */
export interface RepeatRequestItem {
  templateId: string;
  name: string;
  /** The patient's words mention this medicine. */
  matched: boolean;
  /** Issues left before a review; 0 means re-authorise first. */
  issuesLeft?: number;
  /** YYYY-MM-DD. */
  reviewDate?: string;
}

export interface RepeatRequest {
  /** The online consultation (QuestionnaireResponse id). */
  id: string;
  /** The online consultation's reference the patient was given. */
  reference: string;
  /** Null until a person matches the request to a registered patient (online consultations' triage). */
  patientId: string | null;
  patientName: string;
  requestedAt: string;
  /** What the patient wrote ("Which medicine is it about?"). */
  requestedText: string;
  /** The patient's active repeat templates, those the text names first (matched). */
  items: RepeatRequestItem[];
  source: 'online-consultation';
  state: RepeatRequestState;
  /** Issue MedicationRequest ids made from this request. */
  issueIds: string[];
  /** For a rejected request. */
  reason?: string;
  decidedAt?: string;
  decidedBy?: string;
}

export interface RepeatRequestsResponse {
  requests: RepeatRequest[];
  /** Waiting requests, and how many of them still need a patient match. */
  waiting: number;
  waitingUnmatched: number;
}

export interface RepeatIssueRequest {
  /** Templates to issue (each must be one of the request's items). */
  templateIds: string[];
  /** A UUID made by the client and kept across retries: the same key issues once. */
  idempotencyKey: string;
}

export interface RepeatRejectRequest {
  /** Why (shown to the practice; at least 5 characters). */
  reason: string;
}

export interface RepeatDecisionResponse {
  request: RepeatRequest;
  /** Issues made (issue id and prescription id), for an issue decision. */
  issued?: Array<{ templateId: string; issueId: string; prescriptionId: string }>;
}
