/**
 * A fault-injecting TCP proxy for the outage drill: practice nodes reach the hub through it, and the
 * drill switches it between a healthy network and the ways real networks fail, at run time.
 *
 *   pass   forward both ways
 *   drop   accept, then black-hole: nothing is forwarded and nothing comes back (a dead route; the
 *          client only finds out from its own timeout)
 *   delay  forward, each chunk held back delayMs (seeded jitter) in order (a slow or congested link)
 *   reset  forward, then destroy both sides with a TCP RST after a seeded number of bytes, so a request
 *          may reach the hub and its answer be cut off (the case that tests idempotent replay)
 *   down   refuse connections (the listener is closed; connect gets ECONNREFUSED)
 *
 * Loopback only: it listens on 127.0.0.1 and forwards to 127.0.0.1. Every random choice comes from the
 * seed, and is logged in `decisions`, so a run can be repeated.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { Random } from '@steadfast/domain/random';

export type ProxyMode = 'pass' | 'drop' | 'delay' | 'reset' | 'down';
export const proxyModes: readonly ProxyMode[] = ['pass', 'drop', 'delay', 'reset', 'down'];

const LOOPBACK = '127.0.0.1';

export interface FaultProxyOptions {
  /** Port on 127.0.0.1 to forward to (can be changed later with setTarget, e.g. after a restart). */
  targetPort: number;
  /** Port to listen on (default 0: any free port, kept across `down`). */
  listenPort?: number;
  seed?: number | string;
  mode?: ProxyMode;
  /** Delay per chunk in delay mode: [min, max] ms. */
  delayMs?: [number, number];
  /** In reset mode, a connection is reset after a random number of bytes in [min, max]. */
  resetAfterBytes?: [number, number];
}

export interface ProxyStats {
  accepted: number;
  forwarded: number;
  dropped: number;
  delayedChunks: number;
  reset: number;
  bytesToTarget: number;
  bytesToClient: number;
}

interface Link {
  client: net.Socket;
  target: net.Socket | undefined;
  mode: ProxyMode;
  /** Bytes left before a reset-mode link is cut. */
  budget: number;
  /** Chains delayed writes so chunks keep their order. */
  upQueue: Promise<void>;
  downQueue: Promise<void>;
  closed: boolean;
}

/**
 * Events: 'connection' (mode) when a client connects; 'reset' after a link is cut; 'dropped' when a
 * connection is black-holed.
 */
export class FaultProxy extends EventEmitter {
  private server: net.Server | undefined;
  private readonly links = new Set<Link>();
  private readonly random: Random;
  private currentMode: ProxyMode;
  private listenPort: number;
  targetPort: number;
  delayMs: [number, number];
  resetAfterBytes: [number, number];
  readonly stats: ProxyStats = { accepted: 0, forwarded: 0, dropped: 0, delayedChunks: 0, reset: 0, bytesToTarget: 0, bytesToClient: 0 };
  /** Every seeded choice, in order: `delay 12`, `reset-after 300`. */
  readonly decisions: string[] = [];

  private constructor(options: FaultProxyOptions) {
    super();
    this.targetPort = options.targetPort;
    this.listenPort = options.listenPort ?? 0;
    this.random = new Random(options.seed ?? 1);
    this.currentMode = options.mode ?? 'pass';
    this.delayMs = options.delayMs ?? [5, 50];
    this.resetAfterBytes = options.resetAfterBytes ?? [0, 4096];
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    if (proxy.currentMode !== 'down') await proxy.listen();
    else if (!proxy.listenPort) throw new Error('A proxy that starts down needs a listenPort');
    return proxy;
  }

  get mode(): ProxyMode {
    return this.currentMode;
  }

  get port(): number {
    return this.listenPort;
  }

  get url(): string {
    return `http://${LOOPBACK}:${this.listenPort}`;
  }

  /** Open links (for tests and the drill report). */
  get openConnections(): number {
    return this.links.size;
  }

  /** Point at a restarted target; open links to the old one are reset. */
  setTarget(port: number): void {
    this.targetPort = port;
    for (const link of [...this.links]) this.cut(link);
  }

  /**
   * Switch mode. Links opened under pass or delay carry on under pass/delay (only the pacing
   * changes); every other open link is reset, so no client is left waiting on a black hole after the
   * network "comes back" and no link outlives the fault it was opened under.
   */
  async setMode(mode: ProxyMode): Promise<void> {
    const previous = this.currentMode;
    if (mode === previous) return;
    this.currentMode = mode;
    const gentle = (m: ProxyMode) => m === 'pass' || m === 'delay';
    for (const link of [...this.links]) {
      if (gentle(mode) && gentle(link.mode)) link.mode = mode;
      else if (mode === 'drop') this.blackHole(link);
      else this.cut(link);
    }
    if (mode === 'down') await this.unlisten();
    else if (previous === 'down') await this.listen();
  }

