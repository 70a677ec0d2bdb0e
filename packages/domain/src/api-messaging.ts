/** The JSON API of patient messaging (GOV.UK Notify), shared by the server and the staff web app. */

export type MessageChannelKind = 'sms' | 'email' | 'letter';

/** Where a message is: ours until Notify has it, then Notify's statuses. */
export type DeliveryStatus =
  | 'queued'
  | 'sending'
  | 'sent'
  | 'delivered'
  | 'permanent-failure'
  | 'temporary-failure'
  | 'technical-failure'
  | 'failed'
  | 'cancelled';

/** A practice template (GET/PUT /api/messaging/templates). Placeholders are ((name)). */
export interface MessageTemplate {
  key: string;
  label: string;
  channel: MessageChannelKind;
  body: string;
  subject?: string;
  /** Placeholders the body uses, e.g. ['first_name', 'date']. */
  placeholders: string[];
  updatedAt?: string;
}

/** A message in a patient's record (GET /api/messaging/patients/:id/messages). */
export interface PatientMessage {
  communicationId: string;
  category: string;
  channel: MessageChannelKind;
  to: string;
  body: string;
  status: DeliveryStatus;
  /** Notify's or the outbox's error text, for a person, when it failed. */
  error?: string;
  sentBy?: string;
  createdAt: string;
  updatedAt?: string;
}

/** POST /api/messaging/patients/:id/messages */
export interface SendMessageRequest {
  /** A template key (e.g. 'result-normal', 'free-text'). */
  template: string;
  channel?: MessageChannelKind;
  /** For the 'free-text' template. */
  text?: string;
  /** A record reference the message is about, e.g. DiagnosticReport/123. */
  about?: string;
}

/** A text message from a patient (GET /api/messaging/replies). */
export interface PatientReply {
  id: string;
  from: string;
  message: string;
  receivedAt: string;
  patient?: { id: string; name: string };
  readAt?: string;
  /** Who marked it dealt with. */
  readBy?: string;
}

/** A service disruption broadcast (POST/GET /api/messaging/broadcasts). */
export interface Broadcast {
  id: string;
  from: string;
  to: string;
  reason: string;
  state: 'queuing' | 'queued' | 'stopped' | 'failed';
  /** Patients booked in the range. */
  patients: number;
  queued: number;
  /** Patients skipped (no mobile, no consent, do not contact). */
  skipped: number;
  /** Queued messages whose Communication is not yet in the patients' records (written just after queuing). */
  unrecorded?: number;
  createdAt: string;
  createdBy: string;
  error?: string;
}

/** Contact details and preferences (GET/PUT /api/messaging/patients/:id/contact). */
export interface PatientContact {
  mobile?: string;
  email?: string;
  smsConsent: boolean;
  doNotContact: boolean;
  reasonableAdjustments: string[];
}

/** Who a service disruption broadcast would tell (POST /api/messaging/broadcasts/preview). */
export interface BroadcastPreview {
  from: string;
  to: string;
  /** Appointments booked in the range. */
  appointments: number;
  /** Patients booked in the range, each counted once however many appointments they have. */
  patients: number;
  /** Patients who will be texted. */
  reachable: number;
  /** Patients who cannot be texted, by reason, so reception can tell them another way. */
  unreachableByReason: Array<{ reason: string; count: number }>;
  /** The first of those patients (up to 500), with their appointment. */
  unreachable: Array<{ patientId: string; name: string; when: string; reason: string }>;
  /** Earlier broadcasts not stopped whose range overlaps this one (a second one texts patients again). */
  overlapping: Broadcast[];
}

/** Delivery to patients, by channel and status (GET /api/messaging/deliveries). */
export interface DeliverySummary {
  counts: Array<{ channel: MessageChannelKind; status: DeliveryStatus; count: number }>;
  /** Recent messages that were not delivered, newest first, with the reason. */
  failures: Array<{ outboxId: string; communicationId: string; patientId: string; patientName: string; channel: MessageChannelKind; status: DeliveryStatus; error: string; updatedAt: string }>;
}

/** The results messages a clinician may choose when filing a result (templates of the same key). */
export type ResultMessageTemplate = 'result-normal' | 'result-book-routine';

/**
 * What became of the results message asked for on filing (POST /api/pathology/inbox/:id/file with
 * `message`): queued to the patient, or, when they cannot be texted or emailed, a task for reception
 * to tell them another way.
 */
export type ResultMessageOutcome =
  | { outcome: 'queued'; template: ResultMessageTemplate; channel: MessageChannelKind; communicationId: string; outboxId: string }
  | { outcome: 'reception-task'; template: ResultMessageTemplate; taskId: string; reason: string };
