/** The result review Task: one open Task per report, for the requester or the unassigned pool. */
import type { Observation, Patient, Reference, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { StoreTransaction, WriteRequest } from '@steadfast/store';
import { TASK_CODE_SYSTEM } from '@steadfast/domain/systems';
import type { MappedReport } from './map.ts';
import type { ResultReport } from './oru.ts';

import { RESULT_REVIEW_TASK_CODE } from '@steadfast/domain/tasks';

export const RESULT_TASK_CODE = RESULT_REVIEW_TASK_CODE;

/** Task.input type text carrying a result's abnormal values as JSON [{ test, flag }]. */
export const ABNORMAL_VALUES_INPUT = 'abnormal-values';
/** Interpretation codes a laboratory uses for a value outside its range; the doubled ones are critical. */
export const ABNORMAL_FLAGS: ReadonlySet<string> = new Set(['H', 'L', 'HH', 'LL', 'A', 'AA', 'HU', 'LU']);

/** The values outside their range, as the laboratory flagged them (withdrawn values aside). */
export function abnormalValuesOf(observations: Observation[]): Array<{ test: string; flag: string }> {
  const out: Array<{ test: string; flag: string }> = [];
  for (const o of observations) {
    if (o.status === 'cancelled' || o.status === 'entered-in-error') continue;
    const flag = o.interpretation?.[0]?.coding?.[0]?.code ?? '';
    if (ABNORMAL_FLAGS.has(flag)) out.push({ test: o.code.text ?? o.code.coding?.[0]?.display ?? o.code.coding?.[0]?.code ?? 'Test', flag });
  }
  return out;
}

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
    // The abnormal values, kept on the task so the inbox lists them without reading every report
    // (issue 15; receptionists never see Task.input, tasks/view.ts).
    input: [{ type: { text: ABNORMAL_VALUES_INPUT }, valueString: JSON.stringify(abnormalValuesOf(mapped.observations)) }],
  };
  return [existing ? { kind: 'update', resource: task } : { kind: 'create', resource: task }];
}
