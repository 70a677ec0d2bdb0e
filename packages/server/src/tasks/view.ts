/**
 * What each role sees of a task. A pathology result's review task carries clinical information in
 * its title ("Potassium result (CORRECTED by the laboratory)"), its priority (urgent when abnormal),
 * its flags and notes; a receptionist, who may not read the result itself, sees only that a result
 * for this patient waits for a clinician. Every other task (the practice's admin work) is unchanged.
 */
import type { Task } from '@medplum/fhirtypes';
import type { Role } from '@steadfast/domain';
import { TASK_CODE_SYSTEM } from '@steadfast/domain/systems';
import { RESULT_TASK_CODE } from '../pathology/ingest.ts';

export const RESULT_TASK_TITLE_FOR_RECEPTION = 'Result for clinician review';

const isResultReview = (t: Task) => t.code?.coding?.some((c) => c.system === TASK_CODE_SYSTEM && c.code === RESULT_TASK_CODE) ?? false;

export function taskForRole<T extends Task | undefined>(task: T, role: Role): T {
  if (!task || role !== 'receptionist' || !isResultReview(task)) return task;
  const { description: _d, priority: _p, businessStatus: _b, note: _n, input: _i, output: _o, statusReason: _s, ...rest } = task;
  return { ...rest, description: RESULT_TASK_TITLE_FOR_RECEPTION } as T;
}
