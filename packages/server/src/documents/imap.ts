/**
 * The practice mailbox over IMAP (NHSmail is Exchange Online with IMAP access), through imapflow.
 * Each round takes every message in the mailbox, oldest first: its whole source is streamed into the
 * blob store, kept by the inbox (one commit), and only then moved to the "taken" folder. A crash in
 * between leaves the message in the mailbox; the next round fetches the same bytes again, which the
 * inbox and the documents table recognise, and moves it. So nothing is lost and nothing duplicated.
 *
 * A message that cannot be fetched or kept is reported and left for the next round; the ones behind
 * it are still taken. Polling (default every 60 s) rather than IDLE: it also works through the
 * proxies practices sit behind, and a round starts at once after a reconnect.
 */
import { ImapFlow } from 'imapflow';
import type { DocumentIntake } from './intake.ts';

export interface ImapMailboxOptions {
  host: string;
  port: number;
  /** TLS from the start (993). Default true; only loopback tests turn it off. */
  secure?: boolean;
  user: string;
  password: string;
  /** Folder read (default INBOX). */
  mailbox?: string;
  /** Folder messages are moved to once kept (default "Steadfast taken"; created when missing). */
  takenFolder?: string;
  intervalMs?: number;
  /** Messages fetched per round (default 200): a big backlog is taken over several rounds. */
  batch?: number;
}

export interface ImapRound {
  taken: number;
  duplicates: number;
  failed: number;
  /** Messages left in the mailbox after this round (more than one round's batch). */
  left: number;
}

export interface ImapStatus {
  lastRoundAt?: string;
  lastError?: string;
  connected: boolean;
  taken: number;
}

export class ImapPoller {
  private client: ImapFlow | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ImapRound> | undefined;
  private closed = false;
  readonly status: ImapStatus = { connected: false, taken: 0 };

  constructor(
    private readonly intake: DocumentIntake,
    private readonly options: ImapMailboxOptions,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  private get mailbox() {
    return this.options.mailbox ?? 'INBOX';
  }

  private get taken() {
    return this.options.takenFolder ?? 'Steadfast taken';
  }

  start(): void {
    const tick = () => {
      if (this.closed) return;
      this.poll()
        .catch((err) => this.onError(err))
        .finally(() => {
          if (!this.closed) this.timer = setTimeout(tick, this.options.intervalMs ?? 60_000);
        });
    };
    tick();
  }

  /** One round now (or the one under way). */
  poll(): Promise<ImapRound> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async connect(): Promise<ImapFlow> {
    if (this.client?.usable) return this.client;
    const client = new ImapFlow({
      host: this.options.host,
      port: this.options.port,
      secure: this.options.secure ?? true,
      auth: { user: this.options.user, pass: this.options.password },
      logger: false,
      disableAutoIdle: true,
    });
    client.on('error', (err) => {
      this.status.connected = false;
      this.status.lastError = (err as Error).message;
    });
    client.on('close', () => (this.status.connected = false));
    await client.connect();
    this.client = client;
    this.status.connected = true;
    const folders = await client.list();
    if (!folders.some((f) => f.path === this.taken)) await client.mailboxCreate(this.taken).catch(() => undefined);
    return client;
  }

  private async round(): Promise<ImapRound> {
    const out: ImapRound = { taken: 0, duplicates: 0, failed: 0, left: 0 };
    let client: ImapFlow;
    try {
      client = await this.connect();
    } catch (err) {
      this.status.lastError = `Cannot reach the mailbox ${this.options.user}@${this.options.host}: ${(err as Error).message}`;
      throw err;
    }
    const lock = await client.getMailboxLock(this.mailbox);
    try {
      const uids = ((await client.search({ all: true }, { uid: true })) || []).sort((a, b) => a - b);
      const batch = uids.slice(0, this.options.batch ?? 200);
      out.left = uids.length - batch.length;
      for (const uid of batch) {
        if (this.closed) break;
        try {
          const download = await client.download(String(uid), undefined, { uid: true });
          if (!download?.content) throw new Error(`message UID ${uid} has no content`);
          const r = await this.intake.receiveStream(download.content, 'email', 'imap', { filename: `uid-${uid}.eml`, declaredType: 'message/rfc822', origin: { mailbox: this.mailbox, uid: String(uid), user: this.options.user } });
          if (r.state === 'refused') throw r.error ?? new Error(r.reason);
          // Kept (committed): only now is the mailbox told.
          await client.messageMove(String(uid), this.taken, { uid: true });
          if (r.state === 'duplicate') out.duplicates++;
          else out.taken++;
        } catch (err) {
          out.failed++;
          this.onError(err);
          if (!client.usable) break;
        }
      }
    } finally {
      lock.release();
    }
    this.status.taken += out.taken;
    this.status.lastRoundAt = new Date().toISOString();
    if (!out.failed) delete this.status.lastError;
    return out;
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    await this.client?.logout().catch(() => undefined);
    this.client = undefined;
  }
}
