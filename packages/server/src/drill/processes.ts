/**
 * Process orchestration for the drill: a hub and N practice nodes as separate `steadfast` processes
 * on 127.0.0.1, each practice node syncing to the hub THROUGH the fault proxy. Everything a run creates
 * (temp data dirs, a PostgreSQL database of its own, child processes) is removed by `close()`, which
 * the drill always calls.
 *
 * How a node is pointed at a hub (from sync/index.ts and hub/index.ts):
 *   - the hub registers the node: POST /api/hub/nodes {practice, nodeId} with the admin token
 *     (STEADFAST_HUB_ADMIN_TOKEN) answers {key};
 *   - the node reads `<data>/sync.json` = { upstream: { url, key, name }, pollMs } at start.
 * The node's id is fixed up front in `<data>/steadfast.json` (its identity file) so the hub can
 * register it before it first starts.
 */
import { DRILL_OC_ENV } from './online-consultations.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openNode } from '../node/open.ts';
import { loadOrCreateIdentity } from '../node/identity.ts';
import { SYNC_CONFIG_FILE } from '../sync/index.ts';
import { registerPeer } from '../sync/receiver.ts';
import { newNodeKey } from '../sync/protocol.ts';
import { FaultProxy, type ProxyMode } from './proxy.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const STEADFAST_BIN = join(REPO_ROOT, 'packages/server/bin/steadfast.js');
/** Makes a child end itself when the drill that started it is gone. */
const WATCHDOG = new URL('./watchdog.mjs', import.meta.url).href;

export const DRILL_PASSWORD = 'drill passphrase long enough';
export const DRILL_USERS = { clinician: 'drill.gp', receptionist: 'drill.reception' } as const;
/** Idle heartbeats every 5 s (nodes), and the hub told so: a practice silent for 15 s shows unreachable. */
const HEARTBEAT_FLAGS = ['--heartbeat-interval', '5'];

const URL_IN_OUTPUT = /(http:\/\/(?:127\.0\.0\.1|localhost):\d+)/;

