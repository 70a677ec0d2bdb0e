/** `steadfast serve`: open the data directory and serve the app until SIGINT/SIGTERM. */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.ts';
import type { OpenedNode } from '../http/node.ts';
import { openFromOptions, type DataOptions } from './common.ts';

export interface ServeOptions extends DataOptions {
  port?: string;
  host?: string;
  mllpPort?: string;
  log?: boolean;
}

export interface RunningServer {
  app: FastifyInstance;
  node: OpenedNode;
  url: string;
  close(): Promise<void>;
}

export function parsePort(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} "${raw}" is not a port number (0-65535)`);
  return n;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const port = parsePort(options.port ?? process.env.PORT, '--port', 8080);
  const host = options.host ?? process.env.HOST ?? '127.0.0.1';
  const mllpPort = options.mllpPort !== undefined ? parsePort(options.mllpPort, '--mllp-port', 2575) : undefined;
  const node = await openFromOptions(options);
  try {
    const app = await buildApp({
      store: node.store,
      audit: node.audit,
      accounts: node.accounts,
      config: {
        practice: node.identity.practice,
        nodeId: node.identity.nodeId,
        role: node.identity.role,
        dataDir: node.dataDir,
        ...(mllpPort !== undefined ? { mllpPort } : {}),
        logger: options.log ?? false,
      },
    });
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
