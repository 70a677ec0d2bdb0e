/**
 * The documents capability's own options (`deps.config.documents`) and the `steadfast serve` flags
 * that set them. The mailbox password is never a flag (it would show in the process list): it comes
 * from the environment variable STEADFAST_DOCUMENTS_IMAP_PASSWORD.
 */
import { SteadfastError } from '@steadfast/domain';
import type { CapabilityCli } from '../capability.ts';
import type { ImapMailboxOptions } from './imap.ts';

export interface DocumentsOptions {
  /** The practice mailbox, when documents arrive by email. */
  imap?: ImapMailboxOptions;
  /** The scanner drop folder, when there is one. */
  scanDir?: string;
  /** Largest single item kept (default 200 MB). */
  maxBlobBytes?: number;
  /** Drop folder poll interval (default 5 s). */
  scanIntervalMs?: number;
  /** How often replicated documents are rebuilt and their bytes sent to / fetched from the upstream (default 2 s). */
  replicationIntervalMs?: number;
}

declare module '../capability.ts' {
  interface CapabilityOptions {
    documents?: DocumentsOptions;
  }
}

export const IMAP_PASSWORD_ENV = 'STEADFAST_DOCUMENTS_IMAP_PASSWORD';

/** `--documents-imap imaps://user@host[:993][/FOLDER]` (or imap:// for plain loopback). */
export function parseImapUrl(raw: string, password: string | undefined): ImapMailboxOptions {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    url = new URL('invalid://');
  }
  if ((url.protocol !== 'imaps:' && url.protocol !== 'imap:') || !url.hostname || !url.username) {
    throw new SteadfastError('invalid', `--documents-imap "${raw}" is not imaps://USER@HOST[:PORT][/FOLDER]`, { field: '--documents-imap', hint: 'e.g. imaps://practice.documents%40nhs.net@outlook.office365.com/INBOX (the @ in the user written %40)' });
  }
  if (!password) {
    throw new SteadfastError('required', `The mailbox password is not set`, { field: IMAP_PASSWORD_ENV, hint: `Set the environment variable ${IMAP_PASSWORD_ENV} (never a flag: flags show in the process list)` });
  }
  const secure = url.protocol === 'imaps:';
  const folder = decodeURIComponent(url.pathname.replace(/^\//, ''));
  return { host: url.hostname, port: url.port ? Number(url.port) : secure ? 993 : 143, secure, user: decodeURIComponent(url.username), password, ...(folder ? { mailbox: folder } : {}) };
}

export const documentsCli: CapabilityCli = {
  flags: [
    { flags: '--documents-imap <url>', description: `practice mailbox for documents, imaps://USER@HOST[:PORT][/FOLDER] (password from ${IMAP_PASSWORD_ENV})` },
    { flags: '--documents-scan-dir <dir>', description: 'scanner drop folder for documents' },
  ],
  configure(values) {
    const out: DocumentsOptions = {};
    if (typeof values.documentsImap === 'string') out.imap = parseImapUrl(values.documentsImap, process.env[IMAP_PASSWORD_ENV]);
    if (typeof values.documentsScanDir === 'string') out.scanDir = values.documentsScanDir;
    return Object.keys(out).length ? { documents: out } : {};
  },
};
