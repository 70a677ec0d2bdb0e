/**
 * Pathology's background services, started once the node listens and stopped when it closes (the
 * capability contract's `services`): the HL7 MLLP results listener and the results drop folder.
 * Orders leave through the node's one outbox (the `hl7-order` channel, orm.ts).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { AppDeps, BackgroundService } from '../capability.ts';
import { startPathologyFolder, startPathologyMllp } from './routes.ts';

export function pathologyServices(deps: AppDeps, log: FastifyBaseLogger): BackgroundService[] {
  const { store, config } = deps;
  const options = config.pathology ?? {};
  const services: BackgroundService[] = [];

  const mllpPort = options.mllpPort;
  if (mllpPort !== undefined && mllpPort > 0) {
    let listener: Awaited<ReturnType<typeof startPathologyMllp>> | undefined;
    services.push({
      name: 'HL7 MLLP listener',
      async start() {
        try {
          if (options.mllpTls && !config.tls) throw new Error("MLLP over TLS needs the node's certificate (start with --tls, or --tls-cert and --tls-key)");
          listener = await startPathologyMllp(store, {
            port: mllpPort,
            host: options.mllpHost ?? '0.0.0.0',
            onError: (err) => log.warn({ err }, 'MLLP'),
            // Refused and idle connections are logged even when request logging is off: a practice
            // needs to see a sender holding the link, or a connection from an unexpected address.
            onNotice: (message) => {
              log.warn(message);
              if (!config.logger) process.stderr.write(`steadfast: ${message}\n`);
            },
            ...(options.mllpLimits ? { limits: options.mllpLimits } : {}),
            ...(options.mllpTls && config.tls ? { tls: config.tls } : {}),
          });
          log.info(`HL7 MLLP listener on ${listener.host}:${listener.port}${listener.tls ? ' (TLS)' : ''}`);
        } catch (err) {
          // The rest of the node (the record, the staff app) must still start; the laboratory keeps
          // unacknowledged results and resends them once the port is free.
          log.error({ err }, `HL7 MLLP listener could not start on port ${mllpPort}; results will queue at the laboratory`);
          process.stderr.write(`steadfast: HL7 MLLP listener could not start on port ${mllpPort}: ${(err as Error).message}\n`);
        }
      },
      async stop() {
        await listener?.close();
      },
    });
  }

  const dropDir = options.dropDir;
  if (dropDir) {
    let folder: ReturnType<typeof startPathologyFolder> | undefined;
    services.push({
      name: 'pathology drop folder',
      async start() {
        folder = startPathologyFolder(store, { dir: dropDir, onError: (err) => log.warn({ err }, 'pathology drop folder') });
      },
      async stop() {
        await folder?.close();
      },
    });
  }

  return services;
}