  async close(): Promise<void> {
    for (const link of [...this.links]) this.cut(link);
    await this.unlisten();
  }

  private listen(): Promise<void> {
    const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: LOOPBACK, port: this.listenPort, exclusive: true }, () => {
        server.off('error', reject);
        const address = server.address();
        if (address && typeof address !== 'string') this.listenPort = address.port;
        resolve();
      });
    });
  }

  private unlisten(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    this.stats.accepted++;
    const mode = this.currentMode;
    const link: Link = { client, target: undefined, mode, budget: Infinity, upQueue: Promise.resolve(), downQueue: Promise.resolve(), closed: false };
    this.links.add(link);
    client.on('error', () => this.cut(link));
    client.on('close', () => this.finish(link));
    this.emit('connection', mode);
    if (mode === 'drop' || mode === 'down') {
      this.blackHole(link, true);
      return;
    }
    if (mode === 'reset') {
      link.budget = this.random.int(this.resetAfterBytes[0], this.resetAfterBytes[1]);
      this.decisions.push(`reset-after ${link.budget}`);
      if (link.budget === 0) {
        this.cut(link);
        return;
      }
    }
    const target = net.connect({ host: LOOPBACK, port: this.targetPort, noDelay: true });
    link.target = target;
    this.stats.forwarded++;
    target.on('error', () => this.cut(link));
    target.on('close', () => this.finish(link));
    client.on('data', (chunk: Buffer) => this.relay(link, chunk, 'up'));
    target.on('data', (chunk: Buffer) => this.relay(link, chunk, 'down'));
    client.on('end', () => link.upQueue.then(() => link.target?.end()));
    target.on('end', () => link.downQueue.then(() => link.client.end()));
  }

  private relay(link: Link, chunk: Buffer, direction: 'up' | 'down'): void {
    if (link.closed || link.mode === 'drop') return;
    let data = chunk;
    if (link.mode === 'reset') {
      if (data.length >= link.budget) {
        data = data.subarray(0, link.budget);
        link.budget = 0;
      } else link.budget -= data.length;
    }
    const out = direction === 'up' ? link.target : link.client;
    const write = () => {
      if (link.closed || !out) return;
      if (data.length) {
        out.write(data);
        if (direction === 'up') this.stats.bytesToTarget += data.length;
        else this.stats.bytesToClient += data.length;
      }
      if (link.mode === 'reset' && link.budget === 0) this.cut(link);
    };
    if (link.mode === 'delay') {
      const ms = this.random.int(this.delayMs[0], this.delayMs[1]);
      this.decisions.push(`delay ${ms}`);
      this.stats.delayedChunks++;
      const pause = (source: net.Socket | undefined) => source?.pause();
      const source = direction === 'up' ? link.client : link.target;
      pause(source);
      const queued = (direction === 'up' ? link.upQueue : link.downQueue).then(
        () =>
          new Promise<void>((resolve) =>
            setTimeout(() => {
              write();
              if (!link.closed) source?.resume();
              resolve();
            }, ms),
          ),
      );
      if (direction === 'up') link.upQueue = queued;
      else link.downQueue = queued;
    } else write();
  }

  /** Stop forwarding and answer nothing; the client hangs until its own timeout or a later reset. */
  private blackHole(link: Link, fresh = false): void {
    if (link.mode !== 'drop' || fresh) {
      this.stats.dropped++;
      this.emit('dropped');
    }
    link.mode = 'drop';
    link.target?.removeAllListeners('data');
    link.target?.on('error', () => undefined);
    link.target?.destroy();
    link.target = undefined;
    link.client.removeAllListeners('data');
    link.client.on('data', () => undefined);
  }

  /** Destroy both sides with a TCP RST. */
  private cut(link: Link): void {
    if (link.closed) return;
    link.closed = true;
    this.links.delete(link);
    this.stats.reset++;
    for (const socket of [link.client, link.target]) {
      if (!socket || socket.destroyed) continue;
      socket.on('error', () => undefined);
      // Node cannot reset a socket that is connecting or already shutting down (end() was called): its
      // handle would never close and the process would spin at exit. Those are closed plainly.
      if (socket.readyState === 'opening' || socket.writableEnded || typeof socket.resetAndDestroy !== 'function') socket.destroy();
      else socket.resetAndDestroy();
    }
    this.emit('reset');
  }

  /** A side closed normally: close the other and forget the link. */
  private finish(link: Link): void {
    if (link.closed) return;
    link.closed = true;
    this.links.delete(link);
    Promise.all([link.upQueue, link.downQueue]).then(
      () => {
        link.client.destroy();
        link.target?.destroy();
      },
      () => undefined,
    );
  }
}
