/**
 * Helpers for sync tests and the simulation: a receiver over a store, in-memory transports that can
 * fail before or after the peer handled a request, and a practice node's sync wiring.
 */
import type { RecordStore } from '@steadfast/store';
import type { SyncRequest, SyncResponse, SyncTransport } from '../sync/protocol.ts';
import { SyncReceiver, registerPeer } from '../sync/receiver.ts';
import { SyncClient, type SyncClientOptions } from '../sync/client.ts';
import { resolveConflicts } from '../sync/conflicts.ts';

/** A transport straight into a receiver, with hooks to lose requests or answers. */
export class MemoryTransport implements SyncTransport {
  /** Return 'drop-request' to fail before the peer sees it, 'drop-response' to fail after it handled it. */
  fault: (request: SyncRequest) => 'ok' | 'drop-request' | 'drop-response' = () => 'ok';
  /** Rewrite the request as a faulty network or a malicious sender might. */
  mangle: ((request: SyncRequest) => SyncRequest) | undefined;
  sent = 0;

  constructor(private readonly receiver: () => SyncReceiver | undefined) {}

  async send(request: SyncRequest): Promise<SyncResponse> {
    this.sent++;
    const receiver = this.receiver();
    if (!receiver) throw new Error('peer unreachable (down)');
    const f = this.fault(request);
    if (f === 'drop-request') throw new Error('peer unreachable (request lost)');
    const response = await receiver.handle(this.mangle ? this.mangle(request) : request);
    if (f === 'drop-response') throw new Error('connection reset (answer lost)');
    return response;
  }
}

/** A receiver serving one store (a hub for one practice, or a primary node for its standby). */
export function receiverFor(store: RecordStore, options: { followUp?: boolean } = {}): SyncReceiver {
  return new SyncReceiver({
    db: store.db,
    storeFor: async (practice) => (practice === store.practice ? store : undefined),
    ...(options.followUp ? { afterApply: async (s: RecordStore, entries) => void (await resolveConflicts(s, entries)) } : {}),
  });
}

export function syncClientFor(store: RecordStore, transport: SyncTransport, key: string, extra: Partial<SyncClientOptions> = {}): SyncClient {
  return new SyncClient({
    store,
    peer: 'hub',
    transport,
    key,
    afterApply: async (s, entries) => void (await resolveConflicts(s, entries)),
    ...extra,
  });
}

export { registerPeer };
