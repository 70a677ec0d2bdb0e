/**
 * HL7 v2 ORU^R01 to a neutral result model: one header, one patient, one or more reports (an OBR and
 * its OBX/NTE lines). Pure: no store, no clock. Everything that fails throws a SteadfastError whose
 * field names the segment, so the sender's acknowledgement and the quarantine list say what to fix.
 */
import { createHash } from 'node:crypto';
import type { Hl7Message, Hl7Segment } from '@medplum/core';
import { SteadfastError, isValidNhsNumber, normaliseNhsNumber } from '@steadfast/domain';
import { SUPPORTED_VERSIONS, comp, hl7Date, hl7DateTime, parseHl7, repetitions, unescapeHl7 } from './hl7.ts';

export interface ResultHeader {
  /** Sending facility (MSH-4), the laboratory. */
  lab: string;
  sendingApplication: string;
  messageId: string;
  version: string;
  sentAt?: string;
}

export interface ResultPatient {
  /** Valid NHS number from PID-3 (`NHS` authority or `NH` type), when present. */
  nhsNumber?: string;
  /** An NHS-labelled identifier that fails the Modulus 11 check: never used to match. */
  invalidNhsNumber?: string;
  otherIds: Array<{ value: string; authority: string; type: string }>;
  family: string;
  given: string[];
  birthDate?: string;
  sex?: 'male' | 'female' | 'other' | 'unknown';
  address?: string[];
}

export interface ResultObservation {
  setId: string;
  valueType: string;
  code: string;
  display: string;
  codeSystem: string;
  /** OBX-5 unescaped; repetitions joined by newline. */
  value: string;
  units: string;
  range: string;
  flags: string[];
  status: string;
  observedAt?: string;
  notes: string[];
}

export interface ResultReport {
  placerOrderNumber: string;
  fillerOrderNumber: string;
  testCode: string;
  testDisplay: string;
  testSystem: string;
  /** OBR-25: P, F, C, X, ... ('F' when absent). */
  status: string;
  observedAt?: string;
  reportedAt?: string;
  orderingProvider: string;
  notes: string[];
  observations: ResultObservation[];
  /** Base64 documents carried in ED-type OBX (e.g. a PDF report). */
  attachments: Array<{ contentType: string; data: string; title: string }>;
}

export interface ResultMessage {
  header: ResultHeader;
  patient: ResultPatient;
  reports: ResultReport[];
}

const reject = (message: string, field: string, hint: string) => new SteadfastError('invalid', message, { field, hint });

/** Parse and validate an ORU^R01; throws SteadfastError 'invalid' or 'not-supported'. */
export function parseOru(raw: string): ResultMessage {
  const msg = parseHl7(raw);
  return readOru(msg);
}

export function readOru(msg: Hl7Message): ResultMessage {
  const msh = msg.getSegment('MSH')!;
  const type = comp(msh, 9, 1);
  const trigger = comp(msh, 9, 2);
  if (type !== 'ORU' || (trigger && trigger !== 'R01')) {
    throw new SteadfastError('not-supported', `Message type ${type}^${trigger} is not accepted here`, {
      field: 'MSH-9',
      hint: 'This listener accepts laboratory results as ORU^R01 only',
    });
  }
  const version = comp(msh, 12, 1);
  if (!SUPPORTED_VERSIONS.includes(version)) {
    throw new SteadfastError('not-supported', `HL7 version "${version}" is not supported`, {
      field: 'MSH-12',
      hint: `Send one of versions ${SUPPORTED_VERSIONS.join(', ')}`,
    });
  }
  const header: ResultHeader = {
    lab: [comp(msh, 4, 1, msg), comp(msh, 4, 2, msg)].filter(Boolean).join('^') || comp(msh, 3, 1, msg),
    sendingApplication: comp(msh, 3, 1, msg),
    messageId: comp(msh, 10, 1, msg),
    version,
    ...(hl7DateTime(comp(msh, 7)) ? { sentAt: hl7DateTime(comp(msh, 7))! } : {}),
  };
  const pids = msg.getAllSegments('PID');
  if (pids.length === 0) throw reject('The message has no PID (patient) segment', 'PID', 'Each ORU^R01 must identify the patient in a PID segment');
  if (pids.length > 1) {
    throw new SteadfastError('not-supported', 'The message carries results for more than one patient', {
      field: 'PID',
      hint: 'Send one patient per message so that each result can be matched safely',
    });
  }
  const patient = readPatient(pids[0]!, msg);

  const reports: ResultReport[] = [];
  let current: ResultReport | undefined;
  let lastObx: ResultObservation | undefined;
  msg.segments.forEach((seg, index) => {
    const where = `${seg.name} (segment ${index + 1})`;
    switch (seg.name) {
      case 'OBR':
        current = readObr(seg, msg, where);
        reports.push(current);
        lastObx = undefined;
        break;
      case 'OBX': {
        if (!current) throw reject(`${where} comes before any OBR`, where, 'Each OBX must follow the OBR it belongs to');
        const obx = readObx(seg, msg, where, current);
        if (obx) {
          current.observations.push(obx);
          lastObx = obx;
        }
        break;
      }
      case 'NTE': {
        const text = repetitions(seg, 3)
          .map((r) => unescapeHl7(r.join(msg.context.componentSeparator), msg))
          .join('\n');
        if (lastObx) lastObx.notes.push(text);
        else if (current) current.notes.push(text);
        break;
      }
    }
  });
  if (reports.length === 0) throw reject('The message has no OBR (report) segment', 'OBR', 'Each ORU^R01 must carry at least one OBR with its results');
  return { header, patient, reports };
}

