/**
 * TLS for the node's listeners (HTTP and MLLP): the certificate and key come from files the practice
 * provides (`--tls-cert` / `--tls-key`, or DATA/tls/cert.pem and key.pem), or, on first start with
 * `--tls` and no files, a self-signed certificate is generated into DATA/tls/ and kept. Its SHA-256
 * fingerprint is printed at start so that browsers and laboratory links can pin it.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import { generate } from 'selfsigned';
import { SteadfastError } from '@steadfast/domain';

export interface TlsMaterial {
  /** PEM text of the certificate (and any intermediates after it). */
  cert: string;
  /** PEM text of the private key. */
  key: string;
}

export interface LoadedTls extends TlsMaterial {
  certPath: string;
  keyPath: string;
  /** SHA-256 fingerprint of the certificate, colon-separated hex (as browsers show it). */
  fingerprint256: string;
  /** The certificate was generated (self-signed) on this start. */
  generated: boolean;
  subject: string;
  validTo: string;
}

export const TLS_DIR = 'tls';
/** A self-signed certificate is good for this long; replace it before then (docs/server.md). */
export const SELF_SIGNED_DAYS = 825;
/** HSTS max-age sent with every HTTPS answer (one year). */


function readPem(path: string, what: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new SteadfastError('invalid', `The TLS ${what} ${path} could not be read: ${(err as Error).message}`, {
      field: flag,
      hint: `Put the PEM file there, or start with --tls and no ${flag} to generate a self-signed certificate in the data directory`,
    });
  }
}

/** Names a generated certificate is valid for: this machine, localhost, loopback and the bound address. */
function altNamesFor(extraHosts: string[]) {
  const dns = new Set(['localhost', hostname()].filter(Boolean));
  const ips = new Set(['127.0.0.1', '::1']);
  for (const h of extraHosts) {
    if (!h || h === '0.0.0.0' || h === '::') continue;
    if (net.isIP(h)) ips.add(h);
    else dns.add(h);
  }
  return [...[...dns].map((value) => ({ type: 2 as const, value })), ...[...ips].map((ip) => ({ type: 7 as const, ip }))];
}

/** Generate a self-signed certificate (RSA 2048, SHA-256) for the given names. */
export async function generateSelfSigned(options: { commonName: string; hosts?: string[]; days?: number }): Promise<TlsMaterial> {
  const days = options.days ?? SELF_SIGNED_DAYS;
  const pems = await generate([{ name: 'commonName', value: options.commonName }, { name: 'organizationName', value: 'Steadfast (self-signed)' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 60_000),
    notAfterDate: new Date(Date.now() + days * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: altNamesFor(options.hosts ?? []) },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

function describe(material: TlsMaterial, certPath: string, keyPath: string, generated: boolean): LoadedTls {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(material.cert);
  } catch (err) {
    throw new SteadfastError('invalid', `${certPath} is not a PEM certificate: ${(err as Error).message}`, { field: '--tls-cert', hint: 'Give the certificate file in PEM form (-----BEGIN CERTIFICATE-----)' });
  }
  return { ...material, certPath, keyPath, generated, fingerprint256: x509.fingerprint256, subject: x509.subject.replace(/\n/g, ', '), validTo: x509.validTo };
}

/**
 * The node's TLS certificate and key: the given files, else DATA/tls/cert.pem and key.pem, else
 * (only when neither file exists) a new self-signed pair written there (key readable by the owner only).
 */
export async function loadOrCreateTls(options: { dataDir: string; certFile?: string; keyFile?: string; commonName?: string; hosts?: string[] }): Promise<LoadedTls> {
  if (options.certFile || options.keyFile) {
    if (!options.certFile || !options.keyFile) {
      throw new SteadfastError('required', 'TLS needs both a certificate and its key', { field: options.certFile ? '--tls-key' : '--tls-cert', hint: 'Give both --tls-cert FILE and --tls-key FILE (PEM)' });
    }
    return describe({ cert: readPem(options.certFile, 'certificate', '--tls-cert'), key: readPem(options.keyFile, 'key', '--tls-key') }, options.certFile, options.keyFile, false);
  }
  const dir = join(options.dataDir, TLS_DIR);
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const haveCert = existsSync(certPath);
  const haveKey = existsSync(keyPath);
  if (haveCert && haveKey) return describe({ cert: readPem(certPath, 'certificate', '--tls-cert'), key: readPem(keyPath, 'key', '--tls-key') }, certPath, keyPath, false);
  if (haveCert !== haveKey) {
    throw new SteadfastError('invalid', `${haveCert ? keyPath : certPath} is missing beside ${haveCert ? certPath : keyPath}`, {
      field: haveCert ? '--tls-key' : '--tls-cert',
      hint: `Put the matching file there, or remove both from ${dir} to have a new self-signed certificate generated`,
    });
  }
  const material = await generateSelfSigned({ commonName: options.commonName ?? hostname(), hosts: options.hosts ?? [] });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyPath, material.key, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  writeFileSync(certPath, material.cert, { mode: 0o644 });
  return describe(material, certPath, keyPath, true);
}

