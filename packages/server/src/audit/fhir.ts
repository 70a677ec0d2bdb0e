/** Audit rows rendered as FHIR R4 AuditEvent resources. */
import type { AuditEvent } from '@medplum/fhirtypes';
import type { AuditEntry } from './log.ts';
import { staffReference, AUDIT_EVENT_SYSTEM, AUDIT_SEQUENCE_EXTENSION, AUDIT_PREV_HASH_EXTENSION, AUDIT_HASH_EXTENSION } from '@steadfast/domain/systems';


const actionByEvent: Record<string, AuditEvent['action']> = {
  read: 'R',
  vread: 'R',
  search: 'E',
  history: 'R',
  create: 'C',
  import: 'C',
  update: 'U',
  delete: 'D',
  export: 'E',
  login: 'E',
  logout: 'E',
  'login-failed': 'E',
};

export function toAuditEvent(entry: AuditEntry, source: { practice: string; nodeId: string }): AuditEvent {
  const isSession = entry.event === 'login' || entry.event === 'logout' || entry.event === 'login-failed';
  const entity: NonNullable<AuditEvent['entity']> = [];
  if (entry.resource) entity.push({ what: { reference: entry.resource }, type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' } });
  if (entry.patient && entry.patient !== entry.resource) {
    entity.push({ what: { reference: entry.patient }, type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' } });
  } else if (entry.patient && entity[0]) {
    entity[0].type = { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' };
  }
  if (entry.detail) entity.push({ description: entry.detail });
  return {
    resourceType: 'AuditEvent',
    id: String(entry.seq),
    meta: { versionId: '1', lastUpdated: entry.recorded },
    type: isSession
      ? { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110114', display: 'User Authentication' }
      : { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: AUDIT_EVENT_SYSTEM, code: entry.event }],
    ...(actionByEvent[entry.event] ? { action: actionByEvent[entry.event] } : {}),
    recorded: entry.recorded,
    outcome: entry.outcome === 'success' ? '0' : '4',
    agent: [
      {
        who: staffReference({ id: entry.userId, name: entry.userName }),
        ...(entry.userRole ? { role: [{ text: entry.userRole }] } : {}),
        requestor: true,
        ...(entry.workstation ? { network: { address: entry.workstation, type: '1' as const } } : {}),
      },
    ],
    source: { site: source.practice, observer: { display: `Steadfast node ${source.nodeId}` } },
    ...(entity.length ? { entity } : {}),
    extension: [
      { url: AUDIT_SEQUENCE_EXTENSION, valueInteger: entry.seq },
      { url: AUDIT_PREV_HASH_EXTENSION, valueString: entry.prevHash },
      { url: AUDIT_HASH_EXTENSION, valueString: entry.hash },
    ],
  };
}
