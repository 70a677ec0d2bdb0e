/**
 * Incidents, pure so the hub, the practice node and the browser agree: what a region lead must say
 * when opening an incident, posting an update or closing it; what a practice sends back (an
 * acknowledgement, a structured report); what the banner at a practice says about how fresh its
 * news is (never a stale update shown as current); and the timeline exported for the review.
 */
import type { BacklogKind } from '../api.ts';
import { backlogKindLabels } from './api.ts';
import { heartbeatBacklogKinds, type HeartbeatBacklog } from './heartbeat.ts';
import type { PracticeCondition } from './rules.ts';

export const INCIDENT_PROTOCOL = 1;
/** Node to hub, signed like sync: "what incidents affect my practice" (long-poll). */
export const INCIDENT_POLL_PATH = '/api/region/incidents/poll';
/** Node to hub, signed, through the node's outbox: an acknowledgement or a practice's report. */
export const INCIDENT_MESSAGE_PATH = '/api/region/incidents/from-practice';
export const INCIDENT_CONTENT_TYPE = 'application/x-steadfast-incident+json';
/** The outbox channel the practice node's acknowledgements and reports leave by. */
export const INCIDENT_OUTBOX_CHANNEL = 'region-incident';
/** The longest a node's poll waits at the hub for something new. */
export const INCIDENT_POLL_MAX_WAIT_MS = 25_000;
/** A node that has not heard from the hub for this long shows its banner as "last known". */
export const INCIDENT_CONTACT_STALE_MS = 60_000;
/** A closed incident stays in the practices' banner (with its closing message) this long. */
export const CLOSED_INCIDENT_SHOWN_MS = 24 * 3600_000;

const MAX_TEXT = 4000;
const MAX_TITLE = 200;

export interface FieldProblem {
  field: string;
  message: string;
  hint?: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problems: FieldProblem[] };

// ---- what a region lead writes -------------------------------------------------------------------

/** An update: what is known, what practices should do, when the next update comes, and restoration if known. */
export interface IncidentUpdateInput {
  known: string;
  practicesShould: string;
  /** ISO instant, in the future when posted. */
  nextUpdateAt: string;
  /** ISO instant, when there is one. */
  expectedRestorationAt?: string | null;
}

export interface IncidentOpenInput extends IncidentUpdateInput {
  title: string;
  /** ODS codes of affected practices. */
  practices?: string[];
  /** Affected Primary Care Networks (every practice in them, as the hub's directory has them when opened). */
  pcns?: string[];
}

export interface IncidentCloseInput {
  /** What happened and that service is restored. */
  known: string;
  /** What practices should do now (e.g. "file the results that arrived during the outage"). */
  practicesShould: string;
  /**
   * The region lead confirmed closing although some affected practices have not been heard from
   * (their status is unknown: hazard INC-06, a wrong all clear). Without it such a close is refused.
   */
  confirmUnheard: boolean;
}

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');

function requireText(problems: FieldProblem[], value: unknown, field: string, label: string, max = MAX_TEXT): string {
  const t = text(value);
  if (!t) problems.push({ field, message: `Enter ${label}`, hint: `${field} is required` });
  else if (t.length > max) problems.push({ field, message: `${label[0]!.toUpperCase()}${label.slice(1)} must be ${max} characters or fewer`, hint: `shorten ${field}` });
  return t;
}

function instant(problems: FieldProblem[], value: unknown, field: string, label: string, now: Date, required: boolean): string | null {
  if (value === undefined || value === null || value === '') {
    if (required) problems.push({ field, message: `Enter ${label}`, hint: `${field} is required: a date and time, e.g. 2026-12-04T16:00:00Z` });
    return null;
  }
  const t = typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(t)) {
    problems.push({ field, message: `${label[0]!.toUpperCase()}${label.slice(1)} must be a real date and time`, hint: 'e.g. 2026-12-04T16:00:00Z' });
    return null;
  }
  if (t <= now.getTime()) {
    problems.push({ field, message: `${label[0]!.toUpperCase()}${label.slice(1)} must be in the future`, hint: 'practices are told when to expect it' });
    return null;
  }
  return new Date(t).toISOString();
}

