/**
 * A local Electronic Prescription Service for development and tests: the two prescriber endpoints of
 * NHS England's EPS FHIR API ($prepare and $process-message), on loopback, checked by the wire contract
 * (medicines/eps-contract.ts). The production client (medicines/eps.ts) talks to it unchanged, given its
 * base URL.
 *
 * What it does like EPS: refuses a message that does not follow the contract with a 400
 * OperationOutcome naming the field; refuses a second prescription with a prescription id it already
 * holds ("0002 Duplicate prescription ID exists"); answers a repeated X-Request-ID with the answer it
 * gave the first time (so a re-send after a lost answer is not a second prescription); cancels a
 * prescription it holds (prescription-order-update), and refuses to cancel one it does not ("0007").
 *
 * What is simplified (say so wherever it matters): the signature. EPS's $prepare returns HL7 V3
 * signature fragments that the prescriber signs with their smartcard through the Signing Service; here
 * $prepare returns an XML-DSig SignedInfo whose DigestValue is SHA-256 over the message's entries
 * (every entry but the Provenance, as JSON), and $process-message checks that the Provenance's XML-DSig
 * carries that same digest and that its SignatureValue verifies with the public key in its KeyInfo.
 * So a message changed after signing is refused, but the key is not checked against the NHS smartcard
 * PKI (there is none here).
 *
 * Tests can make it fail (`failNext`), refuse connections (`down`), or hold answers (`hang`).
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import {
  checkEpsMessage,
  EPS_PREPARE_PATH,
  EPS_PROCESS_PATH,
  epsError,
  epsEventOf,
  epsPrescriptionIdOf,
  epsProblemsOutcome,
  MESSAGE_SENT,
  UUID,
} from '../medicines/eps-contract.ts';
import { listenOnLoopback } from './loopback.ts';

export interface FakeEpsOptions {
  /** Bearer token required on every request (absent: any or none, like the sandbox). */
  token?: string;
  port?: number;
  now?: () => Date;
}

export interface EpsReceipt {
  prescriptionId: string;
  requestId: string;
  receivedAt: string;
  status: 'active' | 'cancelled';
  bundle: Bundle;
  cancelledAt?: string;
}

interface Answer {
  status: number;
  body: unknown;
}

/** SHA-256 (base64) over a message's entries without its Provenance: what $prepare asks to be signed. */
export function epsDigestOf(bundle: Bundle): string {
  const entries = (bundle.entry ?? []).filter((e) => e.resource?.resourceType !== 'Provenance');
  return createHash('sha256').update(JSON.stringify(entries)).digest('base64');
}

export function signedInfoXml(digest: string): string {
  return `<SignedInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></CanonicalizationMethod><SignatureMethod Algorithm="urn:steadfast:ed25519"></SignatureMethod><Reference><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></DigestMethod><DigestValue>${digest}</DigestValue></Reference></SignedInfo>`;
}

function between(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`).exec(xml);
  return m?.[1];
}

/** Why the Provenance signature does not sign this message, or undefined when it does. */
function checkSignature(bundle: Bundle): string | undefined {
  const provenance = bundle.entry?.map((e) => e.resource).find((r) => r?.resourceType === 'Provenance');
  const data = provenance?.resourceType === 'Provenance' ? provenance.signature?.[0]?.data : undefined;
  if (!data) return 'the message is not signed';
  const xml = Buffer.from(data, 'base64').toString('utf8');
  const signedInfo = /<SignedInfo[\s\S]*?<\/SignedInfo>/.exec(xml)?.[0];
  const value = between(xml, 'SignatureValue');
  const cert = between(xml, 'X509Certificate');
  if (!signedInfo || !value || !cert) return 'the signature is not an XML-DSig with SignedInfo, SignatureValue and KeyInfo';
  if (between(signedInfo, 'DigestValue') !== epsDigestOf(bundle)) return 'the signature is over different content: the message changed after it was signed';
  try {
    const key = createPublicKey({ key: Buffer.from(cert, 'base64'), format: 'der', type: 'spki' });
    // The signer signed the SignedInfo as $prepare returned it (with its namespace).
    const original = signedInfo.replace('<SignedInfo>', '<SignedInfo xmlns="http://www.w3.org/2000/09/xmldsig#">');
    if (!verify(null, Buffer.from(original, 'utf8'), key, Buffer.from(value, 'base64'))) return 'the signature does not verify';
  } catch (err) {
    return `the signature's key cannot be read: ${(err as Error).message}`;
  }
  return undefined;
}

export class FakeEps {
  /** Prescriptions held, by short-form prescription id. */
  readonly prescriptions = new Map<string, EpsReceipt>();
  /** Every request: path, X-Request-ID, status answered. */
  readonly requests: Array<{ path: string; requestId: string | undefined; status: number; event?: string | undefined }> = [];
  private readonly answered = new Map<string, Answer>();
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private faults: Array<{ status: number; body: OperationOutcome; path?: string | undefined }> = [];
  private isDown = false;
  private held: Array<() => void> = [];
  private holding: string | undefined;
  private readonly now: () => Date;
  url = '';

  constructor(private readonly options: FakeEpsOptions = {}) {
    this.now = options.now ?? (() => new Date());
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.url = await listenOnLoopback(this.server, this.sockets, this.options.port, () => this.isDown);
    return this.url;
  }

