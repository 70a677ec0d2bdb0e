/**
 * The online consultation Questionnaire, versioned. A change to a question is a new version: a stored
 * QuestionnaireResponse names the version it answered, so staff read every answer against the
 * question the patient was actually shown (QUESTIONNAIRES keeps every version ever served).
 */
import type { QuestionnaireDefinition, RedFlagAdvice } from '../api/online-consultations.ts';
import { STEADFAST_FHIR_BASE } from '../systems.ts';

export const QUESTIONNAIRE_URL = `${STEADFAST_FHIR_BASE}/Questionnaire/online-consultation`;
export const PHOTO_MAX_BYTES = 5 * 1024 * 1024;
export const PHOTO_MAX_COUNT = 3;
export const PHOTO_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/heic'] as const;
export const TEXT_MAX_LENGTH = 2000;

export const ADVICE_TEXT: Record<RedFlagAdvice, string> = {
  'call-999': 'Call 999 now. This could be a medical emergency. Do not wait for the practice to reply.',
  'call-111': 'Call 111 now, or go to 111.nhs.uk. You need advice sooner than the practice can reply online.',
};

export const URGENT_ADVICE =
  'If you need help now, call 111 or go to 111.nhs.uk. In an emergency call 999. Do not use this form for urgent problems.';

const V1: QuestionnaireDefinition = {
  url: QUESTIONNAIRE_URL,
  version: '1.0.0',
  title: 'Contact your GP practice online',
  redFlags: [
    { linkId: 'rf-chest-pain', text: 'Do you have chest pain, or pain that spreads to your arm, jaw, neck or back?', advice: 'call-999', kinds: ['medical'] },
    { linkId: 'rf-breathing', text: 'Are you struggling to breathe, or unable to finish a sentence?', advice: 'call-999', kinds: ['medical'] },
    { linkId: 'rf-stroke', text: 'Has your face dropped on one side, or can you not lift both arms or speak clearly?', advice: 'call-999', kinds: ['medical'] },
    { linkId: 'rf-bleeding', text: 'Are you bleeding heavily and it will not stop?', advice: 'call-999', kinds: ['medical'] },
    { linkId: 'rf-self-harm', text: 'Are you thinking about ending your life or harming yourself?', hint: 'If you are, call 999 or the Samaritans on 116 123.', advice: 'call-999', kinds: ['medical', 'admin'] },
    { linkId: 'rf-sepsis', text: 'Do you feel very unwell with a high or very low temperature, confusion or mottled skin?', advice: 'call-111', kinds: ['medical'] },
    { linkId: 'rf-pregnancy', text: 'Are you pregnant with bleeding, severe tummy pain or reduced baby movements?', advice: 'call-111', kinds: ['medical'] },
  ],
  questions: {
    medical: [
      { linkId: 'symptoms', text: 'What is the problem?', hint: 'Describe your symptoms in your own words.', type: 'long-text', required: true, maxLength: TEXT_MAX_LENGTH },
      {
        linkId: 'duration', text: 'How long have you had it?', type: 'choice', required: true,
        options: [
          { code: 'days', display: 'Less than a week' },
          { code: 'weeks', display: '1 to 4 weeks' },
          { code: 'months', display: 'More than a month' },
        ],
      },
      { linkId: 'tried', text: 'What have you tried so far?', type: 'long-text', required: false, maxLength: TEXT_MAX_LENGTH },
      { linkId: 'want', text: 'What would you like the practice to do?', hint: 'For example, call me back, see a nurse, give advice.', type: 'long-text', required: true, maxLength: TEXT_MAX_LENGTH },
    ],
    admin: [
      {
        linkId: 'admin-type', text: 'What do you need?', type: 'choice', required: true,
        options: [
          { code: 'fit-note', display: 'A fit note (sick note)' },
          { code: 'repeat-prescription', display: 'A question about a repeat prescription' },
          { code: 'letter', display: 'A letter or form' },
          { code: 'results', display: 'My test results' },
          { code: 'other', display: 'Something else' },
        ],
      },
      { linkId: 'medication', text: 'Which medicine is it about?', type: 'text', required: true, maxLength: 200, enableWhen: { linkId: 'admin-type', equals: 'repeat-prescription' } },
      { linkId: 'details', text: 'Tell us more', type: 'long-text', required: true, maxLength: TEXT_MAX_LENGTH },
    ],
  },
  adviceText: ADVICE_TEXT,
  limits: { photoMaxBytes: PHOTO_MAX_BYTES, photoMaxCount: PHOTO_MAX_COUNT, photoContentTypes: [...PHOTO_CONTENT_TYPES], textMaxLength: TEXT_MAX_LENGTH },
};

/** Every version ever served, by version. Add a new version; never edit one that was served. */
export const QUESTIONNAIRES: Readonly<Record<string, QuestionnaireDefinition>> = { [V1.version]: V1 };
export const CURRENT_QUESTIONNAIRE: QuestionnaireDefinition = V1;

export function questionnaireVersion(version: string): QuestionnaireDefinition | undefined {
  return Object.hasOwn(QUESTIONNAIRES, version) ? QUESTIONNAIRES[version] : undefined;
}

/** The questions of a request kind that apply given the answers so far (enableWhen). */
export function applicableQuestions(def: QuestionnaireDefinition, kind: keyof QuestionnaireDefinition['questions'], answers: Record<string, string>) {
  return def.questions[kind].filter((q) => !q.enableWhen || answers[q.enableWhen.linkId] === q.enableWhen.equals);
}
