/**
 * The shapes of the node's JSON API that the staff web app reads, defined once for server and web.
 * Types only: importing this module costs the browser nothing. A change here is a change to the API,
 * and both sides are typechecked against it.
 */
import type { HumanName } from '@medplum/fhirtypes';
import type { Role } from './access.ts';

// ---- GET /api/status ----------------------------------------------------------------------------
export type ServiceState = 'connected' | 'disconnected' | 'degraded' | 'not-configured' | 'unknown';

/** One service in the status bar (the hub, the laboratory link, the audit trail...). */
export interface ServiceStatus {
  name: string;
  label: string;
  state: ServiceState;
  /** When the service entered this state (ISO instant). */
  since?: string;
  /** How many items are waiting in this service's queue (outbox, inbox...). */
  queued?: number;
  /** When the node last heard from the service successfully (ISO instant). */
  lastContact?: string;
  /** A short explanation for staff ("MESH mailbox refused the certificate"). */
  detail?: string;
}

export interface StatusResponse {
  checkedAt: string;
  node: { practice: string; nodeId: string; role: 'node' | 'hub' };
  services: ServiceStatus[];
}

// ---- panic alarms (GET /api/alarm/stream, POST /api/alarm) ----------------------------------------
export interface Alarm {
  id: string;
  raisedAt: string;
  raisedBy: { id: string; name: string; role: string };
  workstation: string;
  room: string;
  /** False when the workstation has no room mapped: the alert says so instead of guessing. */
  roomKnown: boolean;
  acks: Array<{ id: string; name: string; at: string }>;
  resolved?: { name: string; at: string };
}

// ---- GET /api/tasks ------------------------------------------------------------------------------
export interface TaskSummary {
  open: number;
  overdue: number;
  byStatus: Record<string, number>;
  /** The open task waiting longest, and for how many whole days. */
  oldestOpen?: { id: string; authoredOn: string; ageDays: number; description?: string };
}

/** Someone a task can be assigned to (GET /api/tasks/assignees). */
export interface Assignee {
  id: string;
  name: string;
  role: Role;
}

// ---- GET /api/pathology/inbox ---------------------------------------------------------------------
export interface ResultsInboxItem {
  taskId: string;
  reportId: string;
  /** `Patient/id` */
  patient: string;
  description: string;
  priority: string;
  /** The staff account the review is assigned to; null for the pool. */
  owner: string | null;
  authoredOn: string;
  flags: string[];
  /** Who the result is for, so a row is never read as another patient's: name, NHS number, birth date. */
  patientDetails: { name?: HumanName; nhsNumber?: string; birthDate?: string } | null;
  /** Values outside their range, as the laboratory flagged them (H, L, HH, LL, A, AA). */
  abnormal: Array<{ test: string; flag: string }>;
}

/** How big and how old the results backlog is: the figures a practice and the hub watch. */
export interface ResultsBacklog {
  count: number;
  urgent: number;
  oldestAuthoredOn: string | null;
  oldestAgeHours: number;
  /** Received from the laboratory and not filed yet. */
  waitingToFile: number;
  oldestWaitingToFile: string | null;
}

export interface ResultsInbox {
  items: ResultsInboxItem[];
  backlog: ResultsBacklog;
}

// ---- GET /api/backlog (and the hub's view of each practice) ----------------------------------------
/** What a backlog is of; the hub shows each practice's figures by kind. */
export type BacklogKind =
  | 'results-unfiled'
  | 'results-unreviewed'
  | 'documents-unfiled'
  | 'documents-unmatched'
  | 'documents-with-problem'
  | 'consultations-untriaged'
  | 'consultations-urgent-open'
  | 'outbox-waiting'
  | 'outbox-failed'
  | 'tasks-overdue'
  | 'replication-waiting'
  | 'messages-awaiting-receipt'
  | 'replies-unread'
  | 'repeat-requests-waiting'
  | 'repeat-requests-unmatched';

/** A count of waiting work and the age of its oldest item: counts only, never patient data. */
export interface BacklogFigure {
  kind: BacklogKind;
  /** For people: "Results waiting for review". */
  label: string;
  count: number;
  /** When the oldest waiting item arrived (ISO instant), when there is one. */
  oldest?: string;
}

export interface BacklogResponse {
  checkedAt: string;
  practice: string;
  figures: BacklogFigure[];
}

// ---- GET /api/auth/2fa -----------------------------------------------------------------------------
/** Who must use two-factor sign-in: practice administrators only, or everyone. */
export type TwoFactorPolicy = 'admins' | 'all';

export interface TwoFactorStatus {
  enabled: boolean;
  /** Enrolment started and waiting for its first code. */
  pending: boolean;
  /** This user must have 2FA (administrator, or the practice requires it for all). */
  required: boolean;
  /** Required and not yet enabled: the session may only enrol. */
  mustEnrol: boolean;
  recoveryCodesLeft: number;
  policy: TwoFactorPolicy;
}
export type * from './api/online-consultations.ts';
export type * from './api/outbox.ts';
export type * from './api/documents.ts';
export type * from './api/medicines.ts';

export * from './api-messaging.ts';
