/**
 * The drill's part for online consultations: during the cut, patients of every practice submit to
 * whichever side they can reach: their practice's node, the regional hub (reached directly, not
 * through the practice's broken link), and some to both (a retry at the hub, then at the node, with
 * the same device id). A submission counts once it is acknowledged (201, 200 repeat, 202 kept raw).
 * After the network is restored: every acknowledged submission is in its practice's triage inbox
 * exactly once, with the reference it was given, and is triaged (closed) once.
 */
import { randomUUID } from 'node:crypto';
import type { SubmissionPayload } from '@steadfast/domain/api';
import { CURRENT_QUESTIONNAIRE } from '@steadfast/domain/online-consultations';
import { Random } from '@steadfast/domain/random';
import { testNhsNumber } from '@steadfast/domain/nhs-number';
import type { StaffClient } from './workload.ts';

/** Passed to the drill's hub and node processes: open all day, and the drill is one client address. */
export const DRILL_OC_ENV = { STEADFAST_OC_HOURS: 'always', STEADFAST_OC_RATE_PER_MINUTE: '100000' };

interface Sent {
  practice: string;
  submissionId: string;
  reference: string;
  via: 'node' | 'hub' | 'both';
  day: number;
}

export interface ConsultationDrillResult {
  acknowledged: number;
  byVia: Record<'node' | 'hub' | 'both', number>;
  /** Submissions a side could not take (the hub down): the patient went to the other side. */
  redirected: number;
  triaged: number;
  failures: string[];
}

function submission(random: Random, day: number): SubmissionPayload {
  const medical = random.int(0, 2) > 0;
  const kind = medical ? 'medical' : 'admin';
  return {
    submissionId: randomUUID(),
    questionnaireVersion: CURRENT_QUESTIONNAIRE.version,
    kind,
    redFlags: Object.fromEntries(CURRENT_QUESTIONNAIRE.redFlags.filter((q) => q.kinds.includes(kind)).map((q) => [q.linkId, false])),
    answers: medical ? { symptoms: `Drill day ${day}: a cough that will not go away`, duration: 'weeks', want: 'Advice' } : { 'admin-type': 'fit-note', details: `Drill day ${day}: a fit note please` },
    identity: { givenName: 'Drill', familyName: `Patient${random.int(1, 999)}`, birthDate: '1970-01-01', postcode: 'LS1 4AP', mobile: '07700 900001', nhsNumber: testNhsNumber(random.int(1, 9000)) },
    contactPreference: 'sms',
  };
}

async function post(baseUrl: string, practice: string, body: SubmissionPayload): Promise<{ status: number; reference?: string }> {
  try {
    const res = await fetch(`${baseUrl}/api/public/online-consultations/${practice}/submissions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    const json = (await res.json().catch(() => ({}))) as { reference?: string };
    return { status: res.status, ...(json.reference ? { reference: json.reference } : {}) };
  } catch {
    return { status: 0 };
  }
}

const acknowledged = (status: number) => status === 201 || status === 200 || status === 202;

export class ConsultationDrill {
  readonly sent: Sent[] = [];
  private redirected = 0;
  private readonly failures: string[] = [];

  constructor(
    private readonly practices: string[],
    private readonly hubUrl: () => string,
    private readonly nodeUrl: (practice: string) => string,
    private readonly seed: string,
  ) {}

  /** One outage day: per practice one submission to the node, one to the hub, one to both. */
  async day(day: number): Promise<void> {
    await Promise.all(this.practices.map(async (practice) => {
      const random = Random.for(this.seed, `oc|${practice}|${day}`);
      for (const via of ['node', 'hub', 'both'] as const) {
        const s = submission(random, day);
        const first = await post(via === 'node' ? this.nodeUrl(practice) : this.hubUrl(), practice, s);
        let reference = acknowledged(first.status) ? first.reference : undefined;
        let tookIt: Sent['via'] = via === 'both' ? 'hub' : via;
        if (via === 'both' || !reference) {
          // The patient tries the other side: a retry with the same device id (or the hub is down).
          const other = await post(via === 'node' ? this.hubUrl() : this.nodeUrl(practice), practice, s);
          if (acknowledged(other.status)) {
            if (reference && other.reference !== reference) this.failures.push(`${practice} submission ${s.submissionId} got two references (${reference}, ${other.reference})`);
            tookIt = reference ? 'both' : via === 'node' ? 'hub' : 'node';
            if (!reference) this.redirected++;
            reference ??= other.reference;
          }
        }
        if (reference) this.sent.push({ practice, submissionId: s.submissionId, reference, via: tookIt, day });
      }
    }));
  }

  /** After convergence, at each practice's main node: each acknowledged request listed once, then closed once. */
  async triageAfter(staffOf: (practice: string) => StaffClient): Promise<ConsultationDrillResult> {
    let triaged = 0;
    for (const practice of this.practices) {
      const staff = staffOf(practice);
      const listed = new Map<string, string[]>();
      let cursor: string | undefined;
      do {
        const { body } = await staff.call<{ items: Array<{ id: string; reference: string }>; nextCursor?: string }>('GET', `/api/online-consultations?status=open&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        for (const i of body.items) listed.set(i.reference, [...(listed.get(i.reference) ?? []), i.id]);
        cursor = body.nextCursor;
      } while (cursor);
      for (const s of this.sent.filter((x) => x.practice === practice)) {
        const ids = listed.get(s.reference) ?? [];
        if (ids.length !== 1) {
          this.failures.push(`${practice} ${s.reference} (taken at ${s.via}, day ${s.day}) is in the triage inbox ${ids.length} times`);
          continue;
        }
        const closed = await staff.call<{ history: Array<{ action: string }> }>('POST', `/api/online-consultations/${encodeURIComponent(ids[0]!)}/close`, { outcome: 'advice-given', note: 'drill' });
        if (closed.body.history.filter((h) => h.action === 'closed').length !== 1) this.failures.push(`${practice} ${s.reference} was closed more than once`);
        else triaged++;
      }
      const left = await staff.call<{ total: number }>('GET', '/api/online-consultations?status=open&limit=1');
      if (left.body.total !== 0) this.failures.push(`${practice} still has ${left.body.total} open online consultations after triage`);
    }
    const byVia = { node: 0, hub: 0, both: 0 };
    for (const s of this.sent) byVia[s.via]++;
    return { acknowledged: this.sent.length, byVia, redirected: this.redirected, triaged, failures: this.failures };
  }
}
