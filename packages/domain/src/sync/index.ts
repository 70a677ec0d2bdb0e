export * from './conflict-rules.ts';
export { sha256Hex, deterministicUuid } from './sha256.ts';
export * from './sharing.ts';
