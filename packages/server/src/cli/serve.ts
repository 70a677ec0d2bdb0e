/** `steadfast serve`: open the data directory and serve the app until SIGINT/SIGTERM. */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.ts';
import { appDepsOf, type OpenedNode } from '../node/open.ts';
import { openFromOptions, type DataOptions } from './common.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CapabilityOptions } from '../capability.ts';
import { capabilities } from '../capabilities.ts';
import { parsePort } from '../node/identity.ts';
import { loadOrCreateTls, TLS_DIR, type LoadedTls } from '../http/tls.ts';

export interface ServeOptions extends DataOptions {
  port?: string;
  host?: string;
  log?: boolean;
  /** HTTPS (and MLLP over TLS with --mllp-tls): on with --tls, --tls-cert/--tls-key, or when DATA/tls/cert.pem exists. */
  tls?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  /** Each capability's own flags (camel-cased by commander), read by its `cli.configure`. */
  [capabilityFlag: string]: unknown;
}

export interface RunningServer {
  app: FastifyInstance;
  node: OpenedNode;
  url: string;
  /** The certificate in use, when the node serves HTTPS. */
  tls?: LoadedTls;
  close(): Promise<void>;
}

/** Every capability's options from the flags it declared (capability.ts `cli`). */
export function capabilityOptionsOf(values: Record<string, unknown>, node: OpenedNode): Partial<CapabilityOptions> {
  const context = { role: node.identity.role, dataDir: node.dataDir, dialect: node.store.dialect };
  return Object.assign({}, ...capabilities.map((c) => c.cli?.configure(values, context) ?? {})) as Partial<CapabilityOptions>;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const port = parsePort(options.port ?? process.env.PORT, '--port', 8080);
  const host = options.host ?? process.env.HOST ?? '127.0.0.1';
  const node = await openFromOptions(options);
  try {
    const tlsOn = Boolean(options.tls || options.tlsCert || options.tlsKey || options.mllpTls || existsSync(join(node.dataDir, TLS_DIR, 'cert.pem')));
    const tls = tlsOn
      ? await loadOrCreateTls({ dataDir: node.dataDir, ...(options.tlsCert ? { certFile: options.tlsCert } : {}), ...(options.tlsKey ? { keyFile: options.tlsKey } : {}), commonName: `steadfast-${node.identity.practice}`, hosts: [host] })
      : undefined;
    const app = await buildApp(
      appDepsOf(node, {
        ...capabilityOptionsOf(options, node),
        ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
        logger: options.log ?? false,
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
