/**
 * How the Medications tab sorts a patient's MedicationRequests. Pure; view.test.ts pins it.
 * FHIR R4 conventions only (status, courseOfTherapyType, basedOn, dispenseRequest), so it reads what
 * any writer stored: a repeat template is a continuous-course request; an issue is a request basedOn it.
 */
import type { MedicationRequest } from '../fhirTypes.ts';

export interface RepeatView {
  template: MedicationRequest;
  issues: MedicationRequest[];
  authorised: number | undefined;
  issuesLeft: number | undefined;
  reviewDate: string | undefined;
  /** The review date has passed: re-authorise before the next issue. */
  reviewDue: boolean;
}

export interface MedicationsView {
  acute: MedicationRequest[];
  repeats: RepeatView[];
  past: MedicationRequest[];
  /** Every issue (from a template, or an acute item), newest first. */
  history: MedicationRequest[];
}

const CURRENT = new Set(['active', 'on-hold', 'draft']);

export function isRepeatTemplate(m: MedicationRequest): boolean {
  return !m.basedOn?.length && (m.courseOfTherapyType?.coding ?? []).some((c) => c.code === 'continuous' || c.code === 'seasonal');
}

function templateOf(m: MedicationRequest): string | undefined {
  const ref = m.basedOn?.find((b) => b.reference?.startsWith('MedicationRequest/'))?.reference;
  return ref?.slice('MedicationRequest/'.length);
}

const newest = (a: MedicationRequest, b: MedicationRequest) => (b.authoredOn ?? '').localeCompare(a.authoredOn ?? '');

export function medicationsView(list: MedicationRequest[], today: string): MedicationsView {
  const live = list.filter((m) => m.status !== 'entered-in-error');
  const issuesByTemplate = new Map<string, MedicationRequest[]>();
  for (const m of live) {
    const t = templateOf(m);
    if (t) issuesByTemplate.set(t, [...(issuesByTemplate.get(t) ?? []), m]);
  }
  const repeats: RepeatView[] = [];
  const acute: MedicationRequest[] = [];
  const past: MedicationRequest[] = [];
  for (const m of live) {
    if (templateOf(m)) continue;
    if (!CURRENT.has(m.status)) {
      past.push(m);
      continue;
    }
    if (!isRepeatTemplate(m)) {
      acute.push(m);
      continue;
    }
    const issues = (issuesByTemplate.get(m.id ?? '') ?? []).sort(newest);
    const authorised = m.dispenseRequest?.numberOfRepeatsAllowed;
    const reviewDate = m.dispenseRequest?.validityPeriod?.end;
    repeats.push({
      template: m,
      issues,
      authorised,
      issuesLeft: authorised === undefined ? undefined : Math.max(0, authorised - issues.length),
      reviewDate,
      reviewDue: Boolean(reviewDate && reviewDate.slice(0, 10) < today),
    });
  }
  const history = live.filter((m) => templateOf(m) || !isRepeatTemplate(m)).sort(newest);
  return { acute: acute.sort(newest), repeats, past: past.sort(newest), history };
}

/** A stopped item keeps why it was stopped (statusReason), shown in the past list. */
export function stoppedBody(m: MedicationRequest, reason: string): MedicationRequest {
  return { ...m, status: 'stopped', statusReason: { text: reason.trim() } };
}