/** Check an update (also the opening one); every problem is returned, each naming its field. */
export function checkIncidentUpdate(value: unknown, now: Date): Checked<IncidentUpdateInput> {
  const v = (value ?? {}) as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const known = requireText(problems, v.known, 'known', 'what is known');
  const practicesShould = requireText(problems, v.practicesShould, 'practicesShould', 'what practices should do');
  const nextUpdateAt = instant(problems, v.nextUpdateAt, 'nextUpdateAt', 'the time of the next update', now, true);
  const expectedRestorationAt = instant(problems, v.expectedRestorationAt, 'expectedRestorationAt', 'the expected restoration time', now, false);
  if (problems.length) return { ok: false, problems };
  return { ok: true, value: { known, practicesShould, nextUpdateAt: nextUpdateAt!, expectedRestorationAt } };
}

const ODS = /^[A-Z0-9]{3,10}$/;

export function checkIncidentOpen(value: unknown, now: Date): Checked<IncidentOpenInput> {
  const v = (value ?? {}) as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const title = requireText(problems, v.title, 'title', 'a title', MAX_TITLE);
  const list = (x: unknown, field: string): string[] => {
    if (x === undefined || x === null) return [];
    if (!Array.isArray(x) || x.some((e) => typeof e !== 'string')) {
      problems.push({ field, message: `${field} must be a list of names`, hint: 'e.g. ["A82001"]' });
      return [];
    }
    return [...new Set(x.map((e: string) => e.trim()).filter(Boolean))];
  };
  const practices = list(v.practices, 'practices').map((p) => p.toUpperCase());
  const pcns = list(v.pcns, 'pcns');
  const bad = practices.find((p) => !ODS.test(p));
  if (bad) problems.push({ field: 'practices', message: `"${bad}" is not an ODS code`, hint: 'ODS codes are 3 to 10 capital letters and digits, e.g. A82001' });
  if (!practices.length && !pcns.length && !problems.some((p) => p.field === 'practices' || p.field === 'pcns')) {
    problems.push({ field: 'practices', message: 'Choose the affected practices or PCNs', hint: 'practices or pcns is required: at least one' });
  }
  const update = checkIncidentUpdate(v, now);
  if (!update.ok) problems.push(...update.problems);
  if (problems.length || !update.ok) return { ok: false, problems };
  return { ok: true, value: { ...update.value, title, practices, pcns } };
}

export function checkIncidentClose(value: unknown): Checked<IncidentCloseInput> {
  const v = (value ?? {}) as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const known = requireText(problems, v.known, 'known', 'what happened and that service is restored');
  const practicesShould = requireText(problems, v.practicesShould, 'practicesShould', 'what practices should do now');
  if (v.confirmUnheard !== undefined && typeof v.confirmUnheard !== 'boolean') problems.push({ field: 'confirmUnheard', message: 'confirmUnheard must be true or false', hint: 'send true only after checking the practices not heard from' });
  if (problems.length) return { ok: false, problems };
  return { ok: true, value: { known, practicesShould, confirmUnheard: v.confirmUnheard === true } };
}

/** Conditions in which the hub does not know whether a practice is working (closing then needs a confirmation). */
export const UNHEARD_CONDITIONS: readonly PracticeCondition[] = ['unreachable', 'unknown'];

/** The affected practices whose status the hub does not know now. */
export function unheardPractices(views: readonly IncidentPracticeView[]): IncidentPracticeView[] {
  return views.filter((p) => UNHEARD_CONDITIONS.includes(p.condition));
}

/** "Riverside Surgery (A82001), last heard from 14:05 4-Dec-2026" or "... , never heard from" (UTC, for the API's message). */
export function unheardText(p: IncidentPracticeView): string {
  const who = p.name ? `${p.name} (${p.practice})` : p.practice;
  return p.lastHeartbeatAt ? `${who}, last heard from ${p.lastHeartbeatAt.slice(0, 16).replace('T', ' ')} UTC` : `${who}, never heard from`;
}

// ---- incidents as they are read -------------------------------------------------------------------

export type IncidentStatus = 'open' | 'closed';
export type IncidentUpdateKind = 'opened' | 'update' | 'closed';