/** One child process: started, watched for its URL, killed -9 or stopped, restarted with the same arguments. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private log: WriteStream | undefined;
  private tail: string[] = [];
  url = '';
  starts = 0;

  constructor(
    readonly name: string,
    private readonly command: string[],
    private readonly options: { env?: Record<string, string>; logFile: string; readyPath: string; readyHeaders?: Record<string, string>; timeoutMs?: number },
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Last lines of output, for error messages. */
  recentOutput(): string {
    return this.tail.join('').slice(-2000);
  }

  async start(): Promise<string> {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    this.starts++;
    this.url = '';
    this.tail = [];
    this.log ??= createWriteStream(this.options.logFile, { flags: 'a' });
    this.log.write(`\n--- start ${this.starts}: ${this.command.join(' ')}\n`);
    const child = spawn(process.execPath, ['--import', WATCHDOG, ...this.command], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    // Generous: on a loaded machine a cold start (tsx, migrations) can take tens of seconds.
    const timeoutMs = this.options.timeoutMs ?? 120_000;
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} printed no URL within ${timeoutMs} ms:\n${this.recentOutput()}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        this.log?.write(text);
        this.tail.push(text);
        if (this.tail.length > 50) this.tail.shift();
        const m = URL_IN_OUTPUT.exec(this.tail.join(''));
        if (m && !this.url) {
          this.url = m[1]!.replace('localhost', '127.0.0.1');
          clearTimeout(timer);
          resolve(this.url);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${signal ?? `code ${code}`}) before it was ready:\n${this.recentOutput()}`));
      });
    });
    await this.waitReady(timeoutMs);
    return url;
  }

  /** Poll the readiness path until it answers 2xx (the URL is printed after listen, so this is quick). */
  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited while starting:\n${this.recentOutput()}`);
      try {
        const res = await fetch(this.url + this.options.readyPath, { headers: this.options.readyHeaders ?? {}, signal: AbortSignal.timeout(2000) });
        if (res.ok) return;
        // The route does not exist: this process is not what we meant to start; waiting will not help.
        if (res.status === 404) throw Object.assign(new Error(`${this.name} at ${this.url} has no ${this.options.readyPath} (HTTP 404)`), { fatal: true });
        last = `HTTP ${res.status}`;
      } catch (err) {
        if ((err as { fatal?: boolean }).fatal) throw err;
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${this.name} at ${this.url} not ready within ${timeoutMs} ms (${last})`);
  }

  /** kill -9: no shutdown code runs, as in a power cut. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not gone within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.running) {
      this.child!.kill('SIGTERM');
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => (this.log ? this.log.end(() => resolve()) : resolve()));
    this.log = undefined;
  }
}

/** A port nothing listens on just now (bound and released; loopback only). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** A PostgreSQL database of the run's own, dropped at the end (WITH FORCE: a killed hub may leave sessions). */
export async function createDrillDatabase(baseUrl: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `steadfast_drill_${process.pid}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export interface PracticeNode {
  practice: string;
  /** 0 for the practice's main node, 1 for its second node. */
  index: number;
  nodeId: string;
  dataDir: string;
  process: ManagedProcess;
  /** Whom it syncs with: the hub, or (a standby) the practice's main node. */
  upstream: 'hub' | 'primary';
}

export interface ClusterOptions {
  /** ODS codes, one per practice. */
  practices: string[];
  /** Nodes per practice (a second node of a practice is what makes concurrent edits, and conflicts, possible). */
  nodesPerPractice(practice: string, i: number): number;
  /**
   * How a practice's second node syncs: as a standby of the main node over the practice network (its
   * own proxy, cut with the hub's in the drill), or straight with the hub like the main node.
   */
  secondNode?: 'standby' | 'hub';
  /** postgres://... of a server where the run may create and drop its own database. */
  pgUrl: string;
  seed: number | string;
  /** Sync poll interval on the nodes (ms). */
  pollMs?: number;
  /** Extra environment of every practice node (the messaging part points Notify at its local server). */
  nodeEnv?: Record<string, string>;
  log?: (line: string) => void;
}

/** A hub, a proxy in front of it, and the practice nodes. */
export class DrillCluster {
  readonly root: string;
  readonly adminToken = randomBytes(24).toString('hex');
  hub!: ManagedProcess;
  proxy!: FaultProxy;
  nodes: PracticeNode[] = [];
  /** Per practice with a standby: the practice network between standby and main node. */
  readonly lanProxies = new Map<string, FaultProxy>();
  database: Awaited<ReturnType<typeof createDrillDatabase>> | undefined;
  /** Data dir of each practice's main node. */
  private readonly mainDataDirs = new Map<string, string>();

  private constructor(private readonly options: ClusterOptions) {
    this.root = mkdtempSync(join(tmpdir(), 'steadfast-drill-'));
  }

  private say(line: string): void {
    this.options.log?.(line);
  }

  /** Start everything; on any failure, what was started is torn down and the error rethrown. */
  static async start(options: ClusterOptions): Promise<DrillCluster> {
    const cluster = new DrillCluster(options);
    try {
      await cluster.startAll();
      return cluster;
    } catch (err) {
      await cluster.close();
      throw err;
    }
  }

  private async startAll(): Promise<void> {
    this.database = await createDrillDatabase(this.options.pgUrl);
    this.say(`hub database ${this.database.name}`);
    await this.startHubProcess();
    this.proxy = await FaultProxy.start({ targetPort: Number(new URL(this.hub.url).port), seed: `${this.options.seed}:proxy` });
    this.say(`hub at ${this.hub.url}, proxy at ${this.proxy.url}`);
    const wanted = this.options.practices.flatMap((practice, i) => Array.from({ length: this.options.nodesPerPractice(practice, i) }, (_, index) => ({ practice, index })));
    const standby = this.options.secondNode !== 'hub';
    for (const w of wanted) {
      // Pointed at the main node's port once that is chosen (prepareNode).
      if (standby && w.index === 1) this.lanProxies.set(w.practice, await FaultProxy.start({ targetPort: 1, seed: `${this.options.seed}:lan:${w.practice}` }));
    }
    const primaries = await Promise.all(wanted.filter((w) => !(standby && w.index > 0)).map((w) => this.prepareNode(w.practice, w.index, 'hub')));
    const standbys = await Promise.all(wanted.filter((w) => standby && w.index > 0).map((w) => this.prepareNode(w.practice, w.index, 'primary')));
    this.nodes = [...primaries, ...standbys].sort((a, b) => a.practice.localeCompare(b.practice) || a.index - b.index);
    await Promise.all(this.nodes.map((n) => this.startNode(n)));
    for (const n of this.nodes) this.say(`node ${n.practice}/${n.index} at ${n.process.url}${n.upstream === 'primary' ? `, standby of ${n.practice}/0 via ${this.lanProxies.get(n.practice)?.url}` : ''}`);
  }

  /** Start (or restart) a node. */
  async startNode(node: PracticeNode): Promise<void> {
    await node.process.start();
  }

  /** Set the hub's network and every practice network to one mode. */
  async setNetwork(mode: ProxyMode): Promise<void> {
    await this.proxy.setMode(mode);
    for (const lan of this.lanProxies.values()) await lan.setMode(mode);
  }

  private hubProcess(): ManagedProcess {
    const url = this.database!.url;
    return new ManagedProcess('hub', [STEADFAST_BIN, 'serve', '--role', 'hub', '--database-url', url, '--data', join(this.root, 'hub'), '--port', '0', ...HEARTBEAT_FLAGS], {
      env: { STEADFAST_HUB_ADMIN_TOKEN: this.adminToken, ...DRILL_OC_ENV },
      logFile: join(this.root, 'hub.log'),
      readyPath: '/api/hub/practices',
      readyHeaders: { authorization: `Bearer ${this.adminToken}` },
    });
  }

  private async startHubProcess(): Promise<void> {
    this.hub = this.hubProcess();
    try {
      await this.hub.start();
    } catch (err) {
      await this.hub.stop();
      throw err;
    }
  }

  /** Identity, users and hub registration, done before the node process first starts. */
  private async prepareNode(practice: string, index: number, upstream: 'hub' | 'primary'): Promise<PracticeNode> {
    const dataDir = join(this.root, `practice-${practice}-${index}`);
    mkdirSync(dataDir, { recursive: true });
    const identity = loadOrCreateIdentity(dataDir, { practice, role: 'node' });
    const opened = await openNode({ dataDir, practice });
    try {
      await opened.accounts.addUser({ username: DRILL_USERS.clinician, role: 'clinician', password: DRILL_PASSWORD, name: `Dr Drill ${practice}` });
      await opened.accounts.addUser({ username: DRILL_USERS.receptionist, role: 'receptionist', password: DRILL_PASSWORD, name: `Reception ${practice}` });
    } finally {
      await opened.close();
    }
    let key: string;
    let url: string;
    if (upstream === 'hub') {
      const res = await fetch(`${this.hub.url}/api/hub/nodes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ practice, nodeId: identity.nodeId }),
      });
      if (res.status !== 201 && res.status !== 200) throw new Error(`The hub refused to register node ${identity.nodeId} of ${practice}: HTTP ${res.status} ${await res.text()}`);
      key = ((await res.json()) as { key: string }).key;
      url = this.proxy.url;
      this.mainDataDirs.set(practice, dataDir);
    } else {
      // As `steadfast sync add-standby` does on the main node (which has not started yet).
      const main = this.mainDataDirs.get(practice);
      if (!main) throw new Error(`practice ${practice} has no main node for its standby`);
      key = newNodeKey();
      const primary = await openNode({ dataDir: main });
      try {
        await registerPeer(primary.store.db, { practice, nodeId: identity.nodeId, key });
      } finally {
        await primary.close();
      }
      url = this.lanProxies.get(practice)!.url;
    }
    const pollMs = this.options.pollMs ?? 200;
    // Short backoff bounds so that a node reconnects within seconds of the hub's return.
    writeFileSync(
      join(dataDir, SYNC_CONFIG_FILE),
      `${JSON.stringify({ upstream: { url, key, name: upstream }, pollMs, minBackoffMs: 100, maxBackoffMs: 2000 }, null, 2)}\n`,
      { mode: 0o600 },
    );
    // A main node with a standby keeps one port across restarts, so its standby's network proxy can point
    // at it before it first starts (the standby does not begin by backing off).
    const lan = upstream === 'hub' ? this.lanProxies.get(practice) : undefined;
    const port = lan ? await freePort() : 0;
    lan?.setTarget(port);
    const proc = new ManagedProcess(`node ${practice}/${index}`, [STEADFAST_BIN, 'serve', '--data', dataDir, '--port', String(port), '--mllp-port', '0', ...HEARTBEAT_FLAGS], {
      // Both: the messaging part's environment used to replace DRILL_OC_ENV, and out of hours the nodes refused every online consultation.
      env: { ...DRILL_OC_ENV, ...this.options.nodeEnv },
      logFile: join(this.root, `practice-${practice}-${index}.log`),
      readyPath: '/fhir/R4/metadata',
    });
    return { practice, index, nodeId: identity.nodeId, dataDir, process: proc, upstream };
  }

  async killHub(): Promise<void> {
    await this.hub.kill9();
  }

  /** Start the hub again (a new port) and point the proxy at it. */
  async restartHub(): Promise<void> {
    await this.hub.start();
    this.proxy.setTarget(Number(new URL(this.hub.url).port));
  }

  async hubPractices(): Promise<HubPracticeState[]> {
    const res = await fetch(`${this.hub.url}/api/hub/practices`, { headers: { authorization: `Bearer ${this.adminToken}` }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`GET /api/hub/practices: HTTP ${res.status}`);
    return ((await res.json()) as { practices: HubPracticeState[] }).practices;
  }

  /** Tear everything down: processes, proxy, the database, the temp dir. Never throws. */
  async close(options: { keepTemp?: boolean } = {}): Promise<void> {
    const problems: string[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        problems.push(`${what}: ${(err as Error).message}`);
      }
    };
    await Promise.all(this.nodes.map((n) => attempt(`stop ${n.process.name}`, () => n.process.stop())));
    if (this.hub) await attempt('stop hub', () => this.hub.stop());
    if (this.proxy) await attempt('close proxy', () => this.proxy.close());
    for (const [practice, lan] of this.lanProxies) await attempt(`close network proxy of ${practice}`, () => lan.close());
    if (this.database) await attempt(`drop database ${this.database.name}`, () => this.database!.drop());
    if (!options.keepTemp) await attempt(`remove ${this.root}`, async () => rmSync(this.root, { recursive: true, force: true }));
    for (const p of problems) this.say(`cleanup: ${p}`);
  }
}

/** The part of GET /api/hub/practices the drill reads. */
export interface HubPracticeState {
  practice: string;
  entriesAtHub: number;
  waitingAtNodes: number;
  backlogToNodes: number;
  nodes: Array<{ nodeId: string; pushCursor: number; pullCursor: number; waitingToPush: number; waitingToPull: number }>;
}
