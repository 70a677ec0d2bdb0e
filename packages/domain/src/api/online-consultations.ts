/**
 * The JSON API of online consultations, shared by the server, the patient's form app and the staff
 * triage screens. Types only. The questionnaire, the red-flag rules and the submission checks are pure
 * code in `@steadfast/domain/online-consultations`, so form and server apply the same rules.
 *
 * Public (no staff session, rate limited per client, never patient data in a URL):
 *   GET  /api/public/online-consultations/:practice/opening        -> ServiceOpening
 *   GET  /api/public/online-consultations/:practice/questionnaire  -> QuestionnaireDefinition
 *   POST /api/public/online-consultations/:practice/submissions    SubmissionPayload -> SubmissionAccepted (201; 200 for a repeat)
 * The same three routes answer at the node and at the regional hub (same paths).
 *
 * Staff (session; receptionists with the care-navigator right, clinicians):
 *   GET  /api/online-consultations?status=&cursor=&limit=          -> TriageListResponse
 *   GET  /api/online-consultations/:id                             -> TriageDetail
 *   GET  /api/online-consultations/:id/photos/:photoId             -> the image (Content-Disposition: attachment)
 *   GET  /api/online-consultations/:id/match-candidates            -> MatchCandidatesResponse
 *   POST /api/online-consultations/:id/match      MatchRequest     -> TriageDetail
 *   POST /api/online-consultations/:id/triage     TriageUpdate     -> TriageDetail
 *   POST /api/online-consultations/:id/respond    RespondRequest   -> RespondResult
 *   POST /api/online-consultations/:id/book       BookRequest      -> BookResult
 *   POST /api/online-consultations/:id/consult    {}               -> ConsultResult
 *   POST /api/online-consultations/:id/close      CloseRequest     -> TriageDetail
 *   GET  /api/online-consultations/backlog                          -> TriageBacklog
 * Errors are OperationOutcome with a 4xx; issue[].expression names the field (e.g. `identity.birthDate`).
 */

// ---- the patient's submission -------------------------------------------------------------------
export type ConsultationKind = 'medical' | 'admin';
export type AdminRequestType = 'fit-note' | 'repeat-prescription' | 'letter' | 'results' | 'other';
export type ContactPreference = 'sms' | 'email';

export interface SubmissionIdentity {
  givenName: string;
  familyName: string;
  /** YYYY-MM-DD; a real date, not in the future, not over 120 years ago. */
  birthDate: string;
  /** A UK postcode ("LS1 4AP"). */
  postcode: string;
  /** A UK mobile (07..., +447...). At least one of mobile and email. */
  mobile?: string;
  email?: string;
  /** Optional; checked (Modulus 11) when given. */
  nhsNumber?: string;
}

export interface SubmissionPhoto {
  /** image/jpeg, image/png, image/heic or image/webp; the bytes must match it. */
  contentType: string;
  /** Base64 of the image bytes: at most PHOTO_MAX_BYTES (decoded) each, PHOTO_MAX_COUNT photos. */
  data: string;
  /** Shown to staff as plain text only. */
  filename?: string;
}

export interface SubmissionPayload {
  /** Made on the patient's device (a UUID), kept across retries: the same id is stored once, at node or hub. */
  submissionId: string;
  /** The Questionnaire version the form showed (QuestionnaireDefinition.version). */
  questionnaireVersion: string;
  kind: ConsultationKind;
  /** Every red-flag question answered (linkId -> true for "yes"); the server re-evaluates them itself. */
  redFlags: Record<string, boolean>;
  /** linkId -> answer text or the code of a choice, for the questions of `kind`. */
  answers: Record<string, string>;
  identity: SubmissionIdentity;
  contactPreference: ContactPreference;
  photos?: SubmissionPhoto[];
}

export type RedFlagAdvice = 'call-999' | 'call-111';

