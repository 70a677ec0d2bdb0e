/**
 * A real IMAP server for tests: Debian's dovecot-imapd started as an ordinary child process with its
 * own configuration, mail and sockets in a temp folder, listening on 127.0.0.1 at a free port, with
 * one mailbox user. Messages are delivered into it with IMAP APPEND (what a mail transfer agent's
 * delivery amounts to for the client that reads the mailbox).
 *
 *   const imap = await startDovecot();
 *   await imap.deliver(emlBuffer);
 *   ... imap.host, imap.port, imap.user, imap.password ...
 *   await imap.stop();
 *
 * Run as root (CI), dovecot's mail processes run as the `dovecot` user (it refuses root), so the temp
 * folder is handed to that user; run as anyone else, everything runs as that user.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';

export const DOVECOT = '/usr/sbin/dovecot';

/** IMAP tests are required in CI; elsewhere they skip with one line saying why. */
export const dovecotSkip: string | false =
  !existsSync(DOVECOT) && process.env.CI !== 'true' ? `dovecot not found at ${DOVECOT} (apt-get install dovecot-imapd); IMAP tests skipped` : false;

export interface Dovecot {
  host: string;
  port: number;
  user: string;
  password: string;
  dir: string;
  /** Put one message (the whole RFC 5322 text) into a folder (default INBOX), as a delivery would. */
  deliver(eml: Buffer | string, folder?: string): Promise<void>;
  /** Put many messages in, over one connection. */
  deliverMany(emls: Array<Buffer | string>, folder?: string): Promise<void>;
  /**
   * Put many messages straight into the INBOX's Maildir (tmp/ then renamed into new/, as a local
   * delivery agent does); dovecot indexes them when a client next opens the folder. Thousands a
   * second, where IMAP APPEND manages a few a second on a loaded machine.
   */
  deliverToMaildir(emls: Array<Buffer | string>): void;
  /** A client of the test's own, e.g. to look at flags and folders. */
  client(): ImapFlow;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, logPath: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`dovecot exited (${child.exitCode}): ${existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`dovecot did not listen on ${port}: ${existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''}`);
}

function idOf(name: string): { uid: number; gid: number } | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

export async function startDovecot(options: { user?: string; password?: string } = {}): Promise<Dovecot> {
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-dovecot-'));
  const user = options.user ?? 'practice';
  const password = options.password ?? 'mailbox-password-for-tests';
  const port = await freePort();
  const me = userInfo();
  const asRoot = me.uid === 0;
  const mailUser = asRoot ? idOf('dovecot') : { uid: me.uid, gid: me.gid };
  if (!mailUser) throw new Error('Running as root, dovecot needs its own "dovecot" user (apt-get install dovecot-imapd)');
  const internal = asRoot ? 'dovecot' : me.username;
  const login = asRoot ? (idOf('dovenull') ? 'dovenull' : 'dovecot') : me.username;
  for (const d of ['run', 'state', 'home']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'passwd'), `${user}:{PLAIN}${password}\n`);
  const logPath = join(dir, 'dovecot.log');
  writeFileSync(
    join(dir, 'dovecot.conf'),
    [
      `base_dir = ${dir}/run`,
      `state_dir = ${dir}/state`,
      `log_path = ${logPath}`,
      'protocols = imap',
      'listen = 127.0.0.1',
      'ssl = no',
      'disable_plaintext_auth = no',
      'auth_mechanisms = plain login',
      `default_internal_user = ${internal}`,
      `default_login_user = ${login}`,
      'first_valid_uid = 0',
      'passdb {',
      '  driver = passwd-file',
      `  args = scheme=PLAIN username_format=%u ${dir}/passwd`,
      '}',
      'userdb {',
      '  driver = static',
      `  args = uid=${mailUser.uid} gid=${mailUser.gid} home=${dir}/home/%u`,
      '}',
      'mail_location = maildir:~/Maildir',
      'service imap-login {',
      '  chroot =',
      '  inet_listener imap {',
      '    address = 127.0.0.1',
      `    port = ${port}`,
      '  }',
      '  inet_listener imaps {',
      '    port = 0',
      '  }',
      '}',
      'service anvil {',
      '  chroot =',
      '}',
      'service stats {',
      '  unix_listener stats-writer {',
      `    user = ${internal}`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  if (asRoot) {
    // The auth and mail processes run as `dovecot`: let them into the folder (its name is random).
    chmodSync(dir, 0o711);
    chmodSync(join(dir, 'passwd'), 0o644);
    chownSync(join(dir, 'home'), mailUser.uid, mailUser.gid);
  }
  const child = spawn(DOVECOT, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  try {
    await waitForPort(port, child, logPath);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  // A test process that dies without stop() must not leave the server running.
  const reap = () => child.exitCode === null && child.kill('SIGKILL');
  process.once('exit', reap);
  const host = '127.0.0.1';
  const client = () => new ImapFlow({ host, port, secure: false, auth: { user, pass: password }, logger: false, disableAutoIdle: true });
  const deliverMany = async (emls: Array<Buffer | string>, folder = 'INBOX') => {
    const c = client();
    await c.connect();
    try {
      for (const eml of emls) await c.append(folder, typeof eml === 'string' ? Buffer.from(eml) : eml);
    } finally {
      await c.logout().catch(() => undefined);
    }
  };
  let delivered = 0;
  const deliverToMaildir = (emls: Array<Buffer | string>) => {
    const maildir = join(dir, 'home', user, 'Maildir');
    for (const sub of ['', 'tmp', 'new', 'cur']) {
      const d = join(maildir, sub);
      if (!existsSync(d)) {
        mkdirSync(d, { recursive: true });
        if (asRoot) chownSync(d, mailUser.uid, mailUser.gid);
      }
    }
    if (asRoot) chownSync(join(dir, 'home', user), mailUser.uid, mailUser.gid);
    for (const eml of emls) {
      const name = `${Math.floor(Date.now() / 1000)}.M${++delivered}P${process.pid}.steadfast-test`;
      const tmp = join(maildir, 'tmp', name);
      writeFileSync(tmp, eml);
      if (asRoot) chownSync(tmp, mailUser.uid, mailUser.gid);
      renameSync(tmp, join(maildir, 'new', name));
    }
  };
  return {
    host,
    port,
    user,
    password,
    dir,
    deliver: (eml, folder) => deliverMany([eml], folder),
    deliverMany,
    deliverToMaildir,
    client,
    async stop() {
      process.off('exit', reap);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
