/**
 * MLLP (Minimal Lower Layer Protocol) on node:net: each message framed as 0x0B … 0x1C 0x0D.
 * The listener stores before it acknowledges (the ingest function commits first), answers every
 * complete frame with AA / AE / AR, keeps oversized and truncated frames in quarantine, and survives
 * anything a peer sends: one bad connection never takes the listener (or the node) down.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Hl7Message } from '@medplum/core';
import { SteadfastError } from '@steadfast/domain';
import { escapeHl7, hl7Now, parseHl7 } from './hl7.ts';
import { guessMessageId, type AckCode } from './hl7-ack.ts';
import { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS, parseAllowList, type MllpLimits } from './mllp-limits.ts';

export type { MllpLimits } from './mllp-limits.ts';

export const VT = 0x0b;
export const FS = 0x1c;
export const CR = 0x0d;
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
export interface MllpTls {
  cert: string;
  key: string;
}

/** What the listener turned away or cut off since it started (also reported through onNotice). */
export interface MllpCounters {
  refusedOverLimit: number;
  refusedNotAllowed: number;
  closedIdle: number;
}

export interface MllpIngestResult {
  ack: AckCode;
  reason: string;
}

export interface MllpListenerOptions {
  port: number;
  host?: string;
  /** Store and file one message; must not throw for bad input (a throw is answered AE). */
  ingest: (raw: string) => Promise<MllpIngestResult>;
  /** Keep a frame that never became a message (oversized, truncated) for a person to see. */
  quarantine?: (raw: string, reason: string) => Promise<void>;
  maxFrameBytes?: number;
  /** Called for errors the listener handled (logging); never required. */
  onError?: (err: unknown) => void;
  /** Called when a connection is refused or cut off (logging); never required. */
  onNotice?: (message: string) => void;
  /** Idle timeout, connection cap and allow-list. */
  limits?: MllpLimits;
  /** Speak MLLP inside TLS with this certificate and key. */
  tls?: MllpTls;
}

export interface MllpListener {
  port: number;
  host: string;
  /** Whether the listener speaks TLS. */
  tls: boolean;
  counters(): MllpCounters;
  close(): Promise<void>;
}

/** Wrap text in an MLLP frame. */
export function frame(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([VT]), body, Buffer.from([FS, CR])]);
}

