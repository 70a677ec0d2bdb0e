/**
 * Who may close which task. Some tasks are a clinician's review of clinical information (a pathology
 * result today; documents routed for action next): closing one takes the information off the
 * clinician's list, so a receptionist closing it would make the result vanish unseen. A result
 * review closes only when a clinician files the result from the results inbox, which closes it in the
 * same transaction as the filing; it is never closed, reopened or deleted from the task list or the
 * FHIR API. Other clinical review tasks may be closed by a clinician only.
 */
import { SteadfastError } from './errors.ts';
import type { Role } from './access.ts';
import { TASK_CODE_SYSTEM } from './systems.ts';

/** The review Task raised for each pathology report (pathology/tasks.ts). */
export const RESULT_REVIEW_TASK_CODE = 'pathology-result';

/** Tasks that close only through the workflow that owns them, never through the task list. */
const closedOnlyByTheirWorkflow: Record<string, { how: string }> = {
  [RESULT_REVIEW_TASK_CODE]: { how: 'A clinician files the result from the results inbox; that closes this task.' },
};

/** Tasks that only a clinician may close. */
export const CLINICAL_REVIEW_TASK_CODES: ReadonlySet<string> = new Set([RESULT_REVIEW_TASK_CODE]);

const OPEN = new Set(['draft', 'requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold']);

interface TaskLike {
  status?: string;
  code?: { coding?: Array<{ system?: string; code?: string }> };
}

/** The Steadfast task code of a task (e.g. `pathology-result`), if it has one. */
export function taskCodeOf(task: TaskLike | undefined): string | undefined {
  return task?.code?.coding?.find((c) => c.system === TASK_CODE_SYSTEM)?.code;
}

export function isClinicalReviewTask(task: TaskLike | undefined): boolean {
  const code = taskCodeOf(task);
  return code !== undefined && CLINICAL_REVIEW_TASK_CODES.has(code);
}

const isOpen = (task: TaskLike | undefined) => task !== undefined && OPEN.has(task.status ?? '');

/**
 * What the task list may offer a role for this task: `close` (Done, Cancel) or not, and why not,
 * in words for the screen.
 */
export function taskActionsFor(role: Role, task: TaskLike): { mayClose: boolean; why?: string } {
  const code = taskCodeOf(task);
  const workflow = code ? closedOnlyByTheirWorkflow[code] : undefined;
  if (workflow) return { mayClose: false, why: workflow.how };
  if (isClinicalReviewTask(task) && role !== 'clinician') return { mayClose: false, why: 'Only a clinician may close a clinical review.' };
  return { mayClose: true };
}

/**
 * Refuse a change of a task that would take clinical review off a clinician's list: `after`
 * undefined is a delete. Throws a SteadfastError (403) naming the task and what to do instead.
 */
export function checkTaskChange(role: Role, before: TaskLike | undefined, after: TaskLike | undefined): void {
  const code = taskCodeOf(before) ?? taskCodeOf(after);
  if (!code) return;
  const workflow = closedOnlyByTheirWorkflow[code];
  const wasOpen = isOpen(before);
  const nowOpen = isOpen(after);
  if (workflow && before && (wasOpen !== nowOpen || after === undefined || taskCodeOf(after) !== code)) {
    throw new SteadfastError('forbidden', after === undefined ? 'A result review task is not deleted' : 'A result review task is not opened or closed from the task list', {
      field: 'Task.status',
      hint: workflow.how,
    });
  }
  if (CLINICAL_REVIEW_TASK_CODES.has(code) && wasOpen && !nowOpen && role !== 'clinician') {
    throw new SteadfastError('forbidden', 'Only a clinician may close a clinical review task', { field: 'Task.status', hint: 'Assign it to a clinician instead' });
  }
}

/** Task statuses as the practice says them (FHIR's codes are for programs, not people). */
export const TASK_STATUS_TEXT: Record<string, string> = {
  draft: 'Not sent yet',
  requested: 'To do',
  received: 'To do (seen)',
  accepted: 'To do (accepted)',
  ready: 'Ready to start',
  'in-progress': 'In progress',
  'on-hold': 'On hold',
  completed: 'Done',
  cancelled: 'Cancelled',
  rejected: 'Declined',
  failed: 'Could not be done',
  'entered-in-error': 'Entered in error',
};

/** The statuses the task list offers a person (the rest still show in words when a task has one). */
export const TASK_STATUS_CHOICES = ['requested', 'in-progress', 'on-hold', 'completed', 'cancelled'] as const;

export function taskStatusText(status: string | undefined): string {
  return TASK_STATUS_TEXT[status ?? ''] ?? 'Unknown status';
}
