/**
 * A blob kept as a mismatch (bytes that did not hash to the name they came under) is put in front of
 * the practice administrators as one review Task per blob: kept apart in `document_blob_rejects` and
 * the Task written in one transaction. The Task's id is derived from the practice and the blob's name,
 * so a retry, a restart or a second mismatch of the same blob adds a reject row, never a second Task.
 *
 * Where a node sees one: bytes it fetched from its upstream (the hub, or a standby's primary), bytes a
 * node sent it (a standby receiving from its primary), and its own bytes refused by the upstream as a
 * mismatch (its disk, or the way there, damaged them).
 */
import type { Task } from '@medplum/fhirtypes';
import { deterministicUuid } from '@steadfast/domain';
import { londonDate } from '@steadfast/domain/documents';
import { TASK_CODE_SYSTEM } from '@steadfast/domain/systems';
import type { RecordStore } from '@steadfast/store';
import { randomUUID } from 'node:crypto';
import { ddb, type DocumentsTable } from './tables.ts';

export const MISMATCH_TASK_CODE = 'document-blob-mismatch';

/** Which way the damaged bytes went. */
export type MismatchSide = 'fetched' | 'received' | 'refused-upstream';

export interface Mismatch {
  claimed: string;
  /** The hash the bytes really had ('' when only the upstream saw them). */
  actual: string;
  size: number;
  /** The node that sent them, or the peer they were fetched from or sent to. */
  peer: string;
  side: MismatchSide;
}

export function mismatchTaskId(practice: string, claimed: string): string {
  return deterministicUuid(`document-blob-mismatch|${practice}|${claimed}`);
}

type Named = Pick<DocumentsTable, 'id' | 'filename' | 'subject' | 'received_at' | 'source'>;

const SOURCE = { imap: 'email', folder: 'scanner folder', upload: 'upload', fhir: 'FHIR' } as Record<string, string>;

/** The review Task (pure): names the document when one here names the blob, and says what to do. */
export function mismatchTask(practice: string, m: Mismatch, doc: Named | undefined, now: string): Task {
  const when = doc ? `received ${londonDate(doc.received_at)} by ${SOURCE[doc.source] ?? doc.source}` : '';
  const what = !doc ? `blob ${m.claimed.slice(0, 12)}…` : doc.subject && doc.subject !== doc.filename ? `"${doc.subject}" (${doc.filename}, ${when})` : `${doc.filename} (${when})`;
  const how =
    m.side === 'refused-upstream'
      ? `This node's copy of the document ${what} was refused by ${m.peer}: the bytes it received did not match the document's fingerprint.${m.actual ? ' The copy on this node is damaged too.' : ''}`
      : `A copy of the document ${what} ${m.side === 'fetched' ? `fetched from ${m.peer}` : `sent by node ${m.peer}`} did not match the document's fingerprint: it was refused and kept apart, and nothing was replaced.`;
  const todo =
    m.side === 'refused-upstream' && m.actual
      ? 'Open the document: if it does not show, ask the sender for the letter again and upload it; tell your IT supplier this node\'s disk may be failing.'
      : 'It is sent again automatically. If this Task is still open tomorrow, or the document will not open here, ask the sender for the letter again and upload it, and tell your IT supplier (the network or a disk is damaging files).';
  return {
    resourceType: 'Task',
    id: mismatchTaskId(practice, m.claimed),
    status: 'requested',
    intent: 'order',
    priority: 'routine',
    code: { coding: [{ system: TASK_CODE_SYSTEM, code: MISMATCH_TASK_CODE, display: 'Document copy damaged' }] },
    performerType: [{ text: 'practice-admin' }],
    ...(doc ? { focus: { reference: `DocumentReference/${doc.id}` } } : {}),
    authoredOn: now,
    description: `${how} ${todo} (blob ${m.claimed})`,
  } as Task;
}

/** Keep the reject and, the first time this blob mismatches, its review Task: one transaction. */
export async function keepReject(store: RecordStore, m: Mismatch): Promise<void> {
  const now = new Date().toISOString();
  const { practice } = store;
  await store.transaction({ author: 'system:documents-replication' }, async (tx) => {
    const t = ddb(tx.db as never);
    await t
      .insertInto('document_blob_rejects')
      .values({ practice, id: randomUUID(), claimed: m.claimed, actual: m.actual || m.claimed, size: m.size, peer: m.peer, at: now, reason: m.side === 'refused-upstream' ? `refused by ${m.peer}${m.actual ? `; this node's copy hashes to ${m.actual}` : ''}` : `sent as ${m.claimed}, the bytes hash to ${m.actual}` })
      .execute();
    const id = mismatchTaskId(practice, m.claimed);
    if (await tx.read('Task', id)) return;
    const doc = await t.selectFrom('documents').select(['id', 'filename', 'subject', 'received_at', 'source']).where('practice', '=', practice).where((eb) => eb.or([eb('blob', '=', m.claimed), eb('source_blob', '=', m.claimed)])).orderBy('received_at').executeTakeFirst();
    await tx.write([{ kind: 'update', resource: mismatchTask(practice, m, doc, now) }]);
  });
}
