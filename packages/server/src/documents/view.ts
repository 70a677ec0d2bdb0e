/** What the API shows of a document row (never its bytes), and how a large Binary names its blob. */
import type { DocumentsTable } from './tables.ts';

/** Binary has no extensions in R4: the blob holding a large document's bytes is named by a meta tag. */
export const BLOB_TAG_SYSTEM = 'https://steadfast.example/fhir/CodeSystem/blob-sha256';

/** What the list and the detail show of a document (never its bytes). */
export function documentView(r: DocumentsTable, withText = false) {
  return {
    id: r.id,
    source: r.source,
    receivedAt: r.received_at,
    filename: r.filename,
    kind: r.kind,
    size: Number(r.size),
    subject: r.subject,
    sender: r.sender,
    state: r.state,
    problem: r.problem,
    copies: Number(r.copies),
    proposedPatient: r.proposed_patient_id ? { id: r.proposed_patient_id, display: r.proposed_display } : null,
    patientId: r.patient_id,
    matchNotes: JSON.parse(r.match_notes) as string[],
    identifiers: JSON.parse(r.identifiers),
    type: r.doc_type,
    date: r.doc_date,
    suggestions: JSON.parse(r.suggestions ?? '[]') as unknown[],
    assignee: r.assignee_id ? { id: r.assignee_id, name: r.assignee_name } : null,
    action: r.action,
    documentReferenceId: r.document_reference_id,
    ...(withText ? { text: r.text, history: JSON.parse(r.history ?? '[]') as unknown[], routeNote: r.route_note } : {}),
  };
}
