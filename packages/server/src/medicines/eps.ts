/**
 * Prescriptions to the Electronic Prescription Service through the node's one outbox: the 'eps'
 * channel, the message it sends (a FHIR prescription-order Bundle as NHS England's EPS FHIR API expects:
 * MessageHeader, MedicationRequest, Patient, PractitionerRole, Practitioner, Organization, and a
 * Provenance carrying the signature), and the client that sends it ($prepare, sign, $process-message).
 *
 * Exactly once:
 * - one outbox message per prescription: key `eps:<prescription id>` (queuing it again does nothing);
 * - every attempt's $process-message carries the outbox message id as X-Request-ID, and EPS answers a
 *   repeated X-Request-ID as it did the first time; a prescription id EPS already holds is refused
 *   ("0002 duplicate") and that answer means EPS has it (see `classify`);
 * - so a message left `sending` by a crash is simply sent again (`reconcile` answers undefined).
 * Retried with the outbox's jittered backoff while EPS cannot be reached or answers 5xx/429; a 4xx is
 * a failure for a person (the outbox screen shows EPS's words).
 *
 * The signature step (simplified, and said so in docs/medicines.md): EPS needs the prescriber's own
 * smartcard signature over the $prepare digest (the Signing Service, user present). Here the node signs
 * the digest with a key of its own (Ed25519, made when the channel starts) and puts the XML-DSig in the
 * Provenance. The local EPS checks the signature is over this very message and verifies with that key.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { Bundle, BundleEntry, MedicationRequest, MessageHeader, Organization, Parameters, Patient, Practitioner, PractitionerRole, Provenance } from '@medplum/fhirtypes';
import { deterministicUuid } from '@steadfast/domain';
import { PRESCRIPTION_ORDER_NUMBER_SYSTEM } from '@steadfast/domain/medicines/prescription-id';
import { DMD_SYSTEM } from '@steadfast/domain/medicines';
import { STAFF_USER_SYSTEM } from '@steadfast/domain/systems';
import type { DeliveryResult, OutboxChannel, QueuedMessage } from '../outbox/contract.ts';
import {
  checkEpsMessage,
  COURSE_OF_THERAPY_SYSTEM,
  EPS_PREPARE_PATH,
  EPS_PROCESS_PATH,
  epsOutcomeText,
  MESSAGE_EVENT_SYSTEM,
  ODS_SYSTEM,
  ORDER_ITEM_SYSTEM,
  PRESCRIPTION_ID_EXTENSION,
  PRESCRIPTION_TYPE_EXTENSION,
  PRESCRIPTION_TYPE_SYSTEM,
  PRESCRIPTION_UUID_SYSTEM,
  SNOMED,
  type EpsEvent,
} from './eps-contract.ts';

export const EPS_CHANNEL = 'eps';
/** The outbox `source` of EPS messages (owners.ts: what retry and cancel do). */
export const EPS_SOURCE = 'prescriptions';
const DEFAULT_TIMEOUT_MS = 15_000;

export interface EpsConnection {
  /** e.g. https://int.api.service.nhs.uk/electronic-prescriptions, or the local EPS server's URL. */
  baseUrl: string;
  /** OAuth 2.0 bearer token (user-restricted in production). */
  token?: string;
  /** Per request (default 15 s): an answer later than this is treated as no answer and retried. */
  timeoutMs?: number;
}

/** Who and where the prescription comes from, as it goes on the message and on the printed form. */
export interface PrescriberOrg {
  ods: string;
  name: string;
  address: string[];
  postcode?: string;
  phone?: string;
}

export interface Prescriber {
  id: string;
  name: string;
}

/** What the outbox keeps for one EPS message: the unsigned Bundle, fixed when the issue was queued. */
export interface EpsPayload {
  issueId: string;
  prescriptionId: string;
  event: EpsEvent;
  bundle: Bundle;
}

export function epsMessageKey(prescriptionId: string, event: EpsEvent = 'prescription-order'): string {
  return event === 'prescription-order' ? `eps:${prescriptionId}` : `eps-cancel:${prescriptionId}`;
}

