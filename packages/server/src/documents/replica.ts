/**
 * Documents through the one write path, so every document replicates like every other record.
 *
 * Each document (raw item read, unfiled, in workflow, filed) is one DocumentReference in the change
 * log whose id is the document's id, derived from the practice and the SHA-256 of the document's own
 * bytes: the same letter taken in at two nodes of a practice is one resource, never two. Until it is
 * filed the DocumentReference is `docStatus: preliminary`, has no subject (nothing shows on a record
 * before a person files it) and names its bytes as `urn:sha256:<hash>`; filing makes it `final`, with
 * its subject and its Binary. The row of the `documents` table travels with it in the
 * WORKFLOW_EXTENSION, so a node that receives the entry (the standby) rebuilds the row from it
 * (DocumentProjector). The bytes themselves travel on their own channel, content-addressed
 * (blob-sync.ts).
 */
import { createHash } from 'node:crypto';
import type { DocumentReference } from '@medplum/fhirtypes';
import { KIND_MEDIA_TYPE, type DocumentKind } from '@steadfast/domain/documents';
import type { RecordStore, StoreTransaction } from '@steadfast/store';
import { ddb, type DocumentsTable } from './tables.ts';

export const WORKFLOW_EXTENSION = 'https://steadfast.example/fhir/StructureDefinition/document-workflow';

/** The document's id: a UUID-shaped digest of the practice and the bytes (the same letter is one document everywhere). */
export function documentId(practice: string, blob: string): string {
  const h = createHash('sha256').update(`steadfast-document\n${practice}\n${blob}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

type RowCopy = Omit<DocumentsTable, 'practice'>;

function rowExtension(row: DocumentsTable) {
  const { practice: _practice, ...copy } = row;
  return { url: WORKFLOW_EXTENSION, valueString: JSON.stringify({ v: 1, row: { ...copy, size: Number(copy.size), copies: Number(copy.copies) } }) };
}

/** The row a replicated DocumentReference carries, or undefined when it is not a document of this capability. */
export function rowOf(resource: DocumentReference | undefined, practice: string): DocumentsTable | undefined {
  const ext = resource?.extension?.find((e) => e.url === WORKFLOW_EXTENSION);
  if (!ext?.valueString) return undefined;
  try {
    const parsed = JSON.parse(ext.valueString) as { v?: number; row?: RowCopy };
    if (parsed.v !== 1 || !parsed.row || parsed.row.id !== resource!.id || !/^[0-9a-f]{64}$/.test(parsed.row.blob)) return undefined;
    return { ...parsed.row, practice };
  } catch {
    return undefined;
  }
}

/** The DocumentReference of a document not yet filed. */
function preliminary(row: DocumentsTable): DocumentReference {
  const contentType = KIND_MEDIA_TYPE[row.kind as DocumentKind] ?? 'application/octet-stream';
  return {
    resourceType: 'DocumentReference',
    id: row.id,
    status: 'current',
    docStatus: 'preliminary',
    description: (row.subject || row.filename || 'document').slice(0, 500),
    content: [{ attachment: { contentType, url: `urn:sha256:${row.blob}`, size: Number(row.size), ...(row.filename ? { title: row.filename } : {}), creation: row.received_at } }],
    extension: [rowExtension(row)],
  };
}

/**
 * Write the document's DocumentReference in the transaction that changed its row. A filed document
 * keeps its filed body (subject, type, Binary) and only its row copy is renewed; `filed` is the body
 * filing writes.
 */
export async function writeDocumentRecord(tx: StoreTransaction, row: DocumentsTable, filed?: DocumentReference): Promise<void> {
  let resource: DocumentReference;
  if (filed) resource = { ...filed, id: row.id, extension: [...(filed.extension ?? []).filter((e) => e.url !== WORKFLOW_EXTENSION), rowExtension(row)] };
  else {
    const current = row.state === 'filed' ? ((await tx.read('DocumentReference', row.id))?.resource as DocumentReference | undefined) : undefined;
    resource = current?.docStatus === 'final' ? { ...current, extension: [...(current.extension ?? []).filter((e) => e.url !== WORKFLOW_EXTENSION), rowExtension(row)] } : preliminary(row);
    delete resource.meta;
  }
  await tx.write([{ kind: 'update', resource }]);
}

/** Read the row as it now is in the transaction (after an update) and write its record. */
export async function writeDocumentRecordOf(tx: StoreTransaction, practice: string, id: string): Promise<void> {
  const row = await ddb(tx.db as never).selectFrom('documents').selectAll().where('practice', '=', practice).where('id', '=', id).executeTakeFirst();
  if (row) await writeDocumentRecord(tx, row);
}

/**
 * Rebuilds `documents` rows from DocumentReferences written at other nodes (a standby receiving the
 * primary's work, or a node pulling from the hub after it replaced a lost one). Its position in the
 * local change log is kept in `document_replica_cursor`, so each entry is read once; the row is taken
 * from the resource's current version (the conflict rule's winner), never from an older entry.
 */
export class DocumentProjector {
  constructor(private readonly store: RecordStore) {}

  /** Read what arrived since the last round; returns how many rows were written. */
  async round(limit = 500): Promise<number> {
    const db = ddb(this.store.db);
    let written = 0;
    for (;;) {
      const at = await db.selectFrom('document_replica_cursor').select('seq').where('practice', '=', this.store.practice).executeTakeFirst();
      const after = Number(at?.seq ?? 0);
      const page = await this.store.changesSince(after, limit);
      if (!page.length) return written;
      const ids = new Set(page.filter((e) => e.resourceType === 'DocumentReference' && e.originNode !== this.store.nodeId).map((e) => e.resourceId));
      const last = page[page.length - 1]!.seq;
      await this.store.transaction({ author: 'system:documents-replica' }, async (tx) => {
        const t = ddb(tx.db as never);
        for (const id of ids) {
          const current = await tx.read('DocumentReference', id);
          const row = current && !current.deleted ? rowOf(current.resource as DocumentReference, this.store.practice) : undefined;
          if (!row) continue;
          // Rows made before ids came from the bytes: the blob is unique, so the local row stands.
          const other = await t.selectFrom('documents').select('id').where('practice', '=', row.practice).where('blob', '=', row.blob).where('id', '!=', row.id).executeTakeFirst();
          if (other) continue;
          const { practice: _p, id: _id, ...rest } = row;
          await t.insertInto('documents').values(row).onConflict((oc) => oc.columns(['practice', 'id']).doUpdateSet(rest)).execute();
          written++;
        }
        await t
          .insertInto('document_replica_cursor')
          .values({ practice: this.store.practice, seq: last })
          .onConflict((oc) => oc.column('practice').doUpdateSet({ seq: last }))
          .execute();
      });
      if (page.length < limit) return written;
    }
  }
}