export interface IncidentUpdate {
  id: string;
  incidentId: string;
  /** 1 for the opening, rising. */
  seq: number;
  kind: IncidentUpdateKind;
  known: string;
  practicesShould: string;
  nextUpdateAt: string | null;
  expectedRestorationAt: string | null;
  postedAt: string;
  postedBy: string;
}

export interface IncidentSummary {
  id: string;
  title: string;
  status: IncidentStatus;
  openedAt: string;
  closedAt: string | null;
  /** Affected practices (resolved from the PCNs when opened). */
  practices: string[];
  pcns: string[];
  latest: IncidentUpdate;
}

/** What the hub answers a node's poll: the incidents affecting its practice, open or closed in the last day. */
export interface PracticeIncidentsAnswer {
  protocol: typeof INCIDENT_PROTOCOL;
  practice: string;
  /** Changes whenever anything in `incidents` does; the node sends it back to wait for the next change. */
  revision: string;
  checkedAt: string;
  incidents: Array<Omit<IncidentSummary, 'practices' | 'pcns'>>;
}

export interface PracticeIncidentsPoll {
  protocol: typeof INCIDENT_PROTOCOL;
  practice: string;
  nodeId: string;
  /** The revision the node holds ('' for none): the hub answers at once when its own differs. */
  since: string;
  waitMs: number;
}

// ---- what a practice sends back -------------------------------------------------------------------

/** Areas of work a practice can report as not working (the structured part of the report). */
export const reportAreas = {
  'clinical-system': 'Clinical record or patient search',
  appointments: 'Appointments',
  'pathology-results': 'Pathology requests or results',
  prescribing: 'Prescribing',
  documents: 'Documents and letters',
  'online-consultations': 'Online consultations',
  messaging: 'Texts and emails to patients',
  'phones-network': 'Telephones or network',
  other: 'Something else (say in the details)',
} as const;
export type ReportArea = keyof typeof reportAreas;

export interface PracticeReport {
  notWorking: ReportArea[];
  /** What else the practice wants the region to know about what is not working. */
  details: string;
  /** The backlog as the practice sees it, in its words ("about 60 results unfiled, 2 days of letters"). */
  backlog: string;
  /** What help the practice needs ("none" is an answer). */
  helpNeeded: string;
}

export function checkPracticeReport(value: unknown): Checked<PracticeReport> {
  const v = (value ?? {}) as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const areas = Array.isArray(v.notWorking) ? v.notWorking : [];
  const unknown = areas.find((a) => typeof a !== 'string' || !(a in reportAreas));
  if (unknown !== undefined) problems.push({ field: 'notWorking', message: `"${String(unknown)}" is not one of the areas listed`, hint: `one of ${Object.keys(reportAreas).join(', ')}` });
  else if (!areas.length) problems.push({ field: 'notWorking', message: 'Select what is not working', hint: 'notWorking is required: at least one area' });
  const details = text(v.details);
  if (details.length > MAX_TEXT) problems.push({ field: 'details', message: `Details must be ${MAX_TEXT} characters or fewer` });
  if (areas.includes('other') && !details) problems.push({ field: 'details', message: 'Say what else is not working', hint: 'details is required when "something else" is selected' });
  const backlog = requireText(problems, v.backlog, 'backlog', 'your backlog (for example "about 60 results unfiled")');
  const helpNeeded = requireText(problems, v.helpNeeded, 'helpNeeded', 'the help you need (or "none")');
  if (problems.length) return { ok: false, problems };
  return { ok: true, value: { notWorking: [...new Set(areas as ReportArea[])], details, backlog, helpNeeded } };
}

interface MessageBase {
  protocol: typeof INCIDENT_PROTOCOL;
  /** Names what the message is (the outbox key); the hub records each one once. */
  messageId: string;
  practice: string;
  nodeId: string;
  incidentId: string;
  /** Who at the practice, and when they did it (the node's time). */
  by: { name: string; role: string };
  at: string;
}

export type PracticeIncidentMessage =
  | (MessageBase & { kind: 'acknowledgement'; updateId: string })
  | (MessageBase & { kind: 'report'; report: PracticeReport });

