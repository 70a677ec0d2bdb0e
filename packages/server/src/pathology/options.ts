/**
 * Pathology's own options (`deps.config.pathology`) and the `steadfast serve` flags that set them.
 * Declared here, beside the capability, by augmenting the capability contract's CapabilityOptions.
 */
import { readFileSync } from 'node:fs';
import { SteadfastError } from '@steadfast/domain';
import type { CapabilityCli } from '../capability.ts';
import { parsePort } from '../node/identity.ts';
import { parseMllpLimits, type MllpLimits } from './mllp-limits.ts';
import type { LabConnection } from './orm.ts';

export interface PathologyOptions {
  /** Port of the HL7 MLLP listener, when one should run (0 or absent = off). */
  mllpPort?: number;
  /** Address the MLLP listener binds to (default 0.0.0.0, so a laboratory link can reach it). */
  mllpHost?: string;
  /** Idle timeout, connection cap and address allow-list of the MLLP listener. */
  mllpLimits?: MllpLimits;
  /** Run the MLLP listener inside TLS with the node's certificate (the node's `tls` must be set). */
  mllpTls?: boolean;
  /** A folder watched for HL7 v2 result files, when the laboratory delivers files. */
  dropDir?: string;
  /** Where HL7 v2 orders are sent over MLLP, when the practice has a lab link. */
  lab?: LabConnection;
}

declare module '../capability.ts' {
  interface CapabilityOptions {
    pathology?: PathologyOptions;
  }
}

export const DEFAULT_MLLP_PORT = 2575;

/** `--lab NAME@HOST:PORT[/OML]` (or `HOST:PORT`): the laboratory's MLLP endpoint for orders (ORM^O01, or OML^O21). */
export function parseLab(raw: string): { name: string; host: string; port: number; message?: 'ORM' | 'OML' } {
  const m = /^(?:([^@]+)@)?([^:@]+):(\d+)(?:\/(ORM|OML))?$/i.exec(raw);
  if (!m) {
    throw new SteadfastError('invalid', `--lab "${raw}" is not NAME@HOST:PORT[/OML] (e.g. leeds-path@10.0.0.5:2575, or leeds-path@10.0.0.5:2575/OML for OML^O21 orders)`, {
      field: '--lab',
      hint: "Give the laboratory's MLLP endpoint for orders",
    });
  }
  return { name: m[1] ?? 'laboratory', host: m[2]!, port: parsePort(m[3], '--lab port', 2575), ...(m[4] ? { message: m[4].toUpperCase() as 'ORM' | 'OML' } : {}) };
}

/** `--lab-tls` / `--lab-ca FILE`: orders inside TLS, trusting the system's CAs or that file. */
function labTlsOf(values: { labTls?: unknown; labCa?: unknown }): { tls?: { ca?: string } } {
  if (typeof values.labCa === 'string') {
    try {
      return { tls: { ca: readFileSync(values.labCa, 'utf8') } };
    } catch (err) {
      throw new SteadfastError('invalid', `--lab-ca ${values.labCa} could not be read: ${(err as Error).message}`, { field: '--lab-ca', hint: "Give the PEM file of the laboratory's certificate authority (or of its certificate)" });
    }
  }
  return values.labTls ? { tls: {} } : {};
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export const pathologyCli: CapabilityCli = {
  flags: [
    { flags: '--mllp-port <port>', description: `HL7 MLLP results listener port (env MLLP_PORT; default ${DEFAULT_MLLP_PORT}; 0 = off)` },
    { flags: '--mllp-host <host>', description: 'address the MLLP listener binds to (env MLLP_HOST; default 0.0.0.0)' },
    { flags: '--mllp-tls', description: "MLLP inside TLS with the node's certificate (turns on --tls)" },
    { flags: '--mllp-idle-timeout <seconds>', description: 'close an MLLP connection idle this long; a half-sent message is dropped (default 60; 0 = never)' },
    { flags: '--mllp-max-connections <n>', description: 'MLLP connections served at once; more are refused and logged (default 32)' },
    { flags: '--mllp-allow <list>', description: 'comma-separated laboratory addresses or CIDR ranges allowed to connect over MLLP (env MLLP_ALLOW; default any)' },
    { flags: '--pathology-drop <dir>', description: 'a folder watched for HL7 v2 result files' },
    { flags: '--lab <name@host:port[/OML]>', description: 'send pathology orders to this laboratory over MLLP (ORM^O01, or OML^O21)' },
    { flags: '--lab-tls', description: "send orders inside TLS, checking the laboratory's certificate against the system's CAs" },
    { flags: '--lab-ca <file>', description: "send orders inside TLS, checking the laboratory's certificate against this PEM file" },
  ],
  configure(values, node) {
    // A practice node receives laboratory results over MLLP by default (HL7's usual port 2575);
    // `--mllp-port 0` turns the listener off. A hub has no laboratory link.
    if (node.role !== 'node') return {};
    const mllpPort = parsePort(str(values.mllpPort) ?? process.env.MLLP_PORT, '--mllp-port', DEFAULT_MLLP_PORT);
    const mllpLimits = parseMllpLimits({ idleTimeout: str(values.mllpIdleTimeout), maxConnections: str(values.mllpMaxConnections), allow: str(values.mllpAllow) ?? process.env.MLLP_ALLOW });
    const lab = str(values.lab);
    const options: PathologyOptions = {
      ...(mllpPort > 0 ? { mllpPort, mllpHost: str(values.mllpHost) ?? process.env.MLLP_HOST ?? '0.0.0.0' } : {}),
      ...(mllpLimits ? { mllpLimits } : {}),
      ...(values.mllpTls ? { mllpTls: true } : {}),
      ...(str(values.pathologyDrop) ? { dropDir: str(values.pathologyDrop)! } : {}),
      ...(lab ? { lab: { ...parseLab(lab), ...labTlsOf(values) } } : {}),
    };
    return { pathology: options };
  },
};