function readPatient(pid: Hl7Segment, msg: Hl7Message): ResultPatient {
  const otherIds: ResultPatient['otherIds'] = [];
  let nhsNumber: string | undefined;
  let invalidNhsNumber: string | undefined;
  // PID-3 is the patient identifier list; v2.3 senders sometimes put the NHS number in PID-2 (external id).
  for (const field of [3, 2]) {
    for (const rep of repetitions(pid, field)) {
      const value = unescapeHl7(rep[0] ?? '', msg).trim();
      const authority = (rep[3] ?? '').split(msg.context.subcomponentSeparator)[0]!.trim();
      const type = (rep[4] ?? '').trim();
      if (!value) continue;
      if (/^NHS$/i.test(authority) || /^NH$/i.test(type)) {
        const n = normaliseNhsNumber(value);
        if (isValidNhsNumber(n)) {
          if (nhsNumber && nhsNumber !== n) {
            throw reject('PID carries two different NHS numbers', 'PID-3', 'Send exactly one NHS number for the patient');
          }
          nhsNumber = n;
        } else invalidNhsNumber = value;
      } else otherIds.push({ value, authority, type });
    }
  }
  const family = comp(pid, 5, 1, msg);
  const given = [comp(pid, 5, 2, msg), comp(pid, 5, 3, msg)].filter(Boolean);
  const birthDate = hl7Date(comp(pid, 7));
  const sexCode = comp(pid, 8).toUpperCase();
  const sex = sexCode === 'M' ? 'male' : sexCode === 'F' ? 'female' : sexCode === 'O' ? 'other' : sexCode === 'U' ? 'unknown' : undefined;
  const address = (repetitions(pid, 11)[0] ?? []).map((p) => unescapeHl7(p, msg).trim()).filter(Boolean);
  return {
    ...(nhsNumber ? { nhsNumber } : {}),
    ...(invalidNhsNumber && !nhsNumber ? { invalidNhsNumber } : {}),
    otherIds,
    family,
    given,
    ...(birthDate ? { birthDate } : {}),
    ...(sex ? { sex } : {}),
    ...(address.length ? { address } : {}),
  };
}