/** Decode a frame's bytes: UTF-8 when valid, otherwise ISO-8859-1 (what older lab systems send). */
export function decodeFrame(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/**
 * The processing id (MSH-11: P production, T training/test, D debugging) of a message, read from
 * its text so that even an unparseable message gets its own back; P when absent or not one of these.
 */
export function processingIdOf(raw: string): 'P' | 'T' | 'D' {
  const msh = /(?:^|[\r\n])\s*MSH(.)(.*)/.exec(raw.replace(/^[\s\x0b]+/, ''));
  if (!msh) return 'P';
  const sep = msh[1]!;
  // MSH-1 is the separator itself, so MSH-11 is the tenth piece after it.
  const field = msh[2]!.split(/[\r\n]/)[0]!.split(sep)[9] ?? '';
  const id = field.split(/[\^&~]/)[0]!.trim().toUpperCase();
  return id === 'T' || id === 'D' ? id : 'P';
}

/** An ACK for a message; built by hand when the message could not be parsed at all. */
export function buildAck(raw: string, code: AckCode, text: string): string {
  const note = escapeHl7(text.replace(/\s+/g, ' ').slice(0, 200));
  // The ACK carries the processing id of the message it answers: a test message is answered as one.
  const processingId = processingIdOf(raw);
  try {
    const msg = parseHl7(raw);
    const ack = msg.buildAck({ ackCode: code });
    ack.getSegment('MSH')!.setField(11, processingId);
    const msa = ack.getSegment('MSA')!;
    msa.setField(3, note);
    return ack.toString();
  } catch {
    const id = escapeHl7(guessMessageId(raw));
    return [`MSH|^~\\&|STEADFAST||||${hl7Now()}||ACK|${Date.now()}|${processingId}|2.5.1`, `MSA|${code}|${id}|${note}`].join('\r');
  }
}

export function startMllpListener(options: MllpListenerOptions): Promise<MllpListener> {
  const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<net.Socket>();
  const report = (err: unknown) => {
    try {
      options.onError?.(err);
    } catch {
      /* a faulty logger must not break the listener */
    }
  };
  const keep = async (raw: string, reason: string) => {
    try {
      await options.quarantine?.(raw, reason);
    } catch (err) {
      report(err);
    }
  };

  const idleMs = options.limits?.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const maxConnections = options.limits?.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const allowed = options.limits?.allow?.length ? parseAllowList(options.limits.allow) : undefined;
  const secureContext = options.tls ? tls.createSecureContext({ cert: options.tls.cert, key: options.tls.key }) : undefined;
  const counters: MllpCounters = { refusedOverLimit: 0, refusedNotAllowed: 0, closedIdle: 0 };
  const notice = (message: string) => {
    try {
      options.onNotice?.(message);
    } catch {
      /* a faulty logger must not break the listener */
    }
  };

  // Every connection is checked on the raw TCP socket, before a byte is read or a TLS handshake
  // starts: an address outside the allow-list, or one connection too many, is closed at once.
  const server = net.createServer({ pauseOnConnect: true }, (raw) => {
    const peer = `${raw.remoteAddress ?? '?'}:${raw.remotePort ?? '?'}`;
    if (allowed && !allowed(raw.remoteAddress)) {
      counters.refusedNotAllowed++;
      notice(`MLLP connection from ${peer} refused: the address is not on the allow-list (--mllp-allow)`);
      raw.destroy();
      return;
    }
    if (sockets.size >= maxConnections) {
      counters.refusedOverLimit++;
      notice(`MLLP connection from ${peer} refused: ${sockets.size} connections already open (limit ${maxConnections}, --mllp-max-connections)`);
      raw.destroy();
      return;
    }
    let socket: net.Socket = raw;
    if (secureContext) {
      socket = new tls.TLSSocket(raw, { isServer: true, secureContext });
      raw.on('error', () => {}); // reported once, through the TLS socket
    }
    sockets.add(socket);
    raw.on('close', () => sockets.delete(socket));
    serve(socket, peer);
    raw.resume();
  });

  const serve = (socket: net.Socket, peer: string) => {
    let inFrame = false;
    let chunks: Buffer[] = [];
    let size = 0;
    let oversized = false;
    let prefix: Buffer | undefined;
    // 0x1C was the last byte of the previous chunk: the frame ends if this chunk starts with 0x0D.
    let pendingFs = false;
    // Messages on one connection are filed and answered in order.
    let queue: Promise<void> = Promise.resolve();

    // A sender that pipelines frames without waiting for ACKs is slowed down, not buffered without limit.
    let pending = 0;
    const track = (work: () => Promise<void>) => {
      pending++;
      if (pending > 50) socket.pause();
      queue = queue.then(work).catch(report).finally(() => {
        pending--;
        if (pending <= 10 && socket.isPaused()) socket.resume();
      });
    };

    const handle = (bytes: Buffer) => {
      track(async () => {
        const raw = decodeFrame(bytes);
        let result: MllpIngestResult;
        try {
          result = await options.ingest(raw);
        } catch (err) {
          report(err);
          result = { ack: 'AE', reason: 'The message could not be stored; please resend' };
        }
        if (!socket.destroyed) socket.write(frame(buildAck(raw, result.ack, result.reason || (result.ack === 'AA' ? 'OK' : 'Error'))));
      });
    };
    const handleOversized = (head: Buffer, total: number) => {
      track(async () => {
        const raw = decodeFrame(head);
        const reason = `MLLP frame of ${total} bytes exceeds the ${max}-byte limit; the first ${head.length} bytes are kept`;
        await keep(raw, reason);
        if (!socket.destroyed) socket.write(frame(buildAck(raw, 'AR', reason)));
      });
    };

    socket.on('data', (data: Buffer) => {
      try {
        let start = 0;
        if (pendingFs) {
          pendingFs = false;
          if (data[0] === CR) {
            if (oversized) handleOversized(prefix!, size);
            else handle(Buffer.concat(chunks));
            inFrame = false;
            chunks = [];
            size = 0;
            data = data.subarray(1);
          } else if (!oversized) {
            chunks.push(Buffer.from([FS]));
            size += 1;
          }
        }
        for (let i = 0; i < data.length; i++) {
          const b = data[i]!;
          if (!inFrame) {
            if (b === VT) {
              inFrame = true;
              chunks = [];
              size = 0;
              oversized = false;
              prefix = undefined;
              start = i + 1;
            }
            continue; // bytes between frames (keep-alive newlines, noise) are ignored
          }
          if (b === VT) {
            // A new start block inside a frame: the previous frame was cut short.
            const partial = Buffer.concat([...chunks, data.subarray(start, i)]);
            void keep(decodeFrame(partial), 'Truncated MLLP frame: a new message started before the end block (0x1C 0x0D)');
            chunks = [];
            size = 0;
            oversized = false;
            start = i + 1;
            continue;
          }
          if (b === FS && i + 1 === data.length) {
            pendingFs = true;
            const part = data.subarray(start, i);
            if (!oversized) chunks.push(Buffer.from(part));
            size += part.length;
            start = data.length;
            break;
          }
          if (b === FS && data[i + 1] === CR) {
            const part = data.subarray(start, i);
            if (oversized) handleOversized(prefix!, size + part.length);
            else handle(Buffer.concat([...chunks, part]));
            inFrame = false;
            chunks = [];
            size = 0;
            i += 1; // skip CR
            continue;
          }
        }
        if (inFrame && start < data.length) {
          const tail = data.subarray(start);
          if (oversized) size += tail.length;
          else {
            chunks.push(Buffer.from(tail));
            size += tail.length;
            if (size > max) {
              oversized = true;
              prefix = Buffer.concat(chunks).subarray(0, max);
              chunks = [];
            }
          }
        }
      } catch (err) {
        report(err);
        socket.destroy();
      }
    });
    const onEnd = () => {
      if (inFrame && (size > 0 || chunks.length)) {
        const partial = oversized ? prefix! : Buffer.concat(chunks);
        inFrame = false;
        chunks = [];
        void keep(decodeFrame(partial), 'Truncated MLLP frame: the connection closed before the end block (0x1C 0x0D)');
      }
    };
    socket.on('end', onEnd);
    socket.on('error', (err) => {
      report(err);
      onEnd();
    });
    socket.on('close', () => {
      onEnd();
      sockets.delete(socket);
    });
    // A peer that sends nothing for idleMs (a slow or stalled sender, a handshake never finished)
    // is closed; what it had half sent is dropped, not stored: the laboratory resends unacknowledged
    // messages. A connection waiting for its own ACKs is not idle.
    if (idleMs > 0) {
      socket.setTimeout(idleMs);
      socket.on('timeout', () => {
        if (pending > 0) {
          socket.setTimeout(idleMs);
          return;
        }
        const partial = inFrame ? size : 0;
        inFrame = false;
        chunks = [];
        size = 0;
        prefix = undefined;
        counters.closedIdle++;
        notice(`MLLP connection from ${peer} closed after ${idleMs} ms without data${partial ? ` (a message of ${partial} bytes was left unfinished and dropped)` : ''}`);
        socket.destroy();
      });
    }
  };
  server.on('error', report);

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        host,
        tls: Boolean(secureContext),
        counters: () => ({ ...counters }),
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
