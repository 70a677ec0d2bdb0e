/** The sending side of MLLP: one message to a laboratory's endpoint, waiting for its ACK. */
import net from 'node:net';
import tls from 'node:tls';
import { Hl7Message } from '@medplum/core';
import { CR, FS, VT, decodeFrame, frame } from './mllp.ts';

/**
 * Send one message to an MLLP endpoint and wait for its ACK (used by the order outbox). Resolves to
 * the ACK code and text; rejects on connection errors or timeout so the caller can retry later.
 */
export interface MllpClientTls {
  /** PEM of the certificate authority (or the laboratory's own certificate) to trust; system CAs when absent. */
  ca?: string;
}

export function sendMllp(
  host: string,
  port: number,
  message: string,
  timeoutMs = 10_000,
  options: { tls?: MllpClientTls } = {},
): Promise<{ code: string; text: string; raw: string }> {
  return new Promise((resolve, reject) => {
    const socket = options.tls
      ? tls.connect({ host, port, ...(options.tls.ca ? { ca: options.tls.ca } : {}), ...(net.isIP(host) ? {} : { servername: host }) })
      : net.connect({ host, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`No acknowledgement from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    // Over TLS, nothing is sent until the laboratory's certificate has been verified.
    socket.on(options.tls ? 'secureConnect' : 'connect', () => socket.write(frame(message)));
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
