/**
 * How the MLLP listener guards itself against slow, greedy or unknown peers (`serve --mllp-*`): the
 * idle timeout, the connection cap and the allow-list of laboratory addresses.
 */
import net from 'node:net';
import { SteadfastError } from '@steadfast/domain';

/** A connection that sends nothing for this long is closed; a message it had half sent is dropped. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** Connections served at once; more are closed at once (a laboratory needs one or two). */
export const DEFAULT_MAX_CONNECTIONS = 32;

/** How the listener guards itself against slow, greedy or unknown peers (`serve --mllp-*`). */
export interface MllpLimits {
  /** Close a connection idle this long (ms; default 60 s). A half-sent message is dropped, never stored. */
  idleTimeoutMs?: number;
  /** Connections served at once (default 32); a further connection is closed at once and counted. */
  maxConnections?: number;
  /** Addresses (IPv4/IPv6, or CIDR ranges) allowed to connect; absent or empty = any. */
  allow?: string[];
}

/** TLS material for the listener (PEM text): the same framing runs inside TLS. */

/**
 * The listener's limits from `serve` flags: `--mllp-idle-timeout SECONDS` (0 = never), `--mllp-max-connections N`,
 * `--mllp-allow ADDR[,CIDR...]`. Undefined when none is given (the defaults apply).
 */
export function parseMllpLimits(flags: { idleTimeout?: string | undefined; maxConnections?: string | undefined; allow?: string | undefined }): MllpLimits | undefined {
  const limits: MllpLimits = {};
  if (flags.idleTimeout !== undefined && flags.idleTimeout !== '') {
    const secs = Number(flags.idleTimeout);
    if (!Number.isFinite(secs) || secs < 0) throw new SteadfastError('invalid', `--mllp-idle-timeout "${flags.idleTimeout}" is not a number of seconds`, { field: '--mllp-idle-timeout', hint: 'e.g. --mllp-idle-timeout 60 (0 = never close an idle connection)' });
    limits.idleTimeoutMs = Math.round(secs * 1000);
  }
  if (flags.maxConnections !== undefined && flags.maxConnections !== '') {
    const n = Number(flags.maxConnections);
    if (!Number.isInteger(n) || n < 1) throw new SteadfastError('invalid', `--mllp-max-connections "${flags.maxConnections}" is not a whole number of at least 1`, { field: '--mllp-max-connections', hint: 'e.g. --mllp-max-connections 32' });
    limits.maxConnections = n;
  }
  if (flags.allow !== undefined && flags.allow.trim() !== '') {
    const allow = flags.allow.split(',').map((a) => a.trim()).filter(Boolean);
    parseAllowList(allow); // refuse a bad entry at start, not at the first connection
    limits.allow = allow;
  }
  return Object.keys(limits).length ? limits : undefined;
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:10.0.0.5), else the address itself. */
function plainAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/**
 * An allow-list of laboratory addresses: `10.0.0.5`, `10.0.0.0/24`, `fd00::/8`. Throws a
 * SteadfastError naming the entry that is neither an address nor a range.
 */
export function parseAllowList(entries: string[]): (address: string | undefined) => boolean {
  const list = new net.BlockList();
  for (const raw of entries) {
    const entry = raw.trim();
    const [addr, bits, extra] = entry.split('/');
    const family = net.isIP(addr ?? '');
    const prefix = bits === undefined ? undefined : Number(bits);
    const maxBits = family === 6 ? 128 : 32;
    if (!family || extra !== undefined || (prefix !== undefined && (!/^\d+$/.test(bits!) || prefix > maxBits))) {
      throw new SteadfastError('invalid', `MLLP allow-list entry "${raw}" is not an IP address or CIDR range`, {
        field: '--mllp-allow',
        hint: 'List the laboratory\'s addresses separated by commas, e.g. 10.20.0.5,10.20.1.0/24',
      });
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(addr!, type);
    else list.addSubnet(addr!, prefix, type);
  }
  return (address) => {
    if (!address) return false;
    const a = plainAddress(address);
    return list.check(a, net.isIP(a) === 6 ? 'ipv6' : 'ipv4');
  };
}
