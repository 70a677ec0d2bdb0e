/**
 * The filer: files what `receiveHl7Batch` stored, one batch at a time (50 to a transaction), in
 * arrival order, behind the MLLP listener. It is the generic durable inbox's worker (../inbox) with
 * pathology's filing (file.ts) as its processor.
 */
import { createBatcher as batcher } from '../inbox/batcher.ts';
import type { DurableInbox } from '../inbox/durable-inbox.ts';
import type { ResultMessage } from './oru.ts';
import type { IngestDeps } from './outcome.ts';
import { pathologyInbox } from './receive.ts';
import type { InboxSource } from './tables.ts';

/** Messages arriving together (several MLLP connections, a drop folder) share a commit. */
export function createBatcher<T>(run: (items: Array<{ raw: string; source: InboxSource }>) => Promise<T[]>, maxBatch = 50): (raw: string, source: InboxSource) => Promise<T> {
  return batcher<T, InboxSource>(run, maxBatch);
}

/** File up to `limit` received messages, oldest first, in one batch; returns how many were taken. */
export async function fileReceived(deps: IngestDeps, options: { limit?: number; parsed?: Map<string, ResultMessage> } = {}): Promise<number> {
  return pathologyInbox(deps, options.parsed ? { parsed: options.parsed } : {}).processNext(options.limit ?? 50);
}

/**
 * Files what `receiveHl7Batch` stored, behind the listener: `nudge()` after a receive; `settled()`
 * resolves once nothing is being filed. Started, it first files anything still `received` from
 * before a restart. A store failure is retried after a pause.
 */
export class ResultFiler {
  /** Parses of received messages, so the filer need not parse them again. */
  readonly parsed: Map<string, ResultMessage>;
  readonly inbox: DurableInbox<ResultMessage>;

  constructor(deps: IngestDeps, options: { batchSize?: number; retryMs?: number; onError?: (err: unknown) => void } = {}) {
    this.inbox = pathologyInbox(deps, options);
    this.parsed = this.inbox.parsed;
  }

  nudge(): void {
    this.inbox.nudge();
  }

  /** Resolves when the filer is idle (everything received so far is filed, or waiting for a retry). */
  settled(): Promise<void> {
    return this.inbox.settled();
  }

  close(): Promise<void> {
    return this.inbox.close();
  }
}
