/**
 * The drill's region part (issue 13): what the regional hub shows of the practices through the outage,
 * read as a region lead reads it (GET /api/region/... with a hub staff account), and an incident run
 * through it.
 *
 * - Before the cut: the hub's view of each practice has caught up with the practice's own backlog.
 * - Once the hub is back but the practices' network is still cut: each practice is shown unreachable,
 *   with its last known backlog (what the region page labels "at least, as of <time>"), never more
 *   than the practice really has waiting.
 * - A region lead opens an incident for the drill's practices then, and posts an update once the
 *   network is back; after convergence every practice's banner shows the update, someone at each
 *   practice acknowledges it and sends a report (each twice, as a double click would: through the
 *   practice's outbox), and the incident's CSV timeline holds the updates, each practice's
 *   acknowledgement and its report exactly once, in order.
 * - After the network returns: each practice's latest backlog at the hub equals the practice's own
 *   GET /api/backlog, and its heartbeat history shows the outage as a curve: up from before the cut,
 *   down again by the end.
 *
 * The checks are pure functions of what was read (exported; region.test.ts feeds them wrong figures).
 */
import { randomUUID } from 'node:crypto';
import type { BacklogFigure, BacklogKind, BacklogResponse } from '@steadfast/domain/api';
import type { BannerResponse, HeartbeatHistoryPoint, IncidentDetail, PracticeHistoryResponse, RegionPracticesResponse, RegionPracticeView } from '@steadfast/domain/region';
import { heartbeatBacklog } from '../region/heartbeat.ts';
import { addHubUser, firstSignIn } from '../region/hub-accounts.ts';
import type { DrillCluster } from './processes.ts';
import type { ProxyMode } from './proxy.ts';
import type { StaffClient } from './workload.ts';

