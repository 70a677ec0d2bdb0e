/**
 * SHA-256 for ids every node must derive identically (e.g. the review Task raised by two nodes for one
 * conflict). @noble/hashes is synchronous and platform-free, so the pure domain can use it in Node and
 * in the browser alike.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

/** A UUID (version 8, name-based) derived from a name: the same name gives the same id on every node. */
export function deterministicUuid(name: string): string {
  const hex = sha256Hex(name);
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