/** Check a message's frame (who, what, when); a report's body is checked by checkPracticeReport. */
export function checkPracticeMessage(value: unknown, now: Date): Checked<PracticeIncidentMessage> {
  const v = (value ?? {}) as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  if (v.protocol !== INCIDENT_PROTOCOL) problems.push({ field: 'protocol', message: `protocol must be ${INCIDENT_PROTOCOL}` });
  for (const f of ['messageId', 'practice', 'nodeId', 'incidentId'] as const) {
    if (typeof v[f] !== 'string' || !v[f] || (v[f] as string).length > 200) problems.push({ field: f, message: `${f} is required` });
  }
  const by = v.by as Record<string, unknown> | undefined;
  if (!by || typeof by.name !== 'string' || !by.name || typeof by.role !== 'string' || !by.role) problems.push({ field: 'by', message: 'by (name and role of the person) is required' });
  const at = typeof v.at === 'string' ? Date.parse(v.at) : NaN;
  if (!Number.isFinite(at)) problems.push({ field: 'at', message: 'at must be an ISO instant' });
  else if (at > now.getTime() + 5 * 60_000) problems.push({ field: 'at', message: 'at is in the future', hint: "check the practice node's clock" });
  if (v.kind === 'acknowledgement') {
    if (typeof v.updateId !== 'string' || !v.updateId) problems.push({ field: 'updateId', message: 'updateId (the update acknowledged) is required' });
  } else if (v.kind === 'report') {
    const r = checkPracticeReport(v.report);
    if (!r.ok) problems.push(...r.problems.map((p) => ({ ...p, field: `report.${p.field}` })));
  } else {
    problems.push({ field: 'kind', message: 'kind must be acknowledgement or report' });
  }
  if (problems.length) return { ok: false, problems };
  return { ok: true, value: v as unknown as PracticeIncidentMessage };
}

// ---- the banner at a practice ---------------------------------------------------------------------

export interface BannerFreshness {
  /** True when the banner must not be read as current: the hub is not being reached, or an update is overdue. */
  stale: boolean;
  notices: string[];
}

const hhmm = (iso: string) => iso.slice(11, 16) + ' UTC';

/**
 * How fresh is what the practice sees (hazard REG-INC-02): a banner is "current" only while the node
 * hears from the hub and the next update is not overdue; otherwise it says so, with times.
 */
export function bannerFreshness(incident: { status: IncidentStatus; latest: Pick<IncidentUpdate, 'postedAt' | 'nextUpdateAt'> }, contact: { lastContactAt: string | null; now: Date }): BannerFreshness {
  const notices: string[] = [];
  const now = contact.now.getTime();
  const heard = contact.lastContactAt ? Date.parse(contact.lastContactAt) : NaN;
  if (!Number.isFinite(heard) || now - heard > INCIDENT_CONTACT_STALE_MS) {
    notices.push(`The regional hub has not been reached since ${contact.lastContactAt ? hhmm(contact.lastContactAt) : 'this node started'}: this is the last update received (posted ${hhmm(incident.latest.postedAt)}), there may be a newer one`);
  }
  if (incident.status === 'open' && incident.latest.nextUpdateAt && Date.parse(incident.latest.nextUpdateAt) < now) {
    notices.push(`The next update was due at ${hhmm(incident.latest.nextUpdateAt)} and has not arrived`);
  }
  return { stale: notices.length > 0, notices };
}

// ---- the node's own API for its staff ----------------------------------------------------------------

export interface BannerIncident extends Omit<IncidentSummary, 'practices' | 'pcns'> {
  freshness: BannerFreshness;
  /** This user's acknowledgement of the latest update: when, and whether it has reached the hub. */
  acknowledged: { at: string; delivered: boolean } | null;
  /** Reports this practice sent about this incident, and whether each has reached the hub. */
  reports: Array<{ id: string; at: string; by: string; delivered: boolean; report: PracticeReport }>;
}

/** GET /api/incidents at a practice node. */
export interface BannerResponse {
  /** Whether the node has a regional hub to hear from at all. */
  connected: boolean;
  lastContactAt: string | null;
  checkedAt: string;
  incidents: BannerIncident[];
}

// ---- the hub's incident page ----------------------------------------------------------------------