function readObr(obr: Hl7Segment, msg: Hl7Message, where: string): ResultReport {
  const placer = comp(obr, 2, 1, msg);
  const filler = comp(obr, 3, 1, msg);
  if (!placer && !filler) {
    throw reject(`${where} has neither a placer (OBR-2) nor a filler (OBR-3) order number`, `${where} OBR-3`, 'The laboratory must send its accession (filler order) number');
  }
  const testCode = comp(obr, 4, 1, msg);
  const testDisplay = comp(obr, 4, 2, msg);
  if (!testCode && !testDisplay) throw reject(`${where} has no test (OBR-4)`, `${where} OBR-4`, 'Send the test code and name in OBR-4');
  const status = (comp(obr, 25) || 'F').toUpperCase();
  const observedAt = hl7DateTime(comp(obr, 7));
  const reportedAt = hl7DateTime(comp(obr, 22));
  const provider = [comp(obr, 16, 6, msg), comp(obr, 16, 3, msg), comp(obr, 16, 2, msg)].filter(Boolean).join(' ');
  return {
    placerOrderNumber: placer,
    fillerOrderNumber: filler,
    testCode: testCode || testDisplay,
    testDisplay: testDisplay || testCode,
    testSystem: comp(obr, 4, 3, msg),
    status,
    ...(observedAt ? { observedAt } : {}),
    ...(reportedAt ? { reportedAt } : {}),
    orderingProvider: provider,
    notes: [],
    observations: [],
    attachments: [],
  };
}

function readObx(obx: Hl7Segment, msg: Hl7Message, where: string, report: ResultReport): ResultObservation | undefined {
  const valueType = comp(obx, 2).toUpperCase();
  const code = comp(obx, 3, 1, msg);
  const display = comp(obx, 3, 2, msg);
  if (!code && !display) throw reject(`${where} has no observation code (OBX-3)`, `${where} OBX-3`, 'Send the analyte code and name in OBX-3');
  const reps = repetitions(obx, 5);
  if (valueType === 'ED') {
    // Encapsulated data: ^type^subtype^encoding^data. Keep the document, not an Observation.
    const first = reps[0] ?? [];
    const data = (first[4] ?? '').trim();
    if (data) {
      const sub = (first[2] ?? '').toLowerCase();
      report.attachments.push({ contentType: sub === 'pdf' ? 'application/pdf' : `application/${sub || 'octet-stream'}`, data, title: display || code });
    }
    return undefined;
  }
  const value = reps
    .map((r) => unescapeHl7(valueType === 'CE' || valueType === 'CWE' || valueType === 'SN' ? r.join(msg.context.componentSeparator) : r[0] ?? '', msg))
    .join('\n')
    .trim();
  const observedAt = hl7DateTime(comp(obx, 14));
  return {
    setId: comp(obx, 1),
    valueType,
    code: code || display,
    display: display || code,
    codeSystem: comp(obx, 3, 3, msg),
    value,
    units: comp(obx, 6, 1, msg),
    range: comp(obx, 7, 1, msg),
    flags: repetitions(obx, 8)
      .map((r) => (r[0] ?? '').trim().toUpperCase())
      .filter(Boolean),
    status: comp(obx, 11).toUpperCase() || report.status,
    ...(observedAt ? { observedAt } : {}),
    notes: [],
  };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const norm = (s: string) => s.replace(/\s+/g, ' ').trim();

/** The order number a report is known by: the laboratory's accession number, else our placer number. */
export function orderKey(r: ResultReport): string {
  return r.fillerOrderNumber ? `F:${r.fillerOrderNumber}` : `P:${r.placerOrderNumber}`;
}

/** Identity of a report across versions and resends: order number + test. */
export function reportKey(r: ResultReport): string {
  return sha256(JSON.stringify(['report', orderKey(r), r.testCode.toUpperCase()]));
}

/**
 * Identity of one version of a report: order number, test, status and normalised content. The
 * message id is deliberately left out: resent messages often carry a new one.
 */
export function reportFingerprint(r: ResultReport): string {
  const obx = r.observations
    .map((o) =>
      JSON.stringify([o.code.toUpperCase(), o.valueType, norm(o.value), norm(o.units), norm(o.range), [...o.flags].sort(), o.status, o.notes.map(norm)]),
    )
    .sort();
  const docs = r.attachments.map((a) => sha256(a.data)).sort();
  return sha256(JSON.stringify(['version', orderKey(r), r.testCode.toUpperCase(), r.status, obx, r.notes.map(norm), docs]));
}

/** How far a report has progressed; a lower rank never overwrites a higher one. */
export function statusRank(status: string): number {
  switch (status) {
    case 'C':
      return 3;
    case 'F':
    case 'X':
      return 2;
    default:
      return 1;
  }
}
