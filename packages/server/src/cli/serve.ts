/** `steadfast serve`: open the data directory and serve the app until SIGINT/SIGTERM. */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.ts';
import { appDepsOf, type OpenedNode } from '../http/node.ts';
import { openFromOptions, type DataOptions } from './common.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SteadfastError } from '@steadfast/domain';
import { loadOrCreateTls, TLS_DIR, type LoadedTls } from '../http/tls.ts';
import { parseMllpLimits } from '../pathology/mllp.ts';
import { backupConfigOf } from './atrest.ts';

export interface ServeOptions extends DataOptions {
  port?: string;
  host?: string;
  mllpPort?: string;
  mllpHost?: string;
  pathologyDrop?: string;
  lab?: string;
  /** Orders to the laboratory inside TLS (system CAs), or trusting this CA file. */
  labTls?: boolean;
  labCa?: string;
  log?: boolean;
  /** HTTPS (and MLLP over TLS with mllpTls): on with --tls, --tls-cert/--tls-key, or when DATA/tls/cert.pem exists. */
  tls?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  mllpTls?: boolean;
  mllpIdleTimeout?: string;
  mllpMaxConnections?: string;
  mllpAllow?: string;
  /** Scheduled backups (atrest): minutes between them (default 60, 0 = off), folder, retention. */
  backupEvery?: string;
  backupDir?: string;
  backupKeepHours?: string;
  backupKeepDays?: string;
}

export interface RunningServer {
  app: FastifyInstance;
  node: OpenedNode;
  url: string;
  /** The certificate in use, when the node serves HTTPS. */
  tls?: LoadedTls;
  close(): Promise<void>;
}

export const DEFAULT_MLLP_PORT = 2575;

export function parsePort(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} "${raw}" is not a port number (0-65535)`);
  return n;
}

/** `--lab NAME@HOST:PORT[/OML]` (or `HOST:PORT`): the laboratory's MLLP endpoint for orders (ORM^O01, or OML^O21). */
export function parseLab(raw: string): { name: string; host: string; port: number; message?: 'ORM' | 'OML' } {
  const m = /^(?:([^@]+)@)?([^:@]+):(\d+)(?:\/(ORM|OML))?$/i.exec(raw);
  if (!m) throw new Error(`--lab "${raw}" is not NAME@HOST:PORT[/OML] (e.g. leeds-path@10.0.0.5:2575, or leeds-path@10.0.0.5:2575/OML for OML^O21 orders)`);
  return { name: m[1] ?? 'laboratory', host: m[2]!, port: parsePort(m[3], '--lab port', 2575), ...(m[4] ? { message: m[4].toUpperCase() as 'ORM' | 'OML' } : {}) };
}

/** `--lab-tls` / `--lab-ca FILE`: orders inside TLS, trusting the system's CAs or that file. */
function labTlsOf(options: ServeOptions): { tls?: { ca?: string } } {
  if (options.labCa) {
    try {
      return { tls: { ca: readFileSync(options.labCa, 'utf8') } };
    } catch (err) {
      throw new SteadfastError('invalid', `--lab-ca ${options.labCa} could not be read: ${(err as Error).message}`, { field: '--lab-ca', hint: "Give the PEM file of the laboratory's certificate authority (or of its certificate)" });
    }
  }
  return options.labTls ? { tls: {} } : {};
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const port = parsePort(options.port ?? process.env.PORT, '--port', 8080);
  const host = options.host ?? process.env.HOST ?? '127.0.0.1';
  const node = await openFromOptions(options);
  // A practice node receives laboratory results over MLLP by default (HL7's usual port 2575);
  // `--mllp-port 0` turns the listener off. A hub has no laboratory link.
  const mllpPort = node.identity.role === 'node' ? parsePort(options.mllpPort ?? process.env.MLLP_PORT, '--mllp-port', DEFAULT_MLLP_PORT) : 0;
  try {
    const tlsOn = Boolean(options.tls || options.tlsCert || options.tlsKey || options.mllpTls || existsSync(join(node.dataDir, TLS_DIR, 'cert.pem')));
    const tls = tlsOn
      ? await loadOrCreateTls({ dataDir: node.dataDir, ...(options.tlsCert ? { certFile: options.tlsCert } : {}), ...(options.tlsKey ? { keyFile: options.tlsKey } : {}), commonName: `steadfast-${node.identity.practice}`, hosts: [host] })
      : undefined;
    const mllpLimits = parseMllpLimits({ idleTimeout: options.mllpIdleTimeout, maxConnections: options.mllpMaxConnections, allow: options.mllpAllow ?? process.env.MLLP_ALLOW });
    const app = await buildApp(
      appDepsOf(node, {
        ...(mllpPort > 0 ? { mllpPort, mllpHost: options.mllpHost ?? process.env.MLLP_HOST ?? '0.0.0.0' } : {}),
        ...(mllpLimits ? { mllpLimits } : {}),
        ...(options.mllpTls ? { mllpTls: true } : {}),
        ...(options.pathologyDrop ? { pathologyDropDir: options.pathologyDrop } : {}),
        ...(options.lab ? { pathologyLab: { ...parseLab(options.lab), ...labTlsOf(options) } } : {}),
        ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
        logger: options.log ?? false,
        ...(node.store.dialect === 'sqlite' ? { backup: backupConfigOf(options) } : {}),
      }),
    );
    await app.listen({ port, host });
    const address = app.server.address();
    const boundPort = address && typeof address !== 'string' ? address.port : port;
    const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
    return {
      app,
      node,
      url: `${tls ? 'https' : 'http'}://${shownHost}:${boundPort}`,
      ...(tls ? { tls } : {}),
      close: async () => {
        await app.close();
        await node.close();
      },
    };
  } catch (err) {
    await node.close();
    throw err;
  }
}

/** The longest a shutdown may take before the process exits anyway (a second signal exits at once). */
export const SHUTDOWN_DEADLINE_MS = 20_000;

/**
 * Serve until a signal; closes the store cleanly so the SQLite WAL is checkpointed. Shutdown always
 * completes: the audit queue commits or spills within its own bound, and if anything still hangs the
 * process exits after SHUTDOWN_DEADLINE_MS (or at a second signal), saying so.
 */
export async function serveForever(server: RunningServer): Promise<void> {
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stderr.write('stopping...\n');
  const force = (why: string) => {
    process.stderr.write(`steadfast: ${why}; exiting without a clean close (the database stays consistent: SQLite recovers its WAL at next start)\n`);
    process.exit(1);
  };
  const deadline = setTimeout(() => force(`shutdown took longer than ${SHUTDOWN_DEADLINE_MS / 1000} s`), SHUTDOWN_DEADLINE_MS);
  deadline.unref();
  const again = () => force('a second stop signal arrived');
  process.once('SIGINT', again);
  process.once('SIGTERM', again);
  try {
    await server.close();
  } finally {
    clearTimeout(deadline);
    process.off('SIGINT', again);
    process.off('SIGTERM', again);
  }
}