export interface SubmissionAccepted {
  /** For the patient to quote ("OC-7K3M-Q9TD"); the same at node and hub for one submissionId. */
  reference: string;
  submissionId: string;
  /** When it was first durably stored (ISO instant). */
  receivedAt: string;
  /** True when this submissionId had already been stored (a retry): nothing new was written. */
  duplicate: boolean;
  /** What happens next, plain text for the patient. */
  nextSteps: string;
  /** Present when a red-flag answer means the patient must act now, not wait for the practice. */
  urgentAdvice?: { advice: RedFlagAdvice; message: string };
}

// ---- the practice's opening of the service --------------------------------------------------------
/** One opening period; day 0 is Sunday. Times are Europe/London wall-clock "HH:MM". */
export interface OpeningPeriod {
  day: 0 | 1 | 2 | 3 | 4 | 5 | 6;
  opens: string;
  closes: string;
}

export interface ServiceOpening {
  practice: string;
  practiceName: string;
  /** Submissions are taken now. */
  open: boolean;
  /** Why not, when closed: 'hours' (outside opening), 'capacity' (today's requests all taken), 'closed' (switched off). */
  closedReason?: 'hours' | 'capacity' | 'closed';
  /** For the patient when closed ("We are closed for online requests until 8am Monday..."). */
  closedMessage?: string;
  hours: OpeningPeriod[];
  /** Requests taken per day; null for no limit. */
  dailyCapacity: number | null;
  /** Left today; null for no limit. */
  remainingToday: number | null;
  /** Always shown: what to do when it cannot wait. */
  urgentAdvice: string;
  /** Where this answer came from: the practice's node or the regional hub standing in for it. */
  answeredBy: 'node' | 'hub';
}

// ---- the questionnaire (served as FHIR-free JSON for the form; stored as a FHIR Questionnaire) ------
export type QuestionType = 'text' | 'long-text' | 'choice' | 'boolean';

export interface QuestionDefinition {
  linkId: string;
  text: string;
  hint?: string;
  type: QuestionType;
  required: boolean;
  /** For 'choice'. */
  options?: Array<{ code: string; display: string }>;
  /** Largest length for text answers. */
  maxLength?: number;
  /** Only asked when another answer has this value (linkId -> code). */
  enableWhen?: { linkId: string; equals: string };
}

export interface RedFlagQuestion {
  linkId: string;
  text: string;
  hint?: string;
  /** What a "yes" means. */
  advice: RedFlagAdvice;
  /** Which requests it is asked for. */
  kinds: ConsultationKind[];
}

export interface QuestionnaireDefinition {
  /** Canonical URL of the FHIR Questionnaire. */
  url: string;
  version: string;
  title: string;
  redFlags: RedFlagQuestion[];
  questions: Record<ConsultationKind, QuestionDefinition[]>;
  /** Message shown for each red-flag advice when a question is answered "yes". */
  adviceText: Record<RedFlagAdvice, string>;
  limits: { photoMaxBytes: number; photoMaxCount: number; photoContentTypes: string[]; textMaxLength: number };
}

// ---- triage (staff) ------------------------------------------------------------------------------
export type TriageStatus = 'new' | 'in-progress' | 'awaiting-patient' | 'closed';
export type TriageUrgency = 'routine' | 'soon' | 'urgent';
export type TriageCategory =
  | 'clinical'
  | 'repeat-prescription'
  | 'fit-note'
  | 'letter'
  | 'results'
  | 'admin-other'
  | 'signpost';
export type TriageOutcome =
  | 'appointment-booked'
  | 'consultation'
  | 'advice-given'
  | 'prescription-issued'
  | 'signposted'
  | 'no-action'
  | 'duplicate';