/** The issue's short-form prescription id (its identifier, or groupIdentifier, of the EPS system). */
export function prescriptionIdOfIssue(mr: MedicationRequest): string | undefined {
  return mr.identifier?.find((i) => i.system === PRESCRIPTION_ORDER_NUMBER_SYSTEM)?.value ?? (mr.groupIdentifier?.system === PRESCRIPTION_ORDER_NUMBER_SYSTEM ? mr.groupIdentifier.value : undefined);
}

/** The prescriber of an issue, from its requester (a staff reference) or the author of the write. */
export function prescriberOfIssue(mr: MedicationRequest, fallback?: Prescriber): Prescriber {
  const r = mr.requester;
  const id = r?.identifier?.system === STAFF_USER_SYSTEM ? r.identifier.value : r?.reference?.split('/')[1];
  return { id: id ?? fallback?.id ?? 'unknown', name: r?.display ?? fallback?.name ?? 'Unknown prescriber' };
}

const urn = (name: string) => `urn:uuid:${deterministicUuid(name)}`;

/**
 * EPS names a medicine by its dm+d id in the SNOMED CT system (dm+d ids are SNOMED CT identifiers);
 * the record codes it in UK Core's dm+d system, so every order the prescribing route wrote failed the
 * EPS contract until this mapping.
 */
function medicationForEps(concept: NonNullable<MedicationRequest['medicationCodeableConcept']>): NonNullable<MedicationRequest['medicationCodeableConcept']> {
  return { ...concept, ...(concept.coding ? { coding: concept.coding.map((c) => (c.system === DMD_SYSTEM ? { ...c, system: SNOMED } : c)) } : {}) };
}

/**
 * The prescription-order (or, with `cancel`, prescription-order-update) Bundle for one issue. Pure and
 * deterministic: the same issue gives the same message (ids derive from the prescription id).
 */
