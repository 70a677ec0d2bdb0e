/**
 * The incidents capability's options (`deps.config.incidents`). The hub's URL and the key normally come
 * from the sync configuration (incidents go where the change log goes); tests and the drill may name them.
 */
export interface IncidentsOptions {
  /** The hub and this node's key, instead of the sync upstream. */
  hub?: { url: string; key: string };
  /** How long one poll waits at the hub for a change (default 25 s). */
  pollWaitMs?: number;
}

declare module '../capability.ts' {
  interface CapabilityOptions {
    incidents?: IncidentsOptions;
  }
}
