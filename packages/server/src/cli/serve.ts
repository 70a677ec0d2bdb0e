/** `steadfast serve`: open the data directory and serve the app until SIGINT/SIGTERM. */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.ts';
import { appDepsOf, type OpenedNode } from '../http/node.ts';
import { openFromOptions, type DataOptions } from './common.ts';
import { backupConfigOf } from './atrest.ts';

export interface ServeOptions extends DataOptions {
  port?: string;
  host?: string;
  mllpPort?: string;
  mllpHost?: string;
  pathologyDrop?: string;
  lab?: string;
  log?: boolean;
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

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const port = parsePort(options.port ?? process.env.PORT, '--port', 8080);
  const host = options.host ?? process.env.HOST ?? '127.0.0.1';
  const node = await openFromOptions(options);
  // A practice node receives laboratory results over MLLP by default (HL7's usual port 2575);
  // `--mllp-port 0` turns the listener off. A hub has no laboratory link.
  const mllpPort = node.identity.role === 'node' ? parsePort(options.mllpPort ?? process.env.MLLP_PORT, '--mllp-port', DEFAULT_MLLP_PORT) : 0;
  try {
    const app = await buildApp(
      appDepsOf(node, {
        ...(mllpPort > 0 ? { mllpPort, mllpHost: options.mllpHost ?? process.env.MLLP_HOST ?? '0.0.0.0' } : {}),
        ...(options.pathologyDrop ? { pathologyDropDir: options.pathologyDrop } : {}),
        ...(options.lab ? { pathologyLab: parseLab(options.lab) } : {}),
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
      url: `http://${shownHost}:${boundPort}`,
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

/** Serve until a signal; closes the store cleanly so the SQLite WAL is checkpointed. */
export async function serveForever(server: RunningServer): Promise<void> {
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stderr.write('stopping...\n');
  await server.close();
}
