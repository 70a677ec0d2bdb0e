/** The result review Task: one open Task per report, for the requester or the unassigned pool. */
import type { Patient, Reference, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { StoreTransaction, WriteRequest } from '@steadfast/store';
import { TASK_CODE_SYSTEM } from '@steadfast/domain/systems';
import type { MappedReport } from './map.ts';
import type { ResultReport } from './oru.ts';

import { RESULT_REVIEW_TASK_CODE } from '@steadfast/domain/tasks';

export const RESULT_TASK_CODE = RESULT_REVIEW_TASK_CODE;

/** A review Task for the requester (or the unassigned pool), one open Task per report at a time. */
export async function resultTask(
  tx: StoreTransaction,
  mapped: MappedReport,
  report: ResultReport,
  patient: Reference<Patient>,
  serviceRequest: ServiceRequest | undefined,
  flags: string[],
  now: string,
  reportExisted: boolean,
): Promise<WriteRequest[]> {
  const focus = `DiagnosticReport/${mapped.report.id}`;
  const abnormal = mapped.observations.some((o) => o.interpretation?.some((i) => ['HH', 'LL', 'AA'].includes(i.coding?.[0]?.code ?? '')));
  const label = [
    `${report.testDisplay} result`,
    mapped.report.status === 'preliminary' ? '(preliminary)' : '',
    flags.includes('correction') ? '(CORRECTED by the laboratory)' : flags.includes('amended') ? '(amended)' : '',
    flags.includes('unmapped-test') ? '[unmapped test code]' : '',
  ]
    .filter(Boolean)
    .join(' ');
  // A report seen for the first time cannot have a task yet: skip the search.
  const open = !reportExisted ? { resources: [] } : await tx.search({
    resourceType: 'Task',
    params: [
      { name: 'focus', values: [focus] },
      { name: 'status', values: ['requested'] },
    ],
    count: 1,
    offset: 0,
  });
  const existing = open.resources[0] as Task | undefined;
  const task: Task = {
    ...(existing ?? {}),
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    priority: abnormal || flags.includes('correction') ? 'urgent' : 'routine',
    code: { coding: [{ system: TASK_CODE_SYSTEM, code: RESULT_TASK_CODE, display: 'Review pathology result' }] },
    focus: { reference: focus },
    for: patient,
    authoredOn: existing?.authoredOn ?? now,
    lastModified: now,
    description: label,
    // The requesting clinician's inbox; without a request the task sits in the unassigned pool.
    ...(serviceRequest?.requester ? { owner: serviceRequest.requester as Task['owner'] } : {}),
    ...(serviceRequest ? { basedOn: [{ reference: `ServiceRequest/${serviceRequest.id}` }] } : {}),
    ...(flags.length ? { businessStatus: { text: flags.join(', ') } } : {}),
  };
  return [existing ? { kind: 'update', resource: task } : { kind: 'create', resource: task }];
}
