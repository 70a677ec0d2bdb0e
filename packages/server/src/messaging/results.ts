/**
 * Results messages, from the results inbox when a clinician files a result: "normal, no action" or
 * "please book a routine appointment", through the practice's templates, in the filing transaction.
 * Only by text or email (the wording is a text's); when the patient cannot be reached that way (no
 * mobile, no consent, asked not to be contacted, or messaging not set up on this node) a task for
 * reception (`tell-patient-result`) carries the same words instead, so the patient is told either way.
 */
import type { Patient, Task } from '@medplum/fhirtypes';
import { contactPreferencesOf, SteadfastError } from '@steadfast/domain';
import type { ResultMessageOutcome, ResultMessageTemplate } from '@steadfast/domain/api';
import { staffReference, TASK_CODE_SYSTEM } from '@steadfast/domain/systems';
import type { StoreTransaction } from '@steadfast/store';
import type { AppConfig } from '../capability.ts';
import { queuePatientMessage, whyNotReachable } from './send.ts';
import { renderTemplate, templateOf } from './templates.ts';

export const RESULT_MESSAGE_TEMPLATES: readonly ResultMessageTemplate[] = ['result-normal', 'result-book-routine'];
export const TELL_PATIENT_RESULT_TASK_CODE = 'tell-patient-result';

export function isResultMessageTemplate(value: unknown): value is ResultMessageTemplate {
  return typeof value === 'string' && (RESULT_MESSAGE_TEMPLATES as readonly string[]).includes(value);
}

export interface ResultMessageInput {
  patientId: string;
  template: ResultMessageTemplate;
  /** The review task filed: one message per filing, however often the request is sent. */
  reviewTaskId: string;
  /** `DiagnosticReport/<id>` */
  report?: string;
  sender: { id: string; name: string };
}

export async function queueResultMessage(tx: StoreTransaction, practice: string, config: AppConfig, input: ResultMessageInput, now: Date = new Date()): Promise<ResultMessageOutcome> {
  const practiceName = config.messaging?.practiceName ?? 'Your GP surgery';
  const stored = await tx.read('Patient', input.patientId);
  const patient = stored && !stored.deleted ? (stored.resource as Patient) : undefined;
  if (!patient) throw new SteadfastError('not-found', `Patient ${input.patientId} was not found`, { field: 'patient' });
  const prefs = contactPreferencesOf(patient);
  const channel = !whyNotReachable(prefs, 'sms', []) ? 'sms' : !whyNotReachable(prefs, 'email', []) ? 'email' : undefined;
  const why = !config.messaging?.notify ? 'Text messages are not set up at this practice (GOV.UK Notify)' : channel ? undefined : (whyNotReachable(prefs, 'sms', []) ?? 'The patient cannot be texted or emailed');
  if (!why && channel) {
    try {
      const q = await queuePatientMessage(tx, practice, { patientId: input.patientId, template: input.template, channel, key: `result-message:${input.reviewTaskId}`, category: input.template, ...(input.report ? { about: input.report } : {}), sender: input.sender, practiceName });
      return { outcome: 'queued', template: input.template, channel: q.channel, communicationId: q.communicationId, outboxId: q.outboxId };
    } catch (err) {
      if (!(err instanceof SteadfastError) || err.code !== 'invalid') throw err;
      return receptionTask(tx, practice, input, patient, practiceName, err.message, now);
    }
  }
  return receptionTask(tx, practice, input, patient, practiceName, why ?? 'The patient cannot be texted or emailed', now);
}

async function receptionTask(tx: StoreTransaction, practice: string, input: ResultMessageInput, patient: Patient, practiceName: string, reason: string, now: Date): Promise<ResultMessageOutcome> {
  const template = await templateOf(tx.db, practice, input.template);
  let words: string;
  try {
    words = renderTemplate({ ...template, channel: 'email' }, { first_name: patient.name?.[0]?.given?.[0] ?? 'patient', practice_name: practiceName }).body;
  } catch {
    words = template.label;
  }
  const task: Task = {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    priority: 'routine',
    code: { coding: [{ system: TASK_CODE_SYSTEM, code: TELL_PATIENT_RESULT_TASK_CODE, display: 'Tell the patient about their result' }] },
    for: { reference: `Patient/${input.patientId}` },
    ...(input.report ? { focus: { reference: input.report } } : {}),
    authoredOn: now.toISOString(),
    requester: staffReference(input.sender),
    description: `Tell the patient about their test result (${template.label}), by phone or in person: "${words}" Not sent as a message: ${reason}.`,
  };
  const [created] = await tx.write([{ kind: 'create', resource: task }]);
  return { outcome: 'reception-task', template: input.template, taskId: created!.resource!.id!, reason };
}