  async stop(): Promise<void> {
    this.release();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /**
   * The next `count` requests (to `path` only, when given) are answered `status` with an OperationOutcome:
   * a 5xx as the service unavailable, a 4xx as a definite refusal (nothing held).
   */
  failNext(count: number, status = 503, path?: string): void {
    const body = status >= 500 ? epsError('transient', 'SERVICE_UNAVAILABLE', 'The service is currently unavailable') : epsError('processing', 'FAILURE_TO_PROCESS_MESSAGE', `Refused (${status}): not processed`);
    for (let i = 0; i < count; i++) this.faults.push({ status, body, path });
  }

  /** Refuse connections (as when EPS or the network is down) until `up()`. */
  down(): void {
    this.isDown = true;
    for (const s of this.sockets) s.destroy();
  }

  up(): void {
    this.isDown = false;
  }

  /** Hold the answers to `path` (received and processed, the answer not sent) until `release()`. */
  hang(path: string = EPS_PROCESS_PATH): void {
    this.holding = path;
  }

  release(): void {
    this.holding = undefined;
    const waiting = this.held;
    this.held = [];
    waiting.forEach((go) => go());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const requestId = req.headers['x-request-id'] as string | undefined;
    const path = (req.url ?? '').split('?')[0]!;
    let answer: Answer;
    let event: string | undefined;
    try {
      const parsed = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown) : undefined;
      event = parsed ? epsEventOf(parsed as Bundle) : undefined;
      answer = this.answer(req, path, requestId, parsed);
    } catch {
      answer = { status: 400, body: epsError('value', 'INVALID_VALUE', 'The request body is not JSON') };
    }
    this.requests.push({ path, requestId, status: answer.status, event });
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(answer.status, { 'content-type': 'application/fhir+json', ...(requestId ? { 'x-request-id': requestId } : {}), ...(req.headers['x-correlation-id'] ? { 'x-correlation-id': String(req.headers['x-correlation-id']) } : {}) });
      res.end(JSON.stringify(answer.body));
    };
    if (this.holding === path) this.held.push(send);
    else send();
  }

  private answer(req: IncomingMessage, path: string, requestId: string | undefined, body: unknown): Answer {
    const at = this.faults.findIndex((f) => f.path === undefined || f.path === path);
    const fault = at >= 0 ? this.faults.splice(at, 1)[0] : undefined;
    if (fault) return { status: fault.status, body: fault.body };
    if (req.method !== 'POST' || (path !== EPS_PREPARE_PATH && path !== EPS_PROCESS_PATH)) return { status: 404, body: epsError('not-found', 'NOT_FOUND', `Route not found: ${req.method} ${path}`) };
    if (this.options.token && req.headers.authorization !== `Bearer ${this.options.token}`) return { status: 401, body: epsError('security', 'ACCESS_DENIED', 'Missing or invalid access token') };
    if (!requestId || !UUID.test(requestId)) return { status: 400, body: epsError('required', 'MISSING_FIELD', 'Header X-Request-ID is required and must be a UUID') };
    const type = String(req.headers['content-type'] ?? '');
    if (!/^application\/(fhir\+)?json/.test(type)) return { status: 415, body: epsError('value', 'INVALID_VALUE', 'Content-Type must be application/fhir+json') };
    const key = `${path}\n${requestId}`;
    const seen = this.answered.get(key);
    if (seen) return seen;
    const answer = path === EPS_PREPARE_PATH ? this.prepare(body) : this.process(body, requestId);
    // EPS de-duplicates repeated requests by X-Request-ID: the same request gets the same answer.
    if (answer.status < 500) this.answered.set(key, answer);
    return answer;
  }

  private prepare(body: unknown): Answer {
    const problems = checkEpsMessage(body, { signed: false });
    if (problems.length) return { status: 400, body: epsProblemsOutcome(problems) };
    if (epsEventOf(body as Bundle) !== 'prescription-order') return { status: 400, body: epsError('value', 'INVALID_VALUE', 'Only a prescription-order is prepared for signing') };
    const digest = Buffer.from(signedInfoXml(epsDigestOf(body as Bundle)), 'utf8').toString('base64');
    return {
      status: 200,
      body: {
        resourceType: 'Parameters',
        parameter: [
          { name: 'digest', valueString: digest },
          { name: 'timestamp', valueString: this.now().toISOString() },
          { name: 'algorithm', valueString: 'RS1' },
        ],
      },
    };
  }

  private process(body: unknown, requestId: string): Answer {
    const problems = checkEpsMessage(body, { signed: true });
    if (problems.length) return { status: 400, body: epsProblemsOutcome(problems) };
    const bundle = body as Bundle;
    const id = epsPrescriptionIdOf(bundle)!;
    const held = this.prescriptions.get(id);
    if (epsEventOf(bundle) === 'prescription-order-update') {
      if (!held) return { status: 400, body: epsError('not-found', '0007', 'Prescription not found') };
      if (held.status !== 'cancelled') {
        held.status = 'cancelled';
        held.cancelledAt = this.now().toISOString();
      }
      return { status: 200, body: MESSAGE_SENT };
    }
    const why = checkSignature(bundle);
    if (why) return { status: 400, body: epsError('processing', 'FAILURE_TO_PROCESS_MESSAGE', `Unable to process message: ${why}`) };
    if (held) return { status: 400, body: epsError('duplicate', '0002', 'Duplicate prescription ID exists') };
    this.prescriptions.set(id, { prescriptionId: id, requestId, receivedAt: this.now().toISOString(), status: 'active', bundle });
    return { status: 200, body: MESSAGE_SENT };
  }
}

export async function startFakeEps(options: FakeEpsOptions = {}): Promise<FakeEps> {
  const eps = new FakeEps(options);
  await eps.start();
  return eps;
}