const LEAD = { username: 'drill.region.lead', password: 'drill region lead passphrase' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type Counts = Partial<Record<BacklogKind, number>>;

/** A node's figures as its heartbeat carries them (known kinds, two capabilities' figures of one kind added). */
export function countsOf(figures: readonly BacklogFigure[]): Counts {
  return Object.fromEntries(heartbeatBacklog(figures).map((b) => [b.kind, b.count]));
}

const total = (c: Counts) => Object.values(c).reduce((a: number, n) => a + (n ?? 0), 0);
const pointCounts = (p: HeartbeatHistoryPoint): Counts => Object.fromEntries(p.backlog.map((b) => [b.kind, b.count]));

/** The hub's backlog of a practice against the practice's own: every kind the node measures, the same count. */
export function backlogMismatches(practice: string, view: RegionPracticeView | undefined, atNode: Counts): string[] {
  if (!view) return [`${practice} is not on the hub's region view`];
  const out: string[] = [];
  const kinds = new Set([...Object.keys(atNode), ...Object.keys(view.backlog)] as BacklogKind[]);
  for (const kind of kinds) {
    const node = atNode[kind];
    const hub = view.backlog[kind];
    // The hub may know a kind the node leaves out only from its own records (changes waiting at the nodes).
    if (node === undefined && (hub === null || hub === undefined || (kind === 'replication-waiting' && hub === 0))) continue;
    if (hub !== node) out.push(`${practice} ${kind}: the hub shows ${hub === null || hub === undefined ? 'not reported' : hub}, the practice has ${node ?? 'not reported'}`);
  }
  return out;
}

/**
 * During the cut: the practice is unreachable, its figures are the last heartbeat the hub received
 * (shown as "at least"), and they are not more than the practice really has waiting now.
 */
export function unreachableMismatches(practice: string, view: RegionPracticeView | undefined, lastReceived: HeartbeatHistoryPoint | undefined, atNodeNow: Counts): string[] {
  if (!view) return [`${practice} is not on the hub's region view`];
  const out: string[] = [];
  if (view.condition !== 'unreachable') out.push(`${practice} is shown ${view.condition}, not unreachable, while its network is cut`);
  else if (!/figures are as last reported/.test(view.reasons[0] ?? '')) out.push(`${practice} is unreachable but its figures are not said to be the last reported: ${view.reasons.join('; ')}`);
  if (!lastReceived) return [...out, `${practice} has no heartbeat in the hub's history`];
  if (view.backlogAsOf !== lastReceived.sentAt) out.push(`${practice} figures are shown as of ${view.backlogAsOf}, its last heartbeat was sent ${lastReceived.sentAt}`);
  const last = pointCounts(lastReceived);
  for (const kind of Object.keys(last) as BacklogKind[]) {
    const shown = view.backlog[kind];
    // Changes waiting at the nodes: the hub may know more than the heartbeat said (never less).
    const ok = kind === 'replication-waiting' ? (shown ?? -1) >= last[kind]! : shown === last[kind];
    if (!ok) out.push(`${practice} ${kind}: shown ${shown ?? 'not reported'}, its last heartbeat said ${last[kind]}`);
  }
  const shownTotal = total(Object.fromEntries(Object.entries(view.backlog).filter(([, v]) => typeof v === 'number')) as Counts);
  if (shownTotal > total(atNodeNow)) out.push(`${practice}: the hub shows a backlog of ${shownTotal} "at least", more than the ${total(atNodeNow)} the practice has`);
  return out;
}

/**
 * The heartbeat history over the outage (one node's): the last point before the cut, the highest
 * point received after it, and the last point; the backlog rose (highest above before) and fell
 * (last below highest, and equal to what the practice has at the end).
 */
export function curveMismatches(practice: string, history: readonly HeartbeatHistoryPoint[], cutAt: number, finalAtNode: Counts): string[] {
  const before = history.filter((p) => Date.parse(p.receivedAt) < cutAt).pop();
  const after = history.filter((p) => Date.parse(p.receivedAt) >= cutAt);
  if (!before) return [`${practice}: no heartbeat before the cut in the history`];
  if (!after.length) return [`${practice}: no heartbeat after the cut in the history`];
  const totals = after.map((p) => total(pointCounts(p)));
  const peak = Math.max(...totals);
  const last = totals[totals.length - 1]!;
  const out: string[] = [];
  const b = total(pointCounts(before));
  if (peak <= b) out.push(`${practice}: the backlog never rose above ${b} (before the cut) in the history after it (highest ${peak})`);
  if (last >= peak) out.push(`${practice}: the backlog did not fall after the outage (last ${last}, highest ${peak})`);
  if (last !== total(finalAtNode)) out.push(`${practice}: the last heartbeat's backlog ${last} is not the practice's ${total(finalAtNode)}`);
  return out;
}

/** RFC 4180 rows (quoted cells, CRLF), as the timeline export writes them. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\n') row.push(cell), rows.push(row), (row = []), (cell = '');
    else if (c !== '\r') cell += c;
  }
  if (cell || row.length) row.push(cell), rows.push(row);
  return rows;
}

/**
 * The timeline export: `updates` update rows (opened first), then each practice's acknowledgement of
 * the last update and its report, exactly once each, after the update and in that order.
 */
export function timelineMismatches(csv: string, practices: readonly string[], updates: number): string[] {
  const [header, ...rows] = parseCsv(csv);
  if (!header || header[0] !== 'Time (UTC)' || header[1] !== 'Event') return ['the timeline CSV has no header'];
  const out: string[] = [];
  const times = rows.map((r) => r[0]!);
  if (times.some((t, i) => i > 0 && t < times[i - 1]!)) out.push('the timeline is not in time order');
  const updateRows = rows.filter((r) => r[1] === 'opened' || r[1] === 'update');
  if (updateRows.length !== updates) out.push(`the timeline has ${updateRows.length} updates, not ${updates}`);
  if (updateRows[0]?.[1] !== 'opened') out.push('the timeline does not start with the opening');
  const lastUpdateAt = updateRows[updateRows.length - 1]?.[0] ?? '';
  for (const practice of practices) {
    const acks = rows.filter((r) => r[1] === 'acknowledgement' && r[2] === practice);
    const reports = rows.filter((r) => r[1] === 'report' && r[2] === practice);
    if (acks.length !== 1) out.push(`${practice}'s acknowledgement is in the timeline ${acks.length} times`);
    if (reports.length !== 1) out.push(`${practice}'s report is in the timeline ${reports.length} times`);
    if (acks.length === 1 && !new RegExp(`Acknowledged update ${updates}\\b`).test(acks[0]![4] ?? '')) out.push(`${practice} acknowledged another update: ${acks[0]![4]}`);
    if (acks.length === 1 && reports.length === 1 && !(lastUpdateAt <= acks[0]![0]! && acks[0]![0]! <= reports[0]![0]!)) out.push(`${practice}: the update, its acknowledgement and its report are out of order`);
  }
  return out;
}

export interface DrillRegionResult {
  failures: string[];
  /** Per practice: total backlog before the cut, highest after it, at the end. */
  curves: Record<string, { before: number; peak: number; last: number }>;
  incidentId: string | null;
}

/** One practice as the region part sees it: its main node's staff account and URL. */
export interface RegionPractice {
  practice: string;
  nodeId: string;
  staff: StaffClient;
}

export class DrillRegion {
  private token = '';
  private cutAt = 0;
  private incident: IncidentDetail | null = null;
  readonly failures: string[] = [];
  /** History is read from an hour before the region part started (the heartbeats before the cut may be older than it). */
  private readonly since = Date.now() - 3600_000;

  private constructor(
    private readonly cluster: DrillCluster,
    private readonly practices: RegionPractice[],
    private readonly log: (line: string) => void,
  ) {}

  /** A region lead at the hub (the account written into the hub's database, as `steadfast hub add-user` does), signed in. */
  static async start(cluster: DrillCluster, practices: RegionPractice[], log: (line: string) => void): Promise<DrillRegion> {
    const region = new DrillRegion(cluster, practices, log);
    await addHubUser(cluster.database!.url, { ...LEAD, role: 'region-lead', name: 'Drill Region Lead' });
    region.token = (await firstSignIn(cluster.hub.url, LEAD.username, LEAD.password)).token;
    return region;
  }

  private async hub<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; text: string }> {
    const res = await fetch(`${this.cluster.hub.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} at the hub as the region lead: HTTP ${res.status} ${text.slice(0, 300)}`);
    return { status: res.status, body: (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined) as T, text };
  }

  private async views(): Promise<Map<string, RegionPracticeView>> {
    const { body } = await this.hub<RegionPracticesResponse>('GET', '/api/region/practices');
    return new Map(body.practices.map((p) => [p.practice, p]));
  }

  private async atNode(p: RegionPractice): Promise<Counts> {
    return countsOf((await p.staff.call<BacklogResponse>('GET', '/api/backlog')).body.figures);
  }

  private async history(p: RegionPractice, from: number): Promise<HeartbeatHistoryPoint[]> {
    const { body } = await this.hub<PracticeHistoryResponse>('GET', `/api/region/practices/${p.practice}/history?from=${new Date(from).toISOString()}`);
    return body.heartbeats.filter((h) => h.nodeId === p.nodeId);
  }

  /** Poll `check` (problems, empty when satisfied) until it passes or `timeoutMs` is over; the last problems are failures. */
  private async until(what: string, timeoutMs: number, check: () => Promise<string[]>): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let problems: string[] = [];
    do {
      try {
        problems = await check();
      } catch (err) {
        problems = [(err as Error).message.split('\n')[0]!];
      }
      if (!problems.length) return true;
      await sleep(500);
    } while (Date.now() < deadline);
    this.failures.push(...problems.map((p) => `region (${what}): ${p}`));
    return false;
  }

  /** Before the hub is killed: its view of every practice has caught up with the practice's backlog. */
  async beforeCut(timeoutMs = 60_000): Promise<void> {
    await this.until('before the cut', timeoutMs, async () => {
      const views = await this.views();
      return (await Promise.all(this.practices.map(async (p) => backlogMismatches(p.practice, views.get(p.practice), await this.atNode(p))))).flat();
    });
    this.cutAt = Date.now();
  }

  /**
   * The hub is back, the practices' network still cut (a crawl or a reset after a few kilobytes lets a
   * heartbeat through, so for this check the network black-holes instead, then goes back to `mode`):
   * each practice unreachable with its last known figures. Then the region lead opens the incident.
   */
  async hubBack(mode: ProxyMode, timeoutMs = 90_000): Promise<void> {
    if (this.incident) return;
    const cut = mode === 'down' || mode === 'drop';
    if (!cut) await this.cluster.setNetwork('drop');
    await this.until('hub back, network cut', timeoutMs, async () => {
      const views = await this.views();
      const out: string[] = [];
      for (const p of this.practices) {
        const last = (await this.history(p, this.since)).pop();
        out.push(...unreachableMismatches(p.practice, views.get(p.practice), last, await this.atNode(p)));
      }
      return out;
    });
    const views = await this.views();
    for (const p of this.practices) {
      const v = views.get(p.practice);
      this.log(`region: ${p.practice} shown ${v?.condition} (${v?.reasons[0]}), at least ${JSON.stringify(v?.backlog)} as of ${v?.backlogAsOf}`);
    }
    if (!cut) await this.cluster.setNetwork(mode);
    const inAnHour = new Date(Date.now() + 3600_000).toISOString();
    const opened = await this.hub<IncidentDetail>('POST', '/api/region/incidents', {
      title: 'Drill: regional hub outage',
      practices: this.practices.map((p) => p.practice),
      known: 'The regional hub was down and is back; practice networks are still failing.',
      practicesShould: 'Keep working locally; your records reach the hub when the network returns.',
      nextUpdateAt: inAnHour,
    });
    this.incident = opened.body;
    this.log(`region: incident ${opened.body.id} opened for ${opened.body.practices.join(', ')}`);
  }

  /**
   * Converged: the region lead posts an update; every practice's banner shows it; someone at each
   * acknowledges it and reports (each sent twice); both reach the hub through the outbox; and a
   * heartbeat sent since the network came back has reached the hub (the top of the curve).
   */
  async afterConverged(restoredAt: number, timeoutMs = 120_000): Promise<void> {
    const incident = this.incident;
    if (!incident) return void this.failures.push('region: no incident was opened when the hub came back');
    const update = await this.hub<IncidentDetail>('POST', `/api/region/incidents/${incident.id}/updates`, {
      known: 'The network is back and practices have caught up with the hub.',
      practicesShould: 'Acknowledge this update and report what is still not working.',
      nextUpdateAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    const latest = update.body.updates[update.body.updates.length - 1]!;
    this.incident = update.body;
    const banner = async (p: RegionPractice) => (await p.staff.call<BannerResponse>('GET', '/api/incidents')).body.incidents.find((i) => i.id === incident.id);
    const shown = await this.until('banner', timeoutMs, async () =>
      (await Promise.all(this.practices.map(async (p) => ((await banner(p))?.latest.id === latest.id ? [] : [`${p.practice}'s banner does not show update ${latest.seq}`])))).flat(),
    );
    if (!shown) return;
    for (const p of this.practices) {
      const reportId = randomUUID();
      const report = { notWorking: ['phones-network'], details: 'The network to the hub dropped for the drill', backlog: 'Online consultations and texts queued in the outage', helpNeeded: 'none', reportId };
      for (let i = 0; i < 2; i++) await p.staff.call('POST', `/api/incidents/${incident.id}/acknowledge`, { updateId: latest.id });
      for (let i = 0; i < 2; i++) await p.staff.call('POST', `/api/incidents/${incident.id}/reports`, report);
    }
    await this.until('acknowledgements and reports delivered', timeoutMs, async () =>
      (await Promise.all(this.practices.map(async (p) => {
        const b = await banner(p);
        return b?.acknowledged?.delivered && b.reports.length === 1 && b.reports[0]!.delivered ? [] : [`${p.practice}: acknowledgement ${b?.acknowledged?.delivered ? 'delivered' : 'not delivered'}, ${b?.reports.filter((r) => r.delivered).length ?? 0} of ${b?.reports.length ?? 0} reports delivered`];
      }))).flat(),
    );
    await this.until('a heartbeat since the network came back', 60_000, async () =>
      (await Promise.all(this.practices.map(async (p) => ((await this.history(p, restoredAt)).length ? [] : [`no heartbeat from ${p.practice} since the network came back`])))).flat(),
    );
  }

  /** The end: each practice's backlog at the hub is its own, the history shows the curve, the timeline is whole. */
  async finish(timeoutMs = 60_000): Promise<DrillRegionResult> {
    const curves: DrillRegionResult['curves'] = {};
    await this.until('after the outage', timeoutMs, async () => {
      const views = await this.views();
      const out: string[] = [];
      for (const p of this.practices) {
        const node = await this.atNode(p);
        const history = await this.history(p, this.since);
        out.push(...backlogMismatches(p.practice, views.get(p.practice), node), ...curveMismatches(p.practice, history, this.cutAt, node));
        const totals = history.map((h) => total(pointCounts(h)));
        const before = history.filter((h) => Date.parse(h.receivedAt) < this.cutAt).length;
        curves[p.practice] = { before: totals[before - 1] ?? NaN, peak: Math.max(...totals.slice(before)), last: totals[totals.length - 1] ?? NaN };
      }
      return out;
    });
    if (this.incident) {
      const csv = await this.hub<unknown>('GET', `/api/region/incidents/${this.incident.id}/timeline.csv`);
      this.failures.push(...timelineMismatches(csv.text, this.practices.map((p) => p.practice), this.incident.updates.length).map((f) => `region (timeline): ${f}`));
    }
    return { failures: this.failures, curves, incidentId: this.incident?.id ?? null };
  }
}