export function buildEpsMessage(input: { issue: MedicationRequest; patient: Patient; prescriber: Prescriber; org: PrescriberOrg; cancel?: { reason: string } }): Bundle {
  const { issue, patient, prescriber, org, cancel } = input;
  const prescriptionId = prescriptionIdOfIssue(issue);
  if (!prescriptionId) throw new Error(`MedicationRequest/${issue.id} has no prescription id (${PRESCRIPTION_ORDER_NUMBER_SYSTEM})`);
  const event: EpsEvent = cancel ? 'prescription-order-update' : 'prescription-order';
  const u = {
    header: urn(`eps|${event}|header|${prescriptionId}`),
    item: urn(`eps|item|${issue.id}`),
    patient: urn(`eps|patient|${prescriptionId}`),
    role: urn(`eps|role|${prescriptionId}`),
    practitioner: urn(`eps|practitioner|${prescriptionId}`),
    org: urn(`eps|org|${prescriptionId}`),
  };
  const continuous = issue.courseOfTherapyType?.coding?.some((c) => c.code === 'continuous') || Boolean(issue.basedOn?.length);
  const item: MedicationRequest = {
    resourceType: 'MedicationRequest',
    extension: [{ url: PRESCRIPTION_TYPE_EXTENSION, valueCoding: { system: PRESCRIPTION_TYPE_SYSTEM, code: '0101', display: 'Primary Care Prescriber - Medical Prescriber' } }],
    identifier: [{ system: ORDER_ITEM_SYSTEM, value: deterministicUuid(`eps|item-number|${issue.id}`) }],
    status: cancel ? 'cancelled' : 'active',
    ...(cancel ? { statusReason: { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/medicationrequest-status-reason', code: '0001', display: 'Prescribing Error' }], text: cancel.reason } } : {}),
    intent: 'order',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-category', code: 'community', display: 'Community' }] }],
    ...(issue.medicationCodeableConcept ? { medicationCodeableConcept: medicationForEps(issue.medicationCodeableConcept) } : {}),
    subject: { reference: u.patient },
    ...(issue.authoredOn ? { authoredOn: issue.authoredOn } : {}),
    requester: { reference: u.role },
    groupIdentifier: {
      extension: [{ url: PRESCRIPTION_ID_EXTENSION, valueIdentifier: { system: PRESCRIPTION_UUID_SYSTEM, value: deterministicUuid(`eps|prescription|${prescriptionId}`) } }],
      system: PRESCRIPTION_ORDER_NUMBER_SYSTEM,
      value: prescriptionId,
    },
    courseOfTherapyType: { coding: [continuous ? { system: COURSE_OF_THERAPY_SYSTEM, code: 'continuous', display: 'Continuous long term therapy' } : { system: COURSE_OF_THERAPY_SYSTEM, code: 'acute', display: 'Short course (acute) therapy' }] },
    ...(issue.dosageInstruction ? { dosageInstruction: issue.dosageInstruction } : {}),
    dispenseRequest: {
      extension: [{ url: 'https://fhir.nhs.uk/StructureDefinition/Extension-DM-PerformerSiteType', valueCoding: { system: 'https://fhir.nhs.uk/CodeSystem/dispensing-site-preference', code: 'P1' } }],
      ...(issue.dispenseRequest?.quantity ? { quantity: issue.dispenseRequest.quantity } : {}),
      ...(issue.dispenseRequest?.expectedSupplyDuration ? { expectedSupplyDuration: issue.dispenseRequest.expectedSupplyDuration } : {}),
    },
    substitution: { allowedBoolean: false },
  };
  const p: Patient = {
    resourceType: 'Patient',
    ...(patient.identifier ? { identifier: patient.identifier.filter((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number') } : {}),
    ...(patient.name ? { name: patient.name.slice(0, 1) } : {}),
    ...(patient.gender ? { gender: patient.gender } : {}),
    ...(patient.birthDate ? { birthDate: patient.birthDate } : {}),
    ...(patient.address ? { address: patient.address.slice(0, 1) } : {}),
    generalPractitioner: [{ identifier: { system: ODS_SYSTEM, value: org.ods } }],
  };
  const role: PractitionerRole = {
    resourceType: 'PractitionerRole',
    identifier: [{ system: STAFF_USER_SYSTEM, value: prescriber.id }],
    practitioner: { reference: u.practitioner },
    organization: { reference: u.org },
    code: [{ coding: [{ system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-SDSJobRoleName', code: 'R8000', display: 'Clinical Practitioner Access Role' }] }],
  };
  const parts = prescriber.name.trim().split(/\s+/);
  const practitioner: Practitioner = {
    resourceType: 'Practitioner',
    identifier: [{ system: STAFF_USER_SYSTEM, value: prescriber.id }],
    name: [{ family: parts.length > 1 ? parts[parts.length - 1]! : prescriber.name, given: parts.slice(0, -1), text: prescriber.name }],
  };
  const organization: Organization = {
    resourceType: 'Organization',
    identifier: [{ system: ODS_SYSTEM, value: org.ods }],
    type: [{ coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/organisation-role', code: '76', display: 'GP PRACTICE' }] }],
    name: org.name,
    address: [{ use: 'work', line: org.address, ...(org.postcode ? { postalCode: org.postcode } : {}) }],
    ...(org.phone ? { telecom: [{ system: 'phone', value: org.phone, use: 'work' }] } : {}),
  };
  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    eventCoding: { system: MESSAGE_EVENT_SYSTEM, code: event, display: cancel ? 'Prescription Order Update' : 'Prescription Order' },
    sender: { identifier: { system: ODS_SYSTEM, value: org.ods }, display: org.name },
    source: { endpoint: `urn:nhs-uk:addressing:ods:${org.ods}` },
    focus: [{ reference: u.role }, { reference: u.item }],
  };
  const entry: BundleEntry[] = [
    { fullUrl: u.header, resource: header },
    { fullUrl: u.item, resource: item },
    { fullUrl: u.patient, resource: p },
    { fullUrl: u.role, resource: role },
    { fullUrl: u.practitioner, resource: practitioner },
    { fullUrl: u.org, resource: organization },
  ];
  return {
    resourceType: 'Bundle',
    identifier: { system: 'https://tools.ietf.org/html/rfc4122', value: deterministicUuid(`eps|${event}|message|${prescriptionId}`) },
    type: 'message',
    entry,
  };
}

/** The node's signing key for EPS messages (see the file comment: a stand-in for the prescriber's smartcard). */
export interface EpsSigner {
  sign(signedInfoXml: string): { signatureValue: string; certificate: string };
}

export function nodeSigner(): EpsSigner {
  const { privateKey, publicKey }: { privateKey: KeyObject; publicKey: KeyObject } = generateKeyPairSync('ed25519');
  const certificate = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  return {
    sign: (xml) => ({ signatureValue: sign(null, Buffer.from(xml, 'utf8'), privateKey).toString('base64'), certificate }),
  };
}

/** Put the XML-DSig over the $prepare digest into the message, as EPS's own guide assembles it. */
export function signedMessage(bundle: Bundle, digestBase64: string, signer: EpsSigner, when: Date): Bundle {
  const signedInfo = Buffer.from(digestBase64, 'base64').toString('utf8');
  const { signatureValue, certificate } = signer.sign(signedInfo);
  const inner = signedInfo.replace('<SignedInfo xmlns="http://www.w3.org/2000/09/xmldsig#">', '<SignedInfo>');
  const xml = `<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">${inner}<SignatureValue>${signatureValue}</SignatureValue><KeyInfo><X509Data><X509Certificate>${certificate}</X509Certificate></X509Data></KeyInfo></Signature>`;
  const role = (bundle.entry ?? []).find((e) => e.resource?.resourceType === 'PractitionerRole')?.fullUrl;
  const targets = (bundle.entry ?? []).filter((e) => e.resource?.resourceType === 'MedicationRequest').map((e) => ({ reference: e.fullUrl! }));
  const provenance: Provenance = {
    resourceType: 'Provenance',
    target: targets,
    recorded: when.toISOString(),
    agent: [{ who: { reference: role! } }],
    signature: [{ type: [{ system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.1' }], when: when.toISOString(), who: { reference: role! }, data: Buffer.from(xml, 'utf8').toString('base64') }],
  };
  const id = deterministicUuid(`eps|provenance|${bundle.identifier?.value}`);
  return { ...bundle, entry: [...(bundle.entry ?? []).filter((e) => e.resource?.resourceType !== 'Provenance'), { fullUrl: `urn:uuid:${id}`, resource: provenance }] };
}

/** An answer from EPS: the HTTP status and the parsed body (undefined when it was not JSON). */
interface EpsAnswer {
  status: number;
  body: unknown;
}

export class EpsUnreachable extends Error {}

/** The EPS FHIR API client (prescriber endpoints), over fetch. */
export function epsClient(connection: EpsConnection) {
  const base = connection.baseUrl.replace(/\/+$/, '');
  const timeout = connection.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  async function post(path: string, requestId: string, body: unknown): Promise<EpsAnswer> {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/fhir+json',
          accept: 'application/fhir+json',
          'x-request-id': requestId,
          'x-correlation-id': requestId,
          ...(connection.token ? { authorization: `Bearer ${connection.token}` } : {}),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeout),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw new EpsUnreachable(e.name === 'TimeoutError' ? `no answer within ${timeout} ms` : (e.cause?.code ?? e.message));
    }
    const text = await res.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed };
  }
  return {
    prepare: (bundle: Bundle, requestId: string) => post(EPS_PREPARE_PATH, requestId, bundle),
    processMessage: (bundle: Bundle, requestId: string) => post(EPS_PROCESS_PATH, requestId, bundle),
  };
}

/** What an EPS answer means for the outbox. `step` names the call for the person reading the error. */
export function classify(answer: EpsAnswer, step: string): DeliveryResult | 'ok' {
  if (answer.status >= 200 && answer.status < 300) return 'ok';
  const words = `EPS ${step} ${answer.status}: ${epsOutcomeText(answer.body)}`;
  if (answer.status === 429 || answer.status >= 500) return { outcome: 'retry', error: words, ...(answer.status === 429 ? { retryAfterMs: 60_000 } : {}) };
  const issue = (answer.body as { issue?: Array<{ code?: string; details?: { coding?: Array<{ code?: string }> } }> } | undefined)?.issue?.[0];
  // EPS already holds this prescription id: an earlier attempt reached it. Never a second prescription.
  if (step === '$process-message' && issue?.code === 'duplicate' && issue.details?.coding?.[0]?.code === '0002') return { outcome: 'sent', detail: 'EPS already held this prescription (an earlier attempt reached it)' };
  return { outcome: 'failed', error: words };
}

/**
 * What a $process-message attempt of a prescription-order left EPS holding, as far as the node knows:
 * 'in-flight' (recorded before the request goes out), 'maybe' (an attempt had no definite answer:
 * timeout, 5xx, connection lost, or an earlier attempt's answer was never recorded), 'held' (EPS took
 * it), 'refused' (EPS definitely refused every attempt: a 4xx, with no earlier uncertain attempt),
 * 'cancelled' (EPS confirmed the cancel of a stopped issue).
 * Printing is allowed only when none was attempted or EPS refused it (prescriptions-out.ts).
 */
export type EpsProcessState = 'in-flight' | 'maybe' | 'held' | 'refused' | 'cancelled';

export interface EpsChannelOptions {
  /** Why the issue must not go to EPS now (printed instead, stopped), or undefined when it should. */
  whyNotWanted(message: QueuedMessage, payload: EpsPayload): Promise<string | undefined>;
  /**
   * Record durably, BEFORE the $process-message request is made, that EPS may hold this prescription
   * from now on (a throw stops the attempt: nothing is sent unrecorded).
   */
  processAttempted(payload: EpsPayload): Promise<void>;
  /** Record what the attempt's answer means: EPS holds it, definitely refused it, unknown; or (a cancel) EPS cancelled it. */
  processAnswered(payload: EpsPayload, answer: 'held' | 'refused' | 'unknown' | 'cancelled'): Promise<void>;
  signer?: EpsSigner;
  now?: () => Date;
}

/** The 'eps' outbox channel. */
export function epsChannel(connection: EpsConnection, options: EpsChannelOptions): OutboxChannel {
  const client = epsClient(connection);
  const signer = options.signer ?? nodeSigner();
  const now = options.now ?? (() => new Date());
  return {
    name: EPS_CHANNEL,
    label: 'Electronic Prescription Service',
    async deliver(message) {
      const payload = message.payload as EpsPayload;
      const problems = checkEpsMessage(payload?.bundle, { signed: false });
      if (problems.length) return { outcome: 'failed', error: `Not sent: the message does not follow the EPS contract: ${problems.map((p) => p.message).join('; ')}` };
      const why = payload.event === 'prescription-order' ? await options.whyNotWanted(message, payload) : undefined;
      if (why) return { outcome: 'failed', error: `Not sent: ${why}` };
      try {
        let bundle = payload.bundle;
        if (payload.event === 'prescription-order') {
          const prepared = await client.prepare(bundle, deterministicUuid(`eps-prepare|${message.idempotencyKey}|${message.attempts}`));
          const verdict = classify(prepared, '$prepare');
          if (verdict !== 'ok') return verdict.outcome === 'sent' ? { outcome: 'retry', error: 'EPS $prepare answered unexpectedly' } : verdict;
          const digest = ((prepared.body as Parameters | undefined)?.parameter ?? []).find((p) => p.name === 'digest')?.valueString;
          if (!digest) return { outcome: 'retry', error: 'EPS $prepare answered without a digest to sign' };
          bundle = signedMessage(bundle, digest, signer, now());
        }
        const order = payload.event === 'prescription-order';
        if (order) await options.processAttempted(payload);
        let sent: EpsAnswer;
        try {
          sent = await client.processMessage(bundle, message.idempotencyKey);
        } catch (err) {
          // No answer (timeout, connection lost): EPS may have it. Never treated as "not sent".
          if (order) await options.processAnswered(payload, 'unknown');
          throw err;
        }
        const verdict = classify(sent, '$process-message');
        if (order) await options.processAnswered(payload, verdict === 'ok' || verdict.outcome === 'sent' ? 'held' : verdict.outcome === 'failed' ? 'refused' : 'unknown');
        else if (verdict === 'ok') await options.processAnswered(payload, 'cancelled');
        else if (verdict.outcome === 'failed') return { outcome: 'failed', error: `${verdict.error} (the cancel of a stopped prescription: if EPS does not hold it, nothing is dispensable; otherwise cancel it at EPS by hand)` };
        return verdict === 'ok' ? { outcome: 'sent', providerRef: payload.prescriptionId } : verdict;
      } catch (err) {
        if (err instanceof EpsUnreachable) return { outcome: 'retry', error: `EPS could not be reached: ${err.message}` };
        throw err;
      }
    },
    // EPS de-duplicates by X-Request-ID and by prescription id, so an interrupted attempt is sent again.
    async reconcile() {
      return undefined;
    },
  };
}
