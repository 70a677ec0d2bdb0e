/**
 * Memory while a 50 MB document blob replicates (issue 11, item 5): a practice node sends it to its
 * upstream (a second node in the same process, receiving into its blob store), through the real
 * blob channel over loopback HTTP. The figure is the peak rise in resident memory (RSS, sampled every
 * 5 ms) during the transfer, as a ratio to the blob's size. Baseline in the same run: the peak rise of
 * reading the same blob whole into memory (what a buffered transfer would cost at least once).
 */
import { randomBytes } from 'node:crypto';
import { newNodeKey } from '../packages/server/src/sync/protocol.ts';
import { registerPeer } from '../packages/server/src/sync/receiver.ts';
import { startTestNode } from '../packages/server/src/testing/harness.ts';
import { blobReplicatorOf, intakeOf } from '../packages/server/src/documents/index.ts';
import { round, type BenchResult } from './types.ts';

const MB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_BLOB_MB ?? 50) * MB;

async function peakRise(fn: () => Promise<unknown>): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  return peak - base;
}

export async function run(): Promise<BenchResult[]> {
  const upstream = await startTestNode({ practice: 'B82005' });
  const key = newNodeKey();
  process.env.STEADFAST_SYNC_URL = upstream.url;
  process.env.STEADFAST_SYNC_KEY = key;
  // The sender's own replication timer is left far off: the bench drives the one transfer.
  const sender = await startTestNode({ practice: 'B82005', config: { documents: { replicationIntervalMs: 3_600_000 } } }).finally(() => {
    delete process.env.STEADFAST_SYNC_URL;
    delete process.env.STEADFAST_SYNC_KEY;
  });
  try {
    await registerPeer(upstream.store.db, { practice: 'B82005', nodeId: sender.store.nodeId, key });
    const intake = intakeOf(sender.deps)!;
    // Written in 1 MB pieces so the bench itself never holds the 50 MB.
    async function* pieces() {
      for (let i = 0; i < SIZE / MB; i++) yield randomBytes(MB);
    }
    const { Readable } = await import('node:stream');
    await intake.receiveStream(Readable.from(pieces()), 'file', 'upload', { filename: 'big-scan.tif', declaredType: 'image/tiff' });
    const replicator = blobReplicatorOf(sender.deps)!;
    // Wait until the document row exists (the intake worker), so the blob is one a document names.
    for (let i = 0; i < 600 && (await replicator.status()).waitingToSend === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const [blob] = (await sender.store.db.selectFrom('documents' as never).select('blob' as never).execute()) as Array<{ blob: string }>;
    let sent = 0;
    const streamed = await peakRise(async () => (sent = await replicator.round()));
    if (sent < 1 || !intakeOf(upstream.deps)!.blobs.has(blob!.blob)) throw new Error('the blob did not arrive');
    const buffered = await peakRise(async () => (await intake.blobs.read(blob!.blob)).length);
    const sizeMb = SIZE / MB;
    return [
      {
        name: `documents: peak RSS rise streaming a ${sizeMb} MB blob node → upstream (sender and receiver in one process)`,
        value: round(streamed / MB, 1),
        unit: 'MB',
        baseline: { name: `the same blob read whole into memory`, value: round(buffered / MB, 1) },
        ratio: round(streamed / SIZE, 3),
        note: `ratio = peak rise / blob size (${sizeMb} MB); buffered baseline ${round(buffered / SIZE, 2)} of the size`,
      },
    ];
  } finally {
    await sender.close();
    await upstream.close();
  }
}
