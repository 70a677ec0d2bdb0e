/**
 * The outbox's options (`deps.config.outbox`), declared beside the capability.
 */
import type { DrainerOptions } from './drainer.ts';

export interface OutboxOptions {
  /** How often the drainer looks for due messages (default 1 s). */
  intervalMs?: number;
  /** Deliveries in flight at once (default 8). */
  concurrency?: number;
  /** A message `sending` this long is reconciled with its service (default 2 minutes). */
  staleSendingMs?: number;
  /** Do not run the drainer (tests that drive `createOutboxDrainer` themselves). */
  disabled?: boolean;
}

declare module '../capability.ts' {
  interface CapabilityOptions {
    outbox?: OutboxOptions;
  }
}

export function drainerOptionsOf(options: OutboxOptions | undefined): Pick<DrainerOptions, 'intervalMs' | 'concurrency' | 'staleSendingMs'> {
  return {
    ...(options?.intervalMs ? { intervalMs: options.intervalMs } : {}),
    ...(options?.concurrency ? { concurrency: options.concurrency } : {}),
    ...(options?.staleSendingMs ? { staleSendingMs: options.staleSendingMs } : {}),
  };
}
