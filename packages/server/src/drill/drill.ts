/**
 * The outage drill: a hub and practice nodes as separate processes, the hub cut off (kill -9 plus a
 * faulty network through the proxy) while every practice works through scripted days, then the hub
 * restored and the whole region checked: nothing acknowledged lost, nothing duplicated, every fork put
 * in front of a clinician, every replica equal to the hub.
 *
 * Days are simulated: they run back to back with no sleeping. Everything is seeded.
 */
import { join } from 'node:path';
import { DrillCluster, DRILL_PASSWORD, DRILL_USERS, type PracticeNode } from './processes.ts';
import type { ProxyMode } from './proxy.ts';
import { Random } from '@steadfast/domain/random';
import { readHubEntries, readNodeEntryIds, verify, type Verdict } from './verify.ts';
import { Ledger, PracticeWorkload, StaffClient } from './workload.ts';
import { ConsultationDrill, type ConsultationDrillResult } from './online-consultations.ts';
import { DrillMessaging, type DrillMessageVerdict } from './messaging.ts';
import { DrillDocuments, type DrillLetterVerdict } from './documents.ts';
import { DrillRegion, type DrillRegionResult } from './region.ts';

export interface DrillOptions {
  days: number;
  practices: number;
  seed: string;
  /** A PostgreSQL server where the drill may create and drop a database of its own. */
  pgUrl: string;
  patientsPerDay?: number;
  /** Give the first practice a second node (concurrent edits, hence conflicts). Default true. */
  secondNode?: boolean;
  /** How that second node syncs: as a standby of the main node (default), or straight with the hub. */
  secondNodeSyncs?: 'standby' | 'hub';
  convergeTimeoutMs?: number;
  /** How long to wait for the texts queued in the outage to reach Notify after the network is back (default 120 s). */
  messagesTimeoutMs?: number;
  /** Write the ledger here too (JSON lines); otherwise it lives in the run's temp dir. */
  ledgerFile?: string;
  keepTemp?: boolean;
  log?: (line: string) => void;
}

export interface DrillResult {
  ok: boolean;
  verdict: Verdict;
  convergedSeconds: number | null;
  forks: string[];
  doubleBookings: string[];
  /** Texts queued at the practices during the outage, and what reached the local Notify server. */
  messages: DrillMessageVerdict;
  failures: string[];
  /** Online consultations taken during the cut and triaged after (absent when it did not converge). */
  consultations?: ConsultationDrillResult;
  /** Letters taken in at the practices during the cut, and what reached the hub (absent when it did not converge). */
  letters?: DrillLetterVerdict;
  /** The region's view through the outage and the incident run through it (absent when it did not converge). */
  region?: DrillRegionResult;
  /** The summary line the command prints last. */
  summary: string;
  /** What the run created (both removed by the time runDrill returns). */
  tempDir: string;
  databaseName: string;
}