export interface TriageListItem {
  /** The QuestionnaireResponse id (opaque; derived from the device's submissionId). */
  id: string;
  reference: string;
  kind: ConsultationKind;
  /** admin requests: which kind. */
  adminType?: AdminRequestType;
  receivedAt: string;
  ageMinutes: number;
  /** linkIds of red-flag questions answered "yes"; non-empty ones sort first. */
  redFlags: string[];
  status: TriageStatus;
  urgency?: TriageUrgency;
  category?: TriageCategory;
  assignee?: { id: string; name: string; role: string };
  /** Name as the patient gave it ("Jane SMITH"), and the date of birth. */
  patientName: string;
  birthDate: string;
  /** Matched to a registered patient (confirmed by a person). */
  matchedPatient?: { id: string; name: string; nhsNumber?: string };
  /** First words of the request, plain text. */
  summary: string;
  receivedVia: 'node' | 'hub';
}

export interface TriageListResponse {
  items: TriageListItem[];
  /** Open requests in total (all pages). */
  total: number;
  /** Pass back as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

export interface TriageHistoryEntry {
  at: string;
  by: string;
  action: 'received' | 'matched' | 'triaged' | 'responded' | 'booked' | 'consultation' | 'closed';
  detail: string;
}

export interface TriageDetail extends TriageListItem {
  questionnaireVersion: string;
  identity: SubmissionIdentity;
  contactPreference: ContactPreference;
  /** Every question and its answer as asked (plain text: render as text, never as HTML). */
  answers: Array<{ linkId: string; question: string; answer: string }>;
  redFlagAnswers: Array<{ linkId: string; question: string; answer: boolean; advice: RedFlagAdvice }>;
  photos: Array<{ id: string; contentType: string; size: number; filename?: string }>;
  outcome?: TriageOutcome;
  history: TriageHistoryEntry[];
  /** The repeat prescription Task for the prescriber, when one was made. */
  prescriptionTaskId?: string;
  appointmentId?: string;
  encounterId?: string;
}

export interface MatchCandidate {
  patientId: string;
  name: string;
  birthDate?: string;
  nhsNumber?: string;
  postcode?: string;
  /** What agreed: 'nhs-number', 'birth-date', 'family-name', 'postcode'. */
  agreed: string[];
  /** Proposed only when the NHS number and one more identifier agree; a person still confirms. */
  proposed: boolean;
}

export interface MatchCandidatesResponse {
  candidates: MatchCandidate[];
}

/** A person confirms the match; `patientId` null removes a wrong match. */
export interface MatchRequest {
  patientId: string | null;
}

export interface TriageUpdate {
  category?: TriageCategory;
  urgency?: TriageUrgency;
  /** A staff account id; null returns it to the pool. */
  assigneeId?: string | null;
  status?: Exclude<TriageStatus, 'closed'>;
}

/** A reply to the contact details the request gave, recorded as a Communication in the matched patient's record. */
export interface RespondRequest {
  channel: 'sms' | 'email';
  /** One of the practice's reply templates (messaging templates), or 'free-text' (the default) with `text`. */
  template?: 'free-text' | 'oc-self-care' | 'oc-please-book' | 'oc-will-call';
  /** Plain sentences, no links or formatting (free text only). */
  text?: string;
}

export interface RespondResult {
  /** The outbox message queued (outbox_messages id). */
  messageId: string;
  channel: 'notify-sms' | 'notify-email';
  /** Where it goes (the patient's mobile or email as submitted, partly masked). */
  toMasked: string;
}

export interface BookRequest {
  /** An appointment slot (Slot id) from the appointments capability. */
  slotId: string;
}

export interface BookResult {
  appointmentId: string;
}

export interface ConsultResult {
  encounterId: string;
}

export interface CloseRequest {
  outcome: TriageOutcome;
  note?: string;
}

export interface TriageBacklog {
  untriaged: number;
  oldestUntriaged?: string;
  oldestAgeMinutes: number;
  /** Urgent or red-flagged and still open. */
  urgentOpen: number;
  /** When the oldest of those arrived. */
  oldestUrgent?: string;
  /** Urgent or red-flagged requests open longer than the alarm threshold. */
  urgentOverThreshold: number;
  urgentThresholdMinutes: number;
}
