/**
 * MLLP (Minimal Lower Layer Protocol) on node:net: each message framed as 0x0B … 0x1C 0x0D.
 * The listener stores before it acknowledges (the ingest function commits first), answers every
 * complete frame with AA / AE / AR, keeps oversized and truncated frames in quarantine, and survives
 * anything a peer sends: one bad connection never takes the listener (or the node) down.
 */
import net from 'node:net';
import { Hl7Message } from '@medplum/core';
import { escapeHl7, hl7Now, parseHl7 } from './hl7.ts';
import { guessMessageId, type AckCode } from './hl7-ack.ts';

export const VT = 0x0b;
export const FS = 0x1c;
export const CR = 0x0d;
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

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
}

export interface MllpListener {
  port: number;
  host: string;
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

/** An ACK for a message; built by hand when the message could not be parsed at all. */
export function buildAck(raw: string, code: AckCode, text: string): string {
  const note = escapeHl7(text.replace(/\s+/g, ' ').slice(0, 200));
  try {
    const msg = parseHl7(raw);
    const ack = msg.buildAck({ ackCode: code });
    const msa = ack.getSegment('MSA')!;
    msa.setField(3, note);
    return ack.toString();
  } catch {
    const id = escapeHl7(guessMessageId(raw));
    return [`MSH|^~\\&|STEADFAST||||${hl7Now()}||ACK|${Date.now()}|P|2.5.1`, `MSA|${code}|${id}|${note}`].join('\r');
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

  const server = net.createServer((socket) => {
    sockets.add(socket);
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
  });
  server.on('error', report);

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        host,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * Send one message to an MLLP endpoint and wait for its ACK (used by the order outbox). Resolves to
 * the ACK code and text; rejects on connection errors or timeout so the caller can retry later.
 */
export function sendMllp(host: string, port: number, message: string, timeoutMs = 10_000): Promise<{ code: string; text: string; raw: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`No acknowledgement from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(frame(message)));
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      const all = Buffer.concat(chunks);
      const end = all.indexOf(Buffer.from([FS, CR]));
      if (end === -1) return;
      clearTimeout(timer);
      const start = all.indexOf(VT);
      const raw = decodeFrame(all.subarray(start + 1, end));
      socket.end();
      try {
        const msa = Hl7Message.parse(raw.replace(/^[\s]+/, '')).getSegment('MSA');
        resolve({ code: msa?.getField(1)?.toString() ?? '', text: msa?.getField(3)?.toString() ?? '', raw });
      } catch (err) {
        reject(new Error(`Unreadable acknowledgement from ${host}:${port}: ${(err as Error).message}`));
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`Connection to ${host}:${port} closed before an acknowledgement`));
    });
  });
}