/** What the network does on each outage day, and when the hub comes back behind it. */
export function faultSchedule(days: number, seed: string): Array<{ day: number; hub: 'down' | 'up'; proxy: ProxyMode }> {
  const random = Random.for(seed, 'faults');
  const shuffled = (modes: ProxyMode[]) => {
    const out = [...modes];
    for (let i = out.length - 1; i > 0; i--) {
      const j = random.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  const restartDay = days >= 2 ? Math.floor(days / 2) + 1 : days + 1;
  // Every fault in turn (seeded order): day 1 starts with the network down as the hub dies; once the
  // hub is back, the network stays bad (resets, black holes, a crawl) until the outage ends.
  const before = ['down', ...shuffled(['drop', 'reset', 'delay'])] as ProxyMode[];
  const after = shuffled(['reset', 'drop', 'delay']);
  const out: Array<{ day: number; hub: 'down' | 'up'; proxy: ProxyMode }> = [];
  for (let day = 1; day <= days; day++) {
    const up = day >= restartDay;
    out.push({ day, hub: up ? 'up' : 'down', proxy: up ? after[(day - restartDay) % after.length]! : before[(day - 1) % before.length]! });
  }
  return out;
}

const practiceCode = (i: number): string => `D8${String(i + 1).padStart(4, '0')}`;

export interface NodeView {
  node: PracticeNode;
  staff: StaffClient;
}

/** Poll until every node has sent everything, the hub has nothing a node has not pulled, and every
 * node's log holds exactly the hub's entries for its practice. */
export async function waitConverged(cluster: DrillCluster, views: NodeView[], practices: string[], restoredAt: number, timeoutMs: number, log: (l: string) => void): Promise<number | null> {
  const deadline = restoredAt + timeoutMs;
  let lastReason = '';
  while (Date.now() < deadline) {
    const reason = await notConvergedBecause(cluster, views, practices, restoredAt);
    if (!reason) return (Date.now() - restoredAt) / 1000;
    if (reason !== lastReason) log(`  waiting: ${reason}`);
    lastReason = reason;
    await new Promise((r) => setTimeout(r, 200));
  }
  log(`  not converged after ${timeoutMs / 1000} s: ${lastReason}`);
  return null;
}

async function notConvergedBecause(cluster: DrillCluster, views: NodeView[], practices: string[], restoredAt: number): Promise<string | undefined> {
  try {
    for (const v of views) {
      const { body } = await v.staff.call<{ waitingToPush?: number; lastSuccessAt?: string | null }>('GET', '/api/sync/status');
      if (body.waitingToPush !== 0) return `${v.node.process.name} has ${body.waitingToPush} to send`;
      if (!body.lastSuccessAt || Date.parse(body.lastSuccessAt) < restoredAt) return `${v.node.process.name} has not exchanged with its upstream since the network was restored`;
    }
    const hub = await cluster.hubPractices();
    for (const p of hub) if (p.backlogToNodes > 0) return `hub holds ${p.backlogToNodes} entries of ${p.practice} a node has not pulled`;
    const entries = await readHubEntries(cluster.database!.url, practices);
    for (const v of views) {
      const atHub = new Set(entries.filter((e) => e.practice === v.node.practice).map((e) => e.entryId));
      const atNode = new Set(readNodeEntryIds(v.node.dataDir, v.node.practice));
      const missing = [...atHub].filter((id) => !atNode.has(id)).length;
      const extra = [...atNode].filter((id) => !atHub.has(id)).length;
      if (missing || extra) return `${v.node.process.name} lacks ${missing} of the hub's entries and holds ${extra} the hub lacks`;
    }
    return undefined;
  } catch (err) {
    return `status unavailable (${(err as Error).message.split('\n')[0]})`;
  }
}

export async function runDrill(options: DrillOptions): Promise<DrillResult> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const practices = Array.from({ length: options.practices }, (_, i) => practiceCode(i));
  const secondNode = options.secondNode ?? true;
  const messaging = await DrillMessaging.start();
  const cluster = await DrillCluster.start({
    nodeEnv: messaging.nodeEnv(),
    practices,
    nodesPerPractice: (_p, i) => (secondNode && i === 0 ? 2 : 1),
    secondNode: options.secondNodeSyncs ?? 'standby',
    pgUrl: options.pgUrl,
    seed: options.seed,
    log: (l) => log(`  ${l}`),
  }).catch(async (err: unknown) => {
    await messaging.stop();
    throw err;
  });
  // Ctrl-C or a TERM must not leave a hub, nodes or a database behind.
  const interrupted = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping the drill and cleaning up`);
    void cluster.close(options.keepTemp ? { keepTemp: true } : {}).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    log(`started hub and ${cluster.nodes.length} nodes in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const ledger = new Ledger(options.ledgerFile ?? join(cluster.root, 'ledger.jsonl'));
    const workloads = practices.map(
      (practice, i) =>
        new PracticeWorkload({
          practice,
          practiceNumber: i,
          nodes: cluster.nodes.filter((n) => n.practice === practice).map((n) => ({ practice, index: n.index, url: () => n.process.url })),
          seed: options.seed,
          ledger,
          users: { clinician: DRILL_USERS.clinician, receptionist: DRILL_USERS.receptionist, password: DRILL_PASSWORD },
          ...(options.patientsPerDay ? { patientsPerDay: options.patientsPerDay } : {}),
        }),
    );
    const views: NodeView[] = cluster.nodes.map((node) => ({ node, staff: new StaffClient(() => node.process.url, DRILL_USERS.clinician, DRILL_PASSWORD) }));
    const mainView = (practice: string) => views.find((v) => v.node.practice === practice && v.node.index === 0)!;
    const consultations = new ConsultationDrill(practices, () => cluster.hub.url, (p) => mainView(p).node.process.url, options.seed);
    const reception = new Map(practices.map((p) => { const main = cluster.nodes.find((n) => n.practice === p && n.index === 0)!; return [p, new StaffClient(() => main.process.url, DRILL_USERS.receptionist, DRILL_PASSWORD)] as const; }));
    await Promise.all(practices.map((p, i) => messaging.setup(p, reception.get(p)!, i)));
    const letters = new DrillDocuments(practices, (p) => mainView(p).staff);
    await letters.setup();

    // Day 0, connected: the shared records reach every node of their practice before the outage.
    await Promise.all(workloads.map((w) => w.setup()));
    await Promise.all(workloads.map((w) => w.awaitSharedEverywhere()));
    log(`day 0 (connected): ${ledger.entries.length} writes`);
    const region = await DrillRegion.start(cluster, practices.map((p) => ({ practice: p, nodeId: mainView(p).node.nodeId, staff: mainView(p).staff })), log);
    await region.beforeCut();

    // The outage.
    await cluster.killHub();
    messaging.cut();
    log('hub killed (kill -9); GOV.UK Notify cut off');
    // A crawl, not a cut: chunks held 0.2-1.5 s, so a request may complete, or time out, or be reset.
    cluster.proxy.delayMs = [200, 1500];
    let hubRestart: Promise<void> | undefined;
    let restartFailure: unknown;
    for (const step of faultSchedule(options.days, options.seed)) {
      await cluster.setNetwork(step.proxy);
      // The hub restarts while the practices work (nodes cannot tell until the network lets them).
      if (step.hub === 'up' && !hubRestart) {
        hubRestart = cluster.restartHub().then(
          () => log(`hub restarted at ${cluster.hub.url}, still behind a faulty network`),
          (err: unknown) => void (restartFailure = err),
        );
      }
      // The last day of the outage runs against a live hub behind the faulty network.
      if (step.day === options.days) await hubRestart?.then(() => (restartFailure ? undefined : region.hubBack(step.proxy)));
      const before = ledger.entries.length;
      await Promise.all([...workloads.map((w) => w.day(step.day)), consultations.day(step.day)]);
      await Promise.all(practices.map((p) => messaging.day(p, reception.get(p)!, step.day)));
      await letters.day(step.day);
      log(`day ${step.day}: hub ${step.hub}, network ${step.proxy}: ${ledger.entries.length - before} writes`);
    }

    // Restore and converge.
    await hubRestart;
    if (restartFailure) throw restartFailure;
    if (!cluster.hub.running) await cluster.restartHub();
    await region.hubBack('down'); // once only: here when the hub stayed down all through the outage
    await cluster.setNetwork('pass');
    messaging.restore();
    const restoredAt = Date.now();
    log('hub restored, network healthy; waiting for convergence');
    const convergedSeconds = await waitConverged(cluster, views, practices, restoredAt, options.convergeTimeoutMs ?? 90_000, log);

    // The outbox backs off up to an hour; the nodes' drainers are waited for, never nudged.
    const messages = await messaging.verify(options.messagesTimeoutMs ?? 120_000);
    const forks = workloads.flatMap((w) => [...w.forked].map((f) => `${w.options.practice}|${f}`));
    const doubleBookings = workloads.flatMap((w) => [...w.doubleBooked].map((s) => `${w.options.practice}|${s}`));
    // Tasks are only complete once converged; without convergence the drill has failed already.
    const verdict = verify(ledger.entries, await readHubEntries(cluster.database!.url, practices), convergedSeconds === null ? [] : forks, convergedSeconds === null ? [] : doubleBookings);
    const failures: string[] = [];
    if (verdict.lost.length) failures.push(`${verdict.lost.length} acknowledged writes missing at the hub, e.g. ${verdict.lost.slice(0, 3).map((l) => `${l.resourceType}/${l.id} v${l.versionId} (${l.action}, day ${l.day}, node ${l.practice}/${l.node})`).join('; ')}`);
    if (verdict.duplicated.length) failures.push(`${verdict.duplicated.length} duplicates: ${verdict.duplicated.slice(0, 3).join('; ')}`);
    if (convergedSeconds === null) failures.push('did not converge');
    if (verdict.unreviewedForks.length) failures.push(`forks with no review Task: ${verdict.unreviewedForks.join(', ')}`);
    if (messages.missing.length) failures.push(`${messages.missing.length} of ${messages.queued} texts queued in the outage never reached Notify, e.g. ${messages.missing.slice(0, 3).join('; ')}`);
    if (messages.duplicated.length) failures.push(`${messages.duplicated.length} texts reached Notify more than once: ${messages.duplicated.slice(0, 3).join('; ')}`);
    if (verdict.unflaggedDoubleBookings.length) failures.push(`double bookings with no Task for reception: ${verdict.unflaggedDoubleBookings.join(', ')}`);
    let oc: ConsultationDrillResult | undefined;
    let lv: DrillLetterVerdict | undefined;
    if (convergedSeconds !== null) {
      lv = await letters.verify(cluster.database!.url, () => readHubEntries(cluster.database!.url, practices), (p) => mainView(p).node.nodeId, 90_000);
      failures.push(...lv.failures);
      log(`letters: ${lv.taken} taken in during the cut (${lv.filedInCut} filed then), ${lv.atHub} at the hub, ${lv.missing.length} missing, ${lv.duplicated.length} duplicated`);
      await region.afterConverged(restoredAt);
      oc = await consultations.triageAfter((p) => mainView(p).staff);
      failures.push(...oc.failures);
      log(`online consultations: ${oc.acknowledged} acknowledged during the cut (node ${oc.byVia.node}, hub ${oc.byVia.hub}, both ${oc.byVia.both}; ${oc.redirected} taken by the other side when one was down), ${oc.triaged} triaged once after`);
    }
    const regionResult = convergedSeconds === null ? undefined : await region.finish();
    if (regionResult) failures.push(...regionResult.failures);
    if (regionResult) log(`region: backlog before the cut, highest after, at the end: ${Object.entries(regionResult.curves).map(([p, c]) => `${p} ${c.before}/${c.peak}/${c.last}`).join(', ')}; incident ${regionResult.incidentId}`);
    const conflicts = verdict.conflicts.review + verdict.conflicts.doubleBooking;
    const byAction = new Map<string, number>();
    for (const e of ledger.entries) byAction.set(e.action, (byAction.get(e.action) ?? 0) + 1);
    log(`acknowledged: ${[...byAction].map(([action, n]) => `${action} ${n}`).join(', ')}`);
    log(`written ${verdict.written} acknowledged writes; the hub log holds ${verdict.hubEntries} entries in all (also slot updates, result observations, merges and review Tasks)`);
    log(
      `conflicts: ${verdict.conflicts.review} review Tasks (forks made ${forks.length}, unreviewed ${verdict.unreviewedForks.length}), ` +
        `${verdict.conflicts.doubleBooking} double-booking Tasks (slots booked twice ${doubleBookings.length}, unflagged ${verdict.unflaggedDoubleBookings.length})`,
    );
    log(`messages: ${messages.queued} texts queued while Notify was cut, ${messages.delivered} delivered after, ${messages.missing.length} missing, ${messages.duplicated.length} duplicated`);
    log(`proxy: ${JSON.stringify(cluster.proxy.stats)}`);
    for (const f of failures) log(`FAILED: ${f}`);
    const summary = `drill: written ${verdict.written}, at hub ${verdict.atHub}, lost ${verdict.lost.length}, duplicated ${verdict.duplicated.length}, conflicts ${conflicts}, converged in ${convergedSeconds === null ? 'never (timed out)' : convergedSeconds.toFixed(1)} s`;
    return { ok: failures.length === 0, verdict, convergedSeconds, forks, doubleBookings, messages, failures, ...(oc ? { consultations: oc } : {}), ...(lv ? { letters: lv } : {}), ...(regionResult ? { region: regionResult } : {}), summary, tempDir: cluster.root, databaseName: cluster.database!.name };
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await cluster.close(options.keepTemp ? { keepTemp: true } : {});
    await messaging.stop();
  }
}
