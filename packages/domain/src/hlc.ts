/**
 * Hybrid logical clock: wall-clock milliseconds plus a counter, so that every entry a node writes has
 * a time that is later than everything the node has seen, even when clocks are skewed between nodes.
 * Encoded as a fixed-width string so that string order is time order: `000001732540000000-0000-nodeid`.
 */
export interface HlcTimestamp {
  wallMs: number;
  counter: number;
  node: string;
}

const WALL_WIDTH = 15;
const COUNTER_WIDTH = 5;
const MAX_COUNTER = 10 ** COUNTER_WIDTH - 1;

export function encodeHlc(t: HlcTimestamp): string {
  return `${String(t.wallMs).padStart(WALL_WIDTH, '0')}-${String(t.counter).padStart(COUNTER_WIDTH, '0')}-${t.node}`;
}

export function decodeHlc(s: string): HlcTimestamp {
  const m = /^(\d{15})-(\d{5})-(.+)$/.exec(s);
  if (!m) throw new Error(`"${s}" is not a hybrid logical clock timestamp (expected 15 digits-5 digits-node)`);
  return { wallMs: Number(m[1]), counter: Number(m[2]), node: m[3]! };
}

export class HybridLogicalClock {
  private last: HlcTimestamp;

  constructor(
    readonly node: string,
    private readonly now: () => number = Date.now,
  ) {
    if (!/^[A-Za-z0-9._:-]+$/.test(node)) throw new Error(`node id "${node}" may only use letters, digits, '.', '_', ':' and '-'`);
    this.last = { wallMs: 0, counter: 0, node };
  }

  /** A new timestamp for a local event. */
  tick(): string {
    const wall = this.now();
    if (wall > this.last.wallMs) this.last = { wallMs: wall, counter: 0, node: this.node };
    else this.last = this.bump(this.last.wallMs, this.last.counter + 1);
    return encodeHlc(this.last);
  }

  /** Move the clock past a timestamp received from another node, so later local events order after it. */
  observe(remote: string): void {
    const r = decodeHlc(remote);
    const wall = this.now();
    const maxWall = Math.max(wall, r.wallMs, this.last.wallMs);
    let counter = 0;
    if (maxWall === this.last.wallMs && maxWall === r.wallMs) counter = Math.max(this.last.counter, r.counter) + 1;
    else if (maxWall === this.last.wallMs) counter = this.last.counter + 1;
    else if (maxWall === r.wallMs) counter = r.counter + 1;
    this.last = this.bump(maxWall, counter);
  }

  private bump(wallMs: number, counter: number): HlcTimestamp {
    // A counter overflow borrows a millisecond from the future rather than breaking monotonicity.
    if (counter > MAX_COUNTER) return { wallMs: wallMs + 1, counter: 0, node: this.node };
    return { wallMs, counter, node: this.node };
  }
}