export interface IncidentAcknowledgementView {
  updateId: string;
  updateSeq: number;
  by: string;
  role: string;
  at: string;
  receivedAt: string;
}

export interface IncidentReportView {
  id: string;
  by: string;
  role: string;
  at: string;
  receivedAt: string;
  report: PracticeReport;
}

export interface IncidentPracticeView {
  practice: string;
  name: string | null;
  pcn: string | null;
  /** The practice's condition at the hub now: unreachable or unknown means its status is not known. */
  condition: PracticeCondition;
  /** When the hub last received a heartbeat from the practice, null when never. */
  lastHeartbeatAt: string | null;
  /** Someone at the practice acknowledged the latest update. */
  latestAcknowledged: boolean;
  acknowledgements: IncidentAcknowledgementView[];
  reports: IncidentReportView[];
}

export interface IncidentDetail extends IncidentSummary {
  updates: IncidentUpdate[];
  practiceViews: IncidentPracticeView[];
}

export interface IncidentListResponse {
  incidents: IncidentSummary[];
}

// ---- the timeline ---------------------------------------------------------------------------------

export interface TimelineRow {
  at: string;
  event: 'opened' | 'update' | 'closed' | 'acknowledgement' | 'report' | 'backlog';
  practice: string;
  who: string;
  detail: string;
  /** Backlog rows: the counts reported by the practice's heartbeat. */
  backlog?: HeartbeatBacklog[];
}

/** The incident's timeline in time order: updates, acknowledgements, reports and each heartbeat's backlog during it. */
export function incidentTimeline(detail: IncidentDetail, heartbeats: Array<{ practice: string; receivedAt: string; backlog: HeartbeatBacklog[] }>): TimelineRow[] {
  const rows: TimelineRow[] = [];
  for (const u of detail.updates) {
    const times = [u.nextUpdateAt ? `next update ${u.nextUpdateAt}` : '', u.expectedRestorationAt ? `expected restoration ${u.expectedRestorationAt}` : ''].filter(Boolean).join('; ');
    rows.push({ at: u.postedAt, event: u.kind, practice: '', who: u.postedBy, detail: `Known: ${u.known} | Practices should: ${u.practicesShould}${times ? ` | ${times}` : ''}` });
  }
  for (const p of detail.practiceViews) {
    for (const a of p.acknowledgements) rows.push({ at: a.at, event: 'acknowledgement', practice: p.practice, who: `${a.by} (${a.role})`, detail: `Acknowledged update ${a.updateSeq} (reached the hub ${a.receivedAt})` });
    for (const r of p.reports) {
      const areas = r.report.notWorking.map((a) => reportAreas[a]).join(', ');
      rows.push({ at: r.at, event: 'report', practice: p.practice, who: `${r.by} (${r.role})`, detail: `Not working: ${areas}${r.report.details ? ` (${r.report.details})` : ''} | Backlog: ${r.report.backlog} | Help needed: ${r.report.helpNeeded} (reached the hub ${r.receivedAt})` });
    }
  }
  for (const h of heartbeats) rows.push({ at: h.receivedAt, event: 'backlog', practice: h.practice, who: '', detail: 'Heartbeat', backlog: h.backlog });
  return rows.sort((a, b) => a.at.localeCompare(b.at) || a.practice.localeCompare(b.practice));
}

/** One CSV cell: quoted, and a leading = + - @ neutralised so a spreadsheet does not run it as a formula. */
function cell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** The timeline as CSV (RFC 4180, CRLF), one column per backlog kind (empty: not reported). */
export function timelineCsv(rows: readonly TimelineRow[]): string {
  const kinds: readonly BacklogKind[] = heartbeatBacklogKinds;
  const header = ['Time (UTC)', 'Event', 'Practice', 'Who', 'Detail', ...kinds.map((k) => backlogKindLabels[k])];
  const lines = [header.map(cell).join(',')];
  for (const r of rows) {
    const counts = kinds.map((k) => {
      const b = r.backlog?.find((x) => x.kind === k);
      return b ? String(b.count) : '';
    });
    lines.push([r.at, r.event, r.practice, r.who, r.detail, ...counts].map(cell).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
